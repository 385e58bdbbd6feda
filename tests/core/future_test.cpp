// future<T> (Python's asyncio.Future), ported from CPython's test_futures.py: states, errors when
// already done, callbacks, several awaiters, cancellation through an awaiting task.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

TEST(Future, InitialState) {
  asyncio::future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW((void)f.result(), asyncio::invalid_state_error);
  EXPECT_THROW((void)f.exception(), asyncio::invalid_state_error);
}

TEST(Future, SetResult) {
  asyncio::future<int> f;
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_THROW(f.set_result(1), asyncio::invalid_state_error);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), asyncio::invalid_state_error);
  EXPECT_FALSE(f.cancel());
  EXPECT_EQ(f.result(), 42);
}

TEST(Future, SetException) {
  asyncio::future<int> f;
  f.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW((void)f.result(), std::runtime_error);
  auto e = f.exception();
  EXPECT_TRUE(e);
  EXPECT_THROW(f.set_result(1), asyncio::invalid_state_error);
  EXPECT_FALSE(f.cancel());
}

TEST(Future, Cancel) {
  asyncio::future<int> f;
  EXPECT_TRUE(f.cancel("why"));
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(f.cancelled());
  try {
    (void)f.result();
    ADD_FAILURE();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "why");
  }
  EXPECT_THROW((void)f.exception(), asyncio::cancelled_error);
  EXPECT_THROW(f.set_result(1), asyncio::invalid_state_error);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), asyncio::invalid_state_error);
  EXPECT_FALSE(f.cancel());
}

TEST(Future, VoidFuture) {
  asyncio::future<> f;
  f.set_result();
  EXPECT_TRUE(f.done());
  f.result();
  EXPECT_THROW(f.set_result(), asyncio::invalid_state_error);
}

TEST(Future, CopiesShareOneState) {
  asyncio::future<std::string> a;
  asyncio::future<std::string> b = a;
  b.set_result("shared");
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.result(), "shared");
}

auto callbacks_main() -> asyncio::task<> {
  asyncio::future<int> f;
  std::vector<int> order;
  f.add_done_callback([&] { order.push_back(1); });
  f.add_done_callback([&] {
    order.push_back(2);
    EXPECT_EQ(f.result(), 5);
  });
  f.add_done_callback([&] { order.push_back(3); });
  f.set_result(5);
  EXPECT_TRUE(order.empty());  // scheduled with call_soon, not run by set_result
  co_await asyncio::sleep(0s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  f.add_done_callback([&] { order.push_back(4); });  // already done: scheduled
  EXPECT_EQ(order.size(), 3u);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));

  asyncio::future<int> g;
  bool called = false;
  g.add_done_callback([&] { called = true; });
  g.cancel();
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(called);  // cancellation is completion too
}

TEST(Future, DoneCallbacksRunInOrderViaCallSoon) { run_virtual(callbacks_main()); }

auto waiter(asyncio::future<int> f, std::vector<int>* order, int id) -> asyncio::task<int> {
  int v = co_await f;
  order->push_back(id);
  co_return v * id;
}
auto setter(asyncio::future<int> f, int v) -> asyncio::task<> {
  co_await asyncio::sleep(5ms);
  f.set_result(v);
}
auto several_awaiters_main() -> asyncio::task<> {
  asyncio::future<int> f;
  std::vector<int> order;
  auto a = asyncio::create_task(waiter(f, &order, 1));
  auto b = asyncio::create_task(waiter(f, &order, 2));
  auto c = asyncio::create_task(waiter(f, &order, 3));
  auto s = asyncio::create_task(setter(f, 10));
  int sum = co_await a;
  sum += co_await b;
  sum += co_await c;
  EXPECT_EQ(sum, 60);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  int again = co_await f;  // already done: no suspension
  EXPECT_EQ(again, 10);
  co_await s;
}

TEST(Future, AwaitedFromSeveralTasks) { run_virtual(several_awaiters_main()); }

auto exception_awaiter(asyncio::future<int> f) -> asyncio::task<std::string> {
  try {
    (void)co_await f;
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "none";
}
auto exception_main() -> asyncio::task<> {
  asyncio::future<int> f;
  auto a = asyncio::create_task(exception_awaiter(f));
  auto b = asyncio::create_task(exception_awaiter(f));
  f.set_exception(std::make_exception_ptr(std::runtime_error("shared failure")));
  std::string ra = co_await a;
  std::string rb = co_await b;
  EXPECT_EQ(ra, "shared failure");
  EXPECT_EQ(rb, "shared failure");
}

TEST(Future, ExceptionReachesEveryAwaiter) { run_virtual(exception_main()); }

auto cancel_awaiter_main() -> asyncio::task<> {
  asyncio::future<int> f;
  std::vector<int> order;
  auto a = asyncio::create_task(waiter(f, &order, 1));
  auto b = asyncio::create_task(waiter(f, &order, 2));
  co_await asyncio::sleep(0s);
  a.cancel("from a");  // cancelling a task that awaits a future cancels the future...
  EXPECT_TRUE(f.cancelled());
  int cancelled = 0;
  try {
    (void)co_await a;
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "from a");
    ++cancelled;
  }
  try {
    (void)co_await b;  // ...so every other awaiter gets cancelled_error too
  } catch (const asyncio::cancelled_error&) {
    ++cancelled;
  }
  EXPECT_EQ(cancelled, 2);
  EXPECT_TRUE(a.cancelled());
  EXPECT_TRUE(b.cancelled());
  EXPECT_TRUE(order.empty());
}

