#pragma once
// stream_writer: the writing half of a connection (Python's asyncio.StreamWriter).
#include <any>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>

#include <sys/types.h>

#include <asyncio/core/task.hpp>
#include <asyncio/net/ssl_object.hpp>
#include <asyncio/net/detail/stream_transport.hpp>

namespace asyncio {

/// Writes to a connection. Obtained from open_connection / start_server. Move-only.
///
/// write() never suspends: it sends at once what the kernel takes and buffers the rest, which the
/// loop sends when the socket becomes writable. drain() applies back-pressure: it suspends while the
/// buffer is above the high-water mark (default 64 KiB) until it falls to the low-water mark
/// (16 KiB), so a writer that drains after each write holds at most high-water + one write.
/// Send errors (peer reset, EPIPE) never raise SIGPIPE (MSG_NOSIGNAL); they surface in drain().
/// Thread safety: loop-affine.
class stream_writer {
 public:
  stream_writer() = default;
  explicit stream_writer(std::shared_ptr<detail::stream_transport> t) noexcept : t_(std::move(t)) {}

  /// Sends or buffers data (Python's write). Ignored after an error or close (drain reports it).
  /// Throws: invalid_state_error after write_eof(), or while sendfile() runs.
  void write(std::string_view data) {
    if (t_->sendfile_active) [[unlikely]] throw_sendfile_active();
    t_->write(data);
  }
  /// Writes each element of a range of string-like values (Python's writelines).
  template <class Range>
  void writelines(const Range& lines) {
    for (const auto& l : lines) write(std::string_view(l));
  }
  /// writelines({"a", "b"}).
  void writelines(std::initializer_list<std::string_view> lines) {
    for (std::string_view l : lines) write(l);
  }
  /// Sends count bytes of the file fd from offset (count unset: up to its end) on the connection
  /// and returns the bytes sent (Python's loop.sendfile(transport, file, offset, count)). Bytes
  /// already buffered go first. A plain socket uses sendfile(2) (sock_sendfile: no copy through
  /// user memory); TLS and pipes read the file in 64 KiB chunks and write them with back-pressure
  /// (Python's fallback). Reads from the file block the loop as sendfile(2) itself does: fine for
  /// files in the page cache, as in Python. Afterwards, even when it throws, the file's position
  /// is offset + the bytes sent. The fd stays open and is the caller's.
  /// Example (doc-test: compile-only, it needs a peer and a file):
  ///
  ///   #include <fcntl.h>
  ///   #include <unistd.h>
  ///   int file = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  ///   std::size_t sent = co_await w.sendfile(file);
  ///   ::close(file);
  ///   std::printf("%zu bytes sent\n", sent);
  ///
  /// Cancellation: safe, but part of the file may have been sent (the position says how much).
  /// Resumes: once every byte is sent or buffered, or the file ended.
  /// Throws: invalid_state_error if the stream is closing or another sendfile runs;
  /// std::invalid_argument if offset < 0 or count is 0; connection_reset_error,
  /// broken_pipe_error and other os_error subclasses if the connection fails or closes meanwhile.
  auto sendfile(int fd, off_t offset = 0, std::optional<std::size_t> count = std::nullopt) -> task<std::size_t>;
  /// Waits until the write buffer is below the low-water mark if it went above the high-water
  /// mark; returns at once otherwise (Python's drain).
  /// Cancellation: safe; buffered bytes are still sent.
  /// Resumes: when the buffer drained to the low-water mark, or the connection failed/closed.
  /// Throws: connection_reset_error, broken_pipe_error... if a send failed.
  [[nodiscard]] auto drain() const noexcept -> detail::stream_wait_awaiter {
    return detail::stream_wait_awaiter(t_.get(), false);
  }
  /// Shuts down the write side once buffered bytes are sent (half-close; Python's write_eof).
  /// On TLS (unlike Python, which raises NotImplementedError) it sends close_notify, then the TCP
  /// FIN, and reading goes on until the peer's own close_notify or FIN: TLS 1.3 defines this
  /// half-close (RFC 8446 §6.1). Peers that treat close_notify as a full close (Python's asyncio,
  /// most HTTP servers) answer with their own close_notify and close, which the reader sees as EOF.
  void write_eof() { t_->write_eof(); }
  [[nodiscard]] auto can_write_eof() const noexcept -> bool { return true; }
  /// Closes the connection after buffered bytes are sent (Python's close). Does not suspend.
  /// On TLS a close_notify alert follows the buffered data (the peer's reply is not awaited).
  void close() noexcept { t_->close(); }
  /// Closes at once, dropping buffered bytes.
  void abort() noexcept { t_->abort(); }
  [[nodiscard]] auto is_closing() const noexcept -> bool { return t_->is_closing(); }
  /// Waits until the connection is closed (Python's wait_closed).
  /// Cancellation: safe. Resumes: once the socket is closed.
  [[nodiscard]] auto wait_closed() const noexcept -> detail::stream_wait_awaiter {
    return detail::stream_wait_awaiter(t_.get(), true);
  }
  /// Sets the high/low water marks (Python's transport.set_write_buffer_limits).
  /// Throws: std::invalid_argument if low > high.
  void set_write_buffer_limits(std::size_t high, std::size_t low) { t_->set_write_buffer_limits(high, low); }
  /// Bytes buffered and not yet sent (Python's transport.get_write_buffer_size).
  [[nodiscard]] auto get_write_buffer_size() const noexcept -> std::size_t { return t_->write_buffer_size(); }
  /// "peername" and "sockname" give an asyncio::address, "socket" the fd (int); for a child
  /// process's pipe, "pipe" gives the fd and the others are empty; on TLS also
  /// "ssl_object" (asyncio::ssl_object), "peercert" (std::optional<asyncio::certificate>),
  /// "cipher" (std::string), "selected_alpn_protocol" (std::optional<std::string>) and
  /// "sslcontext" (asyncio::ssl_context); otherwise empty (Python's get_extra_info).
  /// Throws: nothing beyond std::bad_alloc.
  [[nodiscard]] auto get_extra_info(std::string_view name) const -> std::any;
  /// The TLS state of the connection (negotiated version, cipher, ALPN, peer certificate), or
  /// nullopt for a plain connection (Python's get_extra_info("ssl_object")).
  [[nodiscard]] auto get_ssl_object() const -> std::optional<ssl_object>;

  [[nodiscard]] auto transport() const noexcept -> const std::shared_ptr<detail::stream_transport>& { return t_; }

 private:
  [[noreturn]] static void throw_sendfile_active();
  std::shared_ptr<detail::stream_transport> t_;
};

}  // namespace asyncio
