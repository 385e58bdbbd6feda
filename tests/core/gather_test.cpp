// gather: behaviour ported from CPython's test_tasks.py (gather tests), plus this library's rule
// that no child outlives gather (docs/lessons.md §1.4). Every test runs on the virtual clock.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;

namespace {

using asyncio::testing::run_virtual;
using test_support::now;
using test_support::value_after;


struct boom : std::runtime_error {
  explicit boom(const std::string& w) : std::runtime_error(w) {}
};

auto fail_after(asyncio::duration d, std::string what = "boom") -> task<int> {
  co_await asyncio::sleep(d);
  throw boom(what);
}
auto void_after(asyncio::duration d) -> task<> { co_await asyncio::sleep(d); }

// Records, through an RAII guard and a catch block, that a child was unwound by cancellation.
struct unwind_log {
  int destructors = 0;
  int cancels = 0;
  int finished = 0;
};
struct guard {
  unwind_log* log;
  ~guard() { ++log->destructors; }
};
auto logged_sleeper(unwind_log* log, asyncio::duration d, asyncio::duration cleanup = 0s) -> task<int> {
  guard g{log};
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    ++log->cancels;
    throw;
  }
  ++log->finished;
  co_return 1;
  (void)cleanup;
}
// A child that takes `cleanup` of virtual time to unwind after being cancelled.
auto slow_to_cancel(unwind_log* log, asyncio::duration cleanup) -> task<int> {
  guard g{log};
  bool cancelled = false;
  try {
    co_await asyncio::sleep(100s);
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  if (cancelled) {
    ++log->cancels;
    co_await asyncio::sleep(cleanup);  // still inside the child: gather must wait for this
    throw asyncio::cancelled_error();
  }
  co_return 0;
}

}  // namespace

TEST(Gather, TupleInArgumentOrderRunsConcurrently) {
  auto r = run_virtual([]() -> task<double> {
    auto t0 = now();
    auto [a, b, c] = co_await asyncio::gather(value_after(3s, 1), value_after(1s, 2), void_after(2s));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    static_assert(std::is_same_v<decltype(c), std::monostate>);
    co_return std::chrono::duration<double>(now() - t0).count();
  }());
  EXPECT_DOUBLE_EQ(r, 3.0);  // concurrent: the longest child, not the sum
}

TEST(Gather, MixedCoroutinesAndHandles) {
  run_virtual([]() -> task<> {
    auto h = asyncio::create_task(value_after(1s, 10));
    auto [x, y] = co_await asyncio::gather(h, value_after(2s, 20));
    EXPECT_EQ(x, 10);
    EXPECT_EQ(y, 20);
    EXPECT_EQ(h.result(), 10);  // a handle's result is copied, not stolen
  }());
}

TEST(Gather, EmptyGivesEmpty) {
  run_virtual([]() -> task<> {
    auto t = co_await asyncio::gather();
    static_assert(std::tuple_size_v<decltype(t)> == 0);
    std::vector<task<int>> none;
    auto v = co_await asyncio::gather(std::move(none));
    EXPECT_TRUE(v.empty());
  }());
}

TEST(Gather, VectorOfCoroutinesAndOfHandles) {
  run_virtual([]() -> task<> {
    std::vector<task<int>> coros;
    for (int i = 0; i < 5; ++i) coros.push_back(value_after(std::chrono::seconds(5 - i), i));
    auto v = co_await asyncio::gather(std::move(coros));
    EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 4}));

    std::vector<asyncio::task_handle<int>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(asyncio::create_task(value_after(1s, i * 10)));
    hs.push_back(hs[0]);  // duplicates are allowed, as in Python
    auto w = co_await asyncio::gather(hs);
    EXPECT_EQ(w, (std::vector<int>{0, 10, 20, 0}));

    std::vector<task<>> voids;
    voids.push_back(void_after(1s));
    auto m = co_await asyncio::gather(std::move(voids));
    EXPECT_EQ(m.size(), 1u);
  }());
}

TEST(Gather, AlreadyDoneHandles) {
  run_virtual([]() -> task<> {
    auto h1 = asyncio::create_task(value_after(0s, 1));
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(h1.done());
    auto [a, b] = co_await asyncio::gather(h1, value_after(1s, 2));
    EXPECT_EQ(a + b, 3);
  }());
}

TEST(Gather, MoveOnlyResults) {
  run_virtual([]() -> task<> {
    auto make = [](int v) -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(v); };
    auto [p, q] = co_await asyncio::gather(make(1), make(2));
    EXPECT_EQ(*p + *q, 3);
  }());
}

// The rule of docs/lessons.md §1.4: siblings are cancelled AND finished (destructors run) before gather throws.
TEST(Gather, FirstFailureCancelsAndAwaitsSiblingsBeforeThrowing) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto t0 = now();
    try {
      (void)co_await asyncio::gather(logged_sleeper(log, 10s), fail_after(1s), logged_sleeper(log, 20s));
      ADD_FAILURE() << "gather should throw";
    } catch (const boom&) {
      EXPECT_EQ(log->destructors, 2);  // both siblings fully unwound before the throw reached us
      EXPECT_EQ(log->cancels, 2);
      EXPECT_EQ(log->finished, 0);
    }
    EXPECT_EQ(now() - t0, 1s);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);  // gather did not cancel its caller
  }(&log));
}

