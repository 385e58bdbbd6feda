// The io_uring backend (src/io/uring_driver.hpp, docs/io_uring.md).
#include "io/uring_driver.hpp"
#include "io/poll_events.hpp"

#include <asyncio/errors.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace asyncio::io {
namespace {

// The opcodes this backend submits: a kernel without one of them is refused at the probe, so that
// no operation fails later with EINVAL.
constexpr struct {
  int code;
  const char* name;
} required_opcodes[] = {
    {IORING_OP_POLL_ADD, "POLL_ADD"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}, {IORING_OP_RECV, "RECV"},
    {IORING_OP_SEND, "SEND"}, {IORING_OP_ACCEPT, "ACCEPT"},
    {IORING_OP_CONNECT, "CONNECT"}, {IORING_OP_READ, "READ"},
    {IORING_OP_WRITE, "WRITE"}, {IORING_OP_FSYNC, "FSYNC"},
    {IORING_OP_OPENAT, "OPENAT"}, {IORING_OP_CLOSE, "CLOSE"},
    {IORING_OP_STATX, "STATX"}, {IORING_OP_RENAMEAT, "RENAMEAT"},
    {IORING_OP_UNLINKAT, "UNLINKAT"}, {IORING_OP_MKDIRAT, "MKDIRAT"},
};

// Set-up flags, best first (docs/io_uring.md): SINGLE_ISSUER|DEFER_TASKRUN runs completion work only
// when the loop asks for events (no interruption of the loop's thread); COOP_TASKRUN at least does
// not interrupt it with an IPI; the last set works on any kernel with the opcodes above. The ring
// starts disabled with SINGLE_ISSUER so that it binds to the thread that runs the loop, not the one
// that constructed it.
constexpr unsigned flag_sets[] = {
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SUBMIT_ALL,
    0,
};
constexpr unsigned submission_entries = 256;
constexpr unsigned completion_entries = 4096;

// "/proc/sys/kernel/io_uring_disabled": 0 allowed, 1 only for a group, 2 disabled (Linux 6.6+).
auto sysctl_disabled() -> int {
  std::FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r");
  if (!f) return 0;  // older kernels do not have the switch
  int v = 0;
  if (std::fscanf(f, "%d", &v) != 1) v = 0;
  std::fclose(f);
  return v;
}

auto describe_setup_error(int err) -> std::string {
  std::string why = std::string("io_uring_setup: ") + std::strerror(err);
  if (err == EPERM) why += " (forbidden by seccomp, a container, or kernel.io_uring_disabled)";
  if (err == ENOSYS) why += " (the kernel has no io_uring)";
  return why;
}

}  // namespace

// ---- creation and probing ------------------------------------------------------------------------

auto uring_driver::create(std::string& why_not) -> std::unique_ptr<uring_driver> {
  if (const char* forced = std::getenv("ASYNCIO_URING_UNAVAILABLE"); forced && *forced) {
    why_not = std::string("io_uring made unavailable by ASYNCIO_URING_UNAVAILABLE: ") + forced;
    return nullptr;
  }
  if (sysctl_disabled() == 2) {
    why_not = "io_uring is disabled on this machine (/proc/sys/kernel/io_uring_disabled = 2)";
    return nullptr;
  }
  std::unique_ptr<uring_driver> d(new uring_driver());
  int err = EINVAL;
  for (unsigned flags : flag_sets) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = completion_entries;
    int r = io_uring_queue_init_params(submission_entries, &d->ring_, &params);
    if (r == 0) {
      d->setup_flags_ = flags;
      d->enabled_ = (flags & IORING_SETUP_R_DISABLED) == 0;
      err = 0;
      break;
    }
    err = -r;
    if (err != EINVAL) break;  // an unknown flag gives EINVAL: try the next set; anything else is final
  }
  if (err != 0) {
    why_not = describe_setup_error(err);
    d.release();  // the ring was never initialised: nothing for the destructor to free
    return nullptr;
  }
  // From here the destructor frees the ring.
  if ((d->ring_.features & IORING_FEAT_EXT_ARG) == 0) {
    why_not = "io_uring: the kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11+), needed to wait with a timeout";
    return nullptr;
  }
  io_uring_probe* probe = io_uring_get_probe_ring(&d->ring_);
  if (!probe) {
    why_not = "io_uring: the opcode probe failed";
    return nullptr;
  }
  for (const auto& op : required_opcodes) {
    if (!io_uring_opcode_supported(probe, op.code)) {
      why_not = std::string("io_uring: the kernel lacks IORING_OP_") + op.name;
      io_uring_free_probe(probe);
      return nullptr;
    }
  }
  io_uring_free_probe(probe);
  return d;
}

