#pragma once
// The awaiter behind lock::acquire() and semaphore::acquire(): a wait for one unit that is
// *handed over* by release(), never grabbed by whoever runs first.
//
// Hand-over (not "wake and retry" as CPython does) is what makes the lock fair: release() gives the
// unit to the oldest waiter and the primitive stays taken, so a task calling acquire() between that
// release and the waiter's resumption finds it taken and queues behind (no barging, no starvation).
//
// Cancellation and "lose nothing" (docs/design.md, docs/lessons.md §1.3). The waiter keeps the task parked
// on it (waiting_) until it resumes, so a cancel that arrives at any moment of the wait reaches
// on_abort (sync/detail/handoff_awaiter.hpp):
//   - not yet granted: unlink from the queue; the task is scheduled and raises cancelled_error.
//   - granted, not yet resumed: the unit is passed on to the next waiter (or returned to the pool)
//     right away; the task, already scheduled, raises cancelled_error. This is CPython's timing (the
//     cancel is raised by acquire) with nothing lost and no wake-up swallowed.
// If the frame is destroyed while parked (loop close), the destructor does the same.
//
// Owner requirements (lock, semaphore):
//   bool try_take() noexcept           take a unit if one is free and nobody queues
//   void pass_on() noexcept            give a unit back: to the oldest waiter, else to the pool
//   waiter_list<acquire_awaiter>& waiters_
#include <asyncio/core/task.hpp>
#include <asyncio/sync/detail/handoff_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/lock_guard.hpp>

namespace asyncio::detail {

template <class Owner>
class acquire_awaiter : public handoff_awaiter<acquire_awaiter<Owner>, Owner> {
  using base = handoff_awaiter<acquire_awaiter<Owner>, Owner>;
  friend base;
  using typename base::state;
  using base::owner_, base::state_, base::task_;

 public:
  explicit acquire_awaiter(Owner& owner) noexcept : base(owner) {}
  acquire_awaiter(acquire_awaiter&&) noexcept = default;  // until awaited (sync/detail/handoff_awaiter.hpp)
  ~acquire_awaiter() { this->withdraw(); }  // frame destroyed while parked or before resuming

  [[nodiscard]] auto await_ready() noexcept -> bool {
    this->check_first_await();
    if (!owner_->try_take()) return false;
    state_ = state::done;
    return true;
  }
  auto await_resume() -> lock_guard<Owner> {
    if (state_ != state::done) {
      // idle (a pending cancel refused the park) or aborted: raise; otherwise granted.
      if (task_->unpark(*this)) task_->throw_cancelled();
      state_ = state::done;  // the unit is ours now
    }
    return lock_guard<Owner>(*owner_);
  }

  /// Called by the owner when it hands a unit to this waiter (already unlinked by pop_front).
  void grant() noexcept { this->grant_and_schedule(); }

 private:
  static auto waiters(Owner& o) noexcept -> waiter_list<acquire_awaiter>& { return o.waiters_; }
  void pass_on_grant() noexcept { owner_->pass_on(); }
};

}  // namespace asyncio::detail
