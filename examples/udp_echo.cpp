// examples/udp_echo.cpp: a UDP echo server and its clients, with datagram sockets (Python 3.11's
// loop.sock_recvfrom / loop.sock_sendto on a non-blocking socket).
//
//   udp_echo [HOST] [PORT] [--self-test N]
//
// Try it: `udp_echo 127.0.0.1 9999`, then `nc -u 127.0.0.1 9999` and type lines. Ctrl-C stops it
// (asyncio::run cancels the main task, which closes the socket).
// --self-test N binds the server to HOST:PORT (0 = any free port), sends it N datagrams from an
// unconnected client (sock_sendto with the server's address, sock_recvfrom tells who answered),
// then one from a connected client (create_datagram_socket(local, remote): the empty address means
// "the connected peer", sock_recv reads the answer), checks every echo and exits (the ctest run).
// Each wait for an echo is bounded by wait_for (UDP may drop datagrams; loopback does not).
// Shows: create_datagram_socket, sock_recvfrom, sock_sendto, datagram boundaries (one recvfrom,
// one datagram), a server loop as a task cancelled at the end, wait_for around a receive.
// ctest-args: 127.0.0.1 0 --self-test 3
// ctest-expect: echo server on 127.0.0.1:[0-9]+
// ctest-expect: client got 'ping 0' from 127.0.0.1:[0-9]+
// ctest-expect: client got 'ping 1'
// ctest-expect: client got 'ping 2'
// ctest-expect: connected client got 'hello from a connected socket'
// ctest-expect: server stopped after 4 datagrams
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9999;
  int self_test = 0;  // number of datagrams to send ourselves; 0 = serve until Ctrl-C
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

auto self_test(asyncio::address server, int count) -> asyncio::task<bool> {
  bool ok = true;
  // An unconnected client: every send names the destination, every receive says the sender.
  auto client = asyncio::create_datagram_socket(asyncio::address::parse(server.host(), 0));
  for (int i = 0; i < count; ++i) {
    std::string message = "ping " + std::to_string(i);
    co_await asyncio::sock_sendto(client, message, server);
    asyncio::datagram echo = co_await asyncio::wait_for(asyncio::sock_recvfrom(client), 2s);
    std::printf("client got '%s' from %s\n", echo.data.c_str(), echo.from.to_string().c_str());
    ok = ok && echo.data == message && echo.from == server;
  }
  client.close();

  // A connected client: the kernel fills in the destination and filters out other senders.
  auto connected = asyncio::create_datagram_socket(asyncio::address(), server);
  co_await asyncio::sock_sendto(connected, "hello from a connected socket", asyncio::address());
  std::string reply = co_await asyncio::wait_for(asyncio::sock_recv(connected, 1500), 2s);
  std::printf("connected client got '%s'\n", reply.c_str());
  ok = ok && reply == "hello from a connected socket";
  connected.close();
  co_return ok;
}

auto amain(config cfg) -> asyncio::task<int> {
  auto sock = asyncio::create_datagram_socket(asyncio::address::parse(cfg.host, cfg.port));
  asyncio::address where = sock.getsockname();
  std::printf("echo server on %s\n", where.to_string().c_str());
  std::fflush(stdout);

  int served = 0;
  auto server = asyncio::create_task(echo_server(&sock, &served));
  bool ok = true;
  if (cfg.self_test > 0) {
    ok = co_await self_test(where, cfg.self_test);
  } else {
    try {
      co_await server;  // until Ctrl-C cancels us (and, through the await, the server)
    } catch (const asyncio::cancelled_error&) {
      sock.close();
      throw;  // asyncio::run turns it into keyboard_interrupt
    }
  }
  server.cancel();
  try {
    co_await server;
  } catch (const asyncio::cancelled_error&) {
    // the way a server loop ends
  }
  sock.close();
  std::printf("server stopped after %d datagrams\n", served);
  co_return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test") && i + 1 < argc) cfg.self_test = std::atoi(argv[++i]);
    else if (positional++ == 0) cfg.host = argv[i];
    else cfg.port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }
  try {
    return asyncio::run(amain(cfg));
  } catch (const asyncio::keyboard_interrupt&) {
    std::printf("interrupted\n");
    return 0;
  }
}
