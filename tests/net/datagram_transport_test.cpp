// Datagram transports and protocols over loopback (Python's loop.create_datagram_endpoint with
// asyncio.DatagramProtocol; cases after CPython's test_selector_events datagram tests): echo,
// connected and unconnected endpoints, error_received after an ICMP error, the address check of a
// connected sendto, reuse_port and allow_broadcast, close and abort with one connection_lost.
// Real clock; every wait is bounded.
#include <asyncio/core/run.hpp>
#include <asyncio/net/datagram_transport.hpp>
#include <asyncio/time/sleep.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using test_support::eventually;

namespace {

struct udp_recorder : asyncio::datagram_protocol {
  std::shared_ptr<asyncio::datagram_transport> t;
  std::vector<std::pair<std::string, asyncio::address>> got;
  std::vector<std::exception_ptr> errors;
  int made = 0, lost = 0;
  std::exception_ptr lost_error;
  bool echo = false;
  void connection_made(asyncio::datagram_transport& tr) override {
    ++made;
    t = tr.shared_from_this();
  }
  void datagram_received(std::string_view data, const asyncio::address& from) override {
    got.emplace_back(std::string(data), from);
    if (echo) t->sendto(data, from);
  }
  void error_received(std::exception_ptr e) override { errors.push_back(e); }
  void connection_lost(std::exception_ptr e) override {
    ++lost;
    lost_error = e;
  }
};

auto make_recorder() { return std::make_shared<udp_recorder>(); }

TEST(DatagramTransport, EchoBetweenConnectedAndUnconnectedEndpoints) {
  asyncio::run([]() -> task<void> {
    auto [srv, sp] = co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address::ipv4("127.0.0.1", 0));
    sp->echo = true;
    EXPECT_EQ(sp->made, 1);
    EXPECT_NE(srv->sockname().port(), 0);
    EXPECT_EQ(srv->peername().family(), AF_UNSPEC);
    auto [cli, cp] = co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address(), srv->sockname());
    EXPECT_EQ(cli->peername(), srv->sockname());
    cli->sendto("ping");
    cli->sendto("");  // an empty datagram is a datagram
    EXPECT_TRUE(co_await eventually([&] { return cp->got.size() == 2; }));
    EXPECT_EQ(cp->got.at(0).first, "ping");
    EXPECT_EQ(cp->got.at(0).second, srv->sockname());
    EXPECT_EQ(cp->got.at(1).first, "");
    EXPECT_EQ(sp->got.at(0).second, cli->sockname());
    // A connected endpoint accepts its own peer as address, and no other.
    cli->sendto("again", srv->sockname());
    EXPECT_THROW(cli->sendto("x", asyncio::address::ipv4("127.0.0.1", 9)), std::invalid_argument);
    EXPECT_TRUE(co_await eventually([&] { return cp->got.size() == 3; }));
    cli->close();
    srv->close();
    EXPECT_TRUE(cli->is_closing());
    EXPECT_TRUE(co_await eventually([&] { return cp->lost == 1 && sp->lost == 1; }));
    EXPECT_FALSE(cp->lost_error);
    EXPECT_EQ(cli->get_protocol(), nullptr);
    EXPECT_EQ(cli->fileno(), -1);
    cli->sendto("after close");  // ignored
    co_await asyncio::sleep(10ms);
    EXPECT_EQ(cp->lost, 1);
    EXPECT_TRUE(cp->errors.empty());
  }());
}

TEST(DatagramTransport, IcmpErrorGoesToErrorReceived) {
  asyncio::run([]() -> task<void> {
    // A port with nobody listening: bind one, note it, close it.
    auto probe = asyncio::socket(AF_INET, SOCK_DGRAM);
    probe.bind(asyncio::address::ipv4("127.0.0.1", 0));
    auto dead = probe.getsockname();
    probe.close();
    auto [cli, cp] = co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address(), dead);
    cli->sendto("anyone?");
    EXPECT_TRUE(co_await eventually([&] { return !cp->errors.empty(); }));
    if (!cp->errors.empty()) {
      EXPECT_THROW(std::rethrow_exception(cp->errors.front()), asyncio::connection_refused_error);
    }
    EXPECT_FALSE(cli->is_closing());  // error_received does not close
    cli->abort();
    EXPECT_TRUE(co_await eventually([&] { return cp->lost == 1; }));
    EXPECT_FALSE(cp->lost_error);
  }());
}

TEST(DatagramTransport, ReusePortAndAllowBroadcast) {
  asyncio::run([]() -> task<void> {
    asyncio::datagram_endpoint_options opts;
    opts.reuse_port = true;
    opts.allow_broadcast = true;
    auto [a, pa] =
        co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address::ipv4("127.0.0.1", 0), asyncio::address(), opts);
    auto [b, pb] = co_await asyncio::create_datagram_endpoint(make_recorder, a->sockname(), asyncio::address(), opts);
    EXPECT_EQ(a->sockname(), b->sockname());
    int on = 0;
    socklen_t len = sizeof on;
    EXPECT_EQ(::getsockopt(a->fileno(), SOL_SOCKET, SO_BROADCAST, &on, &len), 0);
    EXPECT_EQ(on, 1);
    // Without reuse_port the port is taken.
    EXPECT_THROW(co_await asyncio::create_datagram_endpoint(make_recorder, a->sockname()), asyncio::os_error);
    a->close();
    b->close();
    EXPECT_TRUE(co_await eventually([&] { return pa->lost == 1 && pb->lost == 1; }));
  }());
}

TEST(DatagramTransport, ArgumentErrors) {
  asyncio::run([]() -> task<void> {
    EXPECT_THROW(co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address()), std::invalid_argument);
    EXPECT_THROW(co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address::ipv4("127.0.0.1", 0),
                                                            asyncio::address::ipv6("::1", 9)),
                 std::invalid_argument);
    EXPECT_THROW(co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::socket()), std::invalid_argument);
    // Family only: an unbound socket that sends with an address.
    asyncio::datagram_endpoint_options v4;
    v4.family = AF_INET;
    auto [srv, sp] = co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address::ipv4("127.0.0.1", 0));
    auto [cli, cp] = co_await asyncio::create_datagram_endpoint(make_recorder, asyncio::address(), asyncio::address(), v4);
    cli->sendto("hi", srv->sockname());
    EXPECT_TRUE(co_await eventually([&] { return sp->got.size() == 1; }));
    EXPECT_THROW(cli->set_write_buffer_limits(1, 2), std::invalid_argument);
    cli->set_write_buffer_limits(std::nullopt, 10);
    EXPECT_EQ(cli->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{10, 40}));
    cli->close();
    srv->close();
    EXPECT_TRUE(co_await eventually([&] { return cp->lost == 1 && sp->lost == 1; }));
  }());
}

}  // namespace
