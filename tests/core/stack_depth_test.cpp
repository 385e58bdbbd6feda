// Stack depth (docs/toolchain.md §2): chains of synchronously completing awaits and
// deep recursion must not overflow the stack, whatever the compiler does with tail calls. This file
// is always compiled at -O0 (tests/CMakeLists.txt), where g++ and the sanitizers do not turn
// symmetric transfer into tail calls; the loop's inline budget must bound the stack instead.
//
// N is 10,000,000 in plain builds. Sanitized -O0 builds cost about 1 us per await, so they use
// 1,000,000 unless ASYNCIO_STACK_DEPTH_N says otherwise.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include "support/sanitizers.hpp"

#include <cstdlib>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto loop_count() -> long {
  if (const char* v = std::getenv("ASYNCIO_STACK_DEPTH_N")) return std::atol(v);
  return ASYNCIO_TEST_SANITIZED ? 1'000'000 : 10'000'000;
}

using asyncio::testing::run_virtual;

auto leaf(long i) -> asyncio::task<long> { co_return i & 1; }
auto sync_loop(long n) -> asyncio::task<long> {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await leaf(i);
  co_return sum;
}

TEST(StackDepth, LoopOfSynchronouslyCompletingAwaits) {
  long n = loop_count();
  EXPECT_EQ(run_virtual(sync_loop(n)), n / 2);
}

auto void_leaf() -> asyncio::task<> { co_return; }
auto middle(long i) -> asyncio::task<long> {
  co_await void_leaf();
  co_return co_await leaf(i);
}
auto nested_sync_loop(long n) -> asyncio::task<long> {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await middle(i);
  co_return sum;
}

TEST(StackDepth, LoopOfNestedSynchronousAwaits) {
  long n = loop_count() / 4;
  EXPECT_EQ(run_virtual(nested_sync_loop(n)), n / 2);
}

auto recurse(int n) -> asyncio::task<long> {
  if (n == 0) co_return 0;
  co_return co_await recurse(n - 1) + 1;
}

TEST(StackDepth, Recursion100kDeep) { EXPECT_EQ(run_virtual(recurse(100'000)), 100'000); }

auto recurse_then_sleep(int n) -> asyncio::task<long> {
  if (n == 0) {
    co_await asyncio::sleep(1ms);  // the whole chain suspends at the bottom, then unwinds
    co_return 0;
  }
  co_return co_await recurse_then_sleep(n - 1) + 1;
}

TEST(StackDepth, Recursion100kDeepSuspendingAtTheBottom) {
  EXPECT_EQ(run_virtual(recurse_then_sleep(100'000)), 100'000);
}

auto recurse_throw(int n) -> asyncio::task<long> {
  if (n == 0) throw std::runtime_error("bottom");
  co_return co_await recurse_throw(n - 1) + 1;
}
auto catch_bottom() -> asyncio::task<bool> {
  try {
    (void)co_await recurse_throw(100'000);
  } catch (const std::runtime_error&) {
    co_return true;
  }
  co_return false;
}

TEST(StackDepth, ExceptionThrough100kFrames) { EXPECT_TRUE(run_virtual(catch_bottom())); }

auto recurse_cancelled(int n) -> asyncio::task<long> {
  if (n == 0) {
    co_await asyncio::sleep(1h);
    co_return 0;
  }
  co_return co_await recurse_cancelled(n - 1) + 1;
}
auto cancel_deep_chain() -> asyncio::task<bool> {
  auto h = asyncio::create_task(recurse_cancelled(100'000));
  co_await asyncio::sleep(1ms);
  h.cancel();
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
    co_return h.cancelled();
  }
  co_return false;
}

TEST(StackDepth, CancellationThrough100kFrames) { EXPECT_TRUE(run_virtual(cancel_deep_chain())); }

auto create_recursively(int n) -> asyncio::task<long> {
  if (n == 0) co_return 0;
  // Eager starts nest on the C++ stack; past a bounded depth they are scheduled instead.
  co_return co_await asyncio::create_task(create_recursively(n - 1)) + 1;
}

TEST(StackDepth, EagerCreateTaskRecursion100kDeep) { EXPECT_EQ(run_virtual(create_recursively(100'000)), 100'000); }

auto first_link() -> asyncio::task<long> {
  co_await asyncio::sleep(1ms);
  co_return 0;
}
auto next_link(asyncio::task_handle<long> previous) -> asyncio::task<long> { co_return co_await previous + 1; }
auto hand_over_chain(int n) -> asyncio::task<long> {
  // Each task awaits the previous one; when the first finishes, each finishing task hands over to
  // its waiter directly (symmetric transfer), 100,000 times in a row.
  std::vector<asyncio::task_handle<long>> chain;
  chain.reserve(n);
  chain.push_back(asyncio::create_task(first_link()));
  for (int i = 1; i < n; ++i) chain.push_back(asyncio::create_task(next_link(chain.back())));
  co_return co_await chain.back();
}

TEST(StackDepth, HandOverChainOf100kTasks) { EXPECT_EQ(run_virtual(hand_over_chain(100'000)), 99'999); }

}  // namespace
