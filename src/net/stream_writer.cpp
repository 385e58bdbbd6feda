#include <asyncio/net/stream_writer.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/net/socket.hpp>

#include "net/tls_wrap.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace asyncio {

auto stream_writer::get_extra_info(std::string_view name) const -> std::any {
  if (t_->kind() == detail::stream_kind::pipe) {
    if (name == "pipe") return t_->sock().fileno();
    return {};
  }
  if (name == "peername") return t_->peer;
  if (name == "sockname") return t_->local;
  if (name == "socket") return t_->sock().fileno();
  if (t_->tls()) return detail::tls_extra_info(t_, name);
  return {};
}

auto stream_writer::get_ssl_object() const -> std::optional<ssl_object> {
  if (!t_ || !t_->tls()) return std::nullopt;
  return ssl_object(t_);
}

void stream_writer::throw_sendfile_active() {
  throw invalid_state_error("unable to write; sendfile is in progress");
}

namespace {
// Python's fallback chunk is 16 KiB; 64 KiB is one write at the default high-water mark.
constexpr std::size_t sendfile_fallback_chunk = 64 * 1024;

[[noreturn]] void throw_closed() {
  throw connection_reset_error(std::make_error_code(std::errc::connection_reset), "sendfile: connection closed");
}
}  // namespace

auto stream_writer::sendfile(int fd, off_t offset, std::optional<std::size_t> count) -> task<std::size_t> {
  std::shared_ptr<detail::stream_transport> t = t_;  // the task's own reference
  if (!t) throw invalid_state_error("sendfile: empty stream_writer");
  if (offset < 0) throw std::invalid_argument("sendfile: offset must be a non-negative integer");
  if (count && *count == 0) throw std::invalid_argument("sendfile: count must be a positive integer");
  if (t->sendfile_active) throw invalid_state_error("sendfile: another sendfile is in progress");
  if (t->is_closing()) throw invalid_state_error("sendfile: the stream is closing");
  t->check_write_error();
  struct active_flag {
    detail::stream_transport& t;
    explicit active_flag(detail::stream_transport& tr) noexcept : t(tr) { t.sendfile_active = true; }
    active_flag(const active_flag&) = delete;
    auto operator=(const active_flag&) -> active_flag& = delete;
    ~active_flag() { t.sendfile_active = false; }
  } active(*t);

  if (!t->tls() && t->kind() == detail::stream_kind::socket) {
    // The buffered bytes go first: wait until the write buffer is empty (water marks at 0 for the
    // time being, as start_tls does), then the file goes straight from the kernel.
    if (t->write_buffer_size() > 0) {
      struct restore_marks {
        detail::stream_transport& t;
        std::size_t high, low;
        restore_marks(detail::stream_transport& tr, std::size_t h, std::size_t l) noexcept : t(tr), high(h), low(l) {}
        restore_marks(const restore_marks&) = delete;
        auto operator=(const restore_marks&) -> restore_marks& = delete;
        ~restore_marks() { t.set_write_buffer_limits(high, low); }
      } guard(*t, t->high_water(), t->low_water());
      t->set_write_buffer_limits(0, 0);
      while (t->write_buffer_size() > 0 && !t->closed() && t->write_errno() == 0)
        co_await detail::stream_wait_awaiter(t.get(), false);
      t->check_write_error();
    }
    if (t->closed()) throw_closed();
    co_return co_await sock_sendfile(t->sock(), fd, offset, count);
  }

  // TLS or a pipe: read the file and write it through the transport, with back-pressure.
  off_t position = offset;
  struct position_guard {
    int fd;
    const off_t& position;
    position_guard(int f, const off_t& p) noexcept : fd(f), position(p) {}
    position_guard(const position_guard&) = delete;
    auto operator=(const position_guard&) -> position_guard& = delete;
    ~position_guard() { (void)::lseek(fd, position, SEEK_SET); }
  } guard(fd, position);
  std::unique_ptr<char[]> buffer(new char[sendfile_fallback_chunk]);
  std::size_t sent = 0;
  while (!count || sent < *count) {
    std::size_t want = std::min(count ? *count - sent : sendfile_fallback_chunk, sendfile_fallback_chunk);
    ssize_t r = ::pread(fd, buffer.get(), want, position);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error(errno, "sendfile: read");
    }
    if (r == 0) break;
    if (t->closed()) throw_closed();
    t->write(std::string_view(buffer.get(), static_cast<std::size_t>(r)));
    t->check_write_error();
    sent += static_cast<std::size_t>(r);
    position += static_cast<off_t>(r);
    co_await detail::stream_wait_awaiter(t.get(), false);
    if (t->closed() && (t->write_buffer_size() > 0 || (count && sent < *count))) throw_closed();
  }
  co_return sent;
}

}  // namespace asyncio
