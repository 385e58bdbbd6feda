#pragma once
// The event loop: a FIFO ready queue, a timer heap, an io driver (io/driver.hpp: epoll) and an
// eventfd for wake-ups from other threads. One loop per thread; everything but the *_threadsafe calls is loop-affine.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asyncio/detail/loop_port.hpp>
#include <asyncio/detail/ring_buffer.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/detail/timer_heap.hpp>
#include <asyncio/detail/unique_function.hpp>
#include <asyncio/io/busy_poll.hpp>
#include <asyncio/io/driver.hpp>
#include <asyncio/core/clock.hpp>

namespace asyncio {

class event_loop;
template <class T>
class task;
template <class T>
class task_handle;
template <class T>
class future;
struct task_options;
struct task_creation;

/// A task factory (Python's loop.set_task_factory): called for every task created on its loop,
/// after the task was made and named and before it starts. It may rename the task, make it eager
/// or lazy (task_creation::eager), add done callbacks or keep a handle to observe it (core/task_handle.hpp
/// defines task_creation, eager_task_factory, lazy_task_factory and create_eager_task_factory).
using task_factory = std::function<void(event_loop&, task_creation&)>;

namespace detail {

struct loop_access;

/// A scheduled callback (Python's Handle/TimerHandle). Reference counted: the loop holds one
/// reference while it is queued, each asyncio::handle one more.
struct callback_node : timer_target {
  std::uint32_t refs = 1;
  bool cancelled = false;
  event_loop* loop = nullptr;
  std::uint64_t timer_key = timer_heap::no_timer;
  std::int64_t when = 0;
  unique_function<void()> fn;

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }
};

/// The shared state of a threadsafe_handle and its callback: whether the callback started or was
/// cancelled, decided once by a compare-exchange so that cancel() and the loop cannot both win.
struct threadsafe_flag {
  static constexpr std::uint8_t pending = 0, started = 1, cancelled = 2;
  std::atomic<std::uint32_t> refs{1};
  std::atomic<std::uint8_t> state{pending};

  void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  /// Moves pending to `to`; false if the callback started or was cancelled already.
  auto claim(std::uint8_t to) noexcept -> bool {
    std::uint8_t expected = pending;
    return state.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }
};

/// The callback call_soon_threadsafe queues: runs `fn` unless its handle cancelled it first.
struct threadsafe_call {
  threadsafe_flag* flag;
  unique_function<void()> fn;
  threadsafe_call(threadsafe_flag* f, unique_function<void()> g) noexcept : flag(f), fn(std::move(g)) { flag->add_ref(); }
  threadsafe_call(threadsafe_call&& o) noexcept : flag(std::exchange(o.flag, nullptr)), fn(std::move(o.fn)) {}
  threadsafe_call(const threadsafe_call&) = delete;
  auto operator=(const threadsafe_call&) -> threadsafe_call& = delete;
  ~threadsafe_call() {
    if (flag) flag->release();
  }
  void operator()() {
    if (flag->claim(threadsafe_flag::started)) fn();
  }
};

}  // namespace detail

/// A callback scheduled with call_soon_threadsafe (Python's asyncio.Handle as that call returns
/// it). Copyable; cancel() prevents the callback from running if it has not started yet.
///
/// Thread safety: every member may be called from any thread, concurrently with the loop running
/// the callback: cancel() and the start of the callback are decided by one atomic operation, so
/// exactly one of them wins.
class threadsafe_handle {
 public:
  threadsafe_handle() noexcept = default;
  /// For the library: adopts one reference to `flag`.
  explicit threadsafe_handle(detail::threadsafe_flag* flag) noexcept : flag_(flag) {}
  threadsafe_handle(const threadsafe_handle& o) noexcept : flag_(o.flag_) {
    if (flag_) flag_->add_ref();
  }
  threadsafe_handle(threadsafe_handle&& o) noexcept : flag_(std::exchange(o.flag_, nullptr)) {}
  auto operator=(threadsafe_handle o) noexcept -> threadsafe_handle& {
    std::swap(flag_, o.flag_);
    return *this;
  }
  ~threadsafe_handle() {
    if (flag_) flag_->release();
  }
  /// Prevents the callback from running if it has not started. Returns true if this call
  /// prevented it; false if it started (or ran) already or was cancelled before (Python's
  /// Handle.cancel() returns None). The callable itself is destroyed on the loop's thread, when the
  /// loop takes the cancelled callback off its queue (or closes).
  auto cancel() noexcept -> bool { return flag_ && flag_->claim(detail::threadsafe_flag::cancelled); }
  /// True once cancel() prevented the callback.
  [[nodiscard]] auto cancelled() const noexcept -> bool {
    return flag_ && flag_->state.load(std::memory_order_acquire) == detail::threadsafe_flag::cancelled;
  }

