#include <asyncio/net/server.hpp>

#include <asyncio/core/future.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/lowlevel/wait_io.hpp>
#include <asyncio/net/getaddrinfo.hpp>
#include <asyncio/net/socket.hpp>
#include <asyncio/time/sleep.hpp>

#include "net/tls_wrap.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

namespace asyncio {
namespace detail {

struct server_state : std::enable_shared_from_this<server_state> {
  client_connected_cb cb;
  server_options opts;
  std::vector<socket> listeners;
  std::vector<task_handle<void>> acceptors;
  struct connection {
    task_handle<void> handler;
    std::weak_ptr<stream_transport> transport;
  };
  std::unordered_map<std::uint64_t, connection> conns;
  std::uint64_t next_id = 0;
  event_loop* loop = nullptr;  // the loop the server was made on (get_loop)
  bool serving = false;
  bool closed = false;
  std::string unix_path;  // removed on close
  std::vector<future<void>> idle_waiters;   // closed and no handler left
  std::vector<future<void>> close_waiters;  // serve_forever

  ~server_state() {
    for (auto& l : listeners) l.close();
  }

  static void wake(std::vector<future<void>>& waiters) {
    auto list = std::move(waiters);
    waiters.clear();
    for (auto& f : list)
      if (!f.done()) f.set_result();
  }
  void maybe_idle() {
    if (closed && conns.empty()) wake(idle_waiters);
  }
  void close() {
    if (closed) return;
    closed = true;
    serving = false;
    for (auto& a : acceptors)
      if (!a.done()) a.cancel();
    acceptors.clear();
    for (auto& l : listeners) l.close();
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
    wake(close_waiters);
    maybe_idle();
  }
  void start();
  void spawn(socket s, const address& peer);
};

namespace {

auto run_handler(std::shared_ptr<server_state> st, std::uint64_t id, std::shared_ptr<stream_transport> t)
    -> task<void> {
  bool cancelled = false;
  if (st->opts.ssl) {
    bool ok = false;
    try {
      co_await tls_wrap(t, *st->opts.ssl, true, std::string(), st->opts.ssl_handshake_timeout);
      ok = true;
    } catch (const cancelled_error&) {
      // shutdown() cancelled a connection still shaking hands: tls_wrap aborted it.
    } catch (...) {
      event_loop& loop = get_running_loop();
      if (loop.get_debug()) {
        exception_context ctx("TLS handshake failed with " + t->peer.to_string(), std::current_exception());
        loop.call_exception_handler(ctx);
      }
    }
    if (!ok) {
      st->conns.erase(id);
      st->maybe_idle();
      co_return;
    }
  }
  try {
    co_await st->cb(stream_reader(t), stream_writer(t));
  } catch (const cancelled_error&) {
    cancelled = true;
  } catch (...) {
    exception_context ctx("Unhandled exception in client_connected_cb", std::current_exception());
    get_running_loop().call_exception_handler(ctx);
  }
  // A finished handler's connection is closed after its buffered bytes are sent; a cancelled one
  // (shutdown) is dropped at once.
  if (cancelled) t->abort();
  else t->close();
  st->conns.erase(id);
  st->maybe_idle();
}

auto accept_loop(std::shared_ptr<server_state> st, std::size_t index) -> task<void> {
  int lfd = st->listeners[index].fileno();
  bool reported = false;
  int burst = 0;
  for (;;) {
    address peer;
    socklen_t len = address::capacity();
    int fd = ::accept4(lfd, peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      peer.set_size(len);
      reported = false;
      st->spawn(socket::from_fd(fd, peer.family() != AF_UNSPEC ? peer.family() : AF_UNIX), peer);
      if (++burst >= 128) {  // a connection storm must not starve the rest of the loop
        burst = 0;
        co_await sleep(duration::zero());
      }
      continue;
    }
    burst = 0;
    int err = errno;
    if (err == EAGAIN) {
      co_await lowlevel::wait_readable(lfd);
      continue;
    }
    if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
    // Out of fds or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) or another error: report it once per
    // episode and retry after a pause; the pending connections wait in the backlog meanwhile.
    if (!reported) {
      reported = true;
      try {
        throw_os_error(err, "accept (retrying)");
      } catch (...) {
        exception_context ctx("server: accept failed; retrying after a pause", std::current_exception());
        get_running_loop().call_exception_handler(ctx);
      }
    }
    co_await sleep(st->opts.accept_retry_delay);
  }
}

}  // namespace

void server_state::start() {
  if (serving || closed) return;
  serving = true;
  for (std::size_t i = 0; i < listeners.size(); ++i)
    acceptors.push_back(create_task(accept_loop(shared_from_this(), i), task_options{.name = "server-accept"}));
}

void server_state::spawn(socket s, const address& peer) {
  if (peer.family() == AF_INET || peer.family() == AF_INET6) {
    try {
      s.set_nodelay(true);
    } catch (const os_error&) {
    }
  }
  if (opts.keep_alive) {
    try {
      s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    } catch (const os_error&) {
    }
  }
  auto t = std::make_shared<stream_transport>(std::move(s), opts.limit);
  t->managed = true;
  t->peer = peer;
  try {
    t->local = t->sock().getsockname();
  } catch (const os_error&) {
  }
  std::uint64_t id = next_id++;
  conns[id].transport = t;
  // Eager: the handler may finish (and erase its entry) before create_task returns.
  auto h = create_task(run_handler(shared_from_this(), id, std::move(t)));
  if (auto it = conns.find(id); it != conns.end()) it->second.handler = std::move(h);
}

}  // namespace detail

auto server::operator=(server&& o) noexcept -> server& {
  if (this != &o) {
    if (s_ && !s_->closed) s_->close();
    s_ = std::move(o.s_);
  }
  return *this;
}

server::~server() {
  if (s_ && !s_->closed) {
    std::string where = s_->listeners.empty() ? std::string() : " on " + sockets().front().to_string();
    detail::report_unclosed("unclosed server" + where + " (call close())");
    s_->close();
  }
}

auto server::sockets() const -> std::vector<address> {
  std::vector<address> out;
  for (const auto& l : s_->listeners)
    if (l.is_open()) out.push_back(l.getsockname());
  return out;
}

auto server::port() const -> std::uint16_t {
  for (const auto& l : s_->listeners)
    if (l.is_open()) return l.getsockname().port();
  return 0;
}

auto server::is_serving() const noexcept -> bool { return s_ && s_->serving; }
void server::start_serving() { s_->start(); }
void server::close() { s_->close(); }
void server::unix_path_for_cleanup(std::string path) { s_->unix_path = std::move(path); }

void server::close_clients() {
  for (auto& [id, c] : s_->conns)
    if (auto t = c.transport.lock()) t->close();
}

void server::abort_clients() {
  // abort() ends in finish_close, which may wake tasks but never runs them: no entry goes away
  // while this loop walks the map.
  for (auto& [id, c] : s_->conns)
    if (auto t = c.transport.lock()) t->abort();
}

auto server::get_loop() const -> event_loop& {
  if (!s_ || !s_->loop) throw invalid_state_error("server::get_loop: empty server");
  return *s_->loop;
}

void server::cancel_handlers() {
  for (auto& [id, c] : s_->conns)
    if (c.handler && !c.handler.done()) c.handler.cancel();
}

auto server::active_connections() const noexcept -> std::size_t { return s_ ? s_->conns.size() : 0; }

auto server::wait_closed() -> task<void> {
  std::shared_ptr<detail::server_state> st = s_;
  if (st->closed && st->conns.empty()) co_return;
  future<void> f;
  st->idle_waiters.push_back(f);
  co_await f;
}

auto server::serve_forever() -> task<void> {
  std::shared_ptr<detail::server_state> st = s_;
  if (st->closed) throw invalid_state_error("server is closed");
  st->start();
  future<void> f;
  st->close_waiters.push_back(f);
  try {
    co_await f;
  } catch (const cancelled_error&) {
    st->close();
    throw;
  }
}

auto server::shutdown(duration grace) -> task<void> {
  std::shared_ptr<detail::server_state> st = s_;
  st->close();
  if (!st->conns.empty()) {
    future<void> f;
    st->idle_waiters.push_back(f);
    timer_handle timer = get_running_loop().call_later(grace, [f]() mutable {
      if (!f.done()) f.set_result();
    });
    try {
      co_await f;
    } catch (...) {
      timer.cancel();
      throw;
    }
    timer.cancel();
  }
  if (!st->conns.empty()) {
    for (auto& [id, c] : st->conns)
      if (c.handler && !c.handler.done()) c.handler.cancel();
    future<void> g;
    st->idle_waiters.push_back(g);
    st->maybe_idle();
    co_await g;
  }
}

auto serve_sockets(client_connected_cb cb, std::vector<socket> listeners, server_options options) -> server {
  auto st = std::make_shared<detail::server_state>();
  st->cb = std::move(cb);
  st->opts = options;
  st->listeners = std::move(listeners);
  st->loop = detail::running_loop();
  if (options.start_serving) st->start();
  return server(std::move(st));
}

namespace {
auto bind_listener(const address& addr, const server_options& o) -> socket {
  socket s(addr.family(), SOCK_STREAM);
  try {
    if (o.reuse_address && addr.family() != AF_UNIX) s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (o.reuse_port) s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    // As Python: an IPv6 listener does not also take IPv4 (the IPv4 one does).
    if (addr.family() == AF_INET6) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    s.bind(addr);
    s.listen(o.backlog);
  } catch (...) {
    s.close();
    throw;
  }
  return s;
}
}  // namespace

auto start_server(client_connected_cb cb, std::string host, std::uint16_t port, server_options options)
    -> task<server> {
  std::vector<address> addrs;
  if (host.empty()) {
    if (options.family != AF_INET6) addrs.push_back(address::ipv4("0.0.0.0", port));
    if (options.family != AF_INET) addrs.push_back(address::ipv6("::", port));
  } else {
    getaddrinfo_options hints;
    hints.family = options.family;
    hints.type = SOCK_STREAM;
    hints.flags = AI_PASSIVE;
    for (auto& e : co_await getaddrinfo(host, std::to_string(port), hints)) {
      bool dup = false;
      for (auto& a : addrs) dup = dup || a == e.addr;
      if (!dup) addrs.push_back(e.addr);
    }
  }
  std::vector<socket> listeners;
  try {
    for (const auto& a : addrs) {
      try {
        listeners.push_back(bind_listener(a, options));
      } catch (const os_error& e) {
        // "" on a host without IPv6: skip the family the kernel lacks.
        if (host.empty() && e.code().value() == EAFNOSUPPORT) continue;
        throw;
      }
    }
  } catch (...) {
    for (auto& l : listeners) l.close();
    throw;
  }
  co_return serve_sockets(std::move(cb), std::move(listeners), options);
}

auto start_unix_server(client_connected_cb cb, std::string path, server_options options) -> task<server> {
  // A stale socket file from an earlier run would make bind fail: remove it if it is a socket.
  struct stat st{};
  if (!path.empty() && path.front() != '@' && ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
    ::unlink(path.c_str());
  std::vector<socket> listeners;
  listeners.push_back(bind_listener(address::unix_path(path), options));
  server s = serve_sockets(std::move(cb), std::move(listeners), options);
  if (!path.empty() && path.front() != '@') s.unix_path_for_cleanup(path);
  co_return s;
}

}  // namespace asyncio
