#pragma once
// The suspension interface: what an awaiter needs to park its task and to be cancelled. The
// awaiter calls, on the task_of(h) it runs in (task_core, detail/running_task.hpp):
//   park(*this, h)        in await_suspend, before linking itself anywhere; false = a cancel is
//                         pending: do not suspend, await_resume raises it
//   unpark(*this)         first in await_resume; true = aborted by a cancel (or the pending one):
//                         undo what must be undone, then throw_cancelled()
//   clear_waiting(*this)  from a wake-up that hands over something a late cancel must not lose
//   repark(*this)         from abort, to keep waiting (a cancel passed on to what it waits for)
// detail/parked_awaiter.hpp writes these steps once; docs/design.md ("The suspension protocol")
// explains them with an example.
//
// Cancellation protocol (docs/lessons.md §1.2-1.3, modelled on CPython's Task.cancel and Trio's abort_fn):
//  * A task parked at a suspension point has task_core::waiting_ pointing at that suspension.
//  * task_core::cancel() clears waiting_ and calls suspension::abort(), which must undo the wait
//    (unlink the waiter, cancel the timer) and make sure the task is (or already was) scheduled; the
//    awaiter's await_resume then throws cancelled_error.
//  * If the task is not parked (running, or scheduled after a wake-up that cleared waiting_), cancel()
//    sets must_cancel_ and the next suspension point throws instead of suspending.
//  * Neither step allocates: the cancelling() count and the cycle guard live in the task's header,
//    and a message is stored only when one is given (see task_base::cancel_noexcept). So the
//    library's own cancels (a timeout expiring, a task_group or gather cancelling its children, a
//    cancel passed on to an awaited task) cannot fail.
//  * A suspension whose wake-up carries something that must not be lost (a queue item, a lock) clears
//    waiting_ when it is woken: a cancel arriving between wake-up and resumption then stays pending
//    for the next suspension point, and the value is delivered. Suspensions with nothing to lose
//    (sleep, yield, awaiting a task or future) keep waiting_ until they resume, so such a late cancel
//    still interrupts them, as in CPython.
#include <coroutine>
#include <type_traits>

namespace asyncio::detail {

class task_core;
struct promise_base;

/// A point where a task is parked. abort() is called (on the loop thread) by task_core::cancel().
struct suspension {
  using abort_fn = void (*)(suspension* self, task_core& task) noexcept;
  abort_fn abort;
};

/// The promise of a frame in which `co_await` on this library's awaitables is allowed (asyncio::task
/// and generator frames, core/task.hpp).
template <class P>
concept asyncio_promise = std::is_base_of_v<promise_base, P>;

/// The task running the coroutine of handle h.
template <class P>
auto task_of(std::coroutine_handle<P> h) noexcept -> task_core& {
  static_assert(asyncio_promise<P>,
                "asyncio awaitables can only be awaited inside asyncio::task / generator coroutines");
  return *h.promise().owner_task();
}

}  // namespace asyncio::detail
