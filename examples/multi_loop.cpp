// examples/multi_loop.cpp: the multi-loop runtime. N event loops on N threads (one per core by
// default), work handed from one loop to another, and a plain std::thread that starts coroutines on a
// loop and waits for them.
//
// Run: ./multi_loop [--loops N]     (default 3)
// Shows:
//   1. asyncio::runtime rt({.loops = N}): N loops, each on its own thread named asyncio-loop-<i>;
//      rt.run_on_every_loop(factory) runs one coroutine per loop and collects the results
//   2. co_await asyncio::run_on(rt.loop(i), coro): from a coroutine on one loop, run coro on another
//      loop and await its result (Python: wrap_future(run_coroutine_threadsafe(coro, other_loop)));
//      two hand-offs under gather run in parallel on two loops
//   3. an exception thrown on the other loop comes back to the awaiting coroutine
//   4. asyncio::run_coroutine_threadsafe(coro, loop) from a plain std::thread: a concurrent_future
//      that the thread waits on (result(timeout)), or cancels (the coroutine on the loop then sees
//      cancelled_error and cleans up)
//   5. rt.block_on(i, coro): the same from main(), in one call
// Each line says which thread printed it and on which loop the work ran (runtime::current_index()).
// Tasks never move between loops: every loop-affine object stays on the loop that made it.
//
// The test checks the printed hand-offs (ctest-expect); every wait is bounded.
// ctest-args: --loops 3
// ctest-expect: loop 0 on thread asyncio-loop-0: ready
// ctest-expect: loop 1 on thread asyncio-loop-1: ready
// ctest-expect: loop 2 on thread asyncio-loop-2: ready
// ctest-expect: coordinator on loop 0 \(thread asyncio-loop-0\) hands sum\(1..1000\) to loop 1
// ctest-expect: coordinator got 500500, computed on loop 1 \(thread asyncio-loop-1\)
// ctest-expect: gather over loops 1 and 2: 'squares on loop 1' 'cubes on loop 2'
// ctest-expect: coordinator caught std::runtime_error from loop 2: no such account
// ctest-expect: plain thread \(not a loop: current_index=npos\) got 42 from loop 2
// ctest-expect: plain thread cancelled the slow job: cancelled=true, cleanup on loop 1: yes
// ctest-expect: main: block_on\(0\) returned 'done on loop 0'
// ctest-expect: runtime stopped
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <pthread.h>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

// The calling thread's name: "asyncio-loop-<i>" on the runtime's loops (set by runtime).
auto thread_name() -> std::string {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

// "loop <i>" or "no loop" for the calling thread.
auto where() -> std::string {
  std::size_t i = asyncio::runtime::current_index();
  return i == asyncio::runtime::npos ? std::string("no loop") : "loop " + std::to_string(i);
}

// 1. One coroutine per loop.
auto hello() -> asyncio::task<std::string> {
  co_await asyncio::sleep(1ms);
  co_return where() + " on thread " + thread_name() + ": ready";
}

// 2. Work that a coordinator hands to another loop. It says where it ran.
auto sum_up_to(int n) -> asyncio::task<std::pair<long, std::string>> {
  long sum = 0;
  for (int i = 1; i <= n; ++i) sum += i;
  co_await asyncio::sleep(1ms);  // a real job would do I/O on this loop here
  co_return std::pair{sum, where() + " (thread " + thread_name() + ")"};
}

auto describe_where(std::string what) -> asyncio::task<std::string> {
  co_await asyncio::sleep(5ms);
  co_return what + " on " + where();
}

// 3. A failure on another loop.
auto withdraw(std::string account) -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  throw std::runtime_error("no such account: " + account);
}

auto coordinator(asyncio::runtime* rt) -> asyncio::task<void> {
  std::printf("coordinator on %s (thread %s) hands sum(1..1000) to loop 1\n", where().c_str(),
              thread_name().c_str());
  auto [sum, ran_on] = co_await asyncio::run_on(rt->loop(1), sum_up_to(1000));
  std::printf("coordinator got %ld, computed on %s\n", sum, ran_on.c_str());

  // Two hand-offs at once: run_on returns a task, so gather runs both concurrently.
  auto [a, b] = co_await asyncio::gather(asyncio::run_on(rt->loop(1), describe_where("squares")),
                                         asyncio::run_on(rt->loop(2), describe_where("cubes")));
  std::printf("gather over loops 1 and 2: '%s' '%s'\n", a.c_str(), b.c_str());

  try {
    (void)co_await asyncio::run_on(rt->loop(2), withdraw("acme"));
  } catch (const std::runtime_error& e) {
    std::printf("coordinator caught std::runtime_error from loop 2: %s\n", e.what());
  }
  std::fflush(stdout);
}

// 4. What a plain thread starts on a loop.
auto answer() -> asyncio::task<int> {
  co_await asyncio::sleep(2ms);
  co_return 42;
}

auto slow_job(std::promise<std::string>* cleanup) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    cleanup->set_value(where());  // tell the thread that the cleanup ran, and where
    throw;
  }
  co_return 0;
}

auto nothing() -> asyncio::task<void> { co_return; }

auto finish() -> asyncio::task<std::string> {
  co_await asyncio::sleep(1ms);
  co_return "done on " + where();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t loops = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--loops" && i + 1 < argc) {
      loops = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: multi_loop [--loops N]\n");
      return 2;
    }
  }
  if (loops < 3) {
    std::fprintf(stderr, "multi_loop: needs at least 3 loops\n");
    return 2;
  }

  asyncio::runtime rt({.loops = loops});

  // 1. One task per loop, each on its own thread; the results come back in loop order.
  std::vector<std::string> greetings = rt.run_on_every_loop([](std::size_t) { return hello(); });
  for (const auto& g : greetings) std::printf("%s\n", g.c_str());
  std::fflush(stdout);

  // 2 and 3. A coordinator on loop 0 hands work to loops 1 and 2; block_on waits for it.
  rt.block_on(0, coordinator(&rt));

  // 4. A plain thread talks to the loops through concurrent futures.
  std::thread worker([&rt] {
    asyncio::concurrent_future<int> f = asyncio::run_coroutine_threadsafe(answer(), rt.loop(2));
    int r = f.result(10s);  // blocks this thread (never a loop thread), at most 10 s
    std::printf("plain thread (not a loop: current_index=%s) got %d from loop 2\n",
                asyncio::runtime::current_index() == asyncio::runtime::npos ? "npos" : "?", r);

    std::promise<std::string> cleanup;
    auto cleaned = cleanup.get_future();
    auto slow = asyncio::run_coroutine_threadsafe(slow_job(&cleanup), rt.loop(1));
    // Wait until the job really runs before cancelling it (a job cancelled before it starts never
    // runs at all, so it would have nothing to clean up).
    rt.block_on(1, nothing());  // queued behind the job's start on loop 1
    slow.cancel();
    bool ran = cleaned.wait_for(10s) == std::future_status::ready;
    std::printf("plain thread cancelled the slow job: cancelled=%s, cleanup on %s: %s\n",
                slow.cancelled() ? "true" : "false", ran ? cleaned.get().c_str() : "?", ran ? "yes" : "no");
    std::fflush(stdout);
  });
  worker.join();

  // 5. block_on: start, wait, return the result (or rethrow), from a thread that is not a loop.
  std::string last = rt.block_on(0, finish());
  std::printf("main: block_on(0) returned '%s'\n", last.c_str());

  rt.stop();  // cancels what is left on each loop, closes the loops, joins their threads
  std::printf("runtime stopped\n");
  return 0;
}
