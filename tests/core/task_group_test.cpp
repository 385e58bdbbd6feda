// task_group: behaviour ported from CPython's test_taskgroups.py (3.13), for the function form
// (with_task_group, exact semantics) and the object form (task_group + join). Virtual clock.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using asyncio::task_group;

namespace {

using asyncio::testing::run_virtual;
using test_support::now;
using test_support::slow_to_cancel;
using test_support::value_after;

struct zero_division : std::runtime_error {
  zero_division() : std::runtime_error("division by zero") {}
};
struct my_exc : std::runtime_error {
  my_exc() : std::runtime_error("my_exc") {}
};
struct value_error : std::runtime_error {
  explicit value_error(const std::string& w = "value") : std::runtime_error(w) {}
};

// The kind of each exception of a group, sorted: "zero", "my", "value", "group", "cancelled", "?".
auto kind(const std::exception_ptr& e) -> std::string {
  try {
    std::rethrow_exception(e);
  } catch (const zero_division&) {
    return "zero";
  } catch (const my_exc&) {
    return "my";
  } catch (const value_error&) {
    return "value";
  } catch (const asyncio::exception_group&) {
    return "group";
  } catch (const asyncio::cancelled_error&) {
    return "cancelled";
  } catch (...) {
    return "?";
  }
}
auto kinds(const asyncio::exception_group& g) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& e : g.exceptions()) out.push_back(kind(e));
  std::sort(out.begin(), out.end());
  return out;
}
auto distinct_kinds(const asyncio::exception_group& g) -> std::vector<std::string> {
  auto k = kinds(g);
  k.erase(std::unique(k.begin(), k.end()), k.end());
  return k;
}
using strings = std::vector<std::string>;

auto crash_after(asyncio::duration d) -> task<> {
  co_await asyncio::sleep(d);
  throw zero_division();
}
auto value_error_after(asyncio::duration d) -> task<> {
  co_await asyncio::sleep(d);
  throw value_error();
}
// Sleeps; counts a cancellation in *n and re-raises it.
auto count_cancel(int* n, asyncio::duration d = 5s) -> task<> {
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    ++*n;
    throw;
  }
}
// Sleeps; raises zero_division when cancelled (Python's `finally: 1 / 0`).
auto fail_when_cancelled() -> task<> {
  bool cancelled = false;
  try {
    co_await asyncio::sleep(10s);
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  if (cancelled) throw zero_division();
}

}  // namespace

// ---- function form: CPython's test_taskgroups.py ------------------------------------------------

TEST(TaskGroup, Results) {  // test_taskgroup_01 / 02
  run_virtual([]() -> task<> {
    asyncio::task_handle<int> t1, t2;
    co_await asyncio::with_task_group([&](task_group& g) -> task<> {
      t1 = g.create_task(value_after(100ms, 42));
      co_await asyncio::sleep(150ms);
      t2 = g.create_task(value_after(200ms, 11));
    });
    EXPECT_EQ(t1.result(), 42);
    EXPECT_EQ(t2.result(), 11);
  }());
}

TEST(TaskGroup, BodyReturnsAValue) {
  EXPECT_EQ(run_virtual([]() -> task<int> {
              int r = co_await asyncio::with_task_group([](task_group& g) -> task<int> {
                auto t = g.create_task(value_after(1s, 20));
                co_return 22 + co_await t;
              });
              co_return r;
            }()),
            42);
}

TEST(TaskGroup, ChildCancelledExplicitlyIsNotAnError) {  // test_taskgroup_03
  run_virtual([]() -> task<> {
    asyncio::task_handle<int> t1, t2;
    co_await asyncio::with_task_group([&](task_group& g) -> task<> {
      t1 = g.create_task(value_after(1s, 42));
      co_await asyncio::sleep(150ms);
      t1.cancel();
      t2 = g.create_task(value_after(200ms, 11));
    });
    EXPECT_TRUE(t1.cancelled());
    EXPECT_EQ(t2.result(), 11);
  }());
}

