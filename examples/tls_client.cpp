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
// Shows: ssl_context::client/server, load_verify_locations, set_alpn_protocols, connect_options
// {.ssl, .server_hostname}, server_options{.ssl}, get_ssl_object(), ssl_certificate_verify_error.
// ctest-expect: TLS echo server on 127\.0\.0\.1:[0-9]+
// ctest-expect: negotiated TLSv1\.3, cipher TLS_[A-Z0-9_]+, ALPN h2
// ctest-expect: server certificate: CN=localhost
// ctest-expect: echo: hello over TLS
// ctest-expect: server saw SNI localhost, ALPN h2
// ctest-expect: wrong host name rejected: certificate verify failed: hostname mismatch
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

// `openssl req` writes a self-signed certificate and its key into dir.
auto make_certificate(std::string dir) -> asyncio::task<void> {
  asyncio::process_options quiet;
  quiet.std_out = asyncio::redirect::devnull;
  quiet.std_err = asyncio::redirect::devnull;
  std::string key = dir + "/key.pem", cert = dir + "/cert.pem";
  auto p = co_await asyncio::create_subprocess_exec(
      "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
      quiet);
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
  co_await make_certificate(dir);

  // Server: certificate + key, ALPN offers h2 then http/1.1.
  auto server_ctx = asyncio::ssl_context::server(dir + "/cert.pem", dir + "/key.pem");
  server_ctx.set_alpn_protocols({"h2", "http/1.1"});
  asyncio::server_options sopts;
  sopts.ssl = server_ctx;
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0, sopts);
  std::printf("TLS echo server on 127.0.0.1:%u\n", srv.port());

  // Client: trusts the throwaway certificate only; verification and host-name check stay on.
  auto client_ctx = asyncio::ssl_context::client();
  client_ctx.load_verify_locations(dir + "/cert.pem");
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
