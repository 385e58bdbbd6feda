#pragma once
// shield: wait for a task without passing cancellation on to it (Python's asyncio.shield).
//
//   int r = co_await asyncio::shield(handle);        // handle keeps running if we are cancelled
//   int s = co_await asyncio::shield(save_state());  // the coroutine becomes a task first
//
// When the awaiting task is cancelled, it gets cancelled_error at once and the inner task keeps
// running. With the coroutine form the inner task is then DETACHED ON PURPOSE: nobody holds its
// handle any more, the loop still owns it and runs it to the end (this is what shield is for:
// finishing work that must not be interrupted, such as a commit), and an exception it ends with
// is reported through the loop's exception handler. Keep a handle (first form) if you need the
// outcome later. Frames the inner task references must therefore outlive it.
#include <coroutine>
#include <type_traits>
#include <utility>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {
namespace detail {

/// Parks the awaiting task until `source` completes. Unlike completion_wait, a cancel does not
/// reach the source: the waiter unlinks itself and the awaiting task raises cancelled_error.
struct shield_wait : completion_waiter {
  explicit shield_wait(completion& s) noexcept {
    source = &s;
    abort = &on_abort;
  }
  shield_wait(const shield_wait&) = delete;
  ~shield_wait() {
    if (linked_) source->remove_waiter(*this);
  }
  [[nodiscard]] auto await_ready() const noexcept -> bool { return source->done(); }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& me = task_of(h);
    task = &me;
    if (!me.park(*this, h)) return false;
    source->add_waiter(*this);
    linked_ = true;
    return true;
  }
  void await_resume() {
    linked_ = linked_ && !source->done();
    if (task && task->unpark(*this)) task->throw_cancelled();
  }
  static void on_abort(suspension* self, task_core& me) noexcept {
    auto* w = static_cast<shield_wait*>(self);
    if (w->source->done()) return;  // already woken: await_resume raises the cancel
    w->source->remove_waiter(*w);
    w->linked_ = false;
    detail::loop_access::schedule(me.loop(), me);
  }

 private:
  bool linked_ = false;
};

template <class T>
auto shared_result(task_handle<T>& h) -> T {
  if constexpr (std::is_void_v<T>) {
    h.result();
  } else if constexpr (std::is_copy_constructible_v<T> || std::is_reference_v<T>) {
    return h.result();
  } else {
    return h.take_result();  // move-only: the awaiter is the only reader that can have it
  }
}

}  // namespace detail

/// Waits for `inner` and returns its result, but does not cancel it when the awaiting task is
/// cancelled (Python's asyncio.shield).
///
/// Cancellation: the awaiting task raises cancelled_error at once; `inner` keeps running. If
/// `inner` itself is cancelled (by someone else), the awaiter gets cancelled_error too.
/// Resumes: on the awaiting task's loop, right after `inner` finished.
/// Throws: what `inner` throws.
template <class T>
auto shield(task_handle<T> inner) -> task<T> {
  co_await detail::shield_wait(*inner.core());
  co_return detail::shared_result(inner);
}

/// Waits for future `inner` and returns its result (a copy; moved out if T is move-only), but does
/// not cancel it when the awaiting task is cancelled (Python's `asyncio.shield(fut)`).
///
/// Cancellation: the awaiting task raises cancelled_error at once; `inner` stays pending and can
/// still be completed. If `inner` itself is cancelled, the awaiter gets cancelled_error too.
/// Resumes: on the awaiting task's loop, on the iteration after `inner` was completed.
/// Throws: the exception `inner` was completed with.
template <class T>
auto shield(future<T> inner) -> task<T> {
  co_await detail::shield_wait(*inner.core());
  if constexpr (std::is_void_v<T>) co_await inner;
  else if constexpr (std::is_copy_constructible_v<T>) co_return co_await inner;
  else co_return co_await std::move(inner);
}

/// Runs `coro` as a new task (eagerly) and shields it; see the top of the file for what happens
/// to that task when the awaiter is cancelled (it is detached on purpose).
///
/// Cancellation, Resumes, Throws: as shield(task_handle).
template <class T>
auto shield(task<T> coro) -> task<T> {
  task_handle<T> inner = create_task(std::move(coro));
  co_await detail::shield_wait(*inner.core());
  co_return detail::shared_result(inner);
}

/// Shields a bare awaiter (core/awaitable.hpp): it is awaited in a new task, as shield(coroutine).
/// A lock or item it obtains after the caller was cancelled stays with that detached task, whose
/// result (the guard or item) is destroyed when the task finishes: shielding an acquire() or get()
/// is therefore rarely what you want.
///
/// Cancellation, Resumes, Throws: as shield(task_handle).
template <detail::bare_awaitable A>
auto shield(A aw) -> task<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return shield(detail::as_task(std::move(aw)));
}

}  // namespace asyncio