TEST(Future, CancellingTheAwaitingTaskCancelsTheFuture) { run_virtual(cancel_awaiter_main()); }

auto move_only_main() -> asyncio::task<int> {
  asyncio::future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(41));
  EXPECT_EQ(*f.result(), 41);  // result() gives a reference
  std::unique_ptr<int> p = co_await std::move(f);
  asyncio::future<std::unique_ptr<int>> g;
  asyncio::get_running_loop().call_later(1ms, [g]() mutable { g.set_result(std::make_unique<int>(1)); });
  std::unique_ptr<int> q = co_await std::move(g);
  co_return *p + *q;
}

TEST(Future, MoveOnlyValue) { EXPECT_EQ(run_virtual(move_only_main()), 42); }

// remove_done_callback (Python's Future.remove_done_callback): by the handle add_done_callback
// returned; the count removed; nothing to remove once the callbacks were scheduled.
auto remove_callback_main() -> asyncio::task<> {
  asyncio::future<int> f;
  std::vector<int> ran;
  asyncio::callback_handle a = f.add_done_callback([&ran] { ran.push_back(1); });
  asyncio::callback_handle b = f.add_done_callback([&ran] { ran.push_back(2); });
  asyncio::callback_handle c = f.add_done_callback([&ran] { ran.push_back(3); });
  EXPECT_TRUE(a && b && c);
  EXPECT_NE(a, b);
  EXPECT_EQ(f.remove_done_callback(b), 1U);
  EXPECT_EQ(f.remove_done_callback(b), 0U);                        // gone already
  EXPECT_EQ(f.remove_done_callback(asyncio::callback_handle{}), 0U);  // names nothing
  asyncio::future<int> other;
  EXPECT_EQ(other.remove_done_callback(a), 0U);  // another future's callback
  f.set_result(1);
  EXPECT_EQ(f.remove_done_callback(c), 0U);  // scheduled already
  co_await asyncio::sleep(0s);
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

TEST(Future, RemoveDoneCallback) { run_virtual(remove_callback_main()); }

// A callback may take the future, as Python's do (`fut.add_done_callback(lambda f: ...)`).
auto callback_gets_future_main() -> asyncio::task<> {
  std::vector<std::string> seen;
  {
    asyncio::future<int> f;
    f.add_done_callback([&seen](const asyncio::future<int>& done) { seen.push_back(std::to_string(done.result())); });
    f.add_done_callback([&seen] { seen.emplace_back("plain"); });
    f.set_result(7);
  }  // the callback keeps the future alive until it ran
  asyncio::future<void> v;
  v.add_done_callback([&seen](asyncio::future<void> done) { seen.emplace_back(done.cancelled() ? "cancelled" : "?"); });
  v.cancel();
  // Removing a callback that holds the future releases it (ASan would report a leak otherwise).
  asyncio::future<int> never;
  auto h = never.add_done_callback([](const asyncio::future<int>&) {});
  EXPECT_EQ(never.remove_done_callback(h), 1U);
  // Added when already done: scheduled at once, with the future.
  asyncio::future<int> done_already;
  done_already.set_result(3);
  auto late = done_already.add_done_callback([&seen](const asyncio::future<int>& d) { seen.push_back(std::to_string(d.result())); });
  EXPECT_TRUE(late);
  EXPECT_EQ(done_already.remove_done_callback(late), 0U);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(seen, (std::vector<std::string>{"7", "plain", "cancelled", "3"}));
}

TEST(Future, DoneCallbackReceivesTheFuture) { run_virtual(callback_gets_future_main()); }

// loop.create_future() (Python's preferred way to make a future).
auto create_future_main() -> asyncio::task<> {
  asyncio::event_loop& loop = asyncio::get_running_loop();
  asyncio::future<int> f = loop.create_future<int>();
  asyncio::future<> v = loop.create_future();
  loop.call_later(1s, [f, v]() mutable {
    f.set_result(5);
    v.set_result();
  });
  int r = co_await f;
  co_await v;
  EXPECT_EQ(r, 5);
}

TEST(Future, LoopCreateFuture) { run_virtual(create_future_main()); }

}  // namespace
