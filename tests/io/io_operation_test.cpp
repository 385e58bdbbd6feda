// The io layer used directly: io::operation awaiters from lowlevel/io_operation.hpp (recv, send,
// accept, connect, read_at, write_at, fsync, poll) on the loop's io driver, their cancellation
// (a withdrawn operation moved no byte), forget() under a parked operation, the backend choice
// (ASYNCIO_BACKEND) and statistics().io_backend. Loopback only; no timers.
#include <asyncio/asyncio.hpp>
#include <asyncio/io/busy_poll.hpp>
#include <asyncio/io/driver.hpp>
#include <asyncio/lowlevel/io_operation.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

using asyncio::task;
namespace lowlevel = asyncio::lowlevel;
namespace io = asyncio::io;

namespace {

// A connected pair of non-blocking TCP sockets on 127.0.0.1, made with the io operations.
struct tcp_pair {
  asyncio::socket client;
  asyncio::socket server;
  void close() {
    client.close();
    server.close();
  }
};

auto connect_pair() -> task<tcp_pair> {
  asyncio::socket listener(AF_INET, SOCK_STREAM);
  listener.bind(asyncio::address::ipv4("127.0.0.1", 0));
  listener.listen(1);
  asyncio::address at = listener.getsockname();
  tcp_pair p;
  p.client = asyncio::socket(AF_INET, SOCK_STREAM);
  co_await lowlevel::connect(p.client.fileno(), at.data(), at.size());
  asyncio::address peer;
  io::accepted a = co_await lowlevel::accept(listener.fileno(), peer.data(), asyncio::address::capacity());
  peer.set_size(a.address_length);
  EXPECT_EQ(peer.port(), p.client.getsockname().port());  // the peer address came back whole
  p.server = asyncio::socket::from_fd(a.fd, AF_INET);
  listener.close();
  co_return p;
}

auto recv_some(int fd, std::string* out) -> task<void> {
  std::array<char, 64> buf{};
  std::size_t n = co_await lowlevel::recv(fd, buf);
  out->assign(buf.data(), n);
}

TEST(IoOperation, SendRecvAcceptConnectOverLoopback) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    std::string_view hello = "hello";
    std::size_t sent = co_await lowlevel::send(p.client.fileno(), hello);
    EXPECT_EQ(sent, hello.size());
    std::string got;
    co_await recv_some(p.server.fileno(), &got);
    EXPECT_EQ(got, "hello");
    p.client.shutdown(SHUT_WR);
    co_await recv_some(p.server.fileno(), &got);
    EXPECT_EQ(got, "");  // end of stream
    p.close();
  }());
}

TEST(IoOperation, ParkedRecvCompletesWhenDataArrives) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    std::string got;
    auto reader = asyncio::create_task(recv_some(p.server.fileno(), &got));
    co_await asyncio::sleep(std::chrono::seconds(0));
    EXPECT_FALSE(reader.done());  // parked on readiness: nothing to read yet
    co_await lowlevel::send(p.client.fileno(), std::string_view("late"));
    co_await test_support::bounded(reader);
    EXPECT_EQ(got, "late");
    p.close();
  }());
}

TEST(IoOperation, CancelledRecvLosesNothing) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    std::string first;
    std::size_t watched_before = asyncio::get_running_loop().statistics().watched_fds;
    auto reader = asyncio::create_task(recv_some(p.server.fileno(), &first));
    co_await asyncio::sleep(std::chrono::seconds(0));
    EXPECT_EQ(asyncio::get_running_loop().statistics().watched_fds, watched_before + 1);  // parked
    reader.cancel();
    bool cancelled = false;
    try {
      co_await reader;
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(asyncio::get_running_loop().statistics().watched_fds, watched_before);  // withdrawn
    // The bytes sent after the cancel are all there for the next reader.
    co_await lowlevel::send(p.client.fileno(), std::string_view("kept"));
    std::string second;
    co_await test_support::bounded(recv_some(p.server.fileno(), &second));
    EXPECT_EQ(first, "");
    EXPECT_EQ(second, "kept");
    p.close();
  }());
}

