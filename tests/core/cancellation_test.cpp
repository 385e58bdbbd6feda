// Cancellation (docs/lessons.md §1.2-1.3, docs/design.md "The suspension protocol"), ported from the
// cancellation cases of CPython's test_tasks.py: every suspension point, before start, after a
// wake-up, messages, cancelling()/uncancel(), catching and continuing, inner tasks and futures.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

using log_t = std::vector<std::string>;

struct probe {
  log_t* log;
  std::string name;
  probe(log_t* l, std::string n) : log(l), name(std::move(n)) {}
  probe(const probe&) = delete;
  ~probe() { log->push_back("~" + name); }
};

// ---- every suspension point ----------------------------------------------------------------------

auto sleep_forever(log_t* log) -> asyncio::task<int> {
  probe p(log, "sleep");
  co_await asyncio::sleep(24h);
  log->push_back("not reached");
  co_return 1;
}
auto yield_forever(log_t* log) -> asyncio::task<int> {
  probe p(log, "yield");
  for (;;) co_await asyncio::sleep(0s);
}
auto await_future(log_t* log, asyncio::future<int> f) -> asyncio::task<int> {
  probe p(log, "future");
  co_return co_await f;
}
auto await_task(log_t* log) -> asyncio::task<int> {
  probe p(log, "await-task");
  auto inner = asyncio::create_task(sleep_forever(log));
  co_return co_await inner;
}
auto chain3(log_t* log) -> asyncio::task<int> {
  probe p(log, "chain3");
  co_return co_await sleep_forever(log);
}
auto chain2(log_t* log) -> asyncio::task<int> {
  probe p(log, "chain2");
  co_return co_await chain3(log) + 1;
}
auto chain1(log_t* log) -> asyncio::task<int> {
  probe p(log, "chain1");
  co_return co_await chain2(log) + 1;
}

auto cancel_after_start(asyncio::task<int> body) -> asyncio::task<bool> {
  auto h = asyncio::create_task(std::move(body));
  // Yield (not sleep): with the autojump clock, virtual time stands still while a task spins on
  // sleep(0s), as in Trio and tokio.
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  EXPECT_FALSE(h.done());
  EXPECT_TRUE(h.cancel());
  EXPECT_FALSE(h.done());  // delivered at the suspension point, on the loop
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
    co_return h.cancelled();
  }
  co_return false;
}

TEST(Cancellation, AtSleep) {
  log_t log;
  EXPECT_TRUE(run_virtual(cancel_after_start(sleep_forever(&log))));
  EXPECT_EQ(log, (log_t{"~sleep"}));
}

TEST(Cancellation, AtYield) {
  log_t log;
  EXPECT_TRUE(run_virtual(cancel_after_start(yield_forever(&log))));
  EXPECT_EQ(log, (log_t{"~yield"}));
}

TEST(Cancellation, AtAwaitingAFutureCancelsTheFuture) {
  log_t log;
  asyncio::future<int> f;
  EXPECT_TRUE(run_virtual(cancel_after_start(await_future(&log, f))));
  EXPECT_TRUE(f.cancelled());
  EXPECT_EQ(log, (log_t{"~future"}));
}

TEST(Cancellation, AtAwaitingATaskCancelsTheInnerTask) {
  log_t log;
  EXPECT_TRUE(run_virtual(cancel_after_start(await_task(&log))));
  EXPECT_EQ(log, (log_t{"~sleep", "~await-task"}));
}

TEST(Cancellation, InALazyChainUnwindsEveryFrame) {
  log_t log;
  EXPECT_TRUE(run_virtual(cancel_after_start(chain1(&log))));
  EXPECT_EQ(log, (log_t{"~sleep", "~chain3", "~chain2", "~chain1"}));
}

// ---- before start, and after a wake-up -----------------------------------------------------------

