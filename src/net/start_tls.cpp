#include <asyncio/net/start_tls.hpp>

#include <asyncio/errors.hpp>

#include "net/tls_wrap.hpp"

namespace asyncio {

auto start_tls(stream_writer writer, ssl_context ctx, start_tls_options options) -> task<void> {
  std::shared_ptr<detail::stream_transport> t = writer.transport();
  if (!t) throw invalid_state_error("start_tls: empty stream_writer");
  if (t->tls()) throw invalid_state_error("start_tls: the stream already uses TLS");
  if (t->kind() != detail::stream_kind::socket) throw invalid_state_error("start_tls: not a socket stream");
  if (t->is_closing()) throw invalid_state_error("start_tls: the stream is closing");
  // Plain bytes still buffered must reach the peer before the first TLS record: wait until the
  // write buffer is empty (water marks at 0 for the time being, then restored).
  if (t->write_buffer_size() > 0) {
    struct restore_marks {
      detail::stream_transport& t;
      std::size_t high, low;
      ~restore_marks() { t.set_write_buffer_limits(high, low); }
    } guard{*t, t->high_water(), t->low_water()};
    t->set_write_buffer_limits(0, 0);
    while (t->write_buffer_size() > 0 && !t->closed() && t->write_errno() == 0)
      co_await detail::stream_wait_awaiter(t.get(), false);
    t->check_write_error();
  }
  if (t->closed()) throw connection_reset_error(std::make_error_code(std::errc::connection_reset), "start_tls");
  co_await detail::tls_wrap(t, std::move(ctx), options.server_side, options.server_hostname.value_or(std::string()),
                            options.ssl_handshake_timeout, options.session);
}

}  // namespace asyncio
