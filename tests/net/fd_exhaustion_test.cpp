// fd exhaustion: with RLIMIT_NOFILE lowered so that accept() fails with EMFILE, the server reports
// the problem once, backs off (few loop iterations, no busy retry) and serves the waiting clients
// once fds are freed. The limit is restored afterwards.
//
// RLIMIT_NOFILE bounds fd *numbers*: the test sets the soft limit to the lowest free fd, so every
// new fd fails, then frees "ballast" fds below it to let accept succeed again.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

struct fd_limit_guard {
  rlimit saved{};
  fd_limit_guard() { ::getrlimit(RLIMIT_NOFILE, &saved); }
  auto lower_to(rlim_t cur) -> bool {
    rlimit l = saved;
    l.rlim_cur = cur;
    return ::setrlimit(RLIMIT_NOFILE, &l) == 0;
  }
  void restore() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  ~fd_limit_guard() { restore(); }
};

auto lowest_free_fd() -> int {
  int fd = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0) ::close(fd);
  return fd;
}

TEST(FdExhaustion, AcceptBacksOffReportsOnceAndRecovers) {
  asyncio::run([]() -> task<void> {
    constexpr int n_clients = 8;
    constexpr int n_ballast = 2 * n_clients;
    asyncio::event_loop& loop = asyncio::get_running_loop();
    int accept_reports = 0;
    int other_reports = 0;
    std::string report_text;
    loop.set_exception_handler([&](asyncio::event_loop&, const asyncio::exception_context& ctx) {
      if (ctx.message.find("accept") != std::string::npos) {
        ++accept_reports;
        if (ctx.exception) report_text = asyncio::describe(ctx.exception);
      } else {
        ++other_reports;
      }
    });

    asyncio::server_options opts;
    opts.accept_retry_delay = 50ms;
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          w.write(co_await r.readline());
          co_await w.drain();
        },
        "127.0.0.1", 0, opts);
    asyncio::address addr = srv.sockets().front();

    // Everything the clients need is allocated before the limit drops.
    std::vector<asyncio::socket> cs;
    for (int i = 0; i < n_clients; ++i) cs.emplace_back(AF_INET, SOCK_STREAM);
    std::vector<int> ballast;
    for (int i = 0; i < n_ballast; ++i) ballast.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));

    // UBSan's vptr check, on its first look at a type, probes memory through a pipe: with no fd
    // left that fails and it reports a bogus "invalid vptr" for the EMFILE os_error's category.
    // Build that error once while fds are available so the check is cached.
    try {
      asyncio::throw_os_error(EMFILE, "warm-up");
    } catch (const asyncio::os_error& e) {
      EXPECT_FALSE(asyncio::describe(std::current_exception()).empty()) << e.what();
    }

    fd_limit_guard limit;
    EXPECT_TRUE(limit.lower_to(static_cast<rlim_t>(lowest_free_fd())));
    EXPECT_EQ(lowest_free_fd(), -1);  // no new fd can be made now

    // The connections complete in the kernel (backlog) although the server cannot accept them.
    for (int i = 0; i < n_clients; ++i) {
      co_await test_support::bounded(asyncio::sock_connect(cs[i], addr));
      co_await asyncio::sock_sendall(cs[i], "hello " + std::to_string(i) + "\n");
    }
    EXPECT_TRUE(co_await test_support::eventually([&] { return accept_reports > 0; }, 30s));
    EXPECT_EQ(srv.active_connections(), 0u);

    // Backing off: over a quiet window the loop runs about one iteration per retry (the window spans
    // ~10 retry delays); a busy retry would run thousands. Iterations are counted, not time; a
    // loaded machine only makes the count smaller.
    std::uint64_t it0 = loop.statistics().iterations;
    co_await asyncio::sleep(500ms);
    std::uint64_t spent = loop.statistics().iterations - it0;
    EXPECT_LT(spent, 200u) << "accept retried without backing off";
    EXPECT_GE(spent, 1u);
    EXPECT_EQ(accept_reports, 1) << "EMFILE must be reported once per episode";
    EXPECT_NE(report_text.find("accept"), std::string::npos) << report_text;
    EXPECT_EQ(srv.active_connections(), 0u);
    EXPECT_TRUE(srv.is_serving());

    // Free fds: every waiting client is served.
    for (int fd : ballast) ::close(fd);
    int echoed = 0;
    for (int i = 0; i < n_clients; ++i) {
      std::string want = "hello " + std::to_string(i) + "\n";
      std::string got;
      while (got.size() < want.size()) {
        std::string part = co_await test_support::bounded(asyncio::sock_recv(cs[i], 100), 30s);
        if (part.empty()) break;
        got += part;
      }
      if (got == want) ++echoed;
    }
    EXPECT_EQ(echoed, n_clients);
    EXPECT_EQ(accept_reports, 1);
    EXPECT_EQ(other_reports, 0);
    limit.restore();

    // And it keeps serving new connections.
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("127.0.0.1", addr.port()));
    w.write("again\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "again\n");
    w.close();
    for (auto& c : cs) c.close();
    co_await srv.shutdown(5s);
    loop.set_exception_handler({});  // it refers to this frame
  }());
}

}  // namespace