uring_driver::~uring_driver() { io_uring_queue_exit(&ring_); }

void uring_driver::enable_on_this_thread() {
  // IORING_REGISTER_ENABLE_RINGS has no liburing 2.3 wrapper (docs/toolchain.md §7.2).
  if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
    throw_os_error(errno, "io_uring_register(ENABLE_RINGS)");
  enabled_ = true;
}

// ---- submission ----------------------------------------------------------------------------------

auto uring_driver::next_sqe() -> io_uring_sqe* {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe) [[likely]] return sqe;
  // The queue is full (a burst of submissions within one iteration): hand it to the kernel now.
  if (!enabled_) enable_on_this_thread();
  int r = io_uring_submit(&ring_);
  if (r < 0) throw_os_error(-r, "io_uring_submit");
  sqe = io_uring_get_sqe(&ring_);
  if (!sqe) throw_os_error(EBUSY, "io_uring_get_sqe");
  return sqe;
}

void uring_driver::flush() noexcept {
  if (!enabled_) {
    try {
      enable_on_this_thread();
    } catch (...) {
      return;  // the ring never ran: nothing of it can be in the kernel
    }
  }
  (void)io_uring_submit_and_get_events(&ring_);
}

auto uring_driver::take_slot(operation& op) -> std::uint32_t {
  if (free_slot_ == slots_.size()) {
    slots_.push_back(in_flight{});
    slots_.back().next_free = static_cast<std::uint32_t>(slots_.size());
  }
  std::uint32_t slot = free_slot_;
  free_slot_ = slots_[slot].next_free;
  slots_[slot].op = &op;
  return slot;
}

void uring_driver::free_slot(std::uint32_t slot) noexcept {
  slots_[slot].op = nullptr;
  slots_[slot].next_free = free_slot_;
  free_slot_ = slot;
}

void uring_driver::prepare(io_uring_sqe* sqe, operation& op) noexcept {
  switch (op.code) {
    case opcode::recv: io_uring_prep_recv(sqe, op.fd, op.buffer, op.length, op.flags); break;
    case opcode::send: io_uring_prep_send(sqe, op.fd, op.buffer, op.length, op.flags | MSG_NOSIGNAL); break;
    case opcode::accept:
      io_uring_prep_accept(sqe, op.fd, op.address, op.address ? &op.address_length : nullptr,
                           op.flags | SOCK_CLOEXEC | SOCK_NONBLOCK);
      break;
    case opcode::connect: io_uring_prep_connect(sqe, op.fd, op.address, op.address_length); break;
    case opcode::read_at:
      io_uring_prep_read(sqe, op.fd, op.buffer, static_cast<unsigned>(op.length), static_cast<__u64>(op.offset));
      break;
    case opcode::write_at:
      io_uring_prep_write(sqe, op.fd, op.buffer, static_cast<unsigned>(op.length), static_cast<__u64>(op.offset));
      break;
    case opcode::fsync: io_uring_prep_fsync(sqe, op.fd, op.flags ? IORING_FSYNC_DATASYNC : 0); break;
    case opcode::poll:
      io_uring_prep_poll_add(sqe, op.fd, op.wait_for == direction::read ? POLLIN : POLLOUT);
      break;
    case opcode::openat: io_uring_prep_openat(sqe, op.fd, op.path, op.flags | O_CLOEXEC, op.mode); break;
    case opcode::close: io_uring_prep_close(sqe, op.fd); break;
    case opcode::statx:
      io_uring_prep_statx(sqe, op.fd, op.path, op.flags, STATX_BASIC_STATS, static_cast<struct statx*>(op.buffer));
      break;
    case opcode::renameat:
      io_uring_prep_renameat(sqe, op.fd, op.path, AT_FDCWD, op.path2, static_cast<unsigned>(op.flags));
      break;
    case opcode::unlinkat: io_uring_prep_unlinkat(sqe, op.fd, op.path, op.flags); break;
    case opcode::mkdirat: io_uring_prep_mkdirat(sqe, op.fd, op.path, op.mode); break;
  }
  io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(tag::operation) | (static_cast<std::uint64_t>(op.slot) << 3));
}

