#pragma once
// Helpers for the network tests: run a Debian python3 peer as a child process (bounded in time),
// and bound a coroutine with a real-clock deadline. Network tests use the real clock: I/O does not
// mix with the virtual clock's autojump.
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace test_support {

/// A child process with its stdout on a pipe.
struct child_process {
  pid_t pid = -1;
  int out = -1;
  int exit_code = -1;

  child_process() = default;
  child_process(child_process&& o) noexcept
      : pid(std::exchange(o.pid, -1)), out(std::exchange(o.out, -1)), exit_code(o.exit_code) {}
  child_process(const child_process&) = delete;

  /// Reads one line from the child's stdout (blocking, at most `timeout`).
  auto read_line(std::chrono::milliseconds timeout = std::chrono::seconds(20)) -> std::string {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char c;
      ssize_t n = ::read(out, &c, 1);
      if (n <= 0) break;
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }
  /// True once the child exited (non-blocking); status in `exit_code`.
  auto poll_exit() -> bool {
    if (pid < 0) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid = -1;
      return true;
    }
    return false;
  }
  /// Waits for the child (blocking, bounded); kills it at the deadline. Returns its exit code.
  auto wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) -> int {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!poll_exit()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
        exit_code = 137;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code;
  }
  ~child_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out >= 0) ::close(out);
  }
};

/// Starts `/usr/bin/python3 -c code args...` under `timeout 60` (so it never outlives a hung test
/// by much), stdout on a pipe, stderr inherited.
inline auto spawn_python(const std::string& code, const std::vector<std::string>& args = {}) -> child_process {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  std::vector<std::string> argv_s = {"/usr/bin/timeout", "60", "/usr/bin/python3", "-c", code};
  for (const auto& a : args) argv_s.push_back(a);
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  child_process c;
  int rc = ::posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  c.out = fds[0];
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  return c;
}

/// Waits (on the loop, real clock) until the child exits, at most `timeout`. Returns its exit code
/// (137 if it had to be killed).
inline auto wait_child(child_process& c, std::chrono::milliseconds timeout = std::chrono::seconds(30))
    -> asyncio::task<int> {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!c.poll_exit()) {
    if (std::chrono::steady_clock::now() > deadline) co_return c.wait(std::chrono::milliseconds(0));
    co_await asyncio::sleep(std::chrono::milliseconds(5));
  }
  co_return c.exit_code;
}

/// Cancels `h` and waits until it is done (bounded by the task honouring cancellation).
template <class H>
auto cancel_and_wait(H& h) -> asyncio::task<void> {
  h.cancel();
  for (int i = 0; i < 10000 && !h.done(); ++i) co_await asyncio::sleep(std::chrono::milliseconds(1));
}

/// Sleeps on the real clock in small steps until pred() holds or `limit` passed; returns pred().
template <class P>
auto eventually(P pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) -> asyncio::task<bool> {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline)
    co_await asyncio::sleep(std::chrono::milliseconds(1));
  co_return pred();
}

/// Waits for the task `h` and returns its result, but gives up after `limit` on the real clock: the
/// task is then cancelled and std::runtime_error thrown, so a hung operation fails the test instead
/// of hanging it. (A stand-in for wait_for that needs nothing beyond the core.)
template <class T>
auto bounded(asyncio::task_handle<T> h, std::chrono::milliseconds limit = std::chrono::seconds(20))
    -> asyncio::task<T> {
  if (!co_await eventually([&h] { return h.done(); }, limit)) {
    co_await cancel_and_wait(h);
    throw std::runtime_error("test_support::bounded: operation did not finish in time");
  }
  co_return co_await std::move(h);
}

/// Runs `t` as a task, bounded as above.
template <class T>
auto bounded(asyncio::task<T> t, std::chrono::milliseconds limit = std::chrono::seconds(20)) -> asyncio::task<T> {
  co_return co_await bounded(asyncio::create_task(std::move(t)), limit);
}

}  // namespace test_support
