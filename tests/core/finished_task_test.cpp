// A task that finishes inside create_task is kept as a compact finished_task (its coroutine frame is
// freed, W1 in docs/benchmarks.md §2.1): every handle operation must behave exactly as on a task that kept its frame.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

asyncio::task<int> value_of(int i) { co_return i; }
asyncio::task<> nothing() { co_return; }
int shared_counter = 0;
asyncio::task<int&> reference_to_counter() { co_return shared_counter; }
struct pair8 {
  int a;
  int b;
};
asyncio::task<pair8> small_struct() { co_return pair8{3, 4}; }
// Every bit set: the result shares its word with the waiters list, which nothing may follow.
asyncio::task<std::uint64_t> all_ones() { co_return ~std::uint64_t{0}; }
asyncio::task<std::string> a_string() { co_return std::string(40, 'x'); }
asyncio::task<int> suspends_then(int i) {
  co_await asyncio::sleep(0s);
  co_return i;
}
asyncio::task<int> throws() {
  throw std::runtime_error("boom");
  co_return 0;
}

asyncio::task<> compacts_small_results() {
  auto i = asyncio::create_task(value_of(7));
  auto v = asyncio::create_task(nothing());
  auto r = asyncio::create_task(reference_to_counter());
  auto s = asyncio::create_task(small_struct());
  auto u = asyncio::create_task(all_ones());
  EXPECT_TRUE(u.core()->compact());
  EXPECT_EQ(u.result(), ~std::uint64_t{0});
  EXPECT_TRUE(i.core()->compact());
  EXPECT_TRUE(v.core()->compact());
  EXPECT_TRUE(r.core()->compact());
  EXPECT_TRUE(s.core()->compact());
  EXPECT_EQ(i.result(), 7);
  v.result();
  EXPECT_EQ(&r.result(), &shared_counter);
  EXPECT_EQ(s.result().a, 3);
  EXPECT_EQ(s.result().b, 4);
  EXPECT_EQ(co_await i, 7);
  EXPECT_EQ(co_await std::move(i), 7);  // take_result
  int& ref = co_await r;
  EXPECT_EQ(&ref, &shared_counter);
  co_await v;
  pair8 p = co_await s;
  EXPECT_EQ(p.b, 4);
  EXPECT_EQ(co_await u, ~std::uint64_t{0});
  EXPECT_EQ(co_await asyncio::shield(u), ~std::uint64_t{0});
  auto [x] = co_await asyncio::gather(u);
  EXPECT_EQ(x, ~std::uint64_t{0});
}
TEST(FinishedTask, ATaskFinishedInCreateTaskKeepsItsResultWithoutItsFrame) {
  run_virtual(compacts_small_results());
}

asyncio::task<> keeps_frames_when_needed() {
  // Too big, suspended, failed, named, or referenced elsewhere: the frame stays.
  auto big = asyncio::create_task(a_string());
  EXPECT_FALSE(big.core()->compact());
  EXPECT_EQ(big.result().size(), 40u);
  auto later = asyncio::create_task(suspends_then(5));
  EXPECT_FALSE(later.core()->compact());
  EXPECT_EQ(co_await later, 5);
  EXPECT_FALSE(later.core()->compact());  // only create_task replaces frames
  auto failed = asyncio::create_task(throws());
  EXPECT_FALSE(failed.core()->compact());
  EXPECT_THROW((void)failed.result(), std::runtime_error);
  auto named = asyncio::create_task(value_of(1), "named");
  EXPECT_FALSE(named.core()->compact());
  EXPECT_EQ(named.get_name(), "named");
  auto lazy = asyncio::create_task(value_of(2), asyncio::task_options{.eager = false});
  EXPECT_FALSE(lazy.core()->compact());
  EXPECT_EQ(co_await lazy, 2);
}
TEST(FinishedTask, FramesStayWhenTheTaskCannotBeCompacted) { run_virtual(keeps_frames_when_needed()); }

asyncio::any_task escaped;
asyncio::task<int> keeps_itself() {
  escaped = asyncio::current_task();  // a second reference to the frame: it must stay
  co_return 9;
}
asyncio::task<> another_reference_keeps_the_frame() {
  auto h = asyncio::create_task(keeps_itself());
  EXPECT_FALSE(h.core()->compact());
  EXPECT_TRUE(escaped == h);
  EXPECT_EQ(h.result(), 9);
  escaped = {};
  co_return;
}
TEST(FinishedTask, AnotherReferenceToTheTaskKeepsTheFrame) { run_virtual(another_reference_keeps_the_frame()); }

