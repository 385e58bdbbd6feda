#pragma once
// subprocess_transport: a child process driven by a subprocess_protocol's callbacks (Python's
// loop.subprocess_exec / loop.subprocess_shell with asyncio.SubprocessProtocol). The child's pipes
// are pipe transports (net/transport.hpp) whose callbacks are forwarded with the pipe's fd number
// (0 stdin, 1 stdout, 2 stderr); the protocol rules are those of net/protocol.hpp.
//
// Order, as Python's base_subprocess: connection_made(subprocess_transport&), then
// pipe_data_received(fd, data) and pipe_connection_lost(fd, error) per pipe, process_exited() once
// the child exited, and connection_lost(nullptr) once the child exited and every pipe is closed.
// Ownership: the transport holds the protocol until connection_lost has returned, and is held by
// its own task until then.
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <asyncio/core/task.hpp>
#include <asyncio/net/protocol.hpp>
#include <asyncio/net/transport.hpp>
#include <asyncio/process/process.hpp>

namespace asyncio {

class subprocess_transport;

/// The callbacks of a child process (Python's asyncio.SubprocessProtocol). All default to doing
/// nothing. pause_writing/resume_writing (from base_protocol) follow stdin's write buffer.
/// Thread safety: called on the loop's thread only.
class subprocess_protocol : public base_protocol {
 public:
  using base_protocol::connection_made;
  /// The child started and its pipes are connected.
  virtual void connection_made(subprocess_transport& t);
  /// The child wrote data to its stdout (fd 1) or stderr (fd 2); valid only during the call.
  virtual void pipe_data_received(int fd, std::string_view data);
  /// The pipe fd closed: EOF for stdout/stderr, closed or broken for stdin (fd 0; error is then
  /// the broken_pipe_error, else null).
  virtual void pipe_connection_lost(int fd, std::exception_ptr error);
  /// The child exited; get_returncode() has its status.
  virtual void process_exited();
};

namespace detail {
struct subprocess_access;
}

/// A running child process with protocol callbacks (Python's asyncio.SubprocessTransport).
/// Thread safety: loop-affine.
class subprocess_transport : public std::enable_shared_from_this<subprocess_transport> {
 public:
  subprocess_transport(const subprocess_transport&) = delete;
  auto operator=(const subprocess_transport&) -> subprocess_transport& = delete;
  ~subprocess_transport();

  /// The child's process id (Python's get_pid).
  [[nodiscard]] auto get_pid() const noexcept -> int { return pid_; }
  /// The exit status once exited (negative: killed by that signal), else nullopt.
  [[nodiscard]] auto get_returncode() const noexcept -> std::optional<int> { return returncode_; }
  /// The transport of pipe fd (0, 1 or 2), or null if that stream is not a pipe or is closed
  /// (Python's get_pipe_transport; stdin's transport writes to the child).
  [[nodiscard]] auto get_pipe_transport(int fd) const noexcept -> std::shared_ptr<transport>;
  /// Sends sig to the child (Python's send_signal).
  /// Throws: process_lookup_error (Python's ProcessLookupError) once the child was reaped.
  void send_signal(int sig);
  void terminate() { send_signal(15); }
  void kill() { send_signal(9); }
  /// Closes the pipes and kills the child if it still runs (Python's close). Idempotent.
  void close() noexcept;
  /// True once close() was called (Python's is_closing).
  [[nodiscard]] auto is_closing() const noexcept -> bool { return closing_; }
  /// The current protocol; null once connection_lost has returned.
  [[nodiscard]] auto get_protocol() const noexcept -> std::shared_ptr<subprocess_protocol> { return protocol_; }

 private:
  friend struct detail::subprocess_access;
  subprocess_transport(process proc, std::shared_ptr<subprocess_protocol> p);

  process proc_;
  int pid_ = 0;
  std::shared_ptr<subprocess_protocol> protocol_;
  std::shared_ptr<transport> pipes_[3];
  bool pipe_open_[3] = {false, false, false};
  std::optional<int> returncode_;
  bool closing_ = false;
  bool lost_ = false;
};

/// What subprocess_exec/subprocess_shell return (Python's (transport, protocol) tuple).
template <class P>
struct subprocess_pair {
  std::shared_ptr<asyncio::subprocess_transport> transport;
  std::shared_ptr<P> protocol;
};

namespace detail {

template <class F>
concept subprocess_protocol_factory =
    std::invocable<F&> && protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::value &&
    std::derived_from<typename protocol_pointer<std::remove_cvref_t<std::invoke_result_t<F&>>>::type,
                      subprocess_protocol>;

/// Python's defaults: stdin, stdout and stderr are pipes.
inline auto all_pipes() -> process_options {
  process_options o;
  o.std_in = redirect::pipe;
  o.std_out = redirect::pipe;
  o.std_err = redirect::pipe;
  return o;
}

/// Starts the transport over a started process (src/process/subprocess_transport.cpp).
auto start_subprocess_transport(process proc, std::shared_ptr<subprocess_protocol> p)
    -> std::shared_ptr<subprocess_transport>;

}  // namespace detail

/// Starts program with args (argv[0] is program) and drives it with a protocol from factory()
/// (Python's loop.subprocess_exec). By default stdin, stdout and stderr are pipes, as in Python;
/// options as create_subprocess_exec's.
///
/// Cancellation: does not suspend.
/// Resumes: at once; connection_made has returned.
/// Throws: as create_subprocess_exec (file_not_found_error...); what the factory throws (the
/// child is then killed).
template <class F>
  requires detail::subprocess_protocol_factory<F>
auto subprocess_exec(F factory, std::string program, std::vector<std::string> args = {},
                     process_options options = detail::all_pipes())
    -> task<subprocess_pair<detail::factory_protocol_t<F>>> {
  using P = detail::factory_protocol_t<F>;
  process proc = co_await create_subprocess_exec(std::move(program), std::move(args), std::move(options));
  std::shared_ptr<P> p(factory());
  auto t = detail::start_subprocess_transport(std::move(proc), p);
  co_return subprocess_pair<P>{std::move(t), std::move(p)};
}

/// subprocess_exec through /bin/sh -c cmd (Python's loop.subprocess_shell).
///
/// Cancellation: does not suspend. Resumes: at once; connection_made has returned.
/// Throws: as create_subprocess_shell; what the factory throws (the child is then killed).
template <class F>
  requires detail::subprocess_protocol_factory<F>
auto subprocess_shell(F factory, std::string cmd, process_options options = detail::all_pipes())
    -> task<subprocess_pair<detail::factory_protocol_t<F>>> {
  using P = detail::factory_protocol_t<F>;
  process proc = co_await create_subprocess_shell(std::move(cmd), std::move(options));
  std::shared_ptr<P> p(factory());
  auto t = detail::start_subprocess_transport(std::move(proc), p);
  co_return subprocess_pair<P>{std::move(t), std::move(p)};
}

}  // namespace asyncio
