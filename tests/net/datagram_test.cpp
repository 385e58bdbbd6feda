// UDP over loopback: create_datagram_socket, sock_sendto/sock_recvfrom on 127.0.0.1 and ::1,
// connected sockets, and cancellation of a pending recvfrom (nothing lost afterwards). Real clock;
// every wait is bounded.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <sys/socket.h>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

// One round trip between two bound sockets of `host`'s family.
auto round_trip(std::string host) -> task<void> {
  auto a = asyncio::create_datagram_socket(asyncio::address::parse(host, 0));
  auto b = asyncio::create_datagram_socket(asyncio::address::parse(host, 0));
  asyncio::address a_addr = a.getsockname();
  asyncio::address b_addr = b.getsockname();
  EXPECT_NE(a_addr.port(), 0);
  EXPECT_EQ(a_addr.host(), host);

  // b waits first, so the datagram arrives while recvfrom is parked.
  auto pending = asyncio::create_task(asyncio::sock_recvfrom(b, 1024));
  EXPECT_FALSE(pending.done());
  EXPECT_EQ(co_await asyncio::sock_sendto(a, "ping", b_addr), 4u);
  asyncio::datagram d = co_await test_support::bounded(std::move(pending));
  EXPECT_EQ(d.data, "ping");
  EXPECT_EQ(d.from, a_addr);

  // Reply to the sender's address as reported by recvfrom.
  EXPECT_EQ(co_await asyncio::sock_sendto(b, "pong", d.from), 4u);
  asyncio::datagram e = co_await test_support::bounded(asyncio::sock_recvfrom(a));
  EXPECT_EQ(e.data, "pong");
  EXPECT_EQ(e.from, b_addr);

  // Datagram boundaries are kept; a short buffer truncates (the rest of that datagram is dropped).
  co_await asyncio::sock_sendto(a, "first", b_addr);
  co_await asyncio::sock_sendto(a, "second-longer", b_addr);
  EXPECT_EQ((co_await test_support::bounded(asyncio::sock_recvfrom(b, 100))).data, "first");
  EXPECT_EQ((co_await test_support::bounded(asyncio::sock_recvfrom(b, 6))).data, "second");
  // An empty datagram is a datagram, not EOF.
  co_await asyncio::sock_sendto(a, "", b_addr);
  asyncio::datagram empty = co_await test_support::bounded(asyncio::sock_recvfrom(b));
  EXPECT_EQ(empty.data, "");
  EXPECT_EQ(empty.from, a_addr);
  a.close();
  b.close();
}

TEST(Datagram, RoundTripIPv4) { asyncio::run(round_trip("127.0.0.1")); }

TEST(Datagram, RoundTripIPv6) { asyncio::run(round_trip("::1")); }

TEST(Datagram, ConnectedSocketUsesDefaultDestination) {
  asyncio::run([]() -> task<void> {
    auto server = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
    auto client = asyncio::create_datagram_socket({}, server.getsockname());
    // An empty address means "the connected peer".
    EXPECT_EQ(co_await asyncio::sock_sendto(client, "hello", {}), 5u);
    asyncio::datagram d = co_await test_support::bounded(asyncio::sock_recvfrom(server));
    EXPECT_EQ(d.data, "hello");
    EXPECT_EQ(d.from, client.getsockname());
    co_await asyncio::sock_sendto(server, "back", d.from);
    // sock_recv works on a connected datagram socket too.
    EXPECT_EQ(co_await test_support::bounded(asyncio::sock_recv(client, 100)), "back");
    client.close();
    server.close();
  }());
}

TEST(Datagram, CreateWithoutAddressThrows) {
  EXPECT_THROW((void)asyncio::create_datagram_socket({}, {}), std::invalid_argument);
}

TEST(Datagram, CancelPendingRecvfromLosesNothing) {
  asyncio::run([]() -> task<void> {
    auto a = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
    auto b = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
    auto pending = asyncio::create_task(asyncio::sock_recvfrom(b));
    co_await asyncio::sleep(5ms);
    EXPECT_FALSE(pending.done());
    pending.cancel();
    bool cancelled = false;
    try {
      (void)co_await pending;
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(pending.cancelled());
    // The socket is still usable and the next datagram goes to the next reader.
    co_await asyncio::sock_sendto(a, "after-cancel", b.getsockname());
    asyncio::datagram d = co_await test_support::bounded(asyncio::sock_recvfrom(b));
    EXPECT_EQ(d.data, "after-cancel");

    // A second cancelled reader, then a datagram: it goes to the next reader, not to the cancelled one.
    auto second = asyncio::create_task(asyncio::sock_recvfrom(b));
    co_await asyncio::sleep(5ms);
    second.cancel();
    co_await test_support::cancel_and_wait(second);
    EXPECT_TRUE(second.cancelled());
    co_await asyncio::sock_sendto(a, "still-there", b.getsockname());
    EXPECT_EQ((co_await test_support::bounded(asyncio::sock_recvfrom(b))).data, "still-there");
    a.close();
    b.close();
  }());
}

TEST(Datagram, RecvfromOnClosedSocketRaises) {
  asyncio::run([]() -> task<void> {
    auto a = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
    a.close();
    bool raised = false;
    try {
      (void)co_await asyncio::sock_recvfrom(a);
    } catch (const asyncio::os_error& e) {
      raised = true;
      EXPECT_EQ(e.code().value(), EBADF);
    }
    EXPECT_TRUE(raised);
  }());
}

}  // namespace
