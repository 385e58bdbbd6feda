// wait_for / timeout / timeout_at / gather / shield / create_task with the library's awaiters
// (core/awaitable.hpp): Python's `await asyncio.wait_for(ev.wait(), 5)` spellings. For each kind:
// in time, timed out (the primitive is left as if the wait had never been), completion racing the
// timeout in the same loop iteration (nothing lost), outer cancellation (cancelled_error, not
// timeout_error), move-only results. Virtual clock throughout.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "support/sync_helpers.hpp"
#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using asyncio::testing::run_virtual;
using test_support::now;
using test_support::yield;

namespace {


/// Lets every ready task run once (sleep(0s) goes to the back of the ready queue).

/// Not started until the loop gets to it (create_task's classic scheduling): puts `fn` on the
/// ready queue before anything the caller schedules afterwards.
template <class F>
auto scheduled(F fn) -> asyncio::task_handle<void> {
  return asyncio::create_task(
      [](F f) -> task<> {
        f();
        co_return;
      }(std::move(fn)),
      asyncio::task_options{.name = {}, .eager = false});
}

auto set_after(asyncio::event& ev, asyncio::duration d) -> task<> {
  co_await asyncio::sleep(d);
  ev.set();
}

auto release_after(asyncio::lock& m, asyncio::duration d) -> task<> {
  co_await asyncio::sleep(d);
  m.release();
}

// ---- compile-time properties ------------------------------------------------------------------

using event_awaiter = decltype(std::declval<asyncio::event&>().wait());
using lock_awaiter = decltype(std::declval<asyncio::lock&>().acquire());
using sem_awaiter = decltype(std::declval<asyncio::semaphore&>().acquire());
using get_awaiter = decltype(std::declval<asyncio::queue<std::unique_ptr<int>>&>().get());
using put_awaiter = decltype(std::declval<asyncio::queue<std::unique_ptr<int>>&>().put(nullptr));
using sleep_awaiter = decltype(asyncio::sleep(1s));

template <class A>
concept movable_until_awaited =
    asyncio::awaitable<A> && std::is_nothrow_move_constructible_v<A> && !std::is_copy_constructible_v<A> &&
    !std::is_move_assignable_v<A> && !std::is_copy_assignable_v<A>;
static_assert(movable_until_awaited<event_awaiter>);
static_assert(movable_until_awaited<lock_awaiter>);
static_assert(movable_until_awaited<sem_awaiter>);
static_assert(movable_until_awaited<get_awaiter>);
static_assert(movable_until_awaited<put_awaiter>);
static_assert(movable_until_awaited<sleep_awaiter>);

static_assert(asyncio::awaitable<task<int>>);
static_assert(asyncio::awaitable<asyncio::task_handle<int>>);
static_assert(asyncio::awaitable<asyncio::future<int>>);
static_assert(!asyncio::awaitable<int>);
static_assert(std::is_same_v<asyncio::await_result_t<lock_awaiter>, asyncio::lock::guard>);
static_assert(std::is_same_v<asyncio::await_result_t<get_awaiter>, std::unique_ptr<int>>);
static_assert(std::is_same_v<asyncio::await_result_t<event_awaiter>, void>);
static_assert(std::is_same_v<asyncio::await_result_t<task<int>>, int>);

// A named awaiter cannot be handed over by accident (copying is deleted): std::move it, and only
// before it was awaited (tests/compile_fail/wait_for_named_awaiter.cpp checks the diagnostic).
template <class A>
concept wait_for_accepts = requires(A&& a) { asyncio::wait_for(std::forward<A>(a), 1s); };
static_assert(wait_for_accepts<event_awaiter>);
static_assert(!wait_for_accepts<event_awaiter&>);
static_assert(!wait_for_accepts<lock_awaiter&>);
static_assert(!wait_for_accepts<const get_awaiter&>);
template <class A>
concept timeout_accepts = requires(A&& a) { asyncio::timeout(1s, std::forward<A>(a)); };
static_assert(timeout_accepts<put_awaiter>);
static_assert(!timeout_accepts<put_awaiter&>);

}  // namespace

// ---- event ------------------------------------------------------------------------------------