 private:
  friend class event_loop;
  detail::threadsafe_flag* flag_ = nullptr;
};

/// A callback scheduled with call_soon (Python's asyncio.Handle). Copyable; cancel() prevents the
/// callback from running if it has not run yet.
/// Thread safety: loop-affine (cancel from the loop's thread).
class handle {
 public:
  handle() = default;
  explicit handle(detail::callback_node* node) noexcept : node_(node) {
    if (node_) node_->add_ref();
  }
  handle(const handle& o) noexcept : handle(o.node_) {}
  handle(handle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  auto operator=(handle o) noexcept -> handle& {
    std::swap(node_, o.node_);
    return *this;
  }
  ~handle() {
    if (node_) node_->release();
  }
  /// Prevents the callback from running. A no-op if it already ran.
  void cancel() noexcept;
  /// True once cancel() was called.
  [[nodiscard]] auto cancelled() const noexcept -> bool { return node_ && node_->cancelled; }

 protected:
  detail::callback_node* node_ = nullptr;
};

/// A callback scheduled with call_later/call_at (Python's asyncio.TimerHandle).
class timer_handle : public handle {
 public:
  using handle::handle;
  /// The deadline on the loop's clock.
  [[nodiscard]] auto when() const noexcept -> time_point {
    return time_point(duration(node_ ? node_->when : 0));
  }
};

/// What the exception handler receives (Python's exception handler `context` dict).
struct exception_context {
  exception_context() = default;
  explicit exception_context(std::string msg, std::exception_ptr e = {})
      : message(std::move(msg)), exception(std::move(e)) {}
  std::string message;
  std::exception_ptr exception;  // may be null
  std::string task_name;         // "" if not about a task
  std::source_location source;   // where the task was created, if has_source
  bool has_source = false;
};

using exception_handler = std::function<void(event_loop&, const exception_context&)>;

/// Options for constructing a loop (and for asyncio::run).
struct loop_options {
  /// Clock to read time from; null = asyncio::clock. Must outlive the loop.
  clock_source* clock = nullptr;
  /// Debug mode; unset = from the environment variable ASYNCIO_DEBUG (1 = on).
  std::optional<bool> debug{};  // {}: g++ warns on designated initializers otherwise
  /// asyncio::run only: turn the first SIGINT into cancellation of the main task and a second one
  /// into immediate exit (Python 3.11's Runner). It applies only on the main thread and when SIGINT
  /// still has its default action and is not blocked; false opts out (see <asyncio/signal.hpp>).
  bool handle_sigint = true;
  /// Busy polling: after an iteration that found I/O, the loop polls again without blocking for
  /// up to this long before it sleeps in epoll_wait (as Linux's SO_BUSY_POLL and Go's netpoller
  /// spin). A loop that sleeps must be woken by whoever hands it work: on loopback that is the
  /// peer's send(), which pays for the wake-up (an IPI, and on a VM an exit to the hypervisor);
  /// a loop that finds the next event while polling spares it that, and its own sleep and wake.
  /// Adaptive (as the kernel's haltpoll governor): the spin shrinks when the I/O came later than
  /// the limit and grows back when a spin found I/O or a sleep ended within the limit, so sparse
  /// traffic stops spinning and steady traffic keeps it (statistics().busy_poll_limit). It
  /// never runs while tasks are ready, never past the next timer's deadline, never on a loop that
  /// has seen no I/O lately (an idle loop sleeps at once), and never with a `clock` installed (so
  /// virtual-time tests do not depend on real time). 0 turns it off.
  std::chrono::microseconds busy_poll = std::chrono::microseconds(50);
  /// The io backend that waits for the kernel (io/driver.hpp): automatic takes ASYNCIO_BACKEND,
  /// else epoll; io::backend::io_uring requires io_uring (the constructor throws os_error with the
  /// reason if the kernel refuses it); prefer_io_uring falls back to epoll silently. Which one
  /// runs: statistics().io_backend. docs/io_uring.md compares them.
  io::backend io_backend = io::backend::automatic;
};

/// Counters kept by the loop (Trio-style statistics()).
struct loop_statistics {
  std::size_t ready = 0;          // items on the ready queue
  std::size_t timers = 0;         // live timers
  std::size_t tasks = 0;          // unfinished tasks
  std::size_t watched_fds = 0;    // registrations that can produce an event (io::driver::watched)
  std::uint64_t iterations = 0;   // loop iterations run
  std::uint64_t busy_polls = 0;   // non-blocking polls made while busy polling (loop_options::busy_poll)
  duration busy_poll_limit{};     // the current, adaptive spin limit (0 .. loop_options::busy_poll)
  const char* io_backend = "";    // the io driver running this loop ("epoll" or "io_uring"; io/driver.hpp)
};

/// The event loop (Python's asyncio event loop).
///
/// Thread safety: loop-affine. From another thread use only call_soon_threadsafe() and stop() via
/// call_soon_threadsafe. In debug mode, use from the wrong thread is reported.
class event_loop {
 public:
  explicit event_loop(loop_options options = {});
  ~event_loop();
  event_loop(const event_loop&) = delete;
  auto operator=(const event_loop&) -> event_loop& = delete;

