// The event loop: one iteration = take cross-thread callbacks, poll I/O (only when something is
// watched or the loop must sleep), fire due timers, then run ready items in FIFO order.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/errors.hpp>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
// ready meanwhile until this many ran; timers and I/O are checked between batches (fairness, §3.6).
constexpr std::size_t min_batch = 64;
// With tasks ready, I/O is polled (without blocking) once per this many iterations.
constexpr std::uint64_t io_poll_interval = 2;
// Nesting limit for eager task starts (see start_task).
constexpr int max_eager_depth = 64;

thread_local event_loop* tls_running_loop = nullptr;

// epoll_wait's timeout for a deadline (ns on the loop's clock). Rounded up to whole ms: truncation
// turns 100 us into a busy spin (TOOLCHAIN §8.9). Capped at a day before rounding, so that a
// deadline of time_point::max() cannot overflow.
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
  if (!loop) throw error("no running event loop");
  return *loop;
}

// ---- add_reader / add_writer callbacks --------------------------------------------------------

struct event_loop::callback_interest : detail::io_interest {
  event_loop* loop = nullptr;
  detail::unique_function<void()> fn;
  bool running = false;
  bool removed = false;

  static void on_ready(detail::io_interest* self) noexcept {
    auto* ci = static_cast<callback_interest*>(self);
    ci->running = true;
    try {
      ci->fn();
    } catch (...) {
      exception_context ctx("Exception in add_reader/add_writer callback", std::current_exception());
      ci->loop->call_exception_handler(ctx);
    }
    ci->running = false;
    if (ci->removed) delete ci;
  }

  // add_reader/add_writer and remove_reader/remove_writer differ only in the direction (dir: 0 =
  // read, 1 = write), so each pair is one function. callback_interests_ is indexed by fd*2 + dir.
  static void add(event_loop& loop, int fd, int dir, detail::unique_function<void()> fn);
  static auto remove(event_loop& loop, int fd, int dir) -> bool;
  static void set_interest(event_loop& loop, int fd, int dir, detail::io_interest* interest) {
    if (dir == 0) loop.set_reader_interest(fd, interest);
    else loop.set_writer_interest(fd, interest);
  }
};

// ---- construction ------------------------------------------------------------------------------

event_loop::event_loop(loop_options options)
    : clock_(options.clock), owner_(std::this_thread::get_id()) {
  debug_ = options.debug.value_or(env_debug());
  busy_poll_max_ = std::max<std::int64_t>(0, std::chrono::duration_cast<duration>(options.busy_poll).count());
  busy_poll_ns_ = busy_poll_max_;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_os_error(errno, "epoll_create1");
  // The eventfd belongs to the port: a worker may still post (and wake) after the loop is gone.
  try {
    port_ = detail::loop_port::create();
  } catch (...) {
    ::close(epoll_fd_);
    throw;
  }
  wake_fd_ = port_->fd();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    int err = errno;
    ::close(epoll_fd_);
    port_->release();
    throw_os_error(err, "epoll_ctl");
  }
}

event_loop::~event_loop() {
  if (!closed_) {
    try {
      close();
    } catch (...) {
    }
  }
  ::close(epoll_fd_);
  port_->close();    // late posts are discarded by their posters
  port_->release();  // the port lives on while a poster still holds it
}

// ---- scheduling ----------------------------------------------------------------------------------

void handle::cancel() noexcept {
  if (!node_ || node_->cancelled) return;
  node_->cancelled = true;
  node_->fn.reset();  // drop captured state now, as CPython does
  if (node_->timer_key != detail::timer_heap::no_timer) {
    node_->loop->cancel_timer(node_->timer_key);
    node_->timer_key = detail::timer_heap::no_timer;
    node_->release();  // the timer's reference
  }
}

auto event_loop::enqueue(detail::callback_node* node) -> detail::callback_node* {
  check_thread("call_soon");
  if (closed_) {
    delete node;
    throw error("event loop is closed");
  }
  node->loop = this;
  ready_.push_back(reinterpret_cast<std::uintptr_t>(node) | 1);
  return node;
}