TEST(WaitForAwaitable, EventInTime) {
  run_virtual([]() -> task<> {
    asyncio::event ev;
    auto setter = asyncio::create_task(set_after(ev, 1s));
    auto t0 = now();
    co_await asyncio::wait_for(ev.wait(), 5s);
    EXPECT_EQ(now() - t0, 1s);
    ev.clear();
    auto setter2 = asyncio::create_task(set_after(ev, 1s));
    co_await asyncio::timeout(5s, ev.wait());
    EXPECT_EQ(now() - t0, 2s);
    co_await asyncio::wait_for(ev.wait(), std::nullopt);  // set: no suspension, no limit
    co_await setter;
    co_await setter2;
  }());
}

TEST(WaitForAwaitable, EventTimesOut) {
  run_virtual([]() -> task<> {
    asyncio::event ev;
    auto t0 = now();
    EXPECT_THROW(co_await asyncio::wait_for(ev.wait(), 1s), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 1s);
    EXPECT_EQ(ev.statistics().waiters, 0u);
    EXPECT_THROW(co_await asyncio::timeout(1s, ev.wait()), asyncio::timeout_error);
    EXPECT_THROW(co_await asyncio::timeout_at(now() + 1s, ev.wait()), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 3s);
    EXPECT_EQ(ev.statistics().waiters, 0u);
    // The cancellation is nested, as Python's `raise TimeoutError from exc`.
    try {
      co_await asyncio::wait_for(ev.wait(), 1s);
      ADD_FAILURE() << "no timeout";
    } catch (const asyncio::timeout_error& e) {
      EXPECT_THROW(std::rethrow_if_nested(e), asyncio::cancelled_error);
    }
  }());
}

TEST(WaitForAwaitable, EventSetRacingTheTimeout) {
  run_virtual([]() -> task<> {
    asyncio::event ev;
    // The setter runs first, then the deadline fires before the waiter resumed: the waiter was
    // woken, but the timeout wins (as CPython); the event stays set, nobody is left waiting.
    auto setter = scheduled([&ev] {
      EXPECT_EQ(ev.statistics().waiters, 1u);  // we wait
      ev.set();
    });
    EXPECT_THROW(co_await asyncio::timeout(0s, ev.wait()), asyncio::timeout_error);
    EXPECT_TRUE(ev.is_set());
    EXPECT_EQ(ev.statistics().waiters, 0u);
    co_await setter;
  }());
}

TEST(WaitForAwaitable, ZeroLimitPolls) {  // Python 3.12+, eager tasks: wait_for(coro, 0)
  run_virtual([]() -> task<> {
    asyncio::event ev;
    EXPECT_THROW(co_await asyncio::wait_for(ev.wait(), 0s), asyncio::timeout_error);  // not set
    EXPECT_EQ(ev.statistics().waiters, 0u);  // the cancelled wait left nothing queued
    ev.set();
    co_await asyncio::wait_for(ev.wait(), 0s);  // set: returns
    asyncio::lock m;
    {
      auto g = co_await asyncio::wait_for(m.acquire(), -1s);  // free: taken
      EXPECT_TRUE(g.owns());
      EXPECT_THROW((void)co_await asyncio::wait_for(m.acquire(), 0s), asyncio::timeout_error);
      EXPECT_EQ(m.statistics().waiters, 0u);  // the refused wait left nothing queued
    }
    EXPECT_FALSE(m.locked());
    asyncio::queue<int> q(1);
    EXPECT_THROW((void)co_await asyncio::wait_for(q.get(), 0s), asyncio::timeout_error);  // empty
    q.put_nowait(1);
    EXPECT_EQ(co_await asyncio::wait_for(q.get(), 0s), 1);  // a poll that returns the item
    co_await asyncio::wait_for(q.put(2), 0s);               // room: put
    EXPECT_THROW(co_await asyncio::wait_for(q.put(3), 0s), asyncio::timeout_error);  // full
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.statistics().putters, 0u);
  }());
}

// ---- lock -------------------------------------------------------------------------------------

