// TCP echo server for the loopback echo benchmark (bench/echo.sh), written with the streams API:
// start_server + stream_reader::read_into + stream_writer::write/drain, one task per connection,
// a 64 KiB buffer per connection reused for every message (docs/toolchain.md §9: no heap buffer per read).
//
// Usage: bench_echo_server PORT [BUSY_POLL_US]   (binds 127.0.0.1; runs until killed)
//   BUSY_POLL_US sets loop_options::busy_poll (default: the library's; 0 turns it off), so that
//   one binary can be measured with and without busy polling.
#include <asyncio/asyncio.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

namespace {

auto echo(asyncio::stream_reader reader, asyncio::stream_writer writer) -> asyncio::task<void> {
  std::vector<char> buf(64 * 1024);
  try {
    for (;;) {
      std::size_t n = co_await reader.read_into(buf);
      if (n == 0) break;
      writer.write(std::string_view(buf.data(), n));
      co_await writer.drain();
    }
  } catch (const asyncio::connection_reset_error&) {
    // echo_load closes its connections with a reset at the end of a run: not worth a log line each
  }
}

auto serve(std::uint16_t port) -> asyncio::task<void> {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", port);
  co_await srv.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 9000);
  asyncio::loop_options options;
  if (argc > 2) options.busy_poll = std::chrono::microseconds(std::atoi(argv[2]));
  asyncio::run(serve(port), options);
}