asyncio::task<> behaves_like_a_task() {
  auto h = asyncio::create_task(value_of(11));
  EXPECT_TRUE(h.core()->compact());
  EXPECT_TRUE(h.done());
  EXPECT_FALSE(h.cancelled());
  EXPECT_FALSE(h.cancel());
  EXPECT_FALSE(h.cancel("late"));
  EXPECT_EQ(h.cancelling(), 0);
  EXPECT_EQ(h.uncancel(), 0);
  EXPECT_EQ(h.exception(), nullptr);
  EXPECT_EQ(&h.get_loop(), &asyncio::get_running_loop());
  EXPECT_EQ(h.created_at().line(), 0u);
  std::string name = h.get_name();
  EXPECT_EQ(name.rfind("Task-", 0), 0u);
  EXPECT_EQ(h.get_name(), name);  // numbered once
  h.set_name("renamed");
  EXPECT_EQ(h.get_name(), "renamed");

  // Copies share identity and the result; the block lives until the last handle goes.
  asyncio::task_handle<int> copy = h;
  asyncio::any_task erased = h;
  EXPECT_TRUE(copy == h);
  EXPECT_TRUE(erased == h);
  h = {};
  EXPECT_EQ(copy.result(), 11);
  EXPECT_EQ(erased.get_name(), "renamed");

  int calls = 0;
  copy.add_done_callback([&] { ++calls; });
  EXPECT_EQ(calls, 0);  // via call_soon, as for any done task
  co_await asyncio::sleep(0s);
  EXPECT_EQ(calls, 1);

  // Not in all_tasks(): it is finished.
  for (auto& t : asyncio::all_tasks()) EXPECT_FALSE(t == copy);
}
TEST(FinishedTask, EveryHandleOperationBehavesAsOnADoneTask) { run_virtual(behaves_like_a_task()); }

asyncio::task<> combinators_accept_finished_tasks() {
  auto a = asyncio::create_task(value_of(1));
  auto b = asyncio::create_task(value_of(2));
  auto c = asyncio::create_task(suspends_then(3));
  auto [x, y, z] = co_await asyncio::gather(a, b, c);
  EXPECT_EQ(x + y + z, 6);

  std::vector<asyncio::task_handle<int>> hs;
  for (int i = 0; i < 5; ++i) hs.push_back(asyncio::create_task(value_of(i)));
  auto all = co_await asyncio::gather(hs);
  EXPECT_EQ(all, (std::vector<int>{0, 1, 2, 3, 4}));

  auto [done, pending] = co_await asyncio::wait(hs);
  EXPECT_EQ(done.size(), 5u);
  EXPECT_TRUE(pending.empty());

  int sum = 0;
  for (auto next : asyncio::as_completed(hs)) sum += co_await next;
  EXPECT_EQ(sum, 10);

  EXPECT_EQ(co_await asyncio::wait_for(asyncio::create_task(value_of(8)), 1s), 8);
  EXPECT_EQ(co_await asyncio::shield(asyncio::create_task(value_of(9))), 9);
}
TEST(FinishedTask, CombinatorsAcceptFinishedTasks) { run_virtual(combinators_accept_finished_tasks()); }

asyncio::task<> frames_are_reused() {
  // Each finished task gives its frame back at once: creating many of them and keeping every
  // handle reserves about one frame of the pool, plus the 32-byte blocks.
  std::size_t before = asyncio::detail::frame_pool_reserved_bytes();
  std::vector<asyncio::task_handle<int>> hs;
  constexpr int n = 20000;
  hs.reserve(n);
  for (int i = 0; i < n; ++i) hs.push_back(asyncio::create_task(value_of(i)));
  std::size_t grown = asyncio::detail::frame_pool_reserved_bytes() - before;
  if (ASYNCIO_FRAME_POOL) {
    EXPECT_LT(grown, n * 40u);  // kept frames would take n * 80 bytes; boxes take n * 32
  }
  long long sum = 0;
  for (auto& h : hs) sum += co_await h;
  EXPECT_EQ(sum, 1LL * n * (n - 1) / 2);
}
TEST(FinishedTask, FinishedTasksGiveTheirFramesBack) { run_virtual(frames_are_reused()); }

}  // namespace