TEST(WaitForAwaitable, LockInTimeHandsBackTheGuard) {
  run_virtual([]() -> task<> {
    asyncio::lock m;
    {
      asyncio::lock::guard g = co_await asyncio::wait_for(m.acquire(), 1s);  // free: at once
      EXPECT_TRUE(g.owns());
      EXPECT_TRUE(m.locked());
    }
    EXPECT_FALSE(m.locked());  // the guard released it
    (co_await m.acquire()).detach();
    auto releaser = asyncio::create_task(release_after(m, 1s));
    auto t0 = now();
    {
      auto g = co_await asyncio::wait_for(m.acquire(), 5s);
      EXPECT_EQ(now() - t0, 1s);
      EXPECT_TRUE(g.owns());
      EXPECT_TRUE(m.locked());
    }
    EXPECT_FALSE(m.locked());
    co_await releaser;
  }());
}

TEST(WaitForAwaitable, LockTimesOutWithoutHoldingIt) {
  run_virtual([]() -> task<> {
    asyncio::lock m;
    auto holder = co_await m.acquire();
    EXPECT_THROW((void)co_await asyncio::wait_for(m.acquire(), 1s), asyncio::timeout_error);
    EXPECT_THROW((void)co_await asyncio::timeout(1s, m.acquire()), asyncio::timeout_error);
    EXPECT_EQ(m.statistics().waiters, 0u);
    holder.release();
    EXPECT_FALSE(m.locked());  // no ownership leaked to the timed-out waits
  }());
}

TEST(WaitForAwaitable, LockGrantedRacingTheTimeout) {
  run_virtual([]() -> task<> {
    asyncio::lock m;
    (co_await m.acquire()).detach();
    // Same iteration: the release hands the lock to us, then the deadline fires before we resume.
    // The lock is passed on (here: freed), never kept by a wait that raises timeout_error.
    auto releaser = scheduled([&m] {
      m.release();
      EXPECT_TRUE(m.locked());  // handed to our waiting acquire, which has not resumed yet
    });
    EXPECT_THROW((void)co_await asyncio::timeout(0s, m.acquire()), asyncio::timeout_error);
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.statistics().waiters, 0u);
    co_await releaser;

    // Same deadline: the holder's wake-up and the wait_for deadline are due in one iteration.
    (co_await m.acquire()).detach();
    auto releaser2 = asyncio::create_task(release_after(m, 1s));
    EXPECT_THROW((void)co_await asyncio::wait_for(m.acquire(), 1s), asyncio::timeout_error);
    co_await releaser2;
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.statistics().waiters, 0u);
  }());
}

TEST(WaitForAwaitable, LockGrantPassesToTheNextWaiterOnTimeout) {
  run_virtual([]() -> task<> {
    asyncio::lock m;
    (co_await m.acquire()).detach();
    std::optional<asyncio::task_handle<bool>> next;
    // Runs after we queued: `next` queues behind us, then the release hands the lock to us; the
    // deadline fires before we resume, so the lock goes on to `next`.
    auto releaser = scheduled([&m, &next] {
      next = asyncio::create_task([](asyncio::lock& l) -> task<bool> {
        auto g = co_await l.acquire();
        co_return g.owns();
      }(m));
      m.release();
      EXPECT_EQ(m.statistics().waiters, 1u);  // handed to us; `next` still queues
    });
    EXPECT_THROW((void)co_await asyncio::timeout(0s, m.acquire()), asyncio::timeout_error);
    EXPECT_TRUE(next.has_value());
    if (next) {
      EXPECT_TRUE(co_await *next);
    }
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.statistics().waiters, 0u);
    co_await releaser;
  }());
}

TEST(WaitForAwaitable, OuterCancelIsNotATimeout) {
  run_virtual([]() -> task<> {
    asyncio::lock m;
    auto holder = co_await m.acquire();
    asyncio::event ev;
    auto on_lock = asyncio::create_task(asyncio::wait_for(m.acquire(), 10s));
    auto on_event = asyncio::create_task(asyncio::timeout(10s, ev.wait()));
    auto on_sleep = asyncio::create_task(asyncio::wait_for(asyncio::sleep(20s), 10s));
    co_await asyncio::sleep(1s);
    on_lock.cancel();
    on_event.cancel();
    on_sleep.cancel();
    EXPECT_THROW((void)co_await std::move(on_lock), asyncio::cancelled_error);
    EXPECT_THROW(co_await on_event, asyncio::cancelled_error);
    EXPECT_THROW(co_await on_sleep, asyncio::cancelled_error);
    EXPECT_TRUE(on_lock.cancelled());
    EXPECT_EQ(m.statistics().waiters, 0u);
    EXPECT_EQ(ev.statistics().waiters, 0u);
    holder.release();
    EXPECT_FALSE(m.locked());
  }());
}

