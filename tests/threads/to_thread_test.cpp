// to_thread / run_in_executor: results and exceptions cross threads, cancellation raises at once
// while the call keeps running, saturation, the default executor's shutdown deadline and size, and
// context values copied into the call.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
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

// ---- the default executor's size: calls that block run together ----------------------------------

// Each call arrives and waits until `expected` calls are inside at once: a call can only return
// true if that many ran concurrently. Bounded: it gives up after 10 s (and returns false) instead
// of hanging when the pool is smaller than promised.
struct rendezvous {
  explicit rendezvous(std::size_t n) : expected(n) {}
  auto arrive() -> bool {
    std::unique_lock lock(mutex);
    peak = std::max(peak, ++inside);
    cv.notify_all();
    bool all = cv.wait_for(lock, 10s, [&] { return peak >= expected; });
    --inside;
    return all;
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t inside = 0;
  std::size_t peak = 0;
  const std::size_t expected;
};

auto offload_blocking_calls(rendezvous* r, std::size_t n) -> asyncio::task<std::size_t> {
  std::vector<asyncio::task_handle<bool>> calls;
  for (std::size_t i = 0; i < n; ++i)
    calls.push_back(asyncio::create_task(asyncio::to_thread([r] { return r->arrive(); })));
  std::size_t together = 0;
  for (auto& c : calls) {
    bool ok = co_await c;
    if (ok) ++together;
  }
  co_return together;
}

TEST(ToThread, DefaultExecutorRunsMinOf32AndCpusPlus4BlockingCallsAtOnce) {
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  std::size_t n = asyncio::default_executor_threads();
  EXPECT_EQ(n, std::min<std::size_t>(32, cpus + 4));
  rendezvous r(n);
  std::size_t size = 0;
  std::size_t together = asyncio::run([](rendezvous* r, std::size_t n, std::size_t* size) -> asyncio::task<std::size_t> {
    auto& pool = dynamic_cast<asyncio::thread_pool&>(asyncio::get_default_executor(asyncio::get_running_loop()));
    *size = pool.size();
    co_return co_await offload_blocking_calls(r, n);
  }(&r, n, &size));
  EXPECT_EQ(size, n);
  EXPECT_EQ(together, n);
  EXPECT_EQ(r.peak, n);
}

TEST(ToThread, FortyBlockingCallsRunAtOnceOnADefaultExecutorOfForty) {
  rendezvous r(40);
  std::size_t together = asyncio::run([](rendezvous* r) -> asyncio::task<std::size_t> {
    asyncio::thread_pool_options options{.threads = 40};
    asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(options));
    co_return co_await offload_blocking_calls(r, 40);
  }(&r));
  EXPECT_EQ(together, 40u);
  EXPECT_EQ(r.peak, 40u);
}

// ---- context values travel to the worker as a copy (Python's to_thread: copy_context) -----------

asyncio::context_var<std::string> g_request("request", "-");

TEST(ToThread, CallSeesACopyOfTheCallersContext) {
  std::string seen = asyncio::run([]() -> asyncio::task<std::string> {
    // One worker: the later calls run on the thread that ran the first one.
    asyncio::thread_pool_options options{.threads = 1};
    auto pool = std::make_shared<asyncio::thread_pool>(options);
    asyncio::set_default_executor(asyncio::get_running_loop(), pool);
    auto token = g_request.set("caller");
    std::string in_worker = co_await asyncio::to_thread([] {
      std::string before = g_request.get();
      g_request.set("worker");  // changes the copy only
      return before + "/" + g_request.get();
    });
    std::string after = g_request.get();  // not "worker": nothing leaks back
    g_request.reset(token);
    // The worker's thread is left as it was: a caller without a value sees the default there.
    std::string unset = co_await asyncio::to_thread([] { return g_request.get(); });
    // run_in_executor copies nothing, as Python's.
    (void)g_request.set("caller again");
    std::string plain = co_await asyncio::run_in_executor(*pool, [] { return g_request.get(); });
    co_return in_worker + " " + after + " " + unset + " " + plain;
  }());
  EXPECT_EQ(seen, "caller/worker caller - -");
}

TEST(ToThread, CallsSeeTheirOwnCallersValues) {
  // Two tasks with different values offload at the same time to two workers.
  std::string seen = asyncio::run([]() -> asyncio::task<std::string> {
    auto one = [](std::string id) -> asyncio::task<std::string> {
      g_request.set(id);
      co_return co_await asyncio::to_thread([] { return g_request.get(); });
    };
    auto a = asyncio::create_task(one("a"));
    auto b = asyncio::create_task(one("b"));
    std::string ra = co_await a;
    std::string rb = co_await b;
    co_return ra + rb + g_request.get();
  }());
  EXPECT_EQ(seen, "ab-");
}

}  // namespace