TEST(IoOperation, PendingCancelRefusesToStart) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    co_await lowlevel::send(p.client.fileno(), std::string_view("x"));
    asyncio::current_task().cancel();
    std::array<char, 8> buf{};
    bool cancelled = false;
    try {
      (void)co_await lowlevel::recv(p.server.fileno(), buf);
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    (void)asyncio::current_task().uncancel();
    // The byte was not consumed by the refused recv.
    std::size_t n = co_await lowlevel::recv(p.server.fileno(), buf);
    EXPECT_EQ(n, 1u);
    p.close();
  }());
}

TEST(IoOperation, ForgetUnderAParkedOperationFailsItWithEcanceled) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    std::string got;
    auto reader = asyncio::create_task(recv_some(p.server.fileno(), &got));
    co_await asyncio::sleep(std::chrono::seconds(0));
    lowlevel::forget_fd(p.server.fileno());
    int err = 0;
    try {
      co_await reader;
    } catch (const asyncio::os_error& e) {
      err = e.code().value();
    }
    EXPECT_EQ(err, ECANCELED);
    p.close();
  }());
}

TEST(IoOperation, ConnectRefusedRaisesConnectionRefused) {
  asyncio::run([]() -> task<void> {
    // A port nobody listens on: bind a socket, note its port, close it.
    asyncio::address dead;
    {
      asyncio::socket s(AF_INET, SOCK_STREAM);
      s.bind(asyncio::address::ipv4("127.0.0.1", 0));
      dead = s.getsockname();
      s.close();
    }
    asyncio::socket c(AF_INET, SOCK_STREAM);
    bool refused = false;
    try {
      co_await lowlevel::connect(c.fileno(), dead.data(), dead.size());
    } catch (const asyncio::connection_refused_error&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    c.close();
  }());
}

TEST(IoOperation, PollReportsReadiness) {
  asyncio::run([]() -> task<void> {
    tcp_pair p = co_await connect_pair();
    io::readiness w = co_await lowlevel::poll(p.client.fileno(), io::direction::write);
    EXPECT_TRUE(io::any(w & io::readiness::writable));
    // An io operation awaiter lives where it is awaited: wrap it in a coroutine to make it a task.
    auto waiter = asyncio::create_task([](int fd) -> task<io::readiness> {
      co_return co_await lowlevel::poll(fd, io::direction::read);
    }(p.server.fileno()));
    co_await asyncio::sleep(std::chrono::seconds(0));
    EXPECT_FALSE(waiter.done());
    co_await lowlevel::send(p.client.fileno(), std::string_view("!"));
    io::readiness r = co_await test_support::bounded(waiter);
    EXPECT_TRUE(io::any(r & io::readiness::readable));
    p.close();
  }());
}

TEST(IoOperation, FileReadWriteAtOffsetAndFsync) {
  char path[] = "/tmp/asyncio_io_operation_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  asyncio::run([](int fd) -> task<void> {
    std::size_t n = co_await lowlevel::write_at(fd, std::string_view("abcdef"), 0);
    EXPECT_EQ(n, 6u);
    n = co_await lowlevel::write_at(fd, std::string_view("XY"), 2);
    EXPECT_EQ(n, 2u);
    co_await lowlevel::fsync(fd);
    co_await lowlevel::fsync(fd, true);
    std::array<char, 16> buf{};
    n = co_await lowlevel::read_at(fd, buf, 1);
    EXPECT_EQ(std::string(buf.data(), n), "bXYef");  // "abXYef" from offset 1
    bool failed = false;
    try {
      (void)co_await lowlevel::read_at(-1, buf, 0);
    } catch (const asyncio::os_error& e) {
      failed = e.code().value() == EBADF;
    }
    EXPECT_TRUE(failed);
  }(fd));
  ::close(fd);
  ::unlink(path);
}

TEST(IoDriver, StatisticsNameTheBackend) {
  asyncio::event_loop loop;
  EXPECT_STREQ(loop.statistics().io_backend, io::make_driver()->name());  // ASYNCIO_BACKEND, else epoll
  asyncio::event_loop epoll_loop(asyncio::loop_options{.io_backend = io::backend::epoll});
  EXPECT_STREQ(epoll_loop.statistics().io_backend, "epoll");
  EXPECT_EQ(loop.statistics().watched_fds, 0u);  // the wake-up eventfd is not counted
}

