// Transports and protocols over loopback (Python's loop.create_connection / create_server with
// asyncio.Protocol and BufferedProtocol; cases after CPython's test_selector_events and
// test_events): echo, eof_received's half-close, pause/resume of reading and writing, water marks,
// reset and abort, exactly one connection_lost, callback exceptions, Unix sockets and
// connect_accepted_socket. Real clock; every wait is bounded.
#include <asyncio/core/run.hpp>
#include <asyncio/net/transport.hpp>
#include <asyncio/time/sleep.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using test_support::eventually;

namespace {

// Records every callback; optionally echoes, keeps the transport open on EOF, pauses reading at once.
struct recorder : asyncio::protocol {
  std::shared_ptr<asyncio::transport> t;
  std::string data;
  std::vector<std::string> events;
  std::exception_ptr lost_error;
  int lost = 0;
  bool echo = false;
  bool keep_open = false;
  bool pause_at_start = false;
  bool throw_on_data = false;

  void connection_made(asyncio::transport& tr) override {
    t = tr.shared_from_this();
    events.emplace_back("made");
    if (pause_at_start) t->pause_reading();
  }
  void data_received(std::string_view d) override {
    if (lost) events.emplace_back("data after lost");
    if (throw_on_data) throw std::runtime_error("boom");
    data += d;
    if (echo) t->write(d);
  }
  auto eof_received() -> bool override {
    events.emplace_back("eof");
    return keep_open;
  }
  void pause_writing() override { events.emplace_back("pause"); }
  void resume_writing() override { events.emplace_back("resume"); }
  void connection_lost(std::exception_ptr e) override {
    ++lost;
    lost_error = e;
    events.emplace_back("lost");
  }
  [[nodiscard]] auto has(const std::string& e) const -> bool {
    return std::find(events.begin(), events.end(), e) != events.end();
  }
};

// Collects the server-side protocols its factory made.
struct server_side {
  std::vector<std::shared_ptr<recorder>> made;
  bool echo = false, keep_open = false, pause_at_start = false;
  auto factory() {
    return [this] {
      auto p = std::make_shared<recorder>();
      p->echo = echo;
      p->keep_open = keep_open;
      p->pause_at_start = pause_at_start;
      made.push_back(p);
      return p;
    };
  }
};

auto make_client() { return std::make_shared<recorder>(); }

template <class F>
void run_test(F body) {
  asyncio::run(body());
}

TEST(Protocol, EchoAndCleanClose) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.echo = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});  // connection_made ran already
    EXPECT_EQ(tr->get_protocol(), proto);
    EXPECT_EQ(tr->peername().port(), srv.port());
    EXPECT_EQ(tr->sockname().host(), "127.0.0.1");
    EXPECT_GE(tr->fileno(), 0);
    EXPECT_TRUE(tr->is_reading());
    EXPECT_TRUE(tr->can_write_eof());
    tr->writelines({"hel", "lo"});
    EXPECT_TRUE(co_await eventually([&] { return proto->data == "hello"; }));
    tr->close();
    EXPECT_TRUE(tr->is_closing());
    EXPECT_FALSE(tr->is_reading());
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    EXPECT_FALSE(proto->lost_error);
    EXPECT_EQ(tr->get_protocol(), nullptr);  // dropped after connection_lost, as Python's
    // The server saw EOF; eof_received returned false, so its transport closed.
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty() && ss.made.front()->lost == 1; }));
    EXPECT_EQ(ss.made.front()->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(ss.made.front()->lost_error);
    co_await asyncio::sleep(20ms);
    EXPECT_EQ(proto->lost, 1);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, EofReceivedTrueKeepsTheTransportOpenForWriting) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.keep_open = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    tr->write("question");
    tr->write_eof();
    EXPECT_THROW(tr->write("more"), asyncio::invalid_state_error);  // Python's RuntimeError
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty() && ss.made.front()->has("eof"); }));
    auto& server_proto = *ss.made.front();
    EXPECT_EQ(server_proto.data, "question");
    co_await asyncio::sleep(20ms);
    EXPECT_EQ(server_proto.lost, 0);
    EXPECT_FALSE(server_proto.t->is_closing());
    server_proto.t->write("answer");
    server_proto.t->close();
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    EXPECT_EQ(proto->data, "answer");
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_TRUE(co_await eventually([&] { return server_proto.lost == 1; }));
    EXPECT_FALSE(server_proto.lost_error);
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, PauseAndResumeReading) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.pause_at_start = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    tr->write("abc");
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty(); }));
    auto& server_proto = *ss.made.front();
    co_await asyncio::sleep(50ms);
    EXPECT_EQ(server_proto.data, "");
    EXPECT_FALSE(server_proto.t->is_reading());
    server_proto.t->pause_reading();  // idempotent
    server_proto.t->resume_reading();
    EXPECT_TRUE(server_proto.t->is_reading());
    EXPECT_TRUE(co_await eventually([&] { return server_proto.data == "abc"; }));
    server_proto.t->resume_reading();  // idempotent
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return server_proto.lost == 1 && proto->lost == 1; }));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, PauseAndResumeWritingAroundTheWaterMarks) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.pause_at_start = true;  // the peer does not read
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    tr->set_write_buffer_limits(4096);
    EXPECT_EQ(tr->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{1024, 4096}));
    const std::string chunk(1 << 20, 'x');
    std::size_t sent = 0;
    while (!proto->has("pause") && sent < (64u << 20)) {
      tr->write(chunk);
      sent += chunk.size();
    }
    EXPECT_TRUE(proto->has("pause"));
    if (!proto->has("pause")) co_return;
    EXPECT_GT(tr->get_write_buffer_size(), 4096u);
    EXPECT_FALSE(proto->has("resume"));
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty(); }));
    auto& server_proto = *ss.made.front();
    server_proto.t->resume_reading();
    EXPECT_TRUE(co_await eventually([&] { return proto->has("resume"); }));
    EXPECT_LE(tr->get_write_buffer_size(), 1024u);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "pause", "resume"}));
    EXPECT_TRUE(co_await eventually([&] { return server_proto.data.size() == sent; }));
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return server_proto.lost == 1 && proto->lost == 1; }));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, WriteBufferLimitsAsPython) {
  run_test([]() -> task<void> {
    server_side ss;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    EXPECT_EQ(tr->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{16384, 65536}));
    tr->set_write_buffer_limits(std::nullopt, 100);
    EXPECT_EQ(tr->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{100, 400}));
    tr->set_write_buffer_limits(0, 0);
    EXPECT_EQ(tr->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{0, 0}));
    EXPECT_THROW(tr->set_write_buffer_limits(1, 2), std::invalid_argument);  // Python's ValueError
    EXPECT_EQ(tr->get_write_buffer_size(), 0u);
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, PeerResetGivesConnectionLostTheErrorOnce) {
  run_test([]() -> task<void> {
    server_side ss;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty(); }));
    auto& server_proto = *ss.made.front();
    ::linger lg{1, 0};  // close() now sends RST
    EXPECT_EQ(::setsockopt(server_proto.t->fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    server_proto.t->abort();
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    EXPECT_TRUE(proto->lost_error);
    if (proto->lost_error) {
      EXPECT_THROW(std::rethrow_exception(proto->lost_error), asyncio::connection_reset_error);
    }
    EXPECT_TRUE(tr->is_closing());
    EXPECT_TRUE(co_await eventually([&] { return server_proto.lost == 1; }));
    EXPECT_FALSE(server_proto.lost_error);  // abort(): a clean loss for the side that aborted
    tr->write("ignored after the loss");     // no throw, no callback
    tr->close();
    tr->abort();
    co_await asyncio::sleep(20ms);
    EXPECT_EQ(proto->lost, 1);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, AbortDropsTheWriteBuffer) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.pause_at_start = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    const std::string chunk(1 << 20, 'y');
    for (int i = 0; i < 64 && tr->get_write_buffer_size() == 0; ++i) tr->write(chunk);
    EXPECT_GT(tr->get_write_buffer_size(), 0u);
    tr->abort();
    EXPECT_EQ(tr->get_write_buffer_size(), 0u);
    EXPECT_TRUE(tr->is_closing());
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    EXPECT_FALSE(proto->lost_error);
    EXPECT_FALSE(proto->has("resume"));
    srv.close();
    srv.abort_clients();
    co_await srv.wait_closed();
    EXPECT_EQ(ss.made.front()->lost, 1);
  });
}