auto mark(bool* ran) -> asyncio::task<int> {
  *ran = true;
  co_return 1;
}
auto cancel_before_start_main() -> asyncio::task<> {
  bool ran = false;
  auto h = asyncio::create_task(mark(&ran), {.eager = false});
  EXPECT_TRUE(h.cancel("early"));
  EXPECT_FALSE(h.done());
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(h.done());
  EXPECT_TRUE(h.cancelled());
  EXPECT_FALSE(ran);  // the coroutine never ran
  try {
    (void)h.result();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "early");
  }
  EXPECT_FALSE(h.cancel());  // already done
}

TEST(Cancellation, BeforeALazyTaskStartsItNeverRuns) { run_virtual(cancel_before_start_main()); }

auto cancel_then_uncancel_before_start() -> asyncio::task<> {
  bool ran = false;
  auto h = asyncio::create_task(mark(&ran), {.eager = false});
  h.cancel();
  EXPECT_EQ(h.uncancel(), 0);  // withdrawn before delivery: the task runs normally
  int v = co_await h;
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(ran);
}

TEST(Cancellation, UncancelBeforeDeliveryWithdrawsIt) { run_virtual(cancel_then_uncancel_before_start()); }

auto wake_and_cancel(asyncio::task_handle<int>* victim) -> asyncio::task<> {
  co_await asyncio::sleep(10ms);
  // The victim's timer (same deadline, added later) has fired in this same iteration: it is
  // scheduled, not yet resumed. CPython still delivers CancelledError in that window.
  victim->cancel();
}
auto sleep_10ms(bool* finished) -> asyncio::task<int> {
  co_await asyncio::sleep(10ms);
  *finished = true;
  co_return 1;
}
auto cancel_after_wakeup_main() -> asyncio::task<> {
  bool finished = false;
  asyncio::task_handle<int> victim;
  auto killer = asyncio::create_task(wake_and_cancel(&victim));
  victim = asyncio::create_task(sleep_10ms(&finished));
  co_await killer;
  try {
    (void)co_await victim;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(victim.cancelled());
  EXPECT_FALSE(finished);
}

TEST(Cancellation, WhileScheduledAfterATimerWakeUp) { run_virtual(cancel_after_wakeup_main()); }

auto await_future_value(asyncio::future<int> f, bool* got) -> asyncio::task<int> {
  int v = co_await f;
  *got = true;
  co_return v;
}
auto cancel_after_future_done_main() -> asyncio::task<> {
  asyncio::future<int> f;
  bool got = false;
  auto h = asyncio::create_task(await_future_value(f, &got));
  f.set_result(5);  // wakes h (scheduled)
  h.cancel();       // before h resumes
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_FALSE(got);
  EXPECT_FALSE(f.cancelled());
}

TEST(Cancellation, WhileScheduledAfterTheAwaitedFutureCompleted) { run_virtual(cancel_after_future_done_main()); }

auto await_handle(asyncio::task_handle<int> h) -> asyncio::task<int> { co_return co_await h; }
auto cancel_peer_then_return(asyncio::task_handle<int> h, asyncio::task_handle<int>* peer) -> asyncio::task<int> {
  int v = co_await h;  // first waiter: resumed directly when h finishes; the second is scheduled
  peer->cancel();
  co_return v;
}
auto cancel_after_task_done_main() -> asyncio::task<> {
  bool finished = false;
  auto source = asyncio::create_task(sleep_10ms(&finished));
  asyncio::task_handle<int> second;
  auto first = asyncio::create_task(cancel_peer_then_return(source, &second));
  second = asyncio::create_task(await_handle(source));
  int v = co_await first;
  EXPECT_EQ(v, 1);
  try {
    (void)co_await second;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(second.cancelled());
  EXPECT_FALSE(source.cancelled());
}

TEST(Cancellation, WhileScheduledAfterTheAwaitedTaskFinished) { run_virtual(cancel_after_task_done_main()); }

// ---- messages and counting -----------------------------------------------------------------------

auto catch_message(std::string* seen) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error& e) {
    *seen = e.message();
    throw;
  }
  co_return 0;
}
auto message_main() -> asyncio::task<> {
  std::string seen;
  auto h = asyncio::create_task(catch_message(&seen));
  h.cancel("stop now");
  try {
    (void)co_await h;
    ADD_FAILURE();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "stop now");
    EXPECT_STREQ(e.what(), "stop now");
  }
  EXPECT_EQ(seen, "stop now");
  try {
    (void)h.result();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "stop now");
  }
  try {
    (void)h.exception();
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "stop now");
  }
  // The message reaches an inner task through an outer one.
  std::string inner_seen;
  auto inner = asyncio::create_task(catch_message(&inner_seen));
  auto outer = asyncio::create_task(await_handle(inner));
  outer.cancel("outer msg");
  try {
    (void)co_await outer;
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "outer msg");
  }
  EXPECT_EQ(inner_seen, "outer msg");
  EXPECT_TRUE(inner.cancelled());
}

