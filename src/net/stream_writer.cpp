#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

auto stream_writer::get_extra_info(std::string_view name) const -> std::any {
  if (name == "peername") return t_->peer;
  if (name == "sockname") return t_->local;
  if (name == "socket") return t_->sock().fileno();
  return {};
}

}  // namespace asyncio
