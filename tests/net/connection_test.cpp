// create_connection: sequential fallback and the Happy Eyeballs race (RFC 8305) over loopback.
//
// "An address that never answers" is a listener with backlog 0 whose single accept-queue slot is
// already taken: Linux (and gVisor) then drop further SYNs, so a connect to it stays pending
// (retransmitting) instead of failing. That keeps the test on loopback and bounded.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>
#include <gtest/gtest.h>

#include <support/fd_helpers.hpp>
#include <support/net_helpers.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

using test_support::count_open_fds;

// A listener that never completes another handshake: backlog 0 and its one slot filled by `filler`.
struct black_hole {
  asyncio::socket listener;
  asyncio::socket filler;
  asyncio::address addr;

  static auto make() -> task<black_hole> {
    black_hole b;
    b.listener = asyncio::socket(AF_INET, SOCK_STREAM);
    b.listener.bind(asyncio::address::ipv4("127.0.0.1", 0));
    b.listener.listen(0);
    b.addr = b.listener.getsockname();
    b.filler = asyncio::socket(AF_INET, SOCK_STREAM);
    co_await test_support::bounded(asyncio::sock_connect(b.filler, b.addr));
    co_return b;
  }
  // True if a fresh connect to addr is still pending after `wait` (i.e. the trick works here).
  auto swallows_connects(std::chrono::milliseconds wait) -> task<bool> {
    asyncio::socket probe(AF_INET, SOCK_STREAM);
    auto h = asyncio::create_task(asyncio::sock_connect(probe, addr));
    co_await asyncio::sleep(wait);
    bool pending = !h.done();
    co_await test_support::cancel_and_wait(h);
    probe.close();
    co_return pending;
  }
  void close() {
    filler.close();
    listener.close();
  }
};

// The address list, built outside the coroutine's full-expression (g++ 12 rejects a braced list of
// addresses there: "array used as initializer").
auto addresses(asyncio::address a, asyncio::address b) -> std::vector<asyncio::address> {
  std::vector<asyncio::address> v;
  v.push_back(a);
  v.push_back(b);
  return v;
}

auto accept_one(asyncio::socket& listener) -> task<asyncio::socket> {
  asyncio::accepted_socket a = co_await asyncio::sock_accept(listener);
  co_return std::move(a.sock);
}

constexpr const char* no_black_hole = "this kernel completes connects to a full-backlog listener: no silent address on loopback";

