// stream_lines: a line protocol over TCP, with server and client in this one program on 127.0.0.1.
// The server reads the connection line by line as Python's `async for line in reader` does
// (stream_reader::lines()) and answers each line in upper case; at the client's EOF it sends a
// file with stream_writer::sendfile (sendfile(2) on a plain socket). The client accepts either
// line ending with readuntil("\r\n", "\n"), Python 3.13's readuntil with a tuple.
// Run: ./stream_lines
// ctest-expect: client got: HELLO
// ctest-expect: client got: ASYNC
// ctest-expect: client got: WORLD
// ctest-expect: client got the file: -- end of the conversation --
#include <asyncio/asyncio.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

// A file to send: a temporary one, removed at once (the fd keeps it alive).
auto make_file(std::string_view text) -> int {
  char name[] = "/tmp/stream_lines_XXXXXX";
  int fd = ::mkstemp(name);
  if (fd < 0) return -1;
  ::unlink(name);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

auto handle(asyncio::stream_reader reader, asyncio::stream_writer writer) -> asyncio::task<void> {
  int count = 0;
  auto lines = reader.lines();
  while (auto line = co_await lines.next()) {  // async for line in reader:
    ++count;
    for (char& c : *line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    writer.write(*line);  // the line ending comes back as it was sent
    co_await writer.drain();
  }
  std::printf("server got %d lines\n", count);
  int fd = make_file("-- end of the conversation --\n");
  if (fd < 0) co_return;
  std::size_t sent = co_await writer.sendfile(fd);  // Python: await loop.sendfile(transport, file)
  ::close(fd);
  std::printf("server sent a file of %zu bytes\n", sent);
}

auto strip_ending(std::string s) -> std::string {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

auto amain() -> asyncio::task<void> {
  auto srv = co_await asyncio::start_server(handle, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  writer.write("hello\r\nasync\nworld\r\n");  // two kinds of line ending
  writer.write_eof();
  for (int i = 0; i < 3; ++i) {
    std::string line = co_await reader.readuntil("\r\n", "\n");
    std::printf("client got: %s\n", strip_ending(line).c_str());
  }
  std::string file = co_await reader.read();  // up to the server's close
  std::printf("client got the file: %s\n", strip_ending(file).c_str());
  writer.close();
  srv.close();
  co_await srv.wait_closed();
}

}  // namespace

int main() {
  asyncio::run(amain());
  return 0;
}
