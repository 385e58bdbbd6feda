#pragma once
// transport: a stream connection driven by a protocol's callbacks (Python's asyncio.Transport as
// the selector event loop implements it), and the functions that make one: create_connection,
// create_server, create_unix_connection, create_unix_server, connect_accepted_socket, and for
// pipes connect_read_pipe and connect_write_pipe.
//
// A transport sits on the same connection state as the streams (net/detail/stream_transport.hpp):
// writes, the write buffer, its water marks and TLS are the streams'. Reading is a task per
// connection that receives into the protocol's buffer (buffered_protocol::get_buffer) or a 64 KiB
// buffer of the transport's and calls the protocol; a second task waits for the connection to close
// and then calls connection_lost. The callbacks and their rules are in net/protocol.hpp.
//
// Ownership: the factory returns std::shared_ptr<P> or std::unique_ptr<P> (P derived from
// asyncio::protocol or asyncio::buffered_protocol). The transport is held by its own tasks until
// connection_lost has returned, and holds the protocol until then; the caller may drop both. The
// loop cancels the transport's tasks when it shuts down (asyncio::run's end), which aborts the
// connection and calls connection_lost(nullptr).
//
// Example: an echo server and a client on loopback (doc-test: compile-only, it serves until the
// client closes):
//
//   struct echo : asyncio::protocol {
//     std::shared_ptr<asyncio::transport> t;
//     void connection_made(asyncio::transport& tr) override { t = tr.shared_from_this(); }
//     void data_received(std::string_view data) override { t->write(data); }
//   };
//   auto make_echo = [] { return std::make_shared<echo>(); };
//   auto srv = co_await asyncio::create_server(make_echo, "127.0.0.1", 0);
//   auto [tr, proto] = co_await asyncio::create_connection(make_echo, "127.0.0.1", srv.port());
//   tr->write("hello");
#include <any>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/net/connection.hpp>
#include <asyncio/net/protocol.hpp>
#include <asyncio/net/server.hpp>
#include <asyncio/net/socket.hpp>
#include <asyncio/net/ssl_object.hpp>
#include <asyncio/net/detail/stream_transport.hpp>
#include <asyncio/sync/event.hpp>

namespace asyncio {

namespace detail {
struct transport_access;
}

/// A stream connection whose events go to a protocol (Python's asyncio.Transport). Made by
/// create_connection, create_server and their Unix and accepted-socket forms; always held by a
/// std::shared_ptr (shared_from_this() works inside connection_made).
///
/// Thread safety: loop-affine; call it on its loop's thread (from another thread, through
/// event_loop::call_soon_threadsafe).
class transport : public std::enable_shared_from_this<transport> {
 public:
  transport(const transport&) = delete;
  auto operator=(const transport&) -> transport& = delete;
  ~transport();

  /// Sends or buffers data, never blocking (Python's write). Above the high-water mark the
  /// protocol's pause_writing is called, from inside this call. Ignored once the transport is
  /// closing or lost. A send error is fatal: the transport is aborted and connection_lost gets
  /// the os_error (connection_reset_error, broken_pipe_error...).
  /// Throws: invalid_state_error after write_eof() (Python's RuntimeError), or on a read pipe's
  /// transport (Python's read pipe transport has no write).
  void write(std::string_view data);
  /// Writes each element of a range of string-like values (Python's writelines).
  template <class Range>
  void writelines(const Range& lines) {
    for (const auto& l : lines) write(std::string_view(l));
  }
  /// writelines({"a", "b"}).
  void writelines(std::initializer_list<std::string_view> lines) {
    for (std::string_view l : lines) write(l);
  }
  /// Shuts down the writing side once the buffer is sent (half-close; Python's write_eof). Does
  /// nothing if already closing. On TLS it sends close_notify, then the FIN (see stream_writer).
  void write_eof();
  /// True: every stream transport here supports write_eof (Python's can_write_eof).
  [[nodiscard]] auto can_write_eof() const noexcept -> bool { return true; }
  /// Stops reading at once and closes the connection once the write buffer is sent; then
  /// connection_lost(nullptr) is called from the loop (Python's close). Idempotent.
  void close() noexcept;
  /// Closes at once, dropping the write buffer; connection_lost(nullptr) follows from the loop
  /// (Python's abort).
  void abort() noexcept;
  /// True once close() or abort() was called or the connection was lost (Python's is_closing).
  [[nodiscard]] auto is_closing() const noexcept -> bool;

