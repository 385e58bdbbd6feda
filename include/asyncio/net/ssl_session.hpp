#pragma once
// ssl_session: a finished TLS session that a later connection to the same server can resume
// (Python's ssl.SSLSession), skipping the certificate exchange and the key agreement's round trip.
// Example (doc-test: compile-only, it needs a TLS server; opts holds an ssl_context):
//
//   auto [r, w] = co_await asyncio::open_connection("db.example", 5433, opts);
//   std::string greeting = co_await r.readline();          // at least one read: a TLS 1.3 server's
//                                                          // session ticket has arrived
//   std::optional<asyncio::ssl_session> s = w.get_ssl_object()->session();
//   asyncio::connect_options again = opts;
//   again.session = s;                                     // nullopt: a full handshake
//   auto [r2, w2] = co_await asyncio::open_connection("db.example", 5433, again);
//   bool fast = w2.get_ssl_object()->session_reused();
//
// Resumption is only attempted, never required: a server that forgot the session, a ticket past its
// lifetime or a different context makes OpenSSL fall back to a full handshake (with the usual
// certificate verification), so a stale session is harmless.
#include <chrono>
#include <memory>

struct ssl_session_st;  // OpenSSL's SSL_SESSION

namespace asyncio {

/// A TLS session to resume (Python's ssl.SSLSession). A shared, immutable handle; copies refer to
/// the same session.
///
/// Thread safety: may be used by connections on any loop (OpenSSL sessions are reference counted
/// and immutable once made).
class ssl_session {
 public:
  /// Wraps a session; takes over one reference (OpenSSL's SSL_SESSION_free releases it).
  explicit ssl_session(std::shared_ptr<ssl_session_st> s) noexcept : s_(std::move(s)) {}

  /// True if a handshake could resume from it (OpenSSL's SSL_SESSION_is_resumable).
  [[nodiscard]] auto is_resumable() const noexcept -> bool;
  /// True if the server sent a session ticket for it (Python's has_ticket).
  [[nodiscard]] auto has_ticket() const noexcept -> bool;
  /// How long the server said its ticket stays valid (Python's ticket_lifetime_hint); 0 if unknown.
  [[nodiscard]] auto ticket_lifetime_hint() const noexcept -> std::chrono::seconds;
  /// The OpenSSL SSL_SESSION* (owned by this handle and its copies).
  [[nodiscard]] auto native_handle() const noexcept -> ssl_session_st* { return s_.get(); }

 private:
  std::shared_ptr<ssl_session_st> s_;
};

}  // namespace asyncio
