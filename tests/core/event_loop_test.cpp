// event_loop: call_soon / call_later / call_at ordering, handles, stop / run_forever /
// run_until_complete / close and their errors, the exception handler, fairness, and timers at scale
// (ported from CPython's test_base_events.py and test_events.py where they apply). Cross-thread
// calls are in call_soon_threadsafe_test.cpp (run under TSan).
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::event_loop;
using asyncio::testing::virtual_clock;

auto ms_since(event_loop& loop, asyncio::time_point t0) -> long {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(loop.time() - t0).count());
}

// ---- call_soon -----------------------------------------------------------------------------------

TEST(EventLoop, CallSoonRunsInFifoOrder) {
  event_loop loop;
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
}

TEST(EventLoop, CallSoonPassesArguments) {
  event_loop loop;
  std::vector<int> out;
  loop.call_soon([](int a, int b, std::vector<int>* o) { o->push_back(a + b); }, 1, 2, &out);
  loop.call_soon([](std::string s, std::vector<int>* o) { o->push_back(static_cast<int>(s.size())); },
                 std::string("four"), &out);
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(out, (std::vector<int>{3, 4}));
}

TEST(EventLoop, CallbacksScheduledByCallbacksRunLater) {
  event_loop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("a");
    loop.call_soon([&] { order.push_back("c"); });
  });
  loop.call_soon([&] { order.push_back("b"); });
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(EventLoop, HandleCancelPreventsTheCallback) {
  event_loop loop;
  int ran = 0;
  asyncio::handle h = loop.call_soon([&] { ++ran; });
  asyncio::handle kept = loop.call_soon([&] { ++ran; });
  EXPECT_FALSE(h.cancelled());
  h.cancel();
  EXPECT_TRUE(h.cancelled());
  h.cancel();  // idempotent
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, 1);
  kept.cancel();  // after it ran: no effect
  EXPECT_TRUE(kept.cancelled());
  EXPECT_EQ(ran, 1);
}

TEST(EventLoop, ACallbackMayCancelItsOwnHandle) {
  // Cancelling drops the callable; doing that while it runs must not destroy its captures under it.
  event_loop loop;
  asyncio::handle soon;
  asyncio::timer_handle later;
  std::string seen;
  auto big = std::make_shared<std::string>("captured state");
  soon = loop.call_soon([&, big] {
    soon.cancel();
    seen += *big;  // the capture is still alive
  });
  later = loop.call_later(1ms, [&, big] {
    later.cancel();
    seen += "|" + *big;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(seen, "captured state|captured state");
}

// ---- timers --------------------------------------------------------------------------------------

TEST(EventLoop, CallLaterOrdersByDeadlineThenInsertion) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  auto t0 = loop.time();
  std::vector<std::pair<int, long>> fired;
  int delays[] = {30, 10, 20, 10, 0, -5};
  for (int i = 0; i < 6; ++i) {
    loop.call_later(std::chrono::milliseconds(delays[i]), [&, i] { fired.emplace_back(i, ms_since(loop, t0)); });
  }
  loop.call_later(100ms, [&] { loop.stop(); });
  loop.run_forever();
  // Negative and zero delays are due at once (CPython test_call_later_negative_delays).
  EXPECT_EQ(fired, (std::vector<std::pair<int, long>>{{5, 0}, {4, 0}, {1, 10}, {3, 10}, {2, 20}, {0, 30}}));
  EXPECT_EQ(clk.elapsed(), 100ms);
}

TEST(EventLoop, CallAtUsesTheLoopClock) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  auto t0 = loop.time();
  std::vector<std::pair<int, long>> fired;
  asyncio::timer_handle h = loop.call_at(t0 + 50ms, [&] { fired.emplace_back(1, ms_since(loop, t0)); });
  EXPECT_EQ(h.when(), t0 + 50ms);
  loop.call_at(t0 - 1h, [&] { fired.emplace_back(0, ms_since(loop, t0)); });  // in the past: next iteration
  loop.call_at(t0 + 50ms, [&] { fired.emplace_back(2, ms_since(loop, t0)); });
  loop.call_at(t0 + 60ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(fired, (std::vector<std::pair<int, long>>{{0, 0}, {1, 50}, {2, 50}}));
}

TEST(EventLoop, TimerHandleCancel) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  int ran = 0;
  auto a = loop.call_later(10ms, [&] { ++ran; });
  auto b = loop.call_later(20ms, [&] { ran += 10; });
  EXPECT_EQ(loop.statistics().timers, 2u);
  a.cancel();
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(loop.statistics().timers, 1u);
  a.cancel();
  loop.call_later(30ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, 10);
  b.cancel();  // already fired: harmless
  EXPECT_EQ(loop.statistics().timers, 0u);
}

