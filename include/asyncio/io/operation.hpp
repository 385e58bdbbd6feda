#pragma once
// io::operation: one I/O request handed to the loop's io::driver (io/driver.hpp) with submit().
//
// The request is plain data (what to do, on which fd, with which buffer) plus a completion
// callback, so that both kinds of backend can carry it out: the epoll backend tries the system
// call at once and, on EAGAIN, parks the operation on the fd's readiness and retries it from
// poll(); the io_uring backend puts it in a submission queue entry whose user_data leads
// back here. Tasks await operations through lowlevel::io_operation_awaiter
// (lowlevel/io_operation.hpp); the operation object lives in the awaiting frame, so a request
// costs no allocation.
//
// Results follow the kernel's convention: result >= 0 is the value (bytes moved, the accepted fd,
// 0 for connect/fsync and the file-system calls, the readiness seen for poll, the fd for openat);
// result < 0 is -errno.
#include <cstddef>
#include <cstdint>

#include <sys/socket.h>

#include <asyncio/io/driver.hpp>

namespace asyncio::io {

/// What an operation does (the system call the epoll backend makes for it).
enum class opcode : std::uint8_t {
  recv,      // recv(fd, buffer, length, flags)
  send,      // send(fd, buffer, length, flags | MSG_NOSIGNAL)
  accept,    // accept4(fd, address, &address_length, flags | SOCK_CLOEXEC | SOCK_NONBLOCK)
  connect,   // connect(fd, address, address_length); completes when the connection is established
  read_at,   // pread(fd, buffer, length, offset)
  write_at,  // pwrite(fd, buffer, length, offset)
  fsync,     // fsync(fd), or fdatasync(fd) when flags != 0
  poll,      // waits until fd is ready in direction `wait_for`; result: the readiness bits seen
  // File-system calls (fd is the directory fd the path is relative to, AT_FDCWD for the working
  // directory). The epoll backend runs them inline and blocking, as read_at (driver::async_files).
  openat,    // openat(fd, path, flags | O_CLOEXEC, mode); result: the new fd
  close,     // close(fd)
  statx,     // statx(fd, path, flags, STATX_BASIC_STATS, (struct statx*)buffer)
  renameat,  // renameat2(fd, path, AT_FDCWD, path2, flags)
  unlinkat,  // unlinkat(fd, path, flags): AT_REMOVEDIR removes a directory
  mkdirat,   // mkdirat(fd, path, mode)
};

/// True for the opcodes that work on regular files and paths: the ones a readiness backend cannot
/// wait for (it runs them inline and blocking).
[[nodiscard]] constexpr auto is_file_opcode(opcode c) noexcept -> bool {
  return c == opcode::read_at || c == opcode::write_at || c == opcode::fsync || c >= opcode::openat;
}

/// One request. Fill in the fields the opcode uses, set `complete`, then submit it. The object must
/// stay in place (and its buffer valid) until it completed or was cancelled.
struct operation : interest {  // the interest part belongs to the backend
  opcode code = opcode::poll;
  direction wait_for = direction::read;  // poll only
  int fd = -1;
  int flags = 0;
  void* buffer = nullptr;                // recv/read_at: written; send/write_at: read
  std::size_t length = 0;
  std::int64_t offset = 0;               // read_at / write_at
  sockaddr* address = nullptr;           // accept: filled (may be null); connect: the peer
  socklen_t address_length = 0;          // accept: capacity in, length out; connect: length
  const char* path = nullptr;            // openat, statx, renameat (from), unlinkat, mkdirat
  const char* path2 = nullptr;           // renameat: the new name
  unsigned mode = 0;                     // openat / mkdirat: permissions of a created file
  std::int64_t result = 0;               // >= 0: the value; < 0: -errno
  /// Runs on the loop thread when an operation that submit() left in flight has finished (never
  /// for one that finished inside submit, nor after a successful cancel). Must not resume a
  /// coroutine inline.
  void (*complete)(operation* self) noexcept = nullptr;
  void* context = nullptr;               // the submitter's (e.g. the awaiter that waits for it)
  driver* owner = nullptr;               // set by submit(): the driver it was handed to
  bool connect_started = false;          // epoll backend: connect() was called, waiting for writable
  std::uint32_t slot = 0;                // io_uring backend: the operation's entry in its in-flight table
};

/// The result of an accept: the new connection's fd and the length of the peer's address.
struct accepted {
  int fd = -1;
  socklen_t address_length = 0;
};

/// The direction of readiness an opcode waits for on a readiness backend.
[[nodiscard]] constexpr auto direction_of(const operation& op) noexcept -> direction {
  switch (op.code) {
    case opcode::send:
    case opcode::connect:
    case opcode::write_at: return direction::write;
    case opcode::poll: return op.wait_for;
    default: return direction::read;
  }
}

}  // namespace asyncio::io