TEST(WaitForAwaitable, AwaitedAfterTheFullExpression) {
  run_virtual([]() -> task<> {
    asyncio::event ev;
    asyncio::lock m;
    asyncio::queue<std::unique_ptr<int>> q(1);
    // The awaiters are temporaries of these statements; the tasks own moved copies.
    task<> on_event = asyncio::wait_for(ev.wait(), 5s);
    task<asyncio::lock::guard> on_lock = asyncio::wait_for(m.acquire(), 5s);
    task<> put = asyncio::timeout(5s, q.put(std::make_unique<int>(7)));
    EXPECT_FALSE(m.locked());  // lazy: nothing ran yet
    EXPECT_EQ(q.qsize(), 0u);
    auto setter = asyncio::create_task(set_after(ev, 1s));
    co_await std::move(on_event);
    auto g = co_await std::move(on_lock);
    EXPECT_TRUE(g.owns());
    co_await std::move(put);
    EXPECT_EQ(*q.get_nowait(), 7);
    co_await setter;
  }());
}

// ---- semaphore --------------------------------------------------------------------------------

TEST(WaitForAwaitable, Semaphore) {
  run_virtual([]() -> task<> {
    asyncio::semaphore s(1);
    {
      auto g = co_await asyncio::wait_for(s.acquire(), 1s);
      EXPECT_EQ(s.value(), 0u);
      auto t0 = now();
      EXPECT_THROW((void)co_await asyncio::wait_for(s.acquire(), 1s), asyncio::timeout_error);
      EXPECT_EQ(now() - t0, 1s);
      EXPECT_EQ(s.value(), 0u);
      EXPECT_EQ(s.statistics().waiters, 0u);
    }
    EXPECT_EQ(s.value(), 1u);  // unchanged by the timed-out wait

    // Released at the moment of the deadline: the unit goes back, nothing is lost.
    asyncio::semaphore empty(0);
    auto releaser = scheduled([&empty] {
      empty.release();
      EXPECT_EQ(empty.value(), 0u);  // handed to our waiting acquire
    });
    EXPECT_THROW((void)co_await asyncio::timeout(0s, empty.acquire()), asyncio::timeout_error);
    EXPECT_EQ(empty.value(), 1u);
    EXPECT_EQ(empty.statistics().waiters, 0u);
    co_await releaser;

    asyncio::bounded_semaphore b(2);
    auto g1 = co_await asyncio::wait_for(b.acquire(), 1s);
    auto g2 = co_await asyncio::timeout(1s, b.acquire());
    EXPECT_EQ(b.value(), 0u);
  }());
}

// ---- queue ------------------------------------------------------------------------------------

TEST(WaitForAwaitable, QueueGetMoveOnlyInTimeAndTimeout) {
  run_virtual([]() -> task<> {
    asyncio::queue<std::unique_ptr<int>> q;
    auto producer = asyncio::create_task([](asyncio::queue<std::unique_ptr<int>>& qq) -> task<> {
      co_await asyncio::sleep(1s);
      qq.put_nowait(std::make_unique<int>(42));
    }(q));
    auto t0 = now();
    std::unique_ptr<int> v = co_await asyncio::wait_for(q.get(), 5s);
    EXPECT_TRUE(v && *v == 42);
    EXPECT_EQ(now() - t0, 1s);
    co_await producer;

    EXPECT_THROW((void)co_await asyncio::wait_for(q.get(), 1s), asyncio::timeout_error);
    EXPECT_EQ(q.statistics().getters, 0u);
    q.put_nowait(std::make_unique<int>(5));  // goes to the queue, not to the timed-out getter
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(*co_await asyncio::timeout(1s, q.get()), 5);
  }());
}

TEST(WaitForAwaitable, QueueGetRacingTheTimeoutLosesNoItem) {
  run_virtual([]() -> task<> {
    asyncio::queue<int> q;
    // The item is handed to our getter, then the deadline fires before we resume: the item goes
    // back to the front of the queue (Python leaves it in the queue), timeout_error is raised.
    auto producer = scheduled([&q] {
      q.put_nowait(7);
      EXPECT_EQ(q.qsize(), 0u);  // handed straight to our waiting getter
    });
    EXPECT_THROW((void)co_await asyncio::timeout(0s, q.get()), asyncio::timeout_error);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.statistics().getters, 0u);
    EXPECT_EQ(q.get_nowait(), 7);
    co_await producer;
  }());
}

