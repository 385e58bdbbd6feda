#pragma once
// Child processes (Python's asyncio.create_subprocess_exec / create_subprocess_shell and Process).
//
//   asyncio::process_options options{.std_out = asyncio::redirect::pipe};   // named: see below
//   auto p = co_await asyncio::create_subprocess_exec("ls", "-l", options);
//   while (true) {
//     std::string line = co_await p.std_out().readline();
//     if (line.empty()) break;
//   }
//   int status = co_await p.wait();      // 0, an exit code, or -N if killed by signal N (as Python)
//
// stdin/stdout/stderr are C macros, so the members and options are spelled std_in, std_out, std_err.
// The options are named in a statement of their own, not written as a braced temporary inside the
// co_await: g++ 12 destroys such a temporary twice (docs/toolchain.md §5.5).
//
// How (src/process/process.cpp): posix_spawn (glibc's uses CLONE_VFORK, so no page-table copy and
// exec errors such as ENOENT come back as exceptions here); every fd this library opens is
// close-on-exec and the child closes all others above 2 (close_fds, as Python); the child starts with
// an empty signal mask and SIGPIPE/SIGXFSZ at their default actions. Exit is watched through a pidfd
// (pidfd_open, readable when the child exits), reaped with waitid(WNOHANG) on the loop. Kernels
// without pidfd fall back to a helper thread blocked in waitid(WNOWAIT) that pokes an eventfd; not
// SIGCHLD, whose handler is process-wide (it would fight the program's own SIGCHLD handling and any
// other loop's children) and whose waitpid(-1) would reap children this library did not start.
//
// Lifetime rules (no zombie, no fd leak, whatever gets cancelled):
//  * Cancelling wait() or communicate() does not kill the child; the process object still owns it.
//  * Destroying a process object whose child still runs kills it (SIGKILL), as Python's transport
//    does when closed; the loop reaps it in the background (reported in debug mode).
//  * Closing the loop kills and reaps every child still running that it watches.
//  * The pipes close with the process object (buffered stdin data not yet written is dropped).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <asyncio/core/task.hpp>
#include <asyncio/net/stream_reader.hpp>
#include <asyncio/net/stream_writer.hpp>

namespace asyncio {

/// Where a child's standard stream goes (Python's PIPE / DEVNULL / STDOUT / None).
enum class redirect : std::uint8_t {
  inherit,    ///< the parent's own stream (Python's None)
  pipe,       ///< a pipe to this process: process::std_in() / std_out() / std_err()
  devnull,    ///< /dev/null
  to_stdout,  ///< std_err only: wherever stdout goes (Python's STDOUT)
};

/// Options of create_subprocess_exec / create_subprocess_shell.
struct process_options {
  redirect std_in = redirect::inherit;
  redirect std_out = redirect::inherit;
  redirect std_err = redirect::inherit;
  /// Working directory of the child; unset = the parent's.
  std::optional<std::string> cwd{};
  /// Environment as "NAME=value" entries; unset = the parent's environment.
  std::optional<std::vector<std::string>> env{};
  /// Close every fd above 2 in the child (Python's close_fds=True).
  bool close_fds = true;
  /// Run the child in a new session (setsid), e.g. to keep it away from the terminal's Ctrl-C.
  bool start_new_session = false;
  /// Buffer limit of the stdout/stderr readers for readline/readuntil (Python's limit).
  std::size_t limit = 64 * 1024;
};

/// What communicate() collected ("" for a stream that is not a pipe).
struct communicate_result {
  std::string std_out;
  std::string std_err;
};

class process;
struct process_options;

namespace detail {
struct process_state;
/// The synchronous spawn behind create_subprocess_exec/shell (on the running loop's thread).
auto spawn(const std::string& program, const std::vector<std::string>& argv, const process_options& options)
    -> process;
/// Tests only: pretend pidfd_open is unavailable, to exercise the fallback watcher.
void set_pidfd_disabled(bool disabled) noexcept;
}  // namespace detail

/// A child process (Python's asyncio.subprocess.Process). Move-only; owns the child and its pipes.
///
/// Thread safety: loop-affine (the loop that spawned it).
class process {
 public:
  process() noexcept = default;
  process(process&& other) noexcept;
  auto operator=(process&& other) noexcept -> process&;
  /// Kills the child (SIGKILL) if it still runs (see the header's lifetime rules); closes the pipes.
  ~process();

  /// The child's process id.
  [[nodiscard]] auto pid() const noexcept -> int;
  /// The exit status once the child was reaped: the exit code, or -N if signal N ended it.
  [[nodiscard]] auto returncode() const noexcept -> std::optional<int>;

