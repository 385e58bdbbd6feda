#pragma once
// wait: wait for tasks until a condition holds (Python's asyncio.wait).
//
//   auto [done, pending] = co_await asyncio::wait(tasks, 5s, asyncio::return_when::first_completed);
//
// (g++ 12: build the vector in a named variable, not as `wait(std::vector{a, b})` inside the
// co_await expression; it mishandles that initializer_list temporary, docs/toolchain.md §5.5.)
//
// As in Python 3.11+, wait takes task handles (create the tasks first) and never cancels them: on
// timeout or when the awaiting task is cancelled, the tasks keep running; they are yours (kept by
// your handles, owned by the loop). The handles come back split into done and pending, in their
// original order; duplicates are merged.
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/distinct_tasks.hpp>

namespace asyncio {

/// When wait() returns (Python's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum class return_when {
  first_completed,  // any task finished (or was cancelled)
  first_exception,  // any task finished with an exception (not a cancellation), or all finished
  all_completed,    // every task finished
};

/// What wait() returns: the handles split into done and pending, in their original order
/// (`auto [done, pending] = co_await wait(...)`).
template <class H>
struct wait_result {
  std::vector<H> done;
  std::vector<H> pending;
};

namespace detail {
/// Parks until `rw` holds for `tasks` or `timeout` passes. Cancels nothing. src/core/wait.cpp.
auto wait_until(std::vector<task_base*> tasks, std::optional<duration> timeout, return_when rw) -> task<void>;
/// Throws std::invalid_argument unless `rw` is one of return_when's values. src/core/wait.cpp.
void check_return_when(return_when rw);
}  // namespace detail

/// Waits until `rw` holds for `tasks` or `timeout` passes (nullopt = no limit).
///
/// Cancellation: the awaiting task raises cancelled_error; the tasks are not cancelled.
/// Resumes: on the awaiting task's loop, once the condition holds or at the timeout.
/// Throws: std::invalid_argument if `tasks` is empty or `rw` is not one of return_when's values
/// (Python's ValueError).
template <class H>
  requires std::is_base_of_v<any_task, H>
auto wait(std::vector<H> tasks, std::optional<duration> timeout = std::nullopt,
          return_when rw = return_when::all_completed) -> task<wait_result<H>> {
  if (tasks.empty()) throw std::invalid_argument("asyncio::wait: the set of tasks is empty");
  detail::check_return_when(rw);
  auto distinct = detail::drop_repeated_tasks(tasks);
  co_await detail::wait_until(std::move(distinct.cores), timeout, rw);
  wait_result<H> out;
  for (auto& h : distinct.handles) (h.done() ? out.done : out.pending).push_back(std::move(h));
  co_return out;
}

/// wait() without a timeout.
template <class H>
  requires std::is_base_of_v<any_task, H>
auto wait(std::vector<H> tasks, return_when rw) -> task<wait_result<H>> {
  return wait(std::move(tasks), std::nullopt, rw);
}

}  // namespace asyncio