TEST(Cancellation, MessagePropagates) { run_virtual(message_main()); }

auto cancelling_counts_main() -> asyncio::task<> {
  log_t log;
  auto h = asyncio::create_task(sleep_forever(&log));
  EXPECT_EQ(h.cancelling(), 0);
  h.cancel();
  EXPECT_EQ(h.cancelling(), 1);
  h.cancel();
  EXPECT_EQ(h.cancelling(), 2);
  EXPECT_EQ(h.uncancel(), 1);
  // The first cancel already aborted the sleep: the task is cancelled even after an uncancel.
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_EQ(h.cancelling(), 1);
  EXPECT_FALSE(h.cancel());
  EXPECT_EQ(h.cancelling(), 1);  // cancel() of a done task does not count
  EXPECT_EQ(h.uncancel(), 0);
  EXPECT_EQ(h.uncancel(), 0);  // never below zero
}

TEST(Cancellation, CancellingAndUncancelCounts) { run_virtual(cancelling_counts_main()); }

// The count lives in the task's header up to 30 and moves to the extras beyond (task_core.hpp): it
// stays exact across the move, both ways, with and without a message.
auto many_cancels_main() -> asyncio::task<> {
  log_t log;
  auto h = asyncio::create_task(sleep_forever(&log));
  for (int i = 1; i <= 40; ++i) {
    if (i == 35) h.cancel("the 35th");
    else h.cancel();
    EXPECT_EQ(h.cancelling(), i);
  }
  for (int i = 39; i >= 1; --i) EXPECT_EQ(h.uncancel(), i);
  try {
    (void)co_await h;
    ADD_FAILURE() << "the first cancel aborted the sleep";
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "");  // the last request (the 40th) had none
  }
  EXPECT_EQ(h.cancelling(), 1);
  EXPECT_EQ(h.uncancel(), 0);
  EXPECT_EQ(h.uncancel(), 0);
}

TEST(Cancellation, CountStaysExactPastThirtyRequests) { run_virtual(many_cancels_main()); }

auto self_cancel_then_uncancel(log_t* log) -> asyncio::task<int> {
  auto me = asyncio::current_task();
  me.cancel();
  log->push_back("still running");  // cancel() of the running task is delivered at the next suspension
  EXPECT_EQ(me.uncancel(), 0);
  co_await asyncio::sleep(1ms);  // nothing pending any more
  me.cancel();
  try {
    co_await asyncio::sleep(1ms);
  } catch (const asyncio::cancelled_error&) {
    log->push_back("cancelled at sleep");
  }
  co_return me.cancelling();
}

TEST(Cancellation, CancelOfTheCurrentTaskIsDeliveredAtTheNextSuspension) {
  log_t log;
  EXPECT_EQ(run_virtual(self_cancel_then_uncancel(&log)), 1);
  EXPECT_EQ(log, (log_t{"still running", "cancelled at sleep"}));
}

