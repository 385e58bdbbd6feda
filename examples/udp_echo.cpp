// examples/udp_echo.cpp: a UDP echo server with a datagram socket (Python 3.11's loop.sock_recvfrom /
// loop.sock_sendto on a non-blocking socket).
//
//   udp_echo [HOST] [PORT]
//
// Try it: `udp_echo 127.0.0.1 9999`, then `udp_echo_client 127.0.0.1 9999 ping` (examples/
// udp_echo_client.cpp) or `nc -u 127.0.0.1 9999` and type lines. Ctrl-C (or SIGTERM) stops it.
// The ctest (examples/udp_echo.check.cmake) runs it with udp_echo_client, once with an unconnected
// socket (three datagrams) and once with a connected one, then sends SIGINT.
// Shows: create_datagram_socket, sock_recvfrom, sock_sendto, datagram boundaries (one recvfrom, one
// datagram), a server loop as a task cancelled at the end (here from a signal handler).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <asyncio/asyncio.hpp>

namespace {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9999;
};

// The server: one datagram in, the same datagram back to its sender, until cancelled. The socket
// belongs to the caller, which closes it after this task has finished (a socket destroyed while
// open is reported as "unclosed socket", as Python's ResourceWarning).
auto echo_server(asyncio::socket* sock, int* served) -> asyncio::task<void> {
  for (;;) {
    asyncio::datagram d = co_await asyncio::sock_recvfrom(*sock);
    co_await asyncio::sock_sendto(*sock, d.data, d.from);
    ++*served;
  }
}

auto amain(config cfg) -> asyncio::task<int> {
  auto sock = asyncio::create_datagram_socket(asyncio::address::parse(cfg.host, cfg.port));
  std::printf("echo server on %s\n", sock.getsockname().to_string().c_str());
  std::fflush(stdout);

  int served = 0;
  auto server = asyncio::create_task(echo_server(&sock, &served));
  // Ctrl-C or SIGTERM cancels the server loop. (An error in the loop ends the await below too.)
  auto& loop = asyncio::get_running_loop();
  for (int sig : {SIGINT, SIGTERM}) loop.add_signal_handler(sig, [&server] { server.cancel(); });
  try {
    co_await server;
  } catch (const asyncio::cancelled_error&) {
    // the way a server loop ends
  }
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  sock.close();
  std::printf("server stopped after %d datagrams\n", served);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  if (argc > 1) cfg.host = argv[1];
  if (argc > 2) cfg.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  return asyncio::run(amain(cfg));
}
