// datagram_transport: datagram protocols over a UDP socket (Python's _SelectorDatagramTransport).
//
// One task, the lifetime task: connection_made, then it waits for closed_, closes the socket and
// calls connection_lost once. Reading and writing are level-triggered fd callbacks
// (event_loop::add_reader / add_writer, as Python's selector loop): an edge-triggered wait would
// keep seeing the EPOLLERR of an ICMP error after recvfrom consumed it. The writer callback is
// registered only while datagrams are queued.
#include <asyncio/net/datagram_transport.hpp>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

#include "net/callback_errors.hpp"

namespace asyncio {

namespace detail {

namespace {

constexpr std::size_t max_datagram = 256 * 1024;  // Python's max_size for datagram transports

}  // namespace

struct datagram_access {
  static auto make(socket sock, std::shared_ptr<datagram_protocol> p) -> std::shared_ptr<datagram_transport> {
    return std::shared_ptr<datagram_transport>(new datagram_transport(std::move(sock), std::move(p)));
  }

  static void error_received(datagram_transport& tr, std::exception_ptr e) noexcept {
    std::shared_ptr<datagram_protocol> hold = tr.protocol_;
    if (!hold) return;
    try {
      hold->error_received(std::move(e));
    } catch (...) {
      report_to_loop("protocol.error_received() failed", std::current_exception());
    }
  }

  static void fatal(datagram_transport& tr, std::exception_ptr e, const char* message) noexcept {
    if (tr.lost_) return;
    report_to_loop(message, e);
    if (!tr.error_) tr.error_ = std::move(e);
    tr.abort();
  }

  /// One send; false when the kernel's buffer is full (EAGAIN). Other errors go to error_received
  /// and count as sent (the datagram is dropped, as Python does).
  static auto send_one(datagram_transport& tr, std::string_view data, const std::optional<address>& to) -> bool {
    for (;;) {
      ssize_t n = to ? ::sendto(tr.sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL, to->data(), to->size())
                     : ::send(tr.sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) return true;
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return false;
      error_received(tr, os_error_ptr(errno, "sendto"));
      return true;
    }
  }

  static void maybe_pause(datagram_transport& tr) noexcept {
    if (tr.protocol_paused_ || tr.queued_ <= tr.high_) return;
    tr.protocol_paused_ = true;
    std::shared_ptr<datagram_protocol> hold = tr.protocol_;
    try {
      hold->pause_writing();
    } catch (...) {
      report_to_loop("protocol.pause_writing() failed", std::current_exception());
    }
  }

  static void maybe_resume(datagram_transport& tr) noexcept {
    if (!tr.protocol_paused_ || tr.queued_ > tr.low_ || tr.lost_) return;
    tr.protocol_paused_ = false;
    std::shared_ptr<datagram_protocol> hold = tr.protocol_;
    try {
      hold->resume_writing();
    } catch (...) {
      report_to_loop("protocol.resume_writing() failed", std::current_exception());
    }
  }

  /// The writer callback: sends the queue while the kernel takes it.
  static void on_writable(datagram_transport& tr) noexcept {
    std::shared_ptr<datagram_transport> hold = tr.shared_from_this();
    while (!tr.queue_.empty() && !tr.lost_) {
      auto& d = tr.queue_.front();
      if (!send_one(tr, d.data, d.to)) break;
      tr.queued_ -= d.data.size();
      tr.queue_.pop_front();
    }
    if (tr.queue_.empty()) stop_writing(tr);
    maybe_resume(tr);
    if (tr.closing_ && tr.queue_.empty()) tr.closed_.set();
  }

  static void start_writing(datagram_transport& tr) {
    if (tr.writing_) return;
    datagram_transport* p = &tr;
    get_running_loop().add_writer(tr.sock_.fileno(), [p] { on_writable(*p); });
    tr.writing_ = true;
  }

  static void stop_writing(datagram_transport& tr) noexcept {
    if (!tr.writing_) return;
    tr.writing_ = false;
    if (event_loop* loop = running_loop()) loop->remove_writer(tr.sock_.fileno());
  }

  /// The reader callback: up to 16 datagrams per readiness, so that other work interleaves.
  static void on_readable(datagram_transport& tr) noexcept {
    std::shared_ptr<datagram_transport> hold = tr.shared_from_this();
    try {
      if (!tr.rbuf_) tr.rbuf_ = std::make_unique<char[]>(max_datagram);
      for (int i = 0; i < 16 && !tr.closing_; ++i) {
        address from;
        socklen_t len = address::capacity();
        ssize_t n = ::recvfrom(tr.sock_.fileno(), tr.rbuf_.get(), max_datagram, 0, from.data(), &len);
        if (n < 0) {
          int err = errno;
          if (err == EINTR) continue;
          if (err == EAGAIN) return;
          error_received(tr, os_error_ptr(err, "recvfrom"));  // Python: OSError -> error_received
          continue;
        }
        from.set_size(len);
        std::shared_ptr<datagram_protocol> p = tr.protocol_;
        try {
          p->datagram_received(std::string_view(tr.rbuf_.get(), static_cast<std::size_t>(n)), from);
        } catch (...) {
          // Python lets it escape to the loop, which reports it; the transport goes on.
          report_to_loop("Exception in protocol.datagram_received()", std::current_exception());
        }
      }
    } catch (...) {
      fatal(tr, std::current_exception(), "Fatal read error on datagram transport");
    }
  }

