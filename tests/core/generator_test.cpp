// generator<T>: behaviour ported from the async-generator parts of CPython's test_asyncgen.py
// (values, awaits inside, exceptions, aclose on early exit, cancellation), plus to_async/for_each.
#include <asyncio/asyncio.hpp>
#include <asyncio/core/generator.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

struct cleanup {
  std::vector<std::string>* log;
  std::string what;
  ~cleanup() { log->push_back(what); }
};

auto count(int n, std::vector<std::string>* log) -> asyncio::generator<int> {
  cleanup c{log, "cleanup"};
  for (int i = 0; i < n; ++i) {
    co_await asyncio::sleep(1s);
    co_yield i;
  }
  log->push_back("end");
}

auto iterate() -> asyncio::task<void> {
  std::vector<std::string> log;
  std::vector<int> got;
  auto gen = count(3, &log);
  EXPECT_TRUE(log.empty());  // lazy: nothing runs before the first next()
  while (auto v = co_await gen.next()) got.push_back(*v);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(log, (std::vector<std::string>{"end", "cleanup"}));
  EXPECT_TRUE(gen.done());
  EXPECT_FALSE(co_await gen.next());  // finished: stays empty
}
TEST(Generator, YieldsValuesAndAwaitsInside) {
  asyncio::testing::virtual_clock clk;
  asyncio::loop_options o;
  o.clock = &clk;
  asyncio::run(iterate(), o);
  EXPECT_EQ(clk.elapsed(), 3s);
}

auto empty_gen() -> asyncio::generator<int> { co_return; }
auto empty() -> asyncio::task<void> {
  auto gen = empty_gen();
  EXPECT_FALSE(co_await gen.next());
}
TEST(Generator, Empty) { run_virtual(empty()); }

auto thrower() -> asyncio::generator<int> {
  co_yield 1;
  throw std::runtime_error("boom");
}
auto exceptions() -> asyncio::task<void> {
  auto gen = thrower();
  EXPECT_EQ(*(co_await gen.next()), 1);
  bool raised = false;
  try {
    (void)co_await gen.next();
  } catch (const std::runtime_error& e) {
    raised = std::string(e.what()) == "boom";
  }
  EXPECT_TRUE(raised);
  EXPECT_TRUE(gen.done());
  EXPECT_FALSE(co_await gen.next());  // raised once; then finished (StopAsyncIteration)
}
TEST(Generator, ExceptionComesOutOfNextOnce) { run_virtual(exceptions()); }

auto early_break() -> asyncio::task<void> {
  std::vector<std::string> log;
  {
    auto gen = count(10, &log);
    while (auto v = co_await gen.next()) {
      if (*v == 1) break;
    }
    EXPECT_TRUE(log.empty());
  }  // Python's aclose(): the frame is destroyed at its co_yield, destructors run
  EXPECT_EQ(log, (std::vector<std::string>{"cleanup"}));
  auto gen2 = count(10, &log);
  (void)co_await gen2.next();
  gen2.close();
  EXPECT_EQ(log.size(), 2u);
}
TEST(Generator, EarlyExitRunsCleanup) { run_virtual(early_break()); }

auto consume_all(asyncio::generator<int> gen, std::vector<int>* got) -> asyncio::task<void> {
  while (auto v = co_await gen.next()) got->push_back(*v);
}

auto cancelled_consumer() -> asyncio::task<void> {
  std::vector<std::string> log;
  std::vector<int> got;
  auto t = asyncio::create_task(consume_all(count(10, &log), &got));
  co_await asyncio::sleep(2500ms);  // the generator is sleeping inside the consumer task
  t.cancel();
  try {
    co_await t;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  EXPECT_EQ(log, (std::vector<std::string>{"cleanup"}));  // raised inside the generator
}
TEST(Generator, CancellingTheConsumerReachesTheGenerator) { run_virtual(cancelled_consumer()); }

auto catches_cancel(std::vector<std::string>* log) -> asyncio::generator<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    log->push_back("caught");
    throw;
  }
  co_yield 1;
}
auto cancel_seen_inside() -> asyncio::task<void> {
  std::vector<std::string> log;
  std::vector<int> got;
  auto t = asyncio::create_task(consume_all(catches_cancel(&log), &got));
  co_await yield();
  t.cancel("stop");
  try {
    co_await t;
  } catch (const asyncio::cancelled_error& e) {
    log.push_back(e.message());
  }
  EXPECT_EQ(log, (std::vector<std::string>{"caught", "stop"}));
}
TEST(Generator, GeneratorSeesCancellation) { run_virtual(cancel_seen_inside()); }

auto move_only_gen() -> asyncio::generator<std::unique_ptr<int>> {
  for (int i = 0; i < 3; ++i) co_yield std::make_unique<int>(i);
}
auto move_only() -> asyncio::task<void> {
  int sum = 0;
  co_await asyncio::for_each(move_only_gen(), [&sum](std::unique_ptr<int> p) { sum += *p; });
  EXPECT_EQ(sum, 3);
}
TEST(Generator, MoveOnlyValuesAndForEach) { run_virtual(move_only()); }

auto slow_sink(std::vector<int>* out, int v) -> asyncio::task<void> {
  co_await asyncio::sleep(1s);
  out->push_back(v);
}
auto for_each_task() -> asyncio::task<void> {
  std::vector<int> out;
  std::vector<std::string> log;
  co_await asyncio::for_each(count(3, &log), [&out](int v) { return slow_sink(&out, v); });
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
}
TEST(Generator, ForEachAwaitsATaskPerValue) { run_virtual(for_each_task()); }

auto many() -> asyncio::generator<int> {
  for (int i = 0; i < 200000; ++i) co_yield i;
}
auto deep() -> asyncio::task<void> {
  long long sum = 0;
  auto gen = many();
  while (auto v = co_await gen.next()) sum += *v;
  EXPECT_EQ(sum, 200000LL * 199999 / 2);
}
TEST(Generator, ManySynchronousYieldsDoNotGrowTheStack) { run_virtual(deep()); }

// Scenario S1, variant example9 (docs/scenarios.md §1): `async for i in to_aiter(range(3))` starting
// a task per item. The sleep(0s) in to_async lets each task start its write before the next CPU step.
auto writer(std::vector<std::string>* log, int i) -> asyncio::task<void> {
  log->push_back("start " + std::to_string(i));
  co_await asyncio::sleep(1s);
  log->push_back("done " + std::to_string(i));
}
auto seed000_example9() -> asyncio::task<void> {
  std::vector<std::string> log;
  std::vector<asyncio::task_handle<void>> tasks;
  auto gen = asyncio::to_async(std::vector<int>{0, 1, 2});
  while (auto i = co_await gen.next()) {
    log.push_back("cpu " + std::to_string(*i));
    tasks.push_back(asyncio::create_task(writer(&log, *i), asyncio::task_options{.name = {}, .eager = false}));
  }
  for (auto& t : tasks) co_await t;
  EXPECT_EQ(log, (std::vector<std::string>{"cpu 0", "start 0", "cpu 1", "start 1", "cpu 2", "start 2", "done 0",
                                           "done 1", "done 2"}));
}
TEST(Generator, ToAsyncLetsTasksRunBetweenItems) { run_virtual(seed000_example9()); }

}  // namespace
