// create_task / task_handle / any_task / eager_task / current_task / all_tasks (Python's Task API,
// ported from the non-combinator parts of CPython's test_tasks.py).
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

using log_t = std::vector<std::string>;

auto step_then_sleep(log_t* log, std::string name) -> asyncio::task<int> {
  log->push_back(name + " started");
  co_await asyncio::sleep(1ms);
  log->push_back(name + " resumed");
  co_return 1;
}

auto eager_main(log_t* log) -> asyncio::task<> {
  auto h = asyncio::create_task(step_then_sleep(log, "child"));
  log->push_back("create_task returned");
  EXPECT_FALSE(h.done());
  co_await h;
  log->push_back("awaited");
}

TEST(CreateTask, EagerRunsToTheFirstSuspensionInsideCreateTask) {
  log_t log;
  run_virtual(eager_main(&log));
  EXPECT_EQ(log, (log_t{"child started", "create_task returned", "child resumed", "awaited"}));
}

auto lazy_main(log_t* log) -> asyncio::task<> {
  auto a = asyncio::create_task(step_then_sleep(log, "a"), {.eager = false});
  auto b = asyncio::create_task(step_then_sleep(log, "b"), {.eager = false});
  log->push_back("created");
  EXPECT_FALSE(a.done());
  co_await asyncio::sleep(0s);  // lets the scheduled tasks take their first step, in FIFO order
  log->push_back("yielded");
  co_await a;
  co_await b;
}

TEST(CreateTask, LazyTasksStartOnTheLoopInFifoOrder) {
  log_t log;
  run_virtual(lazy_main(&log));
  EXPECT_EQ(log, (log_t{"created", "a started", "b started", "yielded", "a resumed", "b resumed"}));
}

auto sync_value(int v) -> asyncio::task<int> { co_return v; }
auto sync_throw() -> asyncio::task<int> {
  throw std::runtime_error("sync");
  co_return 0;
}
auto sync_finish_main() -> asyncio::task<> {
  auto h = asyncio::create_task(sync_value(3));
  EXPECT_TRUE(h.done());
  EXPECT_EQ(h.result(), 3);
  EXPECT_EQ(h.exception(), nullptr);
  auto e = asyncio::create_task(sync_throw());
  EXPECT_TRUE(e.done());
  EXPECT_THROW((void)e.result(), std::runtime_error);
  auto lazy = asyncio::create_task(sync_value(4), {.eager = false});
  EXPECT_FALSE(lazy.done());
  int lazy_value = co_await lazy;
  EXPECT_EQ(lazy_value, 4);
}

TEST(CreateTask, ATaskThatFinishesSynchronouslyIsDoneAtOnce) { run_virtual(sync_finish_main()); }

auto record_current(asyncio::any_task* seen) -> asyncio::task<> {
  *seen = asyncio::current_task();
  co_await asyncio::sleep(1ms);
  EXPECT_TRUE(*seen == asyncio::current_task());
}
auto current_task_main() -> asyncio::task<> {
  asyncio::any_task me = asyncio::current_task();
  EXPECT_TRUE(bool(me));
  EXPECT_EQ(me.get_name(), "main");
  asyncio::any_task seen;
  auto h = asyncio::create_task(record_current(&seen), "eager-child");
  EXPECT_EQ(seen.get_name(), "eager-child");  // current_task() inside the eager start
  EXPECT_TRUE(seen == h);
  EXPECT_TRUE(asyncio::current_task() == me);  // restored after create_task returns
  co_await h;
  EXPECT_TRUE(asyncio::current_task() == me);
}

TEST(CurrentTask, InsideEagerStartAndAfter) { run_virtual(current_task_main()); }

auto current_in_callback() -> asyncio::task<> {
  bool called = false;
  bool empty = false;
  asyncio::get_running_loop().call_soon([&] {
    called = true;
    empty = !asyncio::current_task();
  });
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(called);
  EXPECT_TRUE(empty);
}

TEST(CurrentTask, EmptyInACallbackAndOutsideTheLoop) {
  EXPECT_FALSE(asyncio::current_task());
  run_virtual(current_in_callback());
}

auto sleeper(asyncio::duration d) -> asyncio::task<> { co_await asyncio::sleep(d); }
auto all_tasks_main() -> asyncio::task<> {
  EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // main
  auto a = asyncio::create_task(sleeper(1ms));
  auto b = asyncio::create_task(sleeper(2ms));
  auto done_at_once = asyncio::create_task(sync_value(1));
  auto all = asyncio::all_tasks();
  EXPECT_EQ(all.size(), 3u);
  int found = 0;
  for (auto& t : all) found += (t == a) + (t == b) + (t == asyncio::current_task());
  EXPECT_EQ(found, 3);
  co_await a;
  EXPECT_EQ(asyncio::all_tasks().size(), 2u);
  co_await b;
  EXPECT_EQ(asyncio::all_tasks().size(), 1u);
}

