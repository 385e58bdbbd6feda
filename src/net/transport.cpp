// transport: protocols over the stream transport (Python's _SelectorSocketTransport).
//
// Two tasks per connection. The lifetime task (run) calls connection_made, starts the reader and
// waits until the socket is closed (close() after the flush, abort(), a fatal error, the server's
// close_clients/abort_clients); then it calls connection_lost exactly once and drops the protocol.
// Cancelling it (server shutdown, loop shutdown) aborts the connection first. The reader receives
// and calls data_received / get_buffer + buffer_updated / eof_received; it stops at once when the
// transport starts closing, and the lifetime task cancels it if it is still waiting. pause_writing
// is called from write(); a short task per pause waits for the drain and calls resume_writing.
#include <asyncio/net/transport.hpp>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/net/stream_writer.hpp>
#include <asyncio/time/sleep.hpp>
#include "net/callback_errors.hpp"
#include "net/tls_wrap.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace asyncio {

namespace detail {

namespace {

constexpr std::size_t read_size = 64 * 1024;  // Python's selector transport reads up to 256 KiB

}  // namespace

struct transport_access {
  static auto make(std::shared_ptr<stream_transport> t, std::shared_ptr<base_protocol> p) -> std::shared_ptr<transport> {
    return std::shared_ptr<transport>(new transport(std::move(t), std::move(p)));
  }

  /// Python's _fatal_error: report (an os_error only in debug mode, as Python logs it only then),
  /// remember the error for connection_lost, abort.
  static void fatal(transport& tr, std::exception_ptr e, const char* message) noexcept {
    if (tr.lost_) return;
    bool is_os = false;
    try {
      std::rethrow_exception(e);
    } catch (const os_error&) {
      is_os = true;
    } catch (...) {
    }
    event_loop* loop = running_loop();
    if (!is_os || (loop && loop->get_debug())) report_to_loop(message, e);
    if (!tr.error_) tr.error_ = std::move(e);
    tr.t_->abort();
  }

  static void maybe_pause(transport& tr) {
    if (tr.protocol_paused_ || tr.lost_ || !tr.t_->paused() || tr.t_->closed()) return;
    tr.protocol_paused_ = true;
    std::shared_ptr<base_protocol> hold = tr.protocol_;
    try {
      hold->pause_writing();
    } catch (...) {
      report_to_loop("protocol.pause_writing() failed", std::current_exception());
    }
    create_task(resume_watch(tr.shared_from_this()), task_options{.name = "transport-resume-writing"}).detach();
  }

  static auto resume_watch(std::shared_ptr<transport> self) -> task<void> {
    transport& tr = *self;
    for (;;) {
      try {
        co_await stream_wait_awaiter(tr.t_.get(), false);
      } catch (const cancelled_error&) {
        co_return;
      } catch (...) {  // the write error: handled below
      }
      if (tr.lost_ || !tr.protocol_paused_ || tr.t_->closed()) co_return;
      if (tr.t_->write_errno() != 0) {
        fatal(tr, os_error_ptr(tr.t_->write_errno(), "send"), "Fatal write error on socket transport");
        co_return;
      }
      if (!tr.t_->paused()) break;  // else written above the mark again before this task ran
    }
    tr.protocol_paused_ = false;
    std::shared_ptr<base_protocol> hold = tr.protocol_;
    try {
      hold->resume_writing();
    } catch (...) {
      report_to_loop("protocol.resume_writing() failed", std::current_exception());
    }
  }