auto event_loop::add_timer_node(time_point when, detail::callback_node* node) -> detail::callback_node* {
  check_thread("call_at");
  if (closed_) {
    delete node;
    throw error("event loop is closed");
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

void event_loop::enqueue_threadsafe(detail::callback_node* node) {
  node->loop = this;
  detail::loop_port* port = nullptr;
  {
    std::lock_guard lock(threadsafe_mutex_);
    // Checked under the lock that close() takes to set it: a node accepted here is always drained.
    if (threadsafe_closed_) {
      delete node;
      throw error("event loop is closed");
    }
    threadsafe_queue_.push_back(node);
    // Coalesce wake-ups: only the first producer since the last drain may wake the loop, and only
    // if it may be sleeping (run_once re-checks threadsafe_pending_ after announcing its sleep:
    // Dekker). Once the lock is released the loop may run the callback, close and be destroyed
    // (call_soon_threadsafe(stop) does just that): from then on touch only the port, which the
    // reference taken here keeps alive.
    if (!threadsafe_pending_.exchange(true, std::memory_order_seq_cst)) {
      port = port_;
      port->add_ref();
    }
  }
  if (port) {
    if (port->sleeping()) port->wake();
    port->release();
  }
}

void event_loop::drain_threadsafe() {
  // Completions posted through the port (thread pools, other loops): no lock, no allocation.
  for (detail::remote_item* item = port_->take_all(); item;) {
    detail::remote_item* next = item->next;
    item->deliver(item, false);
    item = next;
  }
  if (!threadsafe_pending_.load(std::memory_order_acquire)) return;
  std::vector<detail::callback_node*> batch;
  {
    std::lock_guard lock(threadsafe_mutex_);
    batch.swap(threadsafe_queue_);
    threadsafe_pending_.store(false, std::memory_order_release);
  }
  for (auto* node : batch) ready_.push_back(reinterpret_cast<std::uintptr_t>(node) | 1);
}

void event_loop::check_thread_slow(const char* what) const noexcept {
  if (std::this_thread::get_id() == owner_) return;
  exception_context ctx;
  ctx.message = std::string("Non-thread-safe operation ") + what +
                " invoked on an event loop other than the current one (use call_soon_threadsafe)";
  const_cast<event_loop*>(this)->call_exception_handler(ctx);
}

// ---- tasks ---------------------------------------------------------------------------------------

void event_loop::register_task(detail::task_core& t) noexcept {
  if (tasks_.size() >= detail::completion::not_registered) [[unlikely]] {
    // registry_index_ has 24 bits (task_core.hpp: the header is 8 bytes). 16M unfinished tasks are
    // >2 GiB of frames; like running out of memory, this is fatal.
    std::fputs("asyncio: more than 2^24 unfinished tasks on one event loop\n", stderr);
    std::abort();
  }
  t.registry_index_ = static_cast<std::uint32_t>(tasks_.size()) & 0xffffff;
  tasks_.push_back(&t);
}

void event_loop::unregister_task(detail::task_core& t) noexcept {
  if (t.registry_index_ != detail::completion::not_registered) {
    detail::task_core* last = tasks_.back();
    tasks_[t.registry_index_] = last;
    last->registry_index_ = t.registry_index_;
    tasks_.pop_back();
    t.registry_index_ = detail::completion::not_registered;
  }
  // Drop the loop's reference. If it is the last one, the frame must not be destroyed from inside
  // its own final_suspend (LESSONS §9): defer to the end of the current step.
  if (t.refs_ == 1) [[unlikely]] defer_release(t);
  else --t.refs_;
}

void event_loop::defer_release(detail::task_core& t) noexcept { deferred_release_.push_back(&t); }

void event_loop::release_deferred() noexcept {
  while (!deferred_release_.empty()) {
    detail::task_core* t = deferred_release_.back();
    deferred_release_.pop_back();
    t->release();
  }
}

void event_loop::start_task(detail::task_core& t, bool eager) {
  // Eager starts nest on the C++ stack (a task eagerly creating a task...); past a bounded depth
  // the new task is scheduled instead, so recursion through create_task cannot overflow.
  if (!eager || eager_depth_ >= max_eager_depth) {
    register_task(t);
    schedule(t);
    return;
  }
  detail::task_core* previous = current_;
  eager_start frame{&t, eager_chain_};
  eager_chain_ = &frame;
  current_ = &t;
  t.started_ = true;
  ++eager_depth_;
  t.resume_point().resume();
  --eager_depth_;
  eager_chain_ = frame.outer;
  current_ = previous;
  // A task that finished within its eager start never enters the registry (W1: a task that
  // completes synchronously costs no registry update); one that suspended joins it now.
  if (!t.done()) register_task(t);
  if (!previous) release_deferred();
}

void event_loop::finish_unstarted(detail::task_core& t) noexcept {
  // A lazy task cancelled before its first step never runs (CPython: the coroutine is closed).
  t.started_ = true;
  t.must_cancel_ = false;
  detail::task_core* first = t.complete(detail::outcome::cancelled, false);
  (void)first;
  unregister_task(t);
}

// ---- running -------------------------------------------------------------------------------------

void event_loop::check_can_run() const {
  if (closed_) throw error("event loop is closed");
  if (running_) throw error("this event loop is already running");
  if (detail::running_loop()) throw error("cannot run the event loop while another loop is running");
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
      if (watched_fds_ > 0) poll_io(0);
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
    bool may_spin = busy_poll_max_ > 0 && !clock_ && last_io_found_ != 0 && iterations_ - last_io_found_ <= 2;
    sleep_io(timeout_ms, may_spin, deadline, has_timer);
  } else if (watched_fds_ > 0 && (ready_.empty() || iterations_ - last_io_poll_ >= io_poll_interval)) {
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

void event_loop::sleep_io(int timeout_ms, bool may_spin, std::int64_t deadline, bool has_timer) {
  // Why spin at all: see loop_options::busy_poll. Each round is one epoll_wait(0) plus a vDSO clock
  // read; while the loop spins it is not "sleeping", so other threads' posts do not write the
  // eventfd and are looked for here instead.
  std::int64_t wait_from = 0;  // when the wait began (spin included): for the adaptation below
  if (may_spin) {
    std::int64_t now = clock::now().time_since_epoch().count();
    wait_from = now;
    if (busy_poll_ns_ > 0) {
      std::int64_t until = now + busy_poll_ns_;
      if (has_timer && deadline < until) until = deadline;  // a timer is never delayed by a spin
      for (;;) {
        ++busy_polls_;
        if (poll_io(0) > 0) {
          // The spin paid off: grow the limit back (as a short sleep does below). Without this a
          // loop under steady load could only shrink it (each late event halves it; a spin that
          // found the next event did not adapt), so a few late events of its peer stopped the
          // spin, and it then slept whenever it ran out of work until a sleep, wake-up included,
          // happened to end within the maximum (bench/README.md, "TCP echo: the busy-poll limit").
          busy_poll_ns_ = std::min(busy_poll_max_, std::max(busy_poll_ns_ * 2, busy_poll_max_ / 8));
          return;
        }
        if (port_->has_items() || threadsafe_pending_.load(std::memory_order_acquire)) return;
        now = clock::now().time_since_epoch().count();
        if (now >= until) break;
      }
      if (has_timer) timeout_ms = ms_until(deadline, now);  // the spin used part of the wait
    }
  }
  // About to block: announce it, then re-check what other threads may have handed over meanwhile
  // (they wake the loop only if they see sleeping; see detail/loop_port.hpp).
  port_->set_sleeping(true);
  if (port_->has_items() || threadsafe_pending_.load(std::memory_order_seq_cst)) timeout_ms = 0;
  int n = poll_io(timeout_ms);
  port_->set_sleeping(false);
  if (!may_spin || timeout_ms == 0) return;
  // Adapt the spin limit as the haltpoll cpuidle governor does: an event that came within the
  // maximum after the wait began would have been caught by a longer spin (grow); one that came
  // later, or a timeout, means spinning was wasted (halve; below 1/8 of the maximum, stop until a
  // short sleep shows traffic again). Sparse traffic thus stops costing CPU after a few sleeps.
  std::int64_t waited = clock::now().time_since_epoch().count() - wait_from;
  if (n > 0 && waited <= busy_poll_max_) {
    busy_poll_ns_ = std::min(busy_poll_max_, std::max(busy_poll_ns_ * 2, busy_poll_max_ / 8));
  } else {
    busy_poll_ns_ /= 2;
    if (busy_poll_ns_ < busy_poll_max_ / 8) busy_poll_ns_ = 0;
  }
}

auto event_loop::poll_io(int timeout_ms) -> int {
  last_io_poll_ = iterations_;
  epoll_event events[128];
  int n = ::epoll_wait(epoll_fd_, events, 128, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw_os_error(errno, "epoll_wait");
  }
  if (n > 0) last_io_found_ = iterations_;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    std::uint32_t ev = events[i].events;
    if (fd == wake_fd_) {
      port_->consume_wake();
      continue;
    }
    if (static_cast<std::size_t>(fd) >= fds_.size()) continue;
    if (fds_[fd].edge) {
      if (ev & (EPOLLHUP | EPOLLERR)) fds_[fd].ready |= 12;
      else if (ev & EPOLLRDHUP) fds_[fd].ready |= 4;
      // A parked waiter takes the readiness; otherwise it is remembered for the next wait. Waiters'
      // ready() only schedules a task or sends buffered bytes: it never resizes fds_.
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        if (detail::io_interest* r = std::exchange(fds_[fd].reader, nullptr)) {
          --watched_fds_;
          r->ready(r);
        } else {
          fds_[fd].ready |= 1;
        }
      }
      if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        if (detail::io_interest* w = std::exchange(fds_[fd].writer, nullptr)) {
          --watched_fds_;
          w->ready(w);
        } else {
          fds_[fd].ready |= 2;
        }
      }
      continue;
    }
    // Re-read the watch after each call: a callback may change or remove interests.
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
      if (detail::io_interest* r = fds_[fd].reader) r->ready(r);
    }
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      if (static_cast<std::size_t>(fd) < fds_.size()) {
        if (detail::io_interest* w = fds_[fd].writer) w->ready(w);
      }
    }
  }
  return n;
}

