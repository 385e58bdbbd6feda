// examples/tcp_chat_client.cpp: a scripted member of the chat room of examples/tcp_chat.cpp (a bot):
// it joins, waits for company, says its lines, listens, and leaves.
//
//   tcp_chat_client HOST PORT [--wait-for N] [--hear N] [LINE...]
//
//   --wait-for N   before speaking, wait until N members (itself included) are online
//   --hear N       after speaking, stay until N lines from the others were heard
// Every line the room sends is printed; "* ..." lines are the server's notices (welcome, joined,
// left), the others are what members said ("user2: hi"). A line of its own coming back is an error:
// the server sends a line to everyone but its author.
//
// Try it: `tcp_chat 127.0.0.1 8888`, then `tcp_chat_client 127.0.0.1 8888 --hear 1 hi` and, in
// another terminal, `nc 127.0.0.1 8888` and type a line.
// Shows: a line protocol over open_connection: readline in a loop, write + drain, close.
// ctest-run-by: tcp_chat (examples/tcp_chat.check.cmake runs four of these against the server)
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct options {
  std::string host;
  std::uint16_t port = 0;
  int wait_for = 0;
  int hear = 0;
  std::vector<std::string> lines;
};

// The member count a notice announces: "* welcome user3 (3 online)", "* user4 joined", "* user1 left".
auto online_after(const std::string& notice, int online) -> int {
  if (auto at = notice.find(" online)"); at != std::string::npos) {
    return std::atoi(notice.c_str() + notice.rfind('(', at) + 1);
  }
  if (notice.ends_with(" joined\n")) return online + 1;
  if (notice.ends_with(" left\n")) return online - 1;
  return online;
}

struct counts {
  int online = 0;       // members in the room, as the notices tell
  int heard = 0;        // lines the others said
  bool echoed = false;  // one of our own lines came back
};

// Reads the next line, prints it and counts it; false when the server closed the connection.
// Borrows: chat() awaits it at once and owns all three:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
auto next_line(asyncio::stream_reader& reader, const options& opt, counts& c) -> asyncio::task<bool> {
  std::string line = co_await reader.readline();
  if (line.empty()) co_return false;
  std::printf("%s", line.c_str());
  std::fflush(stdout);
  if (line.starts_with("* ")) {
    c.online = online_after(line, c.online);
  } else {
    ++c.heard;
    for (const auto& mine : opt.lines) c.echoed = c.echoed || line.find(mine) != std::string::npos;
  }
  co_return true;
}

auto chat(options opt) -> asyncio::task<int> {
  auto [reader, writer] = co_await asyncio::open_connection(opt.host, opt.port);
  counts c;
  bool open = co_await next_line(reader, opt, c);  // the welcome
  while (open && c.online < opt.wait_for) open = co_await next_line(reader, opt, c);
  for (const auto& l : opt.lines) writer.write(l + "\n");
  co_await writer.drain();
  while (open && c.heard < opt.hear) open = co_await next_line(reader, opt, c);

  if (c.echoed) std::printf("error: heard its own line\n");
  std::printf("heard %d of %d\n", c.heard, opt.hear);
  writer.close();
  co_await writer.wait_closed();
  co_return c.heard == opt.hear && !c.echoed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tcp_chat_client HOST PORT [--wait-for N] [--hear N] [LINE...]\n");
    return 2;
  }
  options opt;
  opt.host = argv[1];
  opt.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--wait-for") && i + 1 < argc) opt.wait_for = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--hear") && i + 1 < argc) opt.hear = std::atoi(argv[++i]);
    else opt.lines.emplace_back(argv[i]);
  }
  return asyncio::run(chat(opt));
}
