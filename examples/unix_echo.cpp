// examples/unix_echo.cpp: an echo server on a Unix stream socket (Python's asyncio.start_unix_server):
// the same streams as TCP, addressed by a path instead of a port.
//
//   unix_echo [PATH]
//
// Try it: `unix_echo /tmp/echo.sock`, then `unix_echo_client /tmp/echo.sock hello` (examples/
// unix_echo_client.cpp) or `nc -U /tmp/echo.sock` and type lines. Ctrl-C (or SIGTERM) shuts the
// server down gracefully: stop accepting, 1 s for the open connections, cancel the rest.
// PATH defaults to a fresh path in the temporary directory. A stale socket file at PATH is removed
// when the server starts, and the file is removed again when the server closes.
// The ctest (examples/unix_echo.check.cmake) runs it with three unix_echo_client runs, one after the
// other, then sends SIGINT and checks that the socket file is gone.
// Shows: start_unix_server, readline/write/drain, loop.add_signal_handler, server::shutdown, the
// socket file's life cycle.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

// One coroutine per connection: echo every line until the client closes its end.
auto echo(asyncio::stream_reader reader, asyncio::stream_writer writer) -> asyncio::task<void> {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;  // EOF
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// Echoes one connection, then counts it. `served` comes in by value, so the frame shares ownership.
auto echo_and_count(std::shared_ptr<int> served, asyncio::stream_reader reader, asyncio::stream_writer writer)
    -> asyncio::task<void> {
  co_await echo(std::move(reader), std::move(writer));
  ++*served;
}

auto amain(std::string path) -> asyncio::task<int> {
  auto served = std::make_shared<int>(0);
  // Named first (not written inside the co_await): g++ 12 would destroy a capturing lambda
  // temporary there twice (docs/design.md, "Compiler traps"). The lambda is not a coroutine: its
  // captures go into echo_and_count's frame as arguments (docs/coroutine_lifetimes.md §2).
  auto handler = [served](asyncio::stream_reader r, asyncio::stream_writer w) {
    return echo_and_count(served, std::move(r), std::move(w));
  };
  auto srv = co_await asyncio::start_unix_server(handler, path);
  std::printf("serving on %s\n", path.c_str());
  std::fflush(stdout);

  // Ctrl-C or SIGTERM: stop accepting, let the open connections finish (1 s), cancel the rest.
  asyncio::event stop;
  auto& loop = asyncio::get_running_loop();
  for (int sig : {SIGINT, SIGTERM}) loop.add_signal_handler(sig, [&stop] { stop.set(); });
  co_await stop.wait();
  co_await srv.shutdown(1s);
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);

  bool removed = !std::filesystem::exists(path);
  std::printf("server closed after %d connections, socket file removed: %s\n", *served, removed ? "yes" : "no");
  co_return removed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("unix_echo." + std::to_string(::getpid()) + ".sock")).string();
  if (argc > 1) path = argv[1];
  return asyncio::run(amain(path));
}