auto uring_driver::submit(operation& op) -> bool {
  op.owner = this;
  // A read or write of more than the kernel's per-request limit is cut to it (the result says
  // how much moved), as read(2) and write(2) do.
  if (op.length > 0x7ffff000u && (op.code == opcode::read_at || op.code == opcode::write_at)) op.length = 0x7ffff000u;
  io_uring_sqe* sqe = next_sqe();
  fd_polls* per_fd = op.fd >= 0 && !is_file_opcode(op.code) ? &polls_of(op.fd) : nullptr;
  op.slot = take_slot(op);
  prepare(sqe, op);
  count_in_flight(+1);
  if (per_fd) ++per_fd->operations;
  return false;  // completes from a later poll(), after the next io_uring_enter
}

auto uring_driver::cancel(operation& op) noexcept -> bool {
  // The request may have run already (its completion is then delivered, with the bytes it moved)
  // or still wait in the submission queue (the cancel entry comes after it and finds it in the
  // kernel): in every case its completion comes, as -ECANCELED or as the result.
  io_uring_sqe* sqe = nullptr;
  try {
    sqe = next_sqe();
  } catch (...) {
    flush();
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return false;  // the completion will still come: the awaiter keeps waiting for it
  }
  io_uring_prep_cancel64(sqe, static_cast<std::uint64_t>(tag::operation) | (static_cast<std::uint64_t>(op.slot) << 3), 0);
  io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(tag::ignore));
  return false;
}

void uring_driver::abandon(operation& op) noexcept {
  // The frame that holds op (and its buffer) is being freed: the kernel must let go of both first.
  // Hand the queue over (op may still sit in it), cancel synchronously, and orphan the entry: its
  // completion, already posted or still to come, then finds no operation.
  if (op.owner != this || op.slot >= slots_.size() || slots_[op.slot].op != &op) return;
  flush();
  io_uring_sync_cancel_reg reg{};
  reg.addr = static_cast<std::uint64_t>(tag::operation) | (static_cast<std::uint64_t>(op.slot) << 3);
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  (void)io_uring_register_sync_cancel(&ring_, &reg);  // -ENOENT: it had finished already
  slots_[op.slot].op = nullptr;
  if (op.fd >= 0 && !is_file_opcode(op.code)) --polls_[static_cast<std::size_t>(op.fd)].operations;
}

// ---- readiness: polls kept in the ring -------------------------------------------------------------

auto uring_driver::polls_of(int fd) -> fd_polls& {
  if (static_cast<std::size_t>(fd) >= polls_.size()) polls_.resize(static_cast<std::size_t>(fd) + 1);
  return polls_[static_cast<std::size_t>(fd)];
}

void uring_driver::arm_edge_poll(int fd, fd_polls& p) {
  io_uring_sqe* sqe = next_sqe();
  // Multishot polls are edge-triggered unless IORING_POLL_ADD_LEVEL is set: one completion per
  // wake-up of the socket, as epoll's EPOLLET; the first reports the state at arming.
  io_uring_prep_poll_multishot(sqe, fd, POLLIN | POLLOUT | POLLRDHUP);
  io_uring_sqe_set_data64(sqe, encode_poll(tag::edge, fd, p.edge_generation));
  p.edge_armed = true;
}

