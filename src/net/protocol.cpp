// The protocols' default callbacks (Python's BaseProtocol, Protocol, BufferedProtocol and
// DatagramProtocol define them as doing nothing).
#include <asyncio/net/protocol.hpp>

namespace asyncio {

base_protocol::~base_protocol() = default;
void base_protocol::connection_made(transport& /*t*/) {}
void base_protocol::connection_made(datagram_transport& /*t*/) {}
void base_protocol::connection_lost(std::exception_ptr /*error*/) {}
void base_protocol::pause_writing() {}
void base_protocol::resume_writing() {}

void protocol::data_received(std::string_view /*data*/) {}
auto protocol::eof_received() -> bool { return false; }

auto buffered_protocol::eof_received() -> bool { return false; }

void datagram_protocol::datagram_received(std::string_view /*data*/, const address& /*addr*/) {}
void datagram_protocol::error_received(std::exception_ptr /*error*/) {}

}  // namespace asyncio