TEST(TaskGroup, ChildErrorCancelsSiblingsAndRaisesGroup) {  // test_taskgroup_04
  run_virtual([]() -> task<> {
    int num = 0;
    int t2_cancel = 0;
    asyncio::task_handle<void> t2;
    auto runner = [&]() -> task<> {
      co_await asyncio::with_task_group([&](task_group& g) -> task<> {
        g.create_task(crash_after(100ms));
        t2 = g.create_task(count_cancel(&t2_cancel, 1s));
        co_return;
      });
      num += 10;
    };
    try {
      co_await asyncio::create_task(runner());
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"zero"});
    }
    EXPECT_EQ(num, 0);
    EXPECT_EQ(t2_cancel, 1);
    EXPECT_TRUE(t2.cancelled());
  }());
}

TEST(TaskGroup, ChildErrorCancelsTheBody) {  // test_cancel_children_on_child_error
  run_virtual([]() -> task<> {
    int t2_cancel = 0;
    bool runner_cancel = false;
    auto t0 = now();
    try {
      co_await asyncio::with_task_group([&](task_group& g) -> task<> {
        g.create_task(crash_after(100ms));
        g.create_task(crash_after(100ms));
        g.create_task(crash_after(100ms));
        g.create_task(count_cancel(&t2_cancel));
        try {
          co_await asyncio::sleep(10s);
        } catch (const asyncio::cancelled_error&) {
          runner_cancel = true;
          throw;
        }
      });
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(distinct_kinds(eg), strings{"zero"});
    }
    EXPECT_EQ(now() - t0, 100ms);
    EXPECT_EQ(t2_cancel, 1);
    EXPECT_TRUE(runner_cancel);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);  // the group's own cancel was withdrawn
  }());
}

TEST(TaskGroup, ParentCancellationReachesEveryChild) {  // test_cancellation, test_taskgroup_07
  run_virtual([]() -> task<> {
    int num = 0;
    auto runner = [](int* num, bool body_sleeps) -> task<> {
      auto body = [num, body_sleeps](task_group& g) -> task<> {
        for (int i = 0; i < 5; ++i) g.create_task(count_cancel(num));
        if (body_sleeps) {
          try {
            co_await asyncio::sleep(10s);
          } catch (const asyncio::cancelled_error&) {
            *num += 10;
            throw;
          }
        }
      };
      co_await asyncio::with_task_group(body);
    };
    for (bool body_sleeps : {false, true}) {
      num = 0;
      auto r = asyncio::create_task(runner(&num, body_sleeps));
      co_await asyncio::sleep(100ms);
      EXPECT_FALSE(r.done());
      r.cancel("test");
      try {
        co_await r;
        ADD_FAILURE();
      } catch (const asyncio::cancelled_error& e) {
        EXPECT_EQ(e.message(), "test");
      }
      EXPECT_EQ(num, body_sleeps ? 15 : 5);
    }
  }());
}

TEST(TaskGroup, ErrorsDuringParentCancellationWin) {  // test_taskgroup_08 (3.13)
  run_virtual([]() -> task<> {
    auto r = asyncio::create_task([]() -> task<> {
      co_await asyncio::with_task_group([](task_group& g) -> task<> {
        for (int i = 0; i < 5; ++i) g.create_task(fail_when_cancelled());
        co_await asyncio::sleep(10s);
      });
    }());
    co_await asyncio::sleep(100ms);
    r.cancel();
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings(5, "zero"));
    }
  }());
}

TEST(TaskGroup, BodyErrorAfterAndBeforeSuspending) {  // test_taskgroup_09 / 10
  for (bool sleep_first : {true, false}) {
    run_virtual([](bool sleep_first) -> task<> {
      asyncio::task_handle<int> t1, t2;
      try {
        co_await asyncio::with_task_group([&](task_group& g) -> task<> {
          t1 = g.create_task(value_after(1s, 42));
          t2 = g.create_task(value_after(2s, 11));
          if (sleep_first) co_await asyncio::sleep(100ms);
          throw zero_division();
        });
        ADD_FAILURE();
      } catch (const asyncio::exception_group& eg) {
        EXPECT_EQ(kinds(eg), strings{"zero"});
      }
      EXPECT_TRUE(t1.cancelled());
      EXPECT_TRUE(t2.cancelled());
    }(sleep_first));
  }
}

