#pragma once
// Awaiting one io::operation (io/operation.hpp) on the running task's loop: recv, send, accept,
// connect, read_at, write_at, fsync and poll, each as an awaitable that the loop's io backend
// carries out (docs/design.md, "The io layer"). With the epoll backend the system call is tried at
// once and the task parks on the fd's readiness only after EAGAIN, so a busy socket costs no
// extra system call; a completion backend would submit the operation to its ring. Example
// (doc-test: compile-only, fd and addr stand for a socket and its peer):
//
//   std::array<char, 4096> buf;
//   std::size_t n = co_await asyncio::lowlevel::recv(fd, buf);      // 0: end of stream
//   co_await asyncio::lowlevel::connect(fd, addr.data(), addr.size());
//
// The fd must be non-blocking (sockets made by the library are). The operation lives in the
// awaiting frame: a wait allocates nothing.
//
// The file operations (read_at, write_at, fsync, openat, close, statx, rename, unlink, mkdir) go
// through the io_uring backend's ring without blocking; the epoll backend runs them inline and
// blocking, so code that must not block the loop checks async_files() and uses a thread
// otherwise (as the fs layer does, <asyncio/fs.hpp>).
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/io/operation.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio::detail {

/// Awaiter of one io::operation. R is what co_await gives: std::size_t (bytes), io::accepted (a
/// new connection), void (connect, fsync) or io::readiness (poll).
///
/// Cancellation follows docs/design.md's suspension protocol: cancelling the task while the
/// operation is in flight withdraws it (io::driver::cancel) and raises cancelled_error; nothing was
/// transferred. A backend that cannot withdraw it at once delivers the completion later: data
/// already moved is then returned, and the cancel stays pending for the task's next suspension.
template <class R>
class io_operation_awaiter : public parked_awaiter<io_operation_awaiter<R>> {
  using base = parked_awaiter<io_operation_awaiter<R>>;
  friend base;

 public:
  io_operation_awaiter(const io::operation& op, const char* what) noexcept : op_(op), what_(what) {}
  ~io_operation_awaiter() {
    // The frame may be destroyed while the operation is in flight (loop close of a leaked task).
    if (state_ == in_flight || state_ == withdrawing) loop_access::io(this->task_->loop()).abandon(op_);
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }

  auto await_resume() -> R {
    // Refused (a cancel was pending, nothing submitted) or withdrawn: nothing was transferred.
    if (state_ != finished) this->throw_cancelled();
    if (op_.result < 0) throw_os_error(static_cast<int>(-op_.result), what_);
    if constexpr (std::is_same_v<R, void>) {
      return;
    } else if constexpr (std::is_same_v<R, io::readiness>) {
      return static_cast<io::readiness>(op_.result);
    } else if constexpr (std::is_same_v<R, io::accepted>) {
      return io::accepted{static_cast<int>(op_.result), op_.address_length};
    } else {
      return static_cast<R>(op_.result);
    }
  }

 private:
  enum state_t : std::uint8_t { idle, in_flight, withdrawing, finished, withdrawn };

  // Submits the operation; false (do not suspend) if it finished at once.
  auto link(task_core& t) -> bool {
    op_.complete = &on_complete;
    op_.context = this;
    if (loop_access::io(t.loop()).submit(op_)) {  // may throw: the base un-parks the task
      state_ = finished;
      return false;
    }
    state_ = in_flight;  // last action: from here the driver may complete it
    return true;
  }

  auto abort_wait() noexcept -> bool {
    if (state_ != in_flight) return false;  // completed meanwhile: already scheduled
    if (loop_access::io(this->task_->loop()).cancel(op_)) {
      state_ = withdrawn;
      return true;
    }
    state_ = withdrawing;  // the completion is still coming: keep waiting for it
    this->task_->repark(*this);
    return false;
  }

  static void on_complete(io::operation* op) noexcept {
    auto* a = static_cast<io_operation_awaiter*>(op->context);
    task_core& t = *a->task_;
    if (a->state_ == withdrawing && op->result == -ECANCELED) {
      a->state_ = withdrawn;  // the cancel won: nothing was transferred
    } else {
      bool cancel_pending = a->state_ == withdrawing;
      a->state_ = finished;
      // The result carries data that must not be lost: deliver it; a cancel that came meanwhile
      // stays pending for the next suspension point (docs/design.md, "Lose nothing").
      t.clear_waiting(*a);
      if (cancel_pending) {
        (void)t.uncancel();
        (void)t.cancel_noexcept();  // waiting_ is clear: this only marks the cancel pending again
      }
    }
    a->wake();
  }

  io::operation op_;
  const char* what_;
  state_t state_ = idle;
};

}  // namespace asyncio::detail

