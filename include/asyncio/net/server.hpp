#pragma once
// server: listening sockets that run a coroutine per connection (Python's asyncio.Server), made by
// start_server / start_unix_server.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/stream_reader.hpp>
#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

/// The per-connection coroutine: client_connected_cb in Python. It runs as its own task; when it
/// returns (or throws) the connection is closed. An exception is reported through the loop's
/// exception handler.
using client_connected_cb = std::function<task<void>(stream_reader, stream_writer)>;

/// Options of start_server (Python's start_server / loop.create_server arguments).
struct server_options {
  int backlog = 4096;
  /// SO_REUSEADDR (Python's default on Unix).
  bool reuse_address = true;
  /// SO_REUSEPORT: several listeners (e.g. one per loop of a multi-loop runtime) share the port.
  bool reuse_port = false;
  /// AF_INET / AF_INET6 to restrict; AF_UNSPEC listens on every address the host resolves to.
  int family = AF_UNSPEC;
  /// Read buffer limit of the streams (readline/readuntil).
  std::size_t limit = 64 * 1024;
  /// Start accepting at once (false: call start_serving() or serve_forever()).
  bool start_serving = true;
  /// Pause before retrying accept after EMFILE/ENFILE (Python waits 1 s).
  duration accept_retry_delay = std::chrono::milliseconds(100);
  /// TLS: every accepted connection runs a TLS handshake with this server context before the
  /// handler starts (Python's ssl=). A connection whose handshake fails or times out is closed
  /// and never reaches the handler; the failure is reported through the loop's exception handler
  /// in debug mode only (as Python logs it only then: port scanners must not flood the log).
  std::optional<ssl_context> ssl{};
  /// Deadline of each TLS handshake (Python's ssl_handshake_timeout, 60 s); nullopt = none.
  std::optional<duration> ssl_handshake_timeout = std::chrono::seconds(60);
  /// SO_KEEPALIVE on every accepted connection (Python 3.13's keep_alive=), so that the kernel
  /// probes idle peers and a vanished one ends in an error instead of a connection open forever.
  bool keep_alive = false;
};

namespace detail {
struct server_state;
}

/// A running server. Move-only. Closing: close() stops accepting; wait_closed() waits until the
/// connection handlers finished; shutdown(grace) does both and cancels handlers still running after
/// the grace period. A server destroyed while open is reported ("unclosed server") and closed.
///
/// Thread safety: loop-affine.
class server {
 public:
  server() = default;
  explicit server(std::shared_ptr<detail::server_state> s) noexcept : s_(std::move(s)) {}
  server(server&&) noexcept = default;
  auto operator=(server&& o) noexcept -> server&;
  ~server();

  /// The addresses the server listens on (Python's [s.getsockname() for s in server.sockets]).
  [[nodiscard]] auto sockets() const -> std::vector<address>;
  /// The port of the first listener (handy with port 0).
  [[nodiscard]] auto port() const -> std::uint16_t;
  [[nodiscard]] auto is_serving() const noexcept -> bool;
  /// Starts accepting if start_serving was false. Idempotent.
  void start_serving();
  /// Stops accepting and closes the listening sockets; running handlers continue (Python 3.12).
  void close();
  /// Closes every live connection after its buffered bytes are sent (Python 3.13's close_clients).
  /// Their handlers go on running and see EOF or a closed writer; the server keeps accepting
  /// unless close() was called (Python calls it on every connection's transport in the same way).
  void close_clients();
  /// Closes every live connection at once, dropping the bytes not yet sent (Python 3.13's
  /// abort_clients). Handlers go on running, as with close_clients().
  void abort_clients();
  /// The loop the server was made on (Python's Server.get_loop()).
  /// Throws: invalid_state_error for an empty (moved-from) server.
  [[nodiscard]] auto get_loop() const -> event_loop&;
  /// Cancels every running handler task.
  void cancel_handlers();
  /// Number of connections whose handler is still running.
  [[nodiscard]] auto active_connections() const noexcept -> std::size_t;
  /// Waits until the server is closed and every handler has finished (Python 3.12's wait_closed).
  /// Cancellation: safe. Resumes: on the server's loop.
  auto wait_closed() -> task<void>;
  /// Serves until cancelled, then closes the server (Python's serve_forever).
  /// Cancellation: closes the server and re-raises.
  auto serve_forever() -> task<void>;
  /// Graceful close: stop accepting, wait up to `grace` for the handlers to finish, then cancel
  /// those still running and wait for them.
  /// Cancellation: safe; the server stays closed.
  auto shutdown(duration grace) -> task<void>;

  /// Internal: the Unix socket file to remove on close (start_unix_server).
  void unix_path_for_cleanup(std::string path);

 private:
  std::shared_ptr<detail::server_state> s_;
};

/// Starts a TCP server on host:port (Python's asyncio.start_server). host "" listens on every
/// interface (IPv4 and IPv6); port 0 picks a free port (see server::port()).
///
/// Cancellation: safe (nothing is listening if it raises).
/// Throws: os_error subclasses (address in use...), gai_error.
auto start_server(client_connected_cb cb, std::string host, std::uint16_t port, server_options options = {})
    -> task<server>;

/// Starts a Unix stream socket server on path (Python's asyncio.start_unix_server). A stale socket
/// file at path is removed first; the file is removed again on close. The options are those of
/// start_server, TLS included (options.ssl: each connection's handshake runs before its handler);
/// reuse_address, reuse_port and family do not apply to a path.
/// Throws: os_error subclasses.
auto start_unix_server(client_connected_cb cb, std::string path, server_options options = {}) -> task<server>;

/// Starts a server on sockets that are already bound (e.g. by a multi-loop runtime).
auto serve_sockets(client_connected_cb cb, std::vector<socket> listeners, server_options options = {}) -> server;

}  // namespace asyncio
