#pragma once
// stream_reader: the reading half of a connection (Python's asyncio.StreamReader).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <asyncio/core/task.hpp>
#include <asyncio/net/detail/stream_transport.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

/// Default buffer limit for readline/readuntil (Python's 64 KiB).
inline constexpr std::size_t default_stream_limit = 64 * 1024;

/// Reads from a connection. Obtained from open_connection / start_server. Move-only; one task
/// reads at a time (as in Python, concurrent reads raise).
///
/// Every read method is a coroutine; reads pull from the socket on demand (there is no background
/// reading), so an idle reader costs nothing and the kernel's buffer applies back-pressure.
/// Cancellation (all methods): safe; bytes already taken from the socket stay in the buffer for
/// the next read, nothing is lost.
/// Thread safety: loop-affine.
class stream_reader {
 public:
  stream_reader() = default;
  explicit stream_reader(std::shared_ptr<detail::stream_transport> t) noexcept : t_(std::move(t)) {}

  /// Up to n bytes; "" at EOF (Python's read(n)). n == 0 returns "".
  /// Resumes: when at least one byte or EOF arrived.
  /// Throws: connection_reset_error and other os_error subclasses.
  auto read(std::size_t n) ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// Everything until EOF (Python's read() / read(-1)).
  /// Throws: os_error subclasses.
  auto read() ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// Up to buf.size() bytes into buf; 0 at EOF. No allocation: the bytes go straight from the
  /// socket into buf when nothing is buffered (the zero-copy twin of read(n)).
  /// Throws: os_error subclasses.
  auto read_into(std::span<char> buf ASYNCIO_LIFETIMEBOUND) ASYNCIO_LIFETIMEBOUND -> task<std::size_t>;
  /// Exactly n bytes (Python's readexactly).
  /// Throws: incomplete_read_error (with the partial bytes) if EOF comes first; os_error subclasses.
  auto readexactly(std::size_t n) ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// Bytes up to and including separator (Python's readuntil).
  /// Throws: limit_overrun_error if the separator is not within the limit (data stays buffered when
  /// the separator was found beyond the limit; otherwise the limit's worth is dropped);
  /// incomplete_read_error (partial = what was buffered, consumed) at EOF; os_error subclasses.
  auto readuntil(std::string separator = "\n") ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// One line including "\n"; at EOF the partial last line, then "" (Python's readline).
  /// Throws: limit_overrun_error (the line is dropped), os_error subclasses.
  auto readline() ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// True once EOF was received and the buffer is empty (Python's at_eof()).
  [[nodiscard]] auto at_eof() const noexcept -> bool { return t_->eof() && t_->buffered() == 0; }
  /// Bytes buffered and not yet read.
  [[nodiscard]] auto buffered() const noexcept -> std::size_t { return t_->buffered(); }

  [[nodiscard]] auto transport() const noexcept -> const std::shared_ptr<detail::stream_transport>& { return t_; }

 private:
  std::shared_ptr<detail::stream_transport> t_;
};

}  // namespace asyncio
