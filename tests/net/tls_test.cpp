// TLS over loopback: our client against our server (echo, large transfers with back-pressure,
// ALPN, SNI, verification failures and opt-out, handshake timeouts on the virtual clock,
// cancellation, close_notify, ragged EOF, start_tls, TLS over Unix sockets, sendfile through TLS). The certificates come from
// support/tls_certs.hpp (made with the OpenSSL API at test time). Real-clock tests bound every wait.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>
#include <support/tls_certs.hpp>

#include <openssl/x509_vfy.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

auto server_ctx() -> asyncio::ssl_context {
  const auto& pki = test_support::test_pki();
  return asyncio::ssl_context::server(pki.server_cert, pki.server_key);
}

// A client that trusts the test CA (and nothing else: the system store is irrelevant here).
auto client_ctx() -> asyncio::ssl_context {
  auto ctx = asyncio::ssl_context::client();
  ctx.load_verify_locations(test_support::test_pki().ca_cert);
  return ctx;
}

auto tls_options(asyncio::ssl_context ctx, std::string hostname = "localhost") -> asyncio::connect_options {
  asyncio::connect_options o;
  o.ssl = std::move(ctx);
  o.server_hostname = std::move(hostname);
  return o;
}

auto tls_server_options(asyncio::ssl_context ctx) -> asyncio::server_options {
  asyncio::server_options o;
  o.ssl = std::move(ctx);
  return o;
}

// What the server saw of a connection.
struct seen {
  std::optional<std::string> sni;
  std::optional<std::string> alpn;
  std::string version;
  bool close_notify = false;
  bool ragged_error = false;
  std::size_t bytes = 0;
  int handlers_done = 0;
};

// Echoes until EOF, recording the TLS facts.
auto echo_handler(std::shared_ptr<seen> s) -> asyncio::client_connected_cb {
  return [s](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
    auto obj = w.get_ssl_object();
    if (obj) {
      s->sni = obj->server_hostname();
      s->alpn = obj->selected_alpn_protocol();
      s->version = obj->version();
    }
    std::vector<char> buf(32 * 1024);
    try {
      for (;;) {
        std::size_t n = co_await r.read_into(buf);
        if (n == 0) break;
        s->bytes += n;
        w.write(std::string_view(buf.data(), n));
        co_await w.drain();
      }
    } catch (const asyncio::ssl_eof_error&) {
      s->ragged_error = true;
    }
    if (obj) s->close_notify = obj->close_notify_received();
    ++s->handlers_done;
    w.close();
  };
}

