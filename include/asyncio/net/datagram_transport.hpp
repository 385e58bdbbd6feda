#pragma once
// datagram_transport: a UDP socket driven by a datagram_protocol's callbacks (Python's
// _SelectorDatagramTransport), made by create_datagram_endpoint (Python's
// loop.create_datagram_endpoint). The callbacks and their rules are in net/protocol.hpp.
//
// A reader callback (event_loop::add_reader: level-triggered, as Python's selector loop, so that an
// ICMP error that is read once is not seen again) receives each datagram and calls
// datagram_received(data, sender); a receive error
// (connection_refused_error after an ICMP port unreachable on a connected socket) goes to
// error_received and reading goes on. sendto() sends at once; what the kernel does not take is
// queued and sent by a writer callback when the socket becomes writable, with pause_writing/resume_writing around the
// water marks (64 KiB / 16 KiB) as for streams. Ownership is as for stream transports
// (net/transport.hpp): the transport holds the protocol until connection_lost has returned.
//
// Example: a UDP echo on loopback (doc-test: compile-only, it needs a peer that sends):
//
//   struct udp_echo : asyncio::datagram_protocol {
//     std::shared_ptr<asyncio::datagram_transport> t;
//     void connection_made(asyncio::datagram_transport& tr) override { t = tr.shared_from_this(); }
//     void datagram_received(std::string_view data, const asyncio::address& from) override { t->sendto(data, from); }
//   };
//   auto make_udp_echo = [] { return std::make_shared<udp_echo>(); };
//   auto [tr, proto] = co_await asyncio::create_datagram_endpoint(make_udp_echo, asyncio::address::ipv4("127.0.0.1", 9999));
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/net/protocol.hpp>
#include <asyncio/net/socket.hpp>
#include <asyncio/sync/event.hpp>

namespace asyncio {

namespace detail {
struct datagram_access;
}

/// A UDP endpoint whose events go to a datagram_protocol (Python's asyncio.DatagramTransport).
/// Always held by a std::shared_ptr (shared_from_this() works inside connection_made).
///
/// Thread safety: loop-affine.
class datagram_transport : public std::enable_shared_from_this<datagram_transport> {
 public:
  datagram_transport(const datagram_transport&) = delete;
  auto operator=(const datagram_transport&) -> datagram_transport& = delete;
  ~datagram_transport();

  /// Sends data as one datagram to addr, or to the connected peer when addr is unset (Python's
  /// sendto). Never blocks: queued when the kernel's buffer is full. A send error (e.g.
  /// connection_refused_error from an earlier ICMP error, or an os_error for an unconnected
  /// socket without addr) goes to the protocol's error_received. Ignored once closing.
  /// Throws: std::invalid_argument if the transport is connected and addr is set and differs
  /// from the peer (Python's ValueError).
  void sendto(std::string_view data, std::optional<address> addr = std::nullopt);
  /// Stops receiving and closes once the queue is sent; connection_lost(nullptr) follows from the
  /// loop (Python's close). Idempotent.
  void close() noexcept;
  /// Closes at once, dropping the queue; connection_lost(nullptr) follows (Python's abort).
  void abort() noexcept;
  /// True once close() or abort() was called or the transport was lost.
  [[nodiscard]] auto is_closing() const noexcept -> bool { return closing_; }
  /// Bytes queued and not yet sent (Python's get_write_buffer_size).
  [[nodiscard]] auto get_write_buffer_size() const noexcept -> std::size_t { return queued_; }
  /// The water marks as (low, high) (Python's get_write_buffer_limits).
  [[nodiscard]] auto get_write_buffer_limits() const noexcept -> std::pair<std::size_t, std::size_t> {
    return {low_, high_};
  }
  /// As transport::set_write_buffer_limits.
  /// Throws: std::invalid_argument unless high >= low.
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt);
  /// The local address (get_extra_info("sockname")).
  [[nodiscard]] auto sockname() const -> address { return local_; }
  /// The connected peer, empty when not connected (get_extra_info("peername")).
  [[nodiscard]] auto peername() const -> address { return remote_; }
  /// The socket's fd, -1 once closed.
  [[nodiscard]] auto fileno() const noexcept -> int { return sock_.fileno(); }
  /// The current protocol; null once connection_lost has returned.
  [[nodiscard]] auto get_protocol() const noexcept -> std::shared_ptr<datagram_protocol> { return protocol_; }
  /// Switches the protocol that receives the next callbacks.
  /// Throws: std::invalid_argument if p is null.
  void set_protocol(std::shared_ptr<datagram_protocol> p);

 private:
  friend struct detail::datagram_access;
  datagram_transport(socket sock, std::shared_ptr<datagram_protocol> p);

