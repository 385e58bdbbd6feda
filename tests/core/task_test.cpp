// task<T>: the lazy coroutine type. Awaiting runs the child inside the awaiting task; results,
// exceptions and move-only values travel back; frames and their locals are destroyed on time.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include "support/sanitizers.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

using log_t = std::vector<std::string>;

// Records its construction and destruction (RAII in frames).
struct probe {
  log_t* log;
  std::string name;
  probe(log_t* l, std::string n) : log(l), name(std::move(n)) { log->push_back("+" + name); }
  probe(const probe&) = delete;
  ~probe() { log->push_back("-" + name); }
};

auto add_one(log_t* log, int x) -> asyncio::task<int> {
  log->push_back("add_one");
  co_return x + 1;
}

auto lazy_main(log_t* log) -> asyncio::task<int> {
  auto t = add_one(log, 1);
  log->push_back("created");
  int v = co_await std::move(t);
  log->push_back("awaited");
  co_return v;
}

TEST(Task, DoesNotRunUntilAwaited) {
  log_t log;
  EXPECT_EQ(run_virtual(lazy_main(&log)), 2);
  EXPECT_EQ(log, (log_t{"created", "add_one", "awaited"}));
}

auto void_child(int* out) -> asyncio::task<> {
  *out = 7;
  co_return;
}
int global_value = 0;
auto ref_child() -> asyncio::task<int&> { co_return global_value; }
auto value_kinds() -> asyncio::task<int> {
  int x = 0;
  co_await void_child(&x);
  int& r = co_await ref_child();
  r = 5;
  co_return x + global_value;
}

TEST(Task, VoidValueAndReferenceResults) {
  EXPECT_EQ(run_virtual(value_kinds()), 12);
  EXPECT_EQ(global_value, 5);
}

auto thrower(int depth) -> asyncio::task<int> {
  if (depth == 0) throw std::runtime_error("deep");
  co_return co_await thrower(depth - 1) + 1;
}
auto catch_deep() -> asyncio::task<std::string> {
  try {
    (void)co_await thrower(5);
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "not thrown";
}

TEST(Task, ExceptionPropagatesThroughALazyChain) {
  EXPECT_EQ(run_virtual(catch_deep()), "deep");
  EXPECT_THROW(run_virtual(thrower(3)), std::runtime_error);
}

auto make_unique_value(int v) -> asyncio::task<std::unique_ptr<int>> {
  co_await asyncio::sleep(1ms);
  co_return std::make_unique<int>(v);
}
auto move_only_main() -> asyncio::task<int> {
  std::unique_ptr<int> p = co_await make_unique_value(41);
  auto t = make_unique_value(1);  // an lvalue task is awaitable too
  std::unique_ptr<int> q = co_await t;
  co_return *p + *q;
}

TEST(Task, MoveOnlyResults) { EXPECT_EQ(run_virtual(move_only_main()), 42); }

auto raii_leaf(log_t* log) -> asyncio::task<int> {
  probe p(log, "leaf");
  co_await asyncio::sleep(1ms);
  co_return 1;
}
auto raii_middle(log_t* log) -> asyncio::task<int> {
  probe p(log, "middle");
  int v = co_await raii_leaf(log);
  log->push_back("middle resumed");
  co_return v + 1;
}
auto raii_main(log_t* log) -> asyncio::task<int> {
  int v = co_await raii_middle(log);
  log->push_back("main resumed");
  co_return v;
}

TEST(Task, LocalsAreDestroyedWhenEachFrameFinishes) {
  log_t log;
  EXPECT_EQ(run_virtual(raii_main(&log)), 2);
  EXPECT_EQ(log, (log_t{"+middle", "+leaf", "-leaf", "middle resumed", "-middle", "main resumed"}));
}

auto holds_probe(probe* p) -> asyncio::task<> {
  (void)p;
  co_return;
}
auto never_awaited(log_t* log) -> asyncio::task<int> {
  {
    auto p = std::make_unique<probe>(log, "param");
    auto t = holds_probe(p.get());  // created, never awaited: the frame is freed, nothing runs
    (void)t;
  }
  co_return static_cast<int>(log->size());
}

TEST(Task, NeverAwaitedFrameIsFreedWithoutRunning) {
  log_t log;
  EXPECT_EQ(run_virtual(never_awaited(&log)), 2);
}

auto task_identity(asyncio::any_task* seen) -> asyncio::task<> {
  *seen = asyncio::current_task();
  co_return;
}
auto same_task_main() -> asyncio::task<bool> {
  asyncio::any_task inner;
  co_await task_identity(&inner);
  co_return inner == asyncio::current_task() && bool(inner);
}

TEST(Task, AwaitedCoroutineRunsInsideTheAwaitingTask) { EXPECT_TRUE(run_virtual(same_task_main())); }

auto counter_leaf(int i) -> asyncio::task<long> { co_return i; }
auto many_sync_awaits(long n) -> asyncio::task<long> {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await counter_leaf(static_cast<int>(i % 1000));
  co_return sum;
}

TEST(Task, ManySynchronousAwaitsInALoop) {
  // 10M at the build's own optimisation level (stack_depth_test.cpp covers -O0).
  constexpr long n = ASYNCIO_TEST_SANITIZED ? 1'000'000 : 10'000'000;
  EXPECT_EQ(run_virtual(many_sync_awaits(n)), (n / 1000) * (999L * 1000 / 2));
}

auto recurse(int n) -> asyncio::task<long> {
  if (n == 0) co_return 0;
  co_return co_await recurse(n - 1) + 1;
}

TEST(Task, Recursion100kDeep) { EXPECT_EQ(run_virtual(recurse(100'000)), 100'000); }

auto suspending_leaf(int i) -> asyncio::task<int> {
  if (i % 3 == 0) co_await asyncio::sleep(0s);
  if (i % 5 == 0) co_await asyncio::sleep(1ms);
  co_return i;
}
auto mixed_awaits() -> asyncio::task<int> {
  int sum = 0;
  for (int i = 0; i < 1000; ++i) sum += co_await suspending_leaf(i);
  co_return sum;
}

TEST(Task, MixOfSuspendingAndSynchronousChildren) { EXPECT_EQ(run_virtual(mixed_awaits()), 499500); }

TEST(Task, MoveAssignmentAndValidity) {
  auto a = counter_leaf(1);
  EXPECT_TRUE(a.valid());
  asyncio::task<long> b;
  EXPECT_FALSE(b.valid());
  b = std::move(a);
  EXPECT_TRUE(b.valid());
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

}  // namespace
