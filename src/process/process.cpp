// Child processes: spawn (posix_spawn), exit watching (pidfd, or a waitid thread as fallback),
// reaping on the loop, wait/communicate/send_signal. The header explains the choices.
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/intrusive_list.hpp>
#include <asyncio/core/wait.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/process/process.hpp>

#include "core/internal_loop_local.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace asyncio {
namespace detail {
namespace {

std::atomic<bool> g_pidfd_disabled{false};

// Raw system calls rather than glibc's wrappers: those exist only from glibc 2.36 (whose
// <sys/pidfd.h> even lacks extern "C"), and on an old kernel the call just fails with ENOSYS, which
// selects the fallback watcher.
auto pidfd_open(pid_t pid) noexcept -> int { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
auto pidfd_send_signal(int pidfd, int sig) noexcept -> int {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// An fd closed on scope exit unless released.
struct unique_fd {
  int fd = -1;
  unique_fd() = default;
  explicit unique_fd(int f) : fd(f) {}
  unique_fd(unique_fd&&) = delete;  // not needed: moved only by assignment
  auto operator=(unique_fd&& o) noexcept -> unique_fd& {
    reset();
    fd = std::exchange(o.fd, -1);
    return *this;
  }
  ~unique_fd() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  auto release() noexcept -> int { return std::exchange(fd, -1); }
};

// Moves `fd` above 2 (still close-on-exec) so the child's dup2 onto 0/1/2 cannot clobber another of
// its source fds: the parent may have closed its own stdin/stdout, and pipe() then hands out 0 or 1.
void lift_above_stdio(unique_fd& fd) {
  if (fd.fd > 2) return;
  int lifted = ::fcntl(fd.fd, F_DUPFD_CLOEXEC, 3);
  if (lifted < 0) throw_os_error(errno, "fcntl");
  fd = unique_fd(lifted);
}

}  // namespace

/// Parks the task until the child is reaped (one per wait()), linked in process_state::waiters.
/// Nothing to lose: returncode stays in the state.
/// Cancellation: safe; the child keeps running.
struct exit_wait : parked_awaiter<exit_wait>, waiter_node {
  explicit exit_wait(process_state& s) noexcept : state(&s) {}
  exit_wait(const exit_wait&) = delete;
  ~exit_wait();
  [[nodiscard]] auto await_ready() const noexcept -> bool;
  void await_resume() {
    if (task_) check_cancelled();  // null: await_ready found the child reaped
  }
  // parked_awaiter's hooks
  void link(task_core&) noexcept;
  auto abort_wait() noexcept -> bool;

  process_state* state;
};

/// Everything about one child except its pipes. Reference counted: the process object, each running
/// wait(), and the watch while the child is unreaped (so an orphaned child is still reaped).
struct process_state : io::interest, intrusive_node<> {  // the node: the loop's child_registry
  event_loop* loop = nullptr;
  pid_t pid = -1;
  std::optional<int> returncode;
  int refs = 1;
  int exit_fd = -1;     // pidfd, or the fallback's eventfd; -1 once reaped
  bool is_pidfd = false;
  std::shared_ptr<unique_fd> fallback_fd;  // shared with the fallback thread
  waiter_list<exit_wait> waiters;  // newest first (push_front): the order wait()s always woke in
  std::string program;

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }

  // Records the exit, stops watching, wakes every wait(). Drops the watch's reference.
  void finish(int code) noexcept;
  // Tries to reap without blocking; true if the child is gone.
  auto try_reap() noexcept -> bool;
  static void on_ready(io::interest* self) noexcept {
    auto* st = static_cast<process_state*>(self);
    if (!st->is_pidfd) {
      std::uint64_t value;
      ssize_t n = ::read(st->exit_fd, &value, sizeof value);
      (void)n;
    }
    (void)st->try_reap();
  }
};

exit_wait::~exit_wait() { state->waiters.remove(*this); }
auto exit_wait::await_ready() const noexcept -> bool { return state->returncode.has_value(); }
void exit_wait::link(task_core&) noexcept { state->waiters.push_front(*this); }
auto exit_wait::abort_wait() noexcept -> bool {
  if (!linked) return false;  // already woken and scheduled
  state->waiters.remove(*this);
  return true;
}

namespace {

auto decode(const siginfo_t& info) -> int {
  if (info.si_code == CLD_EXITED) return info.si_status;
  return -info.si_status;  // CLD_KILLED / CLD_DUMPED: -signal, as Python
}

}  // namespace

/// The children a loop watches; at close, those still running are killed and reaped.
struct child_registry {
  explicit child_registry(event_loop& l) : loop(l) {}
  void add(process_state& st) noexcept { children.push_front(st); }
  void remove(process_state& st) noexcept { children.remove(st); }
  void on_loop_close() noexcept {
    // pop_front unlinks it: finish() cannot find this registry any more (it is already unpublished).
    while (process_state* st = children.pop_front()) {
      // No task can wait for it any more: kill and reap it now, so no zombie outlives the loop.
      if (st->is_pidfd) pidfd_send_signal(st->exit_fd, SIGKILL);
      else ::kill(st->pid, SIGKILL);
      siginfo_t info{};
      int r;
      do {
        r = ::waitid(P_PID, static_cast<id_t>(st->pid), &info, WEXITED);
      } while (r < 0 && errno == EINTR);
      st->finish(r == 0 ? decode(info) : 255);
    }
  }
  event_loop& loop;
  intrusive_list<process_state> children;  // newest first
};

using child_registries = loop_local<child_registry>;

void process_state::finish(int code) noexcept {
  returncode = code;
  detail::loop_access::io(*loop).set_interest(exit_fd, io::direction::read, nullptr);  // clearing never throws
  if (is_pidfd) ::close(exit_fd);
  fallback_fd.reset();
  exit_fd = -1;
  if (child_registry* reg = child_registries::find(*loop)) reg->remove(*this);
  while (exit_wait* w = waiters.pop_front()) {
    detail::loop_access::schedule(*loop, *w->parked_task());  // waiting_ stays set: a late cancel still interrupts (nothing lost)
  }
  release();  // the watch's reference
}

auto process_state::try_reap() noexcept -> bool {
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    // ECHILD: someone else reaped it (waitpid(-1) elsewhere, or SIGCHLD set to SIG_IGN). The status
    // is lost; 255 as Python does.
    loop->call_exception_handler(exception_context(
        "child process " + std::to_string(pid) + " (" + program +
        ") was reaped by someone else; its exit status is unknown (returncode 255)"));
    finish(255);
    return true;
  }
  if (info.si_pid == 0) return false;  // not yet (a spurious wake-up)
  finish(decode(info));
  return true;
}

namespace {

struct state_ref {
  process_state* st;
  explicit state_ref(process_state* s) noexcept : st(s) { st->add_ref(); }
  state_ref(const state_ref&) = delete;
  ~state_ref() { st->release(); }
};

// Starts the fallback watcher: a thread blocked in waitid(WNOWAIT) (it does not reap, so the loop
// stays the only reaper and the status is not stolen) that makes an eventfd readable on exit.
auto start_fallback_watch(pid_t pid) -> std::shared_ptr<unique_fd> {
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) throw_os_error(errno, "eventfd");
  auto holder = std::make_shared<unique_fd>(efd);
  std::thread([pid, holder] {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    std::uint64_t one = 1;
    ssize_t n = ::write(holder->fd, &one, sizeof one);
    (void)n;
  }).detach();
  return holder;
}

auto open_stdio(redirect r, bool child_reads, unique_fd& child_end, unique_fd& parent_end) -> void {
  switch (r) {
    case redirect::inherit:
      return;
    case redirect::pipe: {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) throw_os_error(errno, "pipe2");
      unique_fd rd(p[0]);
      unique_fd wr(p[1]);
      child_end = child_reads ? std::move(rd) : std::move(wr);
      parent_end = child_reads ? std::move(wr) : std::move(rd);
      lift_above_stdio(child_end);
      lift_above_stdio(parent_end);
      return;
    }
    case redirect::devnull: {
      int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd < 0) throw_os_error(errno, "open /dev/null");
      child_end = unique_fd(fd);
      lift_above_stdio(child_end);
      return;
    }
    case redirect::to_stdout:
      return;  // handled by the caller (std_err only)
  }
}

