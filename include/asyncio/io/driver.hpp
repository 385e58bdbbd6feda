#pragma once
// io::driver: the interface through which an event loop waits for the outside world.
//
// The loop (core) calls only this interface; a backend implements it. Two kinds of backend fit
// behind it (docs/design.md, "The io layer"):
//   * a readiness backend (epoll, src/io/epoll_driver.cpp): an operation tries the system call
//     first and waits for readiness only when the kernel said EAGAIN;
//   * a completion backend (io_uring): an operation is submitted to the kernel and completes from
//     the ring.
// Both serve the same two services:
//   1. readiness of file descriptors, edge-triggered (watch / take_ready / park / unpark / forget:
//      the fast path of sockets and pipes) or level-triggered (set_interest: add_reader/add_writer
//      callbacks, the loop's own eventfds);
//   2. operations (io/operation.hpp): recv, send, accept, connect, read and write at an offset,
//      fsync, poll, submitted with submit() and completed through the operation's callback.
// plus poll(timeout): wait for at most `timeout` (the loop passes its next timer's deadline, so
// timers need nothing else from a backend) and dispatch what happened.
//
// The readiness bookkeeping (which task waits on which fd, readiness seen while nobody waited,
// sticky hang-ups) does not depend on the backend, so it lives here, inline: a wait on a socket
// that is already registered costs no virtual call. A backend supplies the kernel side through
// the protected hooks (arm, disarm, update) and reports events through deliver().
//
// Thread safety: loop-affine, like the loop that owns the driver.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace asyncio::io {

struct operation;

/// A direction of readiness.
enum class direction : std::uint8_t { read = 0, write = 1 };

