// event_loop::set_task_factory (Python's loop.set_task_factory): the factory sees every task created
// on its loop before it starts, may rename it and choose eager or lazy; eager_task_factory,
// lazy_task_factory and create_eager_task_factory map Python 3.12's; a throwing factory is reported.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

auto log_steps(std::vector<std::string>* log, std::string name) -> asyncio::task<int> {
  log->push_back(name + " started");
  co_await asyncio::sleep(0s);
  co_return 1;
}

auto observe_main() -> asyncio::task<> {
  asyncio::event_loop& loop = asyncio::get_running_loop();
  EXPECT_FALSE(loop.get_task_factory());  // none by default (Python: None)
  const std::size_t unfinished = loop.statistics().tasks;
  std::vector<asyncio::any_task> seen;
  loop.set_task_factory([&seen](asyncio::event_loop&, asyncio::task_creation& c) {
    EXPECT_FALSE(c.task.done());
    EXPECT_TRUE(c.eager);  // as create_task asked (the default)
    c.task.set_name("seen-" + c.task.get_name());
    seen.push_back(c.task);
  });
  EXPECT_TRUE(loop.get_task_factory());
  EXPECT_EQ(loop.statistics().tasks, unfinished);  // installing a factory changes no count
  std::vector<std::string> log;
  auto a = asyncio::create_task(log_steps(&log, "a"), "a");
  auto b = loop.create_task(log_steps(&log, "b"), asyncio::task_options{.name = "b"});
  // gather's child tasks are created through the factory too.
  auto both = co_await asyncio::gather(log_steps(&log, "c"), log_steps(&log, "d"));
  EXPECT_EQ(both, std::make_tuple(1, 1));
  (void)co_await a;
  (void)co_await b;
  EXPECT_EQ(seen.size(), 4U);
  if (seen.size() >= 2) {
    EXPECT_EQ(seen[0], a);
    EXPECT_EQ(seen[1], b);
  }
  EXPECT_EQ(a.get_name(), "seen-a");
  EXPECT_EQ(b.get_name(), "seen-b");
  loop.set_task_factory({});  // restores the default
  EXPECT_FALSE(loop.get_task_factory());
}

TEST(TaskFactory, SeesEveryTaskBeforeItStarts) { run_virtual(observe_main()); }

auto eager_lazy_main() -> asyncio::task<> {
  asyncio::event_loop& loop = asyncio::get_running_loop();
  std::vector<std::string> log;
  loop.set_task_factory(asyncio::lazy_task_factory);
  auto lazy = asyncio::create_task(log_steps(&log, "lazy"));
  EXPECT_TRUE(log.empty());  // scheduled, as Python's default loop does
  (void)co_await lazy;
  EXPECT_EQ(log, (std::vector<std::string>{"lazy started"}));

  log.clear();
  loop.set_task_factory(asyncio::eager_task_factory);
  auto eager = asyncio::create_task(log_steps(&log, "eager"), asyncio::task_options{.eager = false});
  EXPECT_EQ(log, (std::vector<std::string>{"eager started"}));  // eager even though asked lazy
  (void)co_await eager;

  log.clear();
  int custom_calls = 0;
  loop.set_task_factory(asyncio::create_eager_task_factory([&custom_calls](asyncio::event_loop&, asyncio::task_creation& c) {
    ++custom_calls;
    c.eager = false;  // overridden: the factory made by create_eager_task_factory is eager
  }));
  auto custom = asyncio::create_task(log_steps(&log, "custom"));
  EXPECT_EQ(custom_calls, 1);
  EXPECT_EQ(log, (std::vector<std::string>{"custom started"}));
  (void)co_await custom;
  loop.set_task_factory({});
}

TEST(TaskFactory, EagerAndLazyFactories) { run_virtual(eager_lazy_main()); }

auto throwing_factory_main(std::vector<std::string>* reports) -> asyncio::task<> {
  asyncio::event_loop& loop = asyncio::get_running_loop();
  loop.set_exception_handler([reports](asyncio::event_loop&, const asyncio::exception_context& ctx) {
    reports->push_back(ctx.message + " / " + ctx.task_name);
  });
  loop.set_task_factory([](asyncio::event_loop&, asyncio::task_creation&) { throw std::runtime_error("factory"); });
  std::vector<std::string> log;
  auto t = asyncio::create_task(log_steps(&log, "t"), "t");
  EXPECT_EQ(log, (std::vector<std::string>{"t started"}));  // started as it would have
  int r = co_await t;
  EXPECT_EQ(r, 1);
  loop.set_task_factory({});
}

TEST(TaskFactory, AThrowingFactoryIsReported) {
  std::vector<std::string> reports;
  run_virtual(throwing_factory_main(&reports));
  EXPECT_EQ(reports, (std::vector<std::string>{"Exception in the task factory / t"}));
}

// With a factory installed the eager nesting limit still holds (start_task schedules past it).
auto nest(int n) -> asyncio::task<int> {
  if (n == 0) co_return 0;
  auto inner = asyncio::create_task(nest(n - 1));
  int below = co_await inner;
  co_return below + 1;
}

auto nesting_main() -> asyncio::task<int> {
  asyncio::get_running_loop().set_task_factory(asyncio::eager_task_factory);
  int depth = co_await nest(500);
  asyncio::get_running_loop().set_task_factory({});
  co_return depth;
}

TEST(TaskFactory, EagerNestingLimitStillHolds) { EXPECT_EQ(run_virtual(nesting_main()), 500); }

}  // namespace
