#pragma once
// timeout / timeout_at: a deadline for a piece of code, reschedulable (Python 3.11's
// asyncio.timeout / asyncio.timeout_at).
//
// C++ has no `async with`, so the guarded code is passed in:
//
//   int r = co_await asyncio::timeout(5s, fetch());            // a coroutine
//   auto item = co_await asyncio::timeout(5s, q.get());        // an awaiter (core/awaitable.hpp)
//   int sum = co_await asyncio::timeout(5s, [&](asyncio::timeout_scope& cm) -> asyncio::task<int> {
//     int first = co_await fetch();
//     cm.reschedule(asyncio::get_running_loop().time() + 1s);   // move the deadline
//     co_return first + co_await fetch();
//   });
//
// The second form gives access to the scope (reschedule(), when(), expired()). The lambda object
// lives in the timeout's coroutine frame for the whole co_await, so capturing by reference is safe
// here (docs/toolchain.md §5.8 is about lambdas that die before their coroutine finishes; this one cannot).
//
// How it works (exactly CPython's): the guarded code runs inside the calling task. At the
// deadline the task is cancelled. When the guarded code finishes, if the deadline fired and the
// task's cancel count (cancelling()) drops back to its value at entry with uncancel(), the
// cancellation was ours: a cancelled_error that escapes becomes timeout_error (with the
// cancelled_error nested, std::rethrow_if_nested). Any other cancellation (an outer cancel, an
// outer timeout) keeps propagating as cancelled_error: it is never converted or swallowed, and
// nested timeouts each tell their own expiry. If the guarded code swallowed the cancellation and
// returned normally, its value is returned (expired() says what happened), unless an outer
// cancel also arrived meanwhile: then cancelled_error is raised (CPython's
// test_wait_for_self_cancellation expects the same), so an outer cancel is never lost.
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/detail/timer_heap.hpp>
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/core/clock.hpp>

namespace asyncio {

/// The deadline of a running timeout (Python's asyncio.Timeout). Only ever handed out by
/// reference to the body of timeout()/timeout_at().
///
/// Thread safety: loop-affine.
class timeout_scope : detail::timer_target {
 public:
  /// The current deadline on the loop's clock; nullopt = none.
  [[nodiscard]] auto when() const noexcept -> std::optional<time_point> { return when_; }
  /// Moves the deadline (nullopt removes it). A deadline already past fires through the ready
  /// queue (Python's call_soon): before the task's next step if it is not running now.
  /// Throws: invalid_state_error once the deadline has fired or the scope has exited.
  void reschedule(std::optional<time_point> when);
  /// True once the deadline fired (even if the body then swallowed the cancellation).
  [[nodiscard]] auto expired() const noexcept -> bool { return state_ == state::expiring || state_ == state::expired; }

  explicit timeout_scope(std::optional<time_point> when) noexcept : when_(when) { fire = &on_fire; }
  timeout_scope(const timeout_scope&) = delete;
  auto operator=(const timeout_scope&) -> timeout_scope& = delete;
  ~timeout_scope();

  // For timeout()/timeout_at() only.
  void enter(detail::task_core& task);
  /// Leaves the scope; true if a cancelled_error escaping now must become timeout_error.
  auto exit() noexcept -> bool;
  /// Leaves the scope after the body returned normally. Throws cancelled_error if the deadline
  /// fired and another cancel request is still outstanding: the body (or a task it awaited)
  /// absorbed it while handling ours, and it must not be lost.
  void exit_after_value();

 private:
  enum class state : std::uint8_t { created, entered, expiring, expired, exited };
  static void on_fire(detail::timer_target* self) noexcept;
  void disarm() noexcept;

