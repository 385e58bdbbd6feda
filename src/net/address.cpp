#include <asyncio/net/address.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

namespace asyncio {

address::address(const sockaddr* sa, socklen_t len) noexcept {
  if (len > sizeof storage_) len = sizeof storage_;
  std::memcpy(&storage_, sa, len);
  len_ = len;
}

auto address::ipv4(std::string_view host, std::uint16_t port) -> address {
  address a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage_);
  std::string h(host);
  if (::inet_pton(AF_INET, h.c_str(), &in->sin_addr) != 1)
    throw std::invalid_argument("not an IPv4 address: " + h);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

auto address::ipv6(std::string_view host, std::uint16_t port) -> address {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  address a;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  std::string h(host);
  if (::inet_pton(AF_INET6, h.c_str(), &in6->sin6_addr) != 1)
    throw std::invalid_argument("not an IPv6 address: " + h);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  a.len_ = sizeof(sockaddr_in6);
  return a;
}

auto address::parse(std::string_view host, std::uint16_t port) -> address {
  if (host.find(':') != std::string_view::npos || (!host.empty() && host.front() == '['))
    return ipv6(host, port);
  return ipv4(host, port);
}

auto address::unix_path(std::string_view path) -> address {
  address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  if (path.size() >= sizeof un->sun_path) throw std::invalid_argument("Unix socket path too long");
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  // Abstract namespace: the name starts with a NUL byte and has no terminator.
  if (!path.empty() && path.front() == '@') {
    un->sun_path[0] = '\0';
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  } else {
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  return a;
}

auto address::port() const noexcept -> std::uint16_t {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

auto address::host() const -> std::string {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
    return buf;
  }
  if (family() == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
    std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
    if (n == 0) return {};
    if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
    return std::string(un->sun_path, ::strnlen(un->sun_path, n));
  }
  return {};
}

auto address::to_string() const -> std::string {
  if (family() == AF_INET) return host() + ":" + std::to_string(port());
  if (family() == AF_INET6) return "[" + host() + "]:" + std::to_string(port());
  return host();
}

auto operator==(const address& a, const address& b) noexcept -> bool {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

}  // namespace asyncio
