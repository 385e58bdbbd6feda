// examples/async_generators.cpp: async generators (`async def` with `yield`, iterated with
// `async for`) and task-local values (Python's contextvars).
//
// Run: ./async_generators [--virtual-clock]
//   --virtual-clock  run on asyncio::testing::virtual_clock (instant, exact times)
// Shows:
//   1. asyncio::generator<T>: co_yield values, co_await inside (a sensor read every 10 ms);
//      `while (auto v = co_await gen.next())` is `async for v in gen:`
//   2. generators chained into a pipeline (a generator that consumes another one)
//   3. leaving early (`break`): the generator is closed (Python's aclose()) and the destructors of
//      its locals run, e.g. an RAII connection; asyncio::for_each(gen, fn) as the one-call loop
//   4. asyncio::to_async(range): a plain range as an async generator that yields to the loop after
//      each element, so a background task runs between the iterations (scenario S1's to_aiter,
//      docs/scenarios.md §1)
//   5. asyncio::context_var: a request id that every coroutine of a task sees without passing it
//      around; create_task copies it into the child; a child's set() is not seen by its parent;
//      two concurrent tasks each see their own value
//
// The test runs it on the virtual clock and checks the output (ctest-expect).
// ctest-args: --virtual-clock
// ctest-expect: t=10 ms +reading 0: 20.0 C
// ctest-expect: t=20 ms +reading 1: 20.5 C
// ctest-expect: t=30 ms +reading 2: 21.0 C
// ctest-expect: t=30 ms +sensor: 3 readings, generator done
// ctest-expect: t=60 ms +alert: 21.0 C
// ctest-expect: t=70 ms +alert: 21.5 C
// ctest-expect: t=70 ms +feed: connection to feed.example opened
// ctest-expect: t=80 ms +line 1: event 1
// ctest-expect: t=90 ms +line 2: event 2
// ctest-expect: t=90 ms +consumer: enough, break
// ctest-expect: t=90 ms +feed: connection to feed.example closed
// ctest-expect: t=90 ms +consumer: after the loop, the generator is closed
// ctest-expect: t=100 ms +for_each: event 1
// ctest-expect: t=100 ms +feed: connection to feed.example closed
// ctest-expect: spinner 0.*item apple.*spinner 1.*item pear.*spinner 2.*item plum
// ctest-expect: request r-1: handling
// ctest-expect: request r-2: handling
// ctest-expect: request r-1: audit child sees r-1
// ctest-expect: request r-1/audit: audit child changed its copy
// ctest-expect: request r-1: the child's value came back as r-1/audit, this task still sees r-1
// ctest-expect: request r-1: finished
// ctest-expect: request r-2: finished
// ctest-expect: outside any request: -
// ctest-expect: done
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

auto celsius(double v) -> std::string {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f C", v);
  return buf;
}

// 1. An async generator: awaits (the sensor's 10 ms sampling period), then yields.
auto sensor(int samples) -> asyncio::generator<double> {
  double temperature = 20.0;
  for (int i = 0; i < samples; ++i) {
    co_await asyncio::sleep(10ms);
    co_yield temperature;
    temperature += 0.5;
  }
}

// 2. A generator that consumes another one: only the readings above a threshold.
auto above(asyncio::generator<double> readings, double threshold) -> asyncio::generator<double> {
  while (auto r = co_await readings.next()) {
    if (*r > threshold) co_yield *r;
  }
}

// 3. A generator that holds a resource. C++ has no `finally` that can co_await; the destructors of
// its locals are the cleanup, and they run when the consumer stops early (the generator is closed).
struct connection {
  std::string host;
  explicit connection(std::string h) : host(std::move(h)) { log("feed: connection to " + host + " opened"); }
  ~connection() { log("feed: connection to " + host + " closed"); }
  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
};

auto feed(std::string host) -> asyncio::generator<std::string> {
  connection conn(host);
  for (int i = 1;; ++i) {  // an endless feed: only the consumer decides when to stop
    co_await asyncio::sleep(10ms);
    co_yield "event " + std::to_string(i);
  }
}

// 4. A background task that runs whenever the loop gets control.
auto spinner(int turns) -> asyncio::task<> {
  for (int i = 0; i < turns; ++i) {
    std::printf("spinner %d\n", i);
    co_await asyncio::sleep(0s);  // yield to the loop
  }
}

// 5. Task-local values.
asyncio::context_var<std::string> request_id("request_id", "-");

void log_request(const std::string& what) {
  std::printf("request %s: %s\n", request_id.get().c_str(), what.c_str());  // no parameter needed
  std::fflush(stdout);
}

auto audit() -> asyncio::task<std::string> {
  log_request("audit child sees " + request_id.get());
  request_id.set(request_id.get() + "/audit");  // changes the child's copy only
  log_request("audit child changed its copy");
  co_await asyncio::sleep(1ms);
  co_return request_id.get();
}

auto handle(std::string id, asyncio::duration work) -> asyncio::task<> {
  auto token = request_id.set(id);
  log_request("handling");
  co_await asyncio::sleep(work);
  if (id == "r-1") {
    auto child = asyncio::create_task(audit());  // starts with a copy of this task's values
    std::string seen_by_child = co_await child;
    log_request("the child's value came back as " + seen_by_child + ", this task still sees " + request_id.get());
  }
  log_request("finished");
  request_id.reset(token);
}

auto amain() -> asyncio::task<int> {
  start = asyncio::get_running_loop().time();

  // 1. async for reading in sensor(3):
  auto readings = sensor(3);
  int n = 0;
  while (auto r = co_await readings.next()) log("reading " + std::to_string(n++) + ": " + celsius(*r));
  log("sensor: " + std::to_string(n) + " readings, generator done");

  // 2. A pipeline: alerts for the readings above 20.7 C.
  auto alerts = above(sensor(4), 20.7);
  while (auto r = co_await alerts.next()) log("alert: " + celsius(*r));

  // 3. Stop early: `break` out of the loop; the generator is closed when `lines` goes out of
  // scope (or call lines.close() at once, Python's `await gen.aclose()`).
  {
    auto lines = feed("feed.example");
    int count = 0;
    while (auto line = co_await lines.next()) {
      log("line " + std::to_string(++count) + ": " + *line);
      if (count == 2) {
        log("consumer: enough, break");
        break;
      }
    }
    lines.close();
    log("consumer: after the loop, the generator is closed");
  }
  // The same loop as one call; throwing from fn stops it, and for_each closes the generator.
  try {
    co_await asyncio::for_each(feed("feed.example"), [](const std::string& line) {
      log("for_each: " + line);
      throw std::runtime_error("stop after the first line");
    });
  } catch (const std::runtime_error&) {
  }

  // 4. to_async: between two items the loop runs the other tasks (here: the spinner).
  auto background = asyncio::create_task(spinner(3));  // eager: prints "spinner 0" right away
  std::vector<std::string> fruit = {"apple", "pear", "plum"};
  co_await asyncio::for_each(asyncio::to_async(fruit), [](const std::string& f) {
    std::printf("item %s\n", f.c_str());
  });
  co_await background;

  // 5. context_var: two requests at once, each with its own id.
  co_await asyncio::gather(handle("r-1", 5ms), handle("r-2", 10ms));
  std::printf("outside any request: %s\n", request_id.get().c_str());
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
      std::fprintf(stderr, "usage: async_generators [--virtual-clock]\n");
      return 2;
    }
  }
  asyncio::testing::virtual_clock clock;
  return asyncio::run(amain(), {.clock = use_virtual_clock ? &clock : nullptr});
}