namespace asyncio::lowlevel {

namespace detail_ops {
inline auto make(io::opcode code, int fd) noexcept -> io::operation {
  io::operation op;
  op.code = code;
  op.fd = fd;
  return op;
}
}  // namespace detail_ops

/// Receives up to buf.size() bytes from a non-blocking socket (recv(2) with `flags`); 0 means the
/// peer closed its side.
/// Cancellation: safe; nothing was received when cancelled_error is raised.
/// Resumes: on the task's loop. Throws: os_error (e.g. connection_reset_error) from recv.
[[nodiscard]] inline auto recv(int fd, std::span<char> buf ASYNCIO_LIFETIMEBOUND, int flags = 0) noexcept
    -> detail::io_operation_awaiter<std::size_t> {
  io::operation op = detail_ops::make(io::opcode::recv, fd);
  op.buffer = buf.data();
  op.length = buf.size();
  op.flags = flags;
  return {op, "recv"};
}

/// Sends some of `data` (send(2) with MSG_NOSIGNAL | flags); returns how many bytes were sent (at
/// least one unless data is empty). Loop over it to send everything.
/// Cancellation: safe; nothing was sent when cancelled_error is raised.
/// Resumes: on the task's loop. Throws: os_error (e.g. broken_pipe_error) from send.
[[nodiscard]] inline auto send(int fd, std::span<const char> data ASYNCIO_LIFETIMEBOUND, int flags = 0) noexcept
    -> detail::io_operation_awaiter<std::size_t> {
  io::operation op = detail_ops::make(io::opcode::send, fd);
  op.buffer = const_cast<char*>(data.data());  // only read
  op.length = data.size();
  op.flags = flags;
  return {op, "send"};
}

/// Accepts a connection on a listening socket; the new fd is non-blocking and close-on-exec. If
/// `peer` is given (with room for `peer_capacity` bytes) it receives the peer's address, whose
/// length comes back in io::accepted.
/// Cancellation: safe; no connection was taken when cancelled_error is raised.
/// Resumes: on the task's loop. Throws: os_error from accept4 (EMFILE, ENFILE...).
[[nodiscard]] inline auto accept(int fd, sockaddr* peer ASYNCIO_LIFETIMEBOUND = nullptr,
                                 socklen_t peer_capacity = 0) noexcept -> detail::io_operation_awaiter<io::accepted> {
  io::operation op = detail_ops::make(io::opcode::accept, fd);
  op.address = peer;
  op.address_length = peer_capacity;
  return {op, "accept"};
}

/// Connects a non-blocking socket and waits until the connection is established.
/// Cancellation: safe; the socket is then left connecting (close it).
/// Resumes: on the task's loop. Throws: os_error (connection_refused_error...) from connect.
[[nodiscard]] inline auto connect(int fd, const sockaddr* to ASYNCIO_LIFETIMEBOUND, socklen_t length) noexcept
    -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::connect, fd);
  op.address = const_cast<sockaddr*>(to);  // only read
  op.address_length = length;
  return {op, "connect"};
}

/// Reads up to buf.size() bytes at `offset` (pread(2)). The epoll backend reads inline, blocking
/// the loop for the call (io::driver::async_files tells; the file layer uses the thread pool then).
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from pread.
[[nodiscard]] inline auto read_at(int fd, std::span<char> buf ASYNCIO_LIFETIMEBOUND, std::int64_t offset) noexcept
    -> detail::io_operation_awaiter<std::size_t> {
  io::operation op = detail_ops::make(io::opcode::read_at, fd);
  op.buffer = buf.data();
  op.length = buf.size();
  op.offset = offset;
  return {op, "pread"};
}

/// Writes some of `data` at `offset` (pwrite(2)); returns the bytes written. Blocking with the
/// epoll backend, as read_at.
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from pwrite.
[[nodiscard]] inline auto write_at(int fd, std::span<const char> data ASYNCIO_LIFETIMEBOUND,
                                   std::int64_t offset) noexcept -> detail::io_operation_awaiter<std::size_t> {
  io::operation op = detail_ops::make(io::opcode::write_at, fd);
  op.buffer = const_cast<char*>(data.data());  // only read
  op.length = data.size();
  op.offset = offset;
  return {op, "pwrite"};
}

