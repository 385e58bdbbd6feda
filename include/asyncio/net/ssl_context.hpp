#pragma once
// ssl_context: TLS settings shared by many connections (Python's ssl.SSLContext), backed by an
// OpenSSL SSL_CTX. Pass it in the options of open_connection or start_server (connect_options::ssl,
// server_options::ssl), or to start_tls(writer, ctx). Name the options in a statement of their own:
// g++ 12 destroys a braced options temporary inside co_await twice (docs/toolchain.md §5.5).
// Example (doc-test: compile-only, it needs a TLS server and certificate files):
//
//   auto ctx = asyncio::ssl_context::client();           // system CAs, verification + host name ON
//   asyncio::connect_options opts{.ssl = ctx};
//   auto [r, w] = co_await asyncio::open_connection("example.org", 443, opts);
//
//   asyncio::server_options server_opts{.ssl = asyncio::ssl_context::server("cert.pem", "key.pem")};
//   auto srv = co_await asyncio::start_server(handle_client, "127.0.0.1", 8443, server_opts);
//
// Defaults follow Python's ssl.create_default_context(): a client context verifies the peer's
// certificate against the system trust store and checks the host name; a server context asks no
// client certificate. TLS 1.2 is the minimum version; renegotiation and compression are off.
// Security only ever gets weaker by an explicit call (set_check_hostname(false), then
// set_verify_mode(verify_mode::none)).
//
// An ssl_context is a handle: copies share the same settings (as Python objects do). Configure it
// before the first connection uses it. OpenSSL itself is not exposed by this header; native_handle()
// gives the SSL_CTX* for settings not wrapped here.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace asyncio {

/// Protocol versions for set_minimum_version / set_maximum_version (Python's ssl.TLSVersion).
enum class tls_version { tls1_2, tls1_3 };

/// Whether and how the peer's certificate is verified (Python's ssl.CERT_NONE/OPTIONAL/REQUIRED).
/// On a server, optional/required ask the client for a certificate (required fails without one).
enum class verify_mode { none, optional, required };

namespace detail {
struct ssl_context_state;
}

/// TLS settings (Python's ssl.SSLContext). See the file comment.
///
/// Thread safety: configure from one thread; once configured, connections on any loop may share it
/// (OpenSSL's SSL_CTX is thread-safe for use).
class ssl_context {
 public:
  /// A client context (Python's ssl.create_default_context(Purpose.SERVER_AUTH)): system trust
  /// store loaded, verify_mode::required, check_hostname on, TLS 1.2 minimum.
  /// Throws: ssl_error if OpenSSL cannot create the context.
  static auto client() -> ssl_context;
  /// A server context (Python's create_default_context(Purpose.CLIENT_AUTH) + load_cert_chain):
  /// verify_mode::none (no client certificate asked), TLS 1.2 minimum, certificate chain and
  /// private key from PEM files.
  /// Throws: ssl_error if a file cannot be read or the key does not match the certificate.
  static auto server(const std::string& cert_file, const std::string& key_file) -> ssl_context;
  /// A server context without a certificate yet (call load_cert_chain before serving).
  static auto server() -> ssl_context;

  /// Adds trusted CA certificates from a PEM file and/or a hashed directory (Python's
  /// load_verify_locations(cafile, capath)). Either may be empty, not both.
  /// Throws: ssl_error if nothing could be loaded.
  void load_verify_locations(const std::string& cafile, const std::string& capath = {});
  /// Adds trusted CA certificates given as PEM text (Python's load_verify_locations(cadata=...)).
  /// Throws: ssl_error if the text holds no certificate.
  void load_verify_cadata(std::string_view pem);
  /// Loads the system's trust store (Python's load_default_certs / set_default_verify_paths).
  /// client() already did.
  void load_default_certs();
  /// Sets this side's certificate chain (PEM, leaf first) and private key (Python's
  /// load_cert_chain). key_file empty: the key is in cert_file. password: for an encrypted key.
  /// Throws: ssl_error on an unreadable file, a wrong password or a key that does not match.
  void load_cert_chain(const std::string& cert_file, const std::string& key_file = {},
                       const std::string& password = {});
  /// Protocols offered (client) or accepted (server) through ALPN, most preferred first, e.g.
  /// {"h2", "http/1.1"} (Python's set_alpn_protocols). A server picks the first of its own list
  /// that the client offers; with no overlap the handshake goes on without ALPN (as Python).
  /// Throws: std::invalid_argument for an empty or over-long (> 255 bytes) name.
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  /// Sets the verification mode (Python's verify_mode).
  /// Throws: std::invalid_argument when setting verify_mode::none while check_hostname is on
  /// (turn check_hostname off first, as Python demands).
  void set_verify_mode(asyncio::verify_mode mode);
  [[nodiscard]] auto get_verify_mode() const noexcept -> asyncio::verify_mode;
  /// Whether a client checks that the certificate is valid for server_hostname (Python's
  /// check_hostname). Turning it on also turns verify_mode none into required, as Python does.
  void set_check_hostname(bool on);
  [[nodiscard]] auto check_hostname() const noexcept -> bool;
  /// Lowest/highest protocol version (Python's minimum_version/maximum_version).
  /// Throws: ssl_error if OpenSSL refuses.
  void set_minimum_version(tls_version v);
  void set_maximum_version(tls_version v);
  /// TLS 1.2 cipher list in OpenSSL's syntax (Python's set_ciphers).
  /// Throws: ssl_error if no cipher matches.
  void set_ciphers(const std::string& ciphers);
  /// True (default, as Python's asyncio): a peer that closes TCP without sending close_notify reads
  /// as an ordinary EOF. False: reading raises ssl_eof_error then (a truncation attack cannot pass
  /// for a complete message, for protocols that do not frame their own end).
  void set_suppress_ragged_eofs(bool on) noexcept;
  [[nodiscard]] auto suppress_ragged_eofs() const noexcept -> bool;
  /// Chooses, per connection, the context whose certificate a server presents (Python's
  /// sni_callback): one listener serving several host names.
  ///
  /// `fn(server_name)` runs during the handshake with the name the client sent in SNI ("" when it
  /// sent none). It returns a server context whose certificate chain, key and ALPN protocols serve
  /// this connection, or nullopt to keep this context's. Verification settings and protocol
  /// versions stay this context's. If fn throws, the handshake fails with an unrecognized_name
  /// alert (the client sees ssl_error) and no client_connected_cb runs. Pass nullptr to remove it.
  /// Do not capture this context itself in fn (the context would own itself and never be freed).
  ///
  /// Thread safety: fn runs on the loop thread of the connection; a context shared by servers on
  /// several loops calls it from each of them.
  /// Throws: std::invalid_argument on a client context.
  void set_sni_callback(std::function<std::optional<ssl_context>(std::string_view server_name)> fn);

  /// The OpenSSL SSL_CTX* (for settings not wrapped here). Owned by the context.
  [[nodiscard]] auto native_handle() const noexcept -> ssl_ctx_st*;
  /// True for a context made by server().
  [[nodiscard]] auto is_server() const noexcept -> bool;

  /// Internal: the shared state, and a handle made from it.
  [[nodiscard]] auto state() const noexcept -> const std::shared_ptr<detail::ssl_context_state>& { return s_; }
  explicit ssl_context(std::shared_ptr<detail::ssl_context_state> s) noexcept : s_(std::move(s)) {}

 private:
  std::shared_ptr<detail::ssl_context_state> s_;
};

}  // namespace asyncio
