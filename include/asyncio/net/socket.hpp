#pragma once
// socket: an owned, non-blocking socket, and the Python loop.sock_* coroutines on it (sock_recv,
// sock_recv_into, sock_sendall, sock_connect, sock_accept, sock_sendto, sock_recvfrom,
// sock_recvfrom_into, sock_sendfile).
//
// Every operation tries the syscall first and waits (edge-triggered, lowlevel::wait_readable /
// wait_writable) only when it returned EAGAIN, so a busy connection makes no epoll calls at all.
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

/// An owned socket file descriptor, always non-blocking and close-on-exec. Move-only.
///
/// Closing: close() (or the destructor) unregisters the fd from the running loop and closes it.
/// A socket destroyed while still open is reported through the loop's exception handler ("unclosed
/// socket", docs/lessons.md §1.5) and then closed. Sockets must be closed on the thread of the loop that
/// used them, while it runs.
/// Thread safety: loop-affine.
class socket {
 public:
  socket() noexcept = default;
  /// Creates a socket (Python's socket.socket(family, type, proto) + setblocking(False)).
  /// Throws: os_error (e.g. EMFILE as os_error, EAFNOSUPPORT).
  socket(int family, int type, int protocol = 0);
  /// Takes ownership of fd and makes it non-blocking.
  static auto adopt(int fd) -> socket;
  /// Takes ownership of fd, which must already be non-blocking (accept4 with SOCK_NONBLOCK).
  static auto from_fd(int fd, int family) noexcept -> socket {
    socket s;
    s.fd_ = fd;
    s.family_ = family;
    return s;
  }
  socket(socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), family_(o.family_) {}
  auto operator=(socket&& o) noexcept -> socket& {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      family_ = o.family_;
    }
    return *this;
  }
  socket(const socket&) = delete;
  auto operator=(const socket&) -> socket& = delete;
  ~socket();

  [[nodiscard]] auto fileno() const noexcept -> int { return fd_; }
  [[nodiscard]] auto is_open() const noexcept -> bool { return fd_ >= 0; }
  [[nodiscard]] auto family() const noexcept -> int { return family_; }
  /// Unregisters the fd from the running loop (waiters wake) and closes it. Idempotent.
  void close() noexcept;
  /// Gives up ownership: returns the fd (unregistered from the loop) and leaves this socket closed.
  auto detach() noexcept -> int;

  /// Throws: os_error (address in use...).
  void bind(const address& addr);
  /// Throws: os_error.
  void listen(int backlog = 4096);
  /// setsockopt with an int value. Throws: os_error.
  void setsockopt(int level, int name, int value);
  /// getsockopt of an int value. Throws: os_error.
  [[nodiscard]] auto getsockopt(int level, int name) const -> int;
  /// TCP_NODELAY. Throws: os_error.
  void set_nodelay(bool on = true);
  /// Throws: os_error.
  [[nodiscard]] auto getsockname() const -> address;
  /// Throws: os_error (ENOTCONN).
  [[nodiscard]] auto getpeername() const -> address;
  /// shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR. Throws: os_error.
  void shutdown(int how);

 private:
  int fd_ = -1;
  int family_ = AF_UNSPEC;
};

/// What sock_accept returns: the connection and the peer's address.
struct accepted_socket {
  socket sock;
  address peer;
};

/// Receives up to buf.size() bytes into buf; 0 means EOF (Python's loop.sock_recv_into).
///
/// Cancellation: safe; nothing is lost (no bytes are taken before the wait completes).
/// Resumes: when data or EOF arrived.
/// Throws: connection_reset_error and other os_error subclasses.
auto sock_recv_into(socket& sock ASYNCIO_LIFETIMEBOUND, std::span<char> buf ASYNCIO_LIFETIMEBOUND) -> task<std::size_t>;

/// Receives up to n bytes; "" means EOF (Python's loop.sock_recv).
///
/// Cancellation: safe, as sock_recv_into.
/// Throws: os_error subclasses.
auto sock_recv(socket& sock ASYNCIO_LIFETIMEBOUND, std::size_t n) -> task<std::string>;

/// Sends all of data (MSG_NOSIGNAL: a closed peer raises broken_pipe_error, never SIGPIPE).
/// data must stay valid until the task completes (Python's loop.sock_sendall).
///
/// Cancellation: safe, but part of data may already have been sent (as in Python).
/// Resumes: once the kernel accepted every byte.
/// Throws: broken_pipe_error, connection_reset_error, other os_error subclasses.
auto sock_sendall(socket& sock ASYNCIO_LIFETIMEBOUND, std::string_view data ASYNCIO_LIFETIMEBOUND) -> task<void>;