TEST(EventLoop, TimerHandleOutlivesTheLoop) {
  asyncio::timer_handle kept;
  asyncio::timer_handle cancelled_after_close;
  {
    event_loop loop;
    kept = loop.call_later(1h, [] {});
    cancelled_after_close = loop.call_later(1h, [] {});
    loop.close();
    cancelled_after_close.cancel();  // the timer is gone with the closed loop: a no-op
    EXPECT_TRUE(cancelled_after_close.cancelled());
  }
  kept.cancel();  // the loop is destroyed: still a no-op
  EXPECT_TRUE(kept.cancelled());
}

TEST(EventLoop, OneMillionTimersWithRandomDeadlinesFireInOrder) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  constexpr int n = 1'000'000;
  struct context {
    event_loop* loop;
    std::vector<std::int64_t> deadline;
    std::vector<int> fired;
    int late = 0;
  } ctx{&loop, std::vector<std::int64_t>(n), {}, 0};
  ctx.fired.reserve(n);
  std::mt19937 rng(12345);
  auto t0 = loop.time();
  for (int i = 0; i < n; ++i) {
    auto when = t0 + std::chrono::microseconds(rng() % 1'000'000);  // many ties
    ctx.deadline[i] = when.time_since_epoch().count();
    loop.call_at(when, [c = &ctx, i] {
      if (c->loop->time().time_since_epoch().count() != c->deadline[i]) ++c->late;
      c->fired.push_back(i);
    });
  }
  EXPECT_EQ(loop.statistics().timers, static_cast<std::size_t>(n));
  loop.call_at(t0 + 2s, [&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(ctx.fired.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(ctx.late, 0);  // the virtual clock lands exactly on each deadline
  int out_of_order = 0;
  for (int k = 1; k < n; ++k) {
    int a = ctx.fired[k - 1];
    int b = ctx.fired[k];
    bool ok = ctx.deadline[a] < ctx.deadline[b] || (ctx.deadline[a] == ctx.deadline[b] && a < b);
    out_of_order += !ok;
  }
  EXPECT_EQ(out_of_order, 0);
}

TEST(EventLoop, TimersCancelledEnMasse) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  constexpr int n = 200'000;
  std::vector<asyncio::timer_handle> handles;
  handles.reserve(n);
  std::vector<int> fired;
  std::mt19937 rng(7);
  auto t0 = loop.time();
  for (int i = 0; i < n; ++i)
    handles.push_back(loop.call_at(t0 + std::chrono::milliseconds(rng() % 10'000), [&fired, i] { fired.push_back(i); }));
  std::vector<bool> keep(n);
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    keep[i] = rng() % 20 == 0;
    if (keep[i]) ++kept;
    else handles[i].cancel();
  }
  EXPECT_EQ(loop.statistics().timers, static_cast<std::size_t>(kept));
  loop.call_at(t0 + 20s, [&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(fired.size(), static_cast<std::size_t>(kept));
  for (int i : fired) EXPECT_TRUE(keep[i]);
  for (std::size_t k = 1; k < fired.size(); ++k)
    EXPECT_LE(handles[fired[k - 1]].when(), handles[fired[k]].when());
}

// ---- stop / run_forever / run_until_complete / close ---------------------------------------------

TEST(EventLoop, StopFinishesTheCurrentBatchOnly) {
  // Python: "If stop() is called while run_forever() is running, this will run the current batch
  // of callbacks and then exit. New callbacks scheduled by callbacks will not run in this case;
  // they will run the next time run_forever() is called."
  event_loop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("stop");
    loop.stop();
    loop.call_soon([&] { order.push_back("next run"); });
  });
  loop.call_soon([&] { order.push_back("same batch"); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"stop", "same batch"}));
  EXPECT_FALSE(loop.is_running());
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"stop", "same batch", "next run"}));
}

