// runtime: start/stop, work on every loop, cross-loop hand-off under load and its cancellation.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto where() -> asyncio::task<std::size_t> {
  co_await asyncio::sleep(0s);
  co_return asyncio::runtime::current_index();
}

auto square_on_some_thread(int x) -> asyncio::task<int> {
  auto square = [x] { return x * x; };
  co_return co_await asyncio::to_thread(square);
}

TEST(Runtime, StartsAndStopsItsLoops) {
  for (int round = 0; round < 3; ++round) {
    asyncio::runtime rt({.loops = 3, .executor_threads = 2});
    EXPECT_EQ(rt.size(), 3u);
    EXPECT_EQ(asyncio::runtime::current_index(), asyncio::runtime::npos);
    rt.stop();
    rt.stop();  // idempotent
  }
}

TEST(Runtime, RunsOnEveryLoopAndOnAChosenOne) {
  asyncio::runtime rt({.loops = 2});
  auto ids = rt.run_on_every_loop([](std::size_t) { return where(); });
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], 0u);
  EXPECT_EQ(ids[1], 1u);
  EXPECT_EQ(rt.block_on(1, where()), 1u);
  EXPECT_EQ(rt.block_on(0, square_on_some_thread(9)), 81);
}

TEST(Runtime, LeftoverTasksAreCancelledAtStop) {
  std::atomic<bool> cancelled{false};
  {
    asyncio::runtime rt({.loops = 1});
    auto f = rt.spawn(0, [](std::atomic<bool>* flag) -> asyncio::task<void> {
      try {
        co_await asyncio::sleep(3600s);
      } catch (const asyncio::cancelled_error&) {
        flag->store(true);
        throw;
      }
    }(&cancelled));
    EXPECT_FALSE(f.wait_for(1ms));
  }
  EXPECT_TRUE(cancelled.load());
}

auto hop_chain(asyncio::runtime* rt, int n) -> asyncio::task<long> {
  // Each hop hands a small coroutine to the other loop and awaits its result.
  long sum = 0;
  std::size_t here = asyncio::runtime::current_index();
  std::size_t other = (here + 1) % rt->size();
  for (int i = 0; i < n; ++i) sum += co_await asyncio::run_on(rt->loop(other), square_on_some_thread(i % 10));
  co_return sum;
}

TEST(Runtime, CrossLoopHandOffUnderLoad) {
  asyncio::runtime rt({.loops = 2, .executor_threads = 2});
  // Both loops hand work to each other at the same time, many tasks each.
  auto sums = rt.run_on_every_loop([&rt](std::size_t) -> asyncio::task<long> {
    return [](asyncio::runtime* rt) -> asyncio::task<long> {
      std::vector<asyncio::task_handle<long>> tasks;
      for (int t = 0; t < 50; ++t) tasks.push_back(asyncio::create_task(hop_chain(rt, 40)));
      long total = 0;
      for (auto& t : tasks) total += co_await t;
      co_return total;
    }(&rt);
  });
  long expected_per_chain = 0;
  for (int i = 0; i < 40; ++i) expected_per_chain += (i % 10) * (i % 10);
  for (long s : sums) EXPECT_EQ(s, 50 * expected_per_chain);
}

TEST(Runtime, CancellingAHandOffCancelsTheRemoteTask) {
  asyncio::runtime rt({.loops = 2});
  std::atomic<bool> remote_cancelled{false};
  bool raised = rt.block_on(0, [](asyncio::runtime* rt, std::atomic<bool>* flag) -> asyncio::task<bool> {
    auto remote = [](std::atomic<bool>* flag) -> asyncio::task<int> {
      try {
        co_await asyncio::sleep(3600s);
      } catch (const asyncio::cancelled_error&) {
        flag->store(true);
        throw;
      }
      co_return 0;
    };
    auto t = asyncio::create_task(asyncio::run_on(rt->loop(1), remote(flag)));
    co_await asyncio::sleep(5ms);
    t.cancel();
    try {
      co_await t;
    } catch (const asyncio::cancelled_error&) {
      co_return true;
    }
    co_return false;
  }(&rt, &remote_cancelled));
  EXPECT_TRUE(raised);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!remote_cancelled.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(remote_cancelled.load());
}

TEST(Runtime, ExceptionsCrossLoops) {
  asyncio::runtime rt({.loops = 2});
  bool caught = rt.block_on(0, [](asyncio::runtime* rt) -> asyncio::task<bool> {
    auto thrower = []() -> asyncio::task<int> {
      co_await asyncio::sleep(0s);
      throw std::logic_error("from loop 1");
    };
    try {
      co_await asyncio::run_on(rt->loop(1), thrower());
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }(&rt));
  EXPECT_TRUE(caught);
}

}  // namespace
