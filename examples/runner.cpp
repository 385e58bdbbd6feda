// examples/runner.cpp: asyncio::runner (Python 3.11's asyncio.Runner). One event loop runs several
// top-level coroutines one after another: a setup step, then the work, then a report, with a
// background task started by the first run still running in the later ones.
//
// Run: ./runner       (Ctrl-C during a run cancels that run's coroutine, as asyncio::run does)
// Shows:
//   1. runner.run(coro) returns the coroutine's result; the loop stays open between runs
//   2. runner.get_loop(): the same loop in every run (its exception handler, signals, ...)
//   3. a task created in one run keeps running during the next ones (same loop)
//   4. an exception from one run leaves the runner usable
//   5. the destructor (or close()) cancels what is left, runs its cleanup, closes the loop
//
// ctest-expect: setup done: 3 workers
// ctest-expect: heartbeat 1
// ctest-expect: work done: 6
// ctest-expect: report failed: no data
// ctest-expect: same loop in every run: yes
// ctest-expect: heartbeat stopped \(cancelled at close\)
#include <chrono>
#include <iostream>
#include <stdexcept>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

asyncio::task<> heartbeat() {
  struct on_exit {
    ~on_exit() { std::cout << "heartbeat stopped (cancelled at close)\n"; }
  } note;
  for (int beat = 1;; ++beat) {
    co_await asyncio::sleep(15ms);
    std::cout << "heartbeat " << beat << '\n';
  }
}

asyncio::task<int> setup(asyncio::event_loop** loop) {
  *loop = &asyncio::get_running_loop();
  (void)asyncio::create_task(heartbeat());  // lives on the runner's loop after setup returns
  co_await asyncio::sleep(5ms);
  co_return 3;
}

asyncio::task<int> work(int workers) {
  int total = 0;
  for (int i = 1; i <= workers; ++i) {
    co_await asyncio::sleep(10ms);
    total += i;
  }
  co_return total;
}

asyncio::task<int> report(asyncio::event_loop** loop) {
  *loop = &asyncio::get_running_loop();
  co_await asyncio::sleep(1ms);
  throw std::runtime_error("no data");
}

int main() {
  asyncio::runner runner;
  asyncio::event_loop* first = nullptr;
  asyncio::event_loop* last = nullptr;

  int workers = runner.run(setup(&first));
  std::cout << "setup done: " << workers << " workers\n";
  int total = runner.run(work(workers));  // the heartbeat ticks meanwhile
  std::cout << "work done: " << total << '\n';
  try {
    (void)runner.run(report(&last));
  } catch (const std::runtime_error& e) {
    std::cout << "report failed: " << e.what() << '\n';
  }
  bool same = first == &runner.get_loop() && last == &runner.get_loop();
  std::cout << "same loop in every run: " << (same ? "yes" : "no") << '\n';
  runner.close();  // as ~runner would: cancels the heartbeat and waits for its cleanup
}
