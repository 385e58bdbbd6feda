// Pipe ends of child processes (see the header: a stop-gap for net's stream types).
#include <asyncio/errors.hpp>
#include <asyncio/process/pipe.hpp>

#include "process/internal_fd_wait.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>

namespace asyncio {
namespace {

constexpr std::size_t read_chunk = 64 * 1024;

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// write() that reports EPIPE without a SIGPIPE killing the process. A pipe has no MSG_NOSIGNAL, and
// ignoring SIGPIPE process-wide would change the program's behaviour behind its back; instead
// SIGPIPE is blocked in this thread around the write, and the one this write raised (a thread-directed
// signal) is consumed before unblocking. A SIGPIPE that was already pending is left alone.
auto write_no_sigpipe(int fd, const char* data, std::size_t size) -> ssize_t {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t old;
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  bool already_blocked = sigismember(&old, SIGPIPE);
  bool was_pending = false;
  if (!already_blocked) {
    sigset_t pending;
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
  }
  ssize_t n = ::write(fd, data, size);
  int err = errno;
  if (!already_blocked) {
    if (n < 0 && err == EPIPE && !was_pending) {
      timespec zero{};
      while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  errno = err;
  return n;
}

}  // namespace

// ---- pipe_reader -------------------------------------------------------------------------------------

pipe_reader::pipe_reader(int fd, std::size_t limit) : fd_(fd), limit_(limit) { set_nonblocking(fd_); }

pipe_reader::~pipe_reader() { close(); }

void pipe_reader::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  eof_ = true;
}

auto pipe_reader::fill() -> task<bool> {
  if (eof_) co_return false;
  // Compact the consumed prefix once it dominates, so a long stream of readline() stays O(n).
  if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  for (;;) {
    std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + read_chunk);
    ssize_t n = ::read(fd_, buffer_.data() + old_size, read_chunk);
    int err = errno;
    buffer_.resize(old_size + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n > 0) co_return true;
    if (n == 0) {
      eof_ = true;
      co_return false;
    }
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) throw_os_error(err, "read");
    // A named awaiter, not a temporary: g++ 12 mishandles awaiter temporaries here (LESSONS §5).
    detail::fd_wait readable(fd_, false);
    co_await readable;
    if (fd_ < 0) co_return false;  // closed meanwhile
  }
}

auto pipe_reader::take(std::size_t n) -> std::string {
  n = std::min(n, buffered());
  std::string out(buffer_.data() + pos_, n);
  pos_ += n;
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  return out;
}

auto pipe_reader::read(std::ptrdiff_t n) -> task<std::string> {
  if (n == 0) co_return std::string();
  if (n < 0) {
    for (;;) {
      bool more = co_await fill();  // not `while (co_await fill())`: g++ 12 loses the loop (LESSONS §5)
      if (!more) break;
    }
    co_return take(buffered());
  }
  if (buffered() == 0) {
    bool more = co_await fill();
    (void)more;
  }
  co_return take(static_cast<std::size_t>(n));
}

auto pipe_reader::readuntil(std::string separator) -> task<std::string> {
  if (separator.empty()) throw std::invalid_argument("separator must not be empty");
  std::size_t searched = 0;  // bytes of the buffer already searched
  for (;;) {
    std::string_view view(buffer_.data() + pos_, buffered());
    std::size_t from = searched >= separator.size() ? searched - separator.size() + 1 : 0;
    std::size_t at = view.find(separator, from);
    if (at != std::string_view::npos) {
      std::size_t length = at + separator.size();
      if (length > limit_) throw limit_overrun_error("separator is found, but chunk is longer than limit", at);
      co_return take(length);
    }
    searched = view.size();
    if (searched > limit_) throw limit_overrun_error("separator is not found, and chunk exceeds the limit", searched);
    bool more = co_await fill();  // a named result: no co_await in conditions (g++ 12)
    if (!more) {
      std::string partial = take(buffered());
      throw incomplete_read_error(std::move(partial), 0);
    }
  }
}

auto pipe_reader::readline() -> task<std::string> {
  try {
    co_return co_await readuntil("\n");
  } catch (const incomplete_read_error& e) {
    co_return e.partial();  // the last line without "\n", or "" at EOF (Python's readline)
  }
}

auto pipe_reader::readexactly(std::size_t n) -> task<std::string> {
  while (buffered() < n) {
    bool more = co_await fill();
    if (!more) {
      std::string partial = take(buffered());
      throw incomplete_read_error(std::move(partial), n);
    }
  }
  co_return take(n);
}

// ---- pipe_writer -------------------------------------------------------------------------------------

pipe_writer::pipe_writer(int fd) : fd_(fd) { set_nonblocking(fd_); }

pipe_writer::~pipe_writer() { close(); }

void pipe_writer::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  pos_ = 0;
}

void pipe_writer::flush_some() {
  while (pos_ < buffer_.size() && error_ == 0) {
    ssize_t n = write_no_sigpipe(fd_, buffer_.data() + pos_, buffer_.size() - pos_);
    if (n > 0) {
      pos_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    error_ = n < 0 ? errno : EIO;
  }
  if (pos_ == buffer_.size() || error_ != 0) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > read_chunk && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

void pipe_writer::write(std::string_view data) {
  if (error_ != 0) throw_os_error(error_, "write");
  if (fd_ < 0) throw error("write to a closed pipe");
  if (data.empty()) return;
  buffer_.append(data);
  flush_some();
}

void pipe_writer::writelines(const std::vector<std::string>& lines) {
  for (const auto& line : lines) write(line);
}

auto pipe_writer::drain() -> task<void> {
  for (;;) {
    if (error_ != 0) throw_os_error(error_, "write");
    if (fd_ < 0 || buffer_size() == 0) co_return;
    detail::fd_wait writable(fd_, true);  // named: see fill()
    co_await writable;
    if (fd_ >= 0) flush_some();
  }
}

auto pipe_writer::wait_closed() -> task<void> { co_return; }

}  // namespace asyncio
