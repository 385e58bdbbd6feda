// with_cleanup: the cleanup runs however the body ends, shielded from cancellation and bounded by
// its deadline, and the outcome follows the rule at the top of core/cleanup.hpp. Virtual clock.
#include <asyncio/core.hpp>
#include <asyncio/core/cleanup.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;

namespace {
using asyncio::testing::run_virtual;
using test_support::fail_after;
using test_support::now;
using test_support::value_after;

// A cleanup that takes `d` and records when it finished (and whether it was cut off).
struct cleanup_log {
  int runs = 0;
  int finished = 0;
  int cut_off = 0;
  asyncio::time_point finished_at{};
};

auto slow_cleanup(cleanup_log* log, asyncio::duration d) -> task<> {
  ++log->runs;
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    ++log->cut_off;
    throw;
  }
  ++log->finished;
  log->finished_at = now();
}

auto failing_cleanup(cleanup_log* log, asyncio::duration d) -> task<> {
  ++log->runs;
  co_await asyncio::sleep(d);
  ++log->finished;
  throw std::logic_error("cleanup failed");
}

auto nap(asyncio::duration d) -> task<> { co_await asyncio::sleep(d); }

auto inner_work(cleanup_log* log) -> task<int> {
  co_return co_await asyncio::with_cleanup(value_after(1s, 1), slow_cleanup(log, 10ms), 1s);
}

// Collects what reaches the loop's exception handler.
auto collect_reports(std::vector<std::string>* messages) -> void {
  asyncio::get_running_loop().set_exception_handler(
      [messages](asyncio::event_loop&, const asyncio::exception_context& c) { messages->push_back(c.message); });
}
}  // namespace

TEST(WithCleanup, BodyValueThenCleanup) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    auto t0 = now();
    int v = co_await asyncio::with_cleanup(value_after(10ms, 7), slow_cleanup(&log, 5ms), 1s);
    EXPECT_EQ(v, 7);
    EXPECT_EQ(log.finished, 1);
    EXPECT_EQ(log.finished_at - t0, 15ms);
    EXPECT_EQ(now() - t0, 15ms);
  }());
}

TEST(WithCleanup, VoidBodyAndCallableCleanup) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    int calls = 0;
    auto cleanup = [&log, &calls] {
      ++calls;
      return slow_cleanup(&log, 1ms);
    };
    co_await asyncio::with_cleanup(nap(2ms), cleanup, 1s);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(log.finished, 1);
  }());
}

TEST(WithCleanup, BodyThrowsCleanupRunsThenRethrows) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    std::vector<std::string> reports;
    collect_reports(&reports);
    EXPECT_THROW(co_await asyncio::with_cleanup(fail_after(3ms), slow_cleanup(&log, 5ms), 1s), std::runtime_error);
    EXPECT_EQ(log.finished, 1);
    EXPECT_TRUE(reports.empty());
  }());
}

TEST(WithCleanup, CancelledBodyCleanupRunsToCompletionDespiteTheCancel) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    bool body_finished = false;
    auto worker = asyncio::create_task(
        asyncio::with_cleanup(value_after(1s, 1, &body_finished), slow_cleanup(&log, 50ms), 1s));
    auto t0 = now();
    co_await asyncio::sleep(10ms);
    worker.cancel();
    co_await asyncio::sleep(20ms);
    EXPECT_FALSE(worker.done());  // still cleaning up: the cancel did not reach the cleanup
    worker.cancel();              // a second cancel during the cleanup: remembered, not delivered
    EXPECT_THROW(co_await asyncio::shield(worker), asyncio::cancelled_error);
    EXPECT_FALSE(body_finished);
    EXPECT_EQ(log.finished, 1);
    EXPECT_EQ(log.cut_off, 0);
    EXPECT_EQ(log.finished_at - t0, 60ms);
    EXPECT_TRUE(worker.cancelled());
    EXPECT_EQ(worker.cancelling(), 2);  // both requests counted, none withdrawn
  }());
}

TEST(WithCleanup, CancelDuringCleanupOfASuccessfulBodyIsNotLost) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    auto worker = asyncio::create_task(asyncio::with_cleanup(value_after(10ms, 1), slow_cleanup(&log, 50ms), 1s));
    co_await asyncio::sleep(20ms);  // the body returned; the cleanup runs
    worker.cancel();
    EXPECT_THROW(co_await asyncio::shield(worker), asyncio::cancelled_error);
    EXPECT_EQ(log.finished, 1);
    EXPECT_EQ(worker.cancelling(), 1);
  }());
}

