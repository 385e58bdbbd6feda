#include <asyncio/net/connection.hpp>

#include <asyncio/core/future.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/net/getaddrinfo.hpp>

#include "net/tls_wrap.hpp"

#include <netinet/in.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace asyncio {
namespace {

// RFC 8305 §4: alternate families, starting with the family of the first address.
auto interleave(std::vector<address> in, int first_count) -> std::vector<address> {
  if (in.empty() || first_count <= 0) return in;
  int first_family = in.front().family();
  std::vector<address> a, b, out;
  for (auto& e : in) (e.family() == first_family ? a : b).push_back(std::move(e));
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    for (int k = 0; k < first_count && i < a.size(); ++k) out.push_back(std::move(a[i++]));
    if (j < b.size()) out.push_back(std::move(b[j++]));
  }
  return out;
}

auto connect_one(address addr, address local) -> task<socket> {
  socket s(addr.family(), SOCK_STREAM);
  if (addr.family() != AF_UNIX) s.set_nodelay(true);
  if (local.family() != AF_UNSPEC) s.bind(local);
  try {
    co_await sock_connect(s, addr);
  } catch (...) {
    s.close();
    throw;
  }
  co_return s;
}

// Shared by the attempts of one staggered race (shared_ptr: an attempt may run after the caller's
// frame is gone, while its cancellation is delivered).
struct race {
  std::optional<socket> winner;
  bool taken = false;  // the caller has its socket: later connections are closed
  std::vector<std::exception_ptr> errors;
  future<void> wake;
  void notify() {
    if (!wake.done()) wake.set_result();
  }
};

auto attempt(std::shared_ptr<race> r, address addr, address local) -> task<void> {
  try {
    socket s = co_await connect_one(addr, local);
    if (!r->winner && !r->taken) r->winner = std::move(s);
    else s.close();
  } catch (const cancelled_error&) {
    throw;
  } catch (...) {
    r->errors.push_back(std::current_exception());
  }
  r->notify();
}

[[noreturn]] void throw_all(const std::vector<std::exception_ptr>& errors) {
  if (errors.size() == 1) std::rethrow_exception(errors.front());
  std::string msg = "multiple exceptions:";
  for (const auto& e : errors) msg += " [" + describe(e) + "]";
  // As Python: if every error is the same OS error, raise that one.
  int code = 0;
  bool same = true;
  for (const auto& e : errors) {
    try {
      std::rethrow_exception(e);
    } catch (const os_error& o) {
      if (code == 0) code = o.code().value();
      else if (code != o.code().value()) same = false;
    } catch (...) {
      same = false;
    }
  }
  if (same && code != 0) throw_os_error(code, msg);
  throw os_error(std::error_code(), msg);
}

}  // namespace

auto create_connection(std::string host, std::uint16_t port, connect_options options) -> task<socket> {
  getaddrinfo_options hints;
  hints.family = options.family;
  hints.type = SOCK_STREAM;
  auto infos = co_await getaddrinfo(host, std::to_string(port), hints);
  if (infos.empty()) throw os_error(std::error_code(), "getaddrinfo returned an empty list for " + host);
  std::vector<address> addrs;
  addrs.reserve(infos.size());
  for (auto& info : infos) addrs.push_back(info.addr);
  co_return co_await create_connection(std::move(addrs), std::move(options));
}

auto create_connection(std::vector<address> addrs, connect_options options) -> task<socket> {
  if (addrs.empty()) throw std::invalid_argument("create_connection: no address to connect to");
  int inter = options.interleave >= 0 ? options.interleave : (options.happy_eyeballs_delay ? 1 : 0);
  auto infos = interleave(std::move(addrs), inter);

  if (!options.happy_eyeballs_delay || infos.size() == 1) {
    std::vector<std::exception_ptr> errors;
    for (auto& addr : infos) {
      try {
        co_return co_await connect_one(addr, options.local_addr);
      } catch (const os_error&) {
        errors.push_back(std::current_exception());
      }
    }
    throw_all(errors);
  }

  // Staggered race: start attempt i; move on after the delay or as soon as a running attempt
  // fails; stop at the first success.
  auto r = std::make_shared<race>();
  std::vector<task_handle<void>> attempts;
  struct cancel_rest {
    std::vector<task_handle<void>>& a;
    ~cancel_rest() {
      for (auto& h : a)
        if (!h.done()) h.cancel();
    }
  } guard{attempts};
  event_loop& loop = get_running_loop();
  for (std::size_t i = 0; i < infos.size() && !r->winner; ++i) {
    r->wake = future<void>();
    std::size_t failed_before = r->errors.size();
    attempts.push_back(create_task(attempt(r, infos[i], options.local_addr)));
    if (r->winner || r->errors.size() > failed_before) continue;
    if (i + 1 == infos.size()) break;
    future<void> w = r->wake;
    timer_handle timer = loop.call_later(*options.happy_eyeballs_delay, [w]() mutable {
      if (!w.done()) w.set_result();
    });
    try {
      co_await w;
    } catch (...) {
      timer.cancel();
      throw;
    }
    timer.cancel();
  }
  // Wait for a winner or for every attempt to fail.
  while (!r->winner && r->errors.size() < attempts.size()) {
    r->wake = future<void>();
    co_await future<void>(r->wake);
  }
  if (!r->winner) throw_all(r->errors);
  socket s = std::move(*r->winner);
  r->winner.reset();
  r->taken = true;
  co_return s;
}

auto make_streams(socket sock, std::size_t limit) -> stream_pair {
  auto t = std::make_shared<detail::stream_transport>(std::move(sock), limit);
  try {
    t->local = t->sock().getsockname();
    t->peer = t->sock().getpeername();
  } catch (const os_error&) {
  }
  return stream_pair{stream_reader(t), stream_writer(t)};
}

auto open_connection(std::string host, std::uint16_t port, connect_options options) -> task<stream_pair> {
  socket s = co_await create_connection(host, port, options);
  stream_pair p = make_streams(std::move(s), options.limit);
  if (options.ssl) {
    std::string sni = options.server_hostname ? *options.server_hostname : host;
    co_await detail::tls_wrap(p.writer.transport(), *options.ssl, false, std::move(sni), options.ssl_handshake_timeout,
                              options.session);
  }
  co_return p;
}

auto open_connection(socket sock, connect_options options) -> task<stream_pair> {
  if (options.ssl && !options.server_hostname) {
    sock.close();
    throw std::invalid_argument("open_connection: server_hostname is required with ssl when no host is given");
  }
  stream_pair p = make_streams(std::move(sock), options.limit);
  if (options.ssl) {
    co_await detail::tls_wrap(p.writer.transport(), *options.ssl, false, *options.server_hostname,
                              options.ssl_handshake_timeout, options.session);
  }
  co_return p;
}

auto open_unix_connection(std::string path, connect_options options) -> task<stream_pair> {
  if (options.ssl && !options.server_hostname)
    throw std::invalid_argument("open_unix_connection: server_hostname is required with ssl");
  socket s(AF_UNIX, SOCK_STREAM);
  try {
    co_await sock_connect(s, address::unix_path(path));
  } catch (...) {
    s.close();
    throw;
  }
  co_return co_await open_connection(std::move(s), std::move(options));
}

auto open_unix_connection(std::string path, std::size_t limit) -> task<stream_pair> {
  socket s(AF_UNIX, SOCK_STREAM);
  try {
    co_await sock_connect(s, address::unix_path(path));
  } catch (...) {
    s.close();
    throw;
  }
  co_return make_streams(std::move(s), limit);
}

}  // namespace asyncio
