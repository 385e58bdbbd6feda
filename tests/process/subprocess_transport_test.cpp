// Child processes with protocols (Python's loop.subprocess_exec / subprocess_shell with
// asyncio.SubprocessProtocol): the callbacks' order, data on stdout and stderr, stdin through the
// pipe transport, the exit status, and close() killing a child that still runs. Real clock; every
// wait is bounded.
#include <asyncio/core/run.hpp>
#include <asyncio/process/subprocess_transport.hpp>
#include <asyncio/time/sleep.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using test_support::eventually;

namespace {

struct child_recorder : asyncio::subprocess_protocol {
  std::vector<std::string> events;
  std::string out, err;
  int lost = 0;
  bool pipes_at_start = false;
  void connection_made(asyncio::subprocess_transport& t) override {
    events.emplace_back("made");
    pipes_at_start = t.get_pipe_transport(0) && t.get_pipe_transport(1) && t.get_pipe_transport(2);
  }
  void pipe_data_received(int fd, std::string_view data) override { (fd == 1 ? out : err) += data; }
  void pipe_connection_lost(int fd, std::exception_ptr) override { events.push_back("pipe lost " + std::to_string(fd)); }
  void process_exited() override { events.emplace_back("exited"); }
  void connection_lost(std::exception_ptr) override {
    ++lost;
    events.emplace_back("lost");
  }
};

auto make_recorder() { return std::make_shared<child_recorder>(); }

TEST(SubprocessTransport, CatEchoesStdin) {
  asyncio::run([]() -> task<void> {
    auto [t, p] = co_await asyncio::subprocess_exec(make_recorder, "cat");
    EXPECT_EQ(p->events.at(0), "made");
    EXPECT_TRUE(p->pipes_at_start);
    EXPECT_GT(t->get_pid(), 0);
    auto in = t->get_pipe_transport(0);
    in->write("hello ");
    in->write("child");
    in->write_eof();
    EXPECT_TRUE(co_await eventually([&] { return p->lost == 1; }));
    EXPECT_EQ(p->out, "hello child");
    EXPECT_EQ(t->get_returncode(), 0);
    EXPECT_EQ(p->events.back(), "lost");
    for (const char* e : {"pipe lost 0", "pipe lost 1", "pipe lost 2", "exited"})
      EXPECT_NE(std::find(p->events.begin(), p->events.end(), e), p->events.end()) << e;
    EXPECT_EQ(t->get_protocol(), nullptr);
  }());
}

TEST(SubprocessTransport, ShellStderrAndExitStatus) {
  asyncio::run([]() -> task<void> {
    auto [t, p] = co_await asyncio::subprocess_shell(make_recorder, "echo out; echo err >&2; exit 3");
    t->get_pipe_transport(0)->close();  // Python waits for every pipe, stdin too
    EXPECT_TRUE(co_await eventually([&] { return p->lost == 1; }));
    EXPECT_EQ(p->out, "out\n");
    EXPECT_EQ(p->err, "err\n");
    EXPECT_EQ(t->get_returncode(), 3);
    t->close();
    EXPECT_THROW(t->send_signal(15), asyncio::process_lookup_error);
  }());
}

TEST(SubprocessTransport, CloseKillsARunningChild) {
  asyncio::run([]() -> task<void> {
    std::vector<std::string> args{"10"};  // named: a braced list inside co_await trips g++ 12
    auto [t, p] = co_await asyncio::subprocess_exec(make_recorder, "sleep", args);
    co_await asyncio::sleep(10ms);
    EXPECT_FALSE(t->get_returncode());
    t->close();
    EXPECT_TRUE(t->is_closing());
    EXPECT_TRUE(co_await eventually([&] { return p->lost == 1; }));
    EXPECT_EQ(t->get_returncode(), -9);
  }());
}

}  // namespace
