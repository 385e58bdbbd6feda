// examples/tls_client.cpp: a TLS client (Python's open_connection(..., ssl=ctx)) against a local TLS
// echo server that the program starts itself (start_server(..., ssl=server_ctx)), then a look at
// what the handshake negotiated: protocol version, cipher, ALPN, the server's certificate.
//
//   tls_client                      self-contained: makes a throwaway certificate, serves, connects
//   tls_client HOST [PORT]          connects to a real server (system trust store, port 443),
//                                   prints what was negotiated and the first response line
//
// The throwaway certificate (CN=localhost, SAN DNS:localhost and IP:127.0.0.1, EC P-256, one day)
// comes from the `openssl req` command, run with create_subprocess_exec; the client trusts exactly
// that certificate (load_verify_locations), with certificate and host-name checks ON, as a client
// context has them by default.
// A second certificate (CN=other.test) is served to clients that ask for that name in SNI
// (set_sni_callback), and the client resumes its first TLS session in a later connection.
// Shows: ssl_context::client/server, load_verify_locations, set_alpn_protocols, set_sni_callback,
// connect_options{.ssl, .server_hostname, .session}, server_options{.ssl}, get_ssl_object(),
// ssl_object::session(), session_reused(), ssl_certificate_verify_error.
// ctest-expect: TLS echo server on 127\.0\.0\.1:[0-9]+
// ctest-expect: negotiated TLSv1\.3, cipher TLS_[A-Z0-9_]+, ALPN h2
// ctest-expect: server certificate: CN=localhost
// ctest-expect: echo: hello over TLS
// ctest-expect: server saw SNI localhost, ALPN h2
// ctest-expect: wrong host name rejected: certificate verify failed: hostname mismatch
// ctest-expect: as other\.test: server certificate CN=other\.test
// ctest-expect: resumed the first session: yes
// ctest-expect: closed cleanly
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

// What the server side of the last connection negotiated (printed by the client, so that the
// output's order does not depend on which side finishes its handshake first).
std::string server_saw;

// The echo handler: notes what the server side negotiated, then echoes lines until EOF.
auto echo(asyncio::stream_reader reader, asyncio::stream_writer writer) -> asyncio::task<void> {
  if (auto tls = writer.get_ssl_object()) {
    server_saw = "SNI " + tls->server_hostname().value_or("(none)") + ", ALPN " +
                 tls->selected_alpn_protocol().value_or("(none)");
  }
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
}

// `openssl req` writes a self-signed certificate for `name` and its key into dir/PREFIX{cert,key}.pem.
auto make_certificate(std::string dir, std::string prefix, std::string name, std::string alt_names)
    -> asyncio::task<void> {
  asyncio::process_options quiet;
  quiet.std_out = asyncio::redirect::devnull;
  quiet.std_err = asyncio::redirect::devnull;
  std::string key = dir + "/" + prefix + "key.pem", cert = dir + "/" + prefix + "cert.pem";
  auto p = co_await asyncio::create_subprocess_exec(
      "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=" + name, "-addext", "subjectAltName=" + alt_names, "-keyout", key, "-out", cert, quiet);
  if (co_await p.wait() != 0) throw std::runtime_error("openssl req failed (is the openssl command installed?)");
}

