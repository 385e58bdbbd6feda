// wrap_future (Python's asyncio.wrap_future): a concurrent_future completed on another loop's
// thread, awaited on this loop as an asyncio future; value, exception, cancellation both ways.
// test-label: threaded
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

/// Runs a loop on its own thread until destroyed.
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
  loop_thread(const loop_thread&) = delete;
  auto operator=(const loop_thread&) -> loop_thread& = delete;
  ~loop_thread() {
    asyncio::event_loop* l = loop;
    l->call_soon_threadsafe([l] { l->stop(); });
    thread.join();
  }
};

auto triple(int x) -> asyncio::task<int> {
  co_await asyncio::sleep(0s);
  co_return 3 * x;
}

auto fail() -> asyncio::task<std::string> {
  co_await asyncio::sleep(0s);
  throw std::runtime_error("failed over there");
}

/// Sleeps for an hour on the other loop; records that it started and that it was cancelled.
auto wait_forever(std::atomic<bool>* cancelled, std::atomic<bool>* started = nullptr) -> asyncio::task<int> {
  if (started) started->store(true);
  try {
    co_await asyncio::sleep(3600s);
  } catch (const asyncio::cancelled_error&) {
    cancelled->store(true);
    throw;
  }
  co_return 0;
}

auto values_main(asyncio::event_loop* other) -> asyncio::task<> {
  asyncio::future<int> f = asyncio::wrap_future(asyncio::run_coroutine_threadsafe(triple(14), *other));
  int v = co_await f;
  EXPECT_EQ(v, 42);

  asyncio::future<std::string> e = asyncio::wrap_future(asyncio::run_coroutine_threadsafe(fail(), *other));
  bool threw = false;
  try {
    (void)co_await e;
  } catch (const std::runtime_error& err) {
    threw = std::string(err.what()) == "failed over there";
  }
  EXPECT_TRUE(threw);

  // Done before it is wrapped: the outcome still arrives through the loop.
  asyncio::concurrent_future<int> done = asyncio::run_coroutine_threadsafe(triple(1), *other);
  EXPECT_EQ(done.result(60s), 3);
  // result() moved the value out of `done` (an int: a copy); wrap a fresh one to see it arrive.
  asyncio::concurrent_future<int> again = asyncio::run_coroutine_threadsafe(triple(2), *other);
  (void)again.wait_for(60s);
  int r = co_await asyncio::wrap_future(again);
  EXPECT_EQ(r, 6);

  // An asyncio future passes through unchanged.
  asyncio::future<int> plain;
  asyncio::future<int> same = asyncio::wrap_future(plain);
  plain.set_result(1);
  EXPECT_TRUE(same.done());
}

TEST(WrapFuture, ValueAndExceptionFromAnotherLoop) {
  loop_thread other;
  run_virtual(values_main(other.loop));
}

auto cancel_main(asyncio::event_loop* other, std::atomic<bool>* remote_cancelled) -> asyncio::task<> {
  // Cancelling the asyncio future cancels the concurrent one and its task on the other loop.
  std::atomic<bool> started{false};
  asyncio::concurrent_future<int> cf = asyncio::run_coroutine_threadsafe(wait_forever(remote_cancelled, &started), *other);
  // A cancel that arrives before the other loop started the coroutine means it never runs (as in
  // Python): wait for the start (blocking this loop is harmless here) so the cancel reaches it.
  for (int i = 0; i < 60'000 && !started.load(); ++i) std::this_thread::sleep_for(1ms);
  asyncio::future<int> f = asyncio::wrap_future(cf);
  auto waiter = asyncio::create_task(asyncio::shield(f));
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(f.cancel());
  bool waiter_cancelled = false;
  try {
    (void)co_await waiter;
  } catch (const asyncio::cancelled_error&) {
    waiter_cancelled = true;
  }
  EXPECT_TRUE(waiter_cancelled);
  co_await asyncio::sleep(0s);  // the done callback that cancels `cf` runs via call_soon
  EXPECT_TRUE(cf.cancelled());
}

TEST(WrapFuture, CancellingTheAsyncioFutureCancelsTheConcurrentOne) {
  std::atomic<bool> remote_cancelled{false};
  {
    loop_thread other;
    run_virtual(cancel_main(other.loop, &remote_cancelled));
    for (int i = 0; i < 60'000 && !remote_cancelled.load(); ++i) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(remote_cancelled.load());
}

auto remote_cancel_main(asyncio::concurrent_future<int> cf) -> asyncio::task<> {
  asyncio::future<int> f = asyncio::wrap_future(cf);
  std::thread canceller([cf]() mutable { (void)cf.cancel(); });
  bool cancelled = false;
  try {
    (void)co_await f;
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  canceller.join();
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(f.cancelled());
}

TEST(WrapFuture, ACancelOfTheConcurrentFutureArrivesAsACancel) {
  std::atomic<bool> remote_cancelled{false};
  loop_thread other;
  asyncio::concurrent_future<int> cf = asyncio::run_coroutine_threadsafe(wait_forever(&remote_cancelled), *other.loop);
  run_virtual(remote_cancel_main(cf));
}

}  // namespace