auto catch_and_continue(log_t* log) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    log->push_back("caught");
  }
  co_await asyncio::sleep(1ms);  // suspending again works: the cancel was consumed
  co_await asyncio::sleep(0s);
  log->push_back("continued");
  co_return 42;
}
auto catch_and_continue_main(log_t* log) -> asyncio::task<> {
  auto h = asyncio::create_task(catch_and_continue(log));
  h.cancel();
  int v = co_await h;
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(h.cancelled());
  EXPECT_EQ(h.cancelling(), 1);
}

TEST(Cancellation, CatchAndContinue) {
  log_t log;
  run_virtual(catch_and_continue_main(&log));
  EXPECT_EQ(log, (log_t{"caught", "continued"}));
}

auto ignores_cancel() -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
  }
  co_await asyncio::sleep(1ms);
  co_return 7;
}
auto outer_gets_inner_outcome_main() -> asyncio::task<> {
  // The inner task swallows the cancel: the outer one gets its value and is not cancelled (CPython).
  auto inner = asyncio::create_task(ignores_cancel());
  auto outer = asyncio::create_task(await_handle(inner));
  co_await asyncio::sleep(0s);
  outer.cancel();
  int v = co_await outer;
  EXPECT_EQ(v, 7);
  EXPECT_FALSE(outer.cancelled());
  EXPECT_FALSE(inner.cancelled());
  EXPECT_EQ(inner.cancelling(), 1);
}

TEST(Cancellation, OuterTaskGetsTheInnerTasksOutcome) { run_virtual(outer_gets_inner_outcome_main()); }

auto std_exception_catcher(bool* caught) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const std::exception&) {
    *caught = true;
  }
  co_return 0;
}
auto not_std_exception_main() -> asyncio::task<> {
  bool caught = false;
  auto h = asyncio::create_task(std_exception_catcher(&caught));
  h.cancel();
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_FALSE(caught);
}

TEST(Cancellation, CancelledErrorIsNotAStdException) {
  static_assert(!std::is_base_of_v<std::exception, asyncio::cancelled_error>);
  run_virtual(not_std_exception_main());
}

auto cleanup_sleeps(log_t* log) -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    log->push_back("cleanup start");
  }
  co_await asyncio::sleep(5ms);  // awaiting during cleanup is allowed
  log->push_back("cleanup done");
  throw asyncio::cancelled_error("after cleanup");
}
auto cancel_during_cleanup_main(log_t* log) -> asyncio::task<> {
  auto h = asyncio::create_task(cleanup_sleeps(log));
  h.cancel();
  co_await asyncio::sleep(1ms);
  EXPECT_FALSE(h.done());
  h.cancel("second");  // interrupts the cleanup sleep
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "second");
  }
  EXPECT_TRUE(h.cancelled());
}

TEST(Cancellation, CancelDuringCleanup) {
  log_t log;
  run_virtual(cancel_during_cleanup_main(&log));
  EXPECT_EQ(log, (log_t{"cleanup start"}));
}

auto cancel_twice_main() -> asyncio::task<> {
  // The first cancel aborts the sleep, the second finds the task scheduled and stays pending; the
  // task still sees one cancelled_error, as in CPython (__step consumes _must_cancel with it).
  log_t log;
  auto h = asyncio::create_task(catch_and_continue(&log));
  h.cancel();
  h.cancel();
  EXPECT_EQ(h.cancelling(), 2);
  int v = co_await h;
  EXPECT_EQ(v, 42);
  EXPECT_EQ(log, (log_t{"caught", "continued"}));
  EXPECT_FALSE(h.cancelled());
}

TEST(Cancellation, TwoCancelsBeforeTheTaskRunsDeliverOneError) { run_virtual(cancel_twice_main()); }

auto cancel_both_main() -> asyncio::task<> {
  // CPython test_cancel_both_task_and_inner_future.
  asyncio::future<int> f;
  log_t log;
  auto h = asyncio::create_task(await_future(&log, f));
  co_await asyncio::sleep(0s);
  f.cancel();
  h.cancel();
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_TRUE(f.cancelled());
}

