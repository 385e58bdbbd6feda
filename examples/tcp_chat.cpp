// ctest-args: 127.0.0.1 0 --self-test 4
// ctest-timeout: 60
//
// TCP chat server: every line a client sends goes to every other client.
//
//   tcp_chat [HOST] [PORT] [--self-test N]
//
// Try it: `tcp_chat 127.0.0.1 8888`, then `nc 127.0.0.1 8888` in two terminals. Ctrl-C stops the
// server (asyncio::run turns it into cancellation; the server then shuts down gracefully).
// --self-test N starts the server on HOST:PORT (0 = any free port), connects N clients that each
// say one line, checks that every client heard every other one, and exits (the ctest run).
//
// A client that does not read (its write buffer passes max_backlog) is disconnected: one slow
// member must not make the server buffer the whole conversation for it.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

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

struct self_test_state {
  int n = 0;
  int joined = 0;    // clients welcomed
  int ok = 0;        // clients that heard every other one
  bool release = false;  // everyone may leave now
};

// One self-test client: waits to be welcomed, says its line once everyone is in, collects the
// lines of the others, then stays until released (so no "left" notice races a hello).
auto self_test_client(std::string host, std::uint16_t port, int index, std::shared_ptr<self_test_state> st)
    -> asyncio::task<void> {
  auto [r, w] = co_await asyncio::open_connection(host, port);
  std::string welcome = co_await r.readline();
  std::printf("client %d: %s", index, welcome.c_str());
  ++st->joined;
  while (st->joined < st->n) co_await asyncio::sleep(1ms);
  const std::string mine = "hello from client " + std::to_string(index) + "\n";
  w.write(mine);
  int heard = 0;
  while (heard < st->n - 1) {
    std::string line = co_await r.readline();
    if (line.empty()) break;
    if (line.front() == '*') continue;  // join/leave notices
    if (line.find(mine) != std::string::npos) {
      std::printf("client %d: heard its own line!\n", index);
      break;
    }
    ++heard;
  }
  std::printf("client %d heard %d of %d\n", index, heard, st->n - 1);
  if (heard == st->n - 1) ++st->ok;
  while (!st->release) co_await asyncio::sleep(1ms);
  w.close();
  co_await w.wait_closed();
}

auto run(std::string host, std::uint16_t port, int self_test) -> asyncio::task<int> {
  auto chat = std::make_shared<room>();
  auto handler = [chat](asyncio::stream_reader r, asyncio::stream_writer w) {
    return handle_client(chat, std::move(r), std::move(w));
  };
  auto srv = co_await asyncio::start_server(handler, host, port);
  std::printf("chat server on %s\n", srv.sockets().front().to_string().c_str());
  std::fflush(stdout);
  if (self_test <= 0) {
    co_await srv.serve_forever();  // until Ctrl-C
    co_return 0;
  }
  auto st = std::make_shared<self_test_state>();
  st->n = self_test;
  std::vector<asyncio::task<void>> clients;
  for (int i = 0; i < self_test; ++i) clients.push_back(self_test_client(host, srv.port(), i, st));
  auto all = asyncio::create_task(asyncio::gather(std::move(clients)));
  // Bounded: a broken server fails the run instead of hanging it.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (st->ok < self_test && !all.done() && std::chrono::steady_clock::now() < deadline) co_await asyncio::sleep(5ms);
  st->release = true;
  for (int i = 0; i < 2000 && !all.done(); ++i) co_await asyncio::sleep(5ms);
  if (!all.done()) all.cancel();
  co_await srv.shutdown(1s);
  std::printf("%d of %d clients heard everyone\n", st->ok, self_test);
  co_return st->ok == self_test ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  int self_test = 0;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test") && i + 1 < argc) self_test = std::atoi(argv[++i]);
    else if (positional++ == 0) host = argv[i];
    else port = static_cast<std::uint16_t>(std::atoi(argv[i]));
  }
  try {
    return asyncio::run(run(host, port, self_test));
  } catch (const asyncio::keyboard_interrupt&) {
    std::printf("bye\n");
    return 0;
  }
}
