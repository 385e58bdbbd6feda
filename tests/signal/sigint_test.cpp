// asyncio::run and Ctrl-C: the first SIGINT cancels the main task (cleanup runs), a second one
// kills the process. Each case runs asyncio::run in a forked child that reports its progress through
// a pipe; the test sends the signals and checks how the child ended. Every wait is bounded (poll with
// a timeout, then SIGKILL), so a broken implementation fails instead of hanging.
#include <asyncio/asyncio.hpp>
#include <asyncio/signal.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
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

// ---- a keyboard_interrupt that nobody catches -------------------------------------------------------
// `int main() { return asyncio::run(amain()); }` must end as Python does on Ctrl-C: the line
// "KeyboardInterrupt" on stderr and death by SIGINT (shell status 130), not std::terminate's abort.
// A forked child still runs inside this test's frames, where gtest catches exceptions; so these
// tests exec this binary again, running only SigintChild.Body with --gtest_catch_exceptions=0:
// there, as in such a main(), nothing catches what run() throws.

auto leftover_task() -> asyncio::task<> {
  struct cleanup {
    ~cleanup() { report("leftover cleanup"); }
  } guard;
  co_await asyncio::sleep(1h);
}

auto sleeper_with_leftover() -> asyncio::task<int> {
  auto leftover = asyncio::create_task(leftover_task());
  report("ready");
  co_await asyncio::sleep(1h);
  co_return 0;
}

// The child's part; a no-op unless run by exec_child() below.
TEST(SigintChild, Body) {
  const char* mode = std::getenv("ASYNCIO_SIGINT_CHILD");
  if (!mode) GTEST_SKIP() << "the child half of Sigint.Uncaught*, run by them";
  g_report_fd = std::atoi(std::getenv("ASYNCIO_SIGINT_REPORT_FD"));
  if (std::string(mode) == "caught") {
    try {
      (void)asyncio::run(sleeper_with_leftover());
    } catch (const asyncio::keyboard_interrupt&) {
      report("caught");
      std::_Exit(42);
    }
    std::_Exit(1);
  }
  (void)asyncio::run(sleeper_with_leftover());  // uncaught, as `return asyncio::run(amain());`
  std::_Exit(1);
}

struct exec_result {
  int status = 0;
  std::string progress;
  std::string err;  // the child's stderr
};

// Execs this test binary as the child of SigintChild.Body in `mode`, sends SIGINT once it reported
// "ready", and collects how it ended.
auto exec_child(const char* mode) -> exec_result {
  int progress[2];
  int err[2];
  EXPECT_EQ(::pipe(progress), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  std::string fd_text = std::to_string(progress[1]);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(progress[0]);
    ::dup2(err[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);  // gtest's own report
    ::setenv("ASYNCIO_SIGINT_CHILD", mode, 1);
    ::setenv("ASYNCIO_SIGINT_REPORT_FD", fd_text.c_str(), 1);
    char self[] = "/proc/self/exe";
    char filter[] = "--gtest_filter=SigintChild.Body";
    char no_catch[] = "--gtest_catch_exceptions=0";
    char* argv[] = {self, filter, no_catch, nullptr};
    ::execv(self, argv);
    ::_exit(127);
  }
  ::close(progress[1]);
  ::close(err[1]);
  child c{pid, progress[0], {}};
  exec_result r;
  if (c.wait_for("ready")) ::kill(pid, SIGINT);
  else ADD_FAILURE() << "the child never got ready: " << c.seen;
  r.status = c.finish();
  r.progress = c.seen;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) r.err.append(buf, static_cast<std::size_t>(n));
  ::close(err[0]);
  return r;
}

TEST(Sigint, UncaughtKeyboardInterruptDiesBySigintWithOneLine) {
  exec_result r = exec_child("uncaught");
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.status << "\n" << r.err;
  EXPECT_EQ(WTERMSIG(r.status), SIGINT);  // the shell shows 128 + 2 = 130
  EXPECT_EQ(r.err, "KeyboardInterrupt\n");
  // run() closed its loop before the exception left it: the leftover task's cleanup ran.
  EXPECT_NE(r.progress.find("leftover cleanup"), std::string::npos) << r.progress;
}

TEST(Sigint, CaughtKeyboardInterruptIsTheProgramsChoice) {
  exec_result r = exec_child("caught");
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status << "\n" << r.err;
  EXPECT_EQ(WEXITSTATUS(r.status), 42);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.progress.find("leftover cleanup\ncaught\n"), std::string::npos) << r.progress;
}

}  // namespace