TEST(Cancellation, BothTaskAndInnerFuture) { run_virtual(cancel_both_main()); }

auto inner_future_cancelled_main() -> asyncio::task<> {
  // Cancelling the awaited future (not the task) raises cancelled_error in the task, which may
  // catch it and go on (CPython test_cancel_inner_future).
  asyncio::future<int> f;
  log_t log;
  auto h = asyncio::create_task(await_future(&log, f));
  f.cancel("fut msg");
  try {
    (void)co_await h;
  } catch (const asyncio::cancelled_error& e) {
    EXPECT_EQ(e.message(), "fut msg");
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_EQ(h.cancelling(), 0);
}

TEST(Cancellation, InnerFutureCancelled) { run_virtual(inner_future_cancelled_main()); }

auto cancel_at_end_inner(asyncio::task_handle<int>* self) -> asyncio::task<int> {
  self->cancel();  // cancel of the running task, which then finishes without suspending again
  co_return 3;
}
auto cancel_at_end_main() -> asyncio::task<> {
  // CPython test_cancel_at_end: a cancel still pending when the coroutine returns makes the task
  // end cancelled (Task.__step: "Task is cancelled right before coro stops").
  asyncio::task_handle<int> h;
  h = asyncio::create_task(cancel_at_end_inner(&h), {.eager = false});
  try {
    (void)co_await h;
    ADD_FAILURE() << "not cancelled";
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(h.cancelled());
  EXPECT_FALSE(h.cancel());
}

TEST(Cancellation, PendingCancelWhenTheCoroutineReturnsCancelsTheTask) { run_virtual(cancel_at_end_main()); }

auto self_cancel_then_throw() -> asyncio::task<int> {
  asyncio::current_task().cancel();
  throw std::runtime_error("raised");
  co_return 0;
}
auto cancel_then_raise_main() -> asyncio::task<> {
  // An exception wins over a pending cancel (CPython sets the exception).
  auto h = asyncio::create_task(self_cancel_then_throw());
  EXPECT_TRUE(h.done());
  EXPECT_FALSE(h.cancelled());
  EXPECT_THROW((void)h.result(), std::runtime_error);
  co_return;
}

TEST(Cancellation, PendingCancelWhenTheCoroutineThrowsKeepsTheException) { run_virtual(cancel_then_raise_main()); }

// ---- a wait cycle (A awaits B, B awaits A) ---------------------------------------------------------
// Cancelling A forwards to B, whose wait forwards back to A. CPython recurses until RecursionError;
// here the second cancel of A, arriving while A's own cancel is still being forwarded, is absorbed.
// The program stays deadlocked (neither task can finish), but cancel() returns and the loop lives.

asyncio::task_handle<void> cycle_a;
asyncio::task_handle<void> cycle_b;
auto awaits_directly(asyncio::task_handle<void>* other) -> asyncio::task<> {
  co_await asyncio::sleep(0s);  // both handles are set by now
  co_await *other;
}
auto awaits_through_gather(asyncio::task_handle<void>* other) -> asyncio::task<> {
  co_await asyncio::sleep(0s);
  co_await asyncio::gather(*other);
}
auto cancel_cycle_main(bool through_gather, std::vector<std::string>* reports) -> asyncio::task<> {
  asyncio::get_running_loop().set_exception_handler(
      [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx.message); });
  cycle_a = asyncio::create_task(through_gather ? awaits_through_gather(&cycle_b) : awaits_directly(&cycle_b));
  cycle_b = asyncio::create_task(awaits_directly(&cycle_a));
  co_await asyncio::sleep(1s);
  EXPECT_TRUE(cycle_a.cancel());  // returns: no unbounded recursion
  EXPECT_EQ(cycle_a.cancelling(), 1);
  EXPECT_EQ(cycle_b.cancelling(), 1);
  co_await asyncio::sleep(1s);
  EXPECT_FALSE(cycle_a.done());  // still waiting for each other
  EXPECT_FALSE(cycle_b.done());
  EXPECT_TRUE(cycle_b.cancel());
  EXPECT_EQ(cycle_a.cancelling(), 2);
  EXPECT_EQ(cycle_b.cancelling(), 2);
  // The frames cannot be destroyed while they wait for each other: keep them reachable so that the
  // leak checker reports nothing, and let run()'s shutdown report them.
  static auto* keep = new std::vector<asyncio::task_handle<void>>;
  keep->push_back(cycle_a);
  keep->push_back(cycle_b);
  cycle_a = {};
  cycle_b = {};
}

TEST(Cancellation, CancellingAWaitCycleReturns) {
  std::vector<std::string> reports;
  run_virtual(cancel_cycle_main(false, &reports));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "2 task(s) did not finish after cancellation; leaked at close");
}

