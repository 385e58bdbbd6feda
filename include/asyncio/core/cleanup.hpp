#pragma once
// with_cleanup: Python's `try: ... finally: await ...` (and `except CancelledError: await ...;
// raise`), which C++ cannot write directly: `co_await` is not allowed in a catch block, and a
// cleanup awaited after a cancellation would be cancelled at its first suspension point.
//
//   #include <chrono>
//   #include <cstdio>
//   #include <asyncio/asyncio.hpp>
//   using namespace std::chrono_literals;
//
//   auto ship_order() -> asyncio::task<int> {
//     co_await asyncio::sleep(10ms);  // may be cancelled, or throw
//     co_return 42;
//   }
//   auto release_reservation() -> asyncio::task<> {
//     co_await asyncio::sleep(1ms);  // runs even if ship_order() was cancelled
//     std::puts("reservation released");
//   }
//   auto order() -> asyncio::task<int> {
//     co_return co_await asyncio::with_cleanup(ship_order(), release_reservation(), 2s);
//   }
//
// is, in Python with Trio's shielded, time-limited cleanup (doc-test: excluded, Python):
//
//   async def order():
//       try:
//           return await ship_order()
//       finally:
//           with trio.move_on_after(2, shield=True):
//               await release_reservation()
//
// How it runs: the body runs inside the calling task, exactly as `co_await body` would. However it
// ends (a value, an exception, a cancellation), the cleanup then runs to completion in a task of
// its own, shielded from cancellation: a cancel of the calling task that arrives during the
// cleanup is remembered, not delivered to it. The cleanup's own deadline (`deadline`, from the
// moment it starts) is what bounds it: at the deadline the cleanup is cancelled, and its
// cancelled_error becomes timeout_error. with_cleanup returns only once the cleanup task has
// finished, so nothing it borrows from the caller is used after with_cleanup returns
// (docs/lessons.md §1.4).
//
// What comes out (the rule, written once):
//   1. The body was cancelled, or the calling task was cancelled while the cleanup ran:
//      cancelled_error, always. A cancellation is never replaced, so task_group, timeout and
//      shutdown keep working (docs/lessons.md §1.2); the cancel count (cancelling()) is left as
//      the cancels made it. An exception of the cleanup (including its timeout_error) is reported
//      to the loop's exception handler, as nothing may fail silently (docs/lessons.md §1.5).
//   2. Otherwise, if the cleanup threw (or ran past its deadline: timeout_error), its exception
//      propagates, as in Python, where an exception raised in `finally:` replaces the original.
//      A body exception it replaced is reported to the loop's exception handler (Python keeps it
//      as __context__ and prints it with the traceback).
//   3. Otherwise the body's outcome: its value, or its exception.
//
// The idioms for a Python programmer are in docs/coroutine_lifetimes.md.
#include <concepts>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/clock.hpp>
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/shield.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/core/timeout.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {
namespace detail {

/// A cleanup given as a task (used once), or as a callable returning a task.
template <class C>
auto start_cleanup(C& cleanup) -> task<void> {
  if constexpr (std::is_same_v<C, task<void>>) {
    return std::move(cleanup);
  } else {
    return std::invoke(cleanup);
  }
}

/// The cleanup's task: the cleanup under its deadline.
inline auto bounded_cleanup(task<void> cleanup, std::optional<duration> deadline) -> task<void> {
  co_await timeout(deadline, std::move(cleanup));
}

/// Reports an exception that with_cleanup does not propagate (see the rule at the top of the file).
void report_cleanup_exception(const char* what, std::exception_ptr e) noexcept;

/// Runs the cleanup in a task of its own and waits for it to finish whatever happens to the
/// calling task meanwhile. Returns the cleanup's exception (null if it succeeded); sets
/// `cancelled` if the calling task was cancelled while it waited.
inline auto run_cleanup(task<void> cleanup, std::optional<duration> deadline, bool& cancelled)
    -> task<std::exception_ptr> {
  task_options options;
  options.name = "with_cleanup";
  task_handle<void> running = create_task(bounded_cleanup(std::move(cleanup), deadline), options);
  while (!running.done()) {
    try {
      co_await shield_wait(*running.core());
    } catch (const cancelled_error&) {
      cancelled = true;  // remembered, raised once the cleanup has finished
    }
  }
  co_return running.exception();
}

template <class T, class C>
auto run_with_cleanup(task<T> body, C cleanup, std::optional<duration> deadline) -> task<T> {
  using stored = std::conditional_t<std::is_void_v<T>, bool, T>;
  std::optional<stored> value;
  std::exception_ptr body_error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
      value.emplace(true);
    } else {
      value.emplace(co_await std::move(body));
    }
  } catch (...) {
    body_error = std::current_exception();
  }

  bool cancelled = is_cancelled(body_error);
  std::exception_ptr cleanup_error;
  try {
    cleanup_error = co_await run_cleanup(start_cleanup(cleanup), deadline, cancelled);
  } catch (const cancelled_error&) {
    // Only a cancel that arrived before the cleanup task existed can land here (the cleanup runs
    // eagerly in create_task, so none does today); the cleanup still must not be skipped silently.
    cancelled = true;
  } catch (...) {
    cleanup_error = std::current_exception();  // the callable threw before returning its task
  }

  if (cancelled) {
    if (cleanup_error) report_cleanup_exception("with_cleanup: the cleanup failed during a cancellation", cleanup_error);
    if (is_cancelled(body_error)) std::rethrow_exception(body_error);
    throw cancelled_error();
  }
  if (cleanup_error) {
    if (body_error) report_cleanup_exception("with_cleanup: the body's exception was replaced by the cleanup's", body_error);
    std::rethrow_exception(cleanup_error);
  }
  if (body_error) std::rethrow_exception(body_error);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace detail

/// Awaits `body`, then runs `cleanup` however the body ended (a value, an exception or a
/// cancellation), shielded from cancellation and bounded by `deadline`, then gives the body's
/// outcome: Python's `try: await body finally: await cleanup` with Trio's shielded, time-limited
/// cleanup. `cleanup` is a task<void>, or a callable returning one, called once after the body.
/// `deadline` counts from the moment the cleanup starts; nullopt = none (not recommended: a
/// cleanup that hangs then hangs its caller). The example is at the top of core/cleanup.hpp.
///
/// Cancellation: a cancel of the calling task reaches the body (as `co_await body`); the cleanup
/// then runs to completion (or to its deadline) all the same, and cancelled_error propagates. A
/// cancel arriving while the cleanup runs does not reach the cleanup; it is raised (as
/// cancelled_error) once the cleanup finished. The cancel count is never touched.
/// Resumes: on the calling task's loop, after the cleanup finished.
/// Throws: per the rule at the top of core/cleanup.hpp: cancelled_error if the body or the
/// calling task was cancelled; else the cleanup's exception (timeout_error past its deadline);
/// else what the body throws.
/// Thread safety: loop-affine, as every task.
template <class T, class C>
  requires std::same_as<C, task<void>> || std::is_same_v<std::invoke_result_t<C&>, task<void>>
auto with_cleanup(task<T> body, C cleanup, std::optional<duration> deadline) -> task<T> {
  static_assert(!std::is_reference_v<T>, "with_cleanup: the body cannot return a reference");
  return detail::run_with_cleanup<T>(std::move(body), std::move(cleanup), deadline);
}

}  // namespace asyncio