  // ---- scheduling callbacks --------------------------------------------------------------

  /// Schedules fn(args...) to run on the next iteration, after those already scheduled.
  template <class F, class... A>
  auto call_soon(F&& fn, A&&... args) -> handle {
    return handle(enqueue(make_node(std::forward<F>(fn), std::forward<A>(args)...)));
  }
  /// Schedules fn(args...) to run `delay` from now. Returns a handle that can cancel it.
  template <class F, class... A>
  auto call_later(duration delay, F&& fn, A&&... args) -> timer_handle {
    return call_at(time() + delay, std::forward<F>(fn), std::forward<A>(args)...);
  }
  /// Schedules fn(args...) to run at `when` on the loop's clock.
  template <class F, class... A>
  auto call_at(time_point when, F&& fn, A&&... args) -> timer_handle {
    return timer_handle(add_timer_node(when, make_node(std::forward<F>(fn), std::forward<A>(args)...)));
  }
  /// Thread-safe: schedules fn(args...) on this loop from any thread and wakes it. Returns a
  /// handle whose cancel(), from any thread, prevents the call if it has not started yet.
  /// Throws invalid_state_error if the loop is closed; std::bad_alloc.
  ///
  /// Thread safety: any thread. A callback that captures loop-affine objects (futures, task
  /// handles) must be made where copying them is safe; it is destroyed on the loop's thread.
  template <class F, class... A>
  auto call_soon_threadsafe(F&& fn, A&&... args) -> threadsafe_handle {
    threadsafe_handle h(new detail::threadsafe_flag);
    detail::callback_node* node = make_node(std::forward<F>(fn), std::forward<A>(args)...);
    node->fn = detail::threadsafe_call(h.flag_, std::move(node->fn));  // one more reference
    enqueue_threadsafe(node);
    return h;
  }

  /// A new pending future for code running on this loop (Python's loop.create_future()).
  /// Defined in <asyncio/core/future.hpp>.
  /// Throws: std::bad_alloc.
  template <class T = void>
  auto create_future() -> future<T>;
  /// Makes `coro` a task on this loop (Python's loop.create_task): as asyncio::create_task, but
  /// on this loop rather than the running one, and, as CPython, a task created while the loop is
  /// not running is scheduled (it starts once the loop runs) even if `options.eager` asks for an
  /// eager start. The task factory (set_task_factory) applies. Defined in
  /// <asyncio/core/task_handle.hpp>.
  /// Thread safety: loop-affine (from another thread use run_coroutine_threadsafe).
  /// Throws: std::bad_alloc, what the coroutine throws in its eager start.
  template <class T>
  auto create_task(task<T> coro, std::source_location where = std::source_location::current()) -> task_handle<T>;
  template <class T>
  auto create_task(task<T> coro, const task_options& options,
                   std::source_location where = std::source_location::current()) -> task_handle<T>;

