#pragma once
// Translation between poll(2)/epoll event bits and io::readiness, shared by the epoll backend
// (epoll_wait's events) and the io_uring backend (a poll request's result): the kernel uses the same
// bit values for both (EPOLLIN == POLLIN, ...).
#include <asyncio/io/driver.hpp>

#include <poll.h>
#include <sys/epoll.h>

#include <cstdint>

namespace asyncio::io {

// Branch-free: the readiness bits are EPOLLIN, EPOLLOUT, EPOLLRDHUP and EPOLLHUP|EPOLLERR, in order.
static_assert(EPOLLIN == 0x1 && EPOLLOUT == 0x4 && EPOLLERR == 0x8 && EPOLLHUP == 0x10 && EPOLLRDHUP == 0x2000);
static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT && POLLERR == EPOLLERR && POLLHUP == EPOLLHUP);
[[nodiscard]] inline auto to_readiness(std::uint32_t ev) noexcept -> readiness {
  std::uint32_t r = (ev & EPOLLIN) | ((ev & EPOLLOUT) >> 1) | ((ev & EPOLLRDHUP) >> 11) |
                    (((ev & (EPOLLHUP | EPOLLERR)) != 0) << 3);
  return static_cast<readiness>(r);
}

/// The poll bits that ask for the directions in r (readable, writable).
[[nodiscard]] inline auto to_poll_events(readiness r) noexcept -> std::uint32_t {
  return (any(r & readiness::readable) ? EPOLLIN : 0u) | (any(r & readiness::writable) ? EPOLLOUT : 0u);
}

}  // namespace asyncio::io
