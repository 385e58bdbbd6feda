#include <asyncio/net/socket.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/lowlevel/io_operation.hpp>
#include <asyncio/lowlevel/wait_io.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
