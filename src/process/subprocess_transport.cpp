// subprocess_transport: protocols over a child process (Python's base_subprocess.py). The child's
// pipes become pipe transports whose adapters forward to the subprocess protocol with the fd; a
// task waits for the exit; connection_lost follows once the child exited and every pipe closed.
#include <asyncio/process/subprocess_transport.hpp>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/errors.hpp>

#include <cerrno>

#include "net/callback_errors.hpp"

namespace asyncio {

void subprocess_protocol::connection_made(subprocess_transport& /*t*/) {}
void subprocess_protocol::pipe_data_received(int /*fd*/, std::string_view /*data*/) {}
void subprocess_protocol::pipe_connection_lost(int /*fd*/, std::exception_ptr /*error*/) {}
void subprocess_protocol::process_exited() {}

namespace detail {

struct subprocess_access {
  static auto start(process proc, std::shared_ptr<subprocess_protocol> p) -> std::shared_ptr<subprocess_transport>;

  static auto make(process proc, std::shared_ptr<subprocess_protocol> p) -> std::shared_ptr<subprocess_transport> {
    return std::shared_ptr<subprocess_transport>(new subprocess_transport(std::move(proc), std::move(p)));
  }

  /// Python's _try_finish: connection_lost once the child exited and every pipe closed.
  static void try_finish(subprocess_transport& st) noexcept {
    if (st.lost_ || !st.returncode_) return;
    for (bool open : st.pipe_open_)
      if (open) return;
    st.lost_ = true;
    std::shared_ptr<subprocess_protocol> p = std::move(st.protocol_);
    for (auto& t : st.pipes_) t.reset();
    try {
      p->connection_lost(nullptr);
    } catch (...) {
      report_to_loop("protocol.connection_lost() failed", std::current_exception());
    }
  }

  static void pipe_lost(subprocess_transport& st, int fd, std::exception_ptr e) noexcept {
    if (!st.pipe_open_[fd]) return;
    st.pipe_open_[fd] = false;
    if (std::shared_ptr<subprocess_protocol> p = st.protocol_) {
      try {
        p->pipe_connection_lost(fd, std::move(e));
      } catch (...) {
        report_to_loop("protocol.pipe_connection_lost() failed", std::current_exception());
      }
    }
    try_finish(st);
  }

  static auto watch_exit(std::shared_ptr<subprocess_transport> self) -> task<void> {
    int rc = co_await self->proc_.wait();
    self->returncode_ = rc;
    if (std::shared_ptr<subprocess_protocol> p = self->protocol_) {
      try {
        p->process_exited();
      } catch (...) {
        report_to_loop("protocol.process_exited() failed", std::current_exception());
      }
    }
    try_finish(*self);
  }
};

namespace {

// stdout / stderr: Python's ReadSubprocessPipeProto.
struct read_pipe_adapter : protocol {
  std::shared_ptr<subprocess_transport> owner;
  int fd;
  read_pipe_adapter(std::shared_ptr<subprocess_transport> o, int f) : owner(std::move(o)), fd(f) {}
  using protocol::connection_made;
  // Paused until the subprocess protocol's connection_made has run (start_subprocess_transport).
  void connection_made(transport& t) override { t.pause_reading(); }
  void data_received(std::string_view data) override {
    if (auto p = owner->get_protocol()) p->pipe_data_received(fd, data);
  }
  void connection_lost(std::exception_ptr e) override {
    subprocess_access::pipe_lost(*owner, fd, std::move(e));
    owner.reset();
  }
};

// stdin: Python's WriteSubprocessPipeProto.
struct write_pipe_adapter : base_protocol {
  std::shared_ptr<subprocess_transport> owner;
  explicit write_pipe_adapter(std::shared_ptr<subprocess_transport> o) : owner(std::move(o)) {}
  void pause_writing() override {
    if (auto p = owner->get_protocol()) p->pause_writing();
  }
  void resume_writing() override {
    if (auto p = owner->get_protocol()) p->resume_writing();
  }
  void connection_lost(std::exception_ptr e) override {
    subprocess_access::pipe_lost(*owner, 0, std::move(e));
    owner.reset();
  }
};

}  // namespace

auto subprocess_access::start(process proc, std::shared_ptr<subprocess_protocol> p)
    -> std::shared_ptr<subprocess_transport> {
  if (!p) throw std::invalid_argument("the protocol factory returned null");
  auto st = subprocess_access::make(std::move(proc), std::move(p));
  process& pr = st->proc_;
  // Every pipe is open before any transport starts, so that an early EOF cannot finish too soon.
  st->pipe_open_[0] = pr.has_std_in();
  st->pipe_open_[1] = pr.has_std_out();
  st->pipe_open_[2] = pr.has_std_err();
  if (pr.has_std_in())
    st->pipes_[0] = start_pipe_transport(pr.std_in().transport(), std::make_shared<write_pipe_adapter>(st), false);
  if (pr.has_std_out())
    st->pipes_[1] = start_pipe_transport(pr.std_out().transport(), std::make_shared<read_pipe_adapter>(st, 1), true);
  if (pr.has_std_err())
    st->pipes_[2] = start_pipe_transport(pr.std_err().transport(), std::make_shared<read_pipe_adapter>(st, 2), true);
  // Python calls connection_made once the pipes are connected.
  if (std::shared_ptr<subprocess_protocol> hold = st->protocol_) {
    try {
      hold->connection_made(*st);
    } catch (...) {
      report_to_loop("Exception in protocol.connection_made()", std::current_exception());
    }
  }
  for (int fd : {1, 2})
    if (st->pipes_[fd]) st->pipes_[fd]->resume_reading();
  create_task(subprocess_access::watch_exit(st), task_options{.name = "subprocess-exit"}).detach();
  return st;
}

auto start_subprocess_transport(process proc, std::shared_ptr<subprocess_protocol> p)
    -> std::shared_ptr<subprocess_transport> {
  return subprocess_access::start(std::move(proc), std::move(p));
}

}  // namespace detail

subprocess_transport::subprocess_transport(process proc, std::shared_ptr<subprocess_protocol> p)
    : proc_(std::move(proc)), pid_(proc_.pid()), protocol_(std::move(p)) {}

subprocess_transport::~subprocess_transport() = default;

auto subprocess_transport::get_pipe_transport(int fd) const noexcept -> std::shared_ptr<transport> {
  if (fd < 0 || fd > 2) return nullptr;
  return pipes_[fd];
}

void subprocess_transport::send_signal(int sig) {
  if (closing_) throw_os_error(ESRCH, "send_signal after close()");
  proc_.send_signal(sig);
}

void subprocess_transport::close() noexcept {
  if (closing_) return;
  closing_ = true;
  for (auto& t : pipes_)
    if (t) t->close();
  if (!returncode_) {
    try {
      proc_.send_signal(9);
    } catch (...) {
    }
  }
}

}  // namespace asyncio