TEST(Tls, EchoAlpnSniAndPeerCertificate) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    auto sctx = server_ctx();
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(sctx);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto cctx = client_ctx();
    cctx.set_alpn_protocols({"http/1.1", "h2"});
    auto co1 = tls_options(cctx);
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co1));
    auto obj = w.get_ssl_object();
    EXPECT_TRUE(obj.has_value());
    EXPECT_EQ(obj->version(), "TLSv1.3");
    EXPECT_EQ(obj->selected_alpn_protocol(), std::optional<std::string>("h2"));  // server preference
    EXPECT_EQ(obj->server_hostname(), std::optional<std::string>("localhost"));
    EXPECT_FALSE(obj->server_side());
    EXPECT_FALSE(obj->cipher().empty());
    auto cert = obj->getpeercert();
    EXPECT_TRUE(cert.has_value());
    EXPECT_NE(cert->subject.find("CN=localhost"), std::string::npos);
    EXPECT_NE(cert->issuer.find("good test CA"), std::string::npos);
    EXPECT_EQ(cert->subject_alt_names, (std::vector<std::string>{"DNS:localhost", "IP Address:127.0.0.1"}));
    EXPECT_NE(cert->not_after.find("GMT"), std::string::npos);
    EXPECT_EQ(std::any_cast<std::optional<std::string>>(w.get_extra_info("selected_alpn_protocol")),
              std::optional<std::string>("h2"));
    EXPECT_TRUE(std::any_cast<asyncio::ssl_object>(w.get_extra_info("ssl_object")).native_handle() != nullptr);

    for (int i = 0; i < 50; ++i) {
      std::string line = "hello " + std::to_string(i) + "\n";
      w.write(line);
      co_await w.drain();
      EXPECT_EQ(co_await test_support::bounded(r.readline()), line);
    }
    w.close();
    co_await w.wait_closed();
    EXPECT_TRUE(co_await test_support::eventually([&] { return s->handlers_done == 1; }));
    EXPECT_EQ(s->sni, std::optional<std::string>("localhost"));
    EXPECT_EQ(s->alpn, std::optional<std::string>("h2"));
    EXPECT_EQ(s->version, "TLSv1.3");
    EXPECT_TRUE(s->close_notify);  // our close() sent close_notify
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, Tls12AndNoAlpnOverlap) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    auto sctx = server_ctx();
    sctx.set_alpn_protocols({"h2"});
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(sctx);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto cctx = client_ctx();
    cctx.set_maximum_version(asyncio::tls_version::tls1_2);
    cctx.set_alpn_protocols({"spdy/1"});
    auto co2 = tls_options(cctx);
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co2));
    EXPECT_EQ(w.get_ssl_object()->version(), "TLSv1.2");
    EXPECT_EQ(w.get_ssl_object()->selected_alpn_protocol(), std::nullopt);
    w.write("ping\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "ping\n");
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

// Both directions at once, 8 MiB each way, with a small high-water mark: the echo server's drain()
// must hold its buffer bounded while the client is busy writing.
TEST(Tls, LargeTransferBothWaysWithBackPressure) {
  asyncio::run([]() -> task<void> {
    auto max_buffered = std::make_shared<std::size_t>(0);
    asyncio::client_connected_cb handler1 =
        [max_buffered](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          w.set_write_buffer_limits(64 * 1024, 16 * 1024);
          std::vector<char> buf(16 * 1024);
          for (;;) {
            std::size_t n = co_await r.read_into(buf);
            if (n == 0) break;
            w.write(std::string_view(buf.data(), n));
            *max_buffered = std::max(*max_buffered, w.get_write_buffer_size());
            co_await w.drain();
          }
          w.close();
        };
    asyncio::server_options so1 = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(handler1, "127.0.0.1", 0, so1);
    auto co3 = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co3));
    constexpr std::size_t total = 8 * 1024 * 1024;
    auto pattern = [](std::size_t i) { return static_cast<char>((i * 131 + i / 4096) & 0xff); };
    auto writer = asyncio::create_task([](asyncio::stream_writer w, auto pattern) -> task<void> {
      std::string chunk(100 * 1000, '\0');
      std::size_t sent = 0;
      while (sent < total) {
        std::size_t n = std::min(chunk.size(), total - sent);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(sent + i);
        w.write(std::string_view(chunk.data(), n));
        sent += n;
        co_await w.drain();
      }
      w.write_eof();  // TLS half-close: close_notify, the server then ends its side
    }(w, pattern));
    std::size_t got = 0;
    bool same = true;
    std::vector<char> buf(64 * 1024);
    for (;;) {
      std::size_t n = co_await test_support::bounded(r.read_into(buf));
      if (n == 0) break;
      for (std::size_t i = 0; i < n && same; ++i) same = buf[i] == pattern(got + i);
      got += n;
    }
    co_await test_support::bounded(std::move(writer));
    EXPECT_EQ(got, total);
    EXPECT_TRUE(same);
    // At most the high-water mark plus one record's worth of ciphertext beyond it.
    EXPECT_LE(*max_buffered, 64 * 1024 + 17 * 1024);
    EXPECT_TRUE(w.get_ssl_object()->close_notify_received());
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, HostnameMismatchIsRejected) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    bool rejected = false;
    try {
      auto co4 = tls_options(client_ctx(), "example.com");
      (void)co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co4));
    } catch (const asyncio::ssl_certificate_verify_error& e) {
      rejected = true;
      EXPECT_EQ(e.verify_code(), X509_V_ERR_HOSTNAME_MISMATCH);
      EXPECT_NE(std::string(e.what()).find("example.com"), std::string::npos);
    }
    EXPECT_TRUE(rejected);
    // The IP address form is checked against the IP entries.
    auto co5 = tls_options(client_ctx(), "127.0.0.1");
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co5));
    EXPECT_EQ(w.get_ssl_object()->server_hostname(), std::optional<std::string>("127.0.0.1"));
    w.close();
    co_await w.wait_closed();
    EXPECT_EQ(s->handlers_done, 0);  // the rejected connection never reached the handler
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, UnknownCaIsRejectedAsAnOsError) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    const auto& pki = test_support::test_pki();
    auto rogue = asyncio::ssl_context::server(pki.rogue_server_cert, pki.rogue_server_key);
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(rogue);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    int outcome = 0;
    try {
      auto co6 = tls_options(client_ctx());
      (void)co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co6));
    } catch (const asyncio::ssl_certificate_verify_error& e) {
      outcome = 1;
      EXPECT_EQ(e.verify_code(), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    }
    EXPECT_EQ(outcome, 1);
    // As Python's SSLError is an OSError: a generic os_error handler sees it too.
    try {
      auto co7 = tls_options(client_ctx());
      (void)co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co7));
    } catch (const asyncio::os_error&) {
      outcome = 2;
    }
    EXPECT_EQ(outcome, 2);
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, VerificationOptOut) {
  auto ctx = asyncio::ssl_context::client();
  EXPECT_TRUE(ctx.check_hostname());
  EXPECT_EQ(ctx.get_verify_mode(), asyncio::verify_mode::required);
  EXPECT_THROW(ctx.set_verify_mode(asyncio::verify_mode::none), std::invalid_argument);
  ctx.set_check_hostname(false);
  ctx.set_verify_mode(asyncio::verify_mode::none);
  asyncio::run([](asyncio::ssl_context ctx) -> task<void> {
    auto s = std::make_shared<seen>();
    const auto& pki = test_support::test_pki();
    auto rogue = asyncio::ssl_context::server(pki.rogue_server_cert, pki.rogue_server_key);
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(rogue);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto co8 = tls_options(ctx, "wrong.example");
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co8));
    EXPECT_TRUE(w.get_ssl_object()->getpeercert().has_value());  // there, though unverified
    w.write("x\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "x\n");
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }(ctx));
}

