#pragma once
// wait_readable(fd) / wait_writable(fd): suspend the calling task until the poller reports fd ready.
//
// Edge-triggered (event_loop::watch_fd): the fd is registered once and stays registered until
// event_loop::forget_fd(fd), which the owner must call before closing it. The intended use is
// optimistic I/O (TOOLCHAIN §8.9): attempt the syscall, and wait only after it returned EAGAIN (or
// a stream read returned fewer bytes than asked, which also means the kernel buffer is empty).
// Readiness that arrived while nobody waited is remembered, so a wait after EAGAIN never misses it;
// a wake-up can be spurious, so callers retry the syscall in a loop.
#include <coroutine>

#include <asyncio/core/task.hpp>

namespace asyncio::detail {

/// Awaiter behind wait_readable/wait_writable. Lives in the waiting frame.
class io_wait_awaiter : suspension, io_interest {
 public:
  io_wait_awaiter(int fd, int dir) noexcept : fd_(fd), dir_(dir) {
    suspension::abort = &on_abort;
    io_interest::ready = &on_ready;
  }
  io_wait_awaiter(const io_wait_awaiter&) = delete;
  auto operator=(const io_wait_awaiter&) -> io_wait_awaiter& = delete;
  ~io_wait_awaiter() {
    // The frame may be destroyed while parked (loop close) or after a wake-up it never used.
    if (state_ == parked) task_->loop().unpark_io(fd_, dir_, this);
    else if (state_ == woken) task_->loop().set_io_ready(fd_, dir_);
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    event_loop& loop = t.loop();
    loop.watch_fd(fd_);
    if (loop.take_io_ready(fd_, dir_)) {
      state_ = ready_now;
      return false;
    }
    if (!t.park(*this, h)) return false;  // a cancel is pending: await_resume throws
    try {
      loop.park_io(fd_, dir_, this);
    } catch (...) {
      (void)t.unpark(*this);
      throw;
    }
    state_ = parked;
    return true;
  }
  void await_resume() {
    if (state_ == ready_now) {
      state_ = idle;
      return;
    }
    bool aborted = task_->unpark(*this);
    if (aborted) {
      // A cancel that came after the wake-up: give the readiness back for the next waiter.
      if (state_ == woken) task_->loop().set_io_ready(fd_, dir_);
      state_ = idle;
      task_->throw_cancelled();
    }
    state_ = idle;
  }

 private:
  enum state_t : unsigned char { idle, ready_now, parked, woken };

  static void on_ready(io_interest* self) noexcept {
    auto* a = static_cast<io_wait_awaiter*>(self);
    a->state_ = woken;
    a->task_->loop().schedule(*a->task_);  // waiting_ stays set: nothing to lose, a late cancel wins
  }
  static void on_abort(suspension* self, task_core& t) noexcept {
    auto* a = static_cast<io_wait_awaiter*>(self);
    if (a->state_ != parked) return;  // already woken and scheduled
    t.loop().unpark_io(a->fd_, a->dir_, a);
    a->state_ = idle;
    t.loop().schedule(t);
  }

  task_core* task_ = nullptr;
  int fd_;
  int dir_;
  state_t state_ = idle;
};

}  // namespace asyncio::detail

namespace asyncio::lowlevel {

/// Suspends until fd may be readable (edge-triggered; see the file comment). Returns at once if
/// readiness was reported since the last wait. Wake-ups may be spurious: retry the read.
///
/// Cancellation: safe; raises cancelled_error and unlinks the waiter; readiness is not lost.
/// Resumes: on the task's loop, after the poller reported fd (or after forget_fd(fd)).
/// Throws: os_error if fd cannot be registered; invalid_state_error if another task already waits
/// to read fd.
[[nodiscard]] inline auto wait_readable(int fd) noexcept -> detail::io_wait_awaiter {
  return detail::io_wait_awaiter(fd, 0);
}

/// Suspends until fd may be writable (edge-triggered; see wait_readable).
///
/// Cancellation: safe; raises cancelled_error and unlinks the waiter; readiness is not lost.
/// Resumes: on the task's loop.
/// Throws: os_error if fd cannot be registered; invalid_state_error if another task already waits
/// to write fd.
[[nodiscard]] inline auto wait_writable(int fd) noexcept -> detail::io_wait_awaiter {
  return detail::io_wait_awaiter(fd, 1);
}

/// Stops watching fd (call before closing an fd that was waited on). Tasks still waiting on it wake.
inline void forget_fd(int fd) noexcept {
  if (event_loop* loop = detail::running_loop()) loop->forget_fd(fd);
}

}  // namespace asyncio::lowlevel