TEST(AllTasks, ListsTheUnfinishedTasksOfTheRunningLoop) { run_virtual(all_tasks_main()); }

// A task joins the loop's registry only when its eager start ends unfinished; while that start
// runs, all_tasks() and statistics() must still count it (and the eager parent that created it).
struct eager_view {
  std::size_t all = 0;
  std::size_t stats = 0;
  bool has_self = false;
  bool has_parent = false;
};
auto observe_from_inside(eager_view* v, asyncio::any_task parent, bool then_suspend) -> asyncio::task<int> {
  auto all = asyncio::all_tasks();
  v->all = all.size();
  v->stats = asyncio::get_running_loop().statistics().tasks;
  for (auto& t : all) {
    v->has_self = v->has_self || t == asyncio::current_task();
    v->has_parent = v->has_parent || t == parent;
  }
  if (then_suspend) co_await asyncio::sleep(1ms);
  co_return 7;
}
auto nested_starter(eager_view* inner) -> asyncio::task<int> {
  // Still in its own eager start when it eagerly starts the inner task.
  auto h = asyncio::create_task(observe_from_inside(inner, asyncio::current_task(), false));
  co_return co_await h;
}
auto eager_registry_main() -> asyncio::task<> {
  eager_view v;
  auto done = asyncio::create_task(observe_from_inside(&v, asyncio::current_task(), false));
  EXPECT_TRUE(done.done());
  EXPECT_EQ(v.all, 2u);  // main + itself
  EXPECT_EQ(v.stats, 2u);
  EXPECT_TRUE(v.has_self);
  EXPECT_TRUE(v.has_parent);
  EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // finished in its eager start: never registered
  EXPECT_EQ(asyncio::get_running_loop().statistics().tasks, 1u);

  eager_view nested;
  auto outer = asyncio::create_task(nested_starter(&nested));
  EXPECT_TRUE(outer.done());
  EXPECT_EQ(co_await outer, 7);
  EXPECT_EQ(nested.all, 3u);  // main, the outer starter (mid-start), the inner task
  EXPECT_EQ(nested.stats, 3u);
  EXPECT_TRUE(nested.has_parent);

  eager_view s;
  auto suspended = asyncio::create_task(observe_from_inside(&s, asyncio::current_task(), true));
  EXPECT_FALSE(suspended.done());
  auto all = asyncio::all_tasks();  // registered when its eager start ended at the sleep
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0] == suspended || all[1] == suspended);
  EXPECT_EQ(co_await suspended, 7);
  EXPECT_EQ(asyncio::all_tasks().size(), 1u);

  // Lazy tasks are registered at creation, before they run.
  auto lazy = asyncio::create_task(sleeper(1ms), asyncio::task_options{.name = {}, .eager = false});
  EXPECT_EQ(asyncio::all_tasks().size(), 2u);
  co_await lazy;
}

TEST(AllTasks, CountsTasksDuringTheirEagerStart) { run_virtual(eager_registry_main()); }

// A task that suspended in its eager start is registered, so asyncio::run's shutdown cancels it.
auto leave_behind(bool* cleaned) -> asyncio::task<> {
  struct on_exit {
    bool* flag;
    ~on_exit() { *flag = true; }
  } guard{cleaned};
  co_await asyncio::sleep(std::chrono::hours(1));
}
auto leave_main(bool* cleaned) -> asyncio::task<> {
  asyncio::create_task(leave_behind(cleaned)).detach();
  co_return;
}
TEST(AllTasks, RunCancelsATaskLeftSuspendedByItsEagerStart) {
  bool cleaned = false;
  run_virtual(leave_main(&cleaned));
  EXPECT_TRUE(cleaned);
}

auto names_main() -> asyncio::task<> {
  auto a = asyncio::create_task(sleeper(1ms));
  auto b = asyncio::create_task(sleeper(1ms));
  std::string na = a.get_name();
  std::string nb = b.get_name();
  EXPECT_EQ(na.rfind("Task-", 0), 0u) << na;
  EXPECT_EQ(nb.rfind("Task-", 0), 0u) << nb;
  EXPECT_NE(na, nb);
  EXPECT_EQ(a.get_name(), na);  // stable
  a.set_name("renamed");
  EXPECT_EQ(a.get_name(), "renamed");
  auto c = asyncio::create_task(sleeper(1ms), "by-name");
  EXPECT_EQ(c.get_name(), "by-name");
  auto d = asyncio::create_task(sleeper(1ms), {.name = "by-option", .eager = false});
  EXPECT_EQ(d.get_name(), "by-option");
  co_await a;
  co_await b;
  co_await c;
  co_await d;
  EXPECT_EQ(a.get_name(), "renamed");  // still readable once done
}

