// asyncio::run and Ctrl-C: the first SIGINT cancels the main task (cleanup runs), a second one
// kills the process. Each case runs asyncio::run in a forked child that reports its progress through
// a pipe; the test sends the signals and checks how the child ended. Every wait is bounded (poll with
// a timeout, then SIGKILL), so a broken implementation fails instead of hanging.
#include <asyncio/asyncio.hpp>
#include <asyncio/signal.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {

int g_report_fd = -1;  // the child's end of the progress pipe

void report(const char* word) {
  std::string line = std::string(word) + "\n";
  ssize_t n = ::write(g_report_fd, line.data(), line.size());
  (void)n;
}

struct child {
  pid_t pid = -1;
  int fd = -1;  // parent's end of the progress pipe
  std::string seen;

  // Reads progress until `word` appears; false after 10 s.
  auto wait_for(const std::string& word) -> bool {
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
  // Waits (at most 10 s, then SIGKILL) for the child to end; returns its wait status.
  auto finish() -> int {
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        wait_for("\x01");  // drain what is left (EOF now)
        ::close(fd);
        return status;
      }
      ::usleep(10'000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ::close(fd);
    ADD_FAILURE() << "child did not exit";
    return status;
  }
};

// Forks; the child runs body() and exits with its return value.
template <class Body>
auto spawn(Body body) -> child {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    g_report_fd = fds[1];
    int code = body();
    ::_exit(code);
  }
  ::close(fds[1]);
  return child{pid, fds[0], {}};
}

auto sleeper_with_cleanup() -> asyncio::task<int> {
  struct cleanup {
    ~cleanup() { report("cleanup"); }
  } guard;
  report("ready");
  co_await asyncio::sleep(1h);
  co_return 0;
}

TEST(Sigint, FirstSigintCancelsMainAndRunThrowsKeyboardInterrupt) {
  child c = spawn([] {
    try {
      asyncio::run(sleeper_with_cleanup());
      return 1;
    } catch (const asyncio::keyboard_interrupt&) {
      report("keyboard_interrupt");
      return 42;
    }
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 42);
  EXPECT_NE(c.seen.find("cleanup\nkeyboard_interrupt\n"), std::string::npos) << c.seen;
}

auto swallows_cancellation() -> asyncio::task<int> {
  report("ready");
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    report("caught");
  }
  co_return 7;  // a main task that handles the cancellation returns normally (as in Python)
}

TEST(Sigint, MainThatHandlesCancellationReturnsItsValue) {
  child c = spawn([] {
    try {
      return asyncio::run(swallows_cancellation());
    } catch (const asyncio::keyboard_interrupt&) {
      return 1;
    }
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_NE(c.seen.find("caught"), std::string::npos);
}

auto slow_cleanup() -> asyncio::task<int> {
  report("ready");
  bool cancelled = false;
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  if (cancelled) {
    report("cleaning");
    co_await asyncio::sleep(1h);  // a cleanup that takes forever: the second Ctrl-C must end it
  }
  co_return 0;
}

TEST(Sigint, SecondSigintKillsTheProcess) {
  child c = spawn([] {
    try {
      asyncio::run(slow_cleanup());
    } catch (...) {
    }
    return 3;
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  ASSERT_TRUE(c.wait_for("cleaning"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
}

auto busy_step() -> asyncio::task<int> {
  report("ready");
  for (;;) ::usleep(1000);  // never yields: the loop cannot read its wake-up fd
  co_return 0;
}

TEST(Sigint, SecondSigintWorksEvenWhenTheLoopIsStuck) {
  child c = spawn([] {
    asyncio::run(busy_step());
    return 3;
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  ::usleep(50'000);
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
}

TEST(Sigint, ExitBySignalLooksLikeCtrlC) {
  child c = spawn([] {
    try {
      asyncio::run(sleeper_with_cleanup());
    } catch (const asyncio::keyboard_interrupt&) {
      asyncio::keyboard_interrupt::exit_by_signal();
    }
    return 1;
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_NE(c.seen.find("cleanup"), std::string::npos);
}

TEST(Sigint, OptOutLeavesTheDefaultAction) {
  child c = spawn([] {
    asyncio::run(sleeper_with_cleanup(), {.handle_sigint = false});
    return 1;
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_EQ(c.seen.find("cleanup"), std::string::npos);  // killed outright, as without asyncio
}

TEST(Sigint, UserSigintHandlerReplacesTheRunners) {
  child c = spawn([] {
    auto body = []() -> asyncio::task<int> {
      auto stop = std::make_shared<asyncio::future<void>>();
      asyncio::get_running_loop().add_signal_handler(SIGINT, [stop] {
        report("user handler");
        if (!stop->done()) stop->set_result();
      });
      report("ready");
      co_await *stop;
      co_return 5;
    };
    try {
      return asyncio::run(body());
    } catch (...) {
      return 1;
    }
  });
  ASSERT_TRUE(c.wait_for("ready"));
  ::kill(c.pid, SIGINT);
  int status = c.finish();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 5);
  EXPECT_NE(c.seen.find("user handler"), std::string::npos);
}

}  // namespace