TEST(WithCleanup, CleanupPastItsDeadlineIsCutOff) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    auto t0 = now();
    // After a value: the cleanup's timeout_error replaces it (a failed cleanup is not silent).
    EXPECT_THROW(co_await asyncio::with_cleanup(value_after(10ms, 1), slow_cleanup(&log, 1h), 30ms),
                 asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 40ms);
    EXPECT_EQ(log.cut_off, 1);
    EXPECT_EQ(log.finished, 0);

    // After a cancellation: cancelled_error wins, the timeout is reported to the handler.
    std::vector<std::string> reports;
    collect_reports(&reports);
    auto worker = asyncio::create_task(asyncio::with_cleanup(value_after(1s, 1), slow_cleanup(&log, 1h), 30ms));
    co_await asyncio::sleep(10ms);
    worker.cancel();
    auto t1 = now();
    EXPECT_THROW(co_await asyncio::shield(worker), asyncio::cancelled_error);
    EXPECT_EQ(now() - t1, 30ms);
    EXPECT_EQ(log.cut_off, 2);
    EXPECT_EQ(reports.size(), 1u);
    EXPECT_TRUE(!reports.empty() && reports[0].find("cancellation") != std::string::npos);
  }());
}

TEST(WithCleanup, CleanupThrowing) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    std::vector<std::string> reports;
    collect_reports(&reports);

    // After a value: the cleanup's exception propagates (Python's finally).
    EXPECT_THROW(co_await asyncio::with_cleanup(value_after(1ms, 1), failing_cleanup(&log, 1ms), 1s),
                 std::logic_error);
    EXPECT_TRUE(reports.empty());

    // After an exception: the cleanup's replaces it; the body's is reported.
    EXPECT_THROW(co_await asyncio::with_cleanup(fail_after(1ms), failing_cleanup(&log, 1ms), 1s), std::logic_error);
    EXPECT_EQ(reports.size(), 1u);
    EXPECT_TRUE(!reports.empty() && reports[0].find("replaced") != std::string::npos);

    // After a cancellation: cancelled_error wins; the cleanup's exception is reported.
    auto worker = asyncio::create_task(asyncio::with_cleanup(value_after(1s, 1), failing_cleanup(&log, 1ms), 1s));
    co_await asyncio::sleep(1ms);
    worker.cancel();
    EXPECT_THROW(co_await asyncio::shield(worker), asyncio::cancelled_error);
    EXPECT_EQ(reports.size(), 2u);
    EXPECT_EQ(log.finished, 3);
  }());
}

TEST(WithCleanup, CallableThrowingCountsAsAFailedCleanup) {
  run_virtual([]() -> task<> {
    auto cleanup = []() -> task<> { throw std::logic_error("no cleanup task"); };
    EXPECT_THROW(co_await asyncio::with_cleanup(value_after(1ms, 1), cleanup, 1s), std::logic_error);
  }());
}

TEST(WithCleanup, Nested) {
  run_virtual([]() -> task<> {
    cleanup_log inner_log;
    cleanup_log outer_log;
    auto worker = asyncio::create_task(asyncio::with_cleanup(inner_work(&inner_log), slow_cleanup(&outer_log, 20ms), 1s));
    auto t0 = now();
    co_await asyncio::sleep(5ms);
    worker.cancel();
    EXPECT_THROW(co_await asyncio::shield(worker), asyncio::cancelled_error);
    // The inner cleanup ran first, then the outer one, each to completion.
    EXPECT_EQ(inner_log.finished_at - t0, 15ms);
    EXPECT_EQ(outer_log.finished_at - t0, 35ms);
    EXPECT_EQ(worker.cancelling(), 1);
  }());
}

TEST(WithCleanup, CancelCountOfTheCallerIsUntouched) {
  run_virtual([]() -> task<> {
    cleanup_log log;
    // Inside a timeout: the deadline's cancel ends the body, the cleanup still runs, and timeout
    // recognises its own cancellation (the count is back to its entry value).
    auto t0 = now();
    EXPECT_THROW(co_await asyncio::timeout(10ms, asyncio::with_cleanup(value_after(1s, 1), slow_cleanup(&log, 5ms), 1s)),
                 asyncio::timeout_error);
    EXPECT_EQ(log.finished, 1);
    EXPECT_EQ(now() - t0, 15ms);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}