/// Connects sock to addr (Python's loop.sock_connect).
///
/// Cancellation: safe; the connection attempt is abandoned (close the socket).
/// Resumes: when the connection is established.
/// Throws: connection_refused_error, timeout_error (ETIMEDOUT), other os_error subclasses.
auto sock_connect(socket& sock ASYNCIO_LIFETIMEBOUND, address addr) -> task<void>;

/// Accepts a connection on a listening socket (Python's loop.sock_accept). The new socket is
/// non-blocking and close-on-exec.
///
/// Cancellation: safe; no connection is taken before the wait completes.
/// Resumes: when a connection arrived.
/// Throws: os_error subclasses; EMFILE/ENFILE as os_error (the server backs off on those).
auto sock_accept(socket& sock ASYNCIO_LIFETIMEBOUND) -> task<accepted_socket>;

/// Sends one datagram to addr; returns the bytes sent (Python 3.11's loop.sock_sendto).
///
/// Cancellation: safe; nothing was sent if it raises cancelled_error.
/// Throws: os_error subclasses.
auto sock_sendto(socket& sock ASYNCIO_LIFETIMEBOUND, std::string_view data ASYNCIO_LIFETIMEBOUND, address addr)
    -> task<std::size_t>;

/// A datagram and its sender.
struct datagram {
  std::string data;
  address from;
};

/// Receives one datagram of at most n bytes (Python 3.11's loop.sock_recvfrom).
///
/// Cancellation: safe; no datagram is taken before the wait completes.
/// Throws: os_error subclasses (e.g. connection_refused_error after an ICMP error on a connected
/// UDP socket).
auto sock_recvfrom(socket& sock ASYNCIO_LIFETIMEBOUND, std::size_t n = 65536) -> task<datagram>;

/// What sock_recvfrom_into returns: the datagram's size and its sender.
struct recvfrom_result {
  std::size_t size = 0;
  address from;
};

/// Receives one datagram into buf, at most nbytes of it (0: buf.size()); the rest of a longer
/// datagram is dropped, as recvfrom(2) does (Python 3.11's loop.sock_recvfrom_into). No allocation.
///
/// Cancellation: safe; no datagram is taken before the wait completes.
/// Resumes: when a datagram arrived.
/// Throws: std::invalid_argument if nbytes > buf.size(); os_error subclasses, as sock_recvfrom.
auto sock_recvfrom_into(socket& sock ASYNCIO_LIFETIMEBOUND, std::span<char> buf ASYNCIO_LIFETIMEBOUND,
                        std::size_t nbytes = 0) -> task<recvfrom_result>;

/// Sends count bytes of the file fd, from offset (count unset: up to its end), on a connected
/// stream socket with sendfile(2): the bytes go from the page cache to the socket without passing
/// through user memory. Waits for writability whenever the socket's buffer is full. Where the
/// kernel cannot sendfile from this fd (EINVAL, ENOSYS: some file systems) it falls back to
/// pread + send. A pipe (no offsets) is read from where it is, with offset 0 only. Afterwards, even when it throws, the file's position is offset + the bytes sent
/// (as Python), so lseek(fd, 0, SEEK_CUR) tells how far it came. Returns the bytes sent (Python's
/// loop.sock_sendfile(sock, file, offset, count)). The fd stays open and is the caller's.
///
/// Cancellation: safe, but part of the file may have been sent (the position says how much).
/// Resumes: once every byte is in the socket's buffer, or the file ended.
/// Throws: std::invalid_argument if the socket is not a SOCK_STREAM socket, offset < 0 or count
/// is 0; os_error ESPIPE for an offset into a pipe; broken_pipe_error, connection_reset_error, other os_error subclasses (EBADF for a
/// closed socket or a bad fd).
auto sock_sendfile(socket& sock ASYNCIO_LIFETIMEBOUND, int fd, off_t offset = 0,
                   std::optional<std::size_t> count = std::nullopt) -> task<std::size_t>;

/// Creates a UDP socket bound to `local` (if its family is set) and connected to `remote` (if
/// set); at least one must be set. The datagram form of Python's create_datagram_endpoint.
/// Throws: os_error subclasses.
auto create_datagram_socket(address local, address remote = {}) -> socket;

namespace detail {
/// Reports "unclosed socket/server ..." through the running loop's exception handler (or stderr).
void report_unclosed(const std::string& what) noexcept;
}  // namespace detail

}  // namespace asyncio