void uring_driver::arm_level_poll(int fd, fd_polls& p) {
  // Level-triggered: a one-shot poll, re-armed after each event. A re-armed poll of an fd that is
  // still ready completes at once, so the interest's callback runs again on the next poll().
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_add(sqe, fd, to_poll_events(p.level_wanted));
  io_uring_sqe_set_data64(sqe, encode_poll(tag::level, fd, p.level_generation));
  p.level_armed = true;
}

void uring_driver::arm_edge(int fd) {
  // epoll reports a bad fd at once; a ring request would report it later, to nobody.
  if (::fcntl(fd, F_GETFD) < 0) throw_os_error(errno, "io_uring poll");
  fd_polls& p = polls_of(fd);
  ++p.edge_generation;
  arm_edge_poll(fd, p);
}

void uring_driver::remove_poll(std::uint64_t user_data) noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush();
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return;  // cannot happen after a flush; the generation already makes it stale
  }
  // ASYNC_CANCEL, not POLL_REMOVE: a removal that meets the poll while a wake-up of it is being
  // processed fails with EALREADY and leaves the multishot poll armed (and its file held open);
  // a cancel marks it, and the pending wake-up then ends it with -ECANCELED.
  io_uring_prep_cancel64(sqe, user_data, 0);
  io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(tag::ignore));
}

void uring_driver::disarm(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= polls_.size()) return;
  fd_polls& p = polls_[static_cast<std::size_t>(fd)];
  std::uint64_t old = encode_poll(tag::edge, fd, p.edge_generation);
  ++p.edge_generation;  // completions of the old poll are stale from now on
  if (!p.edge_armed) return;
  p.edge_armed = false;
  remove_poll(old);
  // A poll holds a reference to its file: the socket the caller is about to close stays open (no
  // FIN for the peer) until the removal runs, so run it now rather than at the next poll().
  flush();
}

void uring_driver::cancel_operations_on(int fd) noexcept {
  // Sockets only (file operations are not counted per fd: a file is closed by a ring request of
  // its own, after its operations finished). Cheap when nothing is in flight on fd: no request.
  if (static_cast<std::size_t>(fd) >= polls_.size() || polls_[static_cast<std::size_t>(fd)].operations == 0) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush();
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return;
  }
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(tag::ignore));
  flush();  // they hold the file: let go of it before the caller closes the fd
}

void uring_driver::update_level(int fd, readiness before, readiness wanted) {
  (void)before;
  if (any(wanted) && ::fcntl(fd, F_GETFD) < 0) throw_os_error(errno, "io_uring poll");
  fd_polls& p = polls_of(fd);
  bool had = p.level_armed;
  std::uint64_t old = encode_poll(tag::level, fd, p.level_generation);
  ++p.level_generation;
  p.level_wanted = wanted;
  p.level_armed = false;
  if (had) remove_poll(old);
  if (any(wanted)) arm_level_poll(fd, p);
  else if (had) flush();  // let go of the file now, as disarm()
}

void uring_driver::set_wakeup(int fd, interest* wake) {
  wake_fd_ = fd;
  wake_ = wake;
  arm_wakeup();
}

void uring_driver::arm_wakeup() {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
  io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(tag::wakeup));
}

// ---- waiting and completions ----------------------------------------------------------------------

auto uring_driver::poll(int timeout_ms) -> int {
  if (!enabled_) [[unlikely]] enable_on_this_thread();
  // One io_uring_enter: hand over what this iteration queued and wait for (or just collect) the
  // completions.
  int r = 0;
  if (timeout_ms == 0) {
    r = io_uring_submit_and_get_events(&ring_);
  } else if (timeout_ms < 0) {
    r = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1'000'000;
    io_uring_cqe* first = nullptr;
    r = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
  }
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) throw_os_error(-r, "io_uring_enter");

  int seen = 0;
  io_uring_cqe* batch[64];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, batch, 64);
    if (n == 0) break;
    for (unsigned i = 0; i < n; ++i) {
      // Copied out: the entry's slot is reused once the batch is marked seen.
      io_uring_cqe cqe = *batch[i];
      io_uring_cq_advance(&ring_, 1);
      if (dispatch(cqe)) ++seen;
    }
    if (n < 64) break;
  }
  return seen;
}

