// examples/tls_client.cpp: a TLS client (Python's open_connection(..., ssl=ctx)) and a look at what
// the handshake negotiated (protocol version, cipher, ALPN, the server's certificate), then what a
// client checks and can ask for: a certificate for another name is refused, SNI picks among a
// server's certificates, and a later connection resumes the first one's session.
//
//   tls_client HOST [PORT] [--cafile PATH]... [--server-hostname NAME] [--echo LINE] [--also-as NAME2]
//
// PORT defaults to 443. The server's certificate must be signed by the system trust store or by a
// --cafile (a PEM file of CA or self-signed certificates to trust), and be valid for NAME, which is
// also the name sent in SNI (default: HOST; with HOST an IP address, NAME says which host the
// certificate must be for). Verification and the host-name check stay on, as a client context has
// them by default. The steps:
//   1. connect; print the version, cipher and ALPN protocol, and the certificate's subject;
//   2. with --echo: send LINE, print the line echoed back (ALPN offers h2, then http/1.1);
//      without: send an HTTP/1.1 HEAD request, print the response's first line (ALPN offers http/1.1);
//   3. connect under a name no certificate carries (wrong-name.invalid): the client refuses;
//   4. with --also-as: connect asking for NAME2 in SNI, print the certificate the server chose;
//   5. connect with the first connection's session: resumed, skipping the certificate exchange?
//   6. close the first connection (close_notify).
//
// Try it: `tls_server` (examples/tls_server.cpp) in one terminal, then the `tls_client ...` line it
// prints in another; or `tls_client example.org` against a real server.
// Shows: ssl_context::client, load_verify_locations, set_alpn_protocols,
// connect_options{.ssl, .server_hostname, .session, .ssl_handshake_timeout}, get_ssl_object(),
// getpeercert(), ssl_object::session(), session_reused(), ssl_certificate_verify_error.
// ctest-run-by: tls_server (examples/tls_server.check.cmake runs the two together)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

struct options {
  std::string host;
  std::uint16_t port = 443;
  std::vector<std::string> cafiles;            // --cafile, repeatable
  std::optional<std::string> server_hostname;  // --server-hostname; unset: HOST
  std::optional<std::string> echo;             // --echo
  std::optional<std::string> also_as;          // --also-as
};

// A line as received, without its line ending.
auto chomp(std::string line) -> std::string {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

auto amain(options o) -> asyncio::task<int> {
  auto ctx = asyncio::ssl_context::client();  // system trust store; verification + host-name check on
  for (const auto& file : o.cafiles) ctx.load_verify_locations(file);
  if (o.echo) {
    ctx.set_alpn_protocols({"h2", "http/1.1"});
  } else {
    ctx.set_alpn_protocols({"http/1.1"});  // all this client speaks of HTTP
  }
  asyncio::connect_options copts;
  copts.ssl = ctx;
  copts.server_hostname = o.server_hostname;  // SNI and the name checked
  copts.ssl_handshake_timeout = 10s;
  int errors = 0;

  // 1. The handshake, and what it negotiated.
  auto [reader, writer] = co_await asyncio::open_connection(o.host, o.port, copts);
  auto tls = writer.get_ssl_object();
  std::printf("negotiated %s, cipher %s, ALPN %s\n", tls->version().c_str(), tls->cipher().c_str(),
              tls->selected_alpn_protocol().value_or("(none)").c_str());
  if (auto cert = tls->getpeercert())
    std::printf("server certificate: %s (valid until %s)\n", cert->subject.c_str(), cert->not_after.c_str());

  // 2. One exchange. Reading also takes in a TLS 1.3 server's session ticket, sent after the
  // handshake: step 5 needs it.
  if (o.echo) {
    writer.write(*o.echo + "\n");
    co_await writer.drain();
    std::string line = co_await asyncio::wait_for(reader.readline(), 10s);
    std::printf("echo: %s\n", chomp(line).c_str());
    if (line != *o.echo + "\n") ++errors;
  } else {
    std::string name = o.server_hostname.value_or(o.host);
    writer.write("HEAD / HTTP/1.1\r\nHost: " + name + "\r\nConnection: close\r\n\r\n");
    co_await writer.drain();
    std::string line = co_await asyncio::wait_for(reader.readline(), 10s);
    std::printf("response: %s\n", chomp(line).c_str());
  }

  // 3. The same server under a name its certificate does not carry: the client refuses it.
  asyncio::connect_options wrong = copts;
  wrong.server_hostname = "wrong-name.invalid";
  try {
    auto [r, w] = co_await asyncio::open_connection(o.host, o.port, wrong);
    std::printf("wrong host name accepted?!\n");
    ++errors;
    w.close();
    co_await w.wait_closed();
  } catch (const asyncio::ssl_certificate_verify_error& e) {
    std::printf("wrong host name rejected: %s\n", e.what());
  } catch (const asyncio::ssl_error& e) {
    std::printf("wrong host name refused by the server: %s\n", e.what());  // e.g. unrecognized_name
  }

  // 4. SNI: under another name, a server with several certificates presents that name's (and it
  // must verify, as the first one did).
  if (o.also_as) {
    asyncio::connect_options as_other = copts;
    as_other.server_hostname = *o.also_as;
    auto [r, w] = co_await asyncio::open_connection(o.host, o.port, as_other);
    auto cert = w.get_ssl_object()->getpeercert();
    std::printf("as %s: server certificate %s\n", o.also_as->c_str(), cert ? cert->subject.c_str() : "(none)");
    w.close();
    co_await w.wait_closed();
  }

  // 5. Resumption: the first connection's session lets a new connection skip the certificate
  // exchange (if the server still accepts it; otherwise a full handshake, and "no").
  if (auto session = tls->session()) {
    asyncio::connect_options resume = copts;
    resume.session = session;
    auto [r, w] = co_await asyncio::open_connection(o.host, o.port, resume);
    std::printf("resumed the first session: %s\n", w.get_ssl_object()->session_reused() ? "yes" : "no");
    w.close();
    co_await w.wait_closed();
  } else {
    std::printf("no session to resume (the server sent no ticket)\n");
  }

  // 6. close() sends close_notify, then closes the socket.
  writer.close();
  co_await writer.wait_closed();
  std::printf("closed cleanly\n");
  co_return errors;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  options o;
  int positional = 0;
  bool bad = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--cafile" && has_value) o.cafiles.emplace_back(argv[++i]);
    else if (arg == "--server-hostname" && has_value) o.server_hostname = argv[++i];
    else if (arg == "--echo" && has_value) o.echo = argv[++i];
    else if (arg == "--also-as" && has_value) o.also_as = argv[++i];
    else if (arg.rfind("--", 0) == 0) bad = true;  // unknown option, or no value after it
    else if (positional++ == 0) o.host = arg;
    else if (positional == 2) o.port = static_cast<std::uint16_t>(std::atoi(arg.c_str()));
    else bad = true;
  }
  if (bad || positional == 0) {
    std::fprintf(stderr,
                 "usage: tls_client HOST [PORT] [--cafile PATH]... [--server-hostname NAME] [--echo LINE]"
                 " [--also-as NAME2]\n");
    return 2;
  }
  try {
    return asyncio::run(amain(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_client: %s\n", e.what());
    return 1;
  }
}
