#pragma once
// stream_reader: the reading half of a connection (Python's asyncio.StreamReader).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <asyncio/core/generator.hpp>
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
  /// Bytes up to and including the first of several separators to appear (Python 3.13's
  /// readuntil with a tuple): the match that ends first wins; of two ending at the same byte, the
  /// shorter. The limit and EOF rules are those of the one-separator form, applied to that match.
  /// Example (doc-test: compile-only, it needs a peer):
  ///
  ///   std::string line = co_await r.readuntil("\r\n", "\n");   // either line ending
  ///   std::vector<std::string> seps{"\r\n", "\n", "\r"};          // or a list made beforehand
  ///   std::string next = co_await r.readuntil(seps);
  ///
  /// Not `readuntil({"\r\n", "\n"})`: g++ 12 rejects a braced list inside co_await ("array used
  /// as initializer"), and the braces would not tell a list from one std::string anyway.
  /// Cancellation: safe, as every read.
  /// Resumes: when a separator arrived, or at EOF.
  /// Throws: std::invalid_argument if `separators` is empty or holds an empty string;
  /// limit_overrun_error (data stays buffered); incomplete_read_error (partial = what was
  /// buffered, consumed) at EOF; os_error subclasses.
  auto readuntil(std::vector<std::string> separators) ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// readuntil("\r\n", "\n"): two or more separators as arguments (Python's tuple).
  template <class... More>
    requires(std::is_convertible_v<More, std::string_view> && ...)
  auto readuntil(std::string_view first, std::string_view second, More&&... more) ASYNCIO_LIFETIMEBOUND
      -> task<std::string> {
    std::vector<std::string> separators{std::string(first), std::string(second)};
    (separators.emplace_back(std::string_view(more)), ...);
    return readuntil(std::move(separators));
  }
  /// One line including "\n"; at EOF the partial last line, then "" (Python's readline).
  /// Throws: limit_overrun_error (the line is dropped), os_error subclasses.
  auto readline() ASYNCIO_LIFETIMEBOUND -> task<std::string>;
  /// The lines of the stream, each including its "\n", until EOF (Python's `async for line in
  /// reader`); a last line without "\n" is yielded as it is. The generator holds its own reference
  /// to the connection, so it may outlive this reader object.
  /// Example (doc-test: compile-only, it needs a peer):
  ///
  ///   auto lines = r.lines();
  ///   while (auto line = co_await lines.next()) {   // async for line in reader:
  ///     w.write(*line);
  ///   }
  ///
  /// Cancellation: raised from next(), as readline's: the bytes of the unfinished line stay
  /// buffered for the next read; the generator is then finished.
  /// Resumes: next() resumes when a whole line or EOF arrived.
  /// Throws: from next(): limit_overrun_error (the line is dropped, as readline; the generator is
  /// then finished), os_error subclasses.
  [[nodiscard]] auto lines() const -> generator<std::string>;
  /// True once EOF was received and the buffer is empty (Python's at_eof()).
  [[nodiscard]] auto at_eof() const noexcept -> bool { return t_->eof() && t_->buffered() == 0; }
  /// Bytes buffered and not yet read.
  [[nodiscard]] auto buffered() const noexcept -> std::size_t { return t_->buffered(); }

  [[nodiscard]] auto transport() const noexcept -> const std::shared_ptr<detail::stream_transport>& { return t_; }

 private:
  std::shared_ptr<detail::stream_transport> t_;
};

}  // namespace asyncio
