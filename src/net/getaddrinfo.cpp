// getaddrinfo off the loop: numeric hosts inline, names through asyncio::to_thread (the loop's
// default executor), so the loop never blocks on the resolver.
#include <asyncio/net/getaddrinfo.hpp>

#include <asyncio/threads/to_thread.hpp>

#include <netdb.h>

#include <cerrno>

namespace asyncio {
namespace {

class gai_category_impl : public std::error_category {
 public:
  [[nodiscard]] auto name() const noexcept -> const char* override { return "getaddrinfo"; }
  [[nodiscard]] auto message(int code) const -> std::string override { return ::gai_strerror(code); }
};

struct lookup_result {
  int code = 0;   // EAI_* or 0
  int sys_errno = 0;
  std::vector<addrinfo_entry> entries;
};

auto blocking_lookup(const std::string& host, const std::string& port, const getaddrinfo_options& o,
                     int extra_flags) -> lookup_result {
  addrinfo hints{};
  hints.ai_family = o.family;
  hints.ai_socktype = o.type;
  hints.ai_protocol = o.protocol;
  hints.ai_flags = o.flags | extra_flags;
  addrinfo* list = nullptr;
  lookup_result r;
  r.code = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.empty() ? nullptr : port.c_str(),
                         &hints, &list);
  if (r.code == EAI_SYSTEM) r.sys_errno = errno;
  if (r.code != 0) return r;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    addrinfo_entry e;
    e.family = ai->ai_family;
    e.type = ai->ai_socktype;
    e.protocol = ai->ai_protocol;
    if (ai->ai_canonname) e.canonname = ai->ai_canonname;
    e.addr = address(ai->ai_addr, ai->ai_addrlen);
    r.entries.push_back(std::move(e));
  }
  ::freeaddrinfo(list);
  return r;
}

auto unpack(lookup_result r, const std::string& host) -> std::vector<addrinfo_entry> {
  if (r.code == EAI_SYSTEM) throw_os_error(r.sys_errno, "getaddrinfo " + host);
  if (r.code != 0) throw gai_error(std::error_code(r.code, gai_category()), "getaddrinfo " + host);
  return std::move(r.entries);
}

struct reverse_result {
  int code = 0;  // EAI_* or 0
  int sys_errno = 0;
  nameinfo names;
};

auto blocking_reverse(const address& addr, int flags) -> reverse_result {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  reverse_result r;
  r.code = ::getnameinfo(addr.data(), addr.size(), host, sizeof host, service, sizeof service, flags);
  if (r.code == EAI_SYSTEM) r.sys_errno = errno;
  if (r.code == 0) {
    r.names.host = host;
    r.names.service = service;
  }
  return r;
}

auto unpack(reverse_result r, const address& addr) -> nameinfo {
  if (r.code == EAI_SYSTEM) throw_os_error(r.sys_errno, "getnameinfo " + addr.to_string());
  if (r.code != 0) throw gai_error(std::error_code(r.code, gai_category()), "getnameinfo " + addr.to_string());
  return std::move(r.names);
}

}  // namespace

auto gai_category() noexcept -> const std::error_category& {
  static const gai_category_impl category;
  return category;
}

auto getaddrinfo(std::string host, std::string port, getaddrinfo_options options)
    -> task<std::vector<addrinfo_entry>> {
  // Numeric hosts need no lookup: do it inline and skip the thread.
  {
    lookup_result quick = blocking_lookup(host, port, options, AI_NUMERICHOST | AI_NUMERICSERV);
    if (quick.code == 0) co_return std::move(quick.entries);
    if (host.empty()) co_return unpack(std::move(quick), host);
  }
  // The worker gets copies: a cancelled lookup finishes in the background with nothing of ours.
  lookup_result r = co_await to_thread(
      [](std::string h, std::string p, getaddrinfo_options o) { return blocking_lookup(h, p, o, 0); }, host, port,
      options);
  co_return unpack(std::move(r), host);
}

auto getnameinfo(address addr, int flags) -> task<nameinfo> {
  // Numeric both ways (or nothing to translate): no lookup, no thread.
  if (addr.family() == AF_UNSPEC || (flags & (NI_NUMERICHOST | NI_NUMERICSERV)) == (NI_NUMERICHOST | NI_NUMERICSERV))
    co_return unpack(blocking_reverse(addr, flags), addr);
  reverse_result r = co_await to_thread([](address a, int f) { return blocking_reverse(a, f); }, addr, flags);
  co_return unpack(std::move(r), addr);
}

}  // namespace asyncio
