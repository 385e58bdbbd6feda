// TLS server-side SNI (ssl_context::set_sni_callback choosing the certificate per host name) and
// client session resumption (ssl_object::session + connect_options::session), our client against
// our server over loopback. Certificates from support/tls_certs.hpp; every wait is bounded.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>
#include <support/tls_certs.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

auto localhost_ctx() -> asyncio::ssl_context {
  const auto& pki = test_support::test_pki();
  return asyncio::ssl_context::server(pki.server_cert, pki.server_key);
}

auto sni_test_ctx() -> asyncio::ssl_context {
  const auto& pki = test_support::test_pki();
  return asyncio::ssl_context::server(pki.sni_server_cert, pki.sni_server_key);
}

auto client_ctx() -> asyncio::ssl_context {
  auto ctx = asyncio::ssl_context::client();
  ctx.load_verify_locations(test_support::test_pki().ca_cert);
  return ctx;
}

// What the server's handler saw on each connection.
struct server_log {
  std::vector<bool> reused;
  std::vector<std::optional<std::string>> alpn;
  int handled = 0;
};

// Echoes one line back, recording session reuse and ALPN.
auto line_echo(std::shared_ptr<server_log> log) -> asyncio::client_connected_cb {
  return [log](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
    auto obj = w.get_ssl_object();
    log->reused.push_back(obj->session_reused());
    log->alpn.push_back(obj->selected_alpn_protocol());
    EXPECT_FALSE(obj->session().has_value());  // a server has no session to hand out
    try {
      std::string line = co_await r.readline();
      w.write(line);
      co_await w.drain();
    } catch (const asyncio::ssl_error&) {
    }
    ++log->handled;
    w.close();
  };
}

// A TLS line-echo server on an ephemeral loopback port, logging into `log`.
auto start_line_echo(asyncio::ssl_context ctx, std::shared_ptr<server_log> log) -> task<asyncio::server> {
  asyncio::client_connected_cb cb = line_echo(std::move(log));
  asyncio::server_options so;
  so.ssl = std::move(ctx);
  co_return co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
}

// Connects, exchanges one line (so that a TLS 1.3 ticket has arrived), returns the TLS facts.
struct client_view {
  std::string subject;
  bool reused = false;
  std::optional<asyncio::ssl_session> session;
  std::optional<std::string> alpn;
};

auto talk(std::uint16_t port, asyncio::connect_options opts) -> task<client_view> {
  auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", port, opts));
  w.write("ping\n");
  co_await w.drain();
  EXPECT_EQ(co_await test_support::bounded(r.readline()), "ping\n");
  auto obj = w.get_ssl_object();
  client_view v;
  v.subject = obj->getpeercert()->subject;
  v.reused = obj->session_reused();
  v.session = obj->session();
  v.alpn = obj->selected_alpn_protocol();
  w.close();
  co_await w.wait_closed();
  co_return v;
}

auto options_for(asyncio::ssl_context ctx, std::string hostname) -> asyncio::connect_options {
  asyncio::connect_options o;
  o.ssl = std::move(ctx);
  o.server_hostname = std::move(hostname);
  return o;
}

TEST(TlsSni, CallbackChoosesTheCertificatePerHostName) {
  asyncio::run([]() -> task<void> {
    auto names = std::make_shared<std::vector<std::string>>();
    auto other = sni_test_ctx();
    auto sctx = localhost_ctx();
    sctx.set_sni_callback([names, other](std::string_view name) -> std::optional<asyncio::ssl_context> {
      names->emplace_back(name);
      if (name == "sni.test") return other;
      return std::nullopt;
    });
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(sctx, log);

    // The client checks the host name: only the sni.test certificate verifies for "sni.test".
    client_view a = co_await talk(srv.port(), options_for(client_ctx(), "sni.test"));
    EXPECT_NE(a.subject.find("CN=sni.test"), std::string::npos) << a.subject;
    client_view b = co_await talk(srv.port(), options_for(client_ctx(), "localhost"));
    EXPECT_NE(b.subject.find("CN=localhost"), std::string::npos) << b.subject;
    // No SNI at all (host-name check off): the callback sees "" and the default certificate serves.
    auto lax = client_ctx();
    lax.set_check_hostname(false);
    client_view c = co_await talk(srv.port(), options_for(lax, ""));
    EXPECT_NE(c.subject.find("CN=localhost"), std::string::npos) << c.subject;

    EXPECT_EQ(*names, (std::vector<std::string>{"sni.test", "localhost", ""}));
    EXPECT_TRUE(co_await test_support::eventually([&] { return log->handled == 3; }));
    co_await srv.shutdown(1s);
  }());
}