void event_loop::update_fd(int fd) {
  fd_watch& w = fds_[fd];
  std::uint32_t wanted = (w.reader ? EPOLLIN : 0u) | (w.writer ? EPOLLOUT : 0u);
  if (wanted == w.registered) return;
  epoll_event ev{};
  ev.events = wanted;
  ev.data.fd = fd;
  int op = w.registered == 0 ? EPOLL_CTL_ADD : wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_fd_, op, fd, &ev) < 0) {
    int err = errno;
    if (op == EPOLL_CTL_DEL && (err == EBADF || err == ENOENT)) {
      // The fd was closed before it was unwatched; the kernel already forgot it.
    } else {
      throw_os_error(err, "epoll_ctl");
    }
  }
  if (w.registered == 0 && wanted != 0) ++watched_fds_;
  if (w.registered != 0 && wanted == 0) --watched_fds_;
  w.registered = wanted;
}

void event_loop::watch_fd_slow(int fd) {
  if (fd < 0) throw_os_error(EBADF, "watch_fd");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
  fd_watch& w = fds_[fd];
  if (w.edge) return;
  if (w.registered != 0) throw invalid_state_error("fd is watched by add_reader/add_writer");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_os_error(errno, "epoll_ctl");
  w.edge = true;
  w.ready = 0;  // EPOLL_CTL_ADD reports the current state at the next epoll_wait
}

