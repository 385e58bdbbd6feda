#pragma once
// getaddrinfo: name resolution off the loop (Python's loop.getaddrinfo), and its reverse,
// getnameinfo (Python's loop.getnameinfo).
#include <netdb.h>
#include <sys/socket.h>

#include <string>
#include <system_error>
#include <vector>

#include <asyncio/core/task.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/net/address.hpp>

namespace asyncio {

/// One result of getaddrinfo (Python's (family, type, proto, canonname, sockaddr) tuple).
struct addrinfo_entry {
  int family = AF_UNSPEC;
  int type = 0;
  int protocol = 0;
  std::string canonname;
  address addr;
};

/// Filters and flags for getaddrinfo (the AI_* flags of getaddrinfo(3)).
struct getaddrinfo_options {
  int family = AF_UNSPEC;
  int type = SOCK_STREAM;
  int protocol = 0;
  int flags = 0;
};

/// The error category of getaddrinfo's EAI_* codes.
auto gai_category() noexcept -> const std::error_category&;

/// Name resolution failed (Python's socket.gaierror). code() is in gai_category().
class gai_error : public os_error {
 public:
  using os_error::os_error;
};

/// Resolves host and port (a number or a service name). Numeric hosts are converted on the loop
/// thread at once; names are resolved by getaddrinfo(3) on another thread so the loop never blocks.
///
/// Cancellation: safe; the lookup finishes in the background and its result is dropped.
/// Resumes: on the caller's loop when the lookup finished.
/// Throws: gai_error (e.g. unknown host).
auto getaddrinfo(std::string host, std::string port, getaddrinfo_options options = {})
    -> task<std::vector<addrinfo_entry>>;

/// What getnameinfo returns (Python's (host, port) tuple): a host name (or numeric address) and
/// a service name (or port number).
struct nameinfo {
  std::string host;
  std::string service;
};

/// Translates a socket address into a host and a service name with getnameinfo(3) (Python's
/// loop.getnameinfo(sockaddr, flags)). flags are its NI_* flags (NI_NUMERICHOST, NI_NUMERICSERV,
/// NI_NAMEREQD, NI_DGRAM...). With both NI_NUMERICHOST and NI_NUMERICSERV nothing is looked up
/// and it completes on the loop thread at once; otherwise the lookup (DNS, /etc/hosts,
/// /etc/services) runs on another thread (the default executor), as Python's does.
/// Example:
///
///   asyncio::nameinfo n = co_await asyncio::getnameinfo(asyncio::address::parse("127.0.0.1", 80),
///                                                       NI_NUMERICHOST | NI_NUMERICSERV);
///   std::printf("%s port %s\n", n.host.c_str(), n.service.c_str());   // 127.0.0.1 port 80
///
/// Cancellation: safe; the lookup finishes in the background and its result is dropped.
/// Resumes: on the caller's loop when the lookup finished.
/// Throws: gai_error (EAI_NONAME with NI_NAMEREQD and no name; EAI_FAMILY for an empty or Unix
/// address), os_error for EAI_SYSTEM.
auto getnameinfo(address addr, int flags = 0) -> task<nameinfo>;

}  // namespace asyncio
