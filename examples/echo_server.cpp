// TCP echo server: start_server + one coroutine per connection, graceful shutdown on Ctrl-C.
//
//   echo_server [HOST] [PORT] [--connections N] [--duration SECONDS]
//
// Serves until SIGINT (Ctrl-C) or SIGTERM, or until N connections were served, or for SECONDS,
// whichever comes first; then shuts down gracefully: stop accepting, give the open connections 1 s
// to finish, cancel the rest (Python: server.close(), then wait with a deadline, then cancel).
//
// Ctrl-C is taken over with loop.add_signal_handler (which replaces asyncio::run's own Ctrl-C
// handling: that one would cancel main wherever it is, before the shutdown could run).
//
// Try it: `echo_server 127.0.0.1 8888`, then `echo_client 127.0.0.1 8888 hello` (examples/
// echo_client.cpp) or `nc 127.0.0.1 8888`; Ctrl-C stops the server.
// The ctest (examples/echo_server.check.cmake) runs it with echo_client: three clients each echo a
// line, a fourth stays connected, then SIGINT: the idle connection is cancelled after the 1 s grace.
#include <asyncio/asyncio.hpp>

#include <csignal>
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
};

struct server_state {
  int served = 0;       // connections that ended normally
  int limit = -1;       // --connections
  asyncio::event stop;  // set by a signal, or when `limit` connections were served
};

auto echo(std::shared_ptr<server_state> st, asyncio::stream_reader reader, asyncio::stream_writer writer)
    -> asyncio::task<void> {
  auto peer = std::any_cast<asyncio::address>(writer.get_extra_info("peername")).to_string();
  std::printf("connection from %s\n", peer.c_str());
  char buf[16 * 1024];
  try {
    for (;;) {
      std::size_t n = co_await reader.read_into(buf);
      if (n == 0) break;
      writer.write(std::string_view(buf, n));
      co_await writer.drain();
    }
  } catch (const asyncio::cancelled_error&) {
    std::printf("connection from %s cancelled at shutdown\n", peer.c_str());
    throw;
  } catch (const asyncio::connection_error& e) {
    std::printf("connection from %s lost: %s\n", peer.c_str(), e.what());
    co_return;
  }
  if (++st->served == st->limit) st->stop.set();
}

auto serve(config cfg) -> asyncio::task<int> {
  auto st = std::make_shared<server_state>();
  st->limit = cfg.connections;
  auto handler = [st](asyncio::stream_reader r, asyncio::stream_writer w) { return echo(st, std::move(r), std::move(w)); };
  auto srv = co_await asyncio::start_server(handler, cfg.host, cfg.port);
  std::printf("serving on %s\n", srv.sockets().front().to_string().c_str());
  std::fflush(stdout);

  auto& loop = asyncio::get_running_loop();
  for (int sig : {SIGINT, SIGTERM}) {
    loop.add_signal_handler(sig, [st, sig] {
      std::printf("%s: shutting down gracefully\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      st->stop.set();
    });
  }

  if (cfg.duration < 0) {
    co_await st->stop.wait();
  } else {
    try {
      auto limit = std::chrono::duration_cast<asyncio::duration>(std::chrono::duration<double>(cfg.duration));
      co_await asyncio::wait_for(st->stop.wait(), limit);
    } catch (const asyncio::timeout_error&) {
      std::printf("%g s elapsed: shutting down\n", cfg.duration);
    }
  }
  co_await srv.shutdown(1s);  // stop accepting; 1 s for open connections; then cancel them
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  std::printf("served %d connection(s)\n", st->served);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) cfg.connections = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--duration") && i + 1 < argc) cfg.duration = std::atof(argv[++i]);
    else if (positional++ == 0) cfg.host = argv[i];
    else cfg.port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }
  return asyncio::run(serve(cfg));
}