  /// Stops calling data_received until resume_reading (Python's pause_reading). Idempotent; does
  /// nothing on a closing transport.
  void pause_reading() noexcept;
  /// Calls data_received again after pause_reading (Python's resume_reading). Idempotent.
  void resume_reading() noexcept;
  /// True unless reading is paused or the transport is closing (Python's is_reading).
  [[nodiscard]] auto is_reading() const noexcept -> bool;

  /// Sets the water marks of the write buffer (Python's set_write_buffer_limits): high unset = 64
  /// KiB, or 4 * low when low is set; low unset = high / 4. pause_writing is called at once if the
  /// buffer is already above the new high-water mark.
  /// Throws: std::invalid_argument unless high >= low (Python's ValueError).
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt);
  /// Bytes buffered and not yet sent (Python's get_write_buffer_size).
  [[nodiscard]] auto get_write_buffer_size() const noexcept -> std::size_t;
  /// The water marks as (low, high), Python's order (get_write_buffer_limits).
  [[nodiscard]] auto get_write_buffer_limits() const noexcept -> std::pair<std::size_t, std::size_t>;

  /// The peer's address (Python's get_extra_info("peername")); empty for an unnamed Unix peer.
  [[nodiscard]] auto peername() const -> address;
  /// The local address (get_extra_info("sockname")).
  [[nodiscard]] auto sockname() const -> address;
  /// The socket's fd, -1 once closed (get_extra_info("socket").fileno()).
  [[nodiscard]] auto fileno() const noexcept -> int;
  /// The TLS state, or nullopt for a plain connection (get_extra_info("ssl_object")).
  [[nodiscard]] auto get_ssl_object() const -> std::optional<ssl_object>;
  /// Python's get_extra_info by name, with the names and types of stream_writer::get_extra_info.
  [[nodiscard]] auto get_extra_info(std::string_view name) const -> std::any;

  /// The current protocol; null once connection_lost has returned (Python's get_protocol).
  [[nodiscard]] auto get_protocol() const noexcept -> std::shared_ptr<base_protocol> { return protocol_; }
  /// Switches the protocol that receives the next callbacks (Python's set_protocol); connection_made
  /// is not called on it.
  /// Throws: std::invalid_argument if p is null, or neither a protocol nor a buffered_protocol
  /// (any base_protocol for a write pipe's transport).
  void set_protocol(std::shared_ptr<base_protocol> p);

 private:
  friend struct detail::transport_access;
  transport(std::shared_ptr<detail::stream_transport> t, std::shared_ptr<base_protocol> p);
  explicit transport(std::shared_ptr<detail::stream_transport> t);  // the protocol is set next

  std::shared_ptr<detail::stream_transport> t_;
  std::shared_ptr<base_protocol> protocol_;
  bool read_only_ = false;   // connect_read_pipe: no writing; EOF always closes
  bool write_only_ = false;  // connect_write_pipe: no reading; any base_protocol
  protocol* plain_ = nullptr;           // protocol_ as a protocol, or null
  buffered_protocol* buffered_ = nullptr;  // protocol_ as a buffered_protocol, or null
  std::unique_ptr<char[]> rbuf_;        // the receive buffer of a plain protocol
  task_handle<void> reader_;
  event resume_;                        // set by resume_reading
  std::exception_ptr error_;            // what connection_lost will get
  bool paused_ = false;                 // pause_reading
  bool protocol_paused_ = false;        // pause_writing was called, resume_writing not yet
  bool lost_ = false;                   // connection_lost was called (or is being called)
};

/// What create_connection returns (Python's (transport, protocol) tuple); use with structured
/// bindings: auto [tr, proto] = co_await asyncio::create_connection(...).
template <class P>
struct connection_pair {
  std::shared_ptr<asyncio::transport> transport;
  std::shared_ptr<P> protocol;
};

