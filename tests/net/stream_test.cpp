// Streams over loopback between our own client and server: echo, readline/readexactly/readuntil
// and their errors, half-close, back-pressure, peer reset, cancellation of every stream operation,
// graceful shutdown, IPv6 and Unix sockets. Real clock (I/O does not mix with autojump); every wait
// is bounded by a small timeout.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <any>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

auto echo_handler(asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
  char buf[4096];
  for (;;) {
    std::size_t n = co_await r.read_into(buf);
    if (n == 0) break;
    w.write(std::string_view(buf, n));
    co_await w.drain();
  }
}

template <class F>
void run_test(F body) {
  asyncio::run(body());
}

TEST(Stream, EchoRoundTripIPv4) {
  run_test([]() -> task<void> {
    auto srv = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.write("hello\n");
    co_await w.drain();
    EXPECT_EQ(co_await r.readline(), "hello\n");
    auto peer = std::any_cast<asyncio::address>(w.get_extra_info("peername"));
    EXPECT_EQ(peer.port(), srv.port());
    EXPECT_EQ(peer.host(), "127.0.0.1");
    EXPECT_GE(std::any_cast<int>(w.get_extra_info("socket")), 0);
    w.close();
    co_await w.wait_closed();
    EXPECT_TRUE(w.is_closing());
    srv.close();
    co_await srv.wait_closed();
  });
}

// The server's writer, its local and peer addresses, recorded by the handler for the test to check.
struct server_side_names {
  asyncio::address sockname;
  asyncio::address peername;
  bool seen = false;
};

auto record_names(std::shared_ptr<server_side_names> names, asyncio::stream_reader r, asyncio::stream_writer w)
    -> task<void> {
  names->sockname = std::any_cast<asyncio::address>(w.get_extra_info("sockname"));
  names->peername = std::any_cast<asyncio::address>(w.get_extra_info("peername"));
  names->seen = true;
  w.write(co_await r.readline());
  co_await w.drain();
}

TEST(Stream, ExtraInfoSocknameMatchesBothEnds) {
  run_test([]() -> task<void> {
    auto names = std::make_shared<server_side_names>();
    asyncio::client_connected_cb cb = [names](asyncio::stream_reader r, asyncio::stream_writer w) {
      return record_names(names, std::move(r), std::move(w));
    };
    auto srv = co_await asyncio::start_server(std::move(cb), "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.write("names\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "names\n");
    EXPECT_TRUE(names->seen);
    // The client's sockname is its own end: the kernel's address of its socket, which is also
    // what the server sees as its peer; the server's sockname is the listening address and port.
    auto mine = std::any_cast<asyncio::address>(w.get_extra_info("sockname"));
    int fd = std::any_cast<int>(w.get_extra_info("socket"));
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0);
    EXPECT_EQ(ss.ss_family, AF_INET);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port), mine.port());
    EXPECT_EQ(mine.host(), "127.0.0.1");
    EXPECT_NE(mine.port(), 0);
    EXPECT_NE(mine.port(), srv.port());
    EXPECT_EQ(mine, names->peername);
    EXPECT_EQ(names->sockname.host(), "127.0.0.1");
    EXPECT_EQ(names->sockname.port(), srv.port());
    EXPECT_EQ(names->sockname, std::any_cast<asyncio::address>(w.get_extra_info("peername")));
    // An unknown key is an empty std::any (Python returns the default, None).
    EXPECT_FALSE(w.get_extra_info("no-such-key").has_value());
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  });
}

