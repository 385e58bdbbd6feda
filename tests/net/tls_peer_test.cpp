// Our TLS against other implementations over loopback: `openssl s_server` / `openssl s_client`
// (spawned with asyncio::create_subprocess_exec under `timeout 30`) and Python's asyncio ssl
// (Debian's python3) in both directions. Certificates from support/tls_certs.hpp. Real clock;
// every wait is bounded.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>
#include <support/tls_certs.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

auto client_ctx() -> asyncio::ssl_context {
  auto ctx = asyncio::ssl_context::client();
  ctx.load_verify_locations(test_support::test_pki().ca_cert);
  return ctx;
}

auto server_ctx() -> asyncio::ssl_context {
  const auto& pki = test_support::test_pki();
  return asyncio::ssl_context::server(pki.server_cert, pki.server_key);
}

auto upper(std::string s) -> std::string {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

struct seen {
  std::optional<std::string> sni;
  std::optional<std::string> alpn;
  std::vector<std::string> lines;
  bool close_notify = false;
  bool done = false;
};

// Uppercases lines until EOF, recording what TLS negotiated.
auto upper_handler(std::shared_ptr<seen> s) -> asyncio::client_connected_cb {
  return [s](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
    auto obj = w.get_ssl_object();
    s->sni = obj->server_hostname();
    s->alpn = obj->selected_alpn_protocol();
    for (;;) {
      std::string line = co_await r.readline();
      if (line.empty()) break;
      s->lines.push_back(line);
      w.write(upper(line));
      co_await w.drain();
    }
    s->close_notify = obj->close_notify_received();
    s->done = true;
    w.close();
  };
}

TEST(TlsPeer, OurClientAgainstOpensslServer) {
  asyncio::run([]() -> task<void> {
    const auto& pki = test_support::test_pki();
    asyncio::process_options po;
    po.std_out = asyncio::redirect::pipe;
    po.std_err = asyncio::redirect::devnull;
    auto proc = co_await asyncio::create_subprocess_exec("timeout", "30", "openssl", "s_server", "-accept", "127.0.0.1:0",
                                                         "-cert", pki.server_cert, "-key", pki.server_key, "-naccept",
                                                         "1", "-rev", "-alpn", "h2", po);
    // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens.
    std::uint16_t port = 0;
    for (int i = 0; i < 20 && port == 0; ++i) {
      std::string line = co_await test_support::bounded(proc.std_out().readline());
      if (line.empty()) break;
      if (line.rfind("ACCEPT", 0) == 0) port = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
    EXPECT_NE(port, 0);
    if (port == 0) co_return;
    auto ctx = client_ctx();
    ctx.set_alpn_protocols({"h2", "http/1.1"});
    asyncio::connect_options co;
    co.ssl = ctx;
    co.server_hostname = "localhost";
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", port, co));
    EXPECT_EQ(w.get_ssl_object()->selected_alpn_protocol(), std::optional<std::string>("h2"));
    EXPECT_EQ(w.get_ssl_object()->version(), "TLSv1.3");
    w.write("hello world\n");
    co_await w.drain();
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "dlrow olleh\n");  // -rev reverses lines
    w.close();  // close_notify: s_server ends the session and, with -naccept 1, exits
    co_await w.wait_closed();
    (void)co_await test_support::bounded(proc.communicate());
    EXPECT_EQ(co_await test_support::bounded(proc.wait()), 0);
  }());
}

TEST(TlsPeer, OpensslClientAgainstOurServer) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    auto sctx = server_ctx();
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    asyncio::server_options so;
    so.ssl = sctx;
    asyncio::client_connected_cb cb = upper_handler(s);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    asyncio::process_options po;
    po.std_in = asyncio::redirect::pipe;
    po.std_out = asyncio::redirect::pipe;
    po.std_err = asyncio::redirect::devnull;
    std::string connect = "127.0.0.1:" + std::to_string(srv.port());
    auto proc = co_await asyncio::create_subprocess_exec(
        "timeout", "30", "openssl", "s_client", "-connect", connect, "-servername", "localhost", "-alpn", "http/1.1",
        "-CAfile", test_support::test_pki().ca_cert, "-verify_return_error", "-quiet", "-no_ign_eof", po);
    proc.std_in().write("ping\n");
    EXPECT_EQ(co_await test_support::bounded(proc.std_out().readline()), "PING\n");
    proc.std_in().write("second line\n");
    EXPECT_EQ(co_await test_support::bounded(proc.std_out().readline()), "SECOND LINE\n");
    proc.std_in().close();  // s_client sends close_notify and exits
    (void)co_await test_support::bounded(proc.communicate());
    EXPECT_TRUE(co_await test_support::eventually([&] { return s->done; }));
    EXPECT_EQ(s->sni, std::optional<std::string>("localhost"));
    EXPECT_EQ(s->alpn, std::optional<std::string>("http/1.1"));
    EXPECT_EQ(s->lines.size(), 2u);
    EXPECT_TRUE(s->close_notify);
    co_await srv.shutdown(1s);
  }());
}

