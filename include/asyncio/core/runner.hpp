#pragma once
// asyncio::runner (Python 3.11's asyncio.Runner): one event loop that runs several top-level
// coroutines one after another, with run()'s Ctrl-C handling around each of them, closed once at
// the end. asyncio::run (core/run.hpp) is a runner that runs one coroutine.
//
// Why a runner rather than a loop and run_until_complete: the runner adds what a program's top
// level needs and a bare loop does not do. Ctrl-C turns into cancellation of the running coroutine
// and then keyboard_interrupt (see <asyncio/signal.hpp>); close() cancels the tasks left behind and
// waits for their cleanup, shuts the default executor down, then closes the loop; and misuse
// (run() from inside a loop, run() after close()) fails with invalid_state_error, as Python raises
// RuntimeError.
#include <memory>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/errors.hpp>

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
///
/// Arming it also installs, once per process, a std::terminate handler (chained to the previous
/// one) that turns an uncaught keyboard_interrupt into what Python does at exit: it prints the line
/// "KeyboardInterrupt" to stderr and calls keyboard_interrupt::exit_by_signal(), so that
/// `int main() { return asyncio::run(amain()); }` ends with status 130 instead of an abort. Any
/// other reason for std::terminate goes to the previous handler unchanged. Why a terminate handler
/// and not a catch inside run(): run() must still throw, so that a program that catches
/// keyboard_interrupt keeps its choice (return its own exit code, or carry on); only a
/// keyboard_interrupt that nobody catches reaches std::terminate, and Python's answer to that is
/// death by SIGINT.
///
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

/// Python's asyncio.runners._cancel_all_tasks plus loop.close(): cancels every unfinished task,
/// runs the loop until they finish, reports the ones that failed, shuts the default executor down
/// (a close hook of the threads layer), then closes the loop. Errors go to the exception handler.
void finish_run(event_loop& loop) noexcept;
}  // namespace detail

/// Runs top-level coroutines one after another on one event loop, and closes it at the end
/// (Python 3.11's asyncio.Runner). asyncio::run(main) is `runner r; return r.run(main);`.
///
/// Each run() makes its coroutine the loop's main task and runs the loop until it finishes, with
/// Ctrl-C handled as asyncio::run does (unless loop_options::handle_sigint is false): the first
/// SIGINT cancels that task and run() throws keyboard_interrupt, a second one kills the process by
/// SIGINT. Tasks a run() created and left running stay on the loop and go on running during the
/// next run(); close() cancels whatever is left.
///
/// Example (a complete program):
///
///   #include <asyncio/asyncio.hpp>
///   #include <cstdio>
///   using namespace std::chrono_literals;
///
///   asyncio::task<int> connect() { co_await asyncio::sleep(10ms); co_return 3; }
///   asyncio::task<void> serve(int conn) { co_await asyncio::sleep(10ms); std::printf("served %d\n", conn); }
///
///   int main() {
///     asyncio::runner runner;               // one loop for both calls
///     int conn = runner.run(connect());
///     runner.run(serve(conn));
///   }                                       // ~runner: close()
///
/// Thread safety: use a runner from one thread; its loop runs on the thread that calls run().
class runner {
 public:
  /// Creates the loop (Python creates it lazily; creating it here costs an epoll and an eventfd).
  /// Throws: os_error if the loop cannot be created.
  explicit runner(loop_options options = {});
  /// close(); errors go to the loop's exception handler. Must not run inside the runner's own loop.
  ~runner();
  runner(const runner&) = delete;
  auto operator=(const runner&) -> runner& = delete;
  runner(runner&&) = delete;  // the loop's callbacks may refer to it; it stays where it was made
  auto operator=(runner&&) -> runner& = delete;

  /// Runs `main` to completion on the runner's loop as its main task, and returns its result or
  /// rethrows its exception (Python's Runner.run).
  ///
  /// Cancellation: a SIGINT (Ctrl-C) cancels `main` (see the class comment); if `main` ends
  ///   cancelled because of it, run() throws keyboard_interrupt, and if `main` caught the
  ///   cancellation and returned, run() returns its value.
  /// Throws: whatever `main` throws (cancelled_error if it was cancelled other than by Ctrl-C);
  ///   keyboard_interrupt as above; invalid_state_error if called while an event loop runs on
  ///   this thread or after close(), before `main` started (it is then destroyed unrun), and if
  ///   the loop was stopped (loop.stop()) before `main` finished (Python's RuntimeError).
  template <class T>
  auto run(task<T> main) -> T {
    check_can_run();
    task_handle<T> main_task = detail::start_main_task(loop_, std::move(main));
    {
      detail::sigint_guard sigint(loop_, main_task, handle_sigint_);
      loop_.run_forever();
      // As Python's Runner: a cancellation that came from Ctrl-C (and not from elsewhere too)
      // becomes KeyboardInterrupt.
      if (sigint.interrupted() && main_task.cancelled() && main_task.uncancel() == 0) throw keyboard_interrupt();
    }
    if (!main_task.done()) throw invalid_state_error("event loop stopped before the task completed");
    return main_task.take_result();
  }

  /// The runner's loop (Python's Runner.get_loop), e.g. to add signal handlers or set an exception
  /// handler before run().
  /// Throws: invalid_state_error after close().
  [[nodiscard]] auto get_loop() -> event_loop&;

  /// Cancels the tasks still running and waits for their cleanup, shuts the loop's default
  /// executor down (with its deadline, docs/lessons.md §3.3), and closes the loop (Python's
  /// Runner.close). Errors while doing so go to the loop's exception handler. A no-op once closed.
  /// Throws: invalid_state_error if called while the runner's loop is running (from one of its
  ///   tasks).
  void close();

  /// True once close() ran.
  [[nodiscard]] auto is_closed() const noexcept -> bool { return closed_; }

 private:
  void check_can_run() const;

  event_loop loop_;
  bool handle_sigint_;
  bool closed_ = false;
};

}  // namespace asyncio
