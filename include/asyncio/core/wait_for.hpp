#pragma once
// wait_for: await something with a time limit (Python 3.12's asyncio.wait_for, which is
// `async with timeout(d): return await aw`).
//
//   int r = co_await asyncio::wait_for(fetch(), 5s);        // a coroutine (runs in this task)
//   int h = co_await asyncio::wait_for(handle, 5s);         // a task: cancelled and awaited on timeout
//   co_await asyncio::wait_for(ev.wait(), 5s);              // any awaiter: event, lock, queue, sleep...
//   auto guard = co_await asyncio::wait_for(m.acquire(), 1s);
//
// On timeout the inner awaitable is cancelled and awaited (its cleanup has run) before
// timeout_error is raised; if it swallowed the cancellation and returned a value, that value is
// returned (Python 3.12 semantics). A zero or negative limit is a poll, as Python's wait_for with
// its eager task factory (3.12+): a coroutine or awaiter runs until its first suspension; if it
// finished by then its value is returned (`wait_for(q.get(), 0s)` returns an available item),
// otherwise it is cancelled there, its cleanup runs, and timeout_error is raised. A pending task
// is cancelled at once. nullopt = no limit.
#include <optional>
#include <type_traits>
#include <utility>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/core/timeout.hpp>

namespace asyncio {
namespace detail {

template <class T>
auto await_shared(task_handle<T> h) -> task<T> {
  if constexpr (std::is_void_v<T>) {
    co_await h;
  } else if constexpr (std::is_copy_constructible_v<T>) {
    co_return co_await h;  // other holders of the handle can still read the result
  } else {
    co_return co_await std::move(h);
  }
}

template <class T>
auto await_future(future<T> f) -> task<T> {
  if constexpr (std::is_void_v<T>) {
    co_await f;
  } else {
    co_return co_await f;
  }
}

// Python's _cancel_and_wait + `fut.result()` + `raise TimeoutError from exc`.
template <class T>
auto cancel_and_wait(task_handle<T> h) -> task<T> {
  task_core& me = co_await this_task();
  const int before = me.cancelling();
  if (!h.done()) (void)h.cancel();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await await_shared(h);
      co_return;
    } else {
      co_return co_await await_shared(h);
    }
  } catch (const cancelled_error&) {
    if (me.cancelling() > before) throw;  // an outer cancel arrived meanwhile: propagate it
    std::throw_with_nested(timeout_error());
  }
}

}  // namespace detail

/// Runs `coro` in the calling task with a time limit.
///
/// A zero or negative limit polls (Python's wait_for(coro, 0) under its eager task factory):
/// `coro` starts at once in a task of its own and runs until its first suspension; its value (or
/// exception) is returned if it finished, otherwise it is cancelled there and awaited, so its
/// cleanup has run when timeout_error is raised.
///
/// Cancellation: on timeout `coro` is cancelled at its suspension point (it runs in this task);
/// an outer cancel propagates as cancelled_error, never as timeout_error.
/// Resumes: as `coro` does.
/// Throws: timeout_error (cancelled_error nested); what `coro` throws.
template <class T>
auto wait_for(task<T> coro, std::optional<duration> limit) -> task<T> {
  if (limit && *limit <= duration::zero()) {
    // Eager: runs to its first suspension inside create_task (Python's ensure_future under the
    // eager task factory); cancel_and_wait returns the result of one that finished.
    task_handle<T> h = create_task(std::move(coro));
    co_return co_await detail::cancel_and_wait(std::move(h));
  }
  co_return co_await timeout(limit, std::move(coro));
}

/// Waits for task `h` with a time limit; on timeout `h` is cancelled and awaited.
///
/// Cancellation: cancelling the awaiting task cancels `h` too (as awaiting it does).
/// Resumes: on the awaiting task's loop after `h` finished (or was cancelled and finished).
/// Throws: timeout_error; what `h` throws.
template <class T>
auto wait_for(task_handle<T> h, std::optional<duration> limit) -> task<T> {
  if (limit && *limit <= duration::zero()) co_return co_await detail::cancel_and_wait(std::move(h));
  co_return co_await timeout(limit, detail::await_shared(std::move(h)));
}

/// Waits for future `f` with a time limit; on timeout `f` is cancelled.
///
/// Cancellation: cancelling the awaiting task cancels `f`.
/// Resumes: on the awaiting task's loop.
/// Throws: timeout_error; what `f` holds.
template <class T>
auto wait_for(future<T> f, std::optional<duration> limit) -> task<T> {
  if (limit && *limit <= duration::zero() && !f.done()) {
    (void)f.cancel();
    throw timeout_error();
  }
  co_return co_await timeout(limit, detail::await_future(std::move(f)));
}

/// Awaits awaiter `aw` with a time limit (Python's `await asyncio.wait_for(ev.wait(), 5)`): the
/// library's awaiters event::wait(), lock/semaphore/condition acquire(), queue get()/put()/join(),
/// sleep(), or any movable awaiter not yet awaited. `aw` is taken by value into the returned task,
/// which may be awaited later. Move-only results (lock guards, queue items) are handed back.
///
/// Cancellation: `aw` is awaited in the calling task; on timeout that wait is cancelled as `aw`'s
/// own Cancellation: says, so nothing is kept: a lock, semaphore unit or queue item handed to this
/// wait at the same moment is passed on (lock/semaphore: to the next waiter; queue: back to the
/// front), and timeout_error is raised with the primitive as if this wait had never been. A wait
/// that has already delivered and cannot be undone (a put whose item the queue accepted) returns
/// normally instead of raising. An outer cancel propagates as cancelled_error. A zero or negative
/// limit polls: `aw` is awaited once, and if it completes without suspending its result is
/// returned (an event already set, a free lock, an available queue item); otherwise its wait is
/// undone as on timeout and timeout_error is raised (Python's wait_for(coro, 0)).
/// Resumes: as `aw` does.
/// Throws: timeout_error (cancelled_error nested); what `aw` throws.
template <detail::bare_awaitable A>
auto wait_for(A aw, std::optional<duration> limit) -> task<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return wait_for(detail::as_task(std::move(aw)), limit);
}

}  // namespace asyncio
