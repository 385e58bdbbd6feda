#pragma once
// condition: wait until notified, with a lock held around the check (Python's asyncio.Condition).
//
//   asyncio::condition cv;
//   {
//     auto guard = co_await cv.acquire();                 // async with cv:
//     co_await cv.wait_for([&] { return !items.empty(); });
//     use(items);
//   }
//   // elsewhere, holding the lock: items.push_back(x); cv.notify();
#include <cstddef>
#include <exception>
#include <iosfwd>
#include <limits>
#include <string>
#include <type_traits>

#include <asyncio/detail/lifetimebound.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/sync/detail/handoff_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/sync/lock.hpp>

namespace asyncio {

class condition;

/// What condition::statistics() reports.
struct condition_statistics {
  bool locked = false;
  std::size_t lock_waiters = 0;  // tasks waiting to acquire the lock
  std::size_t waiters = 0;       // tasks in wait(), not yet notified
};

namespace detail {

/// The notification wait inside condition::wait(). A notification is handed over: a waiter
/// cancelled after notify() chose it but before it resumed passes the notification to the next
/// waiter (CPython 3.13, gh-112202), so notify(1) always wakes a task that will see it. The
/// protocol is sync/detail/handoff_awaiter.hpp's; the grant is the notification.
class condition_awaiter : public handoff_awaiter<condition_awaiter, condition> {
  using base = handoff_awaiter<condition_awaiter, condition>;
  friend base;

 public:
  explicit condition_awaiter(condition& c) noexcept : base(c) {}
  condition_awaiter(const condition_awaiter&) = delete;
  auto operator=(const condition_awaiter&) -> condition_awaiter& = delete;
  ~condition_awaiter() { withdraw(); }  // frame destroyed while parked or before resuming

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  void await_resume() {
    if (task_->unpark(*this)) task_->throw_cancelled();
    state_ = state::done;
  }
  /// Called by notify(): the waiter is already unlinked.
  void wake() noexcept { grant_and_schedule(); }

 private:
  static auto waiters(condition& c) noexcept -> waiter_list<condition_awaiter>&;
  void pass_on_grant() noexcept;
};

}  // namespace detail

/// A condition variable for tasks (Python's asyncio.Condition): wait() releases the lock, waits for
/// notify(), and takes the lock again before returning. Not movable: waiters point into it.
///
/// Thread safety: loop-affine.
class condition {
 public:
  using guard = lock_guard<lock>;

  /// A condition with its own lock.
  condition() noexcept : lock_(&own_) {}
  /// A condition sharing `shared` (which must outlive it), as Python's Condition(lock).
  explicit condition(lock& shared ASYNCIO_LIFETIMEBOUND) noexcept : lock_(&shared) {}
  condition(const condition&) = delete;
  auto operator=(const condition&) -> condition& = delete;

  /// Acquires the underlying lock (see lock::acquire); returns its guard.
  [[nodiscard]] auto acquire() noexcept ASYNCIO_LIFETIMEBOUND -> detail::acquire_awaiter<lock> { return lock_->acquire(); }
  /// Releases the underlying lock. Throws: invalid_state_error if it is not locked.
  void release() { lock_->release(); }
  [[nodiscard]] auto locked() const noexcept -> bool { return lock_->locked(); }
  /// The underlying lock.
  [[nodiscard]] auto get_lock() noexcept -> lock& { return *lock_; }

  /// Releases the lock, waits until notified, then re-acquires the lock. The caller must hold it.
  ///
  /// Cancellation: safe. cancelled_error is raised only after the lock is held again (so the
  /// caller's guard stays valid), as in CPython; a notification handed to a task that is then
  /// cancelled, before it resumes or while it takes the lock back, goes to the next waiter.
  /// Resumes: on the condition's loop; notified waiters in FIFO order, then in lock order.
  /// Throws: invalid_state_error if the lock is not held; cancelled_error.
  auto wait() ASYNCIO_LIFETIMEBOUND -> task<void>;

  /// Waits until pred() is true (checked first, then after each notification); returns the last
  /// value of pred(). The caller must hold the lock. pred is called with the lock held.
  ///
  /// Cancellation: as wait().
  /// Throws: as wait(), and whatever pred throws.
  template <class Pred>
  auto wait_for(Pred pred) ASYNCIO_LIFETIMEBOUND -> task<std::decay_t<std::invoke_result_t<Pred&>>> {
    auto result = pred();
    while (!result) {
      co_await wait();
      result = pred();
    }
    co_return result;
  }

  /// Wakes up to n tasks waiting in wait() (oldest first). The caller must hold the lock.
  /// Throws: invalid_state_error if the lock is not held.
  void notify(std::size_t n = 1);
  /// Wakes every task waiting in wait(). Throws: invalid_state_error if the lock is not held.
  void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

  [[nodiscard]] auto statistics() const noexcept -> condition_statistics {
    auto ls = lock_->statistics();
    return {ls.locked, ls.waiters, waiters_.size()};
  }
  /// "<condition locked waiters=2>" (waiters: tasks in wait()).
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const condition& c) -> std::ostream&;

 private:
  friend class detail::condition_awaiter;
  /// notify without the lock check (for a cancelled waiter passing its notification on).
  void wake(std::size_t n) noexcept {
    for (; n > 0; --n) {
      auto* w = waiters_.pop_front();
      if (!w) break;
      w->wake();
    }
  }
  [[noreturn]] static void throw_not_locked(const char* what);

  lock own_;
  lock* lock_;
  detail::waiter_list<detail::condition_awaiter> waiters_;
};

namespace detail {
inline auto condition_awaiter::waiters(condition& c) noexcept -> waiter_list<condition_awaiter>& {
  return c.waiters_;
}
inline void condition_awaiter::pass_on_grant() noexcept { owner_->wake(1); }
}  // namespace detail

inline auto condition::wait() -> task<void> {
  if (!lock_->locked()) throw_not_locked("wait");
  lock_->release();
  std::exception_ptr failure;
  bool notified = false;
  try {
    co_await detail::condition_awaiter(*this);
    notified = true;
  } catch (...) {
    failure = std::current_exception();  // a notification it held was passed on already
  }
  // Take the lock again even if cancelled: the caller's guard (async with) expects to own it.
  // A cancel during this wait is remembered and raised once the lock is held (CPython does this).
  for (;;) {
    try {
      (co_await lock_->acquire()).detach();  // the caller's guard owns it
      break;
    } catch (const cancelled_error&) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) {
    // Notified, then cancelled while taking the lock back: the caller will not act on the
    // notification, so it goes to the next waiter (CPython 3.13 notifies one more on any error).
    if (notified) wake(1);
    std::rethrow_exception(failure);
  }
}

}  // namespace asyncio
