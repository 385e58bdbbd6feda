// examples/unix_echo.cpp: an echo server on a Unix stream socket (Python's asyncio.start_unix_server
// and asyncio.open_unix_connection): the same streams as TCP, addressed by a path instead of a port.
//
//   unix_echo [PATH] [--self-test N]
//
// Try it: `unix_echo /tmp/echo.sock`, then `nc -U /tmp/echo.sock` and type lines; Ctrl-C stops it.
// PATH defaults to a fresh path in the temporary directory. A stale socket file at PATH is removed
// when the server starts, and the file is removed again when the server closes.
// --self-test N connects N clients one after the other, each sends one line and reads it back, then
// the server shuts down gracefully and the program checks that the socket file is gone (the ctest).
// Shows: start_unix_server, open_unix_connection, readline/write/drain, server::shutdown,
// get_extra_info("peername"), the socket file's life cycle.
// ctest-args: --self-test 3
// ctest-expect: serving on /.*unix_echo\.[0-9]+\.sock
// ctest-expect: client 0 got: hello 0
// ctest-expect: client 1 got: hello 1
// ctest-expect: client 2 got: hello 2
// ctest-expect: server closed after 3 connections, socket file removed: yes
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

auto amain(std::string path, int self_test) -> asyncio::task<int> {
  auto served = std::make_shared<int>(0);
  // Named first (not written inside the co_await): g++ 12 would destroy a capturing lambda
  // temporary there twice (docs/design.md, "Compiler traps").
  auto handler = [served](asyncio::stream_reader r, asyncio::stream_writer w) -> asyncio::task<void> {
    co_await echo(std::move(r), std::move(w));
    ++*served;
  };
  auto srv = co_await asyncio::start_unix_server(handler, path);
  std::printf("serving on %s\n", path.c_str());
  std::fflush(stdout);

  bool ok = true;
  if (self_test > 0) {
    for (int i = 0; i < self_test; ++i) {
      auto [reader, writer] = co_await asyncio::open_unix_connection(path);
      std::string message = "hello " + std::to_string(i) + "\n";
      writer.write(message);
      co_await writer.drain();
      std::string echoed = co_await asyncio::wait_for(reader.readline(), 5s);
      std::printf("client %d got: %s", i, echoed.c_str());
      ok = ok && echoed == message;
      writer.close();
      co_await writer.wait_closed();
    }
    // Let the handlers see EOF and finish (bounded), then close: stop accepting, wait, cancel the rest.
    for (int i = 0; i < 500 && *served < self_test; ++i) co_await asyncio::sleep(10ms);
    co_await srv.shutdown(1s);
  } else {
    co_await srv.serve_forever();  // until Ctrl-C; closes the server when cancelled
  }
  bool removed = !std::filesystem::exists(path);
  std::printf("server closed after %d connections, socket file removed: %s\n", *served, removed ? "yes" : "no");
  co_return ok && removed && *served == self_test ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("unix_echo." + std::to_string(::getpid()) + ".sock")).string();
  int self_test = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test") && i + 1 < argc) self_test = std::atoi(argv[++i]);
    else path = argv[i];
  }
  try {
    return asyncio::run(amain(path, self_test));
  } catch (const asyncio::keyboard_interrupt&) {
    std::printf("\ninterrupted\n");
    return 0;
  }
}