TEST(TaskHandle, Names) { run_virtual(names_main()); }

auto done_callbacks_main() -> asyncio::task<> {
  std::vector<int> order;
  auto h = asyncio::create_task(sleeper(1ms));
  h.add_done_callback([&] { order.push_back(1); });
  h.add_done_callback([&] { order.push_back(2); });
  h.add_done_callback([&] {
    order.push_back(3);
    EXPECT_TRUE(h.done());
  });
  co_await h;
  // Callbacks go through call_soon: they have not run when the awaiter resumes.
  co_await asyncio::sleep(0s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  h.add_done_callback([&] { order.push_back(4); });  // already done: scheduled, not run inline
  EXPECT_EQ(order.size(), 3u);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(TaskHandle, DoneCallbacksRunInRegistrationOrderViaCallSoon) { run_virtual(done_callbacks_main()); }

auto forever() -> asyncio::task<int> {
  co_await asyncio::sleep(24h);
  co_return 0;
}
auto fails_later() -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  throw std::logic_error("boom");
}
auto result_errors_main() -> asyncio::task<> {
  auto h = asyncio::create_task(forever());
  EXPECT_THROW((void)h.result(), asyncio::invalid_state_error);
  EXPECT_THROW((void)h.exception(), asyncio::invalid_state_error);
  EXPECT_THROW((void)h.take_result(), asyncio::invalid_state_error);
  h.cancel();
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(h.done());
  EXPECT_TRUE(h.cancelled());
  EXPECT_THROW((void)h.result(), asyncio::cancelled_error);
  EXPECT_THROW((void)h.exception(), asyncio::cancelled_error);

  auto f = asyncio::create_task(fails_later());
  try {
    (void)co_await f;
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW((void)f.result(), std::logic_error);
  std::exception_ptr e = f.exception();
  EXPECT_TRUE(e);
  if (e) {
    EXPECT_THROW(std::rethrow_exception(e), std::logic_error);
  }
}

TEST(TaskHandle, ResultAndExceptionErrors) { run_virtual(result_errors_main()); }

auto value_after(asyncio::duration d, int v) -> asyncio::task<int> {
  co_await asyncio::sleep(d);
  co_return v;
}
auto await_shared(asyncio::task_handle<int> h, std::vector<int>* order, int id) -> asyncio::task<int> {
  int v = co_await h;
  order->push_back(id);
  co_return v + id;
}
auto several_awaiters_main() -> asyncio::task<> {
  std::vector<int> order;
  auto h = asyncio::create_task(value_after(5ms, 100));
  auto a = asyncio::create_task(await_shared(h, &order, 1));
  auto b = asyncio::create_task(await_shared(h, &order, 2));
  auto c = asyncio::create_task(await_shared(h, &order, 3));
  int sum = co_await a;
  sum += co_await b;
  sum += co_await c;
  EXPECT_EQ(sum, 306);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));  // woken in the order they started waiting
  int again = co_await h;  // and once more after it is done
  EXPECT_EQ(again, 100);
}

TEST(TaskHandle, AwaitedFromSeveralTasks) { run_virtual(several_awaiters_main()); }

auto make_ptr(int v) -> asyncio::task<std::unique_ptr<int>> {
  co_await asyncio::sleep(1ms);
  co_return std::make_unique<int>(v);
}
auto move_only_main() -> asyncio::task<int> {
  auto h = asyncio::create_task(make_ptr(40));
  std::unique_ptr<int> p = co_await std::move(h);
  auto g = asyncio::create_task(make_ptr(2));
  co_await asyncio::sleep(5ms);
  EXPECT_TRUE(g.done());
  EXPECT_EQ(*g.result(), 2);  // result() gives a reference
  std::unique_ptr<int> q = g.take_result();
  EXPECT_EQ(g.result(), nullptr);  // moved out
  co_return *p + *q;
}

TEST(TaskHandle, MoveOnlyResults) { EXPECT_EQ(run_virtual(move_only_main()), 42); }

auto set_flag_later(bool* flag) -> asyncio::task<> {
  co_await asyncio::sleep(10ms);
  *flag = true;
}
auto dropped_handle_main(bool* flag) -> asyncio::task<> {
  asyncio::create_task(set_flag_later(flag)).detach();
  {
    auto h = asyncio::create_task(set_flag_later(flag));  // handle dropped at once
  }
  co_await asyncio::sleep(20ms);
}