TEST(TaskGroup, NestedGroupsErrorsOnCancelNest) {  // test_taskgroup_11 / 12
  for (bool outer_child : {false, true}) {
    run_virtual([](bool outer_child) -> task<> {
      auto r = asyncio::create_task([](bool outer_child) -> task<> {
        auto body = [outer_child](task_group& g1) -> task<> {
          if (outer_child) g1.create_task(value_after(10s, 0));
          co_await asyncio::with_task_group([](task_group& g2) -> task<> {
            for (int i = 0; i < 5; ++i) g2.create_task(fail_when_cancelled());
            co_await asyncio::sleep(10s);
          });
        };
        co_await asyncio::with_task_group(body);
      }(outer_child));
      co_await asyncio::sleep(100ms);
      r.cancel();
      try {
        co_await r;
        ADD_FAILURE();
      } catch (const asyncio::exception_group& eg) {
        EXPECT_EQ(kinds(eg), strings{"group"});
        try {
          std::rethrow_exception(eg.exceptions().at(0));
        } catch (const asyncio::exception_group& inner) {
          EXPECT_EQ(kinds(inner), strings(5, "zero"));
        }
      }
    }(outer_child));
  }
}

TEST(TaskGroup, NestedCrashes) {  // test_taskgroup_13 / 14
  run_virtual([]() -> task<> {
    // Outer child crashes first: the inner group is cancelled from outside (no error of its own).
    try {
      co_await asyncio::with_task_group([](task_group& g1) -> task<> {
        g1.create_task(value_error_after(100ms));
        co_await asyncio::with_task_group([](task_group& g2) -> task<> {
          g2.create_task(value_error_after(10s));
          co_return;
        });
      });
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"value"});
    }
    // Inner child crashes first: the inner group's exception_group lands in the outer one.
    try {
      co_await asyncio::with_task_group([](task_group& g1) -> task<> {
        g1.create_task(value_error_after(10s));
        co_await asyncio::with_task_group([](task_group& g2) -> task<> {
          g2.create_task(value_error_after(100ms));
          co_return;
        });
      });
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"group"});
    }
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroup, CancelDuringCleanupThenChildFails) {  // test_taskgroup_15 / 16
  for (bool via_task : {false, true}) {
    run_virtual([](bool via_task) -> task<> {
      auto nested_runner = []() -> task<> {
        co_await asyncio::with_task_group([](task_group& g1) -> task<> {
          g1.create_task(crash_after(300ms));
          bool cancelled = false;
          try {
            co_await asyncio::sleep(10s);
          } catch (const asyncio::cancelled_error&) {
            cancelled = true;
          }
          if (cancelled) {
            co_await asyncio::sleep(500ms);  // cleanup; the child crashes meanwhile (cancels this)
            throw asyncio::cancelled_error();
          }
        });
      };
      auto runner = [](auto nested_runner, bool via_task) -> task<> {
        if (via_task) {
          co_await asyncio::create_task(nested_runner());
        } else {
          co_await nested_runner();
        }
      };
      auto r = asyncio::create_task(runner(nested_runner, via_task));
      co_await asyncio::sleep(100ms);
      EXPECT_FALSE(r.done());
      r.cancel();
      auto t0 = now();
      try {
        co_await r;
        ADD_FAILURE();
      } catch (const asyncio::exception_group& eg) {
        EXPECT_EQ(kinds(eg), strings{"zero"});
      }
      EXPECT_EQ(now() - t0, 200ms);  // the crash at 300 ms interrupted the 500 ms cleanup
    }(via_task));
  }
}