TEST(Cancellation, CancellingAWaitCycleThroughGatherReturns) {
  std::vector<std::string> reports;
  run_virtual(cancel_cycle_main(true, &reports));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "2 task(s) did not finish after cancellation; leaked at close");
}

}  // namespace

// ---- a pending cancel reaches what the task then awaits (CPython's Task.__step) ---------------

auto self_cancel_then_await_task(log_t* log, asyncio::task_handle<int>* inner_out) -> asyncio::task<int> {
  auto inner = asyncio::create_task(await_task(log));  // inner awaits its own sleeping task
  *inner_out = inner;
  asyncio::current_task().cancel("stop");
  log->push_back("awaiting");
  co_return co_await inner;
}
auto self_cancel_then_await_task_main(log_t* log) -> asyncio::task<> {
  const auto t0 = asyncio::get_running_loop().time();
  asyncio::task_handle<int> inner;
  auto outer = asyncio::create_task(self_cancel_then_await_task(log, &inner));
  std::string message = "not cancelled";
  try {
    (void)co_await outer;
  } catch (const asyncio::cancelled_error& e) {
    message = e.message();  // the inner task's cancel carried the message on
  }
  EXPECT_EQ(message, "stop");
  EXPECT_TRUE(outer.cancelled());
  EXPECT_TRUE(inner.cancelled());  // not orphaned: the whole chain was cancelled
  EXPECT_EQ(inner.cancelling(), 1);
  EXPECT_EQ(asyncio::get_running_loop().time(), t0);  // nothing slept
}

TEST(Cancellation, PendingCancelReachesTheAwaitedTaskAndWhatItAwaits) {
  log_t log;
  run_virtual(self_cancel_then_await_task_main(&log));
  EXPECT_EQ(log, (log_t{"awaiting", "~sleep", "~await-task"}));
}

auto self_cancel_then_await_future(asyncio::future<int> f) -> asyncio::task<int> {
  asyncio::current_task().cancel();
  co_return co_await f;
}
auto self_cancel_then_await_future_main() -> asyncio::task<> {
  asyncio::future<int> f;
  auto t = asyncio::create_task(self_cancel_then_await_future(f));
  bool cancelled = false;
  try {
    (void)co_await t;
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(t.cancelled());
}

TEST(Cancellation, PendingCancelCancelsTheAwaitedFuture) { run_virtual(self_cancel_then_await_future_main()); }

// The awaited task catches the cancel and returns: the awaiting task gets the value, as in CPython
// (the cancel was passed on, so it is not raised again in the awaiting task).
auto stubborn() -> asyncio::task<int> {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    co_return 7;
  }
  co_return 0;
}
auto self_cancel_then_await_stubborn() -> asyncio::task<int> {
  auto inner = asyncio::create_task(stubborn());
  asyncio::current_task().cancel();
  co_return co_await inner;
}

TEST(Cancellation, PendingCancelPassedOnToATaskThatReturnsGivesItsValue) {
  EXPECT_EQ(run_virtual(self_cancel_then_await_stubborn()), 7);
}