// Mutual TLS: a server that requires a client certificate rejects a client without one and sees
// the certificate of a client that has one.
TEST(Tls, ClientCertificateRequiredByTheServer) {
  asyncio::run([]() -> task<void> {
    const auto& pki = test_support::test_pki();
    auto subject = std::make_shared<std::string>();
    asyncio::client_connected_cb cb = [subject](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
      if (auto cert = w.get_ssl_object()->getpeercert()) *subject = cert->subject;
      w.write(co_await r.readline());
      co_await w.drain();
      w.close();
    };
    auto sctx = server_ctx();
    sctx.load_verify_locations(pki.ca_cert);
    sctx.set_verify_mode(asyncio::verify_mode::required);
    asyncio::server_options so = tls_server_options(sctx);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);

    // Without a certificate: TLS 1.3 clients learn of the refusal on their first read.
    bool refused = false;
    try {
      auto co = tls_options(client_ctx());
      auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co));
      w.write("no cert\n");
      std::string got = co_await test_support::bounded(r.readline());
      refused = got.empty();
      w.close();
    } catch (const asyncio::ssl_error&) {
      refused = true;
    }
    EXPECT_TRUE(refused);

    auto with_cert = client_ctx();
    with_cert.load_cert_chain(pki.server_cert, pki.server_key);  // its EKU allows clientAuth too
    auto co = tls_options(with_cert);
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co));
    w.write("with cert\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "with cert\n");
    EXPECT_NE(subject->find("CN=localhost"), std::string::npos);
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, ContextErrors) {
  EXPECT_THROW(asyncio::ssl_context::server("/nonexistent/cert.pem", "/nonexistent/key.pem"), asyncio::ssl_error);
  const auto& pki = test_support::test_pki();
  // A key that does not belong to the certificate.
  EXPECT_THROW(asyncio::ssl_context::server(pki.server_cert, pki.rogue_server_key), asyncio::ssl_error);
  auto c = asyncio::ssl_context::client();
  EXPECT_THROW(c.set_alpn_protocols({""}), std::invalid_argument);
  EXPECT_THROW(c.load_verify_cadata("not a certificate"), asyncio::ssl_error);
  EXPECT_THROW(c.set_ciphers("NO-SUCH-CIPHER"), asyncio::ssl_error);
}

