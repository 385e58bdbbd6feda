// 10,000 concurrent connections over loopback: an echo server holds all of them open at once, then
// every client exchanges one message.
//
// The clients run in a forked child process so that each process needs ~10,000 fds (not 20,000 in
// one): the test raises RLIMIT_NOFILE to 25,000 (or to the hard limit when it may not raise the hard
// limit, e.g. without CAP_SYS_RESOURCE) and restores it afterwards; it skips, saying why, if that is
// below what one side needs. Parent and child coordinate through a socketpair: the child reports
// "connected", the parent checks that its server holds every connection at once, then says "go".
// Every phase has a generous real-clock deadline; the outcome, not the speed, is checked.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

constexpr std::size_t clients = 10000;
constexpr rlim_t wanted_fds = 25000;
constexpr rlim_t needed_fds = clients + 200;  // per process

// Raises RLIMIT_NOFILE for the test's lifetime and restores it on destruction.
struct fd_limit_raise {
  rlimit saved{};
  rlim_t got = 0;
  std::string why;
  fd_limit_raise() {
    ::getrlimit(RLIMIT_NOFILE, &saved);
    rlimit want = saved;
    want.rlim_cur = wanted_fds;
    if (want.rlim_max != RLIM_INFINITY && want.rlim_max < wanted_fds) want.rlim_max = wanted_fds;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) {
      got = wanted_fds;
      return;
    }
    why = "setrlimit(RLIMIT_NOFILE, " + std::to_string(wanted_fds) + ") failed: " + std::strerror(errno);
    // Not allowed to raise the hard limit: the soft limit can still go up to it.
    want.rlim_max = saved.rlim_max;
    want.rlim_cur = saved.rlim_max == RLIM_INFINITY ? wanted_fds : saved.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) got = want.rlim_cur;
  }
  ~fd_limit_raise() { ::setrlimit(RLIMIT_NOFILE, &saved); }
};

// ---- the child: 10,000 clients ----

struct client_state {
  std::uint16_t port = 0;
  std::size_t next = 0;
  std::size_t connect_errors = 0;
  std::string first_error;
  std::vector<asyncio::stream_pair> conns;
  std::size_t echoed = 0;
  std::size_t mismatches = 0;
};

// Connects clients until all are connected; several of these run at once (bounded concurrency, so
// the listen backlog is not flooded and no SYN waits for a retransmission).
auto connector(std::shared_ptr<client_state> st) -> task<void> {
  while (st->next < clients) {
    std::size_t i = st->next++;
    try {
      st->conns[i] = co_await asyncio::open_connection("127.0.0.1", st->port);
    } catch (const asyncio::os_error& e) {
      if (st->connect_errors++ == 0) st->first_error = e.what();
    }
  }
}

auto exchange(std::shared_ptr<client_state> st, std::size_t i) -> task<void> {
  auto& [r, w] = st->conns[i];
  std::string msg = "client " + std::to_string(i) + "\n";
  w.write(msg);
  co_await w.drain();
  std::string reply = co_await r.readline();
  if (reply == msg) ++st->echoed;
  else ++st->mismatches;
  // The server closes first (its side keeps the TIME_WAIT, not our ephemeral ports).
  (void)co_await r.read();
  w.close();
}

template <class P>
auto all_done(P& hs) -> bool {
  for (auto& h : hs)
    if (!h.done()) return false;
  return true;
}

