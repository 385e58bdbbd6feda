#pragma once
// wakeup_awaiter: the wait shared by event_awaiter and park_awaiter: queue in an owner's
// waiter_list until the owner wakes it. The wake-up carries nothing, so nothing can be lost
// (docs/design.md, "Lose nothing"): the task stays parked on the wait until it resumes, and a cancel
// that arrives after the wake-up still interrupts it, as CPython's Event.wait.
//
// Why one base: both awaiters took the same park / unlink / abort steps, and the abort rule
// ("unlinked means woken already: scheduled, let await_resume raise") must not drift between them.
// CRTP, so nothing is virtual and the awaiters keep their size (the W3 benchmark parks 100k tasks on
// an event: docs/benchmarks.md §2.3).
// The derived awaiter provides:
//   auto waiters() noexcept -> waiter_list<Derived>&    the list it queues in
// and calls unlink() from its destructor (the frame can be destroyed while parked: loop close).
#include <coroutine>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>
#include <asyncio/detail/waiter_list.hpp>

namespace asyncio::detail {

template <class Derived>
class wakeup_awaiter : protected suspension, public waiter_node {
 public:
  wakeup_awaiter(const wakeup_awaiter&) = delete;
  auto operator=(const wakeup_awaiter&) -> wakeup_awaiter& = delete;

  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;  // a cancel is pending: await_resume raises it
    self().waiters().push_back(self());   // last action
    return true;
  }
  void await_resume() {
    // task_ is null when await_ready found the wait over: nothing was parked.
    if (task_ && task_->unpark(*this)) task_->throw_cancelled();
  }
  /// The owner woke this waiter (already unlinked by pop_front).
  void wake() noexcept { detail::loop_access::schedule(task_->loop(), *task_); }

 protected:
  wakeup_awaiter() noexcept { suspension::abort = &on_abort; }
  /// For awaiters movable until awaited (core/awaitable.hpp); a linked one must not move.
  wakeup_awaiter(wakeup_awaiter&& o) noexcept : waiter_node() {
    if (o.task_ || o.linked) [[unlikely]] awaiter_misuse(moved_after_await);
    suspension::abort = &on_abort;
  }
  ~wakeup_awaiter() = default;  // the derived destructor calls unlink(): waiters() needs its members

  void unlink() noexcept {
    if (linked) self().waiters().remove(self());
  }

  task_core* task_ = nullptr;

 private:
  auto self() noexcept -> Derived& { return static_cast<Derived&>(*this); }

  static void on_abort(suspension* s, task_core& t) noexcept {
    auto* w = static_cast<wakeup_awaiter*>(s);
    if (!w->linked) return;  // woken already: it is scheduled and await_resume raises
    w->unlink();
    detail::loop_access::schedule(t.loop(), t);
  }
};

}  // namespace asyncio::detail