TEST(TaskHandle, TheLoopOwnsTasksWhoseHandlesWereDropped) {
  bool flag = false;
  run_virtual(dropped_handle_main(&flag));
  EXPECT_TRUE(flag);
}

// eager_task: scenario S1's js_like_await (docs/scenarios.md §1). Calling the function starts it.
auto js_like_write(log_t* log, int i) -> asyncio::eager_task<int> {
  log->push_back("write " + std::to_string(i) + " started");
  co_await asyncio::sleep(10ms);
  log->push_back("write " + std::to_string(i) + " done");
  co_return i;
}
auto js_like_sync(int i) -> asyncio::eager_task<int> { co_return i * 2; }
auto eager_task_main(log_t* log) -> asyncio::task<int> {
  auto w = js_like_write(log, 1);
  log->push_back("returned");
  EXPECT_FALSE(w.done());
  auto s = js_like_sync(21);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.result(), 42);
  int v = co_await w;
  co_return v + co_await s;
}

TEST(EagerTask, StartsOnCallLikeJsLikeAwait) {
  log_t log;
  EXPECT_EQ(run_virtual(eager_task_main(&log)), 43);
  EXPECT_EQ(log, (log_t{"write 1 started", "returned", "write 1 done"}));
}

auto overlapped_writes(log_t* log) -> asyncio::task<> {
  asyncio::eager_task<int> last = js_like_sync(0);
  for (int i = 1; i <= 3; ++i) {
    co_await last;
    last = js_like_write(log, i);
  }
  co_await last;
}

TEST(EagerTask, SeedExample10Pattern) {
  log_t log;
  asyncio::testing::virtual_clock clk;
  asyncio::run(overlapped_writes(&log), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 30ms);
  EXPECT_EQ(log.size(), 6u);
}

auto recursive_create(int n) -> asyncio::task<int> {
  if (n == 0) co_return 0;
  co_return co_await asyncio::create_task(recursive_create(n - 1)) + 1;
}

TEST(CreateTask, EagerStartsNestedDeeplyDoNotOverflow) { EXPECT_EQ(run_virtual(recursive_create(20000)), 20000); }

// Task.remove_done_callback, and callbacks that take the task (Python passes it).

auto task_callbacks_main() -> asyncio::task<> {
  std::vector<std::string> seen;
  asyncio::task_handle<int> h = asyncio::create_task(value_after(1s, 9));
  h.add_done_callback([&seen](const asyncio::task_handle<int>& t) { seen.push_back("typed " + std::to_string(t.result())); });
  asyncio::any_task any = h;
  any.add_done_callback([&seen](const asyncio::any_task& t) { seen.push_back(t.done() ? "any" : "?"); });
  auto removed = h.add_done_callback([&seen] { seen.emplace_back("removed"); });
  EXPECT_EQ(h.remove_done_callback(removed), 1U);
  EXPECT_EQ(any.remove_done_callback(removed), 0U);
  (void)co_await h;
  EXPECT_EQ(h.remove_done_callback(removed), 0U);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(seen, (std::vector<std::string>{"typed 9", "any"}));
}

TEST(TaskHandle, RemoveDoneCallbackAndCallbacksThatTakeTheTask) { run_virtual(task_callbacks_main()); }

// loop.create_task: on that loop; scheduled, not started, while the loop is not running.
auto record_start(std::vector<std::string>* log, std::string name) -> asyncio::task<int> {
  log->push_back(name);
  co_await asyncio::sleep(0s);
  co_return static_cast<int>(name.size());
}

auto await_handle(asyncio::task_handle<int> t) -> asyncio::task<int> { co_return co_await t; }

TEST(TaskHandle, LoopCreateTaskOnALoopNotRunning) {
  asyncio::event_loop loop;
  std::vector<std::string> log;
  asyncio::task_handle<int> t = loop.create_task(record_start(&log, "early"), asyncio::task_options{.name = "early"});
  EXPECT_TRUE(log.empty());  // not started: the loop does not run
  EXPECT_EQ(t.get_name(), "early");
  EXPECT_EQ(&t.get_loop(), &loop);
  EXPECT_EQ(loop.run_until_complete(await_handle(t)), 5);
  EXPECT_EQ(log, (std::vector<std::string>{"early"}));
  loop.close();
}

auto loop_create_task_main() -> asyncio::task<> {
  std::vector<std::string> log;
  asyncio::task_handle<int> t = asyncio::get_running_loop().create_task(record_start(&log, "eager"));
  EXPECT_EQ(log, (std::vector<std::string>{"eager"}));  // eager by default on a running loop
  int n = co_await t;
  EXPECT_EQ(n, 5);
}

TEST(TaskHandle, LoopCreateTaskOnTheRunningLoop) { run_virtual(loop_create_task_main()); }

}  // namespace
