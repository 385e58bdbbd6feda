#pragma once
// Networking layer: sockets, streams, servers, UDP, Unix sockets and name resolution, with
// Python's asyncio names (doc-test: compile-only, it needs example.org and serves forever):
//
//   auto [reader, writer] = co_await asyncio::open_connection("example.org", 80);
//   writer.write("GET / HTTP/1.0\r\n\r\n");
//   co_await writer.drain();                       // back-pressure: waits only above 64 KiB
//   std::string line = co_await reader.readline();
//   writer.close(); co_await writer.wait_closed();
//
//   auto srv = co_await asyncio::start_server(handle_client, "127.0.0.1", 8888);   // handle_client(reader, writer)
//   co_await srv.serve_forever();                  // or srv.shutdown(5s) for a graceful stop
//
// Pieces, from the bottom up:
//   asyncio::lowlevel::wait_readable/wait_writable(fd)   edge-triggered readiness waits
//   asyncio::address, asyncio::getaddrinfo                addresses (IPv4/IPv6/Unix), DNS off the loop
//   asyncio::socket + sock_recv/sock_recv_into/sock_sendall/sock_connect/sock_accept/
//     sock_sendto/sock_recvfrom, create_datagram_socket   Python's loop.sock_* (TCP, UDP, Unix)
//   asyncio::create_connection                            Happy Eyeballs connect (RFC 8305)
//   asyncio::open_connection / open_unix_connection       streams (stream_reader, stream_writer)
//   asyncio::start_server / start_unix_server / server    servers with graceful shutdown
//   asyncio::ssl_context, ssl_object, start_tls           TLS through OpenSSL ({.ssl = ctx})
//   asyncio::ssl_session                                  resume a TLS session ({.session = s})
//   asyncio::protocol, buffered_protocol, transport +     Python's callback style: protocols
//     create_connection(factory, ...), create_server,     called by transports (net/protocol.hpp,
//     create_unix_*, connect_accepted_socket              net/transport.hpp)
//   asyncio::datagram_protocol, datagram_transport,       UDP with callbacks
//     create_datagram_endpoint                            (net/datagram_transport.hpp)
//
// Errors are the os_error subclasses of <asyncio/errors.hpp> (connection_reset_error,
// broken_pipe_error, connection_refused_error, timeout_error...) carrying the std::error_code.
// No operation raises SIGPIPE. Every operation is a cancellation point that loses no data.
#include <asyncio/lowlevel/wait_io.hpp>
#include <asyncio/net/address.hpp>
#include <asyncio/net/connection.hpp>
#include <asyncio/net/datagram_transport.hpp>
#include <asyncio/net/getaddrinfo.hpp>
#include <asyncio/net/protocol.hpp>
#include <asyncio/net/server.hpp>
#include <asyncio/net/socket.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_error.hpp>
#include <asyncio/net/ssl_object.hpp>
#include <asyncio/net/ssl_session.hpp>
#include <asyncio/net/start_tls.hpp>
#include <asyncio/net/stream_reader.hpp>
#include <asyncio/net/stream_writer.hpp>
#include <asyncio/net/transport.hpp>
