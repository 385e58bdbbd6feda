// examples/timeouts.cpp: deadlines the asyncio way (Python 3.11's asyncio.timeout, timeout_at,
// wait_for and shield), and what the caller sees in each case.
//
// Run: ./timeouts [--virtual-clock]
//   --virtual-clock  run on asyncio::testing::virtual_clock: the loop jumps straight to the next
//                    timer when every task waits, so the run is instant and the times exact
// Shows:
//   1. timeout(d, coro): the coroutine runs in this task; at the deadline it is cancelled and the
//      caller gets asyncio::timeout_error (with the cancelled_error nested, Python's `from`)
//   2. timeout(d, [&](timeout_scope& cm) {...}): the `async with timeout(d) as cm:` form; a download
//      that moves its deadline with cm.reschedule() each time it makes progress
//   3. timeout_at(when, ...): one absolute deadline shared by several steps
//   4. wait_for(task, d): on timeout the task is cancelled AND awaited (its cleanup has run) before
//      the caller gets timeout_error
//   5. shield: a write that must finish even when the request that started it times out
//   6. timeout_error or cancelled_error? Only the timeout that fired turns the cancellation into
//      timeout_error; an outer timeout passes through an inner one as cancelled_error, and a plain
//      cancel() of the task stays cancelled_error (Python 3.11's uncancel counting)
//   7. wait_for(ev.wait(), d), wait_for(m.acquire(), d), wait_for(q.get(), d), wait_for(sleep(..), d):
//      the library's awaiters go straight into wait_for/timeout, as in Python; a timed-out wait
//      leaves nothing behind (no waiter queued, no lock held, no item taken)
// Every line starts with the loop time since the start, in ms.
//
// The test runs it on the virtual clock and checks the printed times and outcomes (ctest-expect).
// ctest-args: --virtual-clock
// ctest-expect: t=50 ms +fetch slow: timeout_error \(timed out.*\), caused by cancelled_error
// ctest-expect: t=80 ms +fetch quick: got 'quick'
// ctest-expect: t=180 ms +download: 5 chunks in 100 ms with a 30 ms idle deadline, expired=false
// ctest-expect: t=240 ms +download: stalled, timeout_error after 60 ms, expired=true
// ctest-expect: t=260 ms +step 1 done
// ctest-expect: t=280 ms +step 2 done
// ctest-expect: t=290 ms +steps: timeout_error at the shared deadline, step 3 unfinished
// ctest-expect: t=310 ms +lookup: cancelled, cleaning up
// ctest-expect: t=310 ms +wait_for: timeout_error, and the lookup task is done \(cancelled=true\)
// ctest-expect: t=340 ms +request: timeout_error, the save goes on
// ctest-expect: t=370 ms +save: written
// ctest-expect: t=370 ms +request's save finished: saved 'order 42'
// ctest-expect: t=390 ms +inner body: cancelled_error passes through the inner timeout
// ctest-expect: t=390 ms +outer timeout: timeout_error \(the outer one fired\)
// ctest-expect: t=410 ms +inner timeout: timeout_error caught inside, the outer body goes on
// ctest-expect: t=420 ms +outer body finished, expired=false
// ctest-expect: t=440 ms +worker: cancelled_error \(not timeout_error: the deadline did not fire\)
// ctest-expect: t=470 ms +event: wait_for\(ev.wait\(\), 30ms\) timed out, waiters left=0
// ctest-expect: t=480 ms +event: set after 10 ms, within the limit
// ctest-expect: t=500 ms +lock: wait_for\(m.acquire\(\), 20ms\) timed out, waiters left=0
// ctest-expect: t=520 ms +lock: got the guard when the holder let go \(owns=true\)
// ctest-expect: t=520 ms +lock: the guard released it \(locked=false\)
// ctest-expect: t=530 ms +queue: got 'job' within the limit
// ctest-expect: t=540 ms +sleep: wait_for\(sleep\(1s\), 10ms\) timed out
// ctest-expect: done
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

using namespace std::chrono_literals;

namespace {

asyncio::time_point start;

// Prints `t=<ms since start> ms  <what>`.
void log(const std::string& what) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(asyncio::get_running_loop().time() - start);
  std::printf("t=%lld ms  %s\n", static_cast<long long>(ms.count()), what.c_str());
  std::fflush(stdout);
}

// Some work that takes `d` (timeout(d, asyncio::sleep(x)) works too: see section 7).
auto work(asyncio::duration d) -> asyncio::task<> { co_await asyncio::sleep(d); }

// Stands for a network call that answers after `latency`.
auto fetch(std::string what, asyncio::duration latency) -> asyncio::task<std::string> {
  co_await asyncio::sleep(latency);
  co_return what;
}

