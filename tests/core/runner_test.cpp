// asyncio::runner (Python 3.11's asyncio.Runner): several runs on one loop, tasks left by one run
// going on in the next, close() cancelling the leftovers (also from the destructor), Python's errors
// for misuse, and Ctrl-C handled afresh by each run (in a forked child, bounded waits).
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;

struct note_on_destroy {
  log_t* log;
  std::string what;
  ~note_on_destroy() { log->push_back(what); }
};

auto loop_address() -> asyncio::task<asyncio::event_loop*> {
  co_await asyncio::sleep(1ms);
  co_return &asyncio::get_running_loop();
}

TEST(Runner, RunsSeveralCoroutinesOnOneLoop) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  asyncio::event_loop* first = r.run(loop_address());
  asyncio::event_loop* second = r.run(loop_address());
  EXPECT_EQ(first, &r.get_loop());
  EXPECT_EQ(second, &r.get_loop());
  EXPECT_EQ(clk.elapsed(), 2ms);
  EXPECT_FALSE(r.is_closed());
}

auto set_later(int* flag, log_t* log) -> asyncio::task<> {
  note_on_destroy note{log, "background done"};
  co_await asyncio::sleep(5ms);
  *flag = 1;
}
auto start_background(int* flag, log_t* log) -> asyncio::task<> {
  (void)asyncio::create_task(set_later(flag, log));
  co_return;
}
auto sleep_for(asyncio::duration d) -> asyncio::task<> { co_await asyncio::sleep(d); }

TEST(Runner, TasksLeftByOneRunGoOnInTheNext) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  int flag = 0;
  log_t log;
  r.run(start_background(&flag, &log));
  EXPECT_EQ(flag, 0);
  r.run(sleep_for(10ms));
  EXPECT_EQ(flag, 1);
  EXPECT_EQ(log, log_t{"background done"});
}

auto leftover(log_t* log) -> asyncio::task<> {
  note_on_destroy note{log, "leftover cleanup"};
  co_await asyncio::sleep(1h);
}
auto start_leftover(log_t* log) -> asyncio::task<> {
  (void)asyncio::create_task(leftover(log));
  co_return;
}
auto must_not_run(log_t* log) -> asyncio::task<int> {
  note_on_destroy note{log, "destroyed"};
  log->push_back("ran");
  co_return 1;
}

TEST(Runner, CloseCancelsLeftoversAndEndsTheRunner) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  log_t log;
  r.run(start_leftover(&log));
  EXPECT_TRUE(log.empty());
  r.close();
  EXPECT_EQ(log, log_t{"leftover cleanup"});
  EXPECT_TRUE(r.is_closed());
  EXPECT_THROW((void)r.get_loop(), asyncio::invalid_state_error);
  log.clear();
  EXPECT_THROW((void)r.run(must_not_run(&log)), asyncio::invalid_state_error);
  EXPECT_TRUE(log.empty());  // the coroutine never started (a lazy frame holds no locals yet)
  r.close();                 // a second close is a no-op
}

TEST(Runner, DestructorCloses) {
  asyncio::testing::virtual_clock clk;
  log_t log;
  {
    asyncio::runner r({.clock = &clk});
    r.run(start_leftover(&log));
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, log_t{"leftover cleanup"});
}

auto throws_invalid() -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  throw std::invalid_argument("bad");
}
auto value(int v) -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  co_return v;
}

TEST(Runner, AnExceptionLeavesTheRunnerUsable) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  EXPECT_THROW((void)r.run(throws_invalid()), std::invalid_argument);
  EXPECT_EQ(r.run(value(7)), 7);
}

auto nested_runner(log_t* log) -> asyncio::task<> {
  asyncio::runner inner;
  try {
    (void)inner.run(must_not_run(log));
  } catch (const asyncio::invalid_state_error&) {
    log->push_back("runner.run refused");
  }
  try {
    (void)asyncio::run(must_not_run(log));
  } catch (const asyncio::invalid_state_error&) {
    log->push_back("asyncio::run refused");
  }
  co_return;
}

TEST(Runner, RunInsideARunningLoopIsRefused) {
  asyncio::testing::virtual_clock clk;
  log_t log;
  asyncio::run(nested_runner(&log), {.clock = &clk});
  EXPECT_EQ(log, (log_t{"runner.run refused", "asyncio::run refused"}));
}

auto close_own_runner(asyncio::runner* r) -> asyncio::task<bool> {
  try {
    r->close();
  } catch (const asyncio::invalid_state_error&) {
    co_return true;
  }
  co_return false;
}

TEST(Runner, CloseFromInsideItsLoopIsRefused) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  EXPECT_TRUE(r.run(close_own_runner(&r)));
  EXPECT_FALSE(r.is_closed());
  EXPECT_EQ(r.run(value(3)), 3);
}

auto stop_loop_early() -> asyncio::task<int> {
  asyncio::get_running_loop().stop();
  co_await asyncio::sleep(1ms);
  co_return 5;
}

TEST(Runner, LoopStoppedBeforeTheTaskFinished) {
  asyncio::testing::virtual_clock clk;
  asyncio::runner r({.clock = &clk});
  EXPECT_THROW((void)r.run(stop_loop_early()), asyncio::error);
  r.close();  // the unfinished main task is cancelled like any leftover
}

// ---- Ctrl-C, once per run ----------------------------------------------------------------------

int g_report_fd = -1;

void report(const char* word) {
  std::string line = std::string(word) + "\n";
  ssize_t n = ::write(g_report_fd, line.data(), line.size());
  (void)n;
}

auto wait_forever(const char* ready) -> asyncio::task<int> {
  report(ready);
  co_await asyncio::sleep(1h);
  co_return 0;
}

// Reads the child's progress until `word` appears; false after 10 s.
auto wait_for(int fd, std::string& seen, const std::string& word) -> bool {
  for (int i = 0; i < 100 && seen.find(word + "\n") == std::string::npos; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
  }
  return seen.find(word + "\n") != std::string::npos;
}

TEST(Runner, EachRunHandlesCtrlC) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    g_report_fd = fds[1];
    asyncio::runner r;
    for (const char* ready : {"ready 1", "ready 2"}) {
      try {
        (void)r.run(wait_forever(ready));
        ::_exit(1);
      } catch (const asyncio::keyboard_interrupt&) {
        report("interrupted");
      }
    }
    ::_exit(r.run(value(42)));  // the runner still works after two interrupted runs
  }
  ::close(fds[1]);
  std::string seen;
  // The second SIGINT must count as the first of run 2 (cancelling it), not as a repeat that
  // kills the process.
  ASSERT_TRUE(wait_for(fds[0], seen, "ready 1"));
  ::kill(pid, SIGINT);
  ASSERT_TRUE(wait_for(fds[0], seen, "ready 2")) << seen;
  ::kill(pid, SIGINT);
  int status = 0;
  bool reaped = false;
  for (int i = 0; i < 1000 && !(reaped = ::waitpid(pid, &status, WNOHANG) == pid); ++i) ::usleep(10'000);
  if (!reaped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "child did not exit";
  }
  (void)wait_for(fds[0], seen, "\x01");  // drain
  ::close(fds[0]);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 42);
  EXPECT_EQ(seen, "ready 1\ninterrupted\nready 2\ninterrupted\n");
}

}  // namespace
