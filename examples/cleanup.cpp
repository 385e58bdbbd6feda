// examples/cleanup.cpp: async cleanup that runs however the work ends (Python's
// `try: ... finally: await ...`), with asyncio::with_cleanup (include/asyncio/core/cleanup.hpp).
//
// Run: ./cleanup
// Shows:
//   1. the work succeeds: the cleanup runs after it, then the caller gets the value
//   2. the work is cancelled from outside (as by Ctrl-C or a task group): the cleanup still runs
//      to the end, shielded from the cancel, then the caller gets cancelled_error
//   3. the cleanup hangs: it is cut off at its deadline and the caller gets timeout_error
// It also follows the two lifetime rules of docs/coroutine_lifetimes.md: coroutine parameters are
// values (std::string, not const std::string&), and no lambda coroutine captures anything.
//
// ctest-expect: 1\. upload report\.csv: 3 chunks
// ctest-expect: 1\. lease on report\.csv released
// ctest-expect: 1\. caller got 3
// ctest-expect: 2\. lease on big\.iso released
// ctest-expect: 2\. caller got cancelled_error after the cleanup
// ctest-expect: 3\. lease on stuck\.bin: cleanup cut off at its deadline
// ctest-expect: 3\. caller got timeout_error
#include <chrono>
#include <cstdio>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

// The work: uploads `chunks` chunks of a file, 5 ms each. Parameters by value: the frame keeps
// its own copy of the name, whoever called it.
auto upload(std::string step, std::string name, int chunks) -> asyncio::task<int> {
  for (int i = 0; i < chunks; ++i) co_await asyncio::sleep(5ms);
  std::printf("%s upload %s: %d chunks\n", step.c_str(), name.c_str(), chunks);
  co_return chunks;
}

// The cleanup: tells the server to drop the lease (takes `d`). If cut off, it says so.
auto release_lease(std::string step, std::string name, asyncio::duration d) -> asyncio::task<> {
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    std::printf("%s lease on %s: cleanup cut off at its deadline\n", step.c_str(), name.c_str());
    throw;
  }
  std::printf("%s lease on %s released\n", step.c_str(), name.c_str());
}

auto amain() -> asyncio::task<int> {
  // 1. Success.
  int n = co_await asyncio::with_cleanup(upload("1.", "report.csv", 3), release_lease("1.", "report.csv", 5ms), 1s);
  std::printf("1. caller got %d\n", n);

  // 2. Cancelled from outside while uploading; the 20 ms cleanup runs to the end regardless.
  auto job = asyncio::create_task(
      asyncio::with_cleanup(upload("2.", "big.iso", 1000), release_lease("2.", "big.iso", 20ms), 1s));
  co_await asyncio::sleep(12ms);
  job.cancel();
  try {
    co_await job;
  } catch (const asyncio::cancelled_error&) {
    std::printf("2. caller got cancelled_error after the cleanup\n");
  }

  // 3. A cleanup that hangs is cut off at its deadline (30 ms here).
  try {
    co_await asyncio::with_cleanup(upload("3.", "stuck.bin", 1), release_lease("3.", "stuck.bin", 1h), 30ms);
  } catch (const asyncio::timeout_error&) {
    std::printf("3. caller got timeout_error\n");
  }
  co_return 0;
}

int main() { return asyncio::run(amain()); }