  /// Installs `factory` (Python's loop.set_task_factory): from now on it is called for every task
  /// created on this loop (asyncio::create_task, loop.create_task, task groups, gather's and
  /// shield's child tasks, eager_task), after the task was named and before it starts; an empty
  /// factory restores the default. It sees the task and may change whether it starts eagerly
  /// (task_creation in core/task_handle.hpp; eager_task_factory and lazy_task_factory are
  /// Python's constants). Limits (C++ is typed where Python is not): the factory cannot replace
  /// the task or wrap its coroutine, because task<T> differs for every T; it receives the task
  /// type-erased (any_task). An exception it throws goes to the exception handler and the task
  /// starts as it would have.
  /// Thread safety: loop-affine.
  void set_task_factory(task_factory factory) {
    const bool had = static_cast<bool>(task_factory_);
    task_factory_ = std::move(factory);
    if (task_factory_ && !had) eager_depth_ += factory_bias;
    else if (!task_factory_ && had) eager_depth_ -= factory_bias;
  }
  /// The installed task factory; empty if none (Python's get_task_factory() returns None).
  [[nodiscard]] auto get_task_factory() const noexcept -> const task_factory& { return task_factory_; }

  /// The current time on the loop's clock (Python's loop.time()).
  [[nodiscard]] auto time() const noexcept -> time_point {
    return clock_ ? clock_->now() : clock::now();
  }

  // ---- running ---------------------------------------------------------------------------

  /// Runs until stop() is called.
  /// Throws invalid_state_error if the loop is closed or running, or another loop runs on this
  /// thread (Python's RuntimeError).
  void run_forever();
  /// Runs until `t` (made a task) completes; returns its result or rethrows its exception.
  /// Defined in <asyncio/core/run.hpp>.
  /// Throws: as run_forever() (before `t` runs or is registered), and invalid_state_error if the
  /// loop was stopped before the task finished.
  template <class T>
  auto run_until_complete(task<T> t) -> T;
  /// Makes run_forever()/run_until_complete() return after the current iteration.
  void stop() noexcept { stopping_ = true; }
  /// Closes the loop: unfinished tasks are cancelled and run until they finish (their cleanup and
  /// destructors run while the loop exists; one that still does not finish is reported and
  /// leaked), close hooks run (the default executor is shut down), then pending callbacks are
  /// dropped.
  /// Throws invalid_state_error if the loop is running (Python raises RuntimeError).
  void close();
  [[nodiscard]] auto is_running() const noexcept -> bool { return running_; }
  [[nodiscard]] auto is_closed() const noexcept -> bool { return closed_; }

  // ---- debugging and errors --------------------------------------------------------------

  void set_debug(bool on) noexcept { debug_ = on; }
  [[nodiscard]] auto get_debug() const noexcept -> bool { return debug_; }
  /// A step longer than this is reported in debug mode (default 100 ms).
  void set_slow_callback_duration(duration d) noexcept { slow_callback_duration_ = d; }
  [[nodiscard]] auto slow_callback_duration() const noexcept -> duration { return slow_callback_duration_; }
  /// Replaces the exception handler; an empty function restores the default one.
  void set_exception_handler(exception_handler h) { handler_ = std::move(h); }
  [[nodiscard]] auto get_exception_handler() const -> const exception_handler& { return handler_; }
  /// Calls the exception handler (or the default one) with `context`.
  void call_exception_handler(const exception_context& context) noexcept;
  /// Prints `context` to stderr (Python's default_exception_handler).
  void default_exception_handler(const exception_context& context) noexcept;

  [[nodiscard]] auto statistics() const noexcept -> loop_statistics;

  // ---- file descriptors (Python's add_reader/add_writer) ----------------------------------

  /// Calls fn() on this loop whenever fd is readable, until remove_reader(fd).
  void add_reader(int fd, detail::unique_function<void()> fn);
  /// Stops watching fd for reading; false if it was not watched.
  auto remove_reader(int fd) -> bool;
  /// Calls fn() on this loop whenever fd is writable, until remove_writer(fd).
  void add_writer(int fd, detail::unique_function<void()> fn);
  /// Stops watching fd for writing; false if it was not watched.
  auto remove_writer(int fd) -> bool;

