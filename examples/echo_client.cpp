// TCP echo client: open_connection, write lines, read the echoes.
//
//   echo_client HOST PORT [--stay] [MESSAGE...]
//
// Sends each MESSAGE (default: "hello" and "asyncio") as a line and prints the echo. With --stay it
// then keeps the connection open until the server closes it (read() returns at EOF): stop
// echo_server with Ctrl-C meanwhile to watch a graceful shutdown close an idle connection.
// Try it: `echo_server 127.0.0.1 8888` in one terminal, `echo_client 127.0.0.1 8888 hi` in another.
// ctest-run-by: echo_server (examples/echo_server.check.cmake runs the two together)
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

auto run(std::string host, std::uint16_t port, std::vector<std::string> messages, bool stay) -> asyncio::task<int> {
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
    std::printf("echoed: %s", echo.c_str());
    if (echo != m + "\n") ++errors;
  }
  if (stay) {
    std::printf("staying connected until the server closes the connection\n");
    std::fflush(stdout);
    try {
      (void)co_await reader.read();  // everything up to EOF
    } catch (const asyncio::connection_error&) {
      // a reset is a close too
    }
    std::printf("the server closed the connection\n");
  }
  writer.close();
  co_await writer.wait_closed();
  co_return errors;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: echo_client HOST PORT [--stay] [MESSAGE...]\n");
    return 2;
  }
  std::string host = argv[1];
  auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  bool stay = false;
  std::vector<std::string> messages;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--stay")) stay = true;
    else messages.emplace_back(argv[i]);
  }
  if (messages.empty()) messages = {"hello", "asyncio"};
  return asyncio::run(run(host, port, messages, stay));
}
