// runtime: start/stop, work on every loop, cross-loop hand-off under load and its cancellation.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto where() -> asyncio::task<std::size_t> {
  co_await asyncio::sleep(0s);
  co_return asyncio::runtime::current_index();
}

auto square_on_some_thread(int x) -> asyncio::task<int> {
  auto square = [x] { return x * x; };
  co_return co_await asyncio::to_thread(square);
}

TEST(Runtime, StartsAndStopsItsLoops) {
  for (int round = 0; round < 3; ++round) {
    asyncio::runtime rt({.loops = 3, .executor_threads = 2});
    EXPECT_EQ(rt.size(), 3u);
    EXPECT_EQ(asyncio::runtime::current_index(), asyncio::runtime::npos);
    rt.stop();
    rt.stop();  // idempotent
  }
}

TEST(Runtime, RunsOnEveryLoopAndOnAChosenOne) {
  asyncio::runtime rt({.loops = 2});
  auto ids = rt.run_on_every_loop([](std::size_t) { return where(); });
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], 0u);
  EXPECT_EQ(ids[1], 1u);
  EXPECT_EQ(rt.block_on(1, where()), 1u);
  EXPECT_EQ(rt.block_on(0, square_on_some_thread(9)), 81);
}

TEST(Runtime, LeftoverTasksAreCancelledAtStop) {
  std::atomic<bool> cancelled{false};
  {
    asyncio::runtime rt({.loops = 1});
    auto f = rt.spawn(0, [](std::atomic<bool>* flag) -> asyncio::task<void> {
      try {
        co_await asyncio::sleep(3600s);
      } catch (const asyncio::cancelled_error&) {
        flag->store(true);
        throw;
      }
    }(&cancelled));
    EXPECT_FALSE(f.wait_for(1ms));
  }
  EXPECT_TRUE(cancelled.load());
}

auto hop_chain(asyncio::runtime* rt, int n) -> asyncio::task<long> {
  // Each hop hands a small coroutine to the other loop and awaits its result.
  long sum = 0;
  std::size_t here = asyncio::runtime::current_index();
  std::size_t other = (here + 1) % rt->size();
  for (int i = 0; i < n; ++i) sum += co_await asyncio::run_on(rt->loop(other), square_on_some_thread(i % 10));
  co_return sum;
}

TEST(Runtime, CrossLoopHandOffUnderLoad) {
  asyncio::runtime rt({.loops = 2, .executor_threads = 2});
  // Both loops hand work to each other at the same time, many tasks each.
  auto sums = rt.run_on_every_loop([&rt](std::size_t) -> asyncio::task<long> {
    return [](asyncio::runtime* rt) -> asyncio::task<long> {
      std::vector<asyncio::task_handle<long>> tasks;
      for (int t = 0; t < 50; ++t) tasks.push_back(asyncio::create_task(hop_chain(rt, 40)));
      long total = 0;
      for (auto& t : tasks) total += co_await t;
      co_return total;
    }(&rt);
  });
  long expected_per_chain = 0;
  for (int i = 0; i < 40; ++i) expected_per_chain += (i % 10) * (i % 10);
  for (long s : sums) EXPECT_EQ(s, 50 * expected_per_chain);
}

TEST(Runtime, CancellingAHandOffCancelsTheRemoteTask) {
  asyncio::runtime rt({.loops = 2});
  std::atomic<bool> remote_cancelled{false};
  bool raised = rt.block_on(0, [](asyncio::runtime* rt, std::atomic<bool>* flag) -> asyncio::task<bool> {
    auto remote = [](std::atomic<bool>* flag) -> asyncio::task<int> {
      try {
        co_await asyncio::sleep(3600s);
      } catch (const asyncio::cancelled_error&) {
        flag->store(true);
        throw;
      }
      co_return 0;
    };
    auto t = asyncio::create_task(asyncio::run_on(rt->loop(1), remote(flag)));
    co_await asyncio::sleep(5ms);
    t.cancel();
    try {
      co_await t;
    } catch (const asyncio::cancelled_error&) {
      co_return true;
    }
    co_return false;
  }(&rt, &remote_cancelled));
  EXPECT_TRUE(raised);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!remote_cancelled.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(remote_cancelled.load());
}

// run_on carries void and references back as well as values (detail/value_slot.hpp).
int cross_loop_counter = 0;
auto counter_on_its_loop() -> asyncio::task<int&> {
  co_await asyncio::sleep(0s);
  co_return cross_loop_counter;
}
auto bump_counter() -> asyncio::task<void> {
  co_await asyncio::sleep(0s);
  ++cross_loop_counter;
}

TEST(Runtime, RunOnReturnsVoidAndReferences) {
  cross_loop_counter = 0;
  asyncio::runtime rt({.loops = 2});
  bool same = rt.block_on(0, [](asyncio::runtime* rt) -> asyncio::task<bool> {
    co_await asyncio::run_on(rt->loop(1), bump_counter());
    int& r = co_await asyncio::run_on(rt->loop(1), counter_on_its_loop());
    co_return &r == &cross_loop_counter && r == 1;
  }(&rt));
  EXPECT_TRUE(same);
}

TEST(Runtime, ExceptionsCrossLoops) {
  asyncio::runtime rt({.loops = 2});
  bool caught = rt.block_on(0, [](asyncio::runtime* rt) -> asyncio::task<bool> {
    auto thrower = []() -> asyncio::task<int> {
      co_await asyncio::sleep(0s);
      throw std::logic_error("from loop 1");
    };
    try {
      co_await asyncio::run_on(rt->loop(1), thrower());
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }(&rt));
  EXPECT_TRUE(caught);
}

// On the calling runtime loop: a byte is waiting on a socket when the loop starts watching it and
// a second one comes from another thread 20 ms later, so the loop finds I/O and then has to wait
// for more: a loop with busy polling polls at least once before it sleeps, one without never does
// (the same outcome-only check as tests/core/busy_poll_test.cpp: no timing is asserted).
auto busy_polls_between_two_messages() -> asyncio::task<std::uint64_t> {
  int fd[2] = {-1, -1};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0);
  EXPECT_EQ(::write(fd[1], "x", 1), 1);
  asyncio::event_loop& loop = asyncio::get_running_loop();
  std::uint64_t before = loop.statistics().busy_polls;
  asyncio::event both;
  int got = 0;
  loop.add_reader(fd[0], [&] {
    char buf[8];
    while (::read(fd[0], buf, sizeof buf) > 0) ++got;
    if (got == 2) both.set();
  });
  std::thread writer([w = fd[1]] {
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(::write(w, "y", 1), 1);
  });
  co_await both.wait();
  writer.join();
  loop.remove_reader(fd[0]);
  ::close(fd[0]);
  ::close(fd[1]);
  co_return loop.statistics().busy_polls - before;
}

TEST(Runtime, BusyPollReachesEveryLoop) {
  {
    asyncio::runtime rt({.loops = 2, .busy_poll = 0us});
    auto polls = rt.run_on_every_loop([](std::size_t) { return busy_polls_between_two_messages(); });
    ASSERT_EQ(polls.size(), 2u);
    EXPECT_EQ(polls[0], 0u);
    EXPECT_EQ(polls[1], 0u);
  }
  {
    asyncio::runtime rt({.loops = 2});  // the default: loop_options' busy polling
    auto polls = rt.run_on_every_loop([](std::size_t) { return busy_polls_between_two_messages(); });
    ASSERT_EQ(polls.size(), 2u);
    EXPECT_GE(polls[0], 1u);
    EXPECT_GE(polls[1], 1u);
  }
}

}  // namespace