  // ---- Unix signals (src/core/loop_signals.cpp; the guide is <asyncio/signal.hpp>) ---------

  /// Calls fn(args...) on this loop (via call_soon) whenever signal `sig` arrives, replacing any
  /// handler this loop had for `sig` (Python's loop.add_signal_handler). Signals of one number that
  /// arrive before the loop gets to them are coalesced into one call, as the kernel does anyway.
  /// Thread safety: loop-affine. Each signal number belongs to at most one loop at a time.
  /// Throws: std::invalid_argument for an invalid number (Python's ValueError);
  /// invalid_state_error for SIGKILL or SIGSTOP, or if another loop handles `sig` (Python's
  /// RuntimeError); os_error if sigaction fails.
  template <class F, class... A>
  void add_signal_handler(int sig, F&& fn, A&&... args) {
    if constexpr (sizeof...(A) == 0) {
      set_signal_handler(sig, detail::unique_function<void()>(std::forward<F>(fn)));
    } else {
      set_signal_handler(sig, detail::unique_function<void()>(
                                  [f = std::forward<F>(fn), ... a = std::forward<A>(args)]() mutable {
                                    std::invoke(f, a...);
                                  }));
    }
  }
  /// Stops handling `sig` and restores the action it had before add_signal_handler. Returns false
  /// if this loop had no handler for it (Python's loop.remove_signal_handler).
  auto remove_signal_handler(int sig) -> bool;

 private:
  friend struct detail::loop_access;

  // ---- the library's own hooks, reached through detail::loop_access (below) ------------------

  void schedule(detail::task_core& t) {
    // Every wake-up (event.set, lock release, queue put, future.set_result...) passes here, so this
    // one check reports them all when done from another thread; one predictable branch when off.
    check_thread("that wakes a task (event.set, future.set_result, queue.put...)");
    ready_.push_back(reinterpret_cast<std::uintptr_t>(&t));
  }
  auto add_timer(time_point when, detail::timer_target* target) -> std::uint64_t {
    return timers_.add(when.time_since_epoch().count(), target);
  }
  void cancel_timer(std::uint64_t key) noexcept { timers_.cancel(key); }
  void start_task(detail::task_core& t, bool eager);
  void register_task(detail::task_core& t) noexcept;
  void unregister_task(detail::task_core& t) noexcept;
  auto enter_task(detail::task_core& t) noexcept -> std::coroutine_handle<> {
    current_ = &t;
    return t.resume_point();
  }
  auto cancel_all_tasks(std::size_t max_iterations = 100000) -> std::size_t;
  void check_thread(const char* what) const noexcept {
    if (debug_) [[unlikely]] check_thread_slow(what);
  }
  void check_can_run() const;

  template <class F, class... A>
  static auto make_node(F&& fn, A&&... args) -> detail::callback_node* {
    auto* node = new detail::callback_node;
    if constexpr (sizeof...(A) == 0) {
      node->fn = std::forward<F>(fn);
    } else {
      node->fn = [f = std::forward<F>(fn), ... a = std::forward<A>(args)]() mutable { std::invoke(f, a...); };
    }
    return node;
  }
  auto enqueue(detail::callback_node* node) -> detail::callback_node*;
  auto add_timer_node(time_point when, detail::callback_node* node) -> detail::callback_node*;
  void enqueue_threadsafe(detail::callback_node* node);
  void check_thread_slow(const char* what) const noexcept;
  [[gnu::noinline]] auto apply_task_factory(detail::task_core& t, bool eager) noexcept -> bool;
  [[gnu::noinline]] auto start_scheduled(detail::task_core& t, bool eager) -> bool;
  void set_signal_handler(int sig, detail::unique_function<void()> fn);

  void run_once();
  auto poll_io(int timeout_ms) -> int;
  void sleep_io(int timeout_ms, bool may_spin, std::int64_t deadline, bool has_timer);
  auto spin_io(std::int64_t deadline, bool has_timer) -> bool;
  void fire_due_timers();
  void drain_threadsafe();
  void run_ready_item(std::uintptr_t item);
  void run_ready_item_debug(std::uintptr_t item);
  void release_deferred() noexcept;
  [[gnu::noinline]] void defer_release(detail::task_core& t) noexcept;
  void finish_unstarted(detail::task_core& t) noexcept;
  static void fire_callback_timer(detail::timer_target* self) noexcept;