/// Flushes fd's data (and metadata unless `data_only`) to the device: fsync(2) / fdatasync(2).
/// Blocking with the epoll backend, as read_at.
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from fsync.
[[nodiscard]] inline auto fsync(int fd, bool data_only = false) noexcept -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::fsync, fd);
  op.flags = data_only ? 1 : 0;
  return {op, data_only ? "fdatasync" : "fsync"};
}

/// Waits until fd is ready in direction `d`, returning at once if it is ready now (level
/// semantics, unlike the edge-triggered wait_readable of lowlevel/wait_io.hpp); returns the
/// readiness seen.
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error if fd cannot be registered.
[[nodiscard]] inline auto poll(int fd, io::direction d) noexcept -> detail::io_operation_awaiter<io::readiness> {
  io::operation op = detail_ops::make(io::opcode::poll, fd);
  op.wait_for = d;
  return {op, "poll"};
}

/// True if the running loop's io backend carries out file operations (read_at, write_at, fsync,
/// openat and the other path calls below) without blocking the loop's thread: the io_uring
/// backend. False with the epoll backend, which runs them inline.
/// Throws: invalid_state_error if no loop is running.
[[nodiscard]] inline auto async_files() -> bool {
  return detail::loop_access::io(get_running_loop()).async_files();
}

/// Opens `path` (openat(2) relative to `dir`, O_CLOEXEC added) and returns the new fd; `mode`
/// gives the permissions of a file that O_CREAT creates.
/// Cancellation: safe; an fd opened before the cancel took effect is returned (and the cancel
/// stays pending), never leaked. Resumes: on the task's loop. Throws: os_error from openat.
[[nodiscard]] inline auto openat(const char* path ASYNCIO_LIFETIMEBOUND, int flags, unsigned mode = 0666,
                                 int dir = AT_FDCWD) noexcept -> detail::io_operation_awaiter<int> {
  io::operation op = detail_ops::make(io::opcode::openat, dir);
  op.path = path;
  op.flags = flags;
  op.mode = mode;
  return {op, "open"};
}

/// Closes fd (close(2)); the fd is released even when an error is reported.
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from close (EIO...).
[[nodiscard]] inline auto close(int fd) noexcept -> detail::io_operation_awaiter<void> {
  return {detail_ops::make(io::opcode::close, fd), "close"};
}

/// Fills `out` with the status of `path` (statx(2), STATX_BASIC_STATS; `flags` such as
/// AT_SYMLINK_NOFOLLOW, or AT_EMPTY_PATH with path "" and dir = an open fd).
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from statx.
[[nodiscard]] inline auto statx(const char* path ASYNCIO_LIFETIMEBOUND, struct statx& out ASYNCIO_LIFETIMEBOUND,
                                int flags = 0, int dir = AT_FDCWD) noexcept -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::statx, dir);
  op.path = path;
  op.buffer = &out;
  op.flags = flags;
  return {op, "stat"};
}

/// Renames `from` to `to` (renameat2(2) with `flags`, e.g. RENAME_NOREPLACE).
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from renameat2.
[[nodiscard]] inline auto rename(const char* from ASYNCIO_LIFETIMEBOUND, const char* to ASYNCIO_LIFETIMEBOUND,
                                 unsigned flags = 0) noexcept -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::renameat, AT_FDCWD);
  op.path = from;
  op.path2 = to;
  op.flags = static_cast<int>(flags);
  return {op, "rename"};
}

/// Removes a file, or with AT_REMOVEDIR an empty directory (unlinkat(2)).
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from unlinkat.
[[nodiscard]] inline auto unlink(const char* path ASYNCIO_LIFETIMEBOUND, int flags = 0) noexcept
    -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::unlinkat, AT_FDCWD);
  op.path = path;
  op.flags = flags;
  return {op, flags & AT_REMOVEDIR ? "rmdir" : "unlink"};
}

/// Creates a directory (mkdirat(2)) with permissions `mode` (less the umask).
/// Cancellation: safe. Resumes: on the task's loop. Throws: os_error from mkdirat (EEXIST...).
[[nodiscard]] inline auto mkdir(const char* path ASYNCIO_LIFETIMEBOUND, unsigned mode = 0777) noexcept
    -> detail::io_operation_awaiter<void> {
  io::operation op = detail_ops::make(io::opcode::mkdirat, AT_FDCWD);
  op.path = path;
  op.mode = mode;
  return {op, "mkdir"};
}

}  // namespace asyncio::lowlevel
