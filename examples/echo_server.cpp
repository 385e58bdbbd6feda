// TCP echo server: start_server + one coroutine per connection, graceful shutdown.
//
//   echo_server [HOST] [PORT] [--connections N] [--duration SECONDS]
//
// Stops after N connections were served or after SECONDS, whichever comes first (the ctest run
// uses both), then shuts down gracefully: stop accepting, give handlers 1 s, cancel the rest.
// ctest-args: 127.0.0.1 0 --connections 3 --duration 20 --self-test
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

using namespace std::chrono_literals;

namespace {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  int connections = -1;
  double duration = -1;
  bool self_test = false;  // connect to ourselves N times (used by the ctest)
};

auto run(config cfg) -> asyncio::task<int> {
  auto served = std::make_shared<int>(0);
  auto handler = [served](asyncio::stream_reader reader, asyncio::stream_writer writer) -> asyncio::task<void> {
    auto peer = std::any_cast<asyncio::address>(writer.get_extra_info("peername"));
    std::printf("connection from %s\n", peer.to_string().c_str());
    char buf[16 * 1024];
    for (;;) {
      std::size_t n = co_await reader.read_into(buf);
      if (n == 0) break;
      writer.write(std::string_view(buf, n));
      co_await writer.drain();
    }
    ++*served;
  };
  auto srv = co_await asyncio::start_server(handler, cfg.host, cfg.port);
  std::printf("serving on %s\n", srv.sockets().front().to_string().c_str());
  std::fflush(stdout);
  if (cfg.self_test) {
    for (int i = 0; i < cfg.connections; ++i) {
      auto [r, w] = co_await asyncio::open_connection(cfg.host, srv.port());
      w.write("hello " + std::to_string(i) + "\n");
      std::string line = co_await r.readline();
      std::printf("echoed: %s", line.c_str());
      w.close();
      co_await w.wait_closed();
    }
  }
  auto start = std::chrono::steady_clock::now();
  while ((cfg.connections < 0 || *served < cfg.connections) &&
         (cfg.duration < 0 || std::chrono::steady_clock::now() - start < std::chrono::duration<double>(cfg.duration)))
    co_await asyncio::sleep(10ms);
  co_await srv.shutdown(1s);
  std::printf("served %d connection(s)\n", *served);
  co_return cfg.self_test && *served < cfg.connections ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) cfg.connections = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--duration") && i + 1 < argc) cfg.duration = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--self-test")) cfg.self_test = true;
    else if (positional++ == 0) cfg.host = argv[i];
    else cfg.port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }
  return asyncio::run(run(cfg));
}