auto self_contained() -> asyncio::task<int> {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tls_client-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  std::string dir = tmpl;
  struct cleanup {
    std::string dir;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } guard{dir};
  co_await make_certificate(dir, "", "localhost", "DNS:localhost,IP:127.0.0.1");
  co_await make_certificate(dir, "other_", "other.test", "DNS:other.test");

  // Server: certificate + key, ALPN offers h2 then http/1.1. Clients asking for other.test in SNI
  // get the second certificate.
  auto server_ctx = asyncio::ssl_context::server(dir + "/cert.pem", dir + "/key.pem");
  server_ctx.set_alpn_protocols({"h2", "http/1.1"});
  auto other_ctx = asyncio::ssl_context::server(dir + "/other_cert.pem", dir + "/other_key.pem");
  server_ctx.set_sni_callback([other_ctx](std::string_view name) -> std::optional<asyncio::ssl_context> {
    if (name == "other.test") return other_ctx;
    return std::nullopt;  // everyone else: the default certificate
  });
  asyncio::server_options sopts;
  sopts.ssl = server_ctx;
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0, sopts);
  std::printf("TLS echo server on 127.0.0.1:%u\n", srv.port());

  // Client: trusts the throwaway certificate only; verification and host-name check stay on.
  auto client_ctx = asyncio::ssl_context::client();
  client_ctx.load_verify_locations(dir + "/cert.pem");
  client_ctx.load_verify_locations(dir + "/other_cert.pem");
  client_ctx.set_alpn_protocols({"h2", "http/1.1"});
  asyncio::connect_options copts;
  copts.ssl = client_ctx;
  copts.server_hostname = "localhost";  // SNI and the name checked (the host argument is an IP)
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port(), copts);
  auto tls = writer.get_ssl_object();
  std::printf("negotiated %s, cipher %s, ALPN %s\n", tls->version().c_str(), tls->cipher().c_str(),
              tls->selected_alpn_protocol().value_or("(none)").c_str());
  if (auto cert = tls->getpeercert())
    std::printf("server certificate: %s (valid until %s)\n", cert->subject.c_str(), cert->not_after.c_str());

  writer.write("hello over TLS\n");
  co_await writer.drain();
  std::string line = co_await reader.readline();
  std::printf("echo: %s", line.c_str());
  std::printf("server saw %s\n", server_saw.c_str());

  // The same server under a name its certificate does not carry: the client refuses it.
  asyncio::connect_options wrong = copts;
  wrong.server_hostname = "example.org";
  try {
    (void)co_await asyncio::open_connection("127.0.0.1", srv.port(), wrong);
    std::printf("wrong host name accepted?!\n");
  } catch (const asyncio::ssl_certificate_verify_error& e) {
    std::printf("wrong host name rejected: %s\n", e.what());
  }

  // SNI: under the other name the server presents the other certificate (and it verifies).
  asyncio::connect_options as_other = copts;
  as_other.server_hostname = "other.test";
  {
    auto [r2, w2] = co_await asyncio::open_connection("127.0.0.1", srv.port(), as_other);
    std::printf("as other.test: server certificate %s\n", w2.get_ssl_object()->getpeercert()->subject.c_str());
    w2.close();
    co_await w2.wait_closed();
  }

  // Resumption: the first connection's session (its TLS 1.3 ticket came with the echo) lets a new
  // connection skip the certificate exchange.
  asyncio::connect_options resume = copts;
  resume.session = tls->session();
  {
    auto [r3, w3] = co_await asyncio::open_connection("127.0.0.1", srv.port(), resume);
    std::printf("resumed the first session: %s\n", w3.get_ssl_object()->session_reused() ? "yes" : "no");
    w3.close();
    co_await w3.wait_closed();
  }

  writer.close();  // sends close_notify
  co_await writer.wait_closed();
  co_await srv.shutdown(1s);
  std::printf("closed cleanly\n");
  co_return 0;
}

// Against a real server: the system trust store, HTTP/1.1 over ALPN, one request line back.
auto remote(std::string host, std::uint16_t port) -> asyncio::task<int> {
  asyncio::connect_options opts;
  opts.ssl = asyncio::ssl_context::client();
  opts.ssl->set_alpn_protocols({"http/1.1"});
  opts.ssl_handshake_timeout = 10s;
  auto [reader, writer] = co_await asyncio::open_connection(host, port, opts);
  auto tls = writer.get_ssl_object();
  std::printf("negotiated %s, cipher %s, ALPN %s\n", tls->version().c_str(), tls->cipher().c_str(),
              tls->selected_alpn_protocol().value_or("(none)").c_str());
  if (auto cert = tls->getpeercert()) std::printf("server certificate: %s\n", cert->subject.c_str());
  writer.write("HEAD / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  co_await writer.drain();
  std::printf("response: %s", (co_await reader.readline()).c_str());
  writer.close();
  co_await writer.wait_closed();
  co_return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  try {
    if (argc >= 2) {
      auto port = static_cast<std::uint16_t>(argc >= 3 ? std::atoi(argv[2]) : 443);
      return asyncio::run(remote(argv[1], port));
    }
    return asyncio::run(self_contained());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_client: %s\n", e.what());
    return 1;
  }
}