struct spawn_attrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  spawn_attrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~spawn_attrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  spawn_attrs(const spawn_attrs&) = delete;
  auto operator=(const spawn_attrs&) -> spawn_attrs& = delete;
};

void check(int rc, const char* what) {
  if (rc != 0) throw_os_error(rc, what);
}

// The parent's end of a pipe as a stream transport. The process object closes it (reset()), so the
// transport does not report it as unclosed.
auto pipe_transport(int fd, std::size_t limit) -> std::shared_ptr<stream_transport> {
  auto t = std::make_shared<stream_transport>(socket::adopt(fd), limit, stream_kind::pipe);
  t->managed = true;
  return t;
}

}  // namespace

void set_pidfd_disabled(bool disabled) noexcept { g_pidfd_disabled.store(disabled); }

auto spawn(const std::string& program, const std::vector<std::string>& argv_in, const process_options& options)
    -> process {
  if (options.std_in == redirect::to_stdout || options.std_out == redirect::to_stdout)
    throw std::invalid_argument("redirect::to_stdout is only valid for std_err");
  event_loop& loop = get_running_loop();
  child_registry& registry = child_registries::get(loop);

  unique_fd child_fd[3];
  unique_fd parent_fd[3];
  open_stdio(options.std_in, true, child_fd[0], parent_fd[0]);
  open_stdio(options.std_out, false, child_fd[1], parent_fd[1]);
  open_stdio(options.std_err, false, child_fd[2], parent_fd[2]);

  spawn_attrs sa;
  for (int i = 0; i < 3; ++i) {
    if (child_fd[i].fd >= 0) check(posix_spawn_file_actions_adddup2(&sa.actions, child_fd[i].fd, i), "posix_spawn");
  }
  if (options.std_err == redirect::to_stdout) check(posix_spawn_file_actions_adddup2(&sa.actions, 1, 2), "posix_spawn");
  if (options.close_fds) check(posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3), "posix_spawn");
  if (options.cwd) check(posix_spawn_file_actions_addchdir_np(&sa.actions, options.cwd->c_str()), "posix_spawn");

  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.start_new_session) flags |= POSIX_SPAWN_SETSID;
  check(posix_spawnattr_setflags(&sa.attr, flags), "posix_spawn");
  sigset_t empty;
  sigemptyset(&empty);
  check(posix_spawnattr_setsigmask(&sa.attr, &empty), "posix_spawn");
  // Python's restore_signals: what a parent ignores (SIGPIPE typically) is not the child's business.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  check(posix_spawnattr_setsigdefault(&sa.attr, &defaults), "posix_spawn");

  std::vector<char*> argv;
  argv.reserve(argv_in.size() + 1);
  for (const auto& a : argv_in) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    envp.reserve(options.env->size() + 1);
    for (const auto& e : *options.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, program.c_str(), &sa.actions, &sa.attr, argv.data(),
                          options.env ? envp.data() : environ);
  if (rc != 0) throw_os_error(rc, "cannot run " + program);
  for (auto& fd : child_fd) fd.reset();

  auto* st = new process_state;
  st->loop = &loop;
  st->pid = pid;
  st->program = program;
  st->ready = &process_state::on_ready;
  st->refs = 2;  // the process object + the watch
  try {
    int pidfd = g_pidfd_disabled.load() ? -1 : pidfd_open(pid);
    if (pidfd >= 0) {
      st->exit_fd = pidfd;
      st->is_pidfd = true;
    } else {
      st->fallback_fd = start_fallback_watch(pid);
      st->exit_fd = st->fallback_fd->fd;
    }
    detail::loop_access::io(loop).set_interest(st->exit_fd, io::direction::read, st);
  } catch (...) {
    // The child runs but cannot be watched: do not leave it behind.
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (st->is_pidfd) ::close(st->exit_fd);
    delete st;
    throw;
  }
  registry.add(*st);

  process p;
  p.state_ = st;
  if (parent_fd[0].fd >= 0) p.in_ = stream_writer(pipe_transport(parent_fd[0].release(), options.limit));
  if (parent_fd[1].fd >= 0) p.out_ = stream_reader(pipe_transport(parent_fd[1].release(), options.limit));
  if (parent_fd[2].fd >= 0) p.err_ = stream_reader(pipe_transport(parent_fd[2].release(), options.limit));
  return p;
}

}  // namespace detail

