#pragma once
// The ends of a child process's stdin/stdout/stderr pipes, with the stream API of Python's
// StreamReader/StreamWriter (read, readline, readexactly, readuntil, at_eof; write, drain,
// write_eof, close, wait_closed).
//
// Stop-gap: these become asyncio::stream_reader / stream_writer (net layer) once those land; the
// methods here are the same names and signatures, so code written against process::std_out() and
// process::std_in() does not change. Until then they are a small pipe-only implementation.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <asyncio/core/task.hpp>

namespace asyncio {

/// Reads from a non-blocking pipe (the parent's end of a child's stdout or stderr).
///
/// Cancellation: every read is cancel-safe: cancelled while waiting for data, nothing was consumed
/// (data arriving later stays buffered for the next read).
/// Resumes: on the loop of the awaiting task.
/// Thread safety: loop-affine; one reading task at a time.
class pipe_reader {
 public:
  /// Takes ownership of `fd` (made non-blocking). `limit` bounds readline/readuntil (Python's 64 KiB).
  explicit pipe_reader(int fd, std::size_t limit = 64 * 1024);
  ~pipe_reader();
  pipe_reader(const pipe_reader&) = delete;
  auto operator=(const pipe_reader&) -> pipe_reader& = delete;

  /// Up to n bytes (at least one unless at EOF: then ""). n < 0 reads until EOF.
  /// Throws: os_error on a read error.
  auto read(std::ptrdiff_t n = -1) -> task<std::string>;
  /// One line including "\n"; at EOF the partial last line (or "").
  /// Throws: limit_overrun_error when no "\n" shows up within the limit (the data stays buffered).
  auto readline() -> task<std::string>;
  /// Exactly n bytes. Throws: incomplete_read_error (with the partial data) at EOF first.
  auto readexactly(std::size_t n) -> task<std::string>;
  /// Data up to and including `separator`.
  /// Throws: incomplete_read_error at EOF first; limit_overrun_error past the limit.
  auto readuntil(std::string separator = "\n") -> task<std::string>;
  /// True once EOF was reached and the buffer is empty.
  [[nodiscard]] auto at_eof() const noexcept -> bool { return eof_ && pos_ == buffer_.size(); }
  /// Closes the pipe now (the child then gets SIGPIPE/EPIPE if it writes more).
  void close() noexcept;
  [[nodiscard]] auto fileno() const noexcept -> int { return fd_; }

 private:
  auto fill() -> task<bool>;  // reads more into the buffer; false at EOF
  auto take(std::size_t n) -> std::string;
  [[nodiscard]] auto buffered() const noexcept -> std::size_t { return buffer_.size() - pos_; }

  int fd_;
  std::size_t limit_;
  std::string buffer_;
  std::size_t pos_ = 0;  // consumed prefix of buffer_
  bool eof_ = false;
};

/// Writes to a non-blocking pipe (the parent's end of a child's stdin).
///
/// write() never blocks: what the pipe does not take at once is buffered; drain() waits until the
/// buffer is written. A child that closed its stdin makes drain() throw broken_pipe_error (never a
/// SIGPIPE in this process).
/// Cancellation: drain() is cancel-safe: cancelled, the unwritten rest stays buffered.
/// Resumes: on the loop of the awaiting task.
/// Thread safety: loop-affine.
class pipe_writer {
 public:
  /// Takes ownership of `fd` (made non-blocking).
  explicit pipe_writer(int fd);
  ~pipe_writer();
  pipe_writer(const pipe_writer&) = delete;
  auto operator=(const pipe_writer&) -> pipe_writer& = delete;

  /// Queues data (writes at once what the pipe takes).
  /// Throws: broken_pipe_error (or another os_error) if an earlier write failed; error if closed.
  void write(std::string_view data);
  /// write() of each piece.
  void writelines(const std::vector<std::string>& lines);
  /// Waits until everything queued is written.
  /// Throws: broken_pipe_error if the reader went away; other os_error on failure.
  auto drain() -> task<void>;
  /// Pipes can be half-closed: close() is the EOF. True.
  [[nodiscard]] auto can_write_eof() const noexcept -> bool { return true; }
  /// Signals EOF to the child: closes the pipe. Unwritten buffered data is dropped (drain() first).
  void write_eof() noexcept { close(); }
  /// Closes the pipe; buffered data that drain() did not write is dropped.
  void close() noexcept;
  [[nodiscard]] auto is_closing() const noexcept -> bool { return fd_ < 0; }
  /// Returns at once (close() is synchronous for pipes); for the stream API.
  auto wait_closed() -> task<void>;
  /// Bytes queued but not yet written.
  [[nodiscard]] auto buffer_size() const noexcept -> std::size_t { return buffer_.size() - pos_; }
  [[nodiscard]] auto fileno() const noexcept -> int { return fd_; }

 private:
  void flush_some();  // writes what it can without blocking; records an error
  int fd_;
  std::string buffer_;
  std::size_t pos_ = 0;
  int error_ = 0;  // errno of the first failed write
};

}  // namespace asyncio