TEST(Protocol, DataReceivedThrowingIsFatal) {
  run_test([]() -> task<void> {
    std::vector<std::string> reported;
    asyncio::get_running_loop().set_exception_handler(
        [&reported](asyncio::event_loop&, const asyncio::exception_context& c) { reported.push_back(c.message); });
    server_side ss;
    ss.echo = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    proto->throw_on_data = true;
    tr->write("x");
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    EXPECT_TRUE(proto->lost_error);
    if (proto->lost_error) {
      EXPECT_THROW(std::rethrow_exception(proto->lost_error), std::runtime_error);
    }
    EXPECT_EQ(reported, std::vector<std::string>{"Fatal error: protocol.data_received() call failed."});
    srv.close();
    srv.abort_clients();
    co_await srv.wait_closed();
    asyncio::get_running_loop().set_exception_handler(nullptr);
  });
}

// A buffered protocol: bytes land in its own buffer (Python's BufferedProtocol).
struct buffered_echo : asyncio::buffered_protocol {
  std::shared_ptr<asyncio::transport> t;
  char buf[16];
  std::string got;
  int lost = 0;
  void connection_made(asyncio::transport& tr) override { t = tr.shared_from_this(); }
  auto get_buffer(std::size_t) -> std::span<char> override { return buf; }
  void buffer_updated(std::size_t n) override {
    got.append(buf, n);
    t->write(std::string_view(buf, n));
  }
  void connection_lost(std::exception_ptr) override { ++lost; }
};

