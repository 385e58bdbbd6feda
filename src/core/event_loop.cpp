// The event loop: one iteration = take cross-thread callbacks, poll I/O (only when something is
// watched or the loop must sleep), fire due timers, then run ready items in FIFO order.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/run.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/errors.hpp>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace asyncio {
namespace {

// Symmetric transfers allowed between two visits to the ready queue (see task.hpp).
constexpr int inline_budget = 512;
// A batch runs the items that were ready when it started, and keeps going with items that become
// ready meanwhile until this many ran; timers and I/O are checked between batches (fairness: docs/design.md, "The loop").
constexpr std::size_t min_batch = 64;
// With tasks ready, I/O is polled (without blocking) once per this many iterations.
constexpr std::uint64_t io_poll_interval = 2;

thread_local event_loop* tls_running_loop = nullptr;

// The io driver's poll timeout for a deadline (ns on the loop's clock). Rounded up to whole ms:
// truncation turns 100 us into a busy spin (docs/toolchain.md §6.4). Capped at a day
// before rounding, so that a deadline of time_point::max() cannot overflow.
auto ms_until(std::int64_t deadline, std::int64_t now) -> int {
  std::int64_t wait_ns = deadline - now;
  return wait_ns <= 0 ? 0 : static_cast<int>((std::min<std::int64_t>(wait_ns, 86'400'000'000'000) + 999'999) / 1'000'000);
}

auto env_debug() -> bool {
  const char* v = std::getenv("ASYNCIO_DEBUG");
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

namespace detail {
auto running_loop() noexcept -> event_loop* { return tls_running_loop; }
void set_running_loop(event_loop* loop) noexcept { tls_running_loop = loop; }
}  // namespace detail

auto get_running_loop() -> event_loop& {
  event_loop* loop = detail::running_loop();
  if (!loop) throw invalid_state_error("no running event loop");
  return *loop;
}

// ---- construction ------------------------------------------------------------------------------

event_loop::event_loop(loop_options options)
    : clock_(options.clock),
      busy_poll_(std::chrono::duration_cast<duration>(options.busy_poll).count()),
      owner_(std::this_thread::get_id()) {
  debug_ = options.debug.value_or(env_debug());
  io_ = io::make_driver(options.io_backend);
  // The eventfd belongs to the port: a worker may still post (and wake) after the loop is gone.
  port_ = detail::loop_port::create();
  wake_interest_.port = port_;
  wake_interest_.ready = [](io::interest* self) noexcept { static_cast<port_wakeup*>(self)->port->consume_wake(); };
  try {
    io_->set_wakeup(port_->fd(), &wake_interest_);
  } catch (...) {
    port_->release();
    throw;
  }
}

event_loop::~event_loop() {
  // close() reports what it cannot finish through the exception handler (detail::finish_run); a
  // loop destroyed while running is a programming error that close() reports the same way.
  if (!closed_) detail::finish_run(*this);
  port_->close();    // late posts are discarded by their posters
  port_->release();  // the port lives on while a poster still holds it
}

// ---- scheduling ----------------------------------------------------------------------------------

void handle::cancel() noexcept {
  if (!node_ || node_->cancelled) return;
  node_->cancelled = true;
  node_->fn.reset();  // drop captured state now, as CPython does
  if (node_->timer_key != detail::timer_heap::no_timer) {
    detail::loop_access::cancel_timer(*node_->loop, node_->timer_key);
    node_->timer_key = detail::timer_heap::no_timer;
    node_->release();  // the timer's reference
  }
}

auto event_loop::enqueue(detail::callback_node* node) -> detail::callback_node* {
  check_thread("call_soon");
  if (closed_) {
    delete node;
    throw invalid_state_error("event loop is closed");
  }
  node->loop = this;
  ready_.push_back(reinterpret_cast<std::uintptr_t>(node) | 1);
  return node;
}

auto event_loop::add_timer_node(time_point when, detail::callback_node* node) -> detail::callback_node* {
  check_thread("call_at");
  if (closed_) {
    delete node;
    throw invalid_state_error("event loop is closed");
  }
  node->loop = this;
  node->when = when.time_since_epoch().count();
  node->fire = &fire_callback_timer;
  node->timer_key = timers_.add(node->when, node);
  return node;
}

void event_loop::fire_callback_timer(detail::timer_target* self) noexcept {
  auto* node = static_cast<detail::callback_node*>(self);
  node->timer_key = detail::timer_heap::no_timer;
  node->loop->ready_.push_back(reinterpret_cast<std::uintptr_t>(node) | 1);  // the ref moves along
}

// ---- running -------------------------------------------------------------------------------------

void event_loop::check_can_run() const {
  if (closed_) throw invalid_state_error("event loop is closed");
  if (running_) throw invalid_state_error("this event loop is already running");
  if (detail::running_loop()) throw invalid_state_error("cannot run the event loop while another loop is running");
}

void event_loop::run_forever() {
  check_can_run();
  owner_ = std::this_thread::get_id();
  detail::set_running_loop(this);
  running_ = true;
  struct restore {
    event_loop* self;
    ~restore() {
      self->running_ = false;
      self->stopping_ = false;
      detail::set_running_loop(nullptr);
    }
  } guard{this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

void event_loop::run_once() {
  ++iterations_;
  drain_threadsafe();

  int timeout_ms = -1;
  std::int64_t deadline = 0;
  bool has_timer = timers_.next_deadline(deadline);
  if (!ready_.empty() || stopping_) {
    timeout_ms = 0;
  } else if (has_timer) {
    if (clock_ && clock_->autojump()) {
      // Every task waits: look for I/O without blocking, then jump the virtual clock.
      if (io_->watched() > 0) poll_io(0);
      drain_threadsafe();
      if (ready_.empty()) {
        std::int64_t now = time().time_since_epoch().count();
        if (deadline > now) clock_->jump_to(time_point(duration(deadline)));
      }
      timeout_ms = 0;
    } else {
      timeout_ms = ms_until(deadline, time().time_since_epoch().count());
    }
  }
  if (timeout_ms != 0) {
    // Busy polling (loop_options::busy_poll) only right after I/O was found (within the last two
    // iterations: the one that ran its handlers may have polled nothing) and on the real clock.
    bool may_spin = busy_poll_.enabled() && !clock_ && last_io_found_ != 0 && iterations_ - last_io_found_ <= 2;
    sleep_io(timeout_ms, may_spin, deadline, has_timer);
  } else if (io_->watched() > 0 && (ready_.empty() || iterations_ - last_io_poll_ >= io_poll_interval)) {
    // Tasks are ready: I/O is looked at without blocking every other iteration, not on each one
    // (tokio's event_interval, much shorter). A poll right after the previous one finds few events:
    // polling each time made an echo server enter epoll_wait 4x as often as a C server (16 KiB echo:
    // 0.95x -> 1.12x the C server's req/s, bench/README.md). A task spinning on sleep(0s) still
    // lets I/O in within two iterations (Fairness test).
    poll_io(0);
  }
  drain_threadsafe();
  if (has_timer || timers_.live() > 0) fire_due_timers();

  std::size_t initial = ready_.size();
  std::size_t ran = 0;
  // After stop(), only the items that were ready when the iteration began still run (Python: items
  // scheduled meanwhile wait for the next run_forever).
  while (!ready_.empty() && (ran < initial || (ran < min_batch && !stopping_))) {
    std::uintptr_t item = ready_.pop_front();
    if (debug_) [[unlikely]] run_ready_item_debug(item);
    else run_ready_item(item);
    ++ran;
  }
}

void event_loop::run_ready_item(std::uintptr_t item) {
  inline_budget_ = inline_budget;
  if (item & 1) {
    auto* node = reinterpret_cast<detail::callback_node*>(item & ~std::uintptr_t{1});
    current_ = nullptr;
    if (!node->cancelled) {
      try {
        // Run a moved-out copy: the callback may cancel its own handle, which resets node->fn and
        // would otherwise destroy the callable (and its captures) while it runs.
        detail::unique_function<void()> fn = std::move(node->fn);
        fn();
      } catch (...) {
        exception_context ctx("Exception in callback", std::current_exception());
        call_exception_handler(ctx);
      }
    }
    node->release();
  } else {
    auto* t = reinterpret_cast<detail::task_core*>(item);
    if (!t->started_) [[unlikely]] {
      if (t->must_cancel_) {
        finish_unstarted(*t);
        release_deferred();
        return;
      }
      t->started_ = true;
    }
    current_ = t;
    t->resume_point().resume();
    current_ = nullptr;
  }
  if (!deferred_release_.empty()) release_deferred();
}

void event_loop::run_ready_item_debug(std::uintptr_t item) {
  auto started = clock::now();
  std::string name;
  std::source_location where;
  bool has_where = false;
  if (!(item & 1)) {
    auto* t = reinterpret_cast<detail::task_core*>(item);
    t->add_ref();  // keep it alive for the report
    run_ready_item(item);
    auto took = clock::now() - started;
    if (took > slow_callback_duration_) {
      name = t->task_name();
      if (auto* e = t->extras_or_null(); e && e->has_location) {
        where = e->created_at;
        has_where = true;
      }
    }
    t->release();
    if (took > slow_callback_duration_) {
      exception_context ctx;
      char buf[96];
      std::snprintf(buf, sizeof buf, "Executing task %s took %.3f seconds", name.c_str(),
                    std::chrono::duration<double>(took).count());
      ctx.message = buf;
      ctx.task_name = name;
      ctx.source = where;
      ctx.has_source = has_where;
      call_exception_handler(ctx);
    }
    return;
  }
  run_ready_item(item);
  auto took = clock::now() - started;
  if (took > slow_callback_duration_) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "Executing callback took %.3f seconds",
                  std::chrono::duration<double>(took).count());
    call_exception_handler(exception_context(buf));
  }
}

void event_loop::fire_due_timers() {
  timers_.fire_due(time().time_since_epoch().count());
}

auto event_loop::poll_io(int timeout_ms) -> int {
  last_io_poll_ = iterations_;
  int n = io_->poll(timeout_ms);
  if (n > 0) last_io_found_ = iterations_;
  return n;
}

void event_loop::sleep_io(int timeout_ms, bool may_spin, std::int64_t deadline, bool has_timer) {
  // Why spin at all: see loop_options::busy_poll and io/busy_poll.hpp.
  std::int64_t wait_from = 0;  // when the wait began (spin included): for the governor
  if (may_spin) {
    wait_from = clock::now().time_since_epoch().count();
    if (spin_io(deadline, has_timer)) return;
    if (has_timer) timeout_ms = ms_until(deadline, clock::now().time_since_epoch().count());  // the spin used part of the wait
  }
  // About to block: announce it, then re-check what other threads may have handed over meanwhile
  // (they wake the loop only if they see sleeping; see detail/loop_port.hpp).
  port_->set_sleeping(true);
  if (port_->has_items() || threadsafe_pending_.load(std::memory_order_seq_cst)) timeout_ms = 0;
  int n = poll_io(timeout_ms);
  port_->set_sleeping(false);
  if (!may_spin || timeout_ms == 0) return;
  busy_poll_.slept(n > 0, clock::now().time_since_epoch().count() - wait_from);
}

auto event_loop::spin_io(std::int64_t deadline, bool has_timer) -> bool {
  // Each round is one non-blocking poll plus a vDSO clock read. While the loop spins it is not
  // "sleeping", so other threads' posts do not write the eventfd and are looked for here instead.
  if (busy_poll_.limit() <= 0) return false;
  std::int64_t now = clock::now().time_since_epoch().count();
  std::int64_t until = now + busy_poll_.limit();
  if (has_timer && deadline < until) until = deadline;  // a timer is never delayed by a spin
  for (;;) {
    ++busy_polls_;
    if (poll_io(0) > 0) {
      // The spin paid off: grow the limit back (without this a loop under steady load could only
      // shrink it; bench/README.md, "TCP echo: the busy-poll limit").
      busy_poll_.spin_found_io();
      return true;
    }
    if (port_->has_items() || threadsafe_pending_.load(std::memory_order_acquire)) return true;
    if (clock::now().time_since_epoch().count() >= until) return false;
  }
}

auto event_loop::statistics() const noexcept -> loop_statistics {
  // Tasks in their eager start are unfinished too (start_task registers them afterwards).
  return loop_statistics{ready_.size(),  timers_.live(), tasks_.size() + static_cast<std::size_t>(eager_starts()),
                         io_->watched(), iterations_,    busy_polls_,
                         duration(busy_poll_.limit()), io_->name()};
}

}  // namespace asyncio