// 1. asyncio.timeout(d) around a coroutine.
auto plain_timeout() -> asyncio::task<> {
  try {
    std::string r = co_await asyncio::timeout(50ms, fetch("slow", 200ms));
    log("fetch slow: got '" + r + "' (unexpected)");
  } catch (const asyncio::timeout_error& e) {
    // Python: `raise TimeoutError from exc_val`; here the cancelled_error is nested in it.
    std::string cause = "no cause";
    try {
      std::rethrow_if_nested(e);
    } catch (const asyncio::cancelled_error&) {
      cause = "caused by cancelled_error";
    }
    log(std::string("fetch slow: timeout_error (") + e.what() + "), " + cause);
  }
  std::string r = co_await asyncio::timeout(50ms, fetch("quick", 30ms));  // in time: just the value
  log("fetch quick: got '" + r + "'");
}

// 2. `async with asyncio.timeout(d) as cm:` with cm.reschedule(): an idle timeout. The deadline is
// pushed back after each chunk, so a slow but steady download finishes; a stalled one does not.
auto download(int chunks, asyncio::duration per_chunk, asyncio::duration idle, asyncio::duration stall)
    -> asyncio::task<> {
  auto t0 = asyncio::get_running_loop().time();
  bool expired = false;
  try {
    // The lambda and cm live in timeout's frame (core/timeout.hpp):
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-*coroutine*)
    int received = co_await asyncio::timeout(idle, [&](asyncio::timeout_scope& cm) -> asyncio::task<int> {
      int n = 0;
      for (; n < chunks; ++n) {
        co_await asyncio::sleep(n == chunks - 1 ? stall : per_chunk);
        cm.reschedule(asyncio::get_running_loop().time() + idle);  // progress: move the deadline
        expired = cm.expired();
      }
      co_return n;
    });
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(asyncio::get_running_loop().time() - t0);
    log("download: " + std::to_string(received) + " chunks in " + std::to_string(took.count()) + " ms with a " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(idle).count()) +
        " ms idle deadline, expired=" + (expired ? "true" : "false"));
  } catch (const asyncio::timeout_error&) {
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(asyncio::get_running_loop().time() - t0);
    log("download: stalled, timeout_error after " + std::to_string(took.count()) + " ms, expired=true");
  }
}

// 3. asyncio.timeout_at(when): several steps under one absolute deadline.
auto steps_with_shared_deadline() -> asyncio::task<> {
  auto deadline = asyncio::get_running_loop().time() + 50ms;
  int step = 1;
  try {
    for (; step <= 3; ++step) {
      co_await asyncio::timeout_at(deadline, work(20ms));
      log("step " + std::to_string(step) + " done");
    }
  } catch (const asyncio::timeout_error&) {
    log("steps: timeout_error at the shared deadline, step " + std::to_string(step) + " unfinished");
  }
}

// 4. wait_for(task, d): the task is cancelled and awaited before timeout_error reaches us.
auto lookup() -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1s);
  } catch (const asyncio::cancelled_error&) {
    log("lookup: cancelled, cleaning up");  // runs before wait_for raises in the caller
    throw;                                   // never swallow a cancellation
  }
  co_return 42;
}

auto wait_for_a_task() -> asyncio::task<> {
  auto t = asyncio::create_task(lookup());
  try {
    int r = co_await asyncio::wait_for(t, 20ms);
    log("wait_for: got " + std::to_string(r) + " (unexpected)");
  } catch (const asyncio::timeout_error&) {
    log(std::string("wait_for: timeout_error, and the lookup task is done (cancelled=") +
        (t.done() && t.cancelled() ? "true" : "false") + ")");
  }
}

// 5. shield: the request may time out, the write it started must not be cut in half.
auto save(std::string record) -> asyncio::task<std::string> {
  co_await asyncio::sleep(60ms);  // a write that takes 60 ms
  log("save: written");
  co_return "saved '" + record + "'";
}

auto handle_request(asyncio::task_handle<std::string> saving) -> asyncio::task<> {
  // Python: `await asyncio.wait_for(asyncio.shield(saving), 30ms)`; the shield keeps the timeout's
  // cancellation away from the save.
  co_await asyncio::wait_for(asyncio::shield(saving), 30ms);
  log("request: save confirmed in time (unexpected)");
}

auto shielded_write() -> asyncio::task<> {
  auto saving = asyncio::create_task(save("order 42"));  // we keep the handle: no task is left behind
  try {
    co_await handle_request(saving);
  } catch (const asyncio::timeout_error&) {
    log("request: timeout_error, the save goes on");
  }
  std::string outcome = co_await saving;
  log("request's save finished: " + outcome);
}

