// timeout / timeout_at: behaviour ported from CPython's test_timeouts.py, plus races between a
// result and the deadline at the same virtual instant. Virtual clock throughout.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using asyncio::timeout_scope;

namespace {
using asyncio::testing::run_virtual;
using test_support::now;
using test_support::value_after;
auto nap(asyncio::duration d) -> task<> { co_await asyncio::sleep(d); }
}  // namespace

TEST(Timeout, Basic) {  // test_timeout_basic / test_timeout_at_basic
  run_virtual([]() -> task<> {
    bool expired = false;
    auto t0 = now();
    try {
      co_await asyncio::timeout(10ms, [&](timeout_scope& cm) -> task<> {
        co_await asyncio::sleep(10s);
        expired = cm.expired();
      });
      ADD_FAILURE();
    } catch (const asyncio::timeout_error& e) {
      // The cause is kept: Python's `raise TimeoutError from CancelledError`.
      bool nested_cancel = false;
      try {
        std::rethrow_if_nested(e);
      } catch (const asyncio::cancelled_error&) {
        nested_cancel = true;
      }
      EXPECT_TRUE(nested_cancel);
    }
    EXPECT_FALSE(expired);
    EXPECT_EQ(now() - t0, 10ms);

    auto deadline = now() + 10ms;
    std::optional<asyncio::time_point> seen;
    EXPECT_THROW(co_await asyncio::timeout_at(deadline,
                                              [&](timeout_scope& cm) -> task<> {
                                                seen = cm.when();
                                                co_await asyncio::sleep(10s);
                                              }),
                 asyncio::timeout_error);
    EXPECT_EQ(seen, deadline);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, CoroutineForm) {
  run_virtual([]() -> task<> {
    EXPECT_EQ(co_await asyncio::timeout(2s, value_after(1s, 5)), 5);
    EXPECT_THROW((void)co_await asyncio::timeout(1s, value_after(2s, 5)), asyncio::timeout_error);
    EXPECT_EQ(co_await asyncio::timeout(std::nullopt, value_after(100s, 6)), 6);  // disabled
    EXPECT_EQ(co_await asyncio::timeout_at(std::nullopt, value_after(100s, 7)), 7);
  }());
}

TEST(Timeout, NestedBothExpireOnlyOuterRaisesTimeout) {  // test_nested_timeouts
  run_virtual([]() -> task<> {
    bool inner_saw_cancel = false;
    bool cm2_expired = false;
    bool cm1_expired = false;
    auto deadline = now() + 10ms;
    try {
      co_await asyncio::timeout_at(deadline, [&](timeout_scope& cm1) -> task<> {
        try {
          co_await asyncio::timeout_at(deadline, [&](timeout_scope& cm2) -> task<> {
            try {
              co_await asyncio::sleep(10s);
            } catch (const asyncio::cancelled_error&) {
              cm2_expired = cm2.expired();
              throw;
            }
          });
        } catch (const asyncio::cancelled_error&) {
          inner_saw_cancel = true;  // the inner one must not claim the outer's cancellation
          cm1_expired = cm1.expired();
          throw;
        }
      });
      ADD_FAILURE();
    } catch (const asyncio::timeout_error&) {
    }
    EXPECT_TRUE(inner_saw_cancel);
    EXPECT_TRUE(cm1_expired);
    EXPECT_TRUE(cm2_expired);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, NestedInnerExpiresOuterDoesNot) {
  run_virtual([]() -> task<> {
    bool inner_timeout = false;
    int r = co_await asyncio::timeout(10s, [&](timeout_scope&) -> task<int> {
      try {
        co_await asyncio::timeout(1s, nap(5s));
      } catch (const asyncio::timeout_error&) {
        inner_timeout = true;
      }
      co_return co_await value_after(1s, 3);  // the outer timeout is still armed and fine
    });
    EXPECT_TRUE(inner_timeout);
    EXPECT_EQ(r, 3);
  }());
}

TEST(Timeout, WaiterCancelledThenYields) {  // test_waiter_cancelled
  run_virtual([]() -> task<> {
    EXPECT_THROW(co_await asyncio::timeout(10ms, []() -> task<> {
                   try {
                     co_await asyncio::sleep(10s);
                   } catch (const asyncio::cancelled_error&) {
                   }
                   co_await asyncio::sleep(0s);  // swallowed: this suspension is not interrupted
                   throw asyncio::cancelled_error();
                 }()),
                 asyncio::timeout_error);
  }());
}

TEST(Timeout, NotExpired) {  // test_timeout_not_called / test_timeout_disabled
  run_virtual([]() -> task<> {
    bool expired = true;
    std::optional<asyncio::time_point> when;
    co_await asyncio::timeout(10s, [&](timeout_scope& cm) -> task<> {
      co_await asyncio::sleep(0s);
      expired = cm.expired();
      when = cm.when();
    });
    EXPECT_FALSE(expired);
    EXPECT_TRUE(when.has_value());
    co_await asyncio::timeout(std::nullopt, [&](timeout_scope& cm) -> task<> {
      co_await asyncio::sleep(0s);
      when = cm.when();
    });
    EXPECT_FALSE(when.has_value());
  }());
}

TEST(Timeout, ZeroAndPastDeadlines) {  // test_timeout_zero, _zero_sleep_zero, _in_the_past_sleep_zero
  run_virtual([]() -> task<> {
    auto t0 = now();
    EXPECT_THROW(co_await asyncio::timeout(0s, nap(10s)), asyncio::timeout_error);
    EXPECT_THROW(co_await asyncio::timeout(0s, nap(0s)), asyncio::timeout_error);
    EXPECT_THROW(co_await asyncio::timeout(-11s, nap(0s)), asyncio::timeout_error);
    EXPECT_THROW(co_await asyncio::timeout_at(now() - 1s, nap(10s)), asyncio::timeout_error);
    EXPECT_EQ(now(), t0);
    // A body that never suspends finishes before the expired deadline can fire.
    int r = co_await asyncio::timeout(0s, []() -> task<int> { co_return 4; }());
    EXPECT_EQ(r, 4);
  }());
}

TEST(Timeout, ForeignExceptionPassesThrough) {  // test_foreign_exception_passed / _on_timeout
  run_virtual([]() -> task<> {
    bool expired = true;
    EXPECT_THROW(co_await asyncio::timeout(10ms, [&](timeout_scope& cm) -> task<> {
                   expired = cm.expired();
                   throw std::out_of_range("key");
                   co_return;
                 }),
                 std::out_of_range);
    EXPECT_FALSE(expired);
    // The body turns our cancellation into another exception: that exception wins.
    EXPECT_THROW(co_await asyncio::timeout(10ms, []() -> task<> {
                   bool c = false;
                   try {
                     co_await asyncio::sleep(1s);
                   } catch (const asyncio::cancelled_error&) {
                     c = true;
                   }
                   if (c) throw std::domain_error("zero");
                 }()),
                 std::domain_error);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, ForeignCancelIsNotATimeout) {  // test_foreign_cancel_doesnt_timeout_if_not_expired
  run_virtual([]() -> task<> {
    bool expired = true;
    auto t = asyncio::create_task([](bool* expired) -> task<> {
      auto fn = [expired](timeout_scope& cm) -> task<> {
        asyncio::current_task().cancel();
        try {
          co_await asyncio::sleep(10s);
        } catch (const asyncio::cancelled_error&) {
          *expired = cm.expired();
          throw;
        }
      };
      co_await asyncio::timeout(10s, fn);
    }(&expired));
    EXPECT_THROW(co_await t, asyncio::cancelled_error);
    EXPECT_FALSE(expired);
    EXPECT_TRUE(t.cancelled());
  }());
}

TEST(Timeout, OuterTaskIsNotCancelled) {  // test_outer_task_is_not_cancelled
  run_virtual([]() -> task<> {
    auto t = asyncio::create_task([]() -> task<bool> {
      try {
        co_await asyncio::timeout(1ms, nap(10s));
      } catch (const asyncio::timeout_error&) {
        co_return true;
      }
      co_return false;
    }());
    EXPECT_TRUE(co_await t);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0);
  }());
}

TEST(Timeout, OuterCancelDuringTimeoutPropagatesAsCancelled) {
  run_virtual([]() -> task<> {
    // Outer cancel before the deadline.
    auto t = asyncio::create_task(asyncio::timeout(10s, nap(20s)));
    co_await asyncio::sleep(1s);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::cancelled_error);
    EXPECT_TRUE(t.cancelled());
    // Outer cancel at the very instant the deadline fires, landing after the deadline's own
    // cancel but before the task runs: both requests are counted; the timeout withdraws only
    // its own, so cancelled_error (not timeout_error) escapes.
    asyncio::task_handle<void> u;
    auto canceller = asyncio::create_task([](asyncio::task_handle<void>* u) -> task<> {
      co_await asyncio::sleep(1s);  // armed before u's deadline: runs first at that instant
      EXPECT_TRUE(u->cancel());
    }(&u));
    u = asyncio::create_task(asyncio::timeout(1s, nap(20s)));
    EXPECT_THROW(co_await u, asyncio::cancelled_error);
    EXPECT_TRUE(u.cancelled());
    co_await canceller;
  }());
}

TEST(Timeout, ExpiredButBodySwallowsAndReturns) {
  run_virtual([]() -> task<> {
    bool expired = false;
    int r = co_await asyncio::timeout(1s, [&](timeout_scope& cm) -> task<int> {
      try {
        co_await asyncio::sleep(5s);
      } catch (const asyncio::cancelled_error&) {
      }
      expired = cm.expired();
      co_return 9;
    });
    EXPECT_EQ(r, 9);  // Python: no exception escaped, nothing to convert
    EXPECT_TRUE(expired);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
    co_await asyncio::sleep(0s);  // and no cancellation is left pending
  }());
}

TEST(Timeout, ResultAtTheDeadlineInstant) {
  run_virtual([]() -> task<> {
    // The body's sleep was armed after the deadline: the deadline fires first and wins.
    EXPECT_THROW((void)co_await asyncio::timeout(1s, value_after(1s, 1)), asyncio::timeout_error);
    // A child task whose timer was armed before the deadline finishes first and wakes us; the
    // deadline then fires while we are scheduled: the late cancel still interrupts (CPython).
    auto child = asyncio::create_task(value_after(1s, 2));
    EXPECT_THROW((void)co_await asyncio::timeout(1s, asyncio::shield(child)), asyncio::timeout_error);
    EXPECT_EQ(child.result(), 2);
    // A result that arrives one tick before the deadline is delivered.
    EXPECT_EQ(co_await asyncio::timeout(1s, value_after(999ms, 3)), 3);
    // The pending deadline was dropped along with our cancel request.
    co_await asyncio::sleep(2s);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, Reschedule) {
  run_virtual([]() -> task<> {
    auto t0 = now();
    int r = co_await asyncio::timeout(1s, [&](timeout_scope& cm) -> task<int> {
      cm.reschedule(now() + 5s);  // push it back
      co_await asyncio::sleep(3s);
      cm.reschedule(std::nullopt);  // and remove it
      co_await asyncio::sleep(10s);
      cm.reschedule(now() + 1s);
      co_return 1;
    });
    EXPECT_EQ(r, 1);
    EXPECT_EQ(now() - t0, 13s);
    // Bring it forward: expires at the new deadline.
    t0 = now();
    EXPECT_THROW(co_await asyncio::timeout(10s, [&](timeout_scope& cm) -> task<> {
                   cm.reschedule(now() + 2s);
                   co_await asyncio::sleep(5s);
                 }),
                 asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 2s);
    // Rescheduling an expiring timeout is refused.
    bool refused = false;
    try {
      co_await asyncio::timeout(1s, [&](timeout_scope& cm) -> task<> {
        try {
          co_await asyncio::sleep(5s);
        } catch (const asyncio::cancelled_error&) {
          try {
            cm.reschedule(now() + 10s);
          } catch (const asyncio::invalid_state_error&) {
            refused = true;
          }
          throw;
        }
      });
    } catch (const asyncio::timeout_error&) {
    }
    EXPECT_TRUE(refused);
  }());
}

TEST(Timeout, WrapsTaskGroup) {  // test_exception_refcycles_propagate_cancellation_error shape
  run_virtual([]() -> task<> {
    int cancelled = 0;
    auto sleeper = [](int* n) -> task<> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
        ++*n;
        throw;
      }
    };
    EXPECT_THROW(co_await asyncio::timeout(1s, asyncio::with_task_group([&](asyncio::task_group& tg) -> task<> {
                   tg.create_task(sleeper(&cancelled));
                   tg.create_task(sleeper(&cancelled));
                   co_return;
                 })),
                 asyncio::timeout_error);
    EXPECT_EQ(cancelled, 2);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, CancelledAtEverySuspensionOfTheBody) {
  // Move the deadline across each suspension point of a three-step body.
  for (int step = 0; step < 3; ++step) {
    run_virtual([](int step) -> task<> {
      int reached = -1;
      auto deadline = std::chrono::seconds(step) + 500ms;
      try {
        co_await asyncio::timeout(deadline, [&](timeout_scope&) -> task<> {
          for (int i = 0; i < 3; ++i) {
            reached = i;
            co_await asyncio::sleep(1s);
          }
        });
        ADD_FAILURE();
      } catch (const asyncio::timeout_error&) {
      }
      EXPECT_EQ(reached, step);
    }(step));
  }
}
