// The epoll backend (src/io/epoll_driver.hpp).
#include "io/epoll_driver.hpp"
#include "io/poll_events.hpp"

#include <asyncio/errors.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace asyncio::io {

epoll_driver::epoll_driver() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_os_error(errno, "epoll_create1");
}

epoll_driver::~epoll_driver() { ::close(epoll_fd_); }

void epoll_driver::set_wakeup(int fd, interest* wake) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_os_error(errno, "epoll_ctl");
  wake_fd_ = fd;
  wake_ = wake;
}

auto epoll_driver::poll(int timeout_ms) -> int {
  epoll_event events[128];
  int n = ::epoll_wait(epoll_fd_, events, 128, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw_os_error(errno, "epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      wake_->ready(wake_);
      continue;
    }
    deliver(fd, to_readiness(events[i].events));
  }
  return n;
}

void epoll_driver::arm_edge(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_os_error(errno, "epoll_ctl");
}

void epoll_driver::update_level(int fd, readiness before, readiness wanted) {
  epoll_event ev{};
  ev.events = to_poll_events(wanted);
  ev.data.fd = fd;
  int op = !any(before) ? EPOLL_CTL_ADD : !any(wanted) ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_fd_, op, fd, &ev) < 0) {
    int err = errno;
    // A DEL fails only when the kernel does not have the fd (closed before it was unwatched):
    // clearing an interest therefore never throws (io::driver::set_interest).
    if (op == EPOLL_CTL_DEL) return;
    throw_os_error(err, "epoll_ctl");
  }
}

void epoll_driver::disarm(int fd) noexcept {
  epoll_event ev{};
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &ev);  // ENOENT/EBADF: already gone, fine
}

// ---- operations ----------------------------------------------------------------------------------

auto epoll_driver::attempt(operation& op) noexcept -> bool {
  for (;;) {
    ssize_t n = 0;
    switch (op.code) {
      case opcode::recv: n = ::recv(op.fd, op.buffer, op.length, op.flags); break;
      case opcode::send: n = ::send(op.fd, op.buffer, op.length, op.flags | MSG_NOSIGNAL); break;
      case opcode::accept: {
        socklen_t* len = op.address ? &op.address_length : nullptr;
        n = ::accept4(op.fd, op.address, len, op.flags | SOCK_CLOEXEC | SOCK_NONBLOCK);
        break;
      }
      case opcode::connect:
        if (!op.connect_started) {
          op.connect_started = true;
          do {
            n = ::connect(op.fd, op.address, op.address_length);
          } while (n < 0 && errno == EINTR);
          if (n < 0 && (errno == EINPROGRESS || errno == EAGAIN)) return false;  // completes when writable
        } else {
          int err = 0;
          socklen_t len = sizeof err;
          if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
          if (err == 0) {
            // Writability can come from before the connect finished (a socket registered while
            // unconnected reports EPOLLOUT): connected only if it has a peer.
            sockaddr_storage peer{};
            socklen_t peer_len = sizeof peer;
            if (::getpeername(op.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) < 0) {
              if (errno == ENOTCONN) return false;
              err = errno;
            }
          }
          op.result = -err;
          return true;
        }
        break;
      case opcode::read_at: n = ::pread(op.fd, op.buffer, op.length, op.offset); break;
      case opcode::write_at: n = ::pwrite(op.fd, op.buffer, op.length, op.offset); break;
      case opcode::fsync: n = op.flags ? ::fdatasync(op.fd) : ::fsync(op.fd); break;
      case opcode::openat:
        n = ::openat(op.fd, op.path, op.flags | O_CLOEXEC, static_cast<mode_t>(op.mode));
        break;
      case opcode::close:
        // Never retried: on Linux the fd is released even when close reports EINTR.
        op.result = ::close(op.fd) < 0 && errno != EINTR ? -errno : 0;
        return true;
      case opcode::statx:
        n = ::statx(op.fd, op.path, op.flags, STATX_BASIC_STATS, static_cast<struct statx*>(op.buffer));
        break;
      case opcode::renameat:
        n = ::renameat2(op.fd, op.path, AT_FDCWD, op.path2, static_cast<unsigned>(op.flags));
        break;
      case opcode::unlinkat: n = ::unlinkat(op.fd, op.path, op.flags); break;
      case opcode::mkdirat: n = ::mkdirat(op.fd, op.path, static_cast<mode_t>(op.mode)); break;
      case opcode::poll: {
        // Level semantics (as io_uring's POLL_ADD): ready now counts, not only a new edge. The
        // remembered edge is free to check; otherwise ask the kernel once without blocking.
        if (!op.owner->take_ready(op.fd, op.wait_for)) {
          pollfd p{op.fd, static_cast<short>(op.wait_for == direction::read ? POLLIN : POLLOUT), 0};
          if (::poll(&p, 1, 0) <= 0 || (p.revents & (p.events | POLLHUP | POLLERR)) == 0) return false;
        }
        op.result = static_cast<std::int64_t>(bit_of(op.wait_for));
        return true;
      }
    }
    if (n >= 0) {
      op.result = n;
      return true;
    }
    // EINTR: retry; ECONNABORTED: the connection went away before it was taken, take the next.
    if (errno == EINTR || (op.code == opcode::accept && errno == ECONNABORTED)) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    op.result = -errno;
    return true;
  }
}

auto epoll_driver::submit(operation& op) -> bool {
  op.owner = this;
  op.ready = &on_operation_ready;
  if (!is_file_opcode(op.code)) watch(op.fd);
  if (attempt(op)) return true;
  // EAGAIN (or a connect in progress): wait for the edge. One that arrived since the last wait is
  // remembered by the table, so retry at once if there is one.
  direction d = direction_of(op);
  while (op.code != opcode::poll && take_ready(op.fd, d)) {
    if (attempt(op)) return true;
  }
  park(op.fd, d, &op);  // counted in watched() while parked
  return false;
}

void epoll_driver::on_operation_ready(interest* self) noexcept {
  auto& op = static_cast<operation&>(*self);
  auto& drv = static_cast<epoll_driver&>(*op.owner);
  if (!drv.watching(op.fd)) {
    op.result = -ECANCELED;  // forget(fd): the fd is being closed under the operation
  } else if (op.code == opcode::poll) {
    op.result = static_cast<std::int64_t>(bit_of(op.wait_for));
  } else if (!attempt(op)) {
    // A spurious edge (another reader took the data): wait for the next one. The slot was cleared
    // before this call, so parking again cannot fail.
    drv.park(op.fd, direction_of(op), &op);
    return;
  }
  op.complete(&op);
}

auto epoll_driver::cancel(operation& op) noexcept -> bool {
  return unpark(op.fd, direction_of(op), &op);
}

void epoll_driver::abandon(operation& op) noexcept { (void)cancel(op); }

}  // namespace asyncio::io
