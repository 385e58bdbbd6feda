#pragma once
// address: a socket address (IPv4, IPv6 or Unix path), the C++ form of Python's address tuples.
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace asyncio {

/// A socket address: IPv4 ("127.0.0.1", port), IPv6 ("::1", port) or a Unix socket path. A value
/// type (copyable, comparable). Parsing is numeric only: names go through getaddrinfo().
///
/// Thread safety: a plain value; distinct objects may be used from distinct threads.
class address {
 public:
  address() noexcept = default;
  /// Copies a sockaddr returned by the kernel (accept, getsockname, getaddrinfo...).
  address(const sockaddr* sa, socklen_t len) noexcept;

  /// A numeric IPv4 or IPv6 host ("10.0.0.1", "::1", "[::1]") and a port.
  /// Throws: std::invalid_argument if host is not a numeric address.
  static auto parse(std::string_view host, std::uint16_t port) -> address;
  /// An IPv4 address (numeric host). Throws std::invalid_argument if it is not one.
  static auto ipv4(std::string_view host, std::uint16_t port) -> address;
  /// An IPv6 address (numeric host). Throws std::invalid_argument if it is not one.
  static auto ipv6(std::string_view host, std::uint16_t port) -> address;
  /// A Unix socket path; a leading '@' selects the Linux abstract namespace.
  /// Throws: std::invalid_argument if the path is too long.
  static auto unix_path(std::string_view path) -> address;

  /// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for an empty address.
  [[nodiscard]] auto family() const noexcept -> int { return storage_.ss_family; }
  /// The port (0 for Unix addresses).
  [[nodiscard]] auto port() const noexcept -> std::uint16_t;
  /// The numeric host ("127.0.0.1", "::1") or the Unix path.
  [[nodiscard]] auto host() const -> std::string;
  /// "127.0.0.1:8080", "[::1]:8080" or the Unix path.
  [[nodiscard]] auto to_string() const -> std::string;

  [[nodiscard]] auto data() const noexcept -> const sockaddr* {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  [[nodiscard]] auto data() noexcept -> sockaddr* { return reinterpret_cast<sockaddr*>(&storage_); }
  [[nodiscard]] auto size() const noexcept -> socklen_t { return len_; }
  /// For filling by the kernel: set the length it reported.
  void set_size(socklen_t len) noexcept { len_ = len; }
  [[nodiscard]] static constexpr auto capacity() noexcept -> socklen_t { return sizeof(sockaddr_storage); }

  friend auto operator==(const address& a, const address& b) noexcept -> bool;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace asyncio
