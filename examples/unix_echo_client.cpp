// examples/unix_echo_client.cpp: a client of examples/unix_echo.cpp (Python's
// asyncio.open_unix_connection): each MESSAGE goes out as a line over a Unix stream socket, and the
// echo is printed.
//
//   unix_echo_client PATH [MESSAGE...]
//
// Try it: `unix_echo /tmp/echo.sock` in one terminal, `unix_echo_client /tmp/echo.sock hi` in another.
// Shows: open_unix_connection, write/drain, readline bounded by wait_for (a server that does not
// answer fails the client after 5 s instead of hanging it), close/wait_closed.
// ctest-run-by: unix_echo (examples/unix_echo.check.cmake runs the two together)
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

auto amain(std::string path, std::vector<std::string> messages) -> asyncio::task<int> {
  auto [reader, writer] = co_await asyncio::open_unix_connection(path);
  int errors = 0;
  for (const auto& m : messages) {
    writer.write(m + "\n");
    co_await writer.drain();
    std::string echoed = co_await asyncio::wait_for(reader.readline(), 5s);
    std::printf("got: %s", echoed.c_str());
    if (echoed != m + "\n") ++errors;
  }
  writer.close();
  co_await writer.wait_closed();
  co_return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: unix_echo_client PATH [MESSAGE...]\n");
    return 2;
  }
  std::vector<std::string> messages(argv + 2, argv + argc);
  if (messages.empty()) messages = {"hello"};
  return asyncio::run(amain(argv[1], messages));
}