TEST(Protocol, BufferedProtocolEcho) {
  run_test([]() -> task<void> {
    std::vector<std::shared_ptr<buffered_echo>> made;
    auto factory = [&made] {
      made.push_back(std::make_shared<buffered_echo>());
      return made.back();
    };
    auto srv = co_await asyncio::create_server(factory, "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    const std::string msg = "a message longer than sixteen bytes";
    tr->write(msg);
    EXPECT_TRUE(co_await eventually([&] { return proto->data == msg; }));
    EXPECT_EQ(made.at(0)->got, msg);
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return made.front()->lost == 1; }));
    srv.close();
    co_await srv.wait_closed();
  });
}

struct empty_buffer : asyncio::buffered_protocol {
  std::exception_ptr error;
  auto get_buffer(std::size_t) -> std::span<char> override { return {}; }
  void buffer_updated(std::size_t) override {}
  void connection_lost(std::exception_ptr e) override { error = e; }
};

TEST(Protocol, EmptyGetBufferIsFatal) {
  run_test([]() -> task<void> {
    int reported = 0;
    asyncio::get_running_loop().set_exception_handler(
        [&reported](asyncio::event_loop&, const asyncio::exception_context&) { ++reported; });
    server_side ss;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] =
        co_await asyncio::create_connection([] { return std::make_unique<empty_buffer>(); }, "127.0.0.1", srv.port());
    EXPECT_TRUE(co_await eventually([&] { return proto->error != nullptr; }));
    if (proto->error) {
      EXPECT_THROW(std::rethrow_exception(proto->error), asyncio::invalid_state_error);
    }
    EXPECT_EQ(reported, 1);
    srv.close();
    srv.abort_clients();
    co_await srv.wait_closed();
    asyncio::get_running_loop().set_exception_handler(nullptr);
  });
}

