#pragma once
// asyncio::testing::run_virtual: asyncio::run on a fresh virtual clock, the one-liner for tests.
//
// Example:
//   TEST(Cache, EntriesExpireAfterAMinute) {
//     asyncio::testing::run_virtual([]() -> asyncio::task<> {
//       cache c(60s);
//       c.put("k", 1);
//       co_await asyncio::sleep(61s);   // instant: the clock jumps when every task waits
//       EXPECT_FALSE(c.get("k"));
//     }());
//   }
#include <utility>

#include <asyncio/core/run.hpp>
#include <asyncio/testing/virtual_clock.hpp>

namespace asyncio::testing {

/// Runs `main` like asyncio::run, on a new autojump virtual_clock that starts at one hour, so that
/// timers, timeouts and sleeps take no real time and the test does not depend on the machine's
/// speed. `options.clock` is replaced by that clock; the other options apply as given.
/// Returns main's result; throws what main throws (see asyncio::run).
/// Thread safety: as asyncio::run (one loop on the calling thread).
template <class T>
auto run_virtual(task<T> main, loop_options options = {}) -> T {
  virtual_clock clock;
  options.clock = &clock;
  return asyncio::run(std::move(main), options);
}

}  // namespace asyncio::testing