  std::optional<time_point> when_;
  detail::task_core* task_ = nullptr;
  std::uint64_t key_ = detail::timer_heap::no_timer;
  handle soon_;  // a deadline already past fires through the ready queue, as Python's call_soon
  int cancelling_at_entry_ = 0;
  state state_ = state::created;
};

namespace detail {

/// Called inside the catch block of a timeout: converts our own cancellation to timeout_error.
[[noreturn]] void rethrow_from_timeout(timeout_scope& scope);

template <class T, class Body>
auto run_with_timeout(std::optional<time_point> when, Body body) -> task<T> {
  timeout_scope scope(when);
  scope.enter(co_await this_task());
  try {
    if constexpr (std::is_void_v<T>) {
      co_await body(scope);
      scope.exit_after_value();
      co_return;
    } else {
      T value = co_await body(scope);
      scope.exit_after_value();
      co_return std::forward<T>(value);
    }
  } catch (...) {
    rethrow_from_timeout(scope);
  }
}

// Holds a coroutine for run_with_timeout (the task<T> form).
template <class T>
struct coroutine_body {
  task<T> coro;
  auto operator()(timeout_scope&) -> task<T> { return std::move(coro); }
};

auto deadline_after(std::optional<duration> delay) -> std::optional<time_point>;

}  // namespace detail

/// Runs `body` with a deadline at `when` on the loop's clock (Python's asyncio.timeout_at);
/// nullopt = no deadline.
///
/// Cancellation: at the deadline the calling task is cancelled; see the top of the file for how
/// that becomes timeout_error and how outer cancellations pass through untouched.
/// Resumes: as `body` does; timeout itself adds no suspension.
/// Throws: timeout_error at expiry; whatever `body` throws.
template <class T>
auto timeout_at(std::optional<time_point> when, task<T> body) -> task<T> {
  return detail::run_with_timeout<T>(when, detail::coroutine_body<T>{std::move(body)});
}

/// timeout_at with access to the scope: `fn(scope)` must return a task.
template <class F>
  requires std::is_invocable_v<F&, timeout_scope&>
auto timeout_at(std::optional<time_point> when, F fn)
    -> task<typename detail::task_value<std::invoke_result_t<F&, timeout_scope&>>::type> {
  using T = typename detail::task_value<std::invoke_result_t<F&, timeout_scope&>>::type;
  return detail::run_with_timeout<T>(when, std::move(fn));
}

/// Runs `body` with a deadline `delay` from when it starts (Python's asyncio.timeout);
/// nullopt = no deadline. A zero or negative delay expires at the first suspension point.
///
/// Cancellation, Resumes, Throws: as timeout_at.
template <class T>
auto timeout(std::optional<duration> delay, task<T> body) -> task<T> {
  // The deadline is read when the timeout starts (when awaited), not when this call is made.
  return detail::run_with_timeout<T>(std::nullopt, [delay, b = detail::coroutine_body<T>{std::move(body)}](
                                                       timeout_scope& scope) mutable -> task<T> {
    scope.reschedule(detail::deadline_after(delay));
    return b(scope);
  });
}

/// timeout with access to the scope: `fn(scope)` must return a task.
template <class F>
  requires std::is_invocable_v<F&, timeout_scope&>
auto timeout(std::optional<duration> delay, F fn)
    -> task<typename detail::task_value<std::invoke_result_t<F&, timeout_scope&>>::type> {
  using T = typename detail::task_value<std::invoke_result_t<F&, timeout_scope&>>::type;
  return detail::run_with_timeout<T>(std::nullopt, [delay, f = std::move(fn)](timeout_scope& scope) mutable {
    scope.reschedule(detail::deadline_after(delay));
    return f(scope);
  });
}

/// timeout_at for an awaiter (event::wait(), lock::acquire(), queue::get(), sleep(), ...), taken by
/// value into the returned task (core/awaitable.hpp).
///
/// Cancellation: at the deadline the wait is cancelled as the awaiter's own Cancellation: says
/// (nothing handed over is kept), then timeout_error; outer cancels pass as cancelled_error.
/// Resumes: as the awaiter does.
/// Throws: timeout_error at expiry; what the awaiter throws.
template <detail::bare_awaitable A>
  requires(!std::is_invocable_v<A&, timeout_scope&>)
auto timeout_at(std::optional<time_point> when, A aw) -> task<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return timeout_at(when, detail::as_task(std::move(aw)));
}

/// timeout for an awaiter: `co_await asyncio::timeout(1s, ev.wait())`.
///
/// Cancellation, Resumes, Throws: as timeout_at for an awaiter.
template <detail::bare_awaitable A>
  requires(!std::is_invocable_v<A&, timeout_scope&>)
auto timeout(std::optional<duration> delay, A aw) -> task<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return timeout(delay, detail::as_task(std::move(aw)));
}

}  // namespace asyncio