TEST(Stream, EchoIPv6AndLargeMessages) {
  run_test([]() -> task<void> {
    auto srv = co_await asyncio::start_server(echo_handler, "::1", 0);
    auto [r, w] = co_await asyncio::open_connection("::1", srv.port());
    std::string big(1 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    // Write and read concurrently: 1 MiB does not fit in the socket buffers.
    auto writer = asyncio::create_task([](asyncio::stream_writer w, std::string data) -> task<void> {
      w.write(data);
      co_await w.drain();
      w.write_eof();
    }(w, big));
    std::string got = co_await r.read();
    co_await writer;
    EXPECT_EQ(got.size(), big.size());
    EXPECT_TRUE(got == big);
    EXPECT_TRUE(r.at_eof());
    w.close();
    co_await srv.shutdown(1s);
  });
}

TEST(Stream, ReadexactlyReaduntilAndErrors) {
  run_test([]() -> task<void> {
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader, asyncio::stream_writer w) -> task<void> {
          w.write("abcdef|ghi|");
          w.write(std::string(200, 'z'));
          w.write("tail");
          w.write_eof();
          co_return;
        },
        "127.0.0.1", 0);
    asyncio::connect_options opts;
    opts.limit = 100;
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port(), opts);
    EXPECT_EQ(co_await r.readexactly(3), "abc");
    EXPECT_EQ(co_await r.readuntil("|"), "def|");
    EXPECT_EQ(co_await r.readuntil("|"), "ghi|");
    bool overrun = false;
    try {
      (void)co_await r.readuntil("|");
    } catch (const asyncio::limit_overrun_error&) {
      overrun = true;
    }
    EXPECT_TRUE(overrun);
    // Drain the 'z's, then readexactly past EOF gives the partial bytes.
    std::string rest;
    bool incomplete = false;
    try {
      (void)co_await r.readexactly(1000);
    } catch (const asyncio::incomplete_read_error& e) {
      incomplete = true;
      rest = e.partial();
      EXPECT_EQ(e.expected(), 1000u);
    }
    EXPECT_TRUE(incomplete);
    EXPECT_EQ(rest.substr(rest.size() - 4), "tail");
    EXPECT_TRUE(r.at_eof());
    EXPECT_EQ(co_await r.read(10), "");
    EXPECT_EQ(co_await r.readline(), "");
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Stream, ReadlineReturnsPartialLastLineAndDropsOverlongLine) {
  run_test([]() -> task<void> {
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader, asyncio::stream_writer w) -> task<void> {
          w.write(std::string(50, 'a') + "\nshort\nlast");
          co_return;  // the server closes the connection after the handler
        },
        "127.0.0.1", 0);
    asyncio::connect_options opts;
    opts.limit = 20;
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port(), opts);
    bool overrun = false;
    try {
      (void)co_await r.readline();
    } catch (const asyncio::limit_overrun_error&) {
      overrun = true;
    }
    EXPECT_TRUE(overrun);
    EXPECT_EQ(co_await r.readline(), "short\n");
    EXPECT_EQ(co_await r.readline(), "last");
    EXPECT_EQ(co_await r.readline(), "");
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Stream, HalfCloseBothWays) {
  run_test([]() -> task<void> {
    // The server reads to EOF, then answers with the byte count and closes.
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          std::string all = co_await r.read();
          w.write(std::to_string(all.size()));
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.write(std::string(300000, 'q'));
    w.write_eof();
    EXPECT_EQ(co_await r.read(), "300000");
    EXPECT_TRUE(r.at_eof());
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Stream, SlowReaderBoundsWriteBuffer) {
  run_test([]() -> task<void> {
    // The peer reads nothing until told; the writer drains after every write, so its buffer never
    // exceeds the high-water mark plus one write.
    auto release = std::make_shared<bool>(false);
    auto handler = [release](asyncio::stream_reader r, asyncio::stream_writer) -> task<void> {
      while (!*release) co_await asyncio::sleep(1ms);
      (void)co_await r.read();
    };
    auto srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    const std::size_t high = 64 * 1024, chunk = 16 * 1024;
    w.set_write_buffer_limits(high, high / 4);
    std::string data(chunk, 's');
    std::size_t max_buffered = 0;
    auto writer =
        asyncio::create_task([](asyncio::stream_writer w, std::string data, std::size_t* max_buffered) -> task<void> {
          for (int i = 0; i < 2000; ++i) {  // 32 MiB: far more than the socket buffers hold
            w.write(data);
            *max_buffered = std::max(*max_buffered, w.get_write_buffer_size());
            co_await w.drain();
          }
          w.write_eof();
        }(w, data, &max_buffered));
    // Wait until the writer is blocked in drain with a full buffer.
    EXPECT_TRUE(co_await test_support::eventually([&] { return w.get_write_buffer_size() > high; }));
    co_await asyncio::sleep(20ms);
    EXPECT_FALSE(writer.done());
    EXPECT_LE(max_buffered, high + chunk);
    *release = true;
    co_await writer;
    EXPECT_LE(max_buffered, high + chunk);
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(2s);
  });
}

TEST(Stream, PeerResetRaisesInDrainWithoutSigpipe) {
  run_test([]() -> task<void> {
    // The server resets the connection at once (SO_LINGER 0 + close sends RST).
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          (void)co_await r.readline();  // reset only once the client is surely connected
          int fd = std::any_cast<int>(w.get_extra_info("socket"));
          linger l{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          w.abort();
          co_return;
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.write("reset me\n");
    bool raised = false;
    std::string chunk(64 * 1024, 'r');
    try {
      for (int i = 0; i < 1000; ++i) {
        w.write(chunk);
        co_await w.drain();
        co_await asyncio::sleep(1ms);
      }
    } catch (const asyncio::connection_error& e) {
      raised = true;
      EXPECT_TRUE(e.code().value() == ECONNRESET || e.code().value() == EPIPE) << e.what();
    }
    EXPECT_TRUE(raised);
    // The read side sees the reset too (or EOF if the reset was consumed by the write side).
    try {
      (void)co_await r.read(100);
    } catch (const asyncio::connection_reset_error&) {
    }
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(Stream, ConnectionRefused) {
  run_test([]() -> task<void> {
    // Bind a port and close it: nothing listens there.
    asyncio::socket s(AF_INET, SOCK_STREAM);
    s.bind(asyncio::address::ipv4("127.0.0.1", 0));
    std::uint16_t port = s.getsockname().port();
    s.close();
    bool refused = false;
    try {
      (void)co_await asyncio::open_connection("127.0.0.1", port);
    } catch (const asyncio::connection_refused_error& e) {
      refused = true;
      EXPECT_EQ(e.code().value(), ECONNREFUSED);
    }
    EXPECT_TRUE(refused);
  });
}

TEST(Stream, CancelEveryReadOperation) {
  run_test([]() -> task<void> {
    // The server sends nothing until it gets "go", then "0123456789\n".
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          for (;;) {
            std::string line = co_await r.readline();
            if (line.empty()) break;
            w.write("0123456789\n");
          }
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    auto reader = std::make_shared<asyncio::stream_reader>(r);
    // Each read is cancelled while parked; afterwards the stream still works and loses no byte.
    std::vector<std::function<task<void>()>> ops = {
        [reader]() -> task<void> { (void)co_await reader->read(5); },
        [reader]() -> task<void> { (void)co_await reader->read(); },
        [reader]() -> task<void> { (void)co_await reader->readline(); },
        [reader]() -> task<void> { (void)co_await reader->readexactly(5); },
        [reader]() -> task<void> { (void)co_await reader->readuntil("x"); },
        [reader]() -> task<void> {
          char buf[8];
          (void)co_await reader->read_into(buf);
        },
    };
    for (auto& op : ops) {
      auto h = asyncio::create_task(op());
      co_await asyncio::sleep(2ms);
      EXPECT_FALSE(h.done());
      co_await test_support::cancel_and_wait(h);
      EXPECT_TRUE(h.cancelled());
    }
    w.write("go\n");
    EXPECT_EQ(co_await r.readline(), "0123456789\n");
    // A readexactly cancelled after part of the data arrived keeps it buffered.
    auto h = asyncio::create_task([](asyncio::stream_reader r) -> task<void> {
      (void)co_await r.readexactly(15);
    }(r));
    w.write("go\n");
    EXPECT_TRUE(co_await test_support::eventually([&] { return r.buffered() == 11; }));
    co_await test_support::cancel_and_wait(h);
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(co_await r.readexactly(11), "0123456789\n");
    w.close();
    co_await srv.shutdown(1s);
  });
}

TEST(Stream, ConcurrentReadIntoRaisesAndKeepsTheFirstReader) {
  run_test([]() -> task<void> {
    auto srv = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    auto reader = std::make_shared<asyncio::stream_reader>(r);
    auto first = asyncio::create_task([reader]() -> task<std::string> {
      char buf[16];
      std::size_t n = co_await reader->read_into(buf);
      co_return std::string(buf, n);
    }());
    co_await asyncio::sleep(2ms);  // parked on the socket
    EXPECT_FALSE(first.done());
    char buf[16];
    // As in Python (concurrent reads raise), a second reader of the same socket is refused...
    bool refused = false;
    try {
      (void)co_await test_support::bounded(r.read_into(buf));
    } catch (const asyncio::invalid_state_error&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    // ...and the first one still gets the bytes.
    w.write("ping");
    EXPECT_EQ(co_await test_support::bounded(std::move(first)), "ping");
    w.close();
    co_await srv.shutdown(1s);
  });
}

TEST(Stream, CancelDrainAndWaitClosed) {
  run_test([]() -> task<void> {
    auto release = std::make_shared<bool>(false);
    auto handler = [release](asyncio::stream_reader r, asyncio::stream_writer) -> task<void> {
      while (!*release) co_await asyncio::sleep(1ms);
      (void)co_await r.read();
    };
    auto srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.set_write_buffer_limits(1024, 0);
    w.write(std::string(8 << 20, 'd'));  // more than the socket buffers: stays paused
    auto drain = asyncio::create_task([](asyncio::stream_writer w) -> task<void> { co_await w.drain(); }(w));
    auto closed = asyncio::create_task([](asyncio::stream_writer w) -> task<void> { co_await w.wait_closed(); }(w));
    co_await asyncio::sleep(5ms);
    EXPECT_FALSE(drain.done());
    EXPECT_FALSE(closed.done());
    co_await test_support::cancel_and_wait(drain);
    co_await test_support::cancel_and_wait(closed);
    EXPECT_TRUE(drain.cancelled());
    EXPECT_TRUE(closed.cancelled());
    // The buffered bytes still go out once the peer reads.
    *release = true;
    co_await w.drain();
    w.write_eof();
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(2s);
  });
}

TEST(Server, GracefulShutdownWaitsThenCancels) {
  run_test([]() -> task<void> {
    auto finished = std::make_shared<int>(0);
    auto cancelled = std::make_shared<int>(0);
    auto handler = [finished, cancelled](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
      std::string cmd = co_await r.readline();
      try {
        co_await asyncio::sleep(cmd == "quick\n" ? 20ms : 10s);
      } catch (const asyncio::cancelled_error&) {
        ++*cancelled;
        throw;
      }
      w.write("done\n");
      ++*finished;
    };
    auto srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    // Captured now: after shutdown the server has no listening socket left to ask.
    const std::uint16_t port = srv.port();
    auto a = co_await asyncio::open_connection("127.0.0.1", port);
    auto b = co_await asyncio::open_connection("127.0.0.1", port);
    a.writer.write("quick\n");
    b.writer.write("slow\n");
    EXPECT_TRUE(co_await test_support::eventually([&] { return srv.active_connections() == 2; }));
    auto t0 = std::chrono::steady_clock::now();
    co_await srv.shutdown(200ms);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 5s);
    EXPECT_EQ(*finished, 1);
    EXPECT_EQ(*cancelled, 1);
    EXPECT_EQ(srv.active_connections(), 0u);
    EXPECT_FALSE(srv.is_serving());
    EXPECT_EQ(co_await a.reader.read(), "done\n");
    EXPECT_EQ(co_await b.reader.read(), "");
    // No new connection is accepted: the listening socket is closed, so the kernel answers a
    // connect to the former port with RST (ECONNREFUSED on loopback).
    EXPECT_TRUE(srv.sockets().empty());
    bool refused = false;
    try {
      (void)co_await asyncio::open_connection("127.0.0.1", port);
    } catch (const asyncio::connection_refused_error& e) {
      refused = true;
      EXPECT_TRUE(e.code() == std::errc::connection_refused) << e.what();
    }
    EXPECT_TRUE(refused);
    a.writer.close();
    b.writer.close();
  });
}

TEST(Server, ServeForeverStopsOnCancel) {
  run_test([]() -> task<void> {
    asyncio::server_options options{.start_serving = false};
    auto srv = std::make_shared<asyncio::server>(co_await asyncio::start_server(
        echo_handler, "127.0.0.1", 0, options));
    EXPECT_FALSE(srv->is_serving());
    auto forever = asyncio::create_task(srv->serve_forever());
    EXPECT_TRUE(srv->is_serving());
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv->port());
    w.write("ping\n");
    EXPECT_EQ(co_await r.readline(), "ping\n");
    w.close();
    co_await test_support::cancel_and_wait(forever);
    EXPECT_TRUE(forever.cancelled());
    EXPECT_FALSE(srv->is_serving());
    co_await srv->wait_closed();
  });
}

TEST(Server, ReusePortRunsTwoListenersOnOnePort) {
  run_test([]() -> task<void> {
    asyncio::server_options o;
    o.reuse_port = true;
    auto a = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0, o);
    auto b = co_await asyncio::start_server(echo_handler, "127.0.0.1", a.port(), o);
    EXPECT_EQ(a.port(), b.port());
    for (int i = 0; i < 4; ++i) {
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", a.port());
      w.write("x\n");
      EXPECT_EQ(co_await r.readline(), "x\n");
      w.close();
    }
    a.close();
    b.close();
    co_await a.wait_closed();
    co_await b.wait_closed();
  });
}

TEST(Server, HandlerExceptionIsReportedAndConnectionClosed) {
  std::string reported;
  asyncio::event_loop loop;
  loop.set_exception_handler([&](asyncio::event_loop&, const asyncio::exception_context& c) { reported = c.message; });
  loop.run_until_complete([]() -> task<void> {
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader, asyncio::stream_writer) -> task<void> {
          throw std::runtime_error("boom");
          co_return;
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    EXPECT_EQ(co_await r.read(), "");
    w.close();
    srv.close();
    co_await srv.wait_closed();
  }());
  loop.close();
  EXPECT_NE(reported.find("client_connected_cb"), std::string::npos);
}

TEST(Server, UnclosedServerIsReported) {
  std::string reported;
  asyncio::event_loop loop;
  loop.set_exception_handler([&](asyncio::event_loop&, const asyncio::exception_context& c) { reported = c.message; });
  loop.run_until_complete([]() -> task<void> {
    auto srv = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    (void)srv;
  }());
  loop.close();
  EXPECT_NE(reported.find("unclosed server"), std::string::npos);
}

TEST(Unix, StreamsOverUnixSocket) {
  run_test([]() -> task<void> {
    std::string path = "/tmp/asyncio_net_test_" + std::to_string(::getpid()) + ".sock";
    auto srv = co_await asyncio::start_unix_server(echo_handler, path);
    auto [r, w] = co_await asyncio::open_unix_connection(path);
    w.write("over unix\n");
    EXPECT_EQ(co_await r.readline(), "over unix\n");
    w.close();
    srv.close();
    co_await srv.wait_closed();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the socket file is removed on close
  });
}

// ---- lines(), readuntil with several separators ------------------------------------------------

// A handler that sends `bytes` and closes.
auto serve_bytes(std::string bytes) -> asyncio::client_connected_cb {
  return [bytes](asyncio::stream_reader, asyncio::stream_writer w) -> task<void> {
    w.write(bytes);
    co_await w.drain();
  };
}

auto collect(asyncio::generator<std::string> lines) -> task<std::vector<std::string>> {
  std::vector<std::string> out;
  while (auto line = co_await lines.next()) out.push_back(std::move(*line));
  co_return out;
}

TEST(StreamLines, YieldsEveryLineUntilEof) {
  run_test([]() -> task<void> {
    asyncio::client_connected_cb cb = serve_bytes("one\ntwo\n\nlast without newline");
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    // The generator holds its own reference: the reader it came from may be gone.
    auto lines = asyncio::stream_reader(r).lines();
    auto got = co_await test_support::bounded(collect(std::move(lines)));
    EXPECT_EQ(got, (std::vector<std::string>{"one\n", "two\n", "\n", "last without newline"}));
    EXPECT_TRUE(r.at_eof());
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

auto first_line(asyncio::stream_reader r) -> task<std::optional<std::string>> {
  auto lines = r.lines();
  co_return co_await lines.next();
}

TEST(StreamLines, StoppingEarlyLeavesTheRestToTheReader) {
  run_test([]() -> task<void> {
    asyncio::client_connected_cb cb = serve_bytes("one\ntwo\nthree\n");
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    EXPECT_EQ(co_await test_support::bounded(first_line(r)), std::optional<std::string>("one\n"));
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "two\n");
    auto rest = co_await test_support::bounded(collect(r.lines()));
    EXPECT_EQ(rest, (std::vector<std::string>{"three\n"}));
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

auto next_line_error(asyncio::stream_reader r) -> task<std::string> {
  auto lines = r.lines();
  try {
    (void)co_await lines.next();
  } catch (const asyncio::limit_overrun_error&) {
    EXPECT_TRUE(lines.done());  // an exception ends the generator, as in Python
    co_return "limit";
  }
  co_return "no error";
}

TEST(StreamLines, OverlongLineRaisesAndIsDropped) {
  run_test([]() -> task<void> {
    asyncio::client_connected_cb cb = serve_bytes("0123456789abcdefghij\nok\n");
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
    asyncio::connect_options opts;
    opts.limit = 8;
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port(), opts);
    EXPECT_EQ(co_await test_support::bounded(next_line_error(r)), "limit");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "ok\n");  // as readline: the long line is gone
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(StreamReaduntil, SeveralSeparatorsReturnTheFirstMatch) {
  run_test([]() -> task<void> {
    // Each answer below is the same whether the bytes arrive at once or in pieces.
    asyncio::client_connected_cb cb = serve_bytes("a\r\nb\nc|d;;x;;;rest");
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    EXPECT_EQ(co_await test_support::bounded(r.readuntil("\r\n", "\n")), "a\r\n");
    EXPECT_EQ(co_await test_support::bounded(r.readuntil("\n", "\r\n")), "b\n");
    std::vector<std::string> seps{";;", "|"};
    EXPECT_EQ(co_await test_support::bounded(r.readuntil(seps)), "c|");  // "|" ends first
    // ";" and ";;" end at different bytes: the one that ends first wins, whatever the order.
    EXPECT_EQ(co_await test_support::bounded(r.readuntil(";;", ";")), "d;");
    EXPECT_EQ(co_await test_support::bounded(r.readuntil(";;;", ";;")), ";x;;");
    try {
      (void)co_await test_support::bounded(r.readuntil("#", "!", std::string("?")));
      ADD_FAILURE() << "no incomplete_read_error";
    } catch (const asyncio::incomplete_read_error& e) {
      EXPECT_EQ(e.partial(), ";rest");  // consumed, as Python
    }
    EXPECT_TRUE(r.at_eof());
    std::vector<std::string> none;
    EXPECT_THROW((void)co_await r.readuntil(none), std::invalid_argument);
    EXPECT_THROW((void)co_await r.readuntil("\n", ""), std::invalid_argument);
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

TEST(StreamReaduntil, SeveralSeparatorsRespectTheLimit) {
  run_test([]() -> task<void> {
    std::string payload(40, 'x');
    payload += "\n";
    asyncio::client_connected_cb cb = serve_bytes(payload);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
    asyncio::connect_options opts;
    opts.limit = 16;
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port(), opts);
    EXPECT_THROW((void)co_await test_support::bounded(r.readuntil("\r\n", "\n")), asyncio::limit_overrun_error);
    // The data stays buffered (Python 3.13: "the data is left in the internal buffer").
    EXPECT_EQ(co_await test_support::bounded(r.readexactly(41)), payload);
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
}

// ---- server: close_clients, abort_clients, get_loop, keep_alive ----------------------------------

struct big_writer_state {
  bool wrote = false;
  int keep_alive = -1;
};

// Writes `size` bytes without waiting, then waits until the connection ends.
auto big_writer(std::shared_ptr<big_writer_state> st, std::size_t size) -> asyncio::client_connected_cb {
  return [st, size](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
    int fd = std::any_cast<int>(w.get_extra_info("socket"));
    int on = -1;
    socklen_t len = sizeof on;
    if (::getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len) == 0) st->keep_alive = on;
    w.write(std::string(size, 'z'));
    st->wrote = true;
    (void)co_await r.read();  // until EOF or the server closes the connection
  };
}

auto read_all(asyncio::stream_reader r) -> task<std::size_t> {
  std::size_t total = 0;
  char buf[65536];
  for (;;) {
    std::size_t n = co_await r.read_into(buf);
    if (n == 0) break;
    total += n;
  }
  co_return total;
}

TEST(Server, CloseClientsSendsWhatIsBufferedAbortClientsDropsIt) {
  run_test([]() -> task<void> {
    constexpr std::size_t size = 32 << 20;  // more than the kernel buffers of both ends hold
    for (bool abort : {false, true}) {
      auto st = std::make_shared<big_writer_state>();
      asyncio::client_connected_cb cb = big_writer(st, size);
      auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
      EXPECT_EQ(&srv.get_loop(), &asyncio::get_running_loop());
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
      EXPECT_TRUE(co_await test_support::eventually([&] { return st->wrote; }));
      EXPECT_EQ(st->keep_alive, 0);  // off by default
      if (abort) srv.abort_clients();
      else srv.close_clients();
      std::size_t got = co_await test_support::bounded(read_all(r), std::chrono::seconds(60));
      if (abort) EXPECT_LT(got, size);
      else EXPECT_EQ(got, size);
      EXPECT_TRUE(co_await test_support::eventually([&] { return srv.active_connections() == 0; }));
      EXPECT_TRUE(srv.is_serving());  // the server itself goes on
      w.close();
      srv.close();
      co_await srv.wait_closed();
    }
  });
}

TEST(Server, KeepAliveSetsSoKeepaliveOnAcceptedSockets) {
  run_test([]() -> task<void> {
    auto st = std::make_shared<big_writer_state>();
    asyncio::client_connected_cb cb = big_writer(st, 1);
    asyncio::server_options opts;
    opts.keep_alive = true;
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, opts);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    EXPECT_EQ(co_await test_support::bounded(r.readexactly(1)), "z");
    EXPECT_TRUE(st->wrote);
    EXPECT_EQ(st->keep_alive, 1);
    w.close();
    srv.close();
    co_await srv.wait_closed();
  });
  asyncio::server empty;
  EXPECT_THROW((void)empty.get_loop(), asyncio::invalid_state_error);
}

// ---- stream_writer::sendfile ----------------------------------------------------------------------

// A temporary file holding `content`, removed at the end.
struct temp_file {
  int fd = -1;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/asyncio_sendfile_XXXXXX";
    fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::unlink(name);
    std::size_t off = 0;
    while (off < content.size()) {
      ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      if (n <= 0) throw std::runtime_error("write");
      off += static_cast<std::size_t>(n);
    }
  }
  temp_file(const temp_file&) = delete;
  auto operator=(const temp_file&) -> temp_file& = delete;
  ~temp_file() { ::close(fd); }
  [[nodiscard]] auto position() const -> off_t { return ::lseek(fd, 0, SEEK_CUR); }
};

auto pattern(std::size_t n) -> std::string {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(StreamSendfile, SendsRangesAfterBufferedBytes) {
  run_test([]() -> task<void> {
    std::string content = pattern(3 << 20);
    temp_file file(content);
    auto srv = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    // Buffered bytes the peer does not read yet: sendfile waits for them to go first.
    std::string head(64 << 20, 'H');  // more than the kernel buffers on the way hold
    w.write(head);
    auto sending = asyncio::create_task(w.sendfile(file.fd, 10, 100000));
    EXPECT_FALSE(sending.done());
    EXPECT_THROW(w.write("x"), asyncio::invalid_state_error);  // as Python: no write meanwhile
    auto echoed = asyncio::create_task(r.read());
    EXPECT_EQ(co_await test_support::bounded(std::move(sending), std::chrono::seconds(60)), 100000u);
    EXPECT_EQ(file.position(), 100010);
    EXPECT_EQ(co_await test_support::bounded(w.sendfile(file.fd), std::chrono::seconds(60)), content.size());
    EXPECT_EQ(file.position(), static_cast<off_t>(content.size()));
    EXPECT_EQ(co_await w.sendfile(file.fd, static_cast<off_t>(content.size())), 0u);  // at the end: nothing
    w.write("tail");
    w.write_eof();
    std::string got = co_await test_support::bounded(std::move(echoed), std::chrono::seconds(60));
    EXPECT_TRUE(got == head + content.substr(10, 100000) + content + "tail");
    EXPECT_EQ(got.size(), head.size() + 100000 + content.size() + 4);
    EXPECT_THROW((void)co_await w.sendfile(file.fd, -1), std::invalid_argument);
    EXPECT_THROW((void)co_await w.sendfile(file.fd, 0, 0), std::invalid_argument);
    w.close();
    EXPECT_THROW((void)co_await w.sendfile(file.fd), asyncio::invalid_state_error);
    srv.close();
    co_await srv.wait_closed();
  });
}

}  // namespace
