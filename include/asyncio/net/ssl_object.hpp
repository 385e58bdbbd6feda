#pragma once
// ssl_object: what a TLS connection negotiated (Python's ssl.SSLObject, as returned by
// writer.get_extra_info("ssl_object")). Obtain it with stream_writer::get_ssl_object().
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asyncio/net/ssl_session.hpp>

struct ssl_st;  // OpenSSL's SSL

namespace asyncio {

namespace detail {
class stream_transport;
}

/// A certificate, decoded (the useful part of Python's getpeercert()).
struct certificate {
  /// Distinguished names in RFC 2253 form, e.g. "CN=localhost,O=Example".
  std::string subject;
  std::string issuer;
  /// subjectAltName entries as "DNS:localhost", "IP Address:127.0.0.1"...
  std::vector<std::string> subject_alt_names;
  /// Validity, as Python prints it: "Nov 21 07:00:00 2026 GMT".
  std::string not_before;
  std::string not_after;
  /// Serial number in upper-case hex.
  std::string serial_number;
  /// The certificate in PEM.
  std::string pem;
};

/// The TLS state of one connection. A handle: it keeps the connection's TLS session alive, so it
/// stays valid after the connection closed (the values then are those of the finished session).
/// None of the accessors suspends.
///
/// Throws (every accessor but native_handle): invalid_state_error if the stream does not use TLS,
/// which cannot happen for one obtained from stream_writer::get_ssl_object().
/// Thread safety: loop-affine (read it on the connection's loop).
class ssl_object {
 public:
  explicit ssl_object(std::shared_ptr<detail::stream_transport> t) noexcept : t_(std::move(t)) {}

  /// Negotiated protocol version: "TLSv1.2" or "TLSv1.3" (Python's version()).
  [[nodiscard]] auto version() const -> std::string;
  /// Negotiated cipher suite name, e.g. "TLS_AES_256_GCM_SHA384" (Python's cipher()[0]).
  [[nodiscard]] auto cipher() const -> std::string;
  /// Secret bits of the cipher (Python's cipher()[2]).
  [[nodiscard]] auto cipher_bits() const -> int;
  /// The ALPN protocol agreed on, or nullopt (Python's selected_alpn_protocol()).
  [[nodiscard]] auto selected_alpn_protocol() const -> std::optional<std::string>;
  /// Client side: the name sent in SNI and checked against the certificate. Server side: the name
  /// the client sent in SNI (Python exposes that only to an sni_callback). nullopt when none.
  [[nodiscard]] auto server_hostname() const -> std::optional<std::string>;
  /// The peer's certificate, decoded; nullopt if it sent none (a client, usually). As Python's
  /// getpeercert(), it is returned whether or not it was verified (verify_mode::none).
  [[nodiscard]] auto getpeercert() const -> std::optional<certificate>;
  /// True on the accepting side (Python's server_side).
  [[nodiscard]] auto server_side() const -> bool;
  /// True if the session was resumed from an earlier one (Python's session_reused).
  [[nodiscard]] auto session_reused() const -> bool;
  /// Client side: the session to resume in a later connection (connect_options::session), or
  /// nullopt while none is resumable. A TLS 1.3 server sends its ticket after the handshake, so
  /// the session appears once the client has read something; TLS 1.2 has it after the handshake.
  /// Server side: nullopt (servers resume through their own session cache and tickets).
  [[nodiscard]] auto session() const -> std::optional<ssl_session>;
  /// True once the peer's close_notify alert arrived (a clean TLS close, not a bare TCP FIN).
  [[nodiscard]] auto close_notify_received() const -> bool;
  /// The OpenSSL SSL* of the connection (owned by it).
  [[nodiscard]] auto native_handle() const noexcept -> ssl_st*;

 private:
  std::shared_ptr<detail::stream_transport> t_;
};

}  // namespace asyncio
