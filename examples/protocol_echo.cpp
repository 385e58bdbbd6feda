// examples/protocol_echo.cpp: Python's callback style of networking, protocols and transports: the
// TCP echo server and client, and the UDP echo server and client, of Python's asyncio documentation
// ("Transports and Protocols" examples), both sides in one program on 127.0.0.1.
// Run: ./protocol_echo
// Shows: asyncio::protocol, create_server, create_connection, transport::write/close,
// eof and connection_lost, datagram_protocol, create_datagram_endpoint, datagram_transport::sendto.
// ctest-expect: TCP client: data sent: Hello World!
// ctest-expect: TCP server: data received: Hello World!
// ctest-expect: TCP client: data received: Hello World!
// ctest-expect: TCP client: the server closed the connection
// ctest-expect: UDP server: received ping
// ctest-expect: UDP client: received ping
// ctest-expect: UDP client: connection closed
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <asyncio/core/run.hpp>
#include <asyncio/net/datagram_transport.hpp>
#include <asyncio/net/transport.hpp>
#include <asyncio/sync/event.hpp>

// Python: class EchoServerProtocol(asyncio.Protocol)
struct echo_server_protocol : asyncio::protocol {
  std::shared_ptr<asyncio::transport> transport;
  void connection_made(asyncio::transport& t) override {
    std::cout << "TCP server: connection from " << t.peername().to_string() << "\n";
    transport = t.shared_from_this();
  }
  void data_received(std::string_view data) override {
    std::cout << "TCP server: data received: " << data << "\n";
    transport->write(data);
    std::cout << "TCP server: close the client socket\n";
    transport->close();
  }
};

// Python: class EchoClientProtocol(asyncio.Protocol), with its on_con_lost future as an event.
struct echo_client_protocol : asyncio::protocol {
  std::string message;
  asyncio::event* on_con_lost;
  echo_client_protocol(std::string m, asyncio::event* lost) : message(std::move(m)), on_con_lost(lost) {}
  void connection_made(asyncio::transport& t) override {
    t.write(message);
    std::cout << "TCP client: data sent: " << message << "\n";
  }
  void data_received(std::string_view data) override { std::cout << "TCP client: data received: " << data << "\n"; }
  void connection_lost(std::exception_ptr) override {
    std::cout << "TCP client: the server closed the connection\n";
    on_con_lost->set();
  }
};

struct udp_echo_server : asyncio::datagram_protocol {
  std::shared_ptr<asyncio::datagram_transport> transport;
  void connection_made(asyncio::datagram_transport& t) override { transport = t.shared_from_this(); }
  void datagram_received(std::string_view data, const asyncio::address& from) override {
    std::cout << "UDP server: received " << data << "\n";
    transport->sendto(data, from);
  }
};

struct udp_echo_client : asyncio::datagram_protocol {
  std::shared_ptr<asyncio::datagram_transport> transport;
  asyncio::event* on_con_lost;
  explicit udp_echo_client(asyncio::event* lost) : on_con_lost(lost) {}
  void connection_made(asyncio::datagram_transport& t) override {
    transport = t.shared_from_this();
    transport->sendto("ping");
  }
  void datagram_received(std::string_view data, const asyncio::address&) override {
    std::cout << "UDP client: received " << data << "\n";
    transport->close();
  }
  void connection_lost(std::exception_ptr) override {
    std::cout << "UDP client: connection closed\n";
    on_con_lost->set();
  }
};

asyncio::task<void> tcp_echo() {
  auto make_server_protocol = [] { return std::make_shared<echo_server_protocol>(); };
  asyncio::server srv = co_await asyncio::create_server(make_server_protocol, "127.0.0.1", 0);

  asyncio::event on_con_lost;
  auto make_client_protocol = [&on_con_lost] { return std::make_shared<echo_client_protocol>("Hello World!", &on_con_lost); };
  auto [transport, protocol] = co_await asyncio::create_connection(make_client_protocol, "127.0.0.1", srv.port());
  co_await on_con_lost.wait();  // Python: await on_con_lost
  transport->close();           // already closed by the server: does nothing
  srv.close();
  co_await srv.wait_closed();
}

asyncio::task<void> udp_echo() {
  auto make_server = [] { return std::make_shared<udp_echo_server>(); };
  auto [server, server_protocol] =
      co_await asyncio::create_datagram_endpoint(make_server, asyncio::address::ipv4("127.0.0.1", 0));

  asyncio::event on_con_lost;
  auto make_client = [&on_con_lost] { return std::make_shared<udp_echo_client>(&on_con_lost); };
  [[maybe_unused]] auto [client, client_protocol] =
      co_await asyncio::create_datagram_endpoint(make_client, asyncio::address(), server->sockname());
  co_await on_con_lost.wait();
  server->close();
}

asyncio::task<void> amain() {
  co_await tcp_echo();
  co_await udp_echo();
}

int main() { asyncio::run(amain()); }
