// thread_pool: a bounded lock-free MPMC ring (D. Vyukov's design) plus a locked overflow list,
// futex-parked workers woken one at a time, and a shutdown that abandons stuck workers after a
// timeout. The protocol is described in thread_pool.hpp; the memory-order arguments are inline.
#include <asyncio/errors.hpp>
#include <asyncio/threads/thread_pool.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ASYNCIO_CPU_RELAX() _mm_pause()
#else
#define ASYNCIO_CPU_RELAX() ((void)0)
#endif

namespace asyncio {
namespace {
std::atomic<std::size_t> g_threads_alive{0};

// Empty polls of the queue before a worker parks. Short: on a 2-core machine a spinning worker takes
// the CPU away from the loop that would submit the next batch.
constexpr int spin_polls = 64;

auto round_up_pow2(std::size_t n) -> std::size_t {
  std::size_t p = 64;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

namespace detail {

struct pool_worker {
  // The futex word a parked worker sleeps on: 0 = parked, 1 = woken.
  alignas(64) std::atomic<std::uint32_t> wake{0};
  std::atomic<std::uint64_t> completed{0};  // written by this worker only
  std::thread thread;
  std::size_t index = 0;
  bool exited = false;     // guarded by pool_core::state_mutex
  bool abandoned = false;  // guarded by pool_core::state_mutex
};

struct pool_core {
  struct cell {
    std::atomic<std::size_t> seq;
    pool_job* job;
  };

  explicit pool_core(thread_pool_options o) : options(std::move(o)) {
    std::size_t capacity = round_up_pow2(options.queue_capacity);
    cells = std::make_unique<cell[]>(capacity);
    mask = capacity - 1;
    for (std::size_t i = 0; i < capacity; ++i) cells[i].seq.store(i, std::memory_order_relaxed);
  }

  // ---- the ring (Vyukov's bounded MPMC queue) ---------------------------------------------
  // Cell i holds seq == pos when free for the producer of position pos, seq == pos + 1 once that
  // producer published, and seq == pos + capacity once the consumer took it.

  auto try_enqueue(pool_job* job) noexcept -> bool {
    std::size_t pos = tail.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells[pos & mask];
      std::size_t seq = c.seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (dif == 0) {
        if (tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.job = job;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;  // full
      } else {
        pos = tail.load(std::memory_order_relaxed);
      }
    }
  }

  auto try_dequeue() noexcept -> pool_job* {
    std::size_t pos = head.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells[pos & mask];
      std::size_t seq = c.seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (dif == 0) {
        if (head.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          pool_job* job = c.job;
          c.seq.store(pos + mask + 1, std::memory_order_release);
          return job;
        }
      } else if (dif < 0) {
        return nullptr;  // empty (or the producer of this slot has not published yet)
      } else {
        pos = head.load(std::memory_order_relaxed);
      }
    }
  }

  [[nodiscard]] auto maybe_nonempty() const noexcept -> bool {
    return tail.load(std::memory_order_relaxed) != head.load(std::memory_order_relaxed) ||
           overflow_count.load(std::memory_order_relaxed) > 0;
  }

  // ---- overflow: only when the ring is full ----------------------------------------------

  void push_overflow(pool_job* job) {
    std::lock_guard lock(overflow_mutex);
    job->next = nullptr;
    if (overflow_tail) overflow_tail->next = job;
    else overflow_head = job;
    overflow_tail = job;
    overflow_count.fetch_add(1, std::memory_order_relaxed);
  }

  /// Takes the oldest overflow job and refills the ring with the following ones (they are older
  /// than anything submitted while the overflow was non-empty, since submitters then append here).
  auto take_overflow() -> pool_job* {
    std::lock_guard lock(overflow_mutex);
    pool_job* job = overflow_head;
    if (!job) return nullptr;
    overflow_head = job->next;
    std::size_t moved = 1;
    while (overflow_head && moved < (mask + 1) / 2 && try_enqueue(overflow_head)) {
      overflow_head = overflow_head->next;
      ++moved;
    }
    if (!overflow_head) overflow_tail = nullptr;
    overflow_count.fetch_sub(moved, std::memory_order_relaxed);
    job->next = nullptr;
    return job;
  }

  auto take() -> pool_job* {
    if (pool_job* job = try_dequeue()) return job;
    if (overflow_count.load(std::memory_order_acquire) > 0) return take_overflow();
    return nullptr;
  }

  // ---- sleeping and waking -------------------------------------------------------------------

  /// Wakes one parked worker unless a wake-up is already under way (the waking token): a burst of
  /// submissions costs one futex wake; the woken worker passes the baton on if work remains.
  void maybe_wake() noexcept {
    if (sleepers.load(std::memory_order_relaxed) == 0) return;
    if (waking.exchange(true, std::memory_order_acq_rel)) return;
    pool_worker* w = nullptr;
    {
      std::lock_guard lock(idle_mutex);
      if (!idle.empty()) {
        w = idle.back();
        idle.pop_back();
        sleepers.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (!w) {
      waking.store(false, std::memory_order_release);
      return;
    }
    w->wake.store(1, std::memory_order_release);
    w->wake.notify_one();
  }

  void wake_all() noexcept {
    std::vector<pool_worker*> woken;
    {
      std::lock_guard lock(idle_mutex);
      woken.swap(idle);
      sleepers.store(0, std::memory_order_relaxed);
    }
    for (pool_worker* w : woken) {
      w->wake.store(1, std::memory_order_release);
      w->wake.notify_one();
    }
  }

  /// Parks `w` until a submitter or shutdown wakes it. Returns at once if work or a stop request
  /// arrived while it was registering (the Dekker pair with post(): see the fences).
  void park(pool_worker& w) {
    {
      std::lock_guard lock(idle_mutex);
      w.wake.store(0, std::memory_order_relaxed);
      idle.push_back(&w);
    }
    sleepers.fetch_add(1, std::memory_order_relaxed);
    // Pairs with the fence in post(): either post() sees sleepers > 0, or we see its job here.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (maybe_nonempty() || stopping.load(std::memory_order_relaxed)) {
      std::lock_guard lock(idle_mutex);
      auto it = std::find(idle.begin(), idle.end(), &w);
      if (it != idle.end()) {
        idle.erase(it);
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      // Someone already took us off the idle list and is about to set w.wake: wait for it.
    }
    while (w.wake.load(std::memory_order_acquire) == 0) w.wake.wait(0, std::memory_order_acquire);
  }

  void run_worker(pool_worker& w) {
    {
      std::string name = options.name + "-" + std::to_string(w.index);
      if (name.size() > 15) name.resize(15);
      pthread_setname_np(pthread_self(), name.c_str());
    }
    bool searching = false;  // woken by maybe_wake(): we hold (held) the waking token
    int empty_polls = 0;
    for (;;) {
      pool_job* job = take();
      if (job) {
        empty_polls = 0;
        if (searching) {
          searching = false;
          // Pass the baton: more queued work and parked workers -> wake the next one.
          if (maybe_nonempty()) maybe_wake();
        }
        job->execute(job, true);
        w.completed.store(w.completed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        continue;
      }
      if (maybe_nonempty()) {  // a producer is between its claim and its publish
        ASYNCIO_CPU_RELAX();
        continue;
      }
      if (++empty_polls < spin_polls) {
        ASYNCIO_CPU_RELAX();
        continue;
      }
      empty_polls = 0;
      if (stopping.load(std::memory_order_acquire)) break;
      park(w);
      // Release the token (whether or not we held it; shutdown's wake_all does not hand one out),
      // then look at the queue again: a submitter that saw the token taken relies on that look.
      waking.store(false, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      searching = true;
    }
    std::lock_guard lock(state_mutex);
    w.exited = true;
    --live;
    exited_cv.notify_all();
  }

  thread_pool_options options;
  std::unique_ptr<cell[]> cells;
  std::size_t mask = 0;
  alignas(64) std::atomic<std::size_t> tail{0};
  alignas(64) std::atomic<std::size_t> head{0};

  alignas(64) std::mutex overflow_mutex;
  pool_job* overflow_head = nullptr;
  pool_job* overflow_tail = nullptr;
  std::atomic<std::size_t> overflow_count{0};

  alignas(64) std::atomic<int> sleepers{0};
  std::atomic<bool> waking{false};
  std::mutex idle_mutex;
  std::vector<pool_worker*> idle;

  alignas(64) std::atomic<bool> accepting{true};
  std::atomic<bool> stopping{false};

  std::mutex shutdown_mutex;  // serialises shutdown() calls
  std::mutex state_mutex;
  std::condition_variable exited_cv;
  std::size_t live = 0;
  std::vector<std::unique_ptr<pool_worker>> workers;
};

}  // namespace detail

thread_pool::thread_pool(thread_pool_options options) {
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  core_ = std::make_shared<detail::pool_core>(std::move(options));
  detail::pool_core& core = *core_;
  core.workers.reserve(core.options.threads);
  for (std::size_t i = 0; i < core.options.threads; ++i) {
    auto w = std::make_unique<detail::pool_worker>();
    w->index = i;
    core.workers.push_back(std::move(w));
  }
  for (auto& w : core.workers) {
    {
      std::lock_guard lock(core.state_mutex);
      ++core.live;
    }
    g_threads_alive.fetch_add(1, std::memory_order_relaxed);
    detail::pool_worker* wp = w.get();
    try {
      // The worker holds the core: an abandoned worker keeps it alive after the pool is gone.
      w->thread = std::thread([core_ref = core_, wp] {
        core_ref->run_worker(*wp);
        g_threads_alive.fetch_sub(1, std::memory_order_relaxed);
      });
    } catch (...) {
      g_threads_alive.fetch_sub(1, std::memory_order_relaxed);
      {
        std::lock_guard lock(core.state_mutex);
        --core.live;
        wp->exited = true;
      }
      shutdown(true);
      throw;
    }
  }
}

thread_pool::~thread_pool() { (void)shutdown(true); }

void thread_pool::post(detail::pool_job& job) {
  detail::pool_core& core = *core_;
  if (!core.accepting.load(std::memory_order_acquire)) [[unlikely]]
    throw invalid_state_error("cannot run new jobs on an executor that was shut down");
  // While the overflow list is non-empty, append there so that jobs keep their order.
  if (core.overflow_count.load(std::memory_order_relaxed) > 0 || !core.try_enqueue(&job)) [[unlikely]]
    core.push_overflow(&job);
  // Pairs with the fence in park(): a worker registering as a sleeper either sees this job or is
  // seen here.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  core.maybe_wake();
}

auto thread_pool::shutdown(bool wait, std::optional<duration> timeout) -> shutdown_report {
  detail::pool_core& core = *core_;
  std::lock_guard serial(core.shutdown_mutex);
  core.accepting.store(false, std::memory_order_seq_cst);
  core.stopping.store(true, std::memory_order_seq_cst);
  core.wake_all();
  shutdown_report report;
  if (!wait) return report;

  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(core.options.shutdown_timeout);
  std::unique_lock lock(core.state_mutex);
  auto all_gone = [&] {
    return std::all_of(core.workers.begin(), core.workers.end(),
                       [](const auto& w) { return w->exited || w->abandoned; });
  };
  core.exited_cv.wait_until(lock, deadline, all_gone);
  for (auto& w : core.workers) {
    if (w->exited) {
      if (w->thread.joinable()) {
        if (w->thread.get_id() == std::this_thread::get_id()) w->thread.detach();
        else w->thread.join();
      }
    } else if (!w->abandoned) {
      // Still inside a call after the timeout: leave it running (it exits by itself afterwards).
      w->abandoned = true;
      if (w->thread.joinable()) w->thread.detach();
      ++report.abandoned_threads;
    }
  }
  lock.unlock();
  // Jobs that no worker will reach (every worker is stuck or gone): complete them unrun.
  while (detail::pool_job* job = core.take()) {
    job->execute(job, false);
    ++report.dropped_jobs;
  }
  return report;
}

auto thread_pool::size() const noexcept -> std::size_t { return core_->workers.size(); }

auto thread_pool::statistics() const noexcept -> thread_pool_statistics {
  detail::pool_core& core = *core_;
  thread_pool_statistics s;
  {
    std::lock_guard lock(core.state_mutex);
    s.threads = core.live;
  }
  s.idle = static_cast<std::size_t>(std::max(0, core.sleepers.load(std::memory_order_relaxed)));
  std::size_t t = core.tail.load(std::memory_order_relaxed);
  std::size_t h = core.head.load(std::memory_order_relaxed);
  s.queued = (t > h ? t - h : 0) + core.overflow_count.load(std::memory_order_relaxed);
  for (auto& w : core.workers) s.completed += w->completed.load(std::memory_order_relaxed);
  return s;
}

auto thread_pool::threads_alive() noexcept -> std::size_t {
  return g_threads_alive.load(std::memory_order_acquire);
}

}  // namespace asyncio
