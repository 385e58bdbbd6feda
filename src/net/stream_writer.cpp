#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

auto stream_writer::get_extra_info(std::string_view name) const -> std::any {
  if (t_->kind() == detail::stream_kind::pipe) {
    if (name == "pipe") return t_->sock().fileno();
    return {};
  }
  if (name == "peername") return t_->peer;
  if (name == "sockname") return t_->local;
  if (name == "socket") return t_->sock().fileno();
  return {};
}

}  // namespace asyncio
