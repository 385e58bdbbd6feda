#pragma once
// Executors: where blocking or CPU-heavy calls run so that the loop does not stall (Python's
// concurrent.futures.ThreadPoolExecutor). Coroutines reach them through to_thread() and
// run_in_executor() (<asyncio/threads/to_thread.hpp>); this header is the executor itself.
//
// Performance design (the W4 goal, docs/benchmarks.md §3: <= 0.5 us per offloaded job in batches of 1000):
//  * jobs are intrusive (the job is the only allocation) and sit in a bounded lock-free MPMC ring
//    (Vyukov), so submitting and taking a job cost one CAS each, with no mutex convoy; an unbounded
//    mutex-protected overflow list takes over only when the ring is full;
//  * idle workers sleep on a futex; a submitter wakes at most one sleeper at a time (the "waking"
//    token), and a woken worker that finds more work wakes the next one: a burst of 1000 jobs costs
//    the loop one wake-up syscall, not 1000;
//  * completions go back to the loop through its loop_port, which wakes the loop only if it sleeps.
//
// Shutdown never hangs on a stuck call (docs/lessons.md §3.3, python/cpython#111358, tokio-rs/tokio#5338):
// shutdown(wait, timeout) waits at most `timeout`, then abandons the workers still inside a call
// (their threads are detached and finish in the background) and reports how many it abandoned.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <asyncio/core/clock.hpp>

namespace asyncio {
namespace detail {

/// A unit of work queued on an executor. Intrusive: the submitter owns the memory and the job
/// completes (and frees) itself from execute().
struct pool_job {
  pool_job* next = nullptr;  // used by the overflow list only
  /// Runs the job on a worker thread (run == true), or drops it unrun because the executor shut
  /// down before a worker reached it (run == false, on the thread calling shutdown()).
  void (*execute)(pool_job* self, bool run) noexcept = nullptr;
};

struct pool_core;

}  // namespace detail

/// What shutdown() left behind.
struct shutdown_report {
  /// Worker threads still inside a call when the timeout expired; detached, they finish it in the
  /// background and then exit.
  std::size_t abandoned_threads = 0;
  /// Queued jobs that never ran (their awaiters receive invalid_state_error).
  std::size_t dropped_jobs = 0;
};

/// Counters of a thread pool (Trio-style statistics()).
struct thread_pool_statistics {
  std::size_t threads = 0;    // worker threads started and not exited
  std::size_t idle = 0;       // workers asleep waiting for jobs
  std::size_t queued = 0;     // jobs waiting for a worker (approximate while others submit)
  std::uint64_t completed = 0;  // jobs run so far; counted after the result was handed back, so
                                // an awaiter may see its result a moment before the count moves
};

/// An executor runs jobs on other threads. to_thread()/run_in_executor() accept any executor.
///
/// Thread safety: post() and shutdown() may be called from any thread.
class executor {
 public:
  executor() = default;
  executor(const executor&) = delete;
  auto operator=(const executor&) -> executor& = delete;
  virtual ~executor() = default;

  /// Low level: queues `job`; it will run on some thread of this executor.
  /// Throws: invalid_state_error if the executor was shut down (the job is then not queued).
  virtual void post(detail::pool_job& job) = 0;

  /// Stops accepting jobs; with `wait`, runs the queued jobs and waits for the workers, at most
  /// `timeout` (default: the executor's own), then abandons the workers still busy and drops the jobs
  /// that never started. Without `wait`, returns at once and the workers exit in the background
  /// after the queue is empty. Calling it again only waits again.
  virtual auto shutdown(bool wait = true, std::optional<duration> timeout = std::nullopt) -> shutdown_report = 0;
};

/// Options for thread_pool.
struct thread_pool_options {
  /// Number of worker threads; 0 = one per hardware thread (std::thread::hardware_concurrency()).
  std::size_t threads = 0;
  /// Thread name prefix (visible in top/gdb): "<name>-<index>", truncated to 15 characters.
  std::string name = "asyncio-pool";
  /// How long shutdown() waits when given no timeout (the destructor and the loop's close use it).
  duration shutdown_timeout = std::chrono::seconds(5);
  /// Slots in the lock-free ring (rounded up to a power of two); beyond it jobs queue in a slower
  /// locked overflow list, so the pool never refuses work.
  std::size_t queue_capacity = 8192;
};

/// A fixed set of worker threads with its own queue (Python's ThreadPoolExecutor).
///
/// Threads start in the constructor. Jobs run in submission order as far as several workers allow.
/// Thread safety: every member may be called from any thread.
class thread_pool final : public executor {
 public:
  explicit thread_pool(thread_pool_options options = {});
  /// shutdown(true) with the configured timeout (never hangs on a stuck call).
  ~thread_pool() override;

  void post(detail::pool_job& job) override;
  auto shutdown(bool wait = true, std::optional<duration> timeout = std::nullopt) -> shutdown_report override;

  /// The number of worker threads.
  [[nodiscard]] auto size() const noexcept -> std::size_t;
  [[nodiscard]] auto statistics() const noexcept -> thread_pool_statistics;
  /// Worker threads of every pool in the process that have not exited yet, abandoned ones included
  /// (tests use it to wait until an abandoned worker has finished).
  [[nodiscard]] static auto threads_alive() noexcept -> std::size_t;

 private:
  std::shared_ptr<detail::pool_core> core_;
};

}  // namespace asyncio
