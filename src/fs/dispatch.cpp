// The fs layer's backend dispatch: the ring when the io backend has one, a thread otherwise
// (src/fs/dispatch.hpp explains the rule and its cancellation semantics).
#include "dispatch.hpp"

#include <asyncio/errors.hpp>
#include <asyncio/fs/file.hpp>
#include <asyncio/lowlevel/io_operation.hpp>
#include <asyncio/threads/to_thread.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace asyncio::detail {
namespace {

std::atomic<fs_route> route{fs_route::automatic};

void execute_job(pool_job* pj, bool run) noexcept {
  auto* j = static_cast<fs_job*>(pj);
  loop_port* port = j->port;  // read first: a withdrawn job may be freed below
  std::uint8_t expected = fs_job::queued;
  if (!j->state.compare_exchange_strong(expected, fs_job::running, std::memory_order_acq_rel)) {
    j->unref();  // withdrawn by the awaiter before it started: skipped
    port->release();
    return;
  }
  if (run) {
    try {
      j->work(j);
    } catch (...) {
      j->error = std::current_exception();
    }
  } else {
    j->error = make_shutdown_error();
  }
  j->state.store(fs_job::done, std::memory_order_release);
  j->state.notify_all();  // an awaiter being destroyed may wait for this (~fs_job_awaiter)
  port->post(j);
  port->release();
}

void deliver_job(remote_item* item, bool discard) noexcept {
  auto* j = static_cast<fs_job*>(item);
  // discard: the loop closed; whoever finds the item may be another thread, so the awaiter (a loop
  // object) is not touched: it keeps its own reference and frees the job when destroyed.
  if (!discard && j->awaiter) j->awaiter->on_delivered();
  j->unref();
}

}  // namespace

fs_job::fs_job() noexcept {
  execute = &execute_job;
  deliver = &deliver_job;
}

fs_job_awaiter::~fs_job_awaiter() {
  if (state_ == in_flight || state_ == withdrawing) {
    loop_access::add_remote_waits(task_->loop(), -1);
    std::uint8_t expected = fs_job::queued;
    if (!job_->state.compare_exchange_strong(expected, fs_job::withdrawn, std::memory_order_acq_rel)) {
      // Running: the call may be using memory of this frame (a buffer, a struct statx); wait until
      // it returned. Only a frame destroyed while parked gets here (a leaked task at loop close).
      std::uint8_t s = job_->state.load(std::memory_order_acquire);
      while (s == fs_job::running) {
        job_->state.wait(s, std::memory_order_acquire);
        s = job_->state.load(std::memory_order_acquire);
      }
    }
    job_->awaiter = nullptr;  // the delivery, if it still comes, only frees it
  } else if (state_ == idle) {
    job_->unref();  // never posted (a pending cancel refused it, or posting failed): the pipeline's reference
  }
  job_->unref();
}

void fs_job_awaiter::link(task_core& t) {
  event_loop& loop = t.loop();
  bool counted = false;
  try {
    executor& ex = default_executor(loop);
    job_->port = &loop_access::port(loop);
    job_->port->add_ref();
    job_->awaiter = this;
    loop_access::add_remote_waits(loop, 1);
    counted = true;
    ex.post(*job_);  // last action: a worker may run it from here (this frame waits for it)
  } catch (...) {
    if (counted) {
      loop_access::add_remote_waits(loop, -1);
      job_->port->release();
    }
    job_->awaiter = nullptr;  // still idle: the destructor drops both references
    throw;
  }
  state_ = in_flight;
}

auto fs_job_awaiter::abort_wait() noexcept -> bool {
  if (state_ != in_flight) return false;
  std::uint8_t expected = fs_job::queued;
  if (job_->state.compare_exchange_strong(expected, fs_job::withdrawn, std::memory_order_acq_rel)) {
    state_ = withdrawn;  // never started: the worker skips it
    job_->awaiter = nullptr;
    loop_access::add_remote_waits(task_->loop(), -1);
    return true;
  }
  // It runs (or ran and its delivery is on the way): keep waiting for its result.
  state_ = withdrawing;
  task_->repark(*this);
  return false;
}

