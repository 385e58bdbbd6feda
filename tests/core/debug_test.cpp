// Debug mode (loop.set_debug(true), loop_options::debug or ASYNCIO_DEBUG=1): exceptions nobody
// retrieved (with the task's name and, in debug, where create_task was called), slow steps (with the
// task's name and location), use from the wrong thread. All of them reach the loop's exception
// handler. Coroutines never awaited are reported in and out of debug mode alike:
// tests/core/never_awaited_test.cpp.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

using reports_t = std::vector<asyncio::exception_context>;

void collect_reports(reports_t* reports) {
  asyncio::get_running_loop().set_exception_handler(
      [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx); });
}

auto count_containing(const reports_t& reports, const std::string& text) -> int {
  int n = 0;
  for (const auto& r : reports) n += r.message.find(text) != std::string::npos;
  return n;
}

template <class T>
auto run_virtual(asyncio::task<T> main, bool debug) -> T {
  return asyncio::testing::run_virtual(std::move(main), {.debug = debug});
}

auto fails() -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  throw std::runtime_error("lost");
}
int create_line = 0;
auto unretrieved_main(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  create_line = __LINE__ + 1;
  asyncio::create_task(fails(), "lost-task").detach();
  co_await asyncio::sleep(5ms);
}

TEST(Debug, TaskExceptionNeverRetrievedNamesTheTaskAndWhereItWasCreated) {
  reports_t on;
  run_virtual(unretrieved_main(&on), true);
  ASSERT_EQ(count_containing(on, "Task exception was never retrieved"), 1);
  const auto& r = on[0];
  EXPECT_EQ(r.task_name, "lost-task");
  EXPECT_TRUE(r.has_source);
  EXPECT_EQ(static_cast<int>(r.source.line()), create_line);
  EXPECT_NE(std::string(r.source.file_name()).find("debug_test.cpp"), std::string::npos);
  EXPECT_THROW(std::rethrow_exception(r.exception), std::runtime_error);

  reports_t off;  // reported without debug too, just without the location
  run_virtual(unretrieved_main(&off), false);
  ASSERT_EQ(count_containing(off, "Task exception was never retrieved"), 1);
  EXPECT_EQ(off[0].task_name, "lost-task");
  EXPECT_FALSE(off[0].has_source);
}

auto retrieved_main(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  auto a = asyncio::create_task(fails());
  auto b = asyncio::create_task(fails());
  auto c = asyncio::create_task(fails());
  try {
    (void)co_await a;  // awaited
  } catch (const std::runtime_error&) {
  }
  co_await asyncio::sleep(5ms);
  EXPECT_THROW((void)b.result(), std::runtime_error);  // result() retrieves
  EXPECT_TRUE(c.exception());                          // so does exception()
}

TEST(Debug, RetrievedExceptionsAreNotReported) {
  reports_t reports;
  run_virtual(retrieved_main(&reports), true);
  EXPECT_EQ(reports.size(), 0u);
}

auto future_main(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  {
    asyncio::future<int> f;
    f.set_exception(std::make_exception_ptr(std::runtime_error("lost in a future")));
  }
  {
    asyncio::future<int> g;
    g.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
    EXPECT_TRUE(g.exception());
  }
  co_return;
}

TEST(Debug, FutureExceptionNeverRetrievedIsReported) {
  reports_t reports;
  run_virtual(future_main(&reports), true);
  EXPECT_EQ(count_containing(reports, "Future exception was never retrieved"), 1);
  EXPECT_EQ(reports.size(), 1u);
}

void busy_wait(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}
auto slow_step() -> asyncio::task<> {
  co_await asyncio::sleep(0s);
  busy_wait(5ms);  // real time: the slow-step measure uses the real clock
  co_await asyncio::sleep(0s);
}
int slow_line = 0;
auto slow_main(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  asyncio::get_running_loop().set_slow_callback_duration(1ms);
  slow_line = __LINE__ + 1;
  auto h = asyncio::create_task(slow_step(), "sluggish");
  co_await h;
  asyncio::get_running_loop().call_soon([] { busy_wait(5ms); });
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
}

TEST(Debug, SlowStepsAreReportedWithTheTaskNameAndLocation) {
  reports_t on;
  run_virtual(slow_main(&on), true);
  int tasks = 0;
  for (const auto& r : on) {
    if (r.message.find("Executing task sluggish took") == std::string::npos) continue;
    ++tasks;
    EXPECT_EQ(r.task_name, "sluggish");
    EXPECT_TRUE(r.has_source);
    EXPECT_EQ(static_cast<int>(r.source.line()), slow_line);
  }
  EXPECT_GE(tasks, 1);
  EXPECT_EQ(count_containing(on, "Executing callback took"), 1);

  reports_t off;
  run_virtual(slow_main(&off), false);
  EXPECT_EQ(off.size(), 0u);  // debug off: no measurement at all
}

TEST(Debug, EnvironmentVariableTurnsItOn) {
  ::setenv("ASYNCIO_DEBUG", "1", 1);
  {
    asyncio::event_loop loop;
    EXPECT_TRUE(loop.get_debug());
    asyncio::event_loop explicit_off({.debug = false});  // an explicit option wins
    EXPECT_FALSE(explicit_off.get_debug());
  }
  ::setenv("ASYNCIO_DEBUG", "0", 1);
  {
    asyncio::event_loop loop;
    EXPECT_FALSE(loop.get_debug());
  }
  ::unsetenv("ASYNCIO_DEBUG");
  asyncio::event_loop loop;
  EXPECT_FALSE(loop.get_debug());
  loop.set_debug(true);
  EXPECT_TRUE(loop.get_debug());
}

TEST(Debug, UseFromTheWrongThreadIsReported) {
  asyncio::event_loop loop({.debug = true});
  reports_t reports;
  loop.set_exception_handler([&](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports.push_back(ctx); });
  std::thread other([&] { loop.call_soon([] {}); });  // the owner thread is blocked in join()
  other.join();
  EXPECT_EQ(count_containing(reports, "call_soon_threadsafe"), 1);
  loop.call_soon([] {});  // the right thread: silent
  EXPECT_EQ(reports.size(), 1u);
}

}  // namespace