TEST(WaitForAwaitable, QueuePut) {
  run_virtual([]() -> task<> {
    asyncio::queue<std::unique_ptr<int>> q(1);
    q.put_nowait(std::make_unique<int>(1));
    // Full: times out, and the item is not put.
    EXPECT_THROW(co_await asyncio::wait_for(q.put(std::make_unique<int>(2)), 1s), asyncio::timeout_error);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.statistics().putters, 0u);
    // A slot frees in time.
    auto consumer = asyncio::create_task([](asyncio::queue<std::unique_ptr<int>>& qq) -> task<int> {
      co_await asyncio::sleep(1s);
      co_return *qq.get_nowait();
    }(q));
    co_await asyncio::wait_for(q.put(std::make_unique<int>(3)), 5s);
    EXPECT_EQ(co_await consumer, 1);
    EXPECT_EQ(*q.get_nowait(), 3);
    EXPECT_EQ(q.unfinished_tasks(), 2u);  // 1 and 3; the timed-out 2 never counted
  }());
}

TEST(WaitForAwaitable, QueuePutWokenButTimedOutBeforeResumingPutsNothing) {
  run_virtual([]() -> task<> {
    asyncio::queue<int> q(1);
    q.put_nowait(1);
    // The getter frees the slot, which is reserved for our put; then the deadline fires before we
    // resume. As in Python, a put that raises put nothing: timeout_error, the slot is free again.
    auto consumer = scheduled([&q] {
      EXPECT_EQ(q.get_nowait(), 1);
      EXPECT_EQ(q.qsize(), 0u);
      EXPECT_TRUE(q.full());  // the freed slot is reserved for the woken putter
    });
    EXPECT_THROW(co_await asyncio::timeout(0s, q.put(2)), asyncio::timeout_error);
    EXPECT_EQ(q.qsize(), 0u);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.unfinished_tasks(), 1u);  // the 1 (got, not marked done); the 2 never counted
    co_await consumer;
  }());
}

TEST(WaitForAwaitable, QueueJoin) {
  run_virtual([]() -> task<> {
    asyncio::queue<int> q;
    q.put_nowait(1);
    (void)q.get_nowait();
    EXPECT_THROW(co_await asyncio::wait_for(q.join(), 1s), asyncio::timeout_error);
    q.task_done();
    co_await asyncio::wait_for(q.join(), 1s);
  }());
}

// ---- condition, barrier (coroutines already; the Python spellings work the same) -------------

TEST(WaitForAwaitable, ConditionAndBarrier) {
  run_virtual([]() -> task<> {
    asyncio::condition cv;
    {
      auto g = co_await asyncio::wait_for(cv.acquire(), 1s);
      EXPECT_THROW(co_await asyncio::wait_for(cv.wait(), 1s), asyncio::timeout_error);
      EXPECT_TRUE(cv.locked());  // wait() re-acquired the lock before raising, as in Python
      EXPECT_EQ(cv.statistics().waiters, 0u);
    }
    EXPECT_FALSE(cv.locked());

    asyncio::barrier b(2);
    EXPECT_THROW((void)co_await asyncio::wait_for(b.wait(), 1s), asyncio::timeout_error);
    EXPECT_EQ(b.n_waiting(), 0u);
  }());
}

// ---- sleep ------------------------------------------------------------------------------------

TEST(WaitForAwaitable, Sleep) {  // asyncio.wait_for(asyncio.sleep(10), 1)
  run_virtual([]() -> task<> {
    auto t0 = now();
    EXPECT_THROW(co_await asyncio::wait_for(asyncio::sleep(10s), 1s), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 1s);
    co_await asyncio::wait_for(asyncio::sleep(1s), 10s);
    EXPECT_EQ(now() - t0, 2s);
    EXPECT_THROW(co_await asyncio::timeout(1s, asyncio::sleep_until(now() + 5s)), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 3s);
    co_await asyncio::timeout(1s, asyncio::sleep(0s));  // a yield
    EXPECT_EQ(now() - t0, 3s);
  }());
}