/// What a backend observed on a file descriptor (a set of bits).
enum class readiness : std::uint8_t {
  none = 0,
  readable = 1,     // data, a connection to accept, or EOF
  writable = 2,     // room in the send buffer, or a finished connect
  read_hangup = 4,  // the peer shut its write side (EPOLLRDHUP): reads return EOF from now on
  hangup = 8,       // hang-up or error (EPOLLHUP/EPOLLERR): neither direction blocks again
};
[[nodiscard]] constexpr auto operator|(readiness a, readiness b) noexcept -> readiness {
  return static_cast<readiness>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr auto operator&(readiness a, readiness b) noexcept -> readiness {
  return static_cast<readiness>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr auto operator|=(readiness& a, readiness b) noexcept -> readiness& { return a = a | b; }
[[nodiscard]] constexpr auto any(readiness r) noexcept -> bool { return r != readiness::none; }
/// The readiness bit of a direction.
[[nodiscard]] constexpr auto bit_of(direction d) noexcept -> readiness {
  return d == direction::read ? readiness::readable : readiness::writable;
}
/// The hang-up bits after which a wait in direction d would never block again.
[[nodiscard]] constexpr auto sticky_of(direction d) noexcept -> readiness {
  return d == direction::read ? (readiness::read_hangup | readiness::hangup) : readiness::hangup;
}

/// Someone to tell when an fd became ready in one direction; ready() runs on the loop thread and
/// must not resume a coroutine inline (it schedules a task, sends buffered bytes, or calls a user
/// callback through the loop's error handling).
struct interest {
  void (*ready)(interest* self) noexcept;
};

/// The io backends, chosen per loop (loop_options::io_backend) or for every loop that did not
/// choose (the environment variable ASYNCIO_BACKEND). docs/io_uring.md compares them.
enum class backend : std::uint8_t {
  automatic,        // ASYNCIO_BACKEND if set, otherwise the default: epoll (docs/io_uring.md says why)
  epoll,            // readiness: always available
  io_uring,         // completion: required; a kernel that refuses it is an error (os_error)
  prefer_io_uring,  // io_uring where the kernel allows it, epoll otherwise (silently)
};

/// The name of a backend as ASYNCIO_BACKEND spells it ("auto", "epoll", "io_uring",
/// "prefer_io_uring").
[[nodiscard]] auto to_string(backend b) noexcept -> const char*;

/// Interface and shared readiness table of an io backend. See the file comment.
class driver {
 public:
  driver(const driver&) = delete;
  auto operator=(const driver&) -> driver& = delete;
  virtual ~driver() = default;

  /// The backend's name for statistics and messages ("epoll").
  [[nodiscard]] virtual auto name() const noexcept -> const char* = 0;

  // ---- waiting -------------------------------------------------------------------------------

  /// Waits until an event arrives or `timeout_ms` passed (-1: no limit, 0: do not block), then
  /// runs the ready() of every interest that became ready and completes finished operations.
  /// Returns the number of kernel events seen (0 on timeout or EINTR).
  /// Throws: os_error if the kernel wait fails.
  virtual auto poll(int timeout_ms) -> int = 0;
  /// Watches `fd` (an eventfd another thread writes to wake the loop) for reading; `wake` runs on
  /// every wake-up and must consume it. Not counted in watched(): it alone never keeps a loop
  /// polling. Called once, by the loop's constructor.
  virtual void set_wakeup(int fd, interest* wake) = 0;

  /// Number of registrations that can still produce an event: parked edge waiters, level-triggered
  /// interests and operations in flight. The loop polls (and, at shutdown, waits) only while it
  /// is non-zero.
  [[nodiscard]] auto watched() const noexcept -> std::size_t { return watched_; }

  // ---- edge-triggered readiness waits (sockets, pipes) ----------------------------------------

  /// Registers fd for both directions, edge-triggered (idempotent): from now on readiness the
  /// kernel reports while nobody waits is remembered per direction until take_ready() consumes it.
  /// The owner must call forget() before closing fd.
  /// Throws: os_error from the kernel; invalid_state_error if fd has level-triggered interests.
  void watch(int fd) {
    // Inline: every wait of a socket passes here and the fd is almost always registered already.
    if (static_cast<std::size_t>(fd) < fds_.size() && fds_[fd].edge) [[likely]] return;
    watch_slow(fd);
  }
  /// True while fd is registered by watch() (until forget()).
  [[nodiscard]] auto watching(int fd) const noexcept -> bool {
    return static_cast<std::size_t>(fd) < fds_.size() && fds_[fd].edge;
  }
  /// Unregisters fd (before it is closed). Waiters still parked on it are woken, and operations
  /// in flight on it complete with -ECANCELED (unless they finished first).
  void forget(int fd) noexcept;
  /// Consumes the remembered readiness of fd in direction d: true if it was set. After a hang-up it
  /// stays true: such an fd never blocks again and no further edge would come.
  auto take_ready(int fd, direction d) noexcept -> bool {
    if (static_cast<std::size_t>(fd) >= fds_.size()) return false;
    fd_state& s = fds_[fd];
    bool was = any(s.ready & (bit_of(d) | sticky_of(d)));
    s.ready = s.ready & static_cast<readiness>(~static_cast<std::uint8_t>(bit_of(d)));
    return was;
  }
  /// Remembers readiness of fd in direction d again (a woken waiter that did not use its turn).
  void set_ready(int fd, direction d) noexcept {
    if (static_cast<std::size_t>(fd) < fds_.size() && fds_[fd].edge) fds_[fd].ready |= bit_of(d);
  }
  /// Parks w until fd is reported ready in direction d (fd must be watched); w->ready() then runs
  /// once and w is unlinked.
  /// Throws: invalid_state_error if fd is not watched or another waiter is parked there.
  void park(int fd, direction d, interest* w) {
    if (static_cast<std::size_t>(fd) < fds_.size() && fds_[fd].edge) [[likely]] {
      interest*& slot = slot_of(fds_[fd], d);
      if (!slot) [[likely]] {
        slot = w;
        ++watched_;
        return;
      }
    }
    park_failed(fd, d);
  }
  /// Unlinks w if it is parked on fd in direction d (abort, destruction). True if it was.
  auto unpark(int fd, direction d, interest* w) noexcept -> bool;

  // ---- level-triggered interests (add_reader / add_writer) ------------------------------------

  /// Sets (or with nullptr clears) the interest in fd's readiness in direction d. While set, its
  /// ready() runs on every poll that finds fd ready (level-triggered: one kernel update per change).
  /// Throws: os_error (EBADF for a negative fd); invalid_state_error if fd is watched edge-triggered.
  /// Clearing (i == nullptr) an fd that has interests never throws.
  void set_interest(int fd, direction d, interest* i);

  // ---- operations (io/operation.hpp) -------------------------------------------------------------

  /// Starts `op`. Returns true if it finished at once (op.result is set and op.complete will not be
  /// called); false if it is in flight: op.complete(&op) will run on the loop thread from a later
  /// poll(), unless cancel() withdraws it first. `op` must stay where it is until then.
  /// Throws: os_error if the operation cannot be started (e.g. the fd cannot be registered).
  virtual auto submit(operation& op) -> bool = 0;
  /// Withdraws an operation in flight. True if it is withdrawn (op.complete will not run); false
  /// if its completion will still be delivered (a completion backend whose kernel already did the
  /// work reports it, so that no received or written byte goes unaccounted).
  virtual auto cancel(operation& op) noexcept -> bool = 0;
  /// Withdraws an operation whose memory is about to be freed (its frame is being destroyed): on
  /// return the backend no longer refers to `op` or its buffer. The epoll backend just unparks it;
  /// a completion backend waits until the kernel let go (io_uring_register_sync_cancel).
  virtual void abandon(operation& op) noexcept = 0;
  /// True if read_at / write_at / fsync complete without blocking the loop's thread (a completion
  /// backend). The epoll backend runs them inline and blocking (epoll cannot wait for regular
  /// files), so the file layer sends them to the thread pool instead.
  [[nodiscard]] virtual auto async_files() const noexcept -> bool = 0;

 protected:
  driver() = default;

  /// Per-fd readiness state shared by every backend.
  struct fd_state {
    interest* reader = nullptr;
    interest* writer = nullptr;
    readiness level = readiness::none;  // level-triggered: the directions armed with the kernel
    bool edge = false;                  // watch(): armed edge-triggered for both directions
    readiness ready = readiness::none;  // edge: readiness seen with no waiter, and sticky hang-ups
  };

  static auto slot_of(fd_state& s, direction d) noexcept -> interest*& {
    return d == direction::read ? s.reader : s.writer;
  }
  /// Registers fd with the kernel edge-triggered for both directions.
  virtual void arm_edge(int fd) = 0;
  /// Tells the kernel the level-triggered directions wanted for fd (none: unregister).
  virtual void update_level(int fd, readiness before, readiness wanted) = 0;
  /// Unregisters an edge-triggered fd (the fd may already be closed).
  virtual void disarm(int fd) noexcept = 0;
  /// fd is about to be closed: cancels the operations in flight on it that the readiness table
  /// does not know (a completion backend's). The epoll backend's operations are all parked in the
  /// table, so it has nothing to do.
  virtual void cancel_operations_on(int fd) noexcept { (void)fd; }

  /// Hands what the kernel reported for fd to its waiters (edge) or interests (level). Inline: a
  /// backend's poll() calls it once per event, on the hot path of every socket.
  void deliver(int fd, readiness events) noexcept {
    if (static_cast<std::size_t>(fd) >= fds_.size()) [[unlikely]] return;
    constexpr readiness read_events = readiness::readable | readiness::read_hangup | readiness::hangup;
    constexpr readiness write_events = readiness::writable | readiness::hangup;
    fd_state& s = fds_[fd];
    if (!s.edge) [[unlikely]] {
      deliver_level(fd, events);
      return;
    }
    // Hang-ups are sticky (a hang-up implies the read side's too). A parked waiter takes the
    // readiness; otherwise it is remembered for the next wait. Waiters' ready() only schedules a
    // task or sends buffered bytes: it never resizes fds_.
    if (any(events & (readiness::read_hangup | readiness::hangup))) [[unlikely]] {
      s.ready |= events & (readiness::read_hangup | readiness::hangup);
      if (any(events & readiness::hangup)) s.ready |= readiness::read_hangup;
    }
    if (any(events & read_events)) {
      if (s.reader) wake(s.reader);
      else s.ready |= readiness::readable;
    }
    if (any(events & write_events)) {
      if (s.writer) wake(s.writer);
      else s.ready |= readiness::writable;
    }
  }
  /// Counts an operation in flight that is not parked in the table (a completion backend's
  /// submitted operation): +1 when submitted, -1 when completed or withdrawn.
  void count_in_flight(std::ptrdiff_t delta) noexcept { watched_ += delta; }

 private:
  void watch_slow(int fd);
  [[noreturn]] void park_failed(int fd, direction d) const;
  void deliver_level(int fd, readiness events) noexcept;
  void wake(interest*& slot) noexcept {
    interest* i = slot;
    slot = nullptr;
    --watched_;
    i->ready(i);
  }

  std::vector<fd_state> fds_;
  std::size_t watched_ = 0;
};

/// Makes the driver for `which`. `automatic` takes the backend from the environment variable
/// ASYNCIO_BACKEND (auto, epoll, io_uring, prefer_io_uring), and epoll when it is unset or auto.
/// Whether io_uring is usable is probed once per driver: the io_uring_disabled sysctl, the ring
/// set-up (flags tried in the order SINGLE_ISSUER|DEFER_TASKRUN, COOP_TASKRUN, none), EPERM from
/// seccomp or a container, and the opcodes this library submits. The environment variable
/// ASYNCIO_URING_UNAVAILABLE=<reason> makes the probe fail (to test a program's fallback).
/// Throws: os_error if the backend cannot be created (for a required io_uring: the reason the
/// probe failed); std::invalid_argument for an unknown name in ASYNCIO_BACKEND.
[[nodiscard]] auto make_driver(backend which = backend::automatic) -> std::unique_ptr<driver>;

}  // namespace asyncio::io
