// Our streams against real Python asyncio peers (Debian's /usr/bin/python3, run as child
// processes under `timeout 60`): a Python client talks to our server, our client talks to a Python
// server, and a Python client resets the connection mid-stream. Loopback only; real clock; every
// wait is bounded.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

// Python asyncio client: sends 200 lines of growing size plus a 1 MiB blob, checks the echoes.
const char* python_client = R"PY(
import asyncio, sys
async def main(port):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    for i in range(200):
        line = ('x' * i + str(i) + '\n').encode()
        w.write(line)
        await w.drain()
        got = await r.readline()
        assert got == line, (got, line)
    blob = bytes(range(256)) * 4096
    w.write(blob)
    await w.drain()
    got = await r.readexactly(len(blob))
    assert got == blob
    w.write_eof()
    assert await r.read() == b''
    w.close()
    await w.wait_closed()
    print('ok', flush=True)
asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 30))
)PY";

// Python asyncio server: uppercases each line; prints its port, then serves one connection.
const char* python_server = R"PY(
import asyncio
async def handle(r, w):
    while line := await r.readline():
        w.write(line.upper())
        await w.drain()
    w.close()
    done.set()
async def main():
    global done
    done = asyncio.Event()
    srv = await asyncio.start_server(handle, '127.0.0.1', 0)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.wait_for(done.wait(), 30)
    srv.close()
    await srv.wait_closed()
asyncio.run(main())
)PY";

// Python client that sends a line and then resets the connection (SO_LINGER 0).
const char* python_resetter = R"PY(
import socket, struct, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'hello\n')
s.recv(6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()
print('reset', flush=True)
)PY";

auto echo_lines(asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
  char buf[8192];
  for (;;) {
    std::size_t n = co_await r.read_into(buf);
    if (n == 0) break;
    w.write(std::string_view(buf, n));
    co_await w.drain();
  }
}

TEST(PythonPeer, PythonClientAgainstOurServer) {
  asyncio::run([]() -> task<void> {
    auto srv = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
    auto child = test_support::spawn_python(python_client, {std::to_string(srv.port())});
    int code = co_await test_support::wait_child(child, 40s);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(child.read_line(1s), "ok");
    co_await srv.shutdown(1s);
  }());
}

TEST(PythonPeer, OurClientAgainstPythonServer) {
  auto child = test_support::spawn_python(python_server);
  std::string port = child.read_line();
  ASSERT_FALSE(port.empty());
  asyncio::run([](std::uint16_t port) -> task<void> {
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
    for (int i = 0; i < 100; ++i) {
      w.write("line " + std::to_string(i) + " abc\n");
      co_await w.drain();
      EXPECT_EQ(co_await r.readline(), "LINE " + std::to_string(i) + " ABC\n");
    }
    w.write_eof();
    EXPECT_EQ(co_await r.read(), "");
    EXPECT_TRUE(r.at_eof());
    w.close();
    co_await w.wait_closed();
  }(static_cast<std::uint16_t>(std::stoi(port))));
  EXPECT_EQ(child.wait(30s), 0);
}

TEST(PythonPeer, PeerResetSurfacesAsConnectionError) {
  asyncio::run([]() -> task<void> {
    auto outcome = std::make_shared<std::string>();
    auto handler = [outcome](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
      std::string line = co_await r.readline();
      w.write(line);
      co_await w.drain();
      try {
        // Keep writing until the reset shows up: it must raise, never SIGPIPE.
        std::string chunk(64 * 1024, 'p');
        for (int i = 0; i < 10000; ++i) {
          w.write(chunk);
          co_await w.drain();
          co_await asyncio::sleep(1ms);
        }
        *outcome = "no error";
      } catch (const asyncio::connection_error& e) {
        *outcome = "connection_error";
      }
    };
    auto srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    auto child = test_support::spawn_python(python_resetter, {std::to_string(srv.port())});
    EXPECT_EQ(co_await test_support::wait_child(child, 30s), 0);
    EXPECT_TRUE(co_await test_support::eventually([&] { return !outcome->empty(); }));
    EXPECT_EQ(*outcome, "connection_error");
    co_await srv.shutdown(1s);
  }());
}

}  // namespace
