// call_soon_threadsafe: the one door into a loop from other threads (many producers, FIFO per
// producer, waking an idle loop, completing a future, cancelling through the returned handle).
// Labelled "threaded": CI runs it under TSan.
// test-label: threaded
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
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

// The returned handle (Python's Handle): cancel() from any thread prevents a call not started yet.
TEST(CallSoonThreadsafe, CancelFromAnotherThreadPreventsTheCall) {
  event_loop loop;
  int ran = 0;
  asyncio::threadsafe_handle first;
  asyncio::threadsafe_handle second;
  std::thread producer([&] {
    first = loop.call_soon_threadsafe([&ran] { ran += 1; });
    second = loop.call_soon_threadsafe([&ran] { ran += 10; });
  });
  producer.join();
  bool cancelled_now = false;
  bool cancelled_twice = true;
  std::thread canceller([&] {
    cancelled_now = first.cancel();
    cancelled_twice = first.cancel();
  });
  canceller.join();
  EXPECT_TRUE(cancelled_now);
  EXPECT_FALSE(cancelled_twice);  // cancelled already
  EXPECT_TRUE(first.cancelled());
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(second.cancel());  // ran already: too late
  EXPECT_FALSE(second.cancelled());
  EXPECT_FALSE(asyncio::threadsafe_handle{}.cancel());  // an empty handle cancels nothing
}

// cancel() racing the loop starting the callback: exactly one wins, every time.
TEST(CallSoonThreadsafe, CancelRacingTheLoopHasOneWinner) {
  event_loop loop;
  constexpr int threads = 4;
  constexpr int per_thread = 5'000;
  std::atomic<int> ran{0};
  std::atomic<int> prevented{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        asyncio::threadsafe_handle h = loop.call_soon_threadsafe([&ran] { ran.fetch_add(1); });
        if (i % 2 == 0 && h.cancel()) prevented.fetch_add(1);
      }
      finished.fetch_add(1);
      loop.call_soon_threadsafe([] {});  // wakes the loop for the check below
    });
  }
  // The loop runs until every producer finished and every call it accepted was handled.
  std::function<void()> check = [&] {
    if (finished.load() == threads && ran.load() + prevented.load() == threads * per_thread) loop.stop();
    else loop.call_later(std::chrono::milliseconds(1), check);
  };
  loop.call_soon(check);
  loop.run_forever();
  for (auto& p : producers) p.join();
  EXPECT_EQ(ran.load() + prevented.load(), threads * per_thread);
  EXPECT_GE(ran.load(), threads * per_thread / 2);  // the odd ones were never cancelled
}

}  // namespace