  static void stop_reading(datagram_transport& tr) noexcept {
    if (!tr.reading_) return;
    tr.reading_ = false;
    if (event_loop* loop = running_loop()) loop->remove_reader(tr.sock_.fileno());
  }

  static auto run(std::shared_ptr<datagram_transport> self) -> task<void> {
    datagram_transport& tr = *self;
    bool started = true;
    {
      std::shared_ptr<datagram_protocol> hold = tr.protocol_;
      try {
        hold->connection_made(tr);
      } catch (...) {
        fatal(tr, std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
        started = false;
      }
    }
    if (started && !tr.closing_) {
      datagram_transport* p = &tr;
      try {
        get_running_loop().add_reader(tr.sock_.fileno(), [p] { on_readable(*p); });
        tr.reading_ = true;
      } catch (...) {
        fatal(tr, std::current_exception(), "Fatal error on datagram transport: add_reader failed");
      }
    }
    try {
      co_await tr.closed_.wait();
    } catch (const cancelled_error&) {
      finish(tr);
      throw;
    }
    finish(tr);
  }

  static void finish(datagram_transport& tr) noexcept {
    if (tr.lost_) return;
    tr.lost_ = true;
    tr.closing_ = true;
    stop_reading(tr);
    stop_writing(tr);
    tr.queue_.clear();
    tr.queued_ = 0;
    tr.sock_.close();
    std::shared_ptr<datagram_protocol> p = std::move(tr.protocol_);
    try {
      p->connection_lost(tr.error_);
    } catch (...) {
      report_to_loop("protocol.connection_lost() failed", std::current_exception());
    }
  }
};

auto open_datagram_socket(const address& local, const address& remote, const datagram_endpoint_options& options)
    -> socket {
  int family = local.family() != AF_UNSPEC ? local.family() : remote.family();
  if (family == AF_UNSPEC) family = options.family;
  if (family == AF_UNSPEC) throw std::invalid_argument("create_datagram_endpoint: unexpected address family");
  if (local.family() != AF_UNSPEC && remote.family() != AF_UNSPEC && local.family() != remote.family())
    throw std::invalid_argument("create_datagram_endpoint: local_addr and remote_addr of different families");
  socket s(family, SOCK_DGRAM);
  try {
    if (options.reuse_port) s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (options.allow_broadcast) s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    if (local.family() != AF_UNSPEC) s.bind(local);
    // connect() on UDP completes at once: it only sets the default destination.
    if (remote.family() != AF_UNSPEC && ::connect(s.fileno(), remote.data(), remote.size()) < 0)
      throw_os_error(errno, "connect");
  } catch (...) {
    s.close();
    throw;
  }
  return s;
}

auto start_datagram_transport(socket sock, std::shared_ptr<datagram_protocol> p) -> std::shared_ptr<datagram_transport> {
  if (!sock.is_open()) throw std::invalid_argument("create_datagram_endpoint: the socket is closed");
  if (!p) {
    sock.close();
    throw std::invalid_argument("create_datagram_endpoint: the protocol factory returned null");
  }
  auto t = datagram_access::make(std::move(sock), std::move(p));
  create_task(datagram_access::run(t), task_options{.name = "datagram-transport"}).detach();
  return t;
}

}  // namespace detail

datagram_transport::datagram_transport(socket sock, std::shared_ptr<datagram_protocol> p)
    : sock_(std::move(sock)), protocol_(std::move(p)) {
  try {
    local_ = sock_.getsockname();
  } catch (const os_error&) {
  }
  try {
    remote_ = sock_.getpeername();
  } catch (const os_error&) {  // not connected
  }
}

datagram_transport::~datagram_transport() = default;

void datagram_transport::sendto(std::string_view data, std::optional<address> addr) {
  if (addr && remote_.family() != AF_UNSPEC && !(*addr == remote_))
    throw std::invalid_argument("Invalid address: must be unset or " + remote_.to_string());
  if (addr && remote_.family() != AF_UNSPEC) addr.reset();  // connected: send()
  if (closing_) return;
  if (queue_.empty() && detail::datagram_access::send_one(*this, data, addr)) return;
  queue_.push_back({std::string(data), std::move(addr)});
  queued_ += data.size();
  detail::datagram_access::start_writing(*this);
  detail::datagram_access::maybe_pause(*this);
}

void datagram_transport::close() noexcept {
  if (closing_) return;
  closing_ = true;
  detail::datagram_access::stop_reading(*this);
  if (queue_.empty()) closed_.set();  // else the writer sets it once the queue is sent
}

void datagram_transport::abort() noexcept {
  closing_ = true;
  detail::datagram_access::stop_reading(*this);
  detail::datagram_access::stop_writing(*this);
  queue_.clear();
  queued_ = 0;
  closed_.set();
}

void datagram_transport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  std::size_t l = low ? *low : h / 4;
  if (l > h) throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
  high_ = h;
  low_ = l;
  detail::datagram_access::maybe_pause(*this);
}

void datagram_transport::set_protocol(std::shared_ptr<datagram_protocol> p) {
  if (!p) throw std::invalid_argument("set_protocol: null protocol");
  protocol_ = std::move(p);
}

}  // namespace asyncio