namespace detail {

template <class R>
struct protocol_pointer : std::false_type {};
template <class P>
struct protocol_pointer<std::shared_ptr<P>> : std::true_type {
  using type = P;
};
template <class P, class D>
struct protocol_pointer<std::unique_ptr<P, D>> : std::true_type {
  using type = P;
};

/// A callable with no arguments returning std::shared_ptr<P> or std::unique_ptr<P>, P derived
/// from protocol or buffered_protocol.
template <class F>
concept stream_protocol_factory =
    std::invocable<F&> && protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::value &&
    (std::derived_from<typename protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type, protocol> ||
     std::derived_from<typename protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type,
                       buffered_protocol>);

/// As stream_protocol_factory for any base_protocol (connect_write_pipe).
template <class F>
concept base_protocol_factory =
    std::invocable<F&> && protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::value &&
    std::derived_from<typename protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type, base_protocol>;

template <class F>
using factory_protocol_t = typename protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type;

using erased_protocol_factory = std::function<std::shared_ptr<base_protocol>()>;

template <class F>
auto erase_protocol_factory(F f) -> erased_protocol_factory {
  return [f = std::move(f)]() mutable -> std::shared_ptr<base_protocol> { return std::shared_ptr<factory_protocol_t<F>>(f()); };
}

/// The non-template halves (src/net/transport.cpp). The protocol is returned beside the transport:
/// the transport may have dropped it already (connection_lost can run before the caller resumes).
using erased_connection_pair = std::pair<std::shared_ptr<transport>, std::shared_ptr<base_protocol>>;
auto connect_protocol(erased_protocol_factory factory, std::string host, std::uint16_t port, connect_options options)
    -> task<erased_connection_pair>;
auto connect_unix_protocol(erased_protocol_factory factory, std::string path, connect_options options)
    -> task<erased_connection_pair>;
auto accept_protocol(erased_protocol_factory factory, socket sock, server_options options)
    -> task<erased_connection_pair>;
auto protocol_server_cb(erased_protocol_factory factory) -> client_connected_cb;
auto connect_pipe(erased_protocol_factory factory, int fd, bool read_end) -> task<erased_connection_pair>;
/// A read-only (read_end) or write-only pipe transport with protocol p on t, a stream_transport of
/// kind pipe (subprocess pipes, process/subprocess_transport.hpp). connection_made has run.
auto start_pipe_transport(std::shared_ptr<stream_transport> t, std::shared_ptr<base_protocol> p, bool read_end)
    -> std::shared_ptr<transport>;

template <class P>
auto make_connection_pair(erased_connection_pair c) -> connection_pair<P> {
  return connection_pair<P>{std::move(c.first), std::static_pointer_cast<P>(std::move(c.second))};
}

}  // namespace detail

/// Connects to host:port as create_connection(host, port, options) does (Happy Eyeballs, TLS when
/// options.ssl is set, as open_connection), calls factory() for the protocol, and starts the
/// transport; connection_made has run when it resumes (Python's loop.create_connection).
///
/// Cancellation: safe; nothing is connected if it raises (the factory is called only after the
/// connection and the TLS handshake succeeded).
/// Resumes: once connected and connection_made has returned.
/// Throws: as open_connection (os_error subclasses, gai_error, ssl_error...); what the factory
/// throws (the connection is then closed).
template <class F>
  requires detail::stream_protocol_factory<F>
auto create_connection(F factory, std::string host, std::uint16_t port, connect_options options = {})
    -> task<connection_pair<detail::factory_protocol_t<F>>> {
  detail::erased_protocol_factory f = detail::erase_protocol_factory(std::move(factory));
  auto t = co_await detail::connect_protocol(std::move(f), std::move(host), port, std::move(options));
  co_return detail::make_connection_pair<detail::factory_protocol_t<F>>(std::move(t));
}

/// create_connection over a Unix stream socket at path (Python's loop.create_unix_connection);
/// options as open_unix_connection(path, options).
///
/// Cancellation: safe. Resumes: once connected and connection_made has returned.
/// Throws: file_not_found_error, connection_refused_error, other os_error subclasses; with TLS as
/// open_unix_connection.
template <class F>
  requires detail::stream_protocol_factory<F>
auto create_unix_connection(F factory, std::string path, connect_options options = {})
    -> task<connection_pair<detail::factory_protocol_t<F>>> {
  detail::erased_protocol_factory f = detail::erase_protocol_factory(std::move(factory));
  auto t = co_await detail::connect_unix_protocol(std::move(f), std::move(path), std::move(options));
  co_return detail::make_connection_pair<detail::factory_protocol_t<F>>(std::move(t));
}

/// Starts a TCP server whose connections each get a protocol from factory() and a transport
/// (Python's loop.create_server). Returns the usual asyncio::server: close(), wait_closed() (which
/// waits until every connection_lost was called), shutdown(grace) (aborts the connections still
/// open after grace: connection_lost(nullptr)), close_clients(), abort_clients(). With
/// options.ssl the handshake runs before the factory is called. An exception thrown by the factory
/// is reported through the loop's exception handler and the connection closed.
///
/// Cancellation: safe (nothing is listening if it raises).
/// Throws: os_error subclasses (address_in_use...), gai_error.
template <class F>
  requires detail::stream_protocol_factory<F>
