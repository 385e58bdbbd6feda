#pragma once
// The awaiter behind lock::acquire() and semaphore::acquire(): a wait for one unit that is
// *handed over* by release(), never grabbed by whoever runs first.
//
// Hand-over (not "wake and retry" as CPython does) is what makes the lock fair: release() gives the
// unit to the oldest waiter and the primitive stays taken, so a task calling acquire() between that
// release and the waiter's resumption finds it taken and queues behind (no barging, no starvation).
//
// Cancellation and "lose nothing" (docs/design.md, DESIGN §3.3). The waiter keeps the task parked
// on it (waiting_) until it resumes, so a cancel that arrives at any moment of the wait reaches
// on_abort:
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
#include <coroutine>
#include <cstdint>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/lock_guard.hpp>

namespace asyncio::detail {

template <class Owner>
class acquire_awaiter : suspension, public waiter_node {
 public:
  explicit acquire_awaiter(Owner& owner) noexcept : owner_(&owner) { suspension::abort = &on_abort; }
  /// Movable until awaited (core/awaitable.hpp: wait_for(m.acquire(), d)); the moved-from one is
  /// inert (awaiting it stops the program, detail/awaiter_misuse.hpp).
  acquire_awaiter(acquire_awaiter&& o) noexcept : waiter_node(), owner_(o.owner_), state_(o.state_) {
    if (o.task_ || (o.state_ != state::idle && o.state_ != state::moved)) [[unlikely]]
      awaiter_misuse(moved_after_await);
    o.state_ = state::moved;
    suspension::abort = &on_abort;
  }
  acquire_awaiter(const acquire_awaiter&) = delete;
  auto operator=(const acquire_awaiter&) -> acquire_awaiter& = delete;
  ~acquire_awaiter() {
    if (state_ == state::parked) owner_->waiters_.remove(*this);
    else if (state_ == state::granted) owner_->pass_on();  // frame destroyed before resuming
  }

  [[nodiscard]] auto await_ready() noexcept -> bool {
    if (state_ != state::idle) [[unlikely]] awaiter_misuse(awaited_moved_from);
    if (!owner_->try_take()) return false;
    state_ = state::done;
    return true;
  }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;  // a cancel is pending: raise it from await_resume
    state_ = state::parked;
    owner_->waiters_.push_back(*this);  // last action (LESSONS §2)
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
  void grant() noexcept {
    state_ = state::granted;
    task_->loop().schedule(*task_);  // waiting_ stays set: a late cancel passes the unit on
  }

 private:
  // moved: a moved-from awaiter (inert).
  enum class state : std::uint8_t { idle, parked, granted, aborted, done, moved };

  static void on_abort(suspension* self, task_core& t) noexcept {
    auto* a = static_cast<acquire_awaiter*>(self);
    if (a->state_ == state::parked) {
      a->owner_->waiters_.remove(*a);
      t.loop().schedule(t);
    } else if (a->state_ == state::granted) {
      a->owner_->pass_on();  // already scheduled by grant()
    }
    a->state_ = state::aborted;
  }

  Owner* owner_;
  task_core* task_ = nullptr;
  state state_ = state::idle;
};

}  // namespace asyncio::detail
