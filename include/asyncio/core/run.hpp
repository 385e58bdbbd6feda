#pragma once
// asyncio::run and event_loop::run_until_complete.
#include <cstdint>
#include <memory>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {

namespace detail {
/// Makes `t` the loop's main task (lazy, named "main") and stops the loop when it finishes.
template <class T>
auto start_main_task(event_loop& loop, task<T> t) -> task_handle<T> {
  // Refuse before the coroutine becomes a task: a task registered on a loop that cannot run
  // would stay there (closed loop) or run later behind the caller's back (running loop).
  detail::loop_access::check_can_run(loop);
  auto h = t.release();
  task_handle<T> main(&h.promise());
  detail::promote_to_task(loop, h.promise(), h, task_options{.name = "main", .eager = false}, nullptr);
  main.add_done_callback([&loop] { loop.stop(); });
  return main;
}

/// run()'s Ctrl-C handling (Python 3.11's Runner): while it lives, the first SIGINT cancels `main`
/// and a second one kills the process by SIGINT at once, from the signal handler itself (so it works
/// even while the loop is stuck in a step). Armed only if `enabled`, on the main thread, and when
/// SIGINT has its default action and is not blocked (otherwise the user handles SIGINT).
/// Defined in src/core/loop_signals.cpp (signal delivery is part of the loop).
class sigint_guard {
 public:
  sigint_guard(event_loop& loop, any_task main, bool enabled);
  ~sigint_guard();
  sigint_guard(const sigint_guard&) = delete;
  auto operator=(const sigint_guard&) -> sigint_guard& = delete;
  /// True if a SIGINT cancelled the main task.
  [[nodiscard]] auto interrupted() const noexcept -> bool;

 private:
  struct state;  // shared with the queued SIGINT callback, which may run after the guard is gone
  event_loop* loop_ = nullptr;  // null when not armed
  std::uint64_t token_ = 0;
  std::shared_ptr<state> state_;
};
}  // namespace detail

template <class T>
auto event_loop::run_until_complete(task<T> t) -> T {
  task_handle<T> main = detail::start_main_task(*this, std::move(t));
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
/// Ctrl-C (unless options.handle_sigint is false, see <asyncio/signal.hpp>): the first SIGINT
/// cancels the main task, whose cleanup (catch blocks, destructors) runs; if it ends cancelled, run()
/// throws keyboard_interrupt; if it caught the cancellation and returned, run() returns its value.
/// A second SIGINT kills the process by SIGINT immediately.
///
/// Throws: whatever `main` throws; keyboard_interrupt as above.
///
/// Example:
///   asyncio::task<int> answer() { co_await asyncio::sleep(10ms); co_return 42; }
///   int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
template <class T>
auto run(task<T> main, loop_options options = {}) -> T {
  event_loop loop(options);
  detail::run_guard guard{loop};
  task_handle<T> main_task = detail::start_main_task(loop, std::move(main));
  {
    detail::sigint_guard sigint(loop, main_task, options.handle_sigint);
    loop.run_forever();
    // As Python's Runner: a cancellation that came from Ctrl-C (and not from elsewhere too)
    // becomes KeyboardInterrupt.
    if (sigint.interrupted() && main_task.cancelled() && main_task.uncancel() == 0)
      throw keyboard_interrupt();
  }
  if (!main_task.done()) throw error("event loop stopped before the task completed");
  return main_task.take_result();
}

}  // namespace asyncio
