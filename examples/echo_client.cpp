// TCP echo client: open_connection, write lines, read the echoes.
//
//   echo_client HOST PORT [MESSAGE...]
//
// Without a reachable server it starts a tiny local echo server first (that is what the ctest
// does), so the example always runs.
// ctest-args: 127.0.0.1 0 hello world
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

auto local_echo(asyncio::stream_reader r, asyncio::stream_writer w) -> asyncio::task<void> {
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) break;
    w.write(line);
    co_await w.drain();
  }
}

auto run(std::string host, std::uint16_t port, std::vector<std::string> messages) -> asyncio::task<int> {
  std::optional<asyncio::server> fallback;
  if (port == 0) {  // no server given: run one here
    fallback = co_await asyncio::start_server(local_echo, host, 0);
    port = fallback->port();
  }
  // Happy Eyeballs as in Python: with a host name resolving to IPv6 and IPv4, the second family's
  // attempt starts 250 ms after the first if it has not connected yet.
  asyncio::connect_options opts;
  opts.happy_eyeballs_delay = std::chrono::milliseconds(250);
  auto [reader, writer] = co_await asyncio::open_connection(host, port, opts);
  int errors = 0;
  for (const auto& m : messages) {
    writer.write(m + "\n");
    co_await writer.drain();
    std::string echo = co_await reader.readline();
    std::printf("sent %-12s got %s", m.c_str(), echo.c_str());
    if (echo != m + "\n") ++errors;
  }
  writer.close();
  co_await writer.wait_closed();
  if (fallback) {
    fallback->close();
    co_await fallback->wait_closed();
  }
  co_return errors;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 0);
  std::vector<std::string> messages;
  for (int i = 3; i < argc; ++i) messages.emplace_back(argv[i]);
  if (messages.empty()) messages = {"hello", "asyncio"};
  return asyncio::run(run(host, port, messages));
}
