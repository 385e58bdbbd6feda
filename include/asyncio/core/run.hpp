#pragma once
// asyncio::run and event_loop::run_until_complete.
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {

template <class T>
auto event_loop::run_until_complete(task<T> t) -> T {
  auto h = t.release();
  task_handle<T> main(&h.promise());
  detail::promote_to_task(*this, h.promise(), h, task_options{.name = "main", .eager = false}, nullptr);
  main.add_done_callback([this] { stop(); });
  run_forever();
  if (!main.done()) throw error("event loop stopped before the task completed");
  return main.take_result();
}

namespace detail {
/// Python's asyncio.runners._cancel_all_tasks plus loop.close(): cancels every unfinished task,
/// runs the loop until they finish, reports the ones that failed, then closes the loop.
void finish_run(event_loop& loop) noexcept;

struct run_guard {
  event_loop& loop;
  ~run_guard() { finish_run(loop); }
};
}  // namespace detail

/// Runs `main` on a new event loop and returns its result (Python's asyncio.run): rethrows its
/// exception; then cancels the tasks still running, waits for them, and closes the loop.
///
/// Example:
///   asyncio::task<int> answer() { co_await asyncio::sleep(10ms); co_return 42; }
///   int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
template <class T>
auto run(task<T> main, loop_options options = {}) -> T {
  event_loop loop(options);
  detail::run_guard guard{loop};
  return loop.run_until_complete(std::move(main));
}

}  // namespace asyncio