TEST(EventLoop, StopBeforeRunForeverRunsOneIteration) {
  event_loop loop;
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(ran, 1);
}

auto answer() -> asyncio::task<int> {
  co_await asyncio::sleep(5ms);
  co_return 42;
}
auto fail_after_sleep() -> asyncio::task<int> {
  co_await asyncio::sleep(5ms);
  throw std::runtime_error("failed");
}

TEST(EventLoop, RunUntilCompleteReturnsOrRethrows) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  EXPECT_EQ(loop.run_until_complete(answer()), 42);
  EXPECT_THROW(loop.run_until_complete(fail_after_sleep()), std::runtime_error);
  EXPECT_EQ(loop.run_until_complete(answer()), 42);  // reusable
  EXPECT_FALSE(loop.is_running());
  loop.close();
}

auto stops_its_loop() -> asyncio::task<int> {
  asyncio::get_running_loop().stop();
  co_await asyncio::sleep(1h);
  co_return 1;
}

TEST(EventLoop, RunUntilCompleteStoppedEarly) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  EXPECT_THROW(loop.run_until_complete(stops_its_loop()), asyncio::error);
  EXPECT_EQ(loop.statistics().tasks, 1u);
  loop.close();  // cancels the unfinished task
  EXPECT_EQ(loop.statistics().tasks, 0u);
}

struct destroy_flag {
  bool* flag;
  explicit destroy_flag(bool* f) : flag(f) {}
  destroy_flag(destroy_flag&& o) noexcept : flag(std::exchange(o.flag, nullptr)) {}
  ~destroy_flag() {
    if (flag) *flag = true;
  }
};
auto marks(bool* ran, destroy_flag) -> asyncio::task<int> {
  *ran = true;
  co_return 1;
}

TEST(EventLoop, ClosedLoopRefusesWork) {
  event_loop loop;
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  loop.close();  // again: a no-op
  EXPECT_THROW(loop.call_soon([] {}), asyncio::error);
  EXPECT_THROW(loop.call_later(1ms, [] {}), asyncio::error);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), asyncio::error);
  EXPECT_THROW(loop.run_forever(), asyncio::error);
  bool ran = false;
  bool destroyed = false;
  EXPECT_THROW(loop.run_until_complete(marks(&ran, destroy_flag(&destroyed))), asyncio::error);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(destroyed);  // the coroutine frame was freed, not left in the closed loop
  EXPECT_EQ(loop.statistics().tasks, 0u);
}

auto nested_runs(event_loop* other) -> asyncio::task<> {
  event_loop& loop = asyncio::get_running_loop();
  EXPECT_TRUE(loop.is_running());
  EXPECT_THROW(loop.run_forever(), asyncio::error);
  EXPECT_THROW(loop.close(), asyncio::error);
  bool ran = false;
  bool destroyed = false;
  EXPECT_THROW(loop.run_until_complete(marks(&ran, destroy_flag(&destroyed))), asyncio::error);
  EXPECT_THROW(other->run_until_complete(marks(&ran, destroy_flag(&destroyed))), asyncio::error);
  EXPECT_THROW(other->run_forever(), asyncio::error);
  EXPECT_THROW(asyncio::run(marks(&ran, destroy_flag(&destroyed))), asyncio::error);
  co_await asyncio::sleep(1ms);
  EXPECT_FALSE(ran);  // none of the refused coroutines ran, now or later
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(loop.statistics().tasks, 1u);
  EXPECT_EQ(other->statistics().tasks, 0u);
}

TEST(EventLoop, NestedRunsAreRefused) {
  event_loop other;
  asyncio::run(nested_runs(&other));
}