auto client_main(std::uint16_t port, int control_fd) -> task<int> {
  auto control = asyncio::socket::adopt(control_fd);
  auto st = std::make_shared<client_state>();
  st->port = port;
  st->conns.resize(clients);
  int rc = 0;
  std::vector<asyncio::task_handle<void>> workers;
  for (int k = 0; k < 64; ++k) workers.push_back(asyncio::create_task(connector(st)));
  if (!co_await test_support::eventually([&] { return all_done(workers); }, 60s)) {
    std::fprintf(stderr, "child: connect phase unfinished after 60 s (%zu started)\n", st->next);
    rc = 2;
  }
  if (st->connect_errors) {
    std::fprintf(stderr, "child: %zu connects failed: %s\n", st->connect_errors, st->first_error.c_str());
    rc = 3;
  }
  std::vector<asyncio::task_handle<void>> ex;
  if (rc == 0) {
    co_await asyncio::sock_sendall(control, "c");
    std::string go = co_await test_support::bounded(asyncio::sock_recv(control, 1), 60s);
    if (go != "g") {
      std::fprintf(stderr, "child: no go from the parent\n");
      rc = 4;
    }
  }
  if (rc == 0) {
    ex.reserve(clients);
    for (std::size_t i = 0; i < clients; ++i) ex.push_back(asyncio::create_task(exchange(st, i)));
    if (!co_await test_support::eventually([&] { return st->echoed + st->mismatches == clients; }, 60s)) rc = 5;
    if (st->echoed != clients || st->mismatches != 0) {
      std::fprintf(stderr, "child: %zu echoed, %zu mismatched of %zu\n", st->echoed, st->mismatches, clients);
      rc = rc ? rc : 6;
    }
  }
  for (auto& h : ex) co_await test_support::cancel_and_wait(h);
  for (auto& h : workers) co_await test_support::cancel_and_wait(h);
  for (auto& c : st->conns)
    if (c.writer.transport()) c.writer.abort();
  control.close();
  co_return rc;
}

// ---- the parent: the server ----

auto server_main(int listener_fd, int control_fd, std::string* failure) -> task<void> {
  auto control = asyncio::socket::adopt(control_fd);
  auto served = std::make_shared<std::size_t>(0);
  std::vector<asyncio::socket> listeners;
  listeners.push_back(asyncio::socket::adopt(listener_fd));
  auto srv = asyncio::serve_sockets(
      [served](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
        w.write(co_await r.readline());
        co_await w.drain();
        ++*served;
      },
      std::move(listeners));
  // The child says "c" once all its connects completed; then every connection must be held here.
  std::string c = co_await test_support::bounded(asyncio::sock_recv(control, 1), 100s);
  if (c != "c") *failure = "the child did not connect its clients (see its stderr)";
  if (failure->empty() &&
      !co_await test_support::eventually([&] { return srv.active_connections() == clients; }, 60s))
    *failure = "the server held " + std::to_string(srv.active_connections()) + " connections at once";
  EXPECT_EQ(srv.active_connections(), clients);
  if (failure->empty()) {
    co_await asyncio::sock_sendall(control, "g");
    if (!co_await test_support::eventually([&] { return *served == clients; }, 60s))
      *failure = "the server echoed " + std::to_string(*served) + " messages";
  }
  EXPECT_EQ(*served, clients);
  control.close();
  co_await srv.shutdown(5s);
}

TEST(ManyConnections, TenThousandConcurrentEchoClients) {
  fd_limit_raise limit;
  if (limit.got < needed_fds)
    GTEST_SKIP() << "RLIMIT_NOFILE cannot reach " << needed_fds << " per process (" << limit.why
                 << "; hard limit " << limit.saved.rlim_max << "): 10,000 connections need that many fds";

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  ASSERT_EQ(::listen(listener, 4096), 0);
  socklen_t len = sizeof sin;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&sin), &len);
  const std::uint16_t port = ntohs(sin.sin_port);
  int control[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control), 0);

  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: no gtest from here on; its verdict is the exit status.
    ::close(listener);
    ::close(control[0]);
    ::alarm(200);  // never outlive a hung parent by much
    int rc = 1;
    try {
      rc = asyncio::run(client_main(port, control[1]));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  ::close(control[1]);
  std::string failure;
  asyncio::run(server_main(listener, control[0], &failure));
  EXPECT_EQ(failure, "");

  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    ::usleep(10000);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status << " (exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
}

}  // namespace