TEST(TlsPeer, OpensslClientRejectsUnknownCa) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    const auto& pki = test_support::test_pki();
    asyncio::server_options so;
    so.ssl = asyncio::ssl_context::server(pki.rogue_server_cert, pki.rogue_server_key);
    asyncio::client_connected_cb cb = upper_handler(s);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    asyncio::process_options po;
    po.std_in = asyncio::redirect::devnull;
    po.std_out = asyncio::redirect::devnull;
    po.std_err = asyncio::redirect::devnull;
    std::string connect = "127.0.0.1:" + std::to_string(srv.port());
    auto proc = co_await asyncio::create_subprocess_exec("timeout", "30", "openssl", "s_client", "-connect", connect,
                                                         "-servername", "localhost", "-CAfile", pki.ca_cert,
                                                         "-verify_return_error", po);
    int code = co_await test_support::bounded(proc.wait());
    EXPECT_NE(code, 0);
    co_await asyncio::sleep(20ms);
    EXPECT_FALSE(s->done);  // the handler never ran
    co_await srv.shutdown(1s);
  }());
}

// Python asyncio TLS client: verifies our certificate, offers ALPN, echoes lines and a 1 MiB blob.
const char* python_tls_client = R"PY(
import asyncio, ssl, sys
async def main(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(['h2', 'http/1.1'])
    r, w = await asyncio.open_connection('127.0.0.1', port, ssl=ctx, server_hostname='localhost')
    assert w.get_extra_info('ssl_object').selected_alpn_protocol() == 'http/1.1'
    for i in range(50):
        line = ('line %d\n' % i).encode()
        w.write(line)
        await w.drain()
        assert await r.readline() == line.upper()
    blob = (b'abcdefghij' * 100000) + b'\n'
    w.write(blob)
    await w.drain()
    assert await r.readexactly(len(blob)) == blob.upper()
    w.close()
    await w.wait_closed()
    print('ok', flush=True)
asyncio.run(asyncio.wait_for(main(int(sys.argv[1]), sys.argv[2]), 30))
)PY";

// Python asyncio TLS server: uppercases lines; prints its port; serves one connection.
const char* python_tls_server = R"PY(
import asyncio, ssl, sys
async def handle(r, w):
    global sni
    while line := await r.readline():
        w.write(line.upper())
        await w.drain()
    w.close()
    await w.wait_closed()
    done.set()
async def main(cert, key):
    global done
    done = asyncio.Event()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(['http/1.1'])
    srv = await asyncio.start_server(handle, '127.0.0.1', 0, ssl=ctx)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.wait_for(done.wait(), 30)
    srv.close()
    await srv.wait_closed()
    print('done', flush=True)
asyncio.run(main(sys.argv[1], sys.argv[2]))
)PY";

TEST(TlsPeer, PythonClientAgainstOurServer) {
  asyncio::run([]() -> task<void> {
    auto s = std::make_shared<seen>();
    auto sctx = server_ctx();
    sctx.set_alpn_protocols({"http/1.1"});
    asyncio::server_options so;
    so.ssl = sctx;
    so.limit = 2 * 1024 * 1024;  // the client sends a 1 MB line
    asyncio::client_connected_cb cb = upper_handler(s);
    auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0, so);
    auto child = test_support::spawn_python(python_tls_client, {std::to_string(srv.port()), test_support::test_pki().ca_cert});
    int code = co_await test_support::wait_child(child, 40s);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(child.read_line(1s), "ok");
    EXPECT_TRUE(co_await test_support::eventually([&] { return s->done; }));
    EXPECT_EQ(s->sni, std::optional<std::string>("localhost"));
    EXPECT_EQ(s->lines.size(), 51u);
    co_await srv.shutdown(1s);
  }());
}

TEST(TlsPeer, OurClientAgainstPythonServer) {
  const auto& pki = test_support::test_pki();
  auto child = test_support::spawn_python(python_tls_server, {pki.server_cert, pki.server_key});
  std::string port = child.read_line();
  ASSERT_FALSE(port.empty());
  asyncio::run([](std::uint16_t port) -> task<void> {
    auto ctx = client_ctx();
    ctx.set_alpn_protocols({"h2", "http/1.1"});
    asyncio::connect_options co;
    co.ssl = ctx;
    co.server_hostname = "localhost";
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", port, co));
    EXPECT_EQ(w.get_ssl_object()->selected_alpn_protocol(), std::optional<std::string>("http/1.1"));
    std::string big(60 * 1000, 'q');  // under Python's 64 KiB readline limit
    big += '\n';
    for (int i = 0; i < 20; ++i) {
      w.write("line " + std::to_string(i) + " abc\n");
      co_await w.drain();
      EXPECT_EQ(co_await test_support::bounded(r.readline()), "LINE " + std::to_string(i) + " ABC\n");
    }
    for (int i = 0; i < 20; ++i) w.write(big);  // 1.2 MB in flight at once: back-pressure both ways
    co_await w.drain();
    for (int i = 0; i < 20; ++i) EXPECT_EQ(co_await test_support::bounded(r.readline()), upper(big));
    // Our write_eof sends close_notify; Python's asyncio takes it as the end of the connection,
    // closes with its own close_notify, and the reader sees a clean EOF.
    w.write_eof();
    EXPECT_EQ(co_await test_support::bounded(r.read()), "");
    EXPECT_TRUE(w.get_ssl_object()->close_notify_received());
    w.close();
    co_await w.wait_closed();
  }(static_cast<std::uint16_t>(std::stoi(port))));
  EXPECT_EQ(child.read_line(), "done");
  EXPECT_EQ(child.wait(30s), 0);
}

}  // namespace
