// loop_port: eventfd ownership and the discard path (see the header for the protocol).
#include <asyncio/detail/loop_port.hpp>
#include <asyncio/errors.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace asyncio::detail {

auto loop_port::create() -> loop_port* {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw_os_error(errno, "eventfd");
  auto* port = new loop_port;
  port->fd_ = fd;
  return port;
}

loop_port::~loop_port() {
  if (fd_ >= 0) ::close(fd_);
}

void loop_port::destroy() noexcept {
  // Posts that raced with close() were discarded by their posters; anything left is discarded here.
  discard_all();
  delete this;
}

void loop_port::write_wake() noexcept {
  std::uint64_t one = 1;
  ssize_t n = ::write(fd_, &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, the loop wakes anyway
}

void loop_port::consume_wake() noexcept {
  std::uint64_t value;
  ssize_t n = ::read(fd_, &value, sizeof value);
  (void)n;
  // After the read: a post that saw wake_written_ == true before this store relied on a write that
  // the loop has now consumed, but the loop drains the port right after polling, so nothing is lost.
  wake_written_.store(false, std::memory_order_release);
}

void loop_port::discard_all() noexcept {
  remote_item* items = reverse(head_.exchange(nullptr, std::memory_order_acquire));
  while (items) {
    remote_item* next = items->next;
    items->deliver(items, true);
    items = next;
  }
}

}  // namespace asyncio::detail