TEST(TaskGroup, BodyReraisesCancellation) {  // test_taskgroup_17 / 22
  run_virtual([]() -> task<> {
    int num = 0;
    auto r = asyncio::create_task([](int* num) -> task<> {
      auto body = [num](task_group& g) -> task<> {
        g.create_task(value_after(1s, 42));
        g.create_task(value_after(2s, 11));
        try {
          co_await asyncio::sleep(10s);
        } catch (const asyncio::cancelled_error&) {
          *num += 10;
          throw;
        }
      };
      co_await asyncio::with_task_group(body);
    }(&num));
    co_await asyncio::sleep(50ms);
    r.cancel();
    EXPECT_THROW(co_await r, asyncio::cancelled_error);
    EXPECT_EQ(num, 10);
  }());
}

TEST(TaskGroup, BodyTurnsCancellationIntoError) {  // test_taskgroup_18
  run_virtual([]() -> task<> {
    auto r = asyncio::create_task([]() -> task<> {
      co_await asyncio::with_task_group([](task_group&) -> task<> {
        bool cancelled = false;
        try {
          co_await asyncio::sleep(10s);
        } catch (const asyncio::cancelled_error&) {
          cancelled = true;
        }
        if (cancelled) throw my_exc();  // a bad idea, but supported
      });
    }());
    co_await asyncio::sleep(100ms);
    r.cancel();
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"my"});
    }
  }());
}

TEST(TaskGroup, ChildAndBodyErrorsTogether) {  // test_taskgroup_19
  run_virtual([]() -> task<> {
    auto nested = []() -> task<> {
      bool cancelled = false;
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
        cancelled = true;
      }
      if (cancelled) throw my_exc();  // Python's `finally: raise MyExc`
    };
    try {
      auto body = [nested](task_group& g) -> task<> {
        g.create_task(crash_after(100ms));
        co_await nested();
      };
      co_await asyncio::with_task_group(body);
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), (strings{"my", "zero"}));
      EXPECT_EQ(kind(eg.exceptions().at(0)), "zero");  // children first, then the body
    }
  }());
}

TEST(TaskGroup, SizeShrinksAsChildrenFinish) {  // test_taskgroup_23
  run_virtual([]() -> task<> {
    co_await asyncio::with_task_group([](task_group& g) -> task<> {
      for (int count = 0; count < 10; ++count) {
        co_await asyncio::sleep(100ms);
        g.create_task(value_after(300ms, 0));
        if (count == 5) {
          EXPECT_LT(g.size(), 5u);
        }
      }
      co_await asyncio::sleep(1350ms);
      EXPECT_EQ(g.size(), 0u);
    });
  }());
}

TEST(TaskGroup, ChildrenCreateChildren) {  // test_taskgroup_24 / 25
  run_virtual([]() -> task<> {
    auto coro1 = [](asyncio::duration d) -> task<> { co_await asyncio::sleep(d); };
    auto body = [coro1](task_group& g) -> task<> {
      g.create_task([](task_group* g, auto coro1) -> task<> {
        co_await asyncio::sleep(100ms);
        g->create_task(coro1(100ms));
        g->create_task(coro1(200ms));
      }(&g, coro1));
      co_return;
    };
    co_await asyncio::with_task_group(body);

    int nhydras = 0;
    struct hydra_fn {
      static auto hydra(task_group* g, int* n) -> task<> {
        ++*n;
        co_await asyncio::sleep(10ms);
        if (*n < 100000) {  // bounded (and not "infinite recursion" to clang's eyes)
          g->create_task(hydra(g, n));
          g->create_task(hydra(g, n));
        }
      }
    };
    try {
      co_await asyncio::with_task_group([&nhydras](task_group& g) -> task<> {
        g.create_task(hydra_fn::hydra(&g, &nhydras));
        g.create_task([](int* n) -> task<> {
          while (*n < 10) co_await asyncio::sleep(15ms);
          throw zero_division();
        }(&nhydras));
        co_return;
      });
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"zero"});
    }
    EXPECT_GE(nhydras, 10);
  }());
}