void fs_job_awaiter::on_delivered() noexcept {
  task_core& t = *task_;
  loop_access::add_remote_waits(t.loop(), -1);
  bool cancel_pending = state_ == withdrawing;
  state_ = finished;
  job_->awaiter = nullptr;
  // The result must not be lost: deliver it; a cancel that came meanwhile stays pending for the
  // next suspension point (docs/design.md, "Lose nothing"), as io_operation_awaiter does.
  t.clear_waiting(*this);
  if (cancel_pending) {
    (void)t.uncancel();
    (void)t.cancel_noexcept();
  }
  wake();
}

void fs_job_awaiter::await_resume() {
  if (state_ != finished) throw_cancelled();  // withdrawn, or refused by a pending cancel
  if (job_->error) std::rethrow_exception(job_->error);
}

auto fs_run_blocking(io::operation& op) noexcept -> std::int64_t {
  long n = 0;
  switch (op.code) {
    case io::opcode::read_at:
      n = op.offset < 0 ? ::read(op.fd, op.buffer, op.length) : ::pread(op.fd, op.buffer, op.length, op.offset);
      break;
    case io::opcode::write_at:
      n = op.offset < 0 ? ::write(op.fd, op.buffer, op.length) : ::pwrite(op.fd, op.buffer, op.length, op.offset);
      break;
    case io::opcode::fsync: n = op.flags ? ::fdatasync(op.fd) : ::fsync(op.fd); break;
    case io::opcode::openat:
      n = ::openat(op.fd, op.path, op.flags | O_CLOEXEC, static_cast<mode_t>(op.mode));
      break;
    case io::opcode::close:
      // On Linux the fd is released even when close reports EINTR: never retried.
      return ::close(op.fd) < 0 && errno != EINTR ? -errno : 0;
    case io::opcode::statx:
      n = ::statx(op.fd, op.path, op.flags, STATX_BASIC_STATS, static_cast<struct statx*>(op.buffer));
      break;
    case io::opcode::renameat:
      n = ::renameat2(op.fd, op.path, AT_FDCWD, op.path2, static_cast<unsigned>(op.flags));
      break;
    case io::opcode::unlinkat: n = ::unlinkat(op.fd, op.path, op.flags); break;
    case io::opcode::mkdirat: n = ::mkdirat(op.fd, op.path, static_cast<mode_t>(op.mode)); break;
    default: return -EINVAL;  // not a file opcode
  }
  return n < 0 ? -errno : n;
}

void throw_fs_error(int err, std::string_view what, std::string_view path) {
  std::string message;
  message.reserve(what.size() + path.size() + 3);
  message.append(what).append(" '").append(path).append("'");
  throw_os_error(err, message);
}

void fs_report(const std::string& message) noexcept {
  if (event_loop* loop = running_loop()) {
    try {
      loop->call_exception_handler(exception_context(message));
      return;
    } catch (...) {  // no memory for the context: stderr below
    }
  }
  {
    std::fprintf(stderr, "asyncio: %s\n", message.c_str());
  }
}

auto fs_use_ring() -> bool {
  switch (route.load(std::memory_order_relaxed)) {
    case fs_route::ring: return true;
    case fs_route::threads: return false;
    case fs_route::automatic: break;
  }
  return lowlevel::async_files();
}

void set_fs_route(fs_route r) noexcept { route.store(r, std::memory_order_relaxed); }

auto fs_perform(io::operation op, const char* what, std::string_view path) -> task<std::int64_t> {
  std::int64_t result = 0;
  if (fs_use_ring()) {
    int err = 0;
    try {
      result = co_await io_operation_awaiter<std::int64_t>(op, what);
    } catch (const os_error& e) {
      err = e.code().value();  // the awaiter's message lacks the path: raised again below with it
    }
    if (err != 0) throw_fs_error(err, what, path);
  } else {
    // The job runs while this frame waits for it (dispatch.hpp), so it may use `op` in place.
    result = co_await fs_on_thread([&op]() noexcept { return fs_run_blocking(op); });
    if (result < 0) throw_fs_error(static_cast<int>(-result), what, path);
  }
  co_return result;
}

}  // namespace asyncio::detail
