// run_coroutine_threadsafe: plain threads start coroutines on a loop, wait with timeouts, read
// results and exceptions, and cancel; many threads at once.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto twice(int x) -> asyncio::task<int> {
  co_await asyncio::sleep(0s);
  co_return 2 * x;
}

auto fail() -> asyncio::task<int> {
  co_await asyncio::sleep(0s);
  throw std::runtime_error("failed on the loop");
}

/// Runs a loop on its own thread until stop_loop() (a plain-thread test fixture).
struct loop_thread {
  asyncio::event_loop* loop = nullptr;
  std::atomic<bool> ready{false};
  std::thread thread;
  loop_thread() {
    thread = std::thread([this] {
      asyncio::event_loop l;
      loop = &l;
      ready.store(true);
      l.run_forever();
      asyncio::detail::finish_run(l);
    });
    while (!ready.load()) std::this_thread::yield();
  }
  ~loop_thread() {
    asyncio::event_loop* l = loop;
    l->call_soon_threadsafe([l] { l->stop(); });
    thread.join();
  }
};

TEST(RunCoroutineThreadsafe, ResultFromAPlainThread) {
  loop_thread lt;
  auto f = asyncio::run_coroutine_threadsafe(twice(21), *lt.loop);
  EXPECT_EQ(f.result(60s), 42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
}

TEST(RunCoroutineThreadsafe, ExceptionCrossesToTheWaitingThread) {
  loop_thread lt;
  auto f = asyncio::run_coroutine_threadsafe(fail(), *lt.loop);
  EXPECT_THROW(f.result(60s), std::runtime_error);
  EXPECT_NE(f.exception(), nullptr);
}

TEST(RunCoroutineThreadsafe, WaitTimesOutThenCancelCancelsTheTaskOnItsLoop) {
  loop_thread lt;
  std::atomic<bool> started{false};
  std::atomic<bool> cancelled_on_loop{false};
  auto f = asyncio::run_coroutine_threadsafe(
      [](std::atomic<bool>* started, std::atomic<bool>* flag) -> asyncio::task<int> {
        started->store(true);
        try {
          co_await asyncio::sleep(3600s);
        } catch (const asyncio::cancelled_error&) {
          flag->store(true);
          throw;
        }
        co_return 1;
      }(&started, &cancelled_on_loop),
      *lt.loop);
  // Cancel only once the coroutine runs: one cancelled before it started is never run at all, so
  // its cleanup flag would never be set (CancelBeforeItStartsMeansItNeverRuns).
  auto start_deadline = std::chrono::steady_clock::now() + 60s;
  while (!started.load() && std::chrono::steady_clock::now() < start_deadline) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(started.load());
  EXPECT_FALSE(f.wait_for(1ms));
  EXPECT_THROW(f.result(1ms), asyncio::timeout_error);
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_THROW(f.result(), asyncio::cancelled_error);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!cancelled_on_loop.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(cancelled_on_loop.load());
  EXPECT_FALSE(f.cancel());
}

TEST(RunCoroutineThreadsafe, CancelBeforeItStartsMeansItNeverRuns) {
  loop_thread lt;
  std::latch loop_busy(1);
  std::atomic<bool> ran{false};
  // Keep the loop busy so that the coroutine cannot start before the cancel.
  lt.loop->call_soon_threadsafe([&loop_busy] { loop_busy.wait(); });
  auto f = asyncio::run_coroutine_threadsafe(
      [](std::atomic<bool>* ran) -> asyncio::task<int> {
        ran->store(true);
        co_return 1;
      }(&ran),
      *lt.loop);
  EXPECT_TRUE(f.cancel());
  loop_busy.count_down();
  EXPECT_THROW(f.result(), asyncio::cancelled_error);
  // Let the loop take the call and drop it; a call that ran would have set the flag by now.
  auto g = asyncio::run_coroutine_threadsafe([]() -> asyncio::task<int> { co_return 2; }(), *lt.loop);
  EXPECT_EQ(g.result(60s), 2);
  EXPECT_FALSE(ran.load());
}

TEST(RunCoroutineThreadsafe, ManyThreadsAtOnce) {
  loop_thread lt;
  constexpr int threads = 8;
  constexpr int per_thread = 200;
  std::atomic<long> total{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::vector<asyncio::concurrent_future<int>> fs;
      for (int i = 0; i < per_thread; ++i) fs.push_back(asyncio::run_coroutine_threadsafe(twice(t * per_thread + i), *lt.loop));
      for (auto& f : fs) total.fetch_add(f.result(60s));
    });
  }
  for (auto& t : ts) t.join();
  long n = threads * per_thread;
  EXPECT_EQ(total.load(), n * (n - 1));
}

TEST(RunCoroutineThreadsafe, AwaitedTasksOnTheLoopStillWorkWhenCalledFromAnotherLoop) {
  loop_thread lt;
  int r = asyncio::run([](asyncio::event_loop* other) -> asyncio::task<int> {
    // From a coroutine: hand off with run_on rather than blocking on the future.
    co_return co_await asyncio::run_on(*other, twice(5));
  }(lt.loop));
  EXPECT_EQ(r, 10);
}

}  // namespace