TEST(IoDriver, EnvironmentChoosesTheBackend) {
  // This suite also runs with ASYNCIO_BACKEND=io_uring (tests/CMakeLists.txt): put it back after.
  const char* outer = std::getenv("ASYNCIO_BACKEND");
  std::string saved = outer ? outer : "";
  ::setenv("ASYNCIO_BACKEND", "epoll", 1);
  EXPECT_STREQ(io::make_driver()->name(), "epoll");
  ::setenv("ASYNCIO_BACKEND", "kqueue", 1);
  EXPECT_THROW((void)io::make_driver(), std::invalid_argument);
  EXPECT_THROW(asyncio::event_loop{}, std::invalid_argument);
  EXPECT_STREQ(io::make_driver(io::backend::epoll)->name(), "epoll");  // an explicit choice wins
  ::unsetenv("ASYNCIO_BACKEND");
  EXPECT_STREQ(io::make_driver()->name(), "epoll");  // the default (docs/io_uring.md says why)
  EXPECT_FALSE(io::make_driver()->async_files());  // epoll runs file operations inline
  if (!saved.empty()) ::setenv("ASYNCIO_BACKEND", saved.c_str(), 1);
}

TEST(IoDriver, LevelInterestsCountAndClear) {
  auto drv = io::make_driver();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  struct counter : io::interest {
    int calls = 0;
  } c;
  c.ready = [](io::interest* self) noexcept { ++static_cast<counter*>(self)->calls; };
  drv->set_interest(fds[0], io::direction::read, &c);
  EXPECT_EQ(drv->watched(), 1u);
  EXPECT_EQ(drv->poll(0), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_EQ(drv->poll(0), 1);
  EXPECT_EQ(drv->poll(0), 1);  // level-triggered: still readable
  EXPECT_EQ(c.calls, 2);
  EXPECT_THROW(drv->watch(fds[0]), asyncio::invalid_state_error);  // edge and level do not mix
  drv->set_interest(fds[0], io::direction::read, nullptr);
  EXPECT_EQ(drv->watched(), 0u);
  ::close(fds[0]);
  drv->set_interest(fds[0], io::direction::read, nullptr);  // clearing again never throws
  ::close(fds[1]);
}

TEST(IoDriver, EdgeReadinessIsRememberedUntilTaken) {
  auto drv = io::make_driver();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  drv->watch(fds[0]);
  EXPECT_TRUE(drv->watching(fds[0]));
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  drv->poll(0);
  EXPECT_TRUE(drv->take_ready(fds[0], io::direction::read));
  EXPECT_FALSE(drv->take_ready(fds[0], io::direction::read));  // consumed
  drv->set_ready(fds[0], io::direction::read);                  // given back
  EXPECT_TRUE(drv->take_ready(fds[0], io::direction::read));
  ::close(fds[1]);  // hang-up: sticky
  drv->poll(0);
  EXPECT_TRUE(drv->take_ready(fds[0], io::direction::read));
  EXPECT_TRUE(drv->take_ready(fds[0], io::direction::read));
  drv->forget(fds[0]);
  EXPECT_FALSE(drv->watching(fds[0]));
  ::close(fds[0]);
}

TEST(BusyPollGovernor, GrowsOnFoundIoAndStopsOnSparseTraffic) {
  io::busy_poll_governor off;
  EXPECT_FALSE(off.enabled());
  io::busy_poll_governor g(80'000);
  EXPECT_TRUE(g.enabled());
  EXPECT_EQ(g.limit(), 80'000);
  g.slept(false, 1'000'000);  // a timeout: halve
  EXPECT_EQ(g.limit(), 40'000);
  g.slept(true, 200'000);  // an event later than the maximum: halve
  EXPECT_EQ(g.limit(), 20'000);
  g.slept(true, 200'000);  // 10'000 = 1/8 of the maximum: still spinning
  EXPECT_EQ(g.limit(), 10'000);
  g.slept(true, 200'000);  // below 1/8: stop
  EXPECT_EQ(g.limit(), 0);
  g.slept(true, 50'000);  // a short sleep shows traffic: restart at 1/8
  EXPECT_EQ(g.limit(), 10'000);
  g.spin_found_io();
  EXPECT_EQ(g.limit(), 20'000);
  for (int i = 0; i < 5; ++i) g.spin_found_io();
  EXPECT_EQ(g.limit(), 80'000);  // capped at the maximum
}

}  // namespace