TEST(Tls, CadataAndCheckHostnameNeedsAName) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    std::FILE* f = std::fopen(test_support::test_pki().ca_cert.c_str(), "r");
    std::string pem(8192, '\0');
    pem.resize(std::fread(pem.data(), 1, pem.size(), f));
    std::fclose(f);
    auto ctx = asyncio::ssl_context::client();
    ctx.load_verify_cadata(pem);
    bool invalid = false;
    try {
      auto co9 = tls_options(ctx, "");
      (void)co_await asyncio::open_connection("127.0.0.1", srv.port(), co9);
    } catch (const std::invalid_argument&) {
      invalid = true;
    }
    EXPECT_TRUE(invalid);
    auto co10 = tls_options(ctx);
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co10));
    w.write("y\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "y\n");
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

// A listening socket that never accepts: the kernel completes TCP, nobody ever speaks TLS.
auto silent_listener() -> asyncio::socket {
  asyncio::socket l(AF_INET, SOCK_STREAM);
  l.bind(asyncio::address::ipv4("127.0.0.1", 0));
  l.listen(16);
  return l;
}

TEST(Tls, ClientHandshakeTimeoutOnVirtualClock) {
  asyncio::testing::virtual_clock clk;
  asyncio::run(
      []() -> task<void> {
        asyncio::socket l = silent_listener();
        auto opts = tls_options(client_ctx());
        opts.ssl_handshake_timeout = 5s;
        bool timed_out = false;
        try {
          (void)co_await asyncio::open_connection("127.0.0.1", l.getsockname().port(), opts);
        } catch (const asyncio::timeout_error&) {
          timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        l.close();
      }(),
      {.clock = &clk});
  EXPECT_GE(clk.elapsed(), 5s);
  EXPECT_LT(clk.elapsed(), 6s);
}

TEST(Tls, ServerHandshakeTimeoutDropsSilentClients) {
  asyncio::testing::virtual_clock clk;
  asyncio::run(
      []() -> task<void> {
        auto s = std::make_shared<seen>();
        auto opts = tls_server_options(server_ctx());
        opts.ssl_handshake_timeout = 3s;
        asyncio::client_connected_cb cb = echo_handler(s);
        auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, opts);
        // A plain client that connects and says nothing: the server closes it at the deadline.
        auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
        EXPECT_EQ(co_await r.read(), "");
        EXPECT_EQ(s->handlers_done, 0);
        EXPECT_EQ(srv.active_connections(), 0u);
        w.close();
        co_await srv.shutdown(1s);
      }(),
      {.clock = &clk});
  EXPECT_GE(clk.elapsed(), 3s);
}

TEST(Tls, CancellationMidHandshakeAndMidRead) {
  asyncio::run([]() -> task<void> {
    asyncio::socket l = silent_listener();
    auto co11 = tls_options(client_ctx());
    auto h = asyncio::create_task(asyncio::open_connection("127.0.0.1", l.getsockname().port(), co11));
    co_await asyncio::sleep(20ms);
    EXPECT_FALSE(h.done());
    co_await test_support::cancel_and_wait(h);
    EXPECT_TRUE(h.cancelled());
    l.close();

    // Mid-read: a cancelled read loses nothing; the next read gets the whole line.
    asyncio::client_connected_cb handler2 =
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          std::string go = co_await r.readline();
          w.write("first part, ");
          co_await w.drain();
          co_await asyncio::sleep(30ms);
          w.write("second part\n");
          co_await w.drain();
          (void)co_await r.read();
          w.close();
        };
    asyncio::server_options so2 = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(handler2, "127.0.0.1", 0, so2);
    auto co12 = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co12));
    w.write("go\n");
    auto rd = asyncio::create_task(r.readline());
    co_await asyncio::sleep(10ms);
    EXPECT_FALSE(rd.done());
    co_await test_support::cancel_and_wait(rd);
    EXPECT_TRUE(rd.cancelled());
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "first part, second part\n");
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

