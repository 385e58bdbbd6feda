// asyncio::run (Python's asyncio.run): returns main's result or rethrows its exception; cancels the
// tasks still running and waits for their cleanup before it returns; reports a leftover task's
// non-cancel exception through the loop's exception handler.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;

auto value_after_sleep() -> asyncio::task<int> {
  co_await asyncio::sleep(10ms);
  co_return 42;
}
auto void_main(int* out) -> asyncio::task<> {
  co_await asyncio::sleep(1ms);
  *out = 1;
}
auto move_only_main() -> asyncio::task<std::unique_ptr<std::string>> {
  co_await asyncio::sleep(0s);
  co_return std::make_unique<std::string>("moved");
}

TEST(Run, ReturnsTheResult) {
  asyncio::testing::virtual_clock clk;
  EXPECT_EQ(asyncio::run(value_after_sleep(), {.clock = &clk}), 42);
  EXPECT_EQ(clk.elapsed(), 10ms);
  int out = 0;
  asyncio::run(void_main(&out), {.clock = &clk});
  EXPECT_EQ(out, 1);
  EXPECT_EQ(*asyncio::run(move_only_main()), "moved");
}

TEST(Run, RealClockSleep) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(asyncio::run(value_after_sleep()), 42);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 10ms);
}

auto throws_main() -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  throw std::invalid_argument("main failed");
}
auto cancels_itself() -> asyncio::task<int> {
  asyncio::current_task().cancel("self");
  co_await asyncio::sleep(1ms);
  co_return 0;
}

TEST(Run, RethrowsMainsException) {
  asyncio::testing::virtual_clock clk;
  try {
    asyncio::run(throws_main(), {.clock = &clk});
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "main failed");
  }
  try {
    asyncio::run(cancels_itself(), {.clock = &clk});
    ADD_FAILURE();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "self");
  }
}

struct note_on_destroy {
  log_t* log;
  std::string what;
  ~note_on_destroy() { log->push_back(what); }
};
auto leftover(log_t* log, std::string name) -> asyncio::task<> {
  note_on_destroy guard{log, "~" + name};
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    log->push_back(name + " cancelled");
  }
  co_await asyncio::sleep(5ms);  // cleanup that itself awaits
  log->push_back(name + " cleaned up");
}
auto spawn_leftovers(log_t* log, bool fail) -> asyncio::task<int> {
  asyncio::create_task(leftover(log, "a")).detach();
  auto b = asyncio::create_task(leftover(log, "b"));  // a handle dropped on return
  co_await asyncio::sleep(1ms);
  if (fail) throw std::runtime_error("main failed");
  co_return 7;
}

TEST(Run, CancelsLeftoverTasksAndWaitsForTheirCleanup) {
  log_t log;
  asyncio::testing::virtual_clock clk;
  EXPECT_EQ(asyncio::run(spawn_leftovers(&log, false), {.clock = &clk}), 7);
  // all_tasks() has no order (as in CPython), so check each task's own sequence.
  auto pos = [&](const std::string& s) { return std::find(log.begin(), log.end(), s) - log.begin(); };
  ASSERT_EQ(log.size(), 6u);
  for (std::string n : {"a", "b"}) {
    EXPECT_LT(pos(n + " cancelled"), pos(n + " cleaned up"));
    EXPECT_LT(pos(n + " cleaned up"), pos("~" + n));
    EXPECT_LT(pos("~" + n), 6);
  }
  EXPECT_EQ(clk.elapsed(), 6ms);
}

TEST(Run, CancelsLeftoverTasksWhenMainThrows) {
  log_t log;
  asyncio::testing::virtual_clock clk;
  EXPECT_THROW(asyncio::run(spawn_leftovers(&log, true), {.clock = &clk}), std::runtime_error);
  EXPECT_EQ(log.size(), 6u);
}

auto fails_when_cancelled() -> asyncio::task<> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    throw std::logic_error("cleanup failed");
  }
}
auto report_main(std::vector<asyncio::exception_context>* reports) -> asyncio::task<> {
  asyncio::get_running_loop().set_exception_handler(
      [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx); });
  asyncio::create_task(fails_when_cancelled(), "doomed").detach();
  co_await asyncio::sleep(1ms);
}

TEST(Run, ReportsALeftoverTasksException) {
  std::vector<asyncio::exception_context> reports;
  asyncio::testing::virtual_clock clk;
  asyncio::run(report_main(&reports), {.clock = &clk});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].task_name, "doomed");
  EXPECT_NE(reports[0].message.find("asyncio.run() shutdown"), std::string::npos) << reports[0].message;
  EXPECT_THROW(std::rethrow_exception(reports[0].exception), std::logic_error);
}

auto finishes_later_anyway(log_t* log) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
  }
  co_await asyncio::sleep(30s);
  log->push_back("finished");
  co_return 1;
}
auto stubborn_main(log_t* log) -> asyncio::task<> {
  asyncio::create_task(finishes_later_anyway(log)).detach();
  co_return;
}

TEST(Run, WaitsForATaskThatIgnoresCancellation) {
  log_t log;
  asyncio::testing::virtual_clock clk;
  asyncio::run(stubborn_main(&log), {.clock = &clk});
  EXPECT_EQ(log, (log_t{"finished"}));
  EXPECT_EQ(clk.elapsed(), 30s);
}

auto waits_forever_after_cancel(asyncio::future<int> never) -> asyncio::task<> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
  }
  (void)co_await never;  // nobody will set it: this task cannot finish
}
auto hopeless_main(std::vector<std::string>* reports) -> asyncio::task<> {
  asyncio::get_running_loop().set_exception_handler(
      [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx.message); });
  asyncio::future<int> never;
  // The frame cannot be destroyed while it waits: keep it reachable so the leak checker is quiet.
  static auto* keep = new std::vector<asyncio::task_handle<void>>;
  keep->push_back(asyncio::create_task(waits_forever_after_cancel(never), "hopeless"));
  co_await asyncio::sleep(1ms);
}

// run() installs and removes its Ctrl-C handler; once removed, nothing can wake the loop, so its
// close reports the task instead of blocking forever.
TEST(Run, ReportsATaskThatCannotFinishInsteadOfBlocking) {
  std::vector<std::string> reports;
  asyncio::testing::virtual_clock clk;
  asyncio::run(hopeless_main(&reports), {.clock = &clk});
  EXPECT_EQ(reports, (std::vector<std::string>{"1 task(s) did not finish after cancellation; leaked at close"}));
}

auto loop_identity(asyncio::event_loop** out, bool* debug) -> asyncio::task<> {
  *out = &asyncio::get_running_loop();
  *debug = (*out)->get_debug();
  co_return;
}

TEST(Run, EachRunUsesAFreshLoopAndLeavesNoneRunning) {
  asyncio::event_loop* first = nullptr;
  asyncio::event_loop* second = nullptr;
  bool debug = false;
  asyncio::run(loop_identity(&first, &debug), {.debug = true});
  EXPECT_TRUE(debug);
  asyncio::run(loop_identity(&second, &debug), {.debug = false});
  EXPECT_FALSE(debug);
  EXPECT_NE(first, nullptr);
  EXPECT_THROW((void)asyncio::get_running_loop(), asyncio::error);
}

}  // namespace
