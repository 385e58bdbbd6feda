#pragma once
// wait_readable(fd) / wait_writable(fd): suspend the calling task until the poller reports fd ready.
//
// Edge-triggered (io::driver::watch): the fd is registered once and stays registered until
// lowlevel::forget_fd(fd), which the owner must call before closing it. The intended use is
// optimistic I/O (docs/toolchain.md §6.2): attempt the syscall, and wait only after it returned EAGAIN (or
// a stream read returned fewer bytes than asked, which also means the kernel buffer is empty).
// Readiness that arrived while nobody waited is remembered, so a wait after EAGAIN never misses it;
// a wake-up can be spurious, so callers retry the syscall in a loop.
#include <coroutine>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/io/driver.hpp>

namespace asyncio::detail {

/// Awaiter behind wait_readable/wait_writable. Lives in the waiting frame.
class io_wait_awaiter : public parked_awaiter<io_wait_awaiter>, io::interest {
  using base = parked_awaiter<io_wait_awaiter>;
  friend base;

 public:
  io_wait_awaiter(int fd, io::direction d) noexcept : fd_(fd), dir_(d) { io::interest::ready = &on_ready; }
  ~io_wait_awaiter() {
    // The frame may be destroyed while parked (loop close) or after a wake-up it never used.
    if (state_ == parked) loop_access::io(task_->loop()).unpark(fd_, dir_, this);
    else if (state_ == woken) loop_access::io(task_->loop()).set_ready(fd_, dir_);
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) -> bool {
    task_core& t = task_of(h);
    io::driver& drv = loop_access::io(t.loop());
    drv.watch(fd_);
    if (drv.take_ready(fd_, dir_)) {  // readiness seen since the last wait: no need to park
      state_ = ready_now;
      return false;
    }
    return park_and_link(t, h);
  }
  void await_resume() {
    if (state_ == ready_now) {
      state_ = idle;
      return;
    }
    if (unpark()) {
      // A cancel that came after the wake-up: give the readiness back for the next waiter.
      if (state_ == woken) loop_access::io(task_->loop()).set_ready(fd_, dir_);
      state_ = idle;
      throw_cancelled();
    }
    state_ = idle;
  }

 private:
  enum state_t : unsigned char { idle, ready_now, parked, woken };

  void link(task_core& t) {
    loop_access::io(t.loop()).park(fd_, dir_, this);  // may throw: the base un-parks the task
    state_ = parked;
  }
  auto abort_wait() noexcept -> bool {
    if (state_ != parked) return false;  // already woken and scheduled
    loop_access::io(task_->loop()).unpark(fd_, dir_, this);
    state_ = idle;
    return true;
  }
  static void on_ready(io::interest* self) noexcept {
    auto* a = static_cast<io_wait_awaiter*>(self);
    a->state_ = woken;
    a->wake();  // waiting_ stays set: nothing to lose, a late cancel wins
  }

  int fd_;
  io::direction dir_;
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
  return detail::io_wait_awaiter(fd, io::direction::read);
}

/// Suspends until fd may be writable (edge-triggered; see wait_readable).
///
/// Cancellation: safe; raises cancelled_error and unlinks the waiter; readiness is not lost.
/// Resumes: on the task's loop.
/// Throws: os_error if fd cannot be registered; invalid_state_error if another task already waits
/// to write fd.
[[nodiscard]] inline auto wait_writable(int fd) noexcept -> detail::io_wait_awaiter {
  return detail::io_wait_awaiter(fd, io::direction::write);
}

/// Stops watching fd (call before closing an fd that was waited on). Tasks still waiting on it wake.
inline void forget_fd(int fd) noexcept {
  if (event_loop* loop = detail::running_loop()) detail::loop_access::io(*loop).forget(fd);
}

}  // namespace asyncio::lowlevel
