// examples/lowlevel_io.cpp: the io layer used directly, for people who write their own protocols or
// awaiters. A listener, a client and the accepted connection on 127.0.0.1, driven by the io
// operations of <asyncio/lowlevel/io_operation.hpp> (accept, connect, send, recv, poll) on
// plain non-blocking file descriptors. Each operation tries the system call first and waits for
// readiness only when the kernel says EAGAIN (docs/design.md, "The io layer").
// Run: ./lowlevel_io
// Shows: lowlevel::accept/connect/send/recv/poll, io::direction, statistics().io_backend.
// ctest-expect: io backend: epoll
// ctest-expect: server got: ping
// ctest-expect: client got: pong
// ctest-expect: client sees end of stream
#include <array>
#include <iostream>
#include <string>
#include <string_view>

#include <asyncio/asyncio.hpp>
#include <asyncio/lowlevel/io_operation.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

namespace lowlevel = asyncio::lowlevel;

// Reads once; an empty string means the peer closed its side.
asyncio::task<std::string> read_some(int fd) {
  std::array<char, 256> buf{};
  std::size_t n = co_await lowlevel::recv(fd, buf);
  co_return std::string(buf.data(), n);
}

// Sends all of `data` (send may take only part of it).
asyncio::task<void> send_all(int fd, std::string_view data) {
  while (!data.empty()) data.remove_prefix(co_await lowlevel::send(fd, data));
}

asyncio::task<int> amain() {
  std::cout << "io backend: " << asyncio::get_running_loop().statistics().io_backend << '\n';

  asyncio::socket listener(AF_INET, SOCK_STREAM);  // non-blocking, closed by its destructor
  listener.bind(asyncio::address::ipv4("127.0.0.1", 0));
  listener.listen(8);
  asyncio::address where = listener.getsockname();

  asyncio::socket client(AF_INET, SOCK_STREAM);
  co_await lowlevel::connect(client.fileno(), where.data(), where.size());
  asyncio::io::accepted conn = co_await lowlevel::accept(listener.fileno());
  asyncio::socket server = asyncio::socket::from_fd(conn.fd, AF_INET);

  co_await send_all(client.fileno(), "ping");
  std::string request = co_await read_some(server.fileno());
  std::cout << "server got: " << request << '\n';
  co_await send_all(server.fileno(), "pong");
  server.shutdown(SHUT_WR);

  // Wait until there is something to read (or the end of the stream), then read it.
  co_await lowlevel::poll(client.fileno(), asyncio::io::direction::read);
  std::string reply = co_await read_some(client.fileno());
  std::cout << "client got: " << reply << '\n';
  std::string rest = co_await read_some(client.fileno());
  if (rest.empty()) std::cout << "client sees end of stream\n";

  server.close();
  client.close();
  listener.close();
  co_return 0;
}

int main() { return asyncio::run(amain()); }