TEST(CreateConnection, HappyEyeballsSecondAddressWinsAndLoserIsClosed) {
  bool skipped = false;
  asyncio::run([](bool* skipped) -> task<void> {
    black_hole hole = co_await black_hole::make();
    if (!co_await hole.swallows_connects(200ms)) {
      hole.close();
      *skipped = true;
      co_return;
    }
    asyncio::socket good(AF_INET, SOCK_STREAM);
    good.bind(asyncio::address::ipv4("127.0.0.1", 0));
    good.listen();
    asyncio::address good_addr = good.getsockname();

    const int fds_before = count_open_fds();
    const std::size_t tasks_before = asyncio::get_running_loop().statistics().tasks;
    asyncio::connect_options opts;
    opts.happy_eyeballs_delay = 50ms;
    asyncio::socket s =
        co_await test_support::bounded(asyncio::create_connection(addresses(hole.addr, good_addr), opts), 30s);
    EXPECT_TRUE(s.is_open());
    EXPECT_EQ(s.getpeername(), good_addr);
    EXPECT_EQ(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
    // The winner is the connection `good` accepts; the loser's attempt is cancelled and its socket
    // closed: back to the fds we had plus the winner, and no attempt task left behind.
    asyncio::socket peer = co_await test_support::bounded(accept_one(good));
    EXPECT_EQ(peer.getpeername(), s.getsockname());
    EXPECT_TRUE(co_await test_support::eventually([&] {
      return count_open_fds() == fds_before + 2 && asyncio::get_running_loop().statistics().tasks <= tasks_before;
    }));
    EXPECT_EQ(count_open_fds(), fds_before + 2);  // s and peer

    // The winner works.
    co_await asyncio::sock_sendall(s, "hi");
    EXPECT_EQ(co_await test_support::bounded(asyncio::sock_recv(peer, 10)), "hi");
    s.close();
    peer.close();
    good.close();
    hole.close();
  }(&skipped));
  if (skipped) GTEST_SKIP() << no_black_hole;
}

// Whether the black hole swallows connects, checked with plain syscalls and a real-time poll (the
// test below runs on a virtual clock, where a sleep would not let real time pass).
auto swallows_connects_real_time(const asyncio::address& addr, int wait_ms) -> bool {
  asyncio::socket probe(AF_INET, SOCK_STREAM);  // non-blocking
  int rc = ::connect(probe.fileno(), addr.data(), addr.size());
  if (rc == 0) return false;
  pollfd p{probe.fileno(), POLLOUT, 0};
  return ::poll(&p, 1, wait_ms) == 0;  // still connecting after wait_ms
}

auto delay_is_honoured(asyncio::testing::virtual_clock* clk, bool* skipped) -> task<void> {
  black_hole hole = co_await black_hole::make();
  if (!swallows_connects_real_time(hole.addr, 200)) {
    hole.close();
    *skipped = true;
    co_return;
  }
  asyncio::socket good(AF_INET, SOCK_STREAM);
  good.bind(asyncio::address::ipv4("127.0.0.1", 0));
  good.listen();
  const asyncio::address good_addr = good.getsockname();
  auto good_has_pending_connection = [&good] {
    pollfd p{good.fileno(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  };

  const int fds_before = count_open_fds();
  const auto t0 = clk->elapsed();
  asyncio::connect_options opts;
  opts.happy_eyeballs_delay = 7s;
  auto h = asyncio::create_task(asyncio::create_connection(addresses(hole.addr, good_addr), opts));
  // The first attempt starts at once (its socket exists) and hangs on the black hole.
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  EXPECT_EQ(count_open_fds(), fds_before + 1);
  // Just before the delay (virtual time: the clock jumps straight here) there is still only the
  // first attempt: no second socket, no connection at the second address.
  co_await asyncio::sleep(7s - 1ms);
  EXPECT_FALSE(h.done());
  EXPECT_EQ(count_open_fds(), fds_before + 1);
  EXPECT_FALSE(good_has_pending_connection());
  // At the delay the second attempt starts and wins. No timer is left after that one, so the
  // virtual clock stays put while the loopback connect completes.
  asyncio::socket s = co_await std::move(h);
  EXPECT_GE(clk->elapsed() - t0, std::chrono::duration_cast<asyncio::duration>(7s));
  EXPECT_EQ(s.getpeername(), good_addr);
  EXPECT_TRUE(good_has_pending_connection());
  s.close();
  good.close();
  hole.close();
}

TEST(CreateConnection, HappyEyeballsWaitsForTheDelayBeforeTheNextAttempt) {
  bool skipped = false;
  asyncio::testing::virtual_clock clk;
  asyncio::run(delay_is_honoured(&clk, &skipped), {.clock = &clk});
  if (skipped) GTEST_SKIP() << no_black_hole;
}

TEST(CreateConnection, HappyEyeballsFailedAttemptStartsNextAtOnce) {
  asyncio::run([]() -> task<void> {
    // A refused address (a port nobody listens on) fails fast; the next attempt must start without
    // waiting for the (huge) delay.
    asyncio::socket closed(AF_INET, SOCK_STREAM);
    closed.bind(asyncio::address::ipv4("127.0.0.1", 0));
    asyncio::address refused = closed.getsockname();  // bound, not listening: connect is refused
    asyncio::socket good(AF_INET, SOCK_STREAM);
    good.bind(asyncio::address::ipv4("127.0.0.1", 0));
    good.listen();
    asyncio::connect_options opts;
    opts.happy_eyeballs_delay = 1h;
    asyncio::socket s = co_await test_support::bounded(
        asyncio::create_connection(addresses(refused, good.getsockname()), opts), 30s);
    EXPECT_EQ(s.getpeername(), good.getsockname());
    s.close();
    good.close();
    closed.close();
  }());
}

TEST(CreateConnection, AllAttemptsFailRaisesTheCommonError) {
  asyncio::run([]() -> task<void> {
    asyncio::socket a(AF_INET, SOCK_STREAM), b(AF_INET, SOCK_STREAM);
    a.bind(asyncio::address::ipv4("127.0.0.1", 0));
    b.bind(asyncio::address::ipv4("127.0.0.1", 0));
    for (bool staggered : {false, true}) {
      asyncio::connect_options opts;
      if (staggered) opts.happy_eyeballs_delay = 10ms;
      bool refused = false;
      try {
        auto s = co_await test_support::bounded(
            asyncio::create_connection(addresses(a.getsockname(), b.getsockname()), opts), 30s);
        ADD_FAILURE() << "connected to a port nobody listens on";
      } catch (const asyncio::connection_refused_error& e) {
        refused = true;
        EXPECT_NE(std::string(e.what()).find("multiple exceptions"), std::string::npos) << e.what();
      }
      EXPECT_TRUE(refused) << "staggered=" << staggered;
    }
    a.close();
    b.close();
  }());
}

TEST(CreateConnection, SequentialFallsBackToSecondAddress) {
  asyncio::run([]() -> task<void> {
    asyncio::socket closed(AF_INET, SOCK_STREAM);
    closed.bind(asyncio::address::ipv4("127.0.0.1", 0));
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader, asyncio::stream_writer w) -> task<void> {
          w.write("welcome");
          co_return;
        },
        "::1", 0);
    asyncio::connect_options opts;  // no delay: one address after the other
    asyncio::socket s = co_await test_support::bounded(
        asyncio::create_connection(addresses(closed.getsockname(), asyncio::address::ipv6("::1", srv.port())), opts), 30s);
    EXPECT_EQ(s.family(), AF_INET6);
    auto [r, w] = asyncio::make_streams(std::move(s));
    EXPECT_EQ(co_await test_support::bounded(r.read()), "welcome");
    w.close();
    closed.close();
    co_await srv.shutdown(1s);
  }());
}

TEST(CreateConnection, EmptyAddressListThrows) {
  asyncio::run([]() -> task<void> {
    bool thrown = false;
    try {
      (void)co_await asyncio::create_connection(std::vector<asyncio::address>{});
    } catch (const std::invalid_argument&) {
      thrown = true;
    }
    EXPECT_TRUE(thrown);
  }());
}

TEST(CreateConnection, CancelledWhileAttemptsPendClosesEverything) {
  bool skipped = false;
  asyncio::run([](bool* skipped) -> task<void> {
    black_hole hole = co_await black_hole::make();
    if (!co_await hole.swallows_connects(200ms)) {
      hole.close();
      *skipped = true;
      co_return;
    }
    const int fds_before = count_open_fds();
    asyncio::connect_options opts;
    opts.happy_eyeballs_delay = 20ms;
    // Two silent attempts (the same black hole twice), then cancel the caller.
    auto h = asyncio::create_task(asyncio::create_connection(addresses(hole.addr, hole.addr), opts));
    co_await asyncio::sleep(100ms);
    EXPECT_FALSE(h.done());
    co_await test_support::cancel_and_wait(h);
    EXPECT_TRUE(h.cancelled());
    EXPECT_TRUE(co_await test_support::eventually([&] { return count_open_fds() == fds_before; }));
    EXPECT_EQ(count_open_fds(), fds_before);
    hole.close();
  }(&skipped));
  if (skipped) GTEST_SKIP() << no_black_hole;
}

}  // namespace