void event_loop::forget_fd(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd].edge) return;
  fd_watch& w = fds_[fd];
  epoll_event ev{};
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &ev);  // ENOENT/EBADF: already gone, fine
  detail::io_interest* r = std::exchange(w.reader, nullptr);
  detail::io_interest* wr = std::exchange(w.writer, nullptr);
  w.edge = false;
  w.ready = 0;
  if (r) {
    --watched_fds_;
    r->ready(r);
  }
  if (wr) {
    --watched_fds_;
    wr->ready(wr);
  }
}

void event_loop::park_io_failed(int fd, int dir) const {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd].edge)
    throw invalid_state_error("park_io: fd is not watched");
  throw invalid_state_error(dir == 0 ? "another task is already waiting to read this fd"
                                     : "another task is already waiting to write this fd");
}

auto event_loop::unpark_io(int fd, int dir, detail::io_interest* waiter) noexcept -> bool {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return false;
  detail::io_interest*& slot = dir == 0 ? fds_[fd].reader : fds_[fd].writer;
  if (slot != waiter || !fds_[fd].edge) return false;
  slot = nullptr;
  --watched_fds_;
  return true;
}

void event_loop::set_reader_interest(int fd, detail::io_interest* interest) {
  if (fd < 0) throw_os_error(EBADF, "set_reader_interest");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1);
  if (fds_[fd].edge) throw invalid_state_error("fd is watched edge-triggered (watch_fd)");
  detail::io_interest* old = fds_[fd].reader;
  fds_[fd].reader = interest;
  try {
    update_fd(fd);
  } catch (...) {
    fds_[fd].reader = old;
    throw;
  }
}