TEST(WaitForAwaitable, SleepEndingAtTheDeadline) {
  run_virtual([]() -> task<> {
    auto t0 = now();
    // Both timers are due at once. The deadline was armed first (when wait_for started), the
    // sleep's timer when it suspended, so the deadline fires first (ties fire in the order they
    // were armed): timeout_error, at exactly 1 s.
    EXPECT_THROW(co_await asyncio::wait_for(asyncio::sleep(1s), 1s), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 1s);
  }());
}

// ---- gather, create_task, shield --------------------------------------------------------------

TEST(WaitForAwaitable, GatherCreateTaskShield) {
  run_virtual([]() -> task<> {
    asyncio::event ev;
    asyncio::queue<std::unique_ptr<int>> q;
    asyncio::lock m;
    auto setter = asyncio::create_task(set_after(ev, 1s));
    q.put_nowait(std::make_unique<int>(9));
    auto [item, none, guard] = co_await asyncio::gather(q.get(), ev.wait(), m.acquire());
    EXPECT_EQ(*item, 9);
    EXPECT_TRUE((std::is_same_v<decltype(none), std::monostate>));
    EXPECT_TRUE(guard.owns());
    guard.release();
    co_await setter;

    ev.clear();
    auto waiter = asyncio::create_task(ev.wait());
    EXPECT_FALSE(waiter.done());
    ev.set();
    co_await waiter;
    {
      auto h = asyncio::create_task(m.acquire(), "take");  // eager: the free lock is taken at once
      EXPECT_TRUE(h.done());
      EXPECT_EQ(h.get_name(), "take");
      auto g = co_await std::move(h);
      EXPECT_TRUE(g.owns());
    }
    EXPECT_FALSE(m.locked());

    // wait_for(shield(ev.wait()), d): the timeout does not reach the shielded wait.
    ev.clear();
    EXPECT_THROW(co_await asyncio::wait_for(asyncio::shield(ev.wait()), 1s), asyncio::timeout_error);
    EXPECT_EQ(ev.statistics().waiters, 1u);  // the shielded task still waits
    ev.set();
    co_await yield();
    EXPECT_EQ(ev.statistics().waiters, 0u);
  }());
}

TEST(WaitForAwaitable, TaskGroupChildren) {  // tg.create_task(ev.wait())
  run_virtual([]() -> task<> {
    asyncio::event ev;
    asyncio::queue<int> q;
    int got = 0;
    auto setter = asyncio::create_task(set_after(ev, 1s));
    co_await asyncio::with_task_group([&](asyncio::task_group& tg) -> task<> {
      tg.create_task(ev.wait());
      auto h = tg.create_task(q.get());
      q.put_nowait(5);
      got = co_await h;
    });
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(ev.is_set());
    co_await setter;
  }());
}

// ---- misuse: diagnosed at run time where the compiler cannot see it ----------------------------

TEST(WaitForAwaitableDeathTest, AwaitingAMovedFromAwaiterStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_virtual([]() -> task<> {
                 asyncio::event ev;
                 ev.set();
                 auto w = ev.wait();
                 task<> moved = asyncio::wait_for(std::move(w), 1s);
                 co_await w;  // misuse: `w` was moved into the task
                 co_await std::move(moved);
               }()),
               "moved-from awaiter");
  EXPECT_DEATH(run_virtual([]() -> task<> {
                 asyncio::lock m;
                 auto a = m.acquire();
                 auto b = std::move(a);
                 (void)co_await a;  // misuse
                 (void)co_await b;
               }()),
               "moved-from awaiter");
}

TEST(WaitForAwaitableDeathTest, MovingAnAwaitedAwaiterStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_virtual([]() -> task<> {
                 asyncio::lock m;
                 auto a = m.acquire();
                 auto g = co_await a;
                 auto t = asyncio::wait_for(std::move(a), 1s);  // misuse: `a` was awaited
                 (void)co_await std::move(t);
               }()),
               "moved after it was awaited");
  EXPECT_DEATH(run_virtual([]() -> task<> {
                 auto s = asyncio::sleep(1s);
                 co_await s;
                 auto t = asyncio::timeout(1s, std::move(s));  // misuse
                 co_await std::move(t);
               }()),
               "moved after it was awaited");
}