TEST(TlsSni, ThrowingCallbackRefusesTheHandshake) {
  asyncio::run([]() -> task<void> {
    auto sctx = localhost_ctx();
    sctx.set_sni_callback([](std::string_view name) -> std::optional<asyncio::ssl_context> {
      if (name != "localhost") throw std::runtime_error("unknown host");
      return std::nullopt;
    });
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(sctx, log);

    auto opts = options_for(client_ctx(), "elsewhere.test");
    bool refused = false;
    try {
      (void)co_await test_support::bounded(asyncio::open_connection("127.0.0.1", srv.port(), opts));
    } catch (const asyncio::ssl_error& e) {
      refused = true;
      EXPECT_NE(std::string(e.what()).find("unrecognized name"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(refused);
    // The listener is unharmed: a name the callback accepts still connects.
    client_view ok = co_await talk(srv.port(), options_for(client_ctx(), "localhost"));
    EXPECT_NE(ok.subject.find("CN=localhost"), std::string::npos);
    EXPECT_TRUE(co_await test_support::eventually([&] { return log->handled == 1; }));
    EXPECT_EQ(log->reused.size(), 1u);  // no handler ran for the refused connection
    co_await srv.shutdown(1s);
  }());
}

TEST(TlsSni, AlpnComesFromTheChosenContext) {
  asyncio::run([]() -> task<void> {
    auto other = sni_test_ctx();
    other.set_alpn_protocols({"h2"});
    auto sctx = localhost_ctx();  // no ALPN of its own
    sctx.set_sni_callback([other](std::string_view name) -> std::optional<asyncio::ssl_context> {
      if (name == "sni.test") return other;
      return std::nullopt;
    });
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(sctx, log);
    auto cctx = client_ctx();
    cctx.set_alpn_protocols({"h2", "http/1.1"});
    client_view chosen = co_await talk(srv.port(), options_for(cctx, "sni.test"));
    EXPECT_EQ(chosen.alpn, std::optional<std::string>("h2"));
    client_view plain = co_await talk(srv.port(), options_for(cctx, "localhost"));
    EXPECT_EQ(plain.alpn, std::nullopt);
    co_await srv.shutdown(1s);
  }());
}

TEST(TlsSni, ClientContextRejectsTheCallback) {
  auto cctx = asyncio::ssl_context::client();
  EXPECT_THROW(cctx.set_sni_callback([](std::string_view) { return std::optional<asyncio::ssl_context>(); }),
               std::invalid_argument);
}

// Resumption at each protocol version: the first connection's session makes the second one a
// resumed handshake on both sides; a connection without it is a full handshake again.
void check_resumption(std::optional<asyncio::tls_version> max_version) {
  asyncio::run([](std::optional<asyncio::tls_version> max) -> task<void> {
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(localhost_ctx(), log);
    auto cctx = client_ctx();
    if (max) cctx.set_maximum_version(*max);

    client_view first = co_await talk(srv.port(), options_for(cctx, "localhost"));
    EXPECT_FALSE(first.reused);
    EXPECT_TRUE(first.session.has_value());
    if (!first.session) co_return;
    EXPECT_TRUE(first.session->is_resumable());
    EXPECT_TRUE(first.session->has_ticket());
    EXPECT_GT(first.session->ticket_lifetime_hint().count(), 0);

    auto again = options_for(cctx, "localhost");
    again.session = first.session;
    client_view second = co_await talk(srv.port(), again);
    EXPECT_TRUE(second.reused);
    client_view third = co_await talk(srv.port(), options_for(cctx, "localhost"));
    EXPECT_FALSE(third.reused);

    EXPECT_TRUE(co_await test_support::eventually([&] { return log->handled == 3; }));
    EXPECT_EQ(log->reused, (std::vector<bool>{false, true, false}));
    co_await srv.shutdown(1s);
  }(max_version));
}

TEST(TlsSession, ResumesTls13) { check_resumption(std::nullopt); }

TEST(TlsSession, ResumesTls12) { check_resumption(asyncio::tls_version::tls1_2); }

TEST(TlsSession, SessionOfAnotherContextFallsBackToAFullHandshake) {
  asyncio::run([]() -> task<void> {
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(localhost_ctx(), log);
    client_view first = co_await talk(srv.port(), options_for(client_ctx(), "localhost"));
    EXPECT_TRUE(first.session.has_value());

    // A second server (new keys for its tickets) cannot resume the first one's session.
    auto log2 = std::make_shared<server_log>();
    auto srv2 = co_await start_line_echo(localhost_ctx(), log2);
    auto opts = options_for(client_ctx(), "localhost");
    opts.session = first.session;
    client_view other = co_await talk(srv2.port(), opts);
    EXPECT_FALSE(other.reused);
    EXPECT_NE(other.subject.find("CN=localhost"), std::string::npos);  // verified as usual
    co_await srv.shutdown(1s);
    co_await srv2.shutdown(1s);
  }());
}

TEST(TlsSession, ServerSideStartTlsRefusesASession) {
  asyncio::run([]() -> task<void> {
    auto log = std::make_shared<server_log>();
    auto srv = co_await start_line_echo(localhost_ctx(), log);
    client_view first = co_await talk(srv.port(), options_for(client_ctx(), "localhost"));
    co_await srv.shutdown(1s);

    // A plain listener whose handler tries to start TLS as a server with a client's session.
    auto outcome = std::make_shared<std::string>();
    auto sctx = localhost_ctx();
    std::optional<asyncio::ssl_session> session = first.session;
    asyncio::client_connected_cb plain = [outcome, sctx, session](asyncio::stream_reader,
                                                                   asyncio::stream_writer w) -> task<void> {
      asyncio::start_tls_options o;
      o.server_side = true;
      o.session = session;
      try {
        co_await asyncio::start_tls(w, sctx, o);
        *outcome = "started";
      } catch (const std::invalid_argument&) {
        *outcome = "invalid_argument";
      }
    };
    auto psrv = co_await asyncio::start_server(plain, "127.0.0.1", 0);
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", psrv.port()));
    EXPECT_TRUE(co_await test_support::eventually([&] { return !outcome->empty(); }));
    EXPECT_EQ(*outcome, "invalid_argument");
    // The connection was closed by the failed start_tls.
    EXPECT_EQ(co_await test_support::bounded(r.read()), "");
    w.close();
    co_await psrv.shutdown(1s);
  }());
}

}  // namespace
