#pragma once
// gather: run awaitables concurrently and collect their results (Python's asyncio.gather), with
// one difference that makes it safe in C++ (docs/lessons.md §1.4): no child outlives gather.
//
//   auto [a, b] = co_await asyncio::gather(fetch(1), fetch(2));          // tuple, argument order
//   std::vector<int> all = co_await asyncio::gather(std::move(coros));   // vector of task<int>
//   auto rs = co_await asyncio::gather(asyncio::return_exceptions, f(), g());  // tuple of result<T>
//
// Arguments are task<T> coroutines (each becomes a child task through create_task, so they run
// concurrently; they start eagerly, in argument order, when gather itself starts, i.e. when it is
// awaited), awaiters such as ev.wait() or q.get() (each awaited in a child task of its own, see
// core/awaitable.hpp), task_handle<T>s of tasks created earlier, or future<T>s (each awaited in a
// child task; cancelling gather cancels the futures not yet done, as Python's gather does). A child returning void contributes a
// std::monostate to the tuple/vector (a placeholder that keeps positions; Python puts None there).
//
// Failure (without return_exceptions): the first child to fail (exception or cancellation, in
// completion order) decides the outcome. gather then cancels every unfinished child, handles passed
// in included, WAITS for all of them (their destructors and catch blocks have run), and rethrows
// that first exception (cancelled_error if the first failure was a cancellation). The other
// children's exceptions are marked retrieved. Python instead leaves the siblings running; in C++
// they could outlive the frames they reference. To keep a task you passed in running, pass
// shield(handle) instead.
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/core/result.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {

/// Tag for gather's return_exceptions mode: `gather(asyncio::return_exceptions, ...)`.
struct return_exceptions_t {
  explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

namespace detail {

/// What gather gives for a child returning T (std::monostate for void).
template <class T>
using gather_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class A>
struct gather_arg;  // not defined: not something gather accepts
template <class T>
struct gather_arg<task<T>> {
  using value = T;
  static constexpr bool owned = true;  // gather created the task: it may move the result out
  static auto to_handle(task<T>&& t) -> task_handle<T> { return create_task(std::move(t)); }
};
template <class T>
struct gather_arg<task_handle<T>> {
  using value = T;
  static constexpr bool owned = false;  // others may read the result too: copy it when possible
  static auto to_handle(task_handle<T>&& h) -> task_handle<T> { return std::move(h); }
};
/// Awaits a future in a child task (gather's argument): cancelling the child cancels the future,
/// as Python's gather cancels the futures it was given. The value is copied out unless T is
/// move-only (other copies of the future may still read it).
template <class T>
auto gather_future(future<T> f) -> task<T> {
  if constexpr (std::is_void_v<T>) co_await f;
  else if constexpr (std::is_copy_constructible_v<T>) co_return co_await f;
  else co_return co_await std::move(f);
}
template <class T>
struct gather_arg<future<T>> {  // a future: awaited in a child task of its own
  using value = T;
  static constexpr bool owned = true;  // the child holds a copy of the value already
  static auto to_handle(future<T>&& f) -> task_handle<T> { return create_task(gather_future(std::move(f))); }
};
template <class A>
  requires bare_awaitable<A>
struct gather_arg<A> {  // an awaiter (event::wait(), q.get(), ...): awaited in a child task of its own
  using value = await_result_t<A>;
  static constexpr bool owned = true;
  static auto to_handle(A&& a) -> task_handle<value> { return create_task(as_task(std::move(a))); }
};
template <class A>
concept gatherable = requires { typename gather_arg<A>::value; };

/// Waits for the children as described at the top of this file; returns when all are done and
/// none failed (or return_exceptions), else cancels the rest, waits, and throws. src/core/gather.cpp.
auto gather_wait(std::vector<task_base*> children, bool return_exceptions) -> task<void>;

template <class T>
auto gather_value(task_handle<T>& h, bool owned) -> gather_value_t<T> {
  if constexpr (std::is_void_v<T>) {
    h.result();
    return {};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    if (owned) return h.take_result();
    return h.result();
  } else {
    return h.take_result();
  }
}

template <class T>
auto gather_result(task_handle<T>& h, bool owned) -> result<T> {
  try {
    if constexpr (std::is_void_v<T>) {
      h.result();
      return result<void>();
    } else {
      return result<T>(gather_value(h, owned));
    }
  } catch (...) {  // cancelled_error included: Python puts the CancelledError in the list
    return result<T>::from_current_exception();
  }
}

template <class T>
auto cores_of(const std::vector<task_handle<T>>& hs) -> std::vector<task_base*> {
  std::vector<task_base*> cores;
  cores.reserve(hs.size());
  for (const auto& h : hs) cores.push_back(h.core());
  return cores;
}

template <class T>
auto spawn_all(std::vector<task<T>>& coros) -> std::vector<task_handle<T>> {
  std::vector<task_handle<T>> hs;
  hs.reserve(coros.size());
  for (auto& c : coros) hs.push_back(create_task(std::move(c)));
  return hs;
}

template <class T>
auto gather_range(std::vector<task_handle<T>> hs, bool owned) -> task<std::vector<gather_value_t<T>>> {
  co_await gather_wait(cores_of(hs), false);
  std::vector<gather_value_t<T>> out;
  out.reserve(hs.size());
  for (auto& h : hs) out.push_back(gather_value(h, owned));
  co_return out;
}

template <class T>
auto gather_range_results(std::vector<task_handle<T>> hs, bool owned) -> task<std::vector<result<T>>> {
  co_await gather_wait(cores_of(hs), true);
  std::vector<result<T>> out;
  out.reserve(hs.size());
  for (auto& h : hs) out.push_back(gather_result(h, owned));
  co_return out;
}

template <class... A, class Handles, std::size_t... I>
auto gather_collect(Handles& hs, std::index_sequence<I...>) {
  return std::tuple<gather_value_t<typename gather_arg<A>::value>...>{
      gather_value(std::get<I>(hs), gather_arg<A>::owned)...};
}
template <class... A, class Handles, std::size_t... I>
auto gather_collect_results(Handles& hs, std::index_sequence<I...>) {
  return std::tuple<result<typename gather_arg<A>::value>...>{
      gather_result(std::get<I>(hs), gather_arg<A>::owned)...};
}

}  // namespace detail

/// Runs the awaitables concurrently; returns their results as a tuple in argument order
/// (Python's `await asyncio.gather(a, b)`).
///
/// Cancellation: cancelling the awaiting task cancels every unfinished child, waits for all of
/// them, then raises cancelled_error (even if some children swallowed the cancellation).
/// Resumes: on the awaiting task's loop, after the last child finished.
/// Throws: the first child failure (see the top of the file), after every child finished.
template <class... A>
  requires(detail::gatherable<A> && ...)
auto gather(A... aws) -> task<std::tuple<detail::gather_value_t<typename detail::gather_arg<A>::value>...>> {
  // Braced initialisation runs left to right: children start in argument order.
  std::tuple<task_handle<typename detail::gather_arg<A>::value>...> hs{
      detail::gather_arg<A>::to_handle(std::move(aws))...};
  std::vector<detail::task_base*> cores = std::apply(
      [](auto&... h) { return std::vector<detail::task_base*>{h.core()...}; }, hs);
  co_await detail::gather_wait(std::move(cores), false);
  co_return detail::gather_collect<A...>(hs, std::index_sequence_for<A...>{});
}

/// gather with return_exceptions=True: waits for every child and returns a tuple of result<T>
/// (a failed child's result holds its exception; a cancelled child's a cancelled_error).
///
/// Cancellation: as gather: the children are cancelled and awaited, then cancelled_error.
/// Resumes: on the awaiting task's loop, after the last child finished.
/// Throws: cancelled_error only (if the awaiting task was cancelled).
template <class... A>
  requires(detail::gatherable<A> && ...)
auto gather(return_exceptions_t, A... aws) -> task<std::tuple<result<typename detail::gather_arg<A>::value>...>> {
  std::tuple<task_handle<typename detail::gather_arg<A>::value>...> hs{
      detail::gather_arg<A>::to_handle(std::move(aws))...};
  std::vector<detail::task_base*> cores = std::apply(
      [](auto&... h) { return std::vector<detail::task_base*>{h.core()...}; }, hs);
  co_await detail::gather_wait(std::move(cores), true);
  co_return detail::gather_collect_results<A...>(hs, std::index_sequence_for<A...>{});
}

/// Runs every coroutine of `coros` as a child task; returns the results in the same order.
///
/// Cancellation, Resumes, Throws: as the tuple form.
template <class T>
auto gather(std::vector<task<T>> coros) -> task<std::vector<detail::gather_value_t<T>>> {
  co_return co_await detail::gather_range<T>(detail::spawn_all(coros), true);
}

/// Waits for every task of `tasks`; returns the results in the same order.
///
/// Cancellation, Resumes, Throws: as the tuple form (the tasks are cancelled on failure).
template <class T>
auto gather(std::vector<task_handle<T>> tasks) -> task<std::vector<detail::gather_value_t<T>>> {
  co_return co_await detail::gather_range<T>(std::move(tasks), false);
}

/// Waits for every future of `futures`; returns their results in the same order (a future's
/// value is copied out, or moved if T is move-only).
///
/// Cancellation, Resumes, Throws: as the tuple form (the futures not yet done are cancelled on
/// failure or when the awaiting task is cancelled).
template <class T>
auto gather(std::vector<future<T>> futures) -> task<std::vector<detail::gather_value_t<T>>> {
  std::vector<task_handle<T>> hs;
  hs.reserve(futures.size());
  for (auto& f : futures) hs.push_back(create_task(detail::gather_future(std::move(f))));
  co_return co_await detail::gather_range<T>(std::move(hs), true);
}

/// gather of a vector of coroutines with return_exceptions: a vector of result<T>.
template <class T>
auto gather(return_exceptions_t, std::vector<task<T>> coros) -> task<std::vector<result<T>>> {
  co_return co_await detail::gather_range_results<T>(detail::spawn_all(coros), true);
}

/// gather of a vector of tasks with return_exceptions: a vector of result<T>.
template <class T>
auto gather(return_exceptions_t, std::vector<task_handle<T>> tasks) -> task<std::vector<result<T>>> {
  co_return co_await detail::gather_range_results<T>(std::move(tasks), false);
}

}  // namespace asyncio
