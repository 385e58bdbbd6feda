#pragma once
// asyncio::run and event_loop::run_until_complete.
#include <cstdint>
#include <memory>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/runner.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {

template <class T>
auto event_loop::run_until_complete(task<T> t) -> T {
  task_handle<T> main = detail::start_main_task(*this, std::move(t));
  run_forever();
  if (!main.done()) throw invalid_state_error("event loop stopped before the task completed");
  return main.take_result();
}

/// Runs `main` on a new event loop and returns its result (Python's asyncio.run): rethrows its
/// exception; then cancels the tasks still running, waits for them, and closes the loop. It is a
/// runner (core/runner.hpp) that runs one coroutine and closes before returning or throwing.
///
/// Ctrl-C (unless options.handle_sigint is false, see <asyncio/signal.hpp>): the first SIGINT
/// cancels the main task, whose cleanup (catch blocks, destructors) runs; if it ends cancelled, run()
/// throws keyboard_interrupt; if it caught the cancellation and returned, run() returns its value.
/// A second SIGINT kills the process by SIGINT immediately. A keyboard_interrupt that the program
/// does not catch prints "KeyboardInterrupt" to stderr and ends the process by SIGINT (shell status
/// 130), as Python does, instead of std::terminate's abort (detail::sigint_guard explains how).
///
/// Throws: whatever `main` throws; keyboard_interrupt as above; invalid_state_error if an event
/// loop is running on this thread (Python raises RuntimeError).
///
/// Example (a complete program; Ctrl-C during the sleep ends it with status 130):
///
///   #include <asyncio/asyncio.hpp>
///   using namespace std::chrono_literals;
///
///   asyncio::task<int> answer() { co_await asyncio::sleep(10ms); co_return 42; }
///   int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
template <class T>
auto run(task<T> main, loop_options options = {}) -> T {
  runner r(options);
  try {
    return r.run(std::move(main));
  } catch (...) {
    // Python's `finally: runner.close()`. Explicit because an exception nobody catches ends the
    // program in std::terminate without unwinding, so ~runner would not run: the leftover tasks'
    // cleanup must happen before the exception leaves run().
    r.close();
    throw;
  }
}

}  // namespace asyncio
