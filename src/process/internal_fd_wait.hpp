#pragma once
// Awaiter: park the task until an fd is readable or writable (one-shot interest). Used by the pipe
// reader/writer of subprocesses until they move onto net's stream types. Private header.
#include <asyncio/core/task.hpp>

namespace asyncio::detail {

/// Cancellation: safe; the interest is withdrawn and cancelled_error raised. Nothing is lost: the
/// caller does its read/write only after resuming.
/// Resumes: on the task's loop, after the poller reported the fd ready (or hung up / in error).
class fd_wait : suspension, io_interest {
 public:
  fd_wait(int fd, bool for_write) noexcept : fd_(fd), for_write_(for_write) {
    suspension::abort = &on_abort;
    io_interest::ready = &on_ready;
  }
  fd_wait(const fd_wait&) = delete;
  auto operator=(const fd_wait&) -> fd_wait& = delete;
  ~fd_wait() {
    if (registered_) unregister();
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;
    try {
      if (for_write_) t.loop().set_writer_interest(fd_, this);
      else t.loop().set_reader_interest(fd_, this);
    } catch (...) {
      t.clear_waiting(*this);
      throw;
    }
    registered_ = true;
    return true;
  }
  void await_resume() {
    if (task_->unpark(*this)) task_->throw_cancelled();
  }

 private:
  void unregister() noexcept {
    registered_ = false;
    try {
      if (for_write_) task_->loop().set_writer_interest(fd_, nullptr);
      else task_->loop().set_reader_interest(fd_, nullptr);
    } catch (...) {
      // Clearing an interest only fails if epoll forgot the fd already (closed): nothing to undo.
    }
  }
  static void on_ready(io_interest* self) noexcept {
    auto* w = static_cast<fd_wait*>(self);
    w->unregister();
    w->task_->loop().schedule(*w->task_);  // waiting_ stays set: a late cancel still interrupts
  }
  static void on_abort(suspension* self, task_core& t) noexcept {
    auto* w = static_cast<fd_wait*>(self);
    if (!w->registered_) return;  // already woken and scheduled
    w->unregister();
    t.loop().schedule(t);
  }

  int fd_;
  bool for_write_;
  bool registered_ = false;
  task_core* task_ = nullptr;
};

}  // namespace asyncio::detail