// 6. Whose cancellation is it? Nested timeouts, and a cancel() from outside.
auto who_cancelled() -> asyncio::task<> {
  // The outer deadline (20 ms) fires first: the inner timeout (100 ms) sees a cancellation that is
  // not its own and lets it pass unchanged; the outer one turns it into timeout_error.
  try {
    // The scope lives in timeout's frame (core/timeout.hpp):
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
    co_await asyncio::timeout(20ms, [&](asyncio::timeout_scope&) -> asyncio::task<> {
      try {
        co_await asyncio::timeout(100ms, work(1s));
      } catch (const asyncio::timeout_error&) {
        log("inner body: timeout_error (wrong: the inner deadline did not fire)");
      } catch (const asyncio::cancelled_error&) {
        log("inner body: cancelled_error passes through the inner timeout");
        throw;
      }
    });
  } catch (const asyncio::timeout_error&) {
    log("outer timeout: timeout_error (the outer one fired)");
  }

  // The inner deadline (20 ms) fires first: the outer body catches it and carries on.
  // The scope lives in timeout's frame (core/timeout.hpp):
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
  co_await asyncio::timeout(100ms, [&](asyncio::timeout_scope& outer) -> asyncio::task<> {
    try {
      co_await asyncio::timeout(20ms, work(1s));
    } catch (const asyncio::timeout_error&) {
      log("inner timeout: timeout_error caught inside, the outer body goes on");
    }
    co_await asyncio::sleep(10ms);
    log(std::string("outer body finished, expired=") + (outer.expired() ? "true" : "false"));
  });

  // A cancel() from outside while a timeout runs: the caller sees cancelled_error, never
  // timeout_error, because the deadline did not fire.
  auto worker = asyncio::create_task(asyncio::timeout(1s, work(10s)));
  co_await asyncio::sleep(20ms);
  worker.cancel();
  try {
    co_await worker;
  } catch (const asyncio::timeout_error&) {
    log("worker: timeout_error (wrong)");
  } catch (const asyncio::cancelled_error&) {
    log("worker: cancelled_error (not timeout_error: the deadline did not fire)");
  }
}

// 7. The library's awaiters in wait_for, as Python's `await asyncio.wait_for(ev.wait(), 0.03)`.
// Borrows: awaiters_with_limits() awaits the task before `ready` goes:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
auto set_later(asyncio::event& ev, asyncio::duration d) -> asyncio::task<> {
  co_await asyncio::sleep(d);
  ev.set();
}

// Borrows: awaiters_with_limits() awaits the task before `m` goes:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
auto hold(asyncio::lock& m, asyncio::duration d) -> asyncio::task<> {
  auto guard = co_await m.acquire();
  co_await asyncio::sleep(d);
}

// Borrows: awaiters_with_limits() awaits the task before `q` goes:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
auto put_later(asyncio::queue<std::string>& q, asyncio::duration d) -> asyncio::task<> {
  co_await asyncio::sleep(d);
  q.put_nowait("job");
}

auto awaiters_with_limits() -> asyncio::task<> {
  asyncio::event ready;
  try {
    co_await asyncio::wait_for(ready.wait(), 30ms);
  } catch (const asyncio::timeout_error&) {
    log("event: wait_for(ev.wait(), 30ms) timed out, waiters left=" + std::to_string(ready.statistics().waiters));
  }
  auto setter = asyncio::create_task(set_later(ready, 10ms));
  co_await asyncio::wait_for(ready.wait(), 30ms);
  log("event: set after 10 ms, within the limit");

  asyncio::lock m;
  auto holder = asyncio::create_task(hold(m, 40ms));  // eager: holds the lock from now on, for 40 ms
  try {
    auto guard = co_await asyncio::wait_for(m.acquire(), 20ms);
    log("lock: got it (unexpected)");
  } catch (const asyncio::timeout_error&) {
    log("lock: wait_for(m.acquire(), 20ms) timed out, waiters left=" + std::to_string(m.statistics().waiters));
  }
  {
    asyncio::lock::guard guard = co_await asyncio::wait_for(m.acquire(), 50ms);  // a move-only result
    log(std::string("lock: got the guard when the holder let go (owns=") + (guard.owns() ? "true" : "false") + ")");
  }
  log(std::string("lock: the guard released it (locked=") + (m.locked() ? "true" : "false") + ")");

  asyncio::queue<std::string> q;
  auto producer = asyncio::create_task(put_later(q, 10ms));
  std::string job = co_await asyncio::wait_for(q.get(), 30ms);
  log("queue: got '" + job + "' within the limit");

  try {
    co_await asyncio::wait_for(asyncio::sleep(1s), 10ms);
  } catch (const asyncio::timeout_error&) {
    log("sleep: wait_for(sleep(1s), 10ms) timed out");
  }
  co_await setter;
  co_await holder;
  co_await producer;
}

auto amain() -> asyncio::task<int> {
  start = asyncio::get_running_loop().time();
  co_await plain_timeout();
  co_await download(5, 20ms, 30ms, 20ms);  // steady: 20 ms per chunk, deadline 30 ms after the last
  co_await download(3, 10ms, 40ms, 1s);    // the third chunk never comes
  co_await steps_with_shared_deadline();
  co_await wait_for_a_task();
  co_await shielded_write();
  co_await who_cancelled();
  co_await awaiters_with_limits();
  log("done");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool use_virtual_clock = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--virtual-clock") {
      use_virtual_clock = true;
    } else {
      std::fprintf(stderr, "usage: timeouts [--virtual-clock]\n");
      return 2;
    }
  }
  asyncio::testing::virtual_clock clock;
  return asyncio::run(amain(), {.clock = use_virtual_clock ? &clock : nullptr});
}