TEST(Protocol, SetProtocolSwitchesTheReceiver) {
  run_test([]() -> task<void> {
    server_side ss;
    ss.echo = true;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, first] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    auto second = std::make_shared<recorder>();
    tr->set_protocol(second);
    EXPECT_EQ(tr->get_protocol(), second);
    EXPECT_THROW(tr->set_protocol(nullptr), std::invalid_argument);
    EXPECT_THROW(tr->set_protocol(std::make_shared<asyncio::datagram_protocol>()), std::invalid_argument);
    tr->write("ping");
    EXPECT_TRUE(co_await eventually([&] { return second->data == "ping"; }));
    EXPECT_EQ(first->data, "");
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return second->lost == 1; }));
    EXPECT_EQ(first->lost, 0);
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, UnixServerAndConnection) {
  run_test([]() -> task<void> {
    std::string path = "/tmp/asyncio-protocol-" + std::to_string(::getpid()) + ".sock";
    server_side ss;
    ss.echo = true;
    auto srv = co_await asyncio::create_unix_server(ss.factory(), path);
    auto [tr, proto] = co_await asyncio::create_unix_connection(make_client, path);
    tr->write("over unix");
    EXPECT_TRUE(co_await eventually([&] { return proto->data == "over unix"; }));
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Protocol, ConnectAcceptedSocket) {
  run_test([]() -> task<void> {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    auto [a, pa] = co_await asyncio::connect_accepted_socket(make_client, asyncio::socket::from_fd(fds[0], AF_UNIX));
    auto [b, pb] = co_await asyncio::connect_accepted_socket(make_client, asyncio::socket::from_fd(fds[1], AF_UNIX));
    a->write("to b");
    EXPECT_TRUE(co_await eventually([&] { return pb->data == "to b"; }));
    a->close();
    EXPECT_TRUE(co_await eventually([&] { return pa->lost == 1 && pb->lost == 1; }));
    EXPECT_EQ(pb->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_THROW(co_await asyncio::connect_accepted_socket(make_client, asyncio::socket()), std::invalid_argument);
  });
}

TEST(Protocol, ConnectionRefused) {
  run_test([]() -> task<void> {
    auto probe = asyncio::socket(AF_INET, SOCK_STREAM);
    probe.bind(asyncio::address::ipv4("127.0.0.1", 0));
    std::uint16_t port = probe.getsockname().port();
    probe.close();
    bool made = false;
    auto factory = [&made] {
      made = true;
      return std::make_shared<recorder>();
    };
    EXPECT_THROW(co_await asyncio::create_connection(factory, "127.0.0.1", port), asyncio::connection_refused_error);
    EXPECT_FALSE(made);  // the factory runs only once connected
  });
}

TEST(Protocol, ServerShutdownAbortsOpenConnections) {
  run_test([]() -> task<void> {
    server_side ss;
    auto srv = co_await asyncio::create_server(ss.factory(), "127.0.0.1", 0);
    auto [tr, proto] = co_await asyncio::create_connection(make_client, "127.0.0.1", srv.port());
    EXPECT_TRUE(co_await eventually([&] { return !ss.made.empty(); }));
    co_await srv.shutdown(10ms);
    EXPECT_EQ(ss.made.front()->lost, 1);
    EXPECT_FALSE(ss.made.front()->lost_error);
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1; }));
  });
}

// A protocol for a write pipe: any base_protocol.
struct lost_counter : asyncio::base_protocol {
  int lost = 0;
  std::exception_ptr error;
  void connection_lost(std::exception_ptr e) override {
    ++lost;
    error = e;
  }
};

TEST(Protocol, ReadAndWritePipes) {
  run_test([]() -> task<void> {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    auto [rt, rp] = co_await asyncio::connect_read_pipe(make_client, fds[0]);
    rp->keep_open = true;  // ignored by a read pipe: EOF closes it
    auto [wt, wp] = co_await asyncio::connect_write_pipe([] { return std::make_shared<lost_counter>(); }, fds[1]);
    EXPECT_THROW(rt->write("x"), asyncio::invalid_state_error);
    EXPECT_TRUE(rt->is_reading());
    wt->write("through ");
    wt->writelines({"the ", "pipe"});
    wt->write_eof();
    EXPECT_TRUE(co_await eventually([&] { return rp->lost == 1 && wp->lost == 1; }));
    EXPECT_EQ(rp->data, "through the pipe");
    EXPECT_EQ(rp->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(rp->lost_error);
    EXPECT_FALSE(wp->error);
  });
}

TEST(Protocol, WritePipeWithoutReaderIsBroken) {
  run_test([]() -> task<void> {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::close(fds[0]);
    auto [wt, wp] = co_await asyncio::connect_write_pipe([] { return std::make_shared<lost_counter>(); }, fds[1]);
    wt->write("nobody reads this");
    EXPECT_TRUE(co_await eventually([&] { return wp->lost == 1; }));
    EXPECT_TRUE(wp->error);
    if (wp->error) {
      EXPECT_THROW(std::rethrow_exception(wp->error), asyncio::broken_pipe_error);
    }
  });
}

TEST(Protocol, PipeTransportRejectsRegularFiles) {
  run_test([]() -> task<void> {
    char path[] = "/tmp/asyncio-protocol-XXXXXX";
    int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    ::unlink(path);
    EXPECT_THROW(co_await asyncio::connect_read_pipe(make_client, fd), std::invalid_argument);
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
  });
}

}  // namespace