TEST(EventLoop, IsRunningAndIsClosed) {
  event_loop loop;
  EXPECT_FALSE(loop.is_running());
  EXPECT_FALSE(loop.is_closed());
  bool running_inside = false;
  loop.call_soon([&] {
    running_inside = loop.is_running() && &asyncio::get_running_loop() == &loop;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_TRUE(running_inside);
  EXPECT_FALSE(loop.is_running());
  EXPECT_THROW((void)asyncio::get_running_loop(), asyncio::error);
  loop.close();
  EXPECT_TRUE(loop.is_closed());
}

auto sleeper_with_cleanup(int* cleaned) -> asyncio::task<> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    ++*cleaned;
    throw;
  }
}
auto spawn_and_return(int* cleaned) -> asyncio::task<> {
  asyncio::create_task(sleeper_with_cleanup(cleaned)).detach();
  asyncio::create_task(sleeper_with_cleanup(cleaned)).detach();
  co_return;
}

TEST(EventLoop, CloseCancelsAndFinishesLeftoverTasks) {
  virtual_clock clk;
  int cleaned = 0;
  {
    event_loop loop({.clock = &clk});
    loop.run_until_complete(spawn_and_return(&cleaned));
    EXPECT_EQ(loop.statistics().tasks, 2u);
    loop.close();
    EXPECT_EQ(cleaned, 2);
    EXPECT_EQ(loop.statistics().tasks, 0u);
  }
  event_loop destroyed_without_close({.clock = &clk});
  destroyed_without_close.run_until_complete(spawn_and_return(&cleaned));
  destroyed_without_close.~event_loop();
  EXPECT_EQ(cleaned, 4);
  new (&destroyed_without_close) event_loop({.clock = &clk});
}

// ---- exception handler ---------------------------------------------------------------------------

TEST(EventLoop, ExceptionHandlerReceivesCallbackExceptions) {
  event_loop loop;
  std::vector<std::string> messages;
  std::vector<std::string> whats;
  loop.set_exception_handler([&](event_loop& l, const asyncio::exception_context& ctx) {
    EXPECT_EQ(&l, &loop);
    messages.push_back(ctx.message);
    try {
      std::rethrow_exception(ctx.exception);
    } catch (const std::exception& e) {
      whats.push_back(e.what());
    }
  });
  loop.call_soon([] { throw std::runtime_error("soon"); });
  loop.call_later(1ms, [] { throw std::logic_error("later"); });
  int after = 0;
  loop.call_later(2ms, [&] {
    ++after;  // the loop keeps going after a failing callback
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(after, 1);
  EXPECT_EQ(messages, (std::vector<std::string>{"Exception in callback", "Exception in callback"}));
  EXPECT_EQ(whats, (std::vector<std::string>{"soon", "later"}));
}

TEST(EventLoop, DefaultExceptionHandlerPrintsToStderr) {
  event_loop loop;
  loop.set_exception_handler([](event_loop&, const asyncio::exception_context&) { throw std::runtime_error("handler broke"); });
  testing::internal::CaptureStderr();
  loop.call_exception_handler(asyncio::exception_context("first", std::make_exception_ptr(std::runtime_error("inner"))));
  loop.set_exception_handler({});  // restores the default
  loop.call_exception_handler(asyncio::exception_context("second"));
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Unhandled error in exception handler"), std::string::npos) << err;
  EXPECT_NE(err.find("handler broke"), std::string::npos) << err;
  EXPECT_NE(err.find("first"), std::string::npos) << err;
  EXPECT_NE(err.find("inner"), std::string::npos) << err;
  EXPECT_NE(err.find("second"), std::string::npos) << err;
}

// ---- fairness ------------------------------------------------------------------------------------

auto spinner(std::vector<char>* trace, char id, int n) -> asyncio::task<> {
  for (int i = 0; i < n; ++i) {
    trace->push_back(id);
    co_await asyncio::sleep(0s);
  }
}
auto alternate_main() -> asyncio::task<std::string> {
  std::vector<char> trace;
  auto a = asyncio::create_task(spinner(&trace, 'a', 4), {.eager = false});
  auto b = asyncio::create_task(spinner(&trace, 'b', 4), {.eager = false});
  co_await a;
  co_await b;
  co_return std::string(trace.begin(), trace.end());
}

TEST(Fairness, TasksYieldingWithSleepZeroAlternate) {
  virtual_clock clk;
  EXPECT_EQ(asyncio::run(alternate_main(), {.clock = &clk}), "abababab");
}

auto sets_after(asyncio::duration d, bool* flag) -> asyncio::task<> {
  co_await asyncio::sleep(d);
  *flag = true;
}
auto spin_until(bool* flag, virtual_clock* clk) -> asyncio::task<int> {
  int spins = 0;
  while (!*flag) {
    clk->advance(1ms);  // time passes while this task hogs the loop
    co_await asyncio::sleep(0s);
    ++spins;
  }
  co_return spins;
}
auto timer_fairness_main(virtual_clock* clk) -> asyncio::task<int> {
  bool fired = false;
  auto s = asyncio::create_task(sets_after(5ms, &fired));
  int spins = co_await asyncio::create_task(spin_until(&fired, clk));
  co_await s;
  co_return spins;
}

TEST(Fairness, ATaskLoopingOnSleepZeroDoesNotStarveTimers) {
  virtual_clock clk(asyncio::testing::manual);
  int spins = asyncio::run(timer_fairness_main(&clk), {.clock = &clk});
  EXPECT_GE(spins, 5);
  EXPECT_LE(spins, 5 + 2 * 64);  // timers are checked at least every 64 steps
}

auto spin_until_readable(bool* flag) -> asyncio::task<int> {
  int spins = 0;
  while (!*flag && spins < 1'000'000) {
    co_await asyncio::sleep(0s);
    ++spins;
  }
  co_return spins;
}
auto io_fairness_main() -> asyncio::task<int> {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], "x", 1), 1);
  bool readable = false;
  event_loop& loop = asyncio::get_running_loop();
  loop.add_reader(fds[0], [&] { readable = true; });
  int spins = co_await asyncio::create_task(spin_until_readable(&readable));
  loop.remove_reader(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
  co_return spins;
}

