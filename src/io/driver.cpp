// io::driver's readiness table: the part of every backend that does not talk to the kernel.
#include <asyncio/io/driver.hpp>

#include <asyncio/errors.hpp>

#include <cerrno>
#include <utility>

namespace asyncio::io {

void driver::watch_slow(int fd) {
  if (fd < 0) throw_os_error(EBADF, "watch");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
  fd_state& s = fds_[fd];
  if (s.edge) return;
  if (any(s.level)) throw invalid_state_error("fd is watched by add_reader/add_writer");
  arm_edge(fd);
  s.edge = true;
  s.ready = readiness::none;  // the kernel reports the current state at the next poll
}

void driver::forget(int fd) noexcept {
  if (fd < 0) return;
  cancel_operations_on(fd);
  if (static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd].edge) return;
  fd_state& s = fds_[fd];
  disarm(fd);
  interest* r = std::exchange(s.reader, nullptr);
  interest* w = std::exchange(s.writer, nullptr);
  s.edge = false;
  s.ready = readiness::none;
  if (r) wake(r);
  if (w) wake(w);
}

void driver::park_failed(int fd, direction d) const {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd].edge)
    throw invalid_state_error("park: fd is not watched");
  throw invalid_state_error(d == direction::read ? "another task is already waiting to read this fd"
                                                 : "another task is already waiting to write this fd");
}

auto driver::unpark(int fd, direction d, interest* w) noexcept -> bool {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return false;
  interest*& slot = slot_of(fds_[fd], d);
  if (slot != w || !fds_[fd].edge) return false;
  slot = nullptr;
  --watched_;
  return true;
}

void driver::set_interest(int fd, direction d, interest* i) {
  if (fd < 0) throw_os_error(EBADF, "set_interest");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
  fd_state& s = fds_[fd];
  if (s.edge) throw invalid_state_error("fd is watched edge-triggered (watch)");
  interest* old = std::exchange(slot_of(s, d), i);
  readiness wanted = (s.reader ? readiness::readable : readiness::none) |
                     (s.writer ? readiness::writable : readiness::none);
  if (wanted == s.level) return;
  try {
    update_level(fd, s.level, wanted);
  } catch (...) {
    slot_of(s, d) = old;
    throw;
  }
  if (!any(s.level) && any(wanted)) ++watched_;
  if (any(s.level) && !any(wanted)) --watched_;
  s.level = wanted;
}

void driver::deliver_level(int fd, readiness events) noexcept {
  constexpr readiness read_events = readiness::readable | readiness::read_hangup | readiness::hangup;
  constexpr readiness write_events = readiness::writable | readiness::hangup;
  // Re-read the slot after each call, since a callback may change or remove interests (and grow
  // fds_).
  if (any(events & read_events)) {
    if (interest* r = fds_[fd].reader) r->ready(r);
  }
  if (any(events & write_events) && static_cast<std::size_t>(fd) < fds_.size()) {
    if (interest* w = fds_[fd].writer) w->ready(w);
  }
}

}  // namespace asyncio::io
