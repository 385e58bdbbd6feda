#include <asyncio/net/socket.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/lowlevel/io_operation.hpp>
#include <asyncio/lowlevel/wait_io.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>

namespace asyncio {

namespace detail {
void report_unclosed(const std::string& what) noexcept {
  if (event_loop* loop = running_loop()) {
    try {
      loop->call_exception_handler(exception_context(what));
      return;
    } catch (const std::bad_alloc&) {
      // No memory for the report's context: print it directly below, which allocates nothing.
    }
  }
  std::fprintf(stderr, "asyncio: %s\n", what.c_str());
}
}  // namespace detail

socket::socket(int family, int type, int protocol) : family_(family) {
  fd_ = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd_ < 0) throw_os_error(errno, "socket");
}

auto socket::adopt(int fd) -> socket {
  socket s;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_os_error(errno, "fcntl");
  s.fd_ = fd;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) s.family_ = ss.ss_family;
  return s;
}

socket::~socket() {
  if (fd_ >= 0) {
    detail::report_unclosed("unclosed socket fd=" + std::to_string(fd_));
    close();
  }
}

void socket::close() noexcept {
  if (fd_ < 0) return;
  lowlevel::forget_fd(fd_);
  ::close(fd_);
  fd_ = -1;
}

auto socket::detach() noexcept -> int {
  if (fd_ >= 0) lowlevel::forget_fd(fd_);
  return std::exchange(fd_, -1);
}

void socket::bind(const address& addr) {
  if (::bind(fd_, addr.data(), addr.size()) < 0) throw_os_error(errno, "bind " + addr.to_string());
}

void socket::listen(int backlog) {
  if (::listen(fd_, backlog) < 0) throw_os_error(errno, "listen");
}

void socket::setsockopt(int level, int name, int value) {
  if (::setsockopt(fd_, level, name, &value, sizeof value) < 0) throw_os_error(errno, "setsockopt");
}

auto socket::getsockopt(int level, int name) const -> int {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd_, level, name, &value, &len) < 0) throw_os_error(errno, "getsockopt");
  return value;
}

void socket::set_nodelay(bool on) { setsockopt(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); }

auto socket::getsockname() const -> address {
  address a;
  socklen_t len = address::capacity();
  if (::getsockname(fd_, a.data(), &len) < 0) throw_os_error(errno, "getsockname");
  a.set_size(len);
  return a;
}

auto socket::getpeername() const -> address {
  address a;
  socklen_t len = address::capacity();
  if (::getpeername(fd_, a.data(), &len) < 0) throw_os_error(errno, "getpeername");
  a.set_size(len);
  return a;
}

void socket::shutdown(int how) {
  if (::shutdown(fd_, how) < 0) throw_os_error(errno, "shutdown");
}

namespace {
void check_open(const socket& s) {
  if (!s.is_open()) throw_os_error(EBADF, "socket is closed");
}
}  // namespace

auto sock_recv_into(socket& sock, std::span<char> buf) -> task<std::size_t> {
  check_open(sock);
  co_return co_await lowlevel::recv(sock.fileno(), buf);
}

auto sock_recv(socket& sock, std::size_t n) -> task<std::string> {
  std::string data(n, '\0');
  std::size_t got = co_await sock_recv_into(sock, std::span<char>(data.data(), data.size()));
  data.resize(got);
  co_return data;
}

auto sock_sendall(socket& sock, std::string_view data) -> task<void> {
  while (!data.empty()) {
    check_open(sock);
    std::size_t n = co_await lowlevel::send(sock.fileno(), data);
    data.remove_prefix(n);
  }
}

auto sock_connect(socket& sock, address addr) -> task<void> {
  check_open(sock);
  try {
    co_await lowlevel::connect(sock.fileno(), addr.data(), addr.size());
  } catch (const os_error& e) {
    throw_os_error(e.code().value(), "connect " + addr.to_string());
  }
}

auto sock_accept(socket& sock) -> task<accepted_socket> {
  check_open(sock);
  address peer;
  io::accepted a = co_await lowlevel::accept(sock.fileno(), peer.data(), address::capacity());
  peer.set_size(a.address_length);
  co_return accepted_socket{socket::from_fd(a.fd, peer.family()), peer};
}

auto sock_sendto(socket& sock, std::string_view data, address addr) -> task<std::size_t> {
  for (;;) {
    check_open(sock);
    ssize_t n = ::sendto(sock.fileno(), data.data(), data.size(), MSG_NOSIGNAL,
                         addr.family() == AF_UNSPEC ? nullptr : addr.data(),
                         addr.family() == AF_UNSPEC ? 0 : addr.size());
    if (n >= 0) co_return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw_os_error(errno, "sendto");
    co_await lowlevel::wait_writable(sock.fileno());
  }
}

