// loop_options::busy_poll: the loop polls without blocking for a short while before it sleeps,
// but only right after it found I/O, never while idle, never when turned off and never on a
// virtual clock. The outcomes checked (whether statistics().busy_polls moved) do not depend on the
// machine's speed: a loop that spins makes at least one poll, one that does not makes none.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;

namespace {

using asyncio::event_loop;

struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0); }
  ~socket_pair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  socket_pair(const socket_pair&) = delete;
  auto operator=(const socket_pair&) -> socket_pair& = delete;
};

void send_byte(int fd) { EXPECT_EQ(::write(fd, "x", 1), 1); }

// Reads two bytes arriving on sp.fd[0]: the first one is there before the loop starts, the second
// comes from another thread 20 ms later, so the loop finds I/O and then has to wait for more.
auto busy_polls_between_two_messages(event_loop& loop) -> std::uint64_t {
  socket_pair sp;
  send_byte(sp.fd[1]);
  int got = 0;
  loop.add_reader(sp.fd[0], [&] {
    char buf[8];
    while (::read(sp.fd[0], buf, sizeof buf) > 0) ++got;
    if (got == 2) loop.stop();
  });
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    send_byte(sp.fd[1]);
  });
  loop.run_forever();
  writer.join();
  loop.remove_reader(sp.fd[0]);
  EXPECT_EQ(got, 2);
  return loop.statistics().busy_polls;
}

TEST(BusyPoll, LoopThatFoundIoPollsBeforeItSleeps) {
  event_loop loop;  // default options: busy polling on
  EXPECT_GE(busy_polls_between_two_messages(loop), 1u);
  loop.close();
}

TEST(BusyPoll, ZeroTurnsItOff) {
  event_loop loop({.busy_poll = 0us});
  EXPECT_EQ(busy_polls_between_two_messages(loop), 0u);
  loop.close();
}

TEST(BusyPoll, VirtualClockNeverSpins) {
  asyncio::testing::virtual_clock clk;
  event_loop loop({.clock = &clk});
  EXPECT_EQ(busy_polls_between_two_messages(loop), 0u);
  loop.close();
}

TEST(BusyPoll, IdleLoopSleepsAtOnce) {
  // A watched socket that stays silent and a real timer: the loop never found I/O, so it blocks in
  // epoll_wait straight away (an idle program costs no CPU).
  event_loop loop;
  socket_pair sp;
  bool read_anything = false;
  loop.add_reader(sp.fd[0], [&] { read_anything = true; });
  loop.call_later(30ms, [&] { loop.stop(); });
  loop.run_forever();
  loop.remove_reader(sp.fd[0]);
  EXPECT_FALSE(read_anything);
  EXPECT_EQ(loop.statistics().busy_polls, 0u);
  loop.close();
}

TEST(BusyPoll, LateIoHalvesTheLimitAndSteadyIoRestoresIt) {
  // A byte, then a 20 ms gap: the spin after the first byte finds nothing, the loop sleeps, and
  // the next byte comes 20 ms after the wait began (later than the limit): the limit is halved.
  // Then bytes come back to back: spins find them and the limit grows back to the maximum (steady
  // traffic keeps its spin, bench/README.md). The writer keeps writing until that is seen (or
  // 10 s pass), so the outcome does not depend on how fast the machine is.
  event_loop loop;
  const asyncio::duration max = std::chrono::duration_cast<asyncio::duration>(asyncio::loop_options{}.busy_poll);
  EXPECT_EQ(loop.statistics().busy_poll_limit, max);
  socket_pair sp;
  send_byte(sp.fd[1]);
  std::atomic<int> phase{0};  // 0: waiting for the late byte, 1: steady bytes, 2: limit is back
  asyncio::duration halved{};
  int got = 0;
  loop.add_reader(sp.fd[0], [&] {
    char buf[64];
    ssize_t n = 0;
    while ((n = ::read(sp.fd[0], buf, sizeof buf)) > 0) got += static_cast<int>(n);
    // Reader callbacks run inside the poll, before the loop adapts the limit to that wait: look
    // at it from the next step.
    loop.call_soon([&] {
      asyncio::duration limit = loop.statistics().busy_poll_limit;
      if (phase.load() == 0 && got >= 2) {
        halved = limit;
        phase.store(1);
      } else if (phase.load() == 1 && limit == max) {
        phase.store(2);
        loop.stop();
      }
    });
  });
  auto give_up = loop.call_later(10s, [&] { loop.stop(); });
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    send_byte(sp.fd[1]);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (phase.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    while (phase.load() == 1 && std::chrono::steady_clock::now() < deadline) (void)::write(sp.fd[1], "y", 1);
  });
  loop.run_forever();
  writer.join();
  give_up.cancel();
  loop.remove_reader(sp.fd[0]);
  EXPECT_EQ(halved, max / 2);
  EXPECT_EQ(phase.load(), 2);
  loop.close();
}

TEST(BusyPoll, PostFromAnotherThreadDuringTheSpinIsTaken) {
  // While spinning the loop is not "sleeping", so call_soon_threadsafe does not write the eventfd:
  // the spin (or the re-check before sleeping) must still see the callback.
  event_loop loop;
  socket_pair sp;
  send_byte(sp.fd[1]);
  bool ran = false;
  loop.add_reader(sp.fd[0], [&] {
    char buf[8];
    while (::read(sp.fd[0], buf, sizeof buf) > 0) {
    }
  });
  std::thread poster([&] {
    std::this_thread::sleep_for(5ms);
    loop.call_soon_threadsafe([&] {
      ran = true;
      loop.stop();
    });
  });
  loop.run_forever();
  poster.join();
  loop.remove_reader(sp.fd[0]);
  EXPECT_TRUE(ran);
  loop.close();
}

}  // namespace