TEST(TaskGroup, TaskName) {  // test_taskgroup_task_name, test_name
  run_virtual([]() -> task<> {
    std::string seen;
    co_await asyncio::with_task_group([&seen](task_group& g) -> task<> {
      auto t = g.create_task([](std::string* seen) -> task<> {
        *seen = asyncio::current_task().get_name();
        co_return;
      }(&seen), "yolo");
      EXPECT_EQ(t.get_name(), "yolo");
      co_return;
    });
    EXPECT_EQ(seen, "yolo");
  }());
}

TEST(TaskGroup, NoCreateTaskAfterFailure) {  // test_taskgroup_no_create_task_after_failure
  run_virtual([]() -> task<> {
    bool refused = false;
    try {
      co_await asyncio::with_task_group([&refused](task_group& g) -> task<> {
        g.create_task(crash_after(1ms));
        g.create_task([](task_group* g, bool* refused) -> task<> {
          try {
            co_await asyncio::sleep(1s);
          } catch (const asyncio::cancelled_error&) {
            bool ran = false;
            try {
              g->create_task([](bool* ran) -> task<> {
                *ran = true;
                co_return;
              }(&ran));
            } catch (const asyncio::error&) {
              *refused = true;
            }
            EXPECT_FALSE(ran);  // the refused coroutine never ran
            throw;
          }
        }(&g, &refused));
        co_return;
      });
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"zero"});
    }
    EXPECT_TRUE(refused);
  }());
}

TEST(TaskGroup, FinishedGroupRefusesNewTasks) {  // test_taskgroup_finished, test_coro_closed_when_tg_closed
  run_virtual([]() -> task<> {
    task_group* saved = nullptr;
    // The object form keeps the group alive after join; the function form cannot leak it.
    task_group tg;
    co_await tg.join();
    saved = &tg;
    bool ran = false;
    EXPECT_THROW(saved->create_task([](bool* ran) -> task<> {
      *ran = true;
      co_return;
    }(&ran)),
                 asyncio::error);
    EXPECT_FALSE(ran);
  }());
}