TEST(Gather, FailureWaitsForSlowSiblingCleanup) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto t0 = now();
    try {
      (void)co_await asyncio::gather(slow_to_cancel(log, 5s), fail_after(1s));
      ADD_FAILURE();
    } catch (const boom&) {
      EXPECT_EQ(log->destructors, 1);
    }
    EXPECT_EQ(now() - t0, 6s);  // 1 s until the failure + 5 s of sibling cleanup
  }(&log));
}

TEST(Gather, ExceptionInEveryPosition) {
  for (int pos = 0; pos < 3; ++pos) {
    run_virtual([](int pos) -> task<> {
      std::vector<task<int>> coros;
      for (int i = 0; i < 3; ++i) coros.push_back(i == pos ? fail_after(1s, "at" + std::to_string(i)) : value_after(2s, i));
      std::vector<asyncio::task_handle<int>> hs;
      for (auto& c : coros) hs.push_back(asyncio::create_task(std::move(c)));
      try {
        (void)co_await asyncio::gather(hs);
        ADD_FAILURE();
      } catch (const boom& e) {
        EXPECT_EQ(std::string(e.what()), "at" + std::to_string(pos));
      }
      for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(hs[i].done());
        EXPECT_EQ(hs[i].cancelled(), i != pos);
      }
    }(pos));
  }
}

TEST(Gather, FirstFailureInCompletionOrderWins) {
  run_virtual([]() -> task<> {
    try {
      (void)co_await asyncio::gather(fail_after(2s, "late"), fail_after(1s, "early"));
      ADD_FAILURE();
    } catch (const boom& e) {
      EXPECT_STREQ(e.what(), "early");
    }
  }());
}

TEST(Gather, SynchronousFailureDuringEagerStart) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto fail_now = []() -> task<int> { throw boom("now"); co_return 0; };
    try {
      (void)co_await asyncio::gather(logged_sleeper(log, 10s), fail_now(), logged_sleeper(log, 10s));
      ADD_FAILURE();
    } catch (const boom& e) {
      EXPECT_STREQ(e.what(), "now");
    }
    EXPECT_EQ(log->destructors, 2);
  }(&log));
}

TEST(Gather, ChildCancelledFromOutsideRaisesCancelledError) {
  run_virtual([]() -> task<> {
    auto victim = asyncio::create_task(value_after(10s, 1));
    auto other = asyncio::create_task(value_after(10s, 2));
    auto killer = [](asyncio::task_handle<int> v) -> task<> {
      co_await asyncio::sleep(1s);
      v.cancel("external");
    };
    auto k = asyncio::create_task(killer(victim));
    bool caught = false;
    try {
      (void)co_await asyncio::gather(victim, other);
    } catch (const asyncio::cancelled_error& e) {
      caught = true;
      EXPECT_EQ(e.message(), "external");
    }
    EXPECT_TRUE(caught);
    EXPECT_TRUE(other.cancelled());  // the sibling was cancelled and finished
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
    co_await k;
  }());
}

TEST(Gather, ReturnExceptionsCollectsEverything) {
  run_virtual([]() -> task<> {
    auto victim = asyncio::create_task(value_after(10s, 3));
    auto killer = [](asyncio::task_handle<int> v) -> task<> {
      co_await asyncio::sleep(1s);
      v.cancel();
    };
    auto k = asyncio::create_task(killer(victim));
    auto [a, b, c, d] =
        co_await asyncio::gather(asyncio::return_exceptions, value_after(2s, 1), fail_after(1s), victim, void_after(3s));
    EXPECT_TRUE(a.has_value());
    EXPECT_EQ(*a, 1);
    EXPECT_FALSE(b.has_value());
    EXPECT_THROW(b.value(), boom);
    EXPECT_TRUE(c.cancelled());
    EXPECT_TRUE(d.has_value());
    co_await k;

    std::vector<task<int>> coros;
    coros.push_back(fail_after(1s));
    coros.push_back(value_after(2s, 7));
    auto rs = co_await asyncio::gather(asyncio::return_exceptions, std::move(coros));
    if (rs.size() != 2u) { ADD_FAILURE(); co_return; }
    EXPECT_TRUE(rs[0].exception() != nullptr);
    EXPECT_EQ(rs[1].value(), 7);
  }());
}

TEST(Gather, OuterCancelCancelsChildrenWaitsThenRaises) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto parent = asyncio::create_task([](unwind_log* log) -> task<int> {
      auto [a, b] = co_await asyncio::gather(logged_sleeper(log, 10s), slow_to_cancel(log, 3s));
      co_return a + b;
    }(log));
    co_await asyncio::sleep(1s);
    parent.cancel("stop");
    auto t0 = now();
    try {
      (void)co_await parent;
      ADD_FAILURE();
    } catch (const asyncio::cancelled_error& e) {
      EXPECT_EQ(e.message(), "stop");
    }
    EXPECT_EQ(now() - t0, 3s);  // waited for the slow child's cleanup
    EXPECT_EQ(log->destructors, 2);
    EXPECT_EQ(log->cancels, 2);
  }(&log));
}