// A drain cancelled while the peer reads nothing: every byte written still arrives, in order.
TEST(Tls, CancelledDrainLosesNothing) {
  asyncio::run([]() -> task<void> {
    auto release = std::make_shared<asyncio::event>();
    auto received = std::make_shared<std::string>();
    asyncio::client_connected_cb slow =
        [release, received](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          co_await release->wait();
          *received = co_await r.read();
          w.close();
        };
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(slow, "127.0.0.1", 0, so);
    auto co = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co));
    std::string expected;
    for (int i = 0; w.get_write_buffer_size() <= 64 * 1024 && i < 10000; ++i) {
      std::string chunk(16 * 1024, static_cast<char>('a' + i % 26));
      w.write(chunk);
      expected += chunk;
    }
    auto d = asyncio::create_task([](asyncio::stream_writer w) -> task<void> { co_await w.drain(); }(w));
    co_await asyncio::sleep(10ms);
    EXPECT_FALSE(d.done());  // the peer reads nothing: the buffer stays above the mark
    co_await test_support::cancel_and_wait(d);
    EXPECT_TRUE(d.cancelled());
    w.write("end");
    expected += "end";
    w.write_eof();
    release->set();
    EXPECT_TRUE(co_await test_support::eventually([&] { return received->size() >= expected.size(); }));
    EXPECT_TRUE(*received == expected);
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

// shutdown() while a client is still in its handshake: the handshake is cancelled and the
// connection dropped; the server closes within the grace period.
TEST(Tls, ServerShutdownCancelsPendingHandshakes) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());  // plain and silent
    EXPECT_TRUE(co_await test_support::eventually([&] { return srv.active_connections() == 1; }));
    co_await test_support::bounded(srv.shutdown(50ms));
    EXPECT_EQ(srv.active_connections(), 0u);
    EXPECT_EQ(co_await test_support::bounded(r.read()), "");
    EXPECT_EQ(s->handlers_done, 0);
    w.close();
  }());
}

TEST(Tls, RaggedEofIsEofByDefaultAndAnErrorOnRequest) {
  asyncio::run([]() -> task<void> {
    for (int round = 0; round < 2; ++round) {
      bool suppress = round == 0;
      auto s = std::make_shared<seen>();
      auto sctx = server_ctx();
      sctx.set_suppress_ragged_eofs(suppress);
      asyncio::client_connected_cb cb = echo_handler(s);
      asyncio::server_options so = tls_server_options(sctx);
      auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
      auto co13 = tls_options(client_ctx());
      auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co13));
      w.write("z\n");
      EXPECT_EQ(co_await test_support::bounded(r.readline()), "z\n");
      w.abort();  // TCP close without close_notify
      EXPECT_TRUE(co_await test_support::eventually([&] { return s->handlers_done == 1; }));
      EXPECT_FALSE(s->close_notify);
      EXPECT_EQ(s->ragged_error, !suppress);
      co_await srv.shutdown(1s);
    }
  }());
}

