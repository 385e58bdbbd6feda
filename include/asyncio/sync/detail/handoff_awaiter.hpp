#pragma once
// handoff_awaiter: the state machine shared by the awaiters that queue in an owner's waiter_list
// for something the owner *hands over* to the oldest waiter: a lock or semaphore unit
// (acquire_awaiter), a condition notification (condition_awaiter), a queue item or a free queue
// slot (queue_get_awaiter, queue_put_awaiter).
//
// Why one base: these waits must agree, to the letter, on when an awaiter may still move, what a
// cancel undoes and when it must pass a grant on (docs/design.md, "Lose nothing"); written once,
// the protocol cannot drift between them. What differs stays in the derived awaiter (CRTP, so
// nothing is virtual and the layout is what the derived class had before):
//   static auto waiters(Owner&) noexcept -> waiter_list<Derived>&   the list it queues in
//   void pass_on_grant() noexcept      hand on a grant it will not use (cancelled, or destroyed,
//                                      after grant() and before resuming)
//
// The protocol: a waiter parks (await_suspend links it last) and the owner unlinks it to grant().
// The task stays parked on it until it resumes, so a cancel at any moment reaches on_abort: a
// queued waiter leaves the list and the task is scheduled; a granted one passes its grant on (the
// task is scheduled already); either way await_resume raises cancelled_error. The destructor undoes
// the same (the frame can be destroyed while parked: loop close).
//
// Movable until awaited (core/awaitable.hpp: wait_for(m.acquire(), d)); the moved-from one is
// inert, and awaiting it stops the program (detail/awaiter_misuse.hpp).
#include <coroutine>
#include <cstdint>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>
#include <asyncio/detail/waiter_list.hpp>

namespace asyncio::detail {

template <class Derived, class Owner>
class handoff_awaiter : protected suspension, public waiter_node {
 public:
  handoff_awaiter(const handoff_awaiter&) = delete;
  auto operator=(const handoff_awaiter&) -> handoff_awaiter& = delete;

  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;  // a cancel is pending: await_resume raises it
    state_ = state::parked;
    Derived::waiters(*owner_).push_back(self());  // last action (docs/toolchain.md §5.2)
    return true;
  }

  /// The owner was shut down (queue::shutdown) and woke this (unlinked) waiter without a grant.
  void wake_shut_down() noexcept {
    state_ = state::shut_down;
    detail::loop_access::schedule(task_->loop(), *task_);
  }

 protected:
  // shut_down_now: found shut down in await_ready; moved: a moved-from awaiter (inert).
  enum class state : std::uint8_t { idle, parked, granted, shut_down, shut_down_now, aborted, done, moved };

  explicit handoff_awaiter(Owner& owner) noexcept : owner_(&owner) { suspension::abort = &on_abort; }
  handoff_awaiter(handoff_awaiter&& o) noexcept : waiter_node(), owner_(o.owner_), state_(o.state_) {
    if (o.task_ || (o.state_ != state::idle && o.state_ != state::moved)) [[unlikely]]
      awaiter_misuse(moved_after_await);
    o.state_ = state::moved;
    suspension::abort = &on_abort;
  }
  ~handoff_awaiter() = default;  // the derived destructor calls withdraw(): it owns what a grant holds

  /// First thing in await_ready: a moved-from or already awaited awaiter must not wait.
  void check_first_await() const noexcept {
    if (state_ != state::idle) [[unlikely]] awaiter_misuse(awaited_moved_from);
  }
  /// The owner hands this (already unlinked) waiter its grant and schedules the task. The task stays
  /// parked on the wait: a late cancel reaches on_abort, which passes the grant on.
  void grant_and_schedule() noexcept {
    state_ = state::granted;
    detail::loop_access::schedule(task_->loop(), *task_);
  }
  /// Undoes the wait: a queued waiter leaves the list; a granted one passes its grant on.
  void withdraw() noexcept {
    if (state_ == state::parked) Derived::waiters(*owner_).remove(self());
    else if (state_ == state::granted) self().pass_on_grant();
  }

  Owner* owner_;
  task_core* task_ = nullptr;
  state state_ = state::idle;

 private:
  auto self() noexcept -> Derived& { return static_cast<Derived&>(*this); }

  static void on_abort(suspension* s, task_core& t) noexcept {
    auto* w = static_cast<handoff_awaiter*>(s);
    bool queued = w->state_ == state::parked;
    w->withdraw();
    if (queued) detail::loop_access::schedule(t.loop(), t);  // a granted task is scheduled already
    w->state_ = state::aborted;
  }
};

}  // namespace asyncio::detail