TEST(Fairness, ATaskLoopingOnSleepZeroDoesNotStarveIo) {
  int spins = asyncio::run(io_fairness_main());
  EXPECT_LE(spins, 2 * 64);
}

// add_reader/add_writer keep one callback per fd and direction: both directions of one socket can
// be watched at once, a second add replaces the first, and a remove finds only its own direction.
auto reader_and_writer_main() -> asyncio::task<void> {
  int sp[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
  event_loop& loop = asyncio::get_running_loop();
  int replaced = 0;
  int writable = 0;
  int readable = 0;
  loop.add_writer(sp[0], [&] { ++replaced; });
  loop.add_writer(sp[0], [&] { ++writable; });  // replaces the first
  loop.add_reader(sp[0], [&] { ++readable; });
  EXPECT_EQ(::write(sp[1], "x", 1), 1);
  for (int i = 0; i < 1000 && (writable == 0 || readable == 0); ++i) co_await asyncio::sleep(0s);
  EXPECT_EQ(replaced, 0);
  EXPECT_GT(writable, 0);
  EXPECT_GT(readable, 0);
  EXPECT_FALSE(loop.remove_reader(sp[1]));  // nothing watches the other end
  EXPECT_TRUE(loop.remove_writer(sp[0]));
  EXPECT_FALSE(loop.remove_writer(sp[0]));
  int seen = writable;
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(writable, seen);  // removed: no longer called
  EXPECT_TRUE(loop.remove_reader(sp[0]));
  EXPECT_FALSE(loop.remove_reader(sp[0]));
  ::close(sp[0]);
  ::close(sp[1]);
}

TEST(EventLoop, AddReaderAndAddWriterKeepOneCallbackPerDirection) { asyncio::run(reader_and_writer_main()); }

TEST(EventLoop, Statistics) {
  virtual_clock clk;
  event_loop loop({.clock = &clk});
  loop.call_soon([] {});
  loop.call_later(1s, [] {});
  auto s = loop.statistics();
  EXPECT_EQ(s.ready, 1u);
  EXPECT_EQ(s.timers, 1u);
  EXPECT_EQ(s.tasks, 0u);
  loop.call_later(2s, [&] { loop.stop(); });
  loop.run_forever();
  s = loop.statistics();
  EXPECT_EQ(s.ready, 0u);
  EXPECT_EQ(s.timers, 0u);
  EXPECT_GT(s.iterations, 0u);
}

}  // namespace
