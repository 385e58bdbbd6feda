// call_soon_threadsafe: the one door into a loop from other threads (many producers, FIFO per
// producer, waking an idle loop, completing a future). Labelled "threaded": CI runs it under TSan.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::event_loop;

TEST(CallSoonThreadsafe, FromManyThreads) {
  event_loop loop;
  constexpr int threads = 8;
  constexpr int per_thread = 20'000;
  std::vector<int> last(threads, -1);
  int total = 0;
  int out_of_order = 0;
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&loop, &last, &total, &out_of_order, t] {
      for (int i = 0; i < per_thread; ++i) {
        // Runs on the loop thread: plain (non-atomic) state is fine.
        loop.call_soon_threadsafe([&loop, &last, &total, &out_of_order, t, i] {
          if (last[t] != i - 1) ++out_of_order;  // FIFO per producer
          last[t] = i;
          if (++total == threads * per_thread) loop.stop();
        });
      }
    });
  }
  loop.run_forever();
  for (auto& p : producers) p.join();
  EXPECT_EQ(total, threads * per_thread);
  EXPECT_EQ(out_of_order, 0);
}

TEST(CallSoonThreadsafe, WakesAnIdleLoop) {
  event_loop loop;
  std::atomic<bool> started{false};
  loop.call_soon([&] { started = true; });
  std::thread waker([&] {
    while (!started.load()) std::this_thread::yield();
    std::this_thread::sleep_for(20ms);  // the loop is (very likely) blocked in epoll_wait by now
    loop.call_soon_threadsafe([&] { loop.stop(); });
  });
  loop.run_forever();  // no timers, nothing ready: only the eventfd can wake it
  waker.join();
  EXPECT_TRUE(started.load());
}

auto threadsafe_main() -> asyncio::task<int> {
  asyncio::future<int> f;
  asyncio::event_loop& loop = asyncio::get_running_loop();
  std::thread producer([&loop, f]() mutable {
    loop.call_soon_threadsafe([f = std::move(f)]() mutable { f.set_result(99); });
  });
  int v = co_await f;
  producer.join();
  co_return v;
}

TEST(CallSoonThreadsafe, CompletesAFuture) {
  EXPECT_EQ(asyncio::run(threadsafe_main()), 99);
}

auto many_producers_main() -> asyncio::task<int> {
  // Threads complete futures through the loop while tasks await them.
  constexpr int n = 64;
  asyncio::event_loop& loop = asyncio::get_running_loop();
  std::vector<asyncio::future<int>> futures(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&loop, f = futures[i], i]() mutable {
      loop.call_soon_threadsafe([f = std::move(f), i]() mutable { f.set_result(i); });
    });
  }
  int sum = 0;
  for (auto& f : futures) sum += co_await f;
  for (auto& t : threads) t.join();
  co_return sum;
}

TEST(CallSoonThreadsafe, ThreadsCompleteFuturesThatTasksAwait) {
  EXPECT_EQ(asyncio::run(many_producers_main()), 64 * 63 / 2);
}

}  // namespace