TEST(TaskGroup, CancellingLevelPreserved) {  // test_cancelling_level_preserved
  run_virtual([]() -> task<> {
    try {
      co_await asyncio::with_task_group([](task_group& g) -> task<> {
        g.create_task([]() -> task<> {
          co_await asyncio::sleep(0s);
          throw std::runtime_error("x");
        }());
        co_return;
      });
    } catch (const asyncio::exception_group&) {
    }
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroup, NestedGroupsBothCancelled) {  // test_nested_groups_both_cancelled
  run_virtual([]() -> task<> {
    auto raise_after = [](asyncio::duration d, bool value) -> task<> {
      co_await asyncio::sleep(d);
      if (value) throw value_error();
      throw my_exc();
    };
    bool value_raised = false;
    try {
      auto body = [raise_after](task_group& outer_tg) -> task<> {
        bool inner_raised = false;
        try {
          auto inner_body = [&outer_tg, raise_after](task_group& inner_tg) -> task<> {
            inner_tg.create_task(raise_after(0s, false));
            outer_tg.create_task(raise_after(0s, true));
            co_return;
          };
          co_await asyncio::with_task_group(inner_body);
        } catch (const asyncio::exception_group& eg) {
          inner_raised = true;
          EXPECT_EQ(kinds(eg), strings{"my"});
        }
        EXPECT_TRUE(inner_raised);
        EXPECT_EQ(asyncio::current_task().cancelling(), 1);
      };
      co_await asyncio::with_task_group(body);
    } catch (const asyncio::exception_group& eg) {
      value_raised = true;
      EXPECT_EQ(kinds(eg), strings{"value"});
    }
    EXPECT_TRUE(value_raised);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroup, ErrorAndOuterCancel) {  // test_error_and_cancel
  run_virtual([]() -> task<> {
    asyncio::future<void> started;
    bool group_error = false;
    bool after_sleep_cancelled = false;
    auto inner = [](asyncio::future<void> started, bool* group_error, bool* after) -> task<> {
      try {
        auto body = [started](task_group& tg) mutable -> task<> {
          tg.create_task([](asyncio::future<void> started) -> task<> {
            started.set_result();
            co_await asyncio::sleep(0s);
            throw std::runtime_error("x");
          }(started));
          co_await asyncio::sleep(1s);
          ADD_FAILURE() << "sleep in group should have been cancelled";
        };
        co_await asyncio::with_task_group(body);
      } catch (const asyncio::exception_group&) {
        *group_error = true;
        EXPECT_EQ(asyncio::current_task().cancelling(), 1);
      }
      EXPECT_EQ(asyncio::current_task().cancelling(), 1);
      try {
        co_await asyncio::sleep(1s);
      } catch (const asyncio::cancelled_error&) {
        *after = true;  // the outer cancel was not swallowed by the group
        throw;
      }
      ADD_FAILURE() << "sleep after group should have been cancelled";
    };
    auto t = asyncio::create_task(inner(started, &group_error, &after_sleep_cancelled));
    co_await started;
    EXPECT_EQ(t.cancelling(), 0);
    t.cancel();
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_THROW(co_await t, asyncio::cancelled_error);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(group_error);
    EXPECT_TRUE(after_sleep_cancelled);
  }());
}

TEST(TaskGroup, ChildFailingDuringEagerCreationCancelsCreator) {  // gh-128550
  run_virtual([]() -> task<> {
    bool ran = false;
    bool cancelled = false;
    try {
      co_await asyncio::with_task_group([&](task_group& tg) -> task<> {
        tg.create_task([](task_group* tg, bool* ran, bool* cancelled) -> task<> {
          tg->create_task([]() -> task<> {
            throw my_exc();
            co_return;
          }());
          try {
            co_await asyncio::sleep(0s);
            co_await asyncio::sleep(0s);
          } catch (const asyncio::cancelled_error&) {
            *cancelled = true;
          }
          *ran = true;
        }(&tg, &ran, &cancelled));
        co_return;
      });
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"my"});
    }
    EXPECT_TRUE(ran);
    EXPECT_TRUE(cancelled);
  }());
}

TEST(TaskGroup, EagerFailureDoesNotRefuseTheNextCreateInTheSameStep) {
  run_virtual([]() -> task<> {
    int cancelled = 0;
    try {
      co_await asyncio::with_task_group([&](task_group& tg) -> task<> {
        tg.create_task([]() -> task<> {
          throw my_exc();
          co_return;
        }());
        tg.create_task(count_cancel(&cancelled));  // not refused: the failure is handled next step
        co_await asyncio::sleep(1s);
      });
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"my"});
    }
    EXPECT_EQ(cancelled, 1);
  }());
}

