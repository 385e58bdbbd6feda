// to_thread / run_in_executor: results and exceptions cross threads, cancellation raises at once
// while the call keeps running, saturation, and the default executor's shutdown deadline.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto add(int a, int b) -> int { return a + b; }

TEST(ToThread, ReturnsTheValueComputedOnAnotherThread) {
  auto main_id = std::this_thread::get_id();
  auto result = asyncio::run([](std::thread::id loop_id) -> asyncio::task<std::pair<int, bool>> {
    int sum = co_await asyncio::to_thread(add, 2, 40);
    auto id = co_await asyncio::to_thread([] { return std::this_thread::get_id(); });
    co_return std::pair{sum, id != loop_id};
  }(main_id));
  EXPECT_EQ(result.first, 42);
  EXPECT_TRUE(result.second);
}

TEST(ToThread, MovesArgumentsAndSupportsVoidAndMoveOnlyResults) {
  auto r = asyncio::run([]() -> asyncio::task<int> {
    auto p = std::make_unique<int>(5);
    auto q = co_await asyncio::to_thread([](std::unique_ptr<int> x) { return std::make_unique<int>(*x * 2); },
                                         std::move(p));
    std::atomic<int> hits{0};
    co_await asyncio::to_thread([&hits] { hits.fetch_add(1); });
    co_return *q + hits.load();
  }());
  EXPECT_EQ(r, 11);
}

// A callable returning a reference gives the awaiter that very object (detail/value_slot.hpp).
TEST(ToThread, ReturnsAReferenceToTheSameObject) {
  static int target = 7;
  bool same = asyncio::run([]() -> asyncio::task<bool> {
    int& r = co_await asyncio::to_thread([]() -> int& { return target; });
    co_return &r == &target && r == 7;
  }());
  EXPECT_TRUE(same);
}

