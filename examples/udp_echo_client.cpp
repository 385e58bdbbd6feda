// examples/udp_echo_client.cpp: a client of examples/udp_echo.cpp with datagram sockets (Python 3.11's
// loop.sock_sendto / loop.sock_recvfrom / loop.sock_recv).
//
//   udp_echo_client HOST PORT [--connect] [MESSAGE...]
//
// Sends each MESSAGE as one datagram and prints the echo. By default the socket is unconnected:
// every send names the destination and every receive says who sent the datagram. With --connect the
// socket is connected to the server: the kernel fills in the destination (the empty address means
// "the connected peer") and drops datagrams from anyone else, so sock_recv is enough.
// Each wait for an echo is bounded by wait_for: UDP may drop datagrams (loopback does not).
// Try it: `udp_echo 127.0.0.1 9999` in one terminal, `udp_echo_client 127.0.0.1 9999 ping` in another.
// ctest-run-by: udp_echo (examples/udp_echo.check.cmake runs the two together)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

auto unconnected(asyncio::address server, std::vector<std::string> messages) -> asyncio::task<bool> {
  auto sock = asyncio::create_datagram_socket(asyncio::address::parse(server.host(), 0));
  bool ok = true;
  for (const auto& m : messages) {
    co_await asyncio::sock_sendto(sock, m, server);
    asyncio::datagram echo = co_await asyncio::wait_for(asyncio::sock_recvfrom(sock), 2s);
    std::printf("got '%s' from %s\n", echo.data.c_str(), echo.from.to_string().c_str());
    ok = ok && echo.data == m && echo.from == server;
  }
  sock.close();
  co_return ok;
}

auto connected(asyncio::address server, std::vector<std::string> messages) -> asyncio::task<bool> {
  auto sock = asyncio::create_datagram_socket(asyncio::address(), server);
  bool ok = true;
  for (const auto& m : messages) {
    co_await asyncio::sock_sendto(sock, m, asyncio::address());
    std::string echo = co_await asyncio::wait_for(asyncio::sock_recv(sock, 1500), 2s);
    std::printf("got '%s'\n", echo.c_str());
    ok = ok && echo == m;
  }
  sock.close();
  co_return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: udp_echo_client HOST PORT [--connect] [MESSAGE...]\n");
    return 2;
  }
  auto server = asyncio::address::parse(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])));
  bool connect = false;
  std::vector<std::string> messages;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--connect")) connect = true;
    else messages.emplace_back(argv[i]);
  }
  if (messages.empty()) messages = {"ping"};
  bool ok = asyncio::run(connect ? connected(server, messages) : unconnected(server, messages));
  return ok ? 0 : 1;
}