auto uring_driver::dispatch(const io_uring_cqe& cqe) noexcept -> bool {
  std::uint64_t data = cqe.user_data;
  auto t = static_cast<tag>(data & 7);
  int fd = static_cast<int>(static_cast<std::uint32_t>(data >> 3));
  auto generation = static_cast<std::uint32_t>(data >> 35);
  switch (t) {
    case tag::ignore: return false;
    case tag::operation: complete_operation(static_cast<std::uint32_t>(data >> 3), cqe.res); return true;
    case tag::edge: on_edge(fd, generation, cqe.res, (cqe.flags & IORING_CQE_F_MORE) != 0); return true;
    case tag::level: on_level(fd, generation, cqe.res); return true;
    case tag::wakeup:
      try {
        arm_wakeup();  // before the callback: a wake-up posted while it runs is not missed
      } catch (...) {
      }
      wake_->ready(wake_);
      return true;
  }
  return false;
}

void uring_driver::complete_operation(std::uint32_t slot, std::int32_t res) noexcept {
  operation* op = slots_[slot].op;
  if (op && op->code == opcode::accept && res == -ECONNABORTED) {
    // The connection went away before it was taken (epoll's backend retries the same way).
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
      prepare(sqe, *op);
      return;
    }
  }
  free_slot(slot);
  count_in_flight(-1);
  if (!op) return;  // abandoned: its frame is gone (abandon() did the per-fd count)
  if (op->fd >= 0 && !is_file_opcode(op->code)) --polls_[static_cast<std::size_t>(op->fd)].operations;
  if (op->code == opcode::poll && res >= 0) {
    op->result = static_cast<std::int64_t>(bit_of(op->wait_for));
  } else {
    op->result = res;
  }
  op->complete(op);
}

void uring_driver::on_edge(int fd, std::uint32_t generation, std::int32_t res, bool more) noexcept {
  auto index = static_cast<std::size_t>(fd);
  if (index >= polls_.size() || (polls_[index].edge_generation & 0x1fffffffu) != generation || !watching(fd))
    return;  // a poll replaced or removed since
  if (!more) polls_[index].edge_armed = false;
  if (res < 0) {
    // The poll failed (not a removal: that would have changed the generation). Nothing more will
    // come from it: let the waiters find out by trying their call, as after a hang-up.
    deliver(fd, readiness::hangup);
    return;
  }
  deliver(fd, to_readiness(static_cast<std::uint32_t>(res)));  // may grow polls_: index again below
  // The multishot poll ended (the completion queue overflowed, or the kernel gave up on it):
  // re-arm; the new poll reports the current state, so no edge is lost.
  fd_polls& p = polls_[index];
  if (!p.edge_armed && watching(fd) && (p.edge_generation & 0x1fffffffu) == generation) {
    try {
      arm_edge_poll(fd, p);
    } catch (...) {
      deliver(fd, readiness::hangup);  // cannot watch it any more: let its waiters find out
    }
  }
}

void uring_driver::on_level(int fd, std::uint32_t generation, std::int32_t res) noexcept {
  auto index = static_cast<std::size_t>(fd);
  if (index >= polls_.size() || (polls_[index].level_generation & 0x1fffffffu) != generation) return;
  polls_[index].level_armed = false;
  if (res < 0) {
    // E.g. EBADF: the fd was closed without clearing its interest. epoll forgets such an fd
    // silently; report it once to the callback (which finds the error) and do not re-arm.
    deliver(fd, readiness::hangup);
    return;
  }
  deliver(fd, to_readiness(static_cast<std::uint32_t>(res)));  // may change the interest or grow polls_
  fd_polls& p = polls_[index];
  if ((p.level_generation & 0x1fffffffu) == generation && any(p.level_wanted) && !p.level_armed) {
    try {
      arm_level_poll(fd, p);
    } catch (...) {
    }
  }
}

}  // namespace asyncio::io