  struct callback_interest;  // add_reader/add_writer persistent callbacks
  // One eager start in progress (start_task), linked through the C++ stack.
  struct eager_start {
    detail::task_core* task;
    const eager_start* outer;
  };

  // Hot state first.
  detail::ring_buffer<std::uintptr_t> ready_;  // task_core* (bit 0 clear) or callback_node* | 1
  detail::task_core* current_ = nullptr;
  int inline_budget_ = 0;
  // Eager starts in progress (start_task), plus factory_bias while a task factory is installed:
  // start_task's one depth check then also sends every task to the factory, and its common path
  // costs what it did before factories existed (W1, docs/benchmarks.md §2.1).
  int eager_depth_ = 0;
  static constexpr int max_eager_depth = 64;  // nesting limit of eager starts
  static constexpr int factory_bias = 1 << 24;
  [[nodiscard]] auto eager_starts() const noexcept -> int { return eager_depth_ & (factory_bias - 1); }
  const eager_start* eager_chain_ = nullptr;  // innermost eager start in progress
  bool stopping_ = false;
  bool running_ = false;
  bool closed_ = false;
  bool debug_ = false;
  clock_source* clock_ = nullptr;
  detail::timer_heap timers_;
  std::vector<detail::task_core*> tasks_;
  std::uint64_t iterations_ = 0;
  std::uint64_t last_io_poll_ = 0;   // iterations_ at the last poll_io
  std::uint64_t last_io_found_ = 0;  // iterations_ at the last poll_io that found events
  std::uint64_t busy_polls_ = 0;     // statistics().busy_polls
  io::busy_poll_governor busy_poll_;

  std::unique_ptr<io::driver> io_;   // the io backend (io/driver.hpp)
  // The port's eventfd, watched by the driver: consumes a wake-up written by another thread.
  struct port_wakeup : io::interest {
    detail::loop_port* port = nullptr;
  };
  port_wakeup wake_interest_;
  std::vector<callback_interest*> callback_interests_;  // indexed by fd*2 + direction
  std::vector<detail::task_core*> deferred_release_;    // finished tasks whose last ref is the loop's
  std::vector<detail::unique_function<void()>> at_close_;

  detail::loop_port* port_ = nullptr;
  std::ptrdiff_t remote_waits_ = 0;
  void* threads_state_ = nullptr;

  std::mutex threadsafe_mutex_;
  std::vector<detail::callback_node*> threadsafe_queue_;
  std::atomic<bool> threadsafe_pending_{false};
  bool threadsafe_closed_ = false;  // guarded by threadsafe_mutex_

  duration slow_callback_duration_ = std::chrono::milliseconds(100);
  exception_handler handler_;
  std::thread::id owner_;
  task_factory task_factory_;  // set_task_factory; empty: none
};

/// The loop running on this thread. Throws invalid_state_error if there is none (Python's
/// get_running_loop raises RuntimeError).
auto get_running_loop() -> event_loop&;

namespace detail {

/// The library's own door into an event_loop: scheduling tasks, timers, the io driver, the task
/// registry, the cross-thread port. Not part of the user API (an event_loop's public members are
/// Python's loop API); awaiter authors reach what they need through asyncio::lowlevel instead.
/// Every function is loop-affine unless it says otherwise.
struct loop_access {
  /// Puts a task on the ready queue (state (b) of task_core; docs/design.md, the suspension
  /// protocol). Never resume a task inline from a waker: schedule it.
  static void schedule(event_loop& loop, task_core& t) { loop.schedule(t); }
  /// Starts a timer; target->fire runs when it is due. Returns a key for cancel_timer().
  static auto add_timer(event_loop& loop, time_point when, timer_target* target) -> std::uint64_t {
    return loop.add_timer(when, target);
  }
  static void cancel_timer(event_loop& loop, std::uint64_t key) noexcept { loop.cancel_timer(key); }
  /// The io backend (io/driver.hpp): fd readiness, level-triggered interests, operations.
  [[nodiscard]] static auto io(event_loop& loop) noexcept -> io::driver& { return *loop.io_; }