TEST(TaskGroup, CancellationDoesNotLeakOutOfGroup) {  // test_cancellation_does_not_leak_out_of_tg
  run_virtual([]() -> task<> {
    try {
      co_await asyncio::with_task_group([](task_group& tg) -> task<> {
        tg.create_task([]() -> task<> {
          throw my_exc();
          co_return;
        }());
        co_return;
      });
      ADD_FAILURE();
    } catch (const asyncio::exception_group&) {
    }
    co_await asyncio::sleep(0s);  // would raise if a cancellation leaked
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroup, CancelArrivingWhileParkedInExitAfterErrorIsRearmed) {
  // The group is already aborting (a child failed) when an outer cancel arrives during exit:
  // the exception_group wins and the cancel is delivered at the next suspension point.
  run_virtual([]() -> task<> {
    bool eg_seen = false;
    auto r = asyncio::create_task([](bool* eg_seen) -> task<> {
      try {
        co_await asyncio::with_task_group([](task_group& tg) -> task<> {
          tg.create_task(crash_after(1s));
          tg.create_task(slow_to_cancel(10s, 5s));  // keeps the group in exit
          co_return;
        });
      } catch (const asyncio::exception_group&) {
        *eg_seen = true;
      }
      co_await asyncio::sleep(0s);
      ADD_FAILURE() << "the outer cancel was swallowed";
    }(&eg_seen));
    co_await asyncio::sleep(2s);  // the failure happened; the group waits for the slow child
    r.cancel();
    EXPECT_THROW(co_await r, asyncio::cancelled_error);
    EXPECT_TRUE(eg_seen);
  }());
}

// ---- object form -------------------------------------------------------------------------------

TEST(TaskGroupObject, JoinWaitsForAll) {
  run_virtual([]() -> task<> {
    auto t0 = now();
    task_group tg;
    auto a = tg.create_task(value_after(1s, 1));
    auto b = tg.create_task(value_after(3s, 2));
    EXPECT_EQ(tg.size(), 2u);
    co_await tg.join();
    EXPECT_EQ(now() - t0, 3s);
    EXPECT_EQ(a.result() + b.result(), 3);
    EXPECT_EQ(tg.size(), 0u);
    co_await tg.join();  // a second join is a no-op
  }());
}

TEST(TaskGroupObject, ChildFailureCancelsSiblingsButNotTheParent) {
  run_virtual([]() -> task<> {
    int cancelled = 0;
    task_group tg;
    tg.create_task(count_cancel(&cancelled, 10s));
    tg.create_task(crash_after(1s));
    co_await asyncio::sleep(2s);  // the body is not interrupted in the object form
    EXPECT_EQ(cancelled, 1);      // but the sibling was cancelled when the failure happened
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
    EXPECT_THROW(tg.create_task(value_after(1s, 0)), asyncio::invalid_state_error);  // shutting down
    try {
      co_await tg.join();
      ADD_FAILURE();
    } catch (const asyncio::exception_group& eg) {
      EXPECT_EQ(kinds(eg), strings{"zero"});
    }
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroupObject, ParentCancelledDuringJoinCancelsChildren) {
  run_virtual([]() -> task<> {
    int cancelled = 0;
    auto r = asyncio::create_task([](int* cancelled) -> task<> {
      task_group tg;
      for (int i = 0; i < 3; ++i) tg.create_task(count_cancel(cancelled, 10s));
      co_await tg.join();
    }(&cancelled));
    co_await asyncio::sleep(1s);
    r.cancel();
    EXPECT_THROW(co_await r, asyncio::cancelled_error);
    EXPECT_EQ(cancelled, 3);
  }());
}

TEST(TaskGroupObject, DestroyedWithoutJoinCancelsAndReports) {
  asyncio::testing::virtual_clock clk;
  asyncio::loop_options options;
  options.clock = &clk;
  std::vector<std::string> reports;
  int cancelled = 0;
  asyncio::run(
      [](std::vector<std::string>* reports, int* cancelled) -> task<> {
        asyncio::get_running_loop().set_exception_handler(
            [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx.message); });
        auto r = asyncio::create_task([](int* cancelled) -> task<> {
          task_group tg;
          tg.create_task(count_cancel(cancelled, 10s), "left-behind");
          co_await asyncio::sleep(10s);  // cancelled here: tg is destroyed without join
          co_await tg.join();
        }(cancelled));
        co_await asyncio::sleep(1s);
        r.cancel();
        EXPECT_THROW(co_await r, asyncio::cancelled_error);
        co_await asyncio::sleep(0s);
        EXPECT_EQ(*cancelled, 1);
      }(&reports, &cancelled),
      options);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("task_group destroyed before join()"), std::string::npos);
  EXPECT_NE(reports[0].find("left-behind"), std::string::npos);
}

TEST(TaskGroupObject, SeedStyleOverlap) {
  // Scenario S1, variant example4 (docs/scenarios.md §1): CPU work in the body, writes as children;
  // eager start overlaps them.
  run_virtual([]() -> task<> {
    auto write = [](int) -> task<> { co_await asyncio::sleep(1s); };
    auto t0 = now();
    task_group tg;
    for (int i = 0; i < 3; ++i) {
      co_await asyncio::sleep(2s);  // stands for CPU work (virtual time)
      tg.create_task(write(i));
    }
    co_await tg.join();
    EXPECT_EQ(now() - t0, 7s);
  }());
}
