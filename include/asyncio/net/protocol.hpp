#pragma once
// Protocols: the callback interface of transports (Python's asyncio.BaseProtocol, Protocol,
// BufferedProtocol and DatagramProtocol). A protocol is an object whose virtual member functions the
// loop calls as things happen on a transport (net/transport.hpp, net/datagram_transport.hpp); it is
// the style of code written against loop.create_connection / loop.create_server. Coroutine code
// should prefer the streams (net/stream_reader.hpp, net/stream_writer.hpp).
//
// Ownership: a protocol factory returns std::shared_ptr<P> or std::unique_ptr<P>; the transport
// holds the protocol (as a shared_ptr) from connection_made until connection_lost has returned,
// then drops it, so a protocol that keeps a std::shared_ptr<transport> (the usual way to answer)
// forms no cycle that outlives the connection.
//
// When callbacks run: always on the loop's thread, from the loop (never from inside a call the
// protocol made on its transport, except pause_writing, which write() calls when the buffer crosses
// the high-water mark, and a datagram transport's error_received, which sendto() calls when the
// send fails, both as in Python), one at a time. Order: connection_made first; then any number
// of data_received (or get_buffer/buffer_updated); then at most one eof_received; connection_lost
// exactly once, last; nothing after it. pause_writing/resume_writing alternate, starting with
// pause_writing, between connection_made and connection_lost.
//
// A callback may call any member of its transport (write, close, abort, pause_reading,
// set_protocol...); the transport and the protocol stay alive until the callback returns. It must
// not block the loop (no blocking I/O, no waiting: start a task for that), and should not throw.
// If connection_made, data_received, eof_received, get_buffer or buffer_updated throws, the
// exception is reported through the loop's exception handler ("Fatal error:
// protocol.data_received() call failed." ...) and the transport is aborted, so
// connection_lost(that exception) follows (Python's _fatal_error). An exception from
// pause_writing, resume_writing, connection_lost, datagram_received or error_received is reported
// the same way and the transport goes on (as Python's loop reports an exception escaping a
// callback). A datagram transport's connection_made that throws aborts it too; a subprocess
// transport's is only reported.
#include <cstddef>
#include <exception>
#include <span>
#include <string_view>

#include <asyncio/net/address.hpp>

namespace asyncio {

class transport;
class datagram_transport;

/// The callbacks every protocol has (Python's asyncio.BaseProtocol). All default to doing nothing.
/// Thread safety: called on the transport's loop thread only; a protocol is loop-affine.
class base_protocol {
 public:
  base_protocol() = default;
  base_protocol(const base_protocol&) = delete;
  auto operator=(const base_protocol&) -> base_protocol& = delete;
  virtual ~base_protocol();

  /// The transport reached its peer (Python's connection_made). `t` stays valid until
  /// connection_lost returns; keep t.shared_from_this() to use it from elsewhere.
  virtual void connection_made(transport& t);
  /// The datagram form of connection_made (Python passes the datagram transport to the same name).
  virtual void connection_made(datagram_transport& t);
  /// Called exactly once, last: `error` is null after a clean close (close(), EOF with
  /// eof_received returning false, abort()), or the exception that ended the connection (a
  /// connection_reset_error, an exception thrown by another callback...).
  virtual void connection_lost(std::exception_ptr error);
  /// The write buffer went above the high-water mark: stop producing (Python's pause_writing).
  virtual void pause_writing();
  /// The write buffer drained to the low-water mark after pause_writing.
  virtual void resume_writing();
};

/// A stream protocol that receives bytes (Python's asyncio.Protocol).
/// Thread safety: as base_protocol.
class protocol : public base_protocol {
 public:
  /// Bytes arrived; `data` is valid only during the call (Python's data_received).
  virtual void data_received(std::string_view data);
  /// The peer closed its writing side (Python's eof_received). Return false (the default) to close
  /// the transport, true to keep it open for writing (half-close); no more data arrives either way.
  virtual auto eof_received() -> bool;
};

/// A stream protocol that supplies its own receive buffer, saving a copy (Python's
/// asyncio.BufferedProtocol): get_buffer(size_hint) returns where to put the next bytes, then
/// buffer_updated(n) says how many of them were written there.
/// Thread safety: as base_protocol.
class buffered_protocol : public base_protocol {
 public:
  /// A non-empty buffer for the next receive; size_hint is the size wanted (0: any size). The
  /// buffer must stay valid until buffer_updated. An empty buffer is a fatal error
  /// (invalid_state_error "get_buffer() returned an empty buffer", as Python's RuntimeError).
  virtual auto get_buffer(std::size_t size_hint) -> std::span<char> = 0;
  /// n bytes were written at the start of the last get_buffer's buffer.
  virtual void buffer_updated(std::size_t n) = 0;
  /// As protocol::eof_received.
  virtual auto eof_received() -> bool;
};

/// A protocol for datagram (UDP) transports (Python's asyncio.DatagramProtocol).
/// Thread safety: as base_protocol.
class datagram_protocol : public base_protocol {
 public:
  using base_protocol::connection_made;
  /// A datagram arrived from addr; `data` is valid only during the call.
  virtual void datagram_received(std::string_view data, const address& addr);
  /// A send or receive failed with an os_error (e.g. connection_refused_error after an ICMP port
  /// unreachable on a connected socket); the transport stays open (Python's error_received).
  virtual void error_received(std::exception_ptr error);
};

}  // namespace asyncio