// ---- process -------------------------------------------------------------------------------------------

process::process(process&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      in_(std::move(other.in_)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

auto process::operator=(process&& other) noexcept -> process& {
  if (this != &other) {
    reset();
    state_ = std::exchange(other.state_, nullptr);
    in_ = std::move(other.in_);
    out_ = std::move(other.out_);
    err_ = std::move(other.err_);
  }
  return *this;
}

process::~process() { reset(); }

void process::reset() noexcept {
  for (const auto* t : {&in_.transport(), &out_.transport(), &err_.transport()})
    if (*t) (*t)->abort();
  in_ = {};
  out_ = {};
  err_ = {};
  if (!state_) return;
  detail::process_state* st = std::exchange(state_, nullptr);
  if (!st->returncode && st->exit_fd >= 0) {
    // The owner is gone: nobody can wait for or talk to this child any more. Kill it (as Python's
    // transport does on close); the watch still reaps it.
    if (st->is_pidfd) detail::pidfd_send_signal(st->exit_fd, SIGKILL);
    else ::kill(st->pid, SIGKILL);
    if (st->loop->get_debug()) {
      st->loop->call_exception_handler(exception_context(
          "process " + std::to_string(st->pid) + " (" + st->program +
          ") was still running when its process object was destroyed; killed it"));
    }
  }
  st->release();
}

auto process::pid() const noexcept -> int { return state_ ? state_->pid : -1; }

auto process::returncode() const noexcept -> std::optional<int> {
  return state_ ? state_->returncode : std::nullopt;
}

auto process::wait() -> task<int> {
  if (!state_) throw invalid_state_error("empty process object");
  detail::state_ref ref(state_);  // the state outlives this wait even if the process object goes
  while (!ref.st->returncode) {
    co_await detail::exit_wait(*ref.st);
  }
  co_return *ref.st->returncode;
}

namespace {

auto feed_stdin(stream_writer* in, std::string input) -> task<void> {
  try {
    if (!input.empty()) {
      in->write(input);
      co_await in->drain();
    }
  } catch (const broken_pipe_error&) {
    // The child exited or closed its stdin without reading everything: not an error (Python).
  } catch (const connection_reset_error&) {
  }
  in->close();
}

auto read_all(stream_reader* r) -> task<std::string> { co_return co_await r->read(); }

}  // namespace

auto process::communicate(std::string input) -> task<communicate_result> {
  if (!state_) throw invalid_state_error("empty process object");
  stream_writer* in = has_std_in() ? &in_ : nullptr;
  stream_reader* out = has_std_out() ? &out_ : nullptr;
  stream_reader* err = has_std_err() ? &err_ : nullptr;
  task_handle<void> feeder;
  task_handle<std::string> err_reader;
  if (in) feeder = create_task(feed_stdin(in, std::move(input)));
  if (err) err_reader = create_task(read_all(err));
  communicate_result result;
  std::exception_ptr failure;
  try {
    if (out) result.std_out = co_await out->read();
    if (feeder) co_await feeder;
    if (err_reader) result.std_err = co_await std::move(err_reader);
    (void)co_await wait();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // No helper outlives the call: cancel them and wait until they are done. wait() raises none
    // of their outcomes (a helper's own error after the cancel is retrieved and dropped: the
    // first failure is the one communicate() reports).
    std::vector<any_task> helpers;
    if (feeder) helpers.push_back(feeder);
    if (err_reader) helpers.push_back(err_reader);
    for (any_task& h : helpers) h.cancel();
    if (!helpers.empty()) (void)co_await asyncio::wait(helpers);
    for (any_task& h : helpers) {
      if (!h.cancelled()) (void)h.exception();  // retrieved: not reported as never retrieved
    }
    std::rethrow_exception(failure);
  }
  co_return result;
}

void process::send_signal(int sig) {
  if (!state_) throw invalid_state_error("empty process object");
  if (state_->returncode || state_->exit_fd < 0) return;
  int rc = state_->is_pidfd ? detail::pidfd_send_signal(state_->exit_fd, sig) : ::kill(state_->pid, sig);
  if (rc < 0) throw_os_error(errno, "send_signal");
}

auto process::std_in() -> stream_writer& {
  if (!has_std_in()) throw invalid_state_error("stdin is not a pipe");
  return in_;
}
auto process::std_out() -> stream_reader& {
  if (!has_std_out()) throw invalid_state_error("stdout is not a pipe");
  return out_;
}
auto process::std_err() -> stream_reader& {
  if (!has_std_err()) throw invalid_state_error("stderr is not a pipe");
  return err_;
}

auto create_subprocess_exec(std::string program, std::vector<std::string> args, process_options options)
    -> task<process> {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.push_back(program);
  for (auto& a : args) argv.push_back(std::move(a));
  co_return detail::spawn(program, argv, options);
}

auto create_subprocess_shell(std::string cmd, process_options options) -> task<process> {
  std::vector<std::string> argv{"/bin/sh", "-c", std::move(cmd)};
  co_return detail::spawn("/bin/sh", argv, options);
}

}  // namespace asyncio