  /// The task whose frames are running now, or null in a plain callback.
  [[nodiscard]] static auto current_task(const event_loop& loop) noexcept -> task_core* { return loop.current_; }
  /// Runs `t` until its first suspension (eager start) or, if lazy, schedules it.
  static void start_task(event_loop& loop, task_core& t, bool eager) { loop.start_task(t, eager); }
  /// Takes a finished task out of the registry (if it is there) and drops the loop's reference.
  static void unregister_task(event_loop& loop, task_core& t) noexcept { loop.unregister_task(t); }
  /// Unfinished tasks in the registry, in no particular order: every unfinished task except those
  /// still in their eager start (for_each_starting_task).
  [[nodiscard]] static auto tasks(const event_loop& loop) noexcept -> const std::vector<task_core*>& {
    return loop.tasks_;
  }
  /// Calls f(task_core*) for each task running its eager start right now (innermost first). Such a
  /// task joins the registry only when that start ends without finishing it, so that a task
  /// completing synchronously inside create_task never touches the registry.
  template <class F>
  static void for_each_starting_task(const event_loop& loop, F&& f) {
    for (const event_loop::eager_start* e = loop.eager_chain_; e; e = e->outer) f(e->task);
  }
  /// Makes `t` current and returns its resume point: for symmetric transfer into another task.
  static auto enter_task(event_loop& loop, task_core& t) noexcept -> std::coroutine_handle<> {
    return loop.enter_task(t);
  }
  /// Trampoline for symmetric transfer: true while inline resumptions may continue; otherwise the
  /// caller must post instead (bounds the stack where tail calls are not guaranteed;
  /// docs/toolchain.md on tail calls).
  [[nodiscard]] static auto consume_inline_budget(event_loop& loop) noexcept -> bool {
    return --loop.inline_budget_ > 0;
  }
  /// Registers fn to run when the loop closes (e.g. the default executor's shutdown).
  static void call_at_close(event_loop& loop, unique_function<void()> fn) { loop.at_close_.push_back(std::move(fn)); }
  /// Cancels every unfinished task and runs the loop until they finish (at most `max_iterations`
  /// iterations); returns the number of tasks that did not finish. Used by run() and close().
  static auto cancel_all_tasks(event_loop& loop, std::size_t max_iterations = 100000) -> std::size_t {
    return loop.cancel_all_tasks(max_iterations);
  }
  /// Reports an error in debug mode if called from a thread other than the loop's.
  static void check_thread(const event_loop& loop, const char* what) noexcept { loop.check_thread(what); }
  /// Throws what run_forever() would throw before it runs anything (also used by run_until_complete).
  static void check_can_run(const event_loop& loop) { loop.check_can_run(); }
  /// The thread the loop last ran on (or was created on). Any thread.
  [[nodiscard]] static auto thread_id(const event_loop& loop) noexcept -> std::thread::id { return loop.owner_; }
  /// The allocation-free door for other threads' completions (thread pools, other loops); see
  /// detail/loop_port.hpp. Valid until the loop is destroyed; posters hold their own reference.
  [[nodiscard]] static auto port(event_loop& loop) noexcept -> loop_port& { return *loop.port_; }
  /// Counts completions expected through port() that a task waits for: while non-zero, shutdown
  /// (cancel_all_tasks) keeps running the loop instead of declaring the remaining tasks stuck.
  static void add_remote_waits(event_loop& loop, std::ptrdiff_t delta) noexcept { loop.remote_waits_ += delta; }
  /// Per-loop state of the threads layer (its default executor), opaque to the core; the threads
  /// layer creates it on first use and frees it from a call_at_close hook.
  [[nodiscard]] static auto threads_state(event_loop& loop) noexcept -> void*& { return loop.threads_state_; }
};

/// The loop running on this thread, or null. Not inline: see docs/toolchain.md §5.3 (clang TLS caching).
[[gnu::noinline]] auto running_loop() noexcept -> event_loop*;
[[gnu::noinline]] void set_running_loop(event_loop* loop) noexcept;
}  // namespace detail

}  // namespace asyncio