TEST(Tls, StartTlsUpgradesAPlainConnection) {
  asyncio::run([]() -> task<void> {
    auto sctx = server_ctx();
    asyncio::client_connected_cb handler3 =
        [sctx](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
          w.write("220 go ahead\n");
          asyncio::start_tls_options o;
          o.server_side = true;
          co_await asyncio::start_tls(w, sctx, o);
          std::string line = co_await r.readline();
          w.write("secure: " + line);
          co_await w.drain();
          w.close();
        };
    auto srv = co_await asyncio::start_server(handler3, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    EXPECT_FALSE(w.get_ssl_object().has_value());
    w.write("STARTTLS\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "220 go ahead\n");
    asyncio::start_tls_options o;
    o.server_hostname = "localhost";
    asyncio::ssl_context cctx = client_ctx();
    co_await test_support::bounded(asyncio::start_tls(w, cctx, o));
    EXPECT_TRUE(w.get_ssl_object().has_value());
    w.write("hello\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "secure: hello\n");
    EXPECT_EQ(co_await test_support::bounded(r.read()), "");
    EXPECT_TRUE(w.get_ssl_object()->close_notify_received());
    bool again = false;
    try {
      co_await asyncio::start_tls(w, cctx, o);
    } catch (const asyncio::invalid_state_error&) {
      again = true;
    }
    EXPECT_TRUE(again);
    w.close();
    co_await w.wait_closed();
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, PlainClientAgainstTlsServerFailsCleanly) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    w.write("GET / HTTP/1.0\r\n\r\n");
    (void)co_await test_support::bounded(r.read());  // an alert or nothing, then EOF
    EXPECT_TRUE(r.at_eof());
    EXPECT_EQ(s->handlers_done, 0);
    w.close();
    co_await srv.shutdown(1s);
  }());
}

TEST(Tls, OverUnixSockets) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    std::string path = "/tmp/asyncio_tls_test_" + std::to_string(::getpid()) + ".sock";
    auto srv = co_await asyncio::start_unix_server(cb, path, so);
    // A path is no host name: with ssl, server_hostname must be given (as Python requires).
    asyncio::connect_options no_name;
    no_name.ssl = client_ctx();
    EXPECT_THROW((void)co_await asyncio::open_unix_connection(path, no_name), std::invalid_argument);

    auto co = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_unix_connection(path, co));
    EXPECT_TRUE(w.get_ssl_object().has_value());
    EXPECT_EQ(w.get_ssl_object()->server_hostname(), std::optional<std::string>("localhost"));
    w.write("over unix and TLS\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "over unix and TLS\n");
    w.close();
    EXPECT_TRUE(co_await test_support::eventually([&] { return s->handlers_done == 1; }));
    EXPECT_EQ(s->sni, std::optional<std::string>("localhost"));
    EXPECT_TRUE(s->close_notify);

    // A certificate that does not name the host fails as on TCP.
    auto wrong = tls_options(client_ctx(), "not-the-host.example");
    EXPECT_THROW((void)co_await test_support::bounded(asyncio::open_unix_connection(path, wrong)),
                 asyncio::ssl_certificate_verify_error);
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(Tls, OpenConnectionOnAConnectedSocket) {
  asyncio::run([]() -> task<void> {
    // Python's open_connection(sock=..., ssl=...): a socketpair end, TLS on both ends.
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    asyncio::socket server_end = asyncio::socket::adopt(fds[0]);
    asyncio::socket client_end = asyncio::socket::adopt(fds[1]);
    asyncio::stream_pair server_side = asyncio::make_streams(std::move(server_end));
    asyncio::start_tls_options sto;
    sto.server_side = true;
    auto accepting = asyncio::create_task(asyncio::start_tls(server_side.writer, server_ctx(), sto));
    auto co = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection(std::move(client_end), co));
    co_await test_support::bounded(std::move(accepting));
    w.write("ping\n");
    EXPECT_EQ(co_await test_support::bounded(server_side.reader.readline()), "ping\n");
    w.close();
    server_side.writer.close();
  }());
}

TEST(Tls, SendfileFallsBackToReadAndWrite) {
  asyncio::run([]() -> task<void> {
    std::string content(2 << 20, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + (i * 31 + i / 997) % 26);
    char name[] = "/tmp/asyncio_tls_sendfile_XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::unlink(name);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));

    auto s = std::make_shared<seen>();
    asyncio::client_connected_cb cb = echo_handler(s);
    asyncio::server_options so = tls_server_options(server_ctx());
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto co = tls_options(client_ctx());
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), co));
    auto echoed = asyncio::create_task(r.read());
    w.write("head:");
    std::size_t sent = co_await test_support::bounded(w.sendfile(fd, 7, content.size()), 60s);
    EXPECT_EQ(sent, content.size() - 7);  // the count stops at the end of the file
    EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), static_cast<off_t>(content.size()));
    w.write_eof();
    std::string got = co_await test_support::bounded(std::move(echoed), 60s);
    EXPECT_TRUE(got == "head:" + content.substr(7));
    EXPECT_EQ(got.size(), 5 + content.size() - 7);
    ::close(fd);
    w.close();
    srv.close();
    co_await srv.wait_closed();
  }());
}

}  // namespace