  struct queued_datagram {
    std::string data;
    std::optional<address> to;
  };
  socket sock_;
  address local_, remote_;
  std::shared_ptr<datagram_protocol> protocol_;
  std::deque<queued_datagram> queue_;
  std::size_t queued_ = 0;
  std::size_t high_ = 64 * 1024, low_ = 16 * 1024;
  std::unique_ptr<char[]> rbuf_;
  bool reading_ = false, writing_ = false;  // add_reader / add_writer are registered
  event closed_;  // set when the socket may be closed: connection_lost follows
  std::exception_ptr error_;
  bool closing_ = false;
  bool protocol_paused_ = false;
  bool lost_ = false;
};

/// Options of create_datagram_endpoint (Python's keyword arguments of the same names).
struct datagram_endpoint_options {
  /// SO_REUSEPORT before binding: several endpoints may share the local port.
  bool reuse_port = false;
  /// SO_BROADCAST: datagrams may be sent to broadcast addresses.
  bool allow_broadcast = false;
  /// AF_INET or AF_INET6 for an endpoint with neither address (an unbound socket that sends with
  /// sendto(data, addr)); otherwise taken from the addresses.
  int family = AF_UNSPEC;
};

/// What create_datagram_endpoint returns (Python's (transport, protocol) tuple).
template <class P>
struct datagram_endpoint {
  std::shared_ptr<asyncio::datagram_transport> transport;
  std::shared_ptr<P> protocol;
};

namespace detail {

template <class R>
struct datagram_protocol_pointer : std::false_type {};
template <class P>
struct datagram_protocol_pointer<std::shared_ptr<P>> : std::bool_constant<std::derived_from<P, datagram_protocol>> {
  using type = P;
};
template <class P, class D>
struct datagram_protocol_pointer<std::unique_ptr<P, D>>
    : std::bool_constant<std::derived_from<P, datagram_protocol>> {
  using type = P;
};

/// A callable with no arguments returning std::shared_ptr<P> or std::unique_ptr<P>, P derived
/// from datagram_protocol.
template <class F>
concept datagram_protocol_factory =
    std::invocable<F&> && datagram_protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::value;

template <class F>
using datagram_factory_protocol_t =
    typename datagram_protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type;

/// Starts the transport on sock with protocol p (src/net/datagram_transport.cpp); connection_made
/// has run when it returns.
auto start_datagram_transport(socket sock, std::shared_ptr<datagram_protocol> p) -> std::shared_ptr<datagram_transport>;
/// The socket of create_datagram_endpoint: options applied, bound to local, connected to remote.
auto open_datagram_socket(const address& local, const address& remote, const datagram_endpoint_options& options)
    -> socket;

}  // namespace detail

/// Creates a UDP endpoint bound to `local` (if set; port 0 picks one) and connected to `remote` (if
/// set), calls factory() for the protocol and starts the transport (Python's
/// loop.create_datagram_endpoint with resolved addresses). connection_made has run when it
/// resumes.
///
/// Cancellation: nothing to cancel (it does not suspend).
/// Resumes: at once.
/// Throws: std::invalid_argument if neither address nor options.family is set, or the addresses'
/// families differ; address_in_use_error and other os_error subclasses from bind/connect/setsockopt;
/// what the factory throws (the socket is then closed).
template <class F>
  requires detail::datagram_protocol_factory<F>
auto create_datagram_endpoint(F factory, address local, address remote = {}, datagram_endpoint_options options = {})
    -> task<datagram_endpoint<detail::datagram_factory_protocol_t<F>>> {
  using P = detail::datagram_factory_protocol_t<F>;
  socket s = detail::open_datagram_socket(local, remote, options);
  std::shared_ptr<P> p;
  try {
    p = std::shared_ptr<P>(factory());
  } catch (...) {
    s.close();
    throw;
  }
  auto t = detail::start_datagram_transport(std::move(s), p);
  co_return datagram_endpoint<P>{std::move(t), std::move(p)};
}

/// create_datagram_endpoint on a datagram socket made elsewhere (Python's sock= argument); it may
/// be bound and connected already.
///
/// Cancellation: nothing to cancel. Resumes: at once.
/// Throws: std::invalid_argument for a closed socket; what the factory throws (the socket is then
/// closed).
template <class F>
  requires detail::datagram_protocol_factory<F>
auto create_datagram_endpoint(F factory, socket sock) -> task<datagram_endpoint<detail::datagram_factory_protocol_t<F>>> {
  using P = detail::datagram_factory_protocol_t<F>;
  std::shared_ptr<P> p;
  try {
    p = std::shared_ptr<P>(factory());
  } catch (...) {
    sock.close();
    throw;
  }
  auto t = detail::start_datagram_transport(std::move(sock), p);
  co_return datagram_endpoint<P>{std::move(t), std::move(p)};
}

}  // namespace asyncio
