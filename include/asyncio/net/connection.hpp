#pragma once
// Opening connections: create_connection (Happy Eyeballs, RFC 8305), open_connection and
// open_unix_connection (Python's asyncio.open_connection / open_unix_connection).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/net/socket.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_session.hpp>
#include <asyncio/net/stream_reader.hpp>
#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

/// Options of create_connection / open_connection (Python's loop.create_connection arguments).
struct connect_options {
  /// Happy Eyeballs: start the next address's attempt after this delay if the previous one has not
  /// answered (RFC 8305 recommends 250 ms). Unset: try the addresses one after the other.
  std::optional<duration> happy_eyeballs_delay{};
  /// Reorder addresses so that families alternate, starting with the first family returned
  /// (RFC 8305 §4). 0 = keep getaddrinfo's order; defaults to 1 when happy_eyeballs_delay is set.
  int interleave = -1;
  /// AF_INET or AF_INET6 to restrict the lookup; AF_UNSPEC for both.
  int family = AF_UNSPEC;
  /// Bind the socket to this local address first (e.g. a source port); unset: any.
  address local_addr{};
  /// Read buffer limit of the streams (readline/readuntil); open_connection only.
  std::size_t limit = 64 * 1024;
  /// TLS: open_connection runs a TLS handshake with this client context before returning the
  /// streams (Python's ssl=). Unset: plain TCP. create_connection ignores it.
  std::optional<ssl_context> ssl{};
  /// The name sent in SNI and checked against the server's certificate (Python's
  /// server_hostname). Unset: the host argument. "": no SNI and no host-name check (the context
  /// must have check_hostname off). IP addresses are checked against the certificate's IP entries
  /// and not sent in SNI (RFC 6066).
  std::optional<std::string> server_hostname{};
  /// Deadline of the TLS handshake (Python's ssl_handshake_timeout, 60 s); nullopt = none.
  std::optional<duration> ssl_handshake_timeout = std::chrono::seconds(60);
  /// TLS: a session of an earlier connection to resume (ssl_object::session(); Python's session=).
  /// Only an attempt: if the server does not resume it, a full handshake runs.
  std::optional<ssl_session> session{};
};

/// Connects to host:port, trying each address getaddrinfo returns (staggered by
/// happy_eyeballs_delay when set; the first to connect wins and the others are cancelled). The
/// socket has TCP_NODELAY set, as Python's transports do.
///
/// Cancellation: safe; every attempt is cancelled and its socket closed.
/// Resumes: when one attempt connected, or all failed.
/// Throws: the attempt's os_error (connection_refused_error...) when there is one address, else
/// os_error "multiple exceptions" listing them; gai_error if the name does not resolve.
auto create_connection(std::string host, std::uint16_t port, connect_options options = {}) -> task<socket>;

/// Connects to the first of `addresses` that answers, with the same staggered race as the
/// host-name form (that form resolves the name and calls this one). Useful when the addresses are
/// known already, e.g. from an earlier getaddrinfo or a configuration file.
///
/// Cancellation: safe; every attempt is cancelled and its socket closed.
/// Resumes: when one attempt connected, or all failed.
/// Throws: as the host-name form; std::invalid_argument if `addresses` is empty.
auto create_connection(std::vector<address> addresses, connect_options options = {}) -> task<socket>;

/// A connected pair of streams. Use with structured bindings: auto [reader, writer] = co_await ...
struct stream_pair {
  stream_reader reader;
  stream_writer writer;
};

/// Opens a TCP connection and returns its streams (Python's asyncio.open_connection). With
/// options.ssl, the TLS handshake (SNI, ALPN, certificate and host-name verification) completes
/// before the streams are returned; the streams then carry plaintext over TLS, and
/// writer.get_ssl_object() tells what was negotiated.
///
/// Cancellation: safe, as create_connection; during the handshake the connection is aborted.
/// Resumes: once connected (and, with TLS, once the handshake completed).
/// Throws: as create_connection; with TLS also ssl_certificate_verify_error (unknown CA, expired,
/// host-name mismatch), ssl_error (protocol failure, alert from the server), timeout_error after
/// ssl_handshake_timeout, connection_reset_error if the server closes during the handshake,
/// std::invalid_argument for a server context or check_hostname with server_hostname "".
/// Thread safety: loop-affine.
auto open_connection(std::string host, std::uint16_t port, connect_options options = {}) -> task<stream_pair>;

/// Opens a Unix stream socket connection to path (Python's asyncio.open_unix_connection).
///
/// Cancellation: safe.
/// Throws: file_not_found_error, connection_refused_error, other os_error subclasses.
auto open_unix_connection(std::string path, std::size_t limit = 64 * 1024) -> task<stream_pair>;

/// Opens a Unix stream socket connection to path with open_connection's options (Python's
/// open_unix_connection(path, limit=, ssl=, server_hostname=, ssl_handshake_timeout=)): limit, ssl,
/// server_hostname, ssl_handshake_timeout and session apply; the address options are ignored.
/// With options.ssl, server_hostname must be set, since a path is no host name (Python requires it
/// too); "" sends no SNI and needs a context with check_hostname off.
/// Example (doc-test: compile-only, it needs a TLS server on the socket):
///
///   asyncio::connect_options tls{.ssl = asyncio::ssl_context::client(), .server_hostname = "localhost"};
///   auto [reader, writer] = co_await asyncio::open_unix_connection("/run/app.sock", tls);
///
/// Cancellation: safe; during the handshake the connection is aborted.
/// Resumes: once connected (and, with TLS, once the handshake completed).
/// Throws: as the form above; with TLS as open_connection; std::invalid_argument if options.ssl
/// is set and options.server_hostname is not.
auto open_unix_connection(std::string path, connect_options options) -> task<stream_pair>;

/// Wraps an already connected stream socket (TCP, Unix, one end of a socketpair) in streams,
/// running a TLS handshake first when options.ssl is set (Python's open_connection(sock=, ssl=));
/// limit, ssl, server_hostname, ssl_handshake_timeout and session apply. Without TLS it is
/// make_streams(sock, options.limit).
///
/// Cancellation: safe; during the handshake the connection is aborted (the socket is closed).
/// Resumes: at once without TLS, else once the handshake completed.
/// Throws: as open_connection's handshake; std::invalid_argument if options.ssl is set and
/// options.server_hostname is not. The socket is closed when it throws.
auto open_connection(socket sock, connect_options options) -> task<stream_pair>;

/// Wraps a connected socket in streams (Python's open_connection(sock=...)).
auto make_streams(socket sock, std::size_t limit = 64 * 1024) -> stream_pair;

}  // namespace asyncio