auto create_server(F factory, std::string host, std::uint16_t port, server_options options = {}) -> task<server> {
  client_connected_cb cb = detail::protocol_server_cb(detail::erase_protocol_factory(std::move(factory)));
  co_return co_await start_server(std::move(cb), std::move(host), port, std::move(options));
}

/// create_server on a Unix stream socket at path (Python's loop.create_unix_server); the path
/// handling is start_unix_server's.
///
/// Cancellation: safe. Throws: os_error subclasses.
template <class F>
  requires detail::stream_protocol_factory<F>
auto create_unix_server(F factory, std::string path, server_options options = {}) -> task<server> {
  client_connected_cb cb = detail::protocol_server_cb(detail::erase_protocol_factory(std::move(factory)));
  co_return co_await start_unix_server(std::move(cb), std::move(path), std::move(options));
}

/// Wraps a socket accepted elsewhere (a connected stream socket) in a transport with a protocol
/// from factory() (Python's loop.connect_accepted_socket). options.ssl: a server-side TLS handshake
/// (with options.ssl_handshake_timeout) runs first; the other options do not apply.
///
/// Cancellation: safe; during the handshake the socket is closed.
/// Resumes: at once without TLS, else after the handshake; connection_made has returned.
/// Throws: as start_server's handshake (ssl_error, timeout_error...); std::invalid_argument for a
/// closed socket. The socket is closed when it throws.
template <class F>
  requires detail::stream_protocol_factory<F>
auto connect_accepted_socket(F factory, socket sock, server_options options = {})
    -> task<connection_pair<detail::factory_protocol_t<F>>> {
  detail::erased_protocol_factory f = detail::erase_protocol_factory(std::move(factory));
  auto t = co_await detail::accept_protocol(std::move(f), std::move(sock), std::move(options));
  co_return detail::make_connection_pair<detail::factory_protocol_t<F>>(std::move(t));
}

/// Wraps the read end of a pipe (or a socket or character device), fd, in a read-only transport
/// with a protocol from factory() (Python's loop.connect_read_pipe). The transport owns fd and
/// closes it. EOF calls eof_received and then closes the transport whatever it returns (as
/// Python's read pipe transport); write() throws. pause_reading/resume_reading work.
///
/// Cancellation: nothing to cancel (it does not suspend).
/// Resumes: at once; connection_made has returned.
/// Throws: std::invalid_argument if fd is not a pipe, socket or character device (Python's
/// ValueError "Pipe transport is for pipes/sockets only."); os_error if fd is invalid. fd is
/// closed when it throws.
template <class F>
  requires detail::stream_protocol_factory<F>
auto connect_read_pipe(F factory, int fd) -> task<connection_pair<detail::factory_protocol_t<F>>> {
  detail::erased_protocol_factory f = detail::erase_protocol_factory(std::move(factory));
  auto t = co_await detail::connect_pipe(std::move(f), fd, true);
  co_return detail::make_connection_pair<detail::factory_protocol_t<F>>(std::move(t));
}

/// Wraps the write end of a pipe, fd, in a write-only transport whose protocol (any
/// base_protocol: connection_made, pause_writing, resume_writing, connection_lost) comes from
/// factory() (Python's loop.connect_write_pipe). The transport owns fd; write_eof() and close()
/// close it once the buffer is sent. A reader that went away shows as a broken_pipe_error from the
/// next write that reaches the pipe: the transport is then aborted and connection_lost gets it
/// (Python also notices it while idle, by watching the fd).
///
/// Cancellation: nothing to cancel (it does not suspend).
/// Resumes: at once; connection_made has returned.
/// Throws: as connect_read_pipe.
template <class F>
  requires detail::base_protocol_factory<F>
auto connect_write_pipe(F factory, int fd) -> task<connection_pair<detail::factory_protocol_t<F>>> {
  detail::erased_protocol_factory f = detail::erase_protocol_factory(std::move(factory));
  auto t = co_await detail::connect_pipe(std::move(f), fd, false);
  co_return detail::make_connection_pair<detail::factory_protocol_t<F>>(std::move(t));
}

}  // namespace asyncio