void event_loop::set_writer_interest(int fd, detail::io_interest* interest) {
  if (fd < 0) throw_os_error(EBADF, "set_writer_interest");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1);
  if (fds_[fd].edge) throw invalid_state_error("fd is watched edge-triggered (watch_fd)");
  detail::io_interest* old = fds_[fd].writer;
  fds_[fd].writer = interest;
  try {
    update_fd(fd);
  } catch (...) {
    fds_[fd].writer = old;
    throw;
  }
}

void event_loop::callback_interest::add(event_loop& loop, int fd, int dir, detail::unique_function<void()> fn) {
  std::size_t slot = static_cast<std::size_t>(fd) * 2 + static_cast<std::size_t>(dir);
  auto& table = loop.callback_interests_;
  if (slot >= table.size()) table.resize(static_cast<std::size_t>(fd) * 2 + 2, nullptr);  // both directions
  remove(loop, fd, dir);
  auto* ci = new callback_interest;
  ci->ready = &on_ready;
  ci->loop = &loop;
  ci->fn = std::move(fn);
  try {
    set_interest(loop, fd, dir, ci);
  } catch (...) {
    delete ci;
    throw;
  }
  table[slot] = ci;
}

auto event_loop::callback_interest::remove(event_loop& loop, int fd, int dir) -> bool {
  std::size_t slot = static_cast<std::size_t>(fd) * 2 + static_cast<std::size_t>(dir);
  auto& table = loop.callback_interests_;
  if (fd < 0 || slot >= table.size() || !table[slot]) return false;
  callback_interest* ci = std::exchange(table[slot], nullptr);
  set_interest(loop, fd, dir, nullptr);
  if (ci->running) ci->removed = true;
  else delete ci;
  return true;
}

void event_loop::add_reader(int fd, detail::unique_function<void()> fn) {
  check_thread("add_reader");
  callback_interest::add(*this, fd, 0, std::move(fn));
}

auto event_loop::remove_reader(int fd) -> bool { return callback_interest::remove(*this, fd, 0); }

void event_loop::add_writer(int fd, detail::unique_function<void()> fn) {
  check_thread("add_writer");
  callback_interest::add(*this, fd, 1, std::move(fn));
}

auto event_loop::remove_writer(int fd) -> bool { return callback_interest::remove(*this, fd, 1); }

// ---- shutting down ---------------------------------------------------------------------------------

auto event_loop::cancel_all_tasks(std::size_t max_iterations) -> std::size_t {
  if (tasks_.empty()) return 0;
  std::vector<detail::task_core*> to_cancel = tasks_;
  for (auto* t : to_cancel) t->add_ref();
  for (auto* t : to_cancel) t->cancel();
  event_loop* previous = detail::running_loop();
  bool set_tls = previous == nullptr;
  if (set_tls) detail::set_running_loop(this);
  bool was_running = running_;
  running_ = true;
  for (std::size_t i = 0; i < max_iterations && !tasks_.empty(); ++i) {
    // Nothing can make progress (no ready item, timer, watched fd or cross-thread call): the
    // remaining tasks ignore cancellation and wait forever; stop instead of blocking.
    if (ready_.empty() && timers_.live() == 0 && watched_fds_ == 0 &&
        !threadsafe_pending_.load(std::memory_order_acquire) && remote_waits_ == 0 && !port_->has_items())
      break;
    run_once();
  }
  running_ = was_running;
  stopping_ = false;
  for (auto* t : to_cancel) {
    if (t->state() == detail::outcome::exception && !t->retrieved_) {
      exception_context ctx;
      ctx.message = "unhandled exception during asyncio.run() shutdown";
      ctx.exception = t->take_exception_ptr();
      ctx.task_name = t->task_name();
      call_exception_handler(ctx);
    }
  }
  for (auto* t : to_cancel) t->release();
  release_deferred();
  if (set_tls) detail::set_running_loop(nullptr);
  return tasks_.size();
}

