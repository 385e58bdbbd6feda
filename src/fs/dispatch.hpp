#pragma once
// The one place where the fs layer decides how a call reaches the kernel (docs/fs.md, "Two
// backends, one behaviour"):
//
//   * the loop's io backend does file I/O without blocking (lowlevel::async_files(): io_uring):
//     the io::operation is awaited on the ring (lowlevel/io_operation.hpp);
//   * otherwise (epoll, whose file operations would block the loop): the same system call runs on
//     the loop's default executor (threads/to_thread.hpp), as one job.
//
// Calls with no ring opcode (directory listings, recursive removal) always take the thread path,
// through on_thread(), one job per batch of work.
//
// Both paths give the same cancellation rule, the ring's: a cancel withdraws a call that has not
// started (queued on the executor: it is skipped, cancelled_error at once); a call already running
// cannot be interrupted, so the task keeps waiting for it, receives its result (the bytes it moved
// are never lost) and the cancel stays pending for the next suspension point. Only then does the
// task go on, so a buffer a call reads or writes is never freed under it. (to_thread raises at once
// instead and lets the call run on alone: fine for a call that owns its data, not for a pread into
// the caller's buffer.) A frame destroyed while its call runs (a leaked task at loop close) waits
// for the call to return before its memory goes.
#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/detail/frame_allocator.hpp>
#include <asyncio/detail/loop_port.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/fs/stat.hpp>
#include <asyncio/io/operation.hpp>
#include <asyncio/threads/thread_pool.hpp>

#include <fcntl.h>
#include <sys/stat.h>

namespace asyncio::detail {

class fs_job_awaiter;

/// One call in flight to the executor and back. Reference counted: the awaiter holds one
/// reference, the executor/port pipeline the other; the last to let go frees it.
struct fs_job : pool_job, remote_item {
  enum : std::uint8_t { queued, running, done, withdrawn };
  std::atomic<std::uint8_t> state{queued};  // queued -> running -> done, or queued -> withdrawn
  std::atomic<std::uint8_t> refs{2};
  loop_port* port = nullptr;                // a reference is held from post until the worker let go
  fs_job_awaiter* awaiter = nullptr;        // loop thread only; null once the awaiter let go
  std::exception_ptr error;
  void (*work)(fs_job* self) = nullptr;     // runs the call on the worker; may throw
  void (*destroy)(fs_job* self) noexcept = nullptr;

  fs_job() noexcept;  // sets execute and deliver
  void unref() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
  }
};

/// fs_job with its callable and result slot, from the per-thread frame pool.
template <class R, class F>
struct fs_call final : fs_job {
  explicit fs_call(F&& f) : fn(std::move(f)) {
    work = &run;
    destroy = &free;
  }
  F fn;
  std::optional<R> value;

  static auto operator new(std::size_t size) -> void* { return frame_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
  static void run(fs_job* j) { static_cast<fs_call*>(j)->value.emplace(static_cast<fs_call*>(j)->fn()); }
  static void free(fs_job* j) noexcept { delete static_cast<fs_call*>(j); }
};

/// The wait for one fs_job: the suspension protocol of docs/design.md through parked_awaiter,
/// with the cancellation rule of the file comment.
class fs_job_awaiter : public parked_awaiter<fs_job_awaiter> {
  using base = parked_awaiter<fs_job_awaiter>;
  friend base;

 public:
  explicit fs_job_awaiter(fs_job* job) noexcept : job_(job) {}
  fs_job_awaiter(const fs_job_awaiter&) = delete;
  auto operator=(const fs_job_awaiter&) -> fs_job_awaiter& = delete;
  ~fs_job_awaiter();

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  /// Raises cancelled_error if the call was withdrawn (or a pending cancel kept it from being
  /// posted), or what the call threw.
  void await_resume();

  /// The port delivered the finished job (loop thread).
  void on_delivered() noexcept;

 private:
  enum state_t : std::uint8_t { idle, in_flight, withdrawing, finished, withdrawn };
  void link(task_core& t);
  auto abort_wait() noexcept -> bool;

  fs_job* job_;
  state_t state_ = idle;
};

/// Runs fn() on the running loop's default executor with the cancellation rule of the file
/// comment, and returns its result.
template <class F>
auto fs_on_thread(F fn) -> task<std::invoke_result_t<F&>> {
  using R = std::invoke_result_t<F&>;
  auto* job = new fs_call<R, F>(std::move(fn));
  fs_job_awaiter waiter(job);  // owns the job from here
  co_await waiter;
  co_return std::move(*static_cast<fs_call<R, F>*>(job)->value);
}

/// The system call of a file opcode, made here and now (blocking): the result, or -errno. A
/// read_at/write_at with a negative offset uses read/write (a pipe or terminal has no offsets).
[[nodiscard]] auto fs_run_blocking(io::operation& op) noexcept -> std::int64_t;

/// Throws the os_error subclass for errno `err` with the message "<what> '<path>': <reason>".
[[noreturn]] void throw_fs_error(int err, std::string_view what, std::string_view path);

/// Runs the file operation `op` without blocking the loop (the ring, or a thread) and returns its
/// result (>= 0). `path` names the file in the error message.
/// Throws: the os_error of throw_fs_error; cancelled_error.
auto fs_perform(io::operation op, const char* what, std::string_view path) -> task<std::int64_t>;

/// True if the fs layer runs file operations on the ring now (async_files(), or the test route).
[[nodiscard]] auto fs_use_ring() -> bool;

/// The io::operation of a file opcode, its other fields zero.
[[nodiscard]] inline auto fs_op(io::opcode code, int fd = AT_FDCWD) noexcept -> io::operation {
  io::operation op;
  op.code = code;
  op.fd = fd;
  return op;
}

/// Reports what a destructor could not raise: to the running loop's exception handler, or stderr.
void fs_report(const std::string& message) noexcept;

/// statx's answer as an fs::stat_result.
[[nodiscard]] auto fs_stat_result(const struct statx& s) noexcept -> fs::stat_result;

}  // namespace asyncio::detail
