// examples/tls_server.cpp: a TLS echo server (Python's start_server(..., ssl=ctx)) with throwaway
// certificates, one listener serving two host names (SNI), and ALPN; graceful shutdown on Ctrl-C.
//
//   tls_server [HOST] [PORT] [--duration SECONDS]
//
// HOST defaults to 127.0.0.1, PORT to 8443 (0: any free port). At start, the `openssl req` command
// (run with create_subprocess_exec) makes two self-signed certificates (EC P-256, valid one day) in
// a fresh temporary directory:
//   cert.pem        CN=localhost, SAN DNS:localhost and IP:127.0.0.1: the default certificate
//   other_cert.pem  CN=other.test, SAN DNS:other.test: served to clients that ask for other.test in
//                   SNI (set_sni_callback)
// The server prints their paths (a client must trust them: nobody else signed them), its address,
// and a command line for examples/tls_client.cpp; then, for each connection, the name the client
// asked for (SNI), the ALPN protocol agreed on (h2 or http/1.1, the server's preference first) and
// whether the client resumed an earlier session. Each connection echoes lines until the client
// closes it. Serves until SIGINT (Ctrl-C) or SIGTERM, or for SECONDS; then stops accepting, gives
// the open connections 1 s, cancels the rest, and removes the temporary directory.
//
// Try it: `tls_server` in one terminal; in another, the `tls_client ...` line it prints (or
// `openssl s_client -connect 127.0.0.1:8443 -servername other.test -alpn h2`); Ctrl-C stops it.
// The ctest (examples/tls_server.check.cmake) runs it with examples/tls_client.cpp, then sends SIGINT.
// Shows: ssl_context::server, set_alpn_protocols, set_sni_callback, server_options::ssl,
// get_ssl_object() on the server side, create_subprocess_exec, loop.add_signal_handler,
// server::shutdown.
#include <any>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>  // mkdtemp

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  double duration = -1;  // --duration; < 0: until a signal
};

struct server_state {
  int served = 0;       // connections that ended normally
  asyncio::event stop;  // set by SIGINT/SIGTERM
};

// One coroutine per connection, started once the TLS handshake succeeded (a client that rejects
// the certificate never gets here): prints what the handshake negotiated, then echoes lines.
auto echo(std::shared_ptr<server_state> st, asyncio::stream_reader reader, asyncio::stream_writer writer)
    -> asyncio::task<void> {
  auto peer = std::any_cast<asyncio::address>(writer.get_extra_info("peername")).to_string();
  auto tls = writer.get_ssl_object();
  std::printf("%s: server saw SNI %s, ALPN %s (%s, %s)\n", peer.c_str(),
              tls->server_hostname().value_or("(none)").c_str(),
              tls->selected_alpn_protocol().value_or("(none)").c_str(), tls->version().c_str(),
              tls->session_reused() ? "resumed session" : "full handshake");
  std::fflush(stdout);
  try {
    for (;;) {
      std::string line = co_await reader.readline();
      if (line.empty()) break;  // EOF (or the client's close_notify)
      writer.write(line);
      co_await writer.drain();
    }
  } catch (const asyncio::cancelled_error&) {
    std::printf("%s: cancelled at shutdown\n", peer.c_str());
    throw;
  } catch (const asyncio::connection_error& e) {
    std::printf("%s: connection lost: %s\n", peer.c_str(), e.what());
    co_return;
  }
  writer.close();  // sends close_notify
  co_await writer.wait_closed();
  ++st->served;
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

auto serve(config cfg, std::string dir) -> asyncio::task<int> {
  co_await make_certificate(dir, "", "localhost", "DNS:localhost,IP:127.0.0.1");
  co_await make_certificate(dir, "other_", "other.test", "DNS:other.test");

  // Certificate + key; ALPN accepts h2, then http/1.1. Clients asking for other.test in SNI get the
  // second certificate (and that context's ALPN list, hence the same one).
  auto server_ctx = asyncio::ssl_context::server(dir + "/cert.pem", dir + "/key.pem");
  server_ctx.set_alpn_protocols({"h2", "http/1.1"});
  auto other_ctx = asyncio::ssl_context::server(dir + "/other_cert.pem", dir + "/other_key.pem");
  other_ctx.set_alpn_protocols({"h2", "http/1.1"});
  server_ctx.set_sni_callback([other_ctx](std::string_view name) -> std::optional<asyncio::ssl_context> {
    if (name == "other.test") return other_ctx;
    return std::nullopt;  // any other name, or none: the default certificate
  });

  auto st = std::make_shared<server_state>();
  // Named first (not written inside the co_await): g++ 12 would destroy a capturing lambda
  // temporary there twice (docs/design.md, "Compiler traps").
  auto handler = [st](asyncio::stream_reader r, asyncio::stream_writer w) { return echo(st, std::move(r), std::move(w)); };
  asyncio::server_options sopts;
  sopts.ssl = server_ctx;
  auto srv = co_await asyncio::start_server(handler, cfg.host, cfg.port, sopts);

  std::printf("certificate for localhost and 127.0.0.1: %s/cert.pem\n", dir.c_str());
  std::printf("certificate for other.test (chosen by SNI): %s/other_cert.pem\n", dir.c_str());
  std::printf("TLS echo server on %s\n", srv.sockets().front().to_string().c_str());
  std::printf("try: tls_client %s %u --cafile %s/cert.pem --cafile %s/other_cert.pem --server-hostname localhost"
              " --echo hello --also-as other.test\n",
              cfg.host.c_str(), srv.port(), dir.c_str(), dir.c_str());
  std::fflush(stdout);

  // Ctrl-C or SIGTERM: a graceful shutdown (this replaces asyncio::run's own Ctrl-C handling, which
  // would cancel serve() wherever it is).
  auto& loop = asyncio::get_running_loop();
  for (int sig : {SIGINT, SIGTERM}) {
    loop.add_signal_handler(sig, [st, sig] {
      std::printf("%s: shutting down gracefully\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      st->stop.set();
    });
  }
  if (cfg.duration < 0) {
    co_await st->stop.wait();
  } else {
    try {
      auto limit = std::chrono::duration_cast<asyncio::duration>(std::chrono::duration<double>(cfg.duration));
      co_await asyncio::wait_for(st->stop.wait(), limit);
    } catch (const asyncio::timeout_error&) {
      std::printf("%g s elapsed: shutting down\n", cfg.duration);
    }
  }
  co_await srv.shutdown(1s);  // stop accepting; 1 s for open connections; then cancel them
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  std::printf("served %d connection(s)\n", st->served);
  co_return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  config cfg;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--duration") && i + 1 < argc) cfg.duration = std::atof(argv[++i]);
    else if (positional++ == 0) cfg.host = argv[i];
    else cfg.port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }

  std::string dir = (std::filesystem::temp_directory_path() / "tls_server-XXXXXX").string();
  if (!::mkdtemp(dir.data())) {
    std::perror("tls_server: mkdtemp");
    return 1;
  }
  int status = 1;
  try {
    status = asyncio::run(serve(cfg, dir));
  } catch (const asyncio::keyboard_interrupt&) {
    status = 130;  // Ctrl-C before the server was up (asyncio::run's handling was still in place)
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_server: %s\n", e.what());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // the certificates and their private keys
  std::printf("removed %s: %s\n", dir.c_str(), std::filesystem::exists(dir) ? "no" : "yes");
  return status;
}