  /// Waits for the child to exit and returns returncode().
  ///
  /// Beware (as in Python): with std_out/std_err pipes that nobody reads, a child writing a lot
  /// blocks forever on a full pipe; use communicate() then.
  /// Cancellation: safe; the child keeps running (kill() it if that is what you want).
  /// Resumes: on the loop, once the child has been reaped.
  auto wait() -> task<int>;

  /// Writes `input` to stdin (if it is a pipe) then closes it, reads stdout and stderr (those that
  /// are pipes) to EOF concurrently, so no pipe can fill up and deadlock, and waits for the exit.
  /// A child that does not read its input is not an error (broken pipe is ignored, as Python).
  ///
  /// Cancellation: the helper reads/writes are cancelled and awaited; data read so far is lost;
  /// the child keeps running.
  /// Resumes: on the loop, after the child exited and both outputs reached EOF.
  /// Throws: os_error on a pipe error.
  auto communicate(std::string input = {}) -> task<communicate_result>;

  /// Sends signal `sig`. A no-op once the child was reaped (its pid may belong to someone else).
  /// Throws: os_error if the kernel refuses.
  void send_signal(int sig);
  /// send_signal(SIGTERM).
  void terminate() { send_signal(15); }
  /// send_signal(SIGKILL).
  void kill() { send_signal(9); }

  /// The pipe ends, as the stream types of connections (Python's Process.stdin / stdout / stderr
  /// are a StreamWriter and StreamReaders): write/drain/write_eof/close on stdin (write_eof closes
  /// the pipe: that is the child's EOF; a child that stopped reading makes drain() throw
  /// broken_pipe_error, never a SIGPIPE here), read/readline/readuntil/readexactly on the others.
  /// Throws invalid_state_error if that stream is not redirect::pipe.
  [[nodiscard]] auto std_in() -> stream_writer&;
  [[nodiscard]] auto std_out() -> stream_reader&;
  [[nodiscard]] auto std_err() -> stream_reader&;
  [[nodiscard]] auto has_std_in() const noexcept -> bool { return in_.transport() != nullptr; }
  [[nodiscard]] auto has_std_out() const noexcept -> bool { return out_.transport() != nullptr; }
  [[nodiscard]] auto has_std_err() const noexcept -> bool { return err_.transport() != nullptr; }

  /// False for a default-constructed or moved-from object.
  [[nodiscard]] explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  friend auto detail::spawn(const std::string& program, const std::vector<std::string>& argv,
                            const process_options& options) -> process;
  void reset() noexcept;

  detail::process_state* state_ = nullptr;
  stream_writer in_;
  stream_reader out_;
  stream_reader err_;
};

/// Starts `program` (looked up in PATH unless it contains a '/') with arguments `args`
/// (Python's create_subprocess_exec(program, *args, ...)). argv[0] is `program`.
///
/// Cancellation: does not suspend (spawning is synchronous and fast: vfork + exec).
/// Throws: file_not_found_error / permission_error (and other os_error) if it cannot start;
/// std::invalid_argument for redirect::to_stdout on anything but std_err.
auto create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                            process_options options = {}) -> task<process>;

/// Python's spelling, create_subprocess_exec(program, *args, ...): the arguments one by one, and
/// optionally a process_options (anywhere, usually last; named, docs/toolchain.md §5.5):
///   asyncio::process_options options{.std_out = asyncio::redirect::pipe};
///   auto p = co_await asyncio::create_subprocess_exec("ls", "-l", dir, options);
/// Prefer it inside co_await with g++ 12: a braced list of strings there ({"-l", dir}) hits a g++ 12
/// bug ("array used as initializer"; docs/toolchain.md §5.5).
template <class... A>
  requires(sizeof...(A) > 0 && ((std::is_convertible_v<const A&, std::string_view> ||
                                 std::is_same_v<std::remove_cvref_t<A>, process_options>) &&
                                ...))
auto create_subprocess_exec(std::string program, A&&... args) -> task<process> {
  std::vector<std::string> argv;
  process_options options;
  auto add = [&](auto&& a) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a)>, process_options>) options = a;
    else argv.emplace_back(std::string_view(a));
  };
  (add(args), ...);
  return create_subprocess_exec(std::move(program), std::move(argv), std::move(options));
}

/// Runs `cmd` through /bin/sh -c (Python's create_subprocess_shell). Quote arguments yourself.
auto create_subprocess_shell(std::string cmd, process_options options = {}) -> task<process>;

}  // namespace asyncio
