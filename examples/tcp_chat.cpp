// TCP chat server: every line a client sends goes to every other client.
//
//   tcp_chat [HOST] [PORT]
//
// Try it: `tcp_chat 127.0.0.1 8888`, then `nc 127.0.0.1 8888` in two terminals, or the scripted
// member examples/tcp_chat_client.cpp. Ctrl-C stops the server (asyncio::run turns it into
// cancellation; the server then shuts down gracefully).
// The ctest (examples/tcp_chat.check.cmake) runs it with four tcp_chat_client members that each say
// one line and check that they heard every other one, then stops it with SIGINT.
//
// A client that does not read (its write buffer passes max_backlog) is disconnected: one slow
// member must not make the server buffer the whole conversation for it.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t max_backlog = 1 << 20;

struct room {
  std::map<int, asyncio::stream_writer> members;
  int next_id = 1;

  // Sends `line` to everyone but `from` (0: everyone). Writes are buffered; nobody waits for a slow
  // reader, and one that fell too far behind is dropped.
  void broadcast(const std::string& line, int from) {
    std::vector<int> dropped;
    for (auto& [id, w] : members) {
      if (id == from) continue;
      w.write(line);
      if (w.get_write_buffer_size() > max_backlog) dropped.push_back(id);
    }
    for (int id : dropped) {
      members[id].abort();
      members.erase(id);
    }
  }
};

auto handle_client(std::shared_ptr<room> chat, asyncio::stream_reader reader, asyncio::stream_writer writer)
    -> asyncio::task<void> {
  const int id = chat->next_id++;
  const std::string name = "user" + std::to_string(id);
  chat->members[id] = writer;
  writer.write("* welcome " + name + " (" + std::to_string(chat->members.size()) + " online)\n");
  chat->broadcast("* " + name + " joined\n", id);
  try {
    for (;;) {
      std::string line = co_await reader.readline();
      if (line.empty()) break;                // EOF
      if (line.back() != '\n') line += '\n';  // a last line without newline
      if (!chat->members.count(id)) break;    // dropped as too slow
      chat->broadcast(name + ": " + line, id);
    }
  } catch (const asyncio::error&) {
    // Reset by the peer (os_error) or a line longer than the stream limit (limit_overrun_error):
    // this member leaves, the others carry on. Cancellation (server shutdown) is not caught.
  }
  if (chat->members.erase(id)) chat->broadcast("* " + name + " left\n", id);
}

auto run(std::string host, std::uint16_t port) -> asyncio::task<int> {
  auto chat = std::make_shared<room>();
  auto handler = [chat](asyncio::stream_reader r, asyncio::stream_writer w) {
    return handle_client(chat, std::move(r), std::move(w));
  };
  auto srv = co_await asyncio::start_server(handler, host, port);
  std::printf("chat server on %s\n", srv.sockets().front().to_string().c_str());
  std::fflush(stdout);
  co_await srv.serve_forever();  // until Ctrl-C
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (positional++ == 0) host = argv[i];
    else port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }
  try {
    return asyncio::run(run(host, port));
  } catch (const asyncio::keyboard_interrupt&) {
    std::printf("bye\n");
    return 0;
  }
}