TEST(Gather, OuterCancelWinsEvenIfChildrenSwallowIt) {
  run_virtual([]() -> task<> {
    auto stubborn = []() -> task<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
      }
      co_return 5;
    };
    auto parent = asyncio::create_task([](auto stubborn) -> task<int> {
      auto [a] = co_await asyncio::gather(asyncio::return_exceptions, stubborn());
      co_return *a;
    }(stubborn));
    co_await asyncio::sleep(1s);
    parent.cancel();
    EXPECT_THROW((void)co_await parent, asyncio::cancelled_error);
    EXPECT_TRUE(parent.cancelled());
  }());
}

TEST(Gather, CancelDuringSiblingCleanupAfterFailureRaisesCancelledError) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto parent = asyncio::create_task([](unwind_log* log) -> task<> {
      (void)co_await asyncio::gather(slow_to_cancel(log, 5s), fail_after(1s));
    }(log));
    co_await asyncio::sleep(2s);  // the failure happened at 1 s; the sibling cleans up until 6 s
    EXPECT_FALSE(parent.done());
    parent.cancel();
    auto t0 = now();
    EXPECT_THROW(co_await parent, asyncio::cancelled_error);  // the outer cancel is not swallowed
    EXPECT_EQ(now() - t0, 0s);  // the new cancel is forwarded too: it cuts the sibling's cleanup short
    EXPECT_EQ(log->destructors, 1);
  }(&log));
}

TEST(Gather, CancelPendingBeforeGatherStartsWaiting) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto parent = asyncio::create_task([](unwind_log* log) -> task<> {
      asyncio::current_task().cancel();  // pending: delivered at the next suspension point
      (void)co_await asyncio::gather(logged_sleeper(log, 10s), logged_sleeper(log, 10s));
    }(log));
    EXPECT_THROW(co_await parent, asyncio::cancelled_error);
    EXPECT_EQ(log->destructors, 2);
    EXPECT_EQ(log->cancels, 2);
  }(&log));
}

TEST(Gather, NestedGatherCancellationReachesLeaves) {
  unwind_log log;
  run_virtual([](unwind_log* log) -> task<> {
    auto inner = [](unwind_log* log) -> task<int> {
      auto [a, b] = co_await asyncio::gather(logged_sleeper(log, 10s), logged_sleeper(log, 10s));
      co_return a + b;
    };
    auto parent = asyncio::create_task([](auto inner, unwind_log* log) -> task<> {
      (void)co_await asyncio::gather(inner(log), inner(log));
    }(inner, log));
    co_await asyncio::sleep(1s);
    parent.cancel();
    EXPECT_THROW(co_await parent, asyncio::cancelled_error);
    EXPECT_EQ(log->destructors, 4);
  }(&log));
}

TEST(Gather, OtherFailuresAreMarkedRetrieved) {
  asyncio::testing::virtual_clock clk;
  asyncio::loop_options options;
  options.clock = &clk;
  int reports = 0;
  asyncio::run(
      [](int* reports) -> task<> {
        asyncio::get_running_loop().set_exception_handler(
            [reports](asyncio::event_loop&, const asyncio::exception_context&) { ++*reports; });
        try {
          (void)co_await asyncio::gather(fail_after(1s, "a"), fail_after(1s, "b"), fail_after(1s, "c"));
        } catch (const boom&) {
        }
        co_await asyncio::sleep(1s);
      }(&reports),
      options);
  EXPECT_EQ(reports, 0);
}

// gather of futures (Python's gather accepts futures): results in argument order; cancelling
// gather cancels the futures not done yet.
TEST(Gather, FuturesAmongTheArguments) {
  run_virtual([]() -> task<> {
    asyncio::future<int> f;
    asyncio::future<> v;
    asyncio::get_running_loop().call_later(2s, [f]() mutable { f.set_result(4); });
    asyncio::get_running_loop().call_later(1s, [v]() mutable { v.set_result(); });
    auto [a, b, c] = co_await asyncio::gather(f, value_after(1s, 5), v);
    EXPECT_EQ(a, 4);
    EXPECT_EQ(b, 5);
    (void)c;
    EXPECT_EQ(f.result(), 4);  // copied out: the future still has it

    std::vector<asyncio::future<int>> fs(3);
    for (int i = 0; i < 3; ++i) {
      asyncio::get_running_loop().call_later(std::chrono::seconds(3 - i), [g = fs[static_cast<std::size_t>(i)], i]() mutable { g.set_result(i); });
    }
    std::vector<int> all = co_await asyncio::gather(fs);
    EXPECT_EQ(all, (std::vector<int>{0, 1, 2}));

    asyncio::future<int> pending;
    auto g = asyncio::create_task(asyncio::gather(pending, value_after(10s, 1)));
    co_await asyncio::sleep(1s);
    g.cancel();
    bool cancelled = false;
    try {
      (void)co_await g;
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(pending.cancelled());
  }());
}
