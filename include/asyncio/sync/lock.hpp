#pragma once
// lock: a mutual-exclusion lock for tasks (Python's asyncio.Lock).
//
//   asyncio::lock m;
//   {
//     auto guard = co_await m.acquire();   // Python: async with m:
//     co_await write_output(i);
//   }                                      // released here, also on exception or cancellation
//
// Fair: waiters get the lock in the order they asked for it. release() hands the lock straight to
// the oldest waiter, so a task that calls acquire() in between queues behind it (no barging).
#include <cstddef>
#include <iosfwd>
#include <string>

#include <asyncio/sync/detail/acquire_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/lock_guard.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

/// What lock::statistics() reports (Trio's statistics()).
struct lock_statistics {
  bool locked = false;
  std::size_t waiters = 0;  // tasks parked in acquire()
};

/// A mutual-exclusion lock for tasks of one loop (Python's asyncio.Lock). Not reentrant: a task
/// that acquires it twice deadlocks, as in Python. Not movable: waiters point into it, so it must
/// outlive every task waiting on it.
///
/// Thread safety: loop-affine; from another thread use loop.call_soon_threadsafe.
class lock {
 public:
  using guard = lock_guard<lock>;

  lock() noexcept = default;
  lock(const lock&) = delete;
  auto operator=(const lock&) -> lock& = delete;

  /// Waits until the lock is free and takes it; returns a guard that releases it.
  /// Completes without suspending if the lock is free and nobody waits.
  ///
  /// Cancellation: safe at every moment. A task cancelled while waiting leaves the queue; a task
  /// cancelled after release() handed it the lock but before it resumed passes the lock on to the
  /// next waiter. Either way acquire() raises cancelled_error and does not hold the lock. The same
  /// holds under `auto g = co_await asyncio::wait_for(m.acquire(), 1s)` (core/awaitable.hpp): a
  /// lock handed over at the moment of the deadline goes to the next waiter, timeout_error is raised.
  /// Resumes: on the lock's loop, in FIFO order of the acquire() calls.
  /// Throws: cancelled_error.
  [[nodiscard]] auto acquire() noexcept ASYNCIO_LIFETIMEBOUND -> detail::acquire_awaiter<lock> {
    return detail::acquire_awaiter<lock>(*this);
  }

  /// Takes the lock if it is free and nobody waits; true on success. Never suspends.
  /// Pair it with release() (or adopt it: `lock::guard g(m);`).
  [[nodiscard]] auto try_acquire() noexcept -> bool { return try_take(); }

  /// Releases the lock: the oldest waiter (if any) gets it. Usually called by the guard.
  /// Any task may release (as in Python); releasing an unlocked lock is an error.
  ///
  /// Throws: invalid_state_error if the lock is not locked (Python's RuntimeError).
  void release() {
    if (!locked_) throw_not_locked();
    pass_on();
  }

  /// True if the lock is held (or handed to a waiter that has not resumed yet).
  [[nodiscard]] auto locked() const noexcept -> bool { return locked_; }
  [[nodiscard]] auto statistics() const noexcept -> lock_statistics { return {locked_, waiters_.size()}; }
  /// "<lock locked waiters=2>" or "<lock unlocked>" (Python's repr).
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const lock& m) -> std::ostream&;

 private:
  friend class detail::acquire_awaiter<lock>;

  auto try_take() noexcept -> bool {
    if (locked_ || !waiters_.empty()) return false;
    locked_ = true;
    return true;
  }
  void pass_on() noexcept {
    if (auto* w = waiters_.pop_front()) w->grant();  // stays locked: it belongs to w now
    else locked_ = false;
  }
  [[noreturn]] static void throw_not_locked();

  // Invariant: waiters_ is non-empty only while locked_ (a free lock is taken at once).
  detail::waiter_list<detail::acquire_awaiter<lock>> waiters_;
  bool locked_ = false;
};

}  // namespace asyncio