auto sock_recvfrom(socket& sock, std::size_t n) -> task<datagram> {
  datagram d;
  d.data.resize(n);
  for (;;) {
    check_open(sock);
    socklen_t len = address::capacity();
    ssize_t r = ::recvfrom(sock.fileno(), d.data.data(), n, 0, d.from.data(), &len);
    if (r >= 0) {
      d.from.set_size(len);
      d.data.resize(static_cast<std::size_t>(r));
      co_return d;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw_os_error(errno, "recvfrom");
    co_await lowlevel::wait_readable(sock.fileno());
  }
}

auto sock_recvfrom_into(socket& sock, std::span<char> buf, std::size_t nbytes) -> task<recvfrom_result> {
  if (nbytes > buf.size()) throw std::invalid_argument("sock_recvfrom_into: nbytes is greater than the buffer");
  if (nbytes == 0) nbytes = buf.size();
  recvfrom_result out;
  for (;;) {
    check_open(sock);
    socklen_t len = address::capacity();
    ssize_t r = ::recvfrom(sock.fileno(), buf.data(), nbytes, 0, out.from.data(), &len);
    if (r >= 0) {
      out.from.set_size(len);
      out.size = static_cast<std::size_t>(r);
      co_return out;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw_os_error(errno, "recvfrom");
    co_await lowlevel::wait_readable(sock.fileno());
  }
}

namespace {
// One sendfile(2) call moves at most this much (the kernel's own cap, MAX_RW_COUNT).
constexpr std::size_t max_sendfile_chunk = 0x7ffff000;
// The fallback's buffer.
constexpr std::size_t fallback_chunk = 64 * 1024;

// Leaves the file's position after the last byte sent, however the copy ends (Python does the
// same, so that the caller can tell how far an interrupted sendfile came).
struct file_position_guard {
  int fd;
  const off_t& position;
  file_position_guard(int f, const off_t& p) noexcept : fd(f), position(p) {}
  file_position_guard(const file_position_guard&) = delete;
  auto operator=(const file_position_guard&) -> file_position_guard& = delete;
  ~file_position_guard() { (void)::lseek(fd, position, SEEK_SET); }
};
}  // namespace

auto sock_sendfile(socket& sock, int fd, off_t offset, std::optional<std::size_t> count) -> task<std::size_t> {
  check_open(sock);
  if (sock.getsockopt(SOL_SOCKET, SO_TYPE) != SOCK_STREAM)
    throw std::invalid_argument("sock_sendfile: only SOCK_STREAM sockets are supported");
  if (offset < 0) throw std::invalid_argument("sock_sendfile: offset must be a non-negative integer");
  if (count && *count == 0) throw std::invalid_argument("sock_sendfile: count must be a positive integer");
  off_t position = offset;
  file_position_guard guard(fd, position);
  std::size_t sent = 0;
  bool fallback = false;
  bool seekable = true;
  std::unique_ptr<char[]> buffer;
  while (!count || sent < *count) {
    check_open(sock);
    std::size_t want = count ? *count - sent : max_sendfile_chunk;
    if (!fallback) {
      ssize_t n = ::sendfile(sock.fileno(), fd, seekable ? &position : nullptr, std::min(want, max_sendfile_chunk));
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        if (!seekable) position += static_cast<off_t>(n);
        continue;
      }
      if (n == 0) break;  // end of the file
      int err = errno;
      if (err == EINTR) continue;
      // A pipe or a character device has no offsets: read it from where it is (offset 0 only).
      if (err == ESPIPE && seekable && sent == 0 && offset == 0) {
        seekable = false;
        continue;
      }
      if (err == EAGAIN) {
        co_await lowlevel::wait_writable(sock.fileno());
        continue;
      }
      // This fd cannot be sent from (a pipe, a file system without splice support): copy instead.
      if ((err == EINVAL || err == ENOSYS) && sent == 0) {
        fallback = true;
        continue;
      }
      throw_os_error(err, "sendfile");
    }
    if (!buffer) buffer.reset(new char[fallback_chunk]);
    std::size_t chunk = std::min(want, fallback_chunk);
    ssize_t r = seekable ? ::pread(fd, buffer.get(), chunk, position) : ::read(fd, buffer.get(), chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ESPIPE && seekable && offset == 0) {
        seekable = false;
        continue;
      }
      throw_os_error(errno, "sendfile: read");
    }
    if (r == 0) break;
    std::string_view data(buffer.get(), static_cast<std::size_t>(r));
    while (!data.empty()) {
      check_open(sock);
      std::size_t n = co_await lowlevel::send(sock.fileno(), data);
      data.remove_prefix(n);
      sent += n;
      position += static_cast<off_t>(n);
    }
  }
  co_return sent;
}

auto create_datagram_socket(address local, address remote) -> socket {
  int family = local.family() != AF_UNSPEC ? local.family() : remote.family();
  if (family == AF_UNSPEC) throw std::invalid_argument("create_datagram_socket: no address given");
  socket s(family, SOCK_DGRAM);
  if (local.family() != AF_UNSPEC) s.bind(local);
  if (remote.family() != AF_UNSPEC) {
    // connect() on UDP completes at once: it only sets the default destination.
    if (::connect(s.fileno(), remote.data(), remote.size()) < 0) throw_os_error(errno, "connect");
  }
  return s;
}

}  // namespace asyncio