void event_loop::close() {
  if (running_) throw error("cannot close a running event loop");
  if (closed_) return;
  // Unfinished tasks are cancelled and run to completion so that their destructors run while the
  // loop still exists (frames must not be leaked or outlive the loop; LESSONS §3).
  std::size_t stuck = cancel_all_tasks();
  if (stuck) {
    exception_context ctx;
    ctx.message = std::to_string(stuck) + " task(s) did not finish after cancellation; leaked at close";
    call_exception_handler(ctx);
  }
  {
    bool set_tls = detail::running_loop() == nullptr;
    if (set_tls) detail::set_running_loop(this);
    auto hooks = std::move(at_close_);
    for (auto& fn : hooks) {
      try {
        fn();
      } catch (...) {
        call_exception_handler(exception_context("Exception in a loop close hook", std::current_exception()));
      }
    }
    if (set_tls) detail::set_running_loop(nullptr);
  }
  port_->close();  // completions of abandoned thread jobs are discarded from now on
  closed_ = true;
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_closed_ = true;
  }
  while (!ready_.empty()) {
    std::uintptr_t item = ready_.pop_front();
    if (item & 1) reinterpret_cast<detail::callback_node*>(item & ~std::uintptr_t{1})->release();
  }
  drain_threadsafe();
  while (!ready_.empty()) {
    std::uintptr_t item = ready_.pop_front();
    if (item & 1) reinterpret_cast<detail::callback_node*>(item & ~std::uintptr_t{1})->release();
  }
  while (auto* target = timers_.pop_due(INT64_MAX)) {
    if (target->fire == &fire_callback_timer) {
      auto* node = static_cast<detail::callback_node*>(target);
      // A timer_handle may outlive the loop: its cancel() must neither touch the loop nor drop the
      // timer's reference a second time.
      node->timer_key = detail::timer_heap::no_timer;
      node->release();
    }
  }
  for (std::size_t i = 0; i < callback_interests_.size(); ++i) {
    if (callback_interests_[i]) {
      int fd = static_cast<int>(i / 2);
      if (i % 2 == 0) remove_reader(fd);
      else remove_writer(fd);
    }
  }
}

namespace detail {
void finish_run(event_loop& loop) noexcept {
  try {
    loop.close();
  } catch (...) {
    loop.call_exception_handler(exception_context("Exception while closing the loop", std::current_exception()));
  }
}
}  // namespace detail

// ---- errors and statistics -------------------------------------------------------------------------

void event_loop::call_exception_handler(const exception_context& context) noexcept {
  if (handler_) {
    try {
      handler_(*this, context);
      return;
    } catch (...) {
      exception_context inner("Unhandled error in exception handler", std::current_exception());
      default_exception_handler(inner);
    }
  }
  default_exception_handler(context);
}

void event_loop::default_exception_handler(const exception_context& context) noexcept {
  std::string text = "asyncio: " + context.message;
  if (!context.task_name.empty()) text += "\n  task: " + context.task_name;
  if (context.has_source) {
    text += "\n  created at: ";
    text += context.source.file_name();
    text += ":" + std::to_string(context.source.line());
    text += " in ";
    text += context.source.function_name();
  }
  if (context.exception) text += "\n  exception: " + describe(context.exception);
  text += "\n";
  std::fputs(text.c_str(), stderr);
}

auto event_loop::statistics() const noexcept -> loop_statistics {
  // Tasks in their eager start are unfinished too (start_task registers them afterwards).
  return loop_statistics{ready_.size(), timers_.live(), tasks_.size() + static_cast<std::size_t>(eager_depth_),
                         watched_fds_, iterations_, busy_polls_, duration(busy_poll_ns_)};
}

}  // namespace asyncio
