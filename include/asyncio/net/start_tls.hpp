#pragma once
// start_tls: upgrades an open plain connection to TLS in place (STARTTLS in SMTP, IMAP, LDAP,
// PostgreSQL...; Python 3.11's StreamWriter.start_tls / loop.start_tls).
//
// Example (doc-test: compile-only, it needs a mail server), with the options named in a statement
// of their own (g++ 12 destroys a braced temporary inside co_await twice, docs/toolchain.md §5.5):
//
//   w.write("STARTTLS\r\n");
//   std::string reply = co_await r.readline();             // "220 go ahead"
//   asyncio::start_tls_options tls{.server_hostname = "mail.example.org"};
//   co_await asyncio::start_tls(w, asyncio::ssl_context::client(), tls);
//   // r and w now read and write plaintext through TLS
#include <optional>
#include <string>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_session.hpp>
#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

/// Options of start_tls.
struct start_tls_options {
  /// Accept (server side, with an ssl_context::server()) instead of connect.
  bool server_side = false;
  /// Client side: the name sent in SNI and checked against the certificate. Unset: the name the
  /// connection was opened with is not known to the stream, so it must be given when the context
  /// checks host names (Python requires it too).
  std::optional<std::string> server_hostname{};
  /// Deadline of the handshake (Python's ssl_handshake_timeout, 60 s); nullopt = none.
  std::optional<duration> ssl_handshake_timeout = std::chrono::seconds(60);
  /// Client side: a session of an earlier connection to resume (ssl_object::session()).
  std::optional<ssl_session> session{};
};

/// Sends what is buffered in plain text, then runs the TLS handshake on the connection; afterwards
/// the same stream_reader and stream_writer (and every copy of them) carry TLS. Bytes the reader
/// had already buffered but nobody read are taken as the peer's first TLS bytes. No read may be in
/// progress meanwhile (as in Python).
///
/// Cancellation: safe; the connection is aborted (closed at once): a half-done handshake cannot
/// be resumed.
/// Resumes: once the handshake completed (both sides agreed), or it failed.
/// Throws: ssl_certificate_verify_error, ssl_error (closed after the alert is sent), timeout_error
/// at the deadline, connection_reset_error if the peer closes; invalid_state_error if the stream
/// already uses TLS; std::invalid_argument for a context of the wrong side, check_hostname
/// without server_hostname, or a session on the server side. After any of these the connection is closed.
/// Thread safety: loop-affine.
auto start_tls(stream_writer writer, ssl_context ctx, start_tls_options options = {}) -> task<void>;

}  // namespace asyncio
