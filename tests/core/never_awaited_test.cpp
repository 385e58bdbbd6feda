// "coroutine 'f' was never awaited" (core/task.hpp, src/core/never_awaited.cpp): a task<T> destroyed
// before its coroutine ever ran is reported through the loop's exception handler, always (debug mode
// or not), naming the coroutine and the function that dropped it; without a loop it goes to stderr.
// Every way the library legitimately destroys a frame that did not run (a task cancelled before its
// first step, a task group refusing a child, loop close, a generator never iterated) stays silent.
// The names come from the test binary's symbol table, as the test is built (no -rdynamic).
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using reports_t = std::vector<std::string>;

void collect_reports(reports_t* reports) {
  asyncio::get_running_loop().set_exception_handler(
      [reports](asyncio::event_loop&, const asyncio::exception_context& ctx) { reports->push_back(ctx.message); });
}

auto count_containing(const reports_t& reports, const std::string& text) -> int {
  int n = 0;
  for (const auto& r : reports) n += r.find(text) != std::string::npos;
  return n;
}

auto child() -> asyncio::task<int> { co_return 1; }

auto drops_one(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  {
    auto t = child();  // created, never awaited nor made a task
  }
  auto awaited = child();
  (void)co_await awaited;                  // awaited: not reported
  asyncio::create_task(child()).detach();  // made a task: not reported
}

TEST(NeverAwaited, ReportedWithTheCoroutineNameInAndOutOfDebugMode) {
  for (const bool debug : {false, true}) {
    reports_t reports;
    asyncio::testing::run_virtual(drops_one(&reports), {.debug = debug});
    ASSERT_EQ(reports.size(), 1u) << "debug " << debug;
    // The first line is fixed; the second names the function whose scope destroyed the task<T>.
    EXPECT_EQ(reports[0].substr(0, reports[0].find('\n')), "coroutine 'child()' was never awaited");
    EXPECT_NE(reports[0].find("\n  dropped in: drops_one("), std::string::npos) << reports[0];
  }
}

auto drops_a_vector(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  std::vector<asyncio::task<int>> batch;
  batch.push_back(child());
  batch.push_back(child());
  batch.clear();  // the standard library's frames are skipped when naming the dropper
  co_return;
}

TEST(NeverAwaited, TasksDroppedByAContainerNameTheContainersOwner) {
  reports_t reports;
  asyncio::testing::run_virtual(drops_a_vector(&reports));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(count_containing(reports, "coroutine 'child()' was never awaited\n  dropped in: drops_a_vector("), 2)
      << reports[0];
}

struct widget {
  auto refresh(int times) -> asyncio::task<> {
    count_ += times;
    co_return;
  }
  int count_ = 0;
};

template <class T>
auto twice(T v) -> asyncio::task<T> {
  co_return v + v;
}

auto drops_members_and_templates(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  widget w;
  { auto a = w.refresh(2); }
  { auto b = twice(3.5); }
  EXPECT_EQ(w.count_, 0);  // nothing ran
  co_return;
}

TEST(NeverAwaited, NamesMemberFunctionsAndTemplates) {
  reports_t reports;
  asyncio::testing::run_virtual(drops_members_and_templates(&reports));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(count_containing(reports, "coroutine 'widget::refresh(int)' was never awaited"), 1) << reports[0];
  EXPECT_EQ(count_containing(reports, "coroutine 'twice<double>(double)' was never awaited"), 1) << reports[1];
}

// ---- legitimate destruction of a frame that never ran: no report ------------------------------------

auto sleeps_forever() -> asyncio::task<> { co_await asyncio::sleep(1h); }

auto silent_paths(reports_t* reports) -> asyncio::task<> {
  collect_reports(reports);
  // A lazy task cancelled before its first step: the task owned the coroutine (CPython: no warning).
  auto lazy = asyncio::create_task(child(), asyncio::task_options{.name = {}, .eager = false});
  lazy.cancel();
  EXPECT_THROW((void)co_await lazy, asyncio::cancelled_error);
  // wait_for with no time left.
  EXPECT_THROW(co_await asyncio::wait_for(sleeps_forever(), 0s), asyncio::timeout_error);
  // A finished task group refuses a child and closes its coroutine (Python's coro.close()).
  asyncio::task_group tg;
  co_await tg.join();
  EXPECT_THROW((void)tg.create_task(child()), asyncio::error);
  // A generator never iterated (Python does not warn about an async generator either).
  { auto numbers = asyncio::to_async(std::vector<int>{1, 2, 3}); }
  // Left for run() to clean up: a lazy task that never started and a parked one.
  asyncio::create_task(child(), asyncio::task_options{.name = {}, .eager = false}).detach();
  asyncio::create_task(sleeps_forever()).detach();
}

TEST(NeverAwaited, LegitimateDestructionsAreSilent) {
  reports_t reports;
  asyncio::testing::run_virtual(silent_paths(&reports), {.debug = true});
  EXPECT_EQ(reports.size(), 0u) << (reports.empty() ? "" : reports[0]);
}

TEST(NeverAwaited, WithoutALoopItGoesToStderr) {
  // No loop runs on this thread, so there is no exception handler to call: stderr, as Python warns.
  testing::internal::CaptureStderr();
  { auto t = child(); }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.substr(0, err.find('\n')), "asyncio: coroutine 'child()' was never awaited") << err;
}

// ---- the name shown for each compiler's resume function ---------------------------------------------

TEST(NeverAwaited, DisplayNameOfClangAndGccResumeFunctions) {
  using asyncio::detail::coroutine_display_name;
  // clang: the coroutine's own name with a clone suffix.
  EXPECT_EQ(coroutine_display_name("(anonymous namespace)::amain() [clone .resume]"), "amain()");
  EXPECT_EQ(coroutine_display_name("ns::widget::refresh(int) [clone .resume]"), "ns::widget::refresh(int)");
  EXPECT_EQ(
      coroutine_display_name("asyncio::task<double> (anonymous namespace)::twice<double>(double) [clone .resume]"),
      "twice<double>(double)");
  // g++: the actor takes the frame, whose type is scoped by the coroutine's signature.
  EXPECT_EQ(coroutine_display_name("(anonymous namespace)::amain((anonymous namespace)::amain()::"
                                   "_ZN12_GLOBAL__N_15amainEv.Frame*) [clone .actor]"),
            "amain()");
  EXPECT_EQ(coroutine_display_name("(anonymous namespace)::twice((anonymous namespace)::twice<double>(double)::"
                                   "_ZN12_GLOBAL__N_15twiceIdEEN7asyncio4taskIT_EES3_.Frame*) [clone .actor]"),
            "twice<double>(double)");
  EXPECT_EQ(coroutine_display_name("S::meth(S::meth()::_ZN1S4methEv.Frame*) [clone .actor] [clone .cold]"),
            "S::meth()");
  // Anything else passes through.
  EXPECT_EQ(coroutine_display_name("main"), "main");
}

}  // namespace