  /// Hands n bytes at data to the protocol. False if a callback failed (the transport is aborted).
  static auto deliver_copy(transport& tr, const char* data, std::size_t n) -> bool {
    std::shared_ptr<base_protocol> hold = tr.protocol_;
    if (tr.plain_) {
      try {
        tr.plain_->data_received(std::string_view(data, n));
      } catch (...) {
        fatal(tr, std::current_exception(), "Fatal error: protocol.data_received() call failed.");
        return false;
      }
      return true;
    }
    while (n > 0 && !tr.lost_ && !tr.t_->is_closing()) {
      const char* stage = "Fatal error: protocol.get_buffer() call failed.";
      try {
        std::span<char> buf = tr.buffered_->get_buffer(n);
        if (buf.empty()) throw invalid_state_error("get_buffer() returned an empty buffer");
        std::size_t k = std::min(n, buf.size());
        std::memcpy(buf.data(), data, k);
        stage = "Fatal error: protocol.buffer_updated() call failed.";
        tr.buffered_->buffer_updated(k);
        data += k;
        n -= k;
      } catch (...) {
        fatal(tr, std::current_exception(), stage);
        return false;
      }
    }
    return true;
  }

  static void on_eof(transport& tr) {
    std::shared_ptr<base_protocol> hold = tr.protocol_;
    bool keep_open = false;
    try {
      keep_open = tr.plain_ ? tr.plain_->eof_received() : tr.buffered_->eof_received();
    } catch (...) {
      fatal(tr, std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
      return;
    }
    if (!keep_open || tr.read_only_) tr.close();
  }

  static auto read_loop(std::shared_ptr<transport> self) -> task<void> {
    transport& tr = *self;
    stream_transport& t = *tr.t_;
    int burst = 0;
    try {
      for (;;) {
        if (tr.lost_ || t.is_closing()) co_return;
        if (tr.paused_) {
          tr.resume_.clear();
          co_await tr.resume_.wait();
          continue;
        }
        if (t.buffered() > 0) {  // plaintext the TLS handshake read ahead
          std::string early(t.rdata(), t.buffered());
          t.consume(early.size());
          if (!deliver_copy(tr, early.data(), early.size())) co_return;
          continue;
        }
        std::span<char> buf;
        std::shared_ptr<base_protocol> hold = tr.protocol_;
        buffered_protocol* bp = tr.buffered_;
        if (bp) {
          try {
            buf = bp->get_buffer(0);
            if (buf.empty()) throw invalid_state_error("get_buffer() returned an empty buffer");
          } catch (...) {
            fatal(tr, std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
            co_return;
          }
        } else {
          if (!tr.rbuf_) tr.rbuf_ = std::make_unique<char[]>(read_size);
          buf = std::span<char>(tr.rbuf_.get(), read_size);
        }
        std::size_t n = 0;
        if (t.tls()) {
          n = co_await t.recv_into(buf);
          if (tr.lost_ || t.is_closing()) co_return;
        } else if (t.reads_through_ring()) {
          n = co_await t.ring_recv(buf);
          if (tr.lost_ || t.is_closing()) co_return;
        } else {
          std::ptrdiff_t r = t.try_recv(buf);
          if (r < 0) {
            burst = 0;
            co_await t.wait_readable();
            t.read_woken();
            continue;
          }
          n = static_cast<std::size_t>(r);
        }
        if (n == 0) {
          on_eof(tr);
          co_return;
        }
        if (bp && tr.buffered_ == bp) {
          try {
            bp->buffer_updated(n);
          } catch (...) {
            fatal(tr, std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
            co_return;
          }
        } else if (!deliver_copy(tr, buf.data(), n)) {  // plain, or the protocol was switched
          co_return;
        }
        if (++burst >= 16) {  // a peer that always has data must not starve the loop
          burst = 0;
          co_await sleep(duration::zero());
        }
      }
    } catch (const cancelled_error&) {
      // finish() cancelled a reader still waiting: the connection is lost.
    } catch (...) {
      fatal(tr, std::current_exception(), "Fatal read error on socket transport");
    }
  }

  static void start(transport& tr) {
    std::shared_ptr<base_protocol> hold = tr.protocol_;
    try {
      hold->connection_made(tr);
    } catch (...) {
      fatal(tr, std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
      return;
    }
    if (tr.lost_ || tr.t_->is_closing() || tr.write_only_) return;
    tr.reader_ = create_task(read_loop(tr.shared_from_this()), task_options{.name = "transport-reader"});
  }

  static void finish(transport& tr) noexcept {
    if (tr.lost_) return;
    tr.lost_ = true;
    if (tr.reader_ && !tr.reader_.done()) tr.reader_.cancel();
    tr.reader_.detach();
    std::exception_ptr err = tr.error_;
    if (!err && tr.t_->write_errno() != 0) err = os_error_ptr(tr.t_->write_errno(), "send");
    std::shared_ptr<base_protocol> p = std::move(tr.protocol_);
    tr.plain_ = nullptr;
    tr.buffered_ = nullptr;
    try {
      p->connection_lost(err);
    } catch (...) {
      report_to_loop("protocol.connection_lost() failed", std::current_exception());
    }
  }

  /// The lifetime task: connection_made ... connection_lost.
  static auto run(std::shared_ptr<transport> self) -> task<void> {
    start(*self);
    try {
      co_await stream_wait_awaiter(self->t_.get(), true);
    } catch (const cancelled_error&) {
      self->t_->abort();
      finish(*self);
      throw;
    }
    finish(*self);
  }

  /// connect_read_pipe / connect_write_pipe.
  static auto start_pipe(const erased_protocol_factory& factory, int fd, bool read_end) -> erased_connection_pair {
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
      int err = errno;
      throw_os_error(err, "fstat");
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode)) {
      ::close(fd);
      throw std::invalid_argument("Pipe transport is for pipes/sockets only.");
    }
    auto t = std::make_shared<stream_transport>(socket::adopt(fd), 64 * 1024, stream_kind::pipe);
    std::shared_ptr<base_protocol> p;
    try {
      p = make_protocol(factory);
    } catch (...) {
      t->abort();
      throw;
    }
    auto tr = start_on_pipe(std::move(t), p, read_end);
    return {std::move(tr), std::move(p)};
  }

  static auto start_on_pipe(std::shared_ptr<stream_transport> t, std::shared_ptr<base_protocol> p, bool read_end)
      -> std::shared_ptr<transport> {
    std::shared_ptr<transport> tr;
    try {
      tr = std::shared_ptr<transport>(new transport(t));
      tr->read_only_ = read_end;
      tr->write_only_ = !read_end;
      tr->set_protocol(std::move(p));
    } catch (...) {
      t->abort();
      throw;
    }
    create_task(run(tr), task_options{.name = "pipe-transport"}).detach();
    return tr;
  }

  static auto make_protocol(const erased_protocol_factory& factory) -> std::shared_ptr<base_protocol> {
    std::shared_ptr<base_protocol> p = factory();
    if (!p) throw std::invalid_argument("the protocol factory returned null");
    return p;
  }

  /// Client side: the transport's tasks run on their own; the caller gets the transport.
  static auto start_detached(const erased_protocol_factory& factory, std::shared_ptr<stream_transport> t)
      -> erased_connection_pair {
    std::shared_ptr<transport> tr;
    std::shared_ptr<base_protocol> p;
    try {
      p = make_protocol(factory);
      tr = make(t, p);
    } catch (...) {
      t->abort();
      throw;
    }
    create_task(run(tr), task_options{.name = "transport"}).detach();
    return {std::move(tr), std::move(p)};
  }
};

namespace {

auto serve_protocol(erased_protocol_factory factory, std::shared_ptr<stream_transport> t) -> task<void> {
  auto tr = transport_access::make(std::move(t), transport_access::make_protocol(factory));
  co_await transport_access::run(std::move(tr));
}

}  // namespace

auto connect_protocol(erased_protocol_factory factory, std::string host, std::uint16_t port, connect_options options)
    -> task<erased_connection_pair> {
  stream_pair sp = co_await open_connection(std::move(host), port, std::move(options));
  co_return transport_access::start_detached(factory, sp.writer.transport());
}

auto connect_unix_protocol(erased_protocol_factory factory, std::string path, connect_options options)
    -> task<erased_connection_pair> {
  stream_pair sp = co_await open_unix_connection(std::move(path), std::move(options));
  co_return transport_access::start_detached(factory, sp.writer.transport());
}

auto accept_protocol(erased_protocol_factory factory, socket sock, server_options options)
    -> task<erased_connection_pair> {
  if (!sock.is_open()) throw std::invalid_argument("connect_accepted_socket: the socket is closed");
  if (sock.family() == AF_INET || sock.family() == AF_INET6) {
    try {
      sock.set_nodelay(true);
    } catch (const os_error&) {
    }
  }
  stream_pair sp = make_streams(std::move(sock), options.limit);
  if (options.ssl) co_await tls_wrap(sp.writer.transport(), *options.ssl, true, std::string(), options.ssl_handshake_timeout);
  co_return transport_access::start_detached(factory, sp.writer.transport());
}

auto connect_pipe(erased_protocol_factory factory, int fd, bool read_end) -> task<erased_connection_pair> {
  co_return transport_access::start_pipe(factory, fd, read_end);
}

auto start_pipe_transport(std::shared_ptr<stream_transport> t, std::shared_ptr<base_protocol> p, bool read_end)
    -> std::shared_ptr<transport> {
  return transport_access::start_on_pipe(std::move(t), std::move(p), read_end);
}

auto protocol_server_cb(erased_protocol_factory factory) -> client_connected_cb {
  return [factory = std::move(factory)](stream_reader /*r*/, stream_writer w) -> task<void> {
    return serve_protocol(factory, w.transport());
  };
}

}  // namespace detail

transport::transport(std::shared_ptr<detail::stream_transport> t, std::shared_ptr<base_protocol> p) : t_(std::move(t)) {
  set_protocol(std::move(p));
}

transport::transport(std::shared_ptr<detail::stream_transport> t) : t_(std::move(t)) {}

transport::~transport() = default;

void transport::write(std::string_view data) {
  if (read_only_) throw invalid_state_error("write() on a read pipe transport");
  t_->write(data);
  if (lost_) return;
  if (t_->write_errno() != 0 && !t_->closed()) {
    detail::transport_access::fatal(*this, detail::os_error_ptr(t_->write_errno(), "send"),
                                    "Fatal write error on socket transport");
    return;
  }
  detail::transport_access::maybe_pause(*this);
}

void transport::write_eof() { t_->write_eof(); }

void transport::close() noexcept { t_->close(); }

void transport::abort() noexcept { t_->abort(); }

auto transport::is_closing() const noexcept -> bool { return lost_ || t_->is_closing(); }

void transport::pause_reading() noexcept {
  if (!is_reading()) return;
  paused_ = true;
}

void transport::resume_reading() noexcept {
  if (is_closing() || !paused_) return;
  paused_ = false;
  resume_.set();
}

auto transport::is_reading() const noexcept -> bool { return !paused_ && !is_closing(); }

void transport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  std::size_t l = low ? *low : h / 4;
  if (l > h) {
    throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
  }
  t_->set_write_buffer_limits(h, l);
  detail::transport_access::maybe_pause(*this);
}

auto transport::get_write_buffer_size() const noexcept -> std::size_t { return t_->write_buffer_size(); }

auto transport::get_write_buffer_limits() const noexcept -> std::pair<std::size_t, std::size_t> {
  return {t_->low_water(), t_->high_water()};
}

auto transport::peername() const -> address { return t_->peer; }
auto transport::sockname() const -> address { return t_->local; }
auto transport::fileno() const noexcept -> int { return t_->sock().fileno(); }
auto transport::get_ssl_object() const -> std::optional<ssl_object> { return stream_writer(t_).get_ssl_object(); }
auto transport::get_extra_info(std::string_view name) const -> std::any { return stream_writer(t_).get_extra_info(name); }

void transport::set_protocol(std::shared_ptr<base_protocol> p) {
  if (!p) throw std::invalid_argument("set_protocol: null protocol");
  auto* plain = dynamic_cast<protocol*>(p.get());
  auto* buffered = dynamic_cast<buffered_protocol*>(p.get());
  if (!plain && !buffered && !write_only_) throw std::invalid_argument("set_protocol: neither a protocol nor a buffered_protocol");
  protocol_ = std::move(p);
  plain_ = plain;
  buffered_ = buffered;
}

}  // namespace asyncio
