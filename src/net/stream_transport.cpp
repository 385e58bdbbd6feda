#include <asyncio/net/detail/stream_transport.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/lowlevel/wait_io.hpp>

#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <ctime>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace asyncio::detail {

namespace {
// First size of the read buffer; it grows (up to what a readexactly/readuntil needs) and is reused.
constexpr std::size_t initial_read_buffer = 16 * 1024;
}  // namespace

stream_transport::stream_transport(socket sock, std::size_t lim, stream_kind kind)
    : limit(lim), sock_(std::move(sock)), kind_(kind) {
  io::interest::ready = &flush_ready;
}

// ---- the system calls, socket or pipe -------------------------------------------------------------

namespace {

// write() that reports EPIPE without a SIGPIPE killing the process. A pipe has no MSG_NOSIGNAL, and
// ignoring SIGPIPE process-wide would change the program's behaviour behind its back; instead
// SIGPIPE is blocked in this thread around the write, and the one this write raised (a
// thread-directed signal) is consumed before unblocking. A SIGPIPE already pending is left alone.
// Out of line: inlined, its sigset_t locals gave the socket path of sys_write a 400-byte frame.
[[gnu::noinline]] auto write_without_sigpipe(int fd, const char* data, std::size_t size) noexcept -> ssize_t {
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

auto stream_transport::sys_read(std::span<char> buf) noexcept -> ssize_t {
  if (kind_ == stream_kind::pipe) return ::read(sock_.fileno(), buf.data(), buf.size());
  return ::recv(sock_.fileno(), buf.data(), buf.size(), 0);
}

auto stream_transport::sys_write(std::string_view data) noexcept -> ssize_t {
  if (kind_ == stream_kind::pipe) return write_without_sigpipe(sock_.fileno(), data.data(), data.size());
  return ::send(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL);
}

void stream_transport::send_eof() noexcept {
  eof_sent_ = true;
  if (kind_ == stream_kind::pipe) finish_close();  // the reader sees EOF when the last writer closes
  else ::shutdown(sock_.fileno(), SHUT_WR);
}

stream_transport::~stream_transport() {
  if (flush_armed_) {
    if (event_loop* loop = running_loop()) loop_access::io(*loop).unpark(sock_.fileno(), io::direction::write, this);
    flush_armed_ = false;
  }
  if (sock_.is_open()) {
    if (!managed) report_unclosed("unclosed stream transport fd=" + std::to_string(sock_.fileno()) +
                                  " (call stream_writer::close())");
    sock_.close();
  }
}

// ---- reading -------------------------------------------------------------------------------------

auto stream_transport::try_recv(std::span<char> buf) -> std::ptrdiff_t {
  for (;;) {
    if (eof_ || !sock_.is_open()) {
      eof_ = true;
      return 0;
    }
    if (read_drained_) return -1;
    ssize_t n = sys_read(buf);
    if (n > 0) {
      // Short read on a stream socket or pipe: the kernel buffer is empty (epoll(7)); skip the
      // EAGAIN read.
      if (static_cast<std::size_t>(n) < buf.size()) read_drained_ = true;
      return n;
    }
    if (n == 0) {
      eof_ = true;
      return 0;
    }
    if (errno == EAGAIN) {
      read_drained_ = true;
      return -1;
    }
    if (errno != EINTR) throw_os_error(errno, "recv");
  }
}

auto stream_transport::reads_through_ring() noexcept -> bool {
  if (ring_reads_ < 0) [[unlikely]] {
    event_loop* loop = running_loop();
    if (!loop) return false;  // ask again from the loop
    ring_reads_ = kind_ == stream_kind::socket && loop_access::io(*loop).async_files() ? 1 : 0;
  }
  return ring_reads_ == 1 && !tls_;
}

void stream_transport::ring_recv_awaiter::throw_concurrent_read() {
  throw invalid_state_error("another task is already waiting to read this fd");
}

auto stream_transport::ring_recv_awaiter::await_resume() -> std::size_t {
  if (done_) return 0;
  t_.ring_reading_ = reading_ = false;
  std::size_t n = 0;
  try {
    n = op_.await_resume();
  } catch (const os_error& e) {
    // close() under a parked read: forget_fd cancelled the receive. A readiness wait would have
    // woken and seen EOF; so does this one.
    if (e.code().value() != ECANCELED || t_.sock_.is_open()) throw;
  }
  if (n == 0) t_.eof_ = true;
  return n;
}

auto stream_transport::recv_into(std::span<char> buf) -> task<std::size_t> {
  if (tls_) co_return co_await tls_recv_into(buf);
  if (reads_through_ring()) co_return co_await ring_recv(buf);
  for (;;) {
    std::ptrdiff_t n = try_recv(buf);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    co_await lowlevel::wait_readable(sock_.fileno());
    read_drained_ = false;
  }
}

auto stream_transport::fill(std::size_t want) -> task<bool> {
  if (eof_) co_return false;
  // Make room: move unread bytes to the front, grow if `want` bytes do not fit.
  if (rbeg_ > 0 && (rcap_ - rend_ < want || rbeg_ == rend_)) {
    std::memmove(rbuf_.get(), rbuf_.get() + rbeg_, rend_ - rbeg_);
    rend_ -= rbeg_;
    rbeg_ = 0;
  }
  if (rcap_ - rend_ < want || rcap_ == 0) {
    std::size_t cap = std::max({initial_read_buffer, rcap_ * 2, rend_ + want});
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (rend_) std::memcpy(bigger.get(), rbuf_.get(), rend_);
    rbuf_ = std::move(bigger);
    rcap_ = cap;
  }
  std::size_t n = co_await recv_into(std::span<char>(rbuf_.get() + rend_, rcap_ - rend_));
  rend_ += n;
  co_return n > 0;
}

// ---- writing -------------------------------------------------------------------------------------

void stream_transport::set_write_buffer_limits(std::size_t high, std::size_t low) {
  if (low > high) throw std::invalid_argument("low-water mark above the high-water mark");
  high_ = high;
  low_ = low;
  if (write_buffer_size() > high_) paused_ = true;
}

void stream_transport::throw_write_error() const { throw_os_error(write_errno_, "connection lost"); }

void stream_transport::write(std::string_view data) {
  if (eof_requested_) throw invalid_state_error("write() after write_eof()");
  if (data.empty() || write_errno_ != 0 || closing_ || !sock_.is_open()) return;  // drain() reports errors
  if (tls_) {
    tls_write(data);
    return;
  }
  raw_write(data);
}

void stream_transport::raw_write(std::string_view data) {
  if (write_buffer_size() == 0) {
    // Optimistic: send now; only what the kernel does not take is buffered.
    for (;;) {
      ssize_t n = sys_write(data);
      if (n >= 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail_write(errno);
      return;
    }
    if (data.empty()) return;
    wbuf_.clear();
    woff_ = 0;
  }
  wbuf_.append(data);
  if (write_buffer_size() > high_) paused_ = true;
  arm_flush();
}

void stream_transport::arm_flush() noexcept {
  if (flush_armed_ || !sock_.is_open()) return;
  event_loop* loop = running_loop();
  if (!loop) return;
  try {
    io::driver& drv = loop_access::io(*loop);
    drv.watch(sock_.fileno());
    // Readiness seen with no waiter: try at once rather than waiting for an edge that came already.
    if (drv.take_ready(sock_.fileno(), io::direction::write)) {
      flush();
      if (write_buffer_size() == 0 || !sock_.is_open() || write_errno_) return;
    }
    drv.park(sock_.fileno(), io::direction::write, this);
    flush_armed_ = true;
  } catch (...) {
    fail_write(EBADF);
  }
}

void stream_transport::flush_ready(io::interest* self) noexcept {
  auto* t = static_cast<stream_transport*>(self);
  std::shared_ptr<stream_transport> hold = t->keep_alive_;  // *t may be released below
  t->flush_armed_ = false;
  if (t->sock_.is_open()) t->flush();
  else t->wake(t->drain_waiters_);  // forget_fd() of a closing socket
  if (t->write_buffer_size() > 0 && t->sock_.is_open() && !t->write_errno_) t->arm_flush();
  if (!t->sock_.is_open()) t->keep_alive_.reset();
}

void stream_transport::flush() noexcept {
  while (write_buffer_size() > 0) {
    ssize_t n = sys_write(std::string_view(wbuf_.data() + woff_, write_buffer_size()));
    if (n >= 0) {
      woff_ += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    fail_write(errno);
    return;
  }
  std::size_t left = write_buffer_size();
  if (left == 0) {
    wbuf_.clear();
    woff_ = 0;
    // Keep the buffer's memory for the next burst unless it grew large.
    if (wbuf_.capacity() > 4 * high_) wbuf_.shrink_to_fit();
  } else if (woff_ > left) {
    wbuf_.erase(0, woff_);
    woff_ = 0;
  }
  if (paused_ && left <= low_) {
    paused_ = false;
    wake(drain_waiters_);
  }
  if (left == 0) {
    if (eof_requested_ && !eof_sent_) send_eof();
    if (closing_) finish_close();
  }
}

void stream_transport::fail_write(int err) noexcept {
  write_errno_ = err;
  wbuf_.clear();
  woff_ = 0;
  paused_ = false;
  wake(drain_waiters_);
  if (closing_) finish_close();
}

void stream_transport::write_eof() {
  if (eof_requested_ || !sock_.is_open()) return;
  if (tls_) tls_shutdown();  // TLS half-close: close_notify, then the TCP FIN
  eof_requested_ = true;
  if (write_buffer_size() == 0) send_eof();
}

void stream_transport::close() noexcept {
  if (closing_) return;
  if (tls_) tls_shutdown();  // close_notify goes out before the FIN
  closing_ = true;
  if (write_buffer_size() == 0 || write_errno_ != 0) {
    finish_close();
    return;
  }
  // flush() closes once the buffer is sent; stay alive until then even if the streams are dropped.
  try {
    keep_alive_ = shared_from_this();
  } catch (const std::bad_weak_ptr&) {
  }
}

void stream_transport::abort() noexcept {
  closing_ = true;
  wbuf_.clear();
  woff_ = 0;
  finish_close();
  keep_alive_.reset();  // the caller (a stream_writer) still holds a reference
}

void stream_transport::finish_close() noexcept {
  if (!sock_.is_open()) return;
  if (flush_armed_) {
    if (event_loop* loop = running_loop()) loop_access::io(*loop).unpark(sock_.fileno(), io::direction::write, this);
    flush_armed_ = false;
  }
  sock_.close();  // forget_fd wakes a reader parked on the fd; it then sees EOF
  eof_ = true;
  paused_ = false;
  wake(drain_waiters_);
  wake(close_waiters_);
}

// ---- waiters ------------------------------------------------------------------------------------

void stream_transport::wake(intrusive_list<stream_waiter>& waiters) noexcept {
  while (stream_waiter* w = waiters.pop_front()) {
    loop_access::schedule(w->task->loop(), *w->task);  // waiting_ stays set: nothing to lose
  }
}

}  // namespace asyncio::detail
