// Debug mode reports a loop-affine object used from the wrong thread (docs/lessons.md §1.1). Each test makes
// the foreign access while the loop's thread is provably not touching the loop (it waits on a latch
// or was joined), so the misuse is reported without being an actual data race.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

auto debug_options() -> asyncio::loop_options {
  asyncio::loop_options o;
  o.debug = true;
  return o;
}

struct report_counter {
  std::atomic<int> wrong_thread{0};
  void install(asyncio::event_loop& loop) {
    loop.set_exception_handler([this](asyncio::event_loop&, const asyncio::exception_context& c) {
      if (c.message.find("Non-thread-safe operation") != std::string::npos) wrong_thread.fetch_add(1);
    });
  }
};

TEST(ThreadCheck, CallSoonFromAnotherThreadIsReportedInDebugMode) {
  asyncio::loop_options debug_on;
  debug_on.debug = true;
  asyncio::event_loop loop(debug_on);
  report_counter reports;
  reports.install(loop);
  std::thread other([&] { loop.call_soon([] {}); });
  other.join();
  EXPECT_EQ(reports.wrong_thread.load(), 1);
  loop.call_soon([] {});  // the owning thread: no report
  EXPECT_EQ(reports.wrong_thread.load(), 1);
}

TEST(ThreadCheck, NothingIsReportedWithDebugOff) {
  asyncio::loop_options debug_off;
  debug_off.debug = false;
  asyncio::event_loop loop(debug_off);
  report_counter reports;
  reports.install(loop);
  std::thread other([&] { loop.call_soon([] {}); });
  other.join();
  EXPECT_EQ(reports.wrong_thread.load(), 0);
}

TEST(ThreadCheck, WakingATaskFromAnotherThreadIsReported) {
  // event.set() from a plain thread: the classic misuse (use call_soon_threadsafe instead).
  report_counter reports;
  bool woke = asyncio::run(
      [](report_counter* reports) -> asyncio::task<bool> {
        auto& loop = asyncio::get_running_loop();
        reports->install(loop);
        asyncio::event ev;
        auto waiter = asyncio::create_task([](asyncio::event* ev) -> asyncio::task<void> { co_await ev->wait(); }(&ev));
        co_await asyncio::sleep(0s);
        std::latch done(1);
        std::thread other([&] {
          ev.set();  // wrong thread, while the loop thread waits on the latch below
          done.count_down();
        });
        done.wait();
        other.join();
        co_await waiter;
        co_return true;
      }(&reports),
      debug_options());
  EXPECT_TRUE(woke);
  EXPECT_GE(reports.wrong_thread.load(), 1);
}

}  // namespace