TEST(ToThread, ExceptionReachesTheAwaiter) {
  auto r = asyncio::run([]() -> asyncio::task<std::string> {
    try {
      co_await asyncio::to_thread([]() -> int { throw std::runtime_error("boom on a worker"); });
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  }());
  EXPECT_EQ(r, "boom on a worker");
}

TEST(ToThread, CancelRaisesAtOnceAndTheCallStillFinishes) {
  std::latch release(1);
  std::atomic<bool> finished{false};
  std::atomic<bool> started{false};
  auto pool = std::make_shared<asyncio::thread_pool>(asyncio::thread_pool_options{.threads = 1});
  bool cancelled = asyncio::run([](auto pool, std::latch* release, std::atomic<bool>* started,
                                   std::atomic<bool>* finished) -> asyncio::task<bool> {
    auto job = [release, started, finished] {
      started->store(true);
      release->wait();
      finished->store(true);
      return 7;
    };
    auto t = asyncio::create_task(asyncio::run_in_executor(*pool, job));
    while (!started->load()) co_await asyncio::sleep(1ms);
    t.cancel();
    bool got_cancelled = false;
    try {
      co_await t;
    } catch (const asyncio::cancelled_error&) {
      got_cancelled = true;
    }
    // The awaiter was released while the call is still blocked on the latch.
    EXPECT_FALSE(finished->load());
    release->count_down();
    co_return got_cancelled;
  }(pool, &release, &started, &finished));
  EXPECT_TRUE(cancelled);
  pool->shutdown(true);
  EXPECT_TRUE(finished.load());
}

TEST(ToThread, CancelBeforeTheWorkerStartsSkipsTheCall) {
  auto pool = std::make_shared<asyncio::thread_pool>(asyncio::thread_pool_options{.threads = 1});
  std::latch release(1);
  std::atomic<int> ran{0};
  asyncio::run([](auto pool, std::latch* release, std::atomic<int>* ran) -> asyncio::task<void> {
    auto blocker = asyncio::create_task(asyncio::run_in_executor(*pool, [release] { release->wait(); }));
    auto queued = asyncio::create_task(asyncio::run_in_executor(*pool, [ran] { ran->fetch_add(1); }));
    co_await asyncio::sleep(0s);
    queued.cancel();
    try {
      co_await queued;
    } catch (const asyncio::cancelled_error&) {
    }
    release->count_down();
    co_await blocker;
  }(pool, &release, &ran));
  pool->shutdown(true);
  EXPECT_EQ(ran.load(), 0);
}

TEST(ToThread, ManyCancellationsRacingWithCompletions) {
  // Cancel at every possible moment relative to the worker finishing; TSan/ASan watch the frames.
  auto done = asyncio::run([]() -> asyncio::task<int> {
    int cancelled = 0;
    for (int round = 0; round < 200; ++round) {
      std::vector<asyncio::task_handle<int>> tasks;
      for (int i = 0; i < 8; ++i)
        tasks.push_back(asyncio::create_task(asyncio::to_thread([i] { return i; })));
      if (round % 3 != 0) co_await asyncio::sleep(0s);
      for (std::size_t i = 0; i < tasks.size(); i += 2) tasks[i].cancel();
      for (auto& t : tasks) {
        try {
          (void)co_await t;
        } catch (const asyncio::cancelled_error&) {
          ++cancelled;
        }
      }
    }
    co_return cancelled;
  }());
  EXPECT_GT(done, 0);
}

TEST(ToThread, PoolSaturationMoreJobsThanThreadsAndThanTheRing) {
  auto pool = std::make_shared<asyncio::thread_pool>(
      asyncio::thread_pool_options{.threads = 2, .queue_capacity = 64});
  long total = asyncio::run([](auto pool) -> asyncio::task<long> {
    std::vector<asyncio::task_handle<long>> tasks;
    for (long i = 0; i < 5000; ++i)
      tasks.push_back(asyncio::create_task(asyncio::run_in_executor(*pool, [i] { return i; })));
    long sum = 0;
    for (auto& t : tasks) sum += co_await t;
    co_return sum;
  }(pool));
  EXPECT_EQ(total, 5000L * 4999 / 2);
  // A worker counts a job after handing its result back: wait for the workers before counting.
  pool->shutdown(true);
  EXPECT_EQ(pool->statistics().completed, 5000u);
}

TEST(ToThread, DefaultExecutorShutdownAbandonsAStuckCallAndReports) {
  std::size_t baseline = asyncio::thread_pool::threads_alive();
  std::latch release(1);
  std::latch started(1);
  std::vector<std::string> reports;
  asyncio::run([](std::latch* release, std::latch* started, std::vector<std::string>* reports) -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler(
        [reports](asyncio::event_loop&, const asyncio::exception_context& c) { reports->push_back(c.message); });
    asyncio::set_default_executor(loop, std::make_shared<asyncio::thread_pool>(
                                            asyncio::thread_pool_options{.threads = 1, .shutdown_timeout = 50ms}));
    // Left running: asyncio::run cancels it at exit; the worker stays stuck on the latch.
    auto stuck_call = [release, started] {
      started->count_down();
      release->wait();
    };
    asyncio::create_task(asyncio::to_thread(stuck_call)).detach();
    // Return only once the worker runs the call (a queued call would be cancelled, not abandoned).
    while (!started->try_wait()) co_await asyncio::sleep(1ms);
  }(&release, &started, &reports));
  // run() returned although the call is still blocked: the worker was abandoned and reported.
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("abandoned"), std::string::npos);
  release.count_down();
  // The abandoned worker finishes its call, drops the result and exits by itself.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (asyncio::thread_pool::threads_alive() > baseline && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(asyncio::thread_pool::threads_alive(), baseline);
}

TEST(ToThread, ShutDownExecutorRejectsNewCalls) {
  auto pool = std::make_shared<asyncio::thread_pool>(asyncio::thread_pool_options{.threads = 1});
  pool->shutdown(true);
  bool rejected = asyncio::run([](auto pool) -> asyncio::task<bool> {
    try {
      co_await asyncio::run_in_executor(*pool, [] { return 1; });
    } catch (const asyncio::error&) {
      co_return true;
    }
    co_return false;
  }(pool));
  EXPECT_TRUE(rejected);
}

}  // namespace
