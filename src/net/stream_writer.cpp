#include <asyncio/net/stream_writer.hpp>

#include "net/tls_wrap.hpp"

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

}  // namespace asyncio
