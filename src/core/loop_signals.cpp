// Unix signals for the event loop: loop.add_signal_handler / remove_signal_handler, and run()'s
// Ctrl-C handling (detail::sigint_guard).
//
// Why a real handler plus an eventfd (the self-pipe trick, as CPython's set_wakeup_fd and libuv),
// not signalfd: signalfd only sees a signal that is blocked in *every* thread. A thread started
// before the handler was added (a thread pool, a library's worker) still has it unblocked, so the
// kernel may deliver it there and run the default action: Ctrl-C would kill the process despite the
// handler. The blocked mask is also inherited across fork/exec, so every child spawned by any code
// (system(), posix_spawn elsewhere) would start with SIGINT/SIGTERM blocked. A sigaction handler is
// process-wide: whichever thread receives the signal runs it, nothing is inherited by exec'd
// children (handlers reset to the default), and it can act on its own when the loop is stuck (the
// second Ctrl-C). The handler only does async-signal-safe things: lock-free atomics, write(), and
// for the second Ctrl-C sigaction() + raise().
//
// Shape: one process-wide slot per signal number (owner loop, pending count, eventfd to poke). Each
// loop with handlers owns an eventfd watched by the loop; reading it, the loop looks at the pending
// counts of its signals and queues their callbacks with call_soon.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/runner.hpp>
#include <asyncio/errors.hpp>

#include "core/internal_loop_local.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace asyncio {
namespace {

// ---- the process-wide part (touched by the signal handler) -------------------------------------

struct signal_slot {
  std::atomic<int> fd{-1};               // eventfd of the owning loop, -1 when none
  std::atomic<std::uint32_t> pending{0}; // arrivals not yet seen by the loop
  std::atomic<bool> exit_on_repeat{false};
  std::atomic<std::uint32_t> arrivals{0};  // counted for exit_on_repeat (run()'s SIGINT)
};

signal_slot g_slots[NSIG];
// Handlers currently running (on any thread). Closing an eventfd waits for zero, so a handler that
// loaded the fd just before it was unpublished never writes into a recycled descriptor.
std::atomic<int> g_in_flight{0};

static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

extern "C" void on_signal(int sig) {
  int saved_errno = errno;
  g_in_flight.fetch_add(1, std::memory_order_seq_cst);
  signal_slot& slot = g_slots[sig];
  if (slot.exit_on_repeat.load(std::memory_order_seq_cst) &&
      slot.arrivals.fetch_add(1, std::memory_order_seq_cst) >= 1) {
    // Second Ctrl-C: give the signal its default action back and raise it. The signal is blocked
    // while its handler runs, so it stays pending and kills the process as soon as we return.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    ::raise(sig);
  } else {
    slot.pending.fetch_add(1, std::memory_order_seq_cst);
    int fd = slot.fd.load(std::memory_order_seq_cst);
    if (fd >= 0) {
      std::uint64_t one = 1;
      ssize_t n = ::write(fd, &one, sizeof one);
      (void)n;  // EAGAIN: the counter is already non-zero, the loop wakes anyway
    }
  }
  g_in_flight.fetch_sub(1, std::memory_order_seq_cst);
  errno = saved_errno;
}

// Owner bookkeeping (not touched by the handler).
struct slot_owner {
  event_loop* loop = nullptr;
  struct sigaction previous {};
};
std::mutex g_owner_mutex;
slot_owner g_owners[NSIG];

void wait_for_handlers() noexcept {
  while (g_in_flight.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

void validate(int sig) {
  if (sig <= 0 || sig >= NSIG) throw std::invalid_argument("invalid signal number " + std::to_string(sig));
  if (sig == SIGKILL || sig == SIGSTOP)
    throw invalid_state_error("signal " + std::to_string(sig) + " cannot be caught");  // Python's RuntimeError
}

// Gives `sig` back its previous action. Caller holds g_owner_mutex.
void release_slot(int sig) noexcept {
  signal_slot& slot = g_slots[sig];
  slot.exit_on_repeat.store(false);
  ::sigaction(sig, &g_owners[sig].previous, nullptr);
  slot.fd.store(-1);
  g_owners[sig] = slot_owner{};
}

// ---- the per-loop part -------------------------------------------------------------------------

struct signal_state : io::interest {
  struct entry {
    std::shared_ptr<detail::unique_function<void()>> fn;
    std::uint64_t token = 0;
  };

  explicit signal_state(event_loop& l) : loop(l) {
    efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) throw_os_error(errno, "eventfd");
    ready = &on_ready;
  }
  signal_state(const signal_state&) = delete;
  auto operator=(const signal_state&) -> signal_state& = delete;
  ~signal_state() = default;

  static void on_ready(io::interest* self) noexcept {
    auto* st = static_cast<signal_state*>(self);
    std::uint64_t value;
    ssize_t n = ::read(st->efd, &value, sizeof value);
    (void)n;
    for (auto& [sig, e] : st->handlers) {
      if (g_slots[sig].pending.exchange(0) == 0) continue;
      try {
        st->loop.call_soon([fn = e.fn] { (*fn)(); });
      } catch (...) {
        st->loop.call_exception_handler(exception_context("Exception while queuing a signal handler",
                                                          std::current_exception()));
      }
    }
  }

  // The eventfd is watched only while a handler is installed: a watched fd counts as a source of
  // progress, so after run()'s Ctrl-C handling is gone a loop whose tasks ignore cancellation would
  // otherwise block at close instead of reporting them (event_loop::cancel_all_tasks).
  void watch(bool on) { detail::loop_access::io(loop).set_interest(efd, io::direction::read, on ? this : nullptr); }

  void on_loop_close() noexcept {
    {
      std::lock_guard lock(g_owner_mutex);
      for (auto& [sig, e] : handlers) {
        if (g_owners[sig].loop == &loop) release_slot(sig);
      }
    }
    handlers.clear();
    detail::loop_access::io(loop).set_interest(efd, io::direction::read, nullptr);  // clearing never throws
    wait_for_handlers();
    ::close(efd);
  }

  event_loop& loop;
  int efd = -1;
  std::map<int, entry> handlers;
  std::uint64_t next_token = 1;
};

using signal_states = detail::loop_local<signal_state>;

auto install(event_loop& loop, int sig, detail::unique_function<void()> fn) -> std::uint64_t {
  validate(sig);
  detail::loop_access::check_thread(loop, "add_signal_handler");
  signal_state& st = signal_states::get(loop);
  {
    std::lock_guard lock(g_owner_mutex);
    slot_owner& owner = g_owners[sig];
    if (owner.loop && owner.loop != &loop)
      throw invalid_state_error("signal " + std::to_string(sig) + " is already handled by another event loop");
    signal_slot& slot = g_slots[sig];
    slot.exit_on_repeat.store(false);  // a user handler replaces run()'s Ctrl-C handling
    if (!owner.loop) {
      // Publish the eventfd before the handler can run, so no arrival goes without a wake-up.
      slot.pending.store(0);
      slot.fd.store(st.efd);
      struct sigaction action {};
      action.sa_handler = &on_signal;
      action.sa_flags = SA_RESTART;  // other threads' blocking calls are not interrupted (EINTR)
      sigemptyset(&action.sa_mask);
      struct sigaction previous {};
      if (::sigaction(sig, &action, &previous) < 0) {
        int err = errno;
        slot.fd.store(-1);
        throw_os_error(err, "sigaction");
      }
      owner.loop = &loop;
      owner.previous = previous;
    }
  }
  if (st.handlers.empty()) {
    try {
      st.watch(true);
    } catch (...) {
      std::lock_guard lock(g_owner_mutex);
      if (g_owners[sig].loop == &loop) release_slot(sig);
      throw;
    }
  }
  std::uint64_t token = st.next_token++;
  st.handlers[sig] = signal_state::entry{std::make_shared<detail::unique_function<void()>>(std::move(fn)), token};
  return token;
}

// Removes the handler of `sig` if its token matches (0 = any). True if one was removed.
auto uninstall(event_loop& loop, int sig, std::uint64_t token) -> bool {
  if (sig <= 0 || sig >= NSIG) return false;
  signal_state* st = signal_states::find(loop);
  if (!st) return false;
  auto it = st->handlers.find(sig);
  if (it == st->handlers.end() || (token != 0 && it->second.token != token)) return false;
  st->handlers.erase(it);
  {
    std::lock_guard lock(g_owner_mutex);
    if (g_owners[sig].loop == &loop) release_slot(sig);
  }
  if (st->handlers.empty()) {
    st->watch(false);  // clearing an interest never throws (io::driver::set_interest)
  }
  return true;
}

}  // namespace

void event_loop::set_signal_handler(int sig, detail::unique_function<void()> fn) {
  if (closed_) throw invalid_state_error("event loop is closed");
  (void)install(*this, sig, std::move(fn));
}

auto event_loop::remove_signal_handler(int sig) -> bool {
  check_thread("remove_signal_handler");
  return uninstall(*this, sig, 0);
}

void keyboard_interrupt::exit_by_signal() noexcept {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(SIGINT);
  ::_exit(130);  // not reached unless SIGINT could not kill us
}

// ---- an uncaught keyboard_interrupt ends the process as Python does (core/runner.hpp) ------------

namespace {
std::terminate_handler g_previous_terminate = nullptr;  // written once, before ours can run

[[noreturn]] void on_terminate() noexcept {
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const keyboard_interrupt&) {
      static constexpr char line[] = "KeyboardInterrupt\n";  // what Python prints last
      ssize_t n = ::write(STDERR_FILENO, line, sizeof line - 1);
      (void)n;
      keyboard_interrupt::exit_by_signal();
    } catch (...) {
      // Not ours: the exception stays current for the previous handler (which may print it).
    }
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

// Once per process, chained: the handler that was there keeps every other case.
void install_terminate_handler() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_terminate = std::set_terminate(&on_terminate); });
}
}  // namespace

// ---- run()'s Ctrl-C handling ---------------------------------------------------------------------

namespace detail {

struct sigint_guard::state {
  any_task main;
  bool interrupted = false;
};

sigint_guard::sigint_guard(event_loop& loop, any_task main, bool enabled) {
  if (!enabled) return;
  // Python's Runner: only on the main thread, and only if nobody replaced the default handler.
  if (::getpid() != ::gettid()) return;
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) < 0) return;
  if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL) return;
  sigset_t mask;
  if (::pthread_sigmask(SIG_BLOCK, nullptr, &mask) != 0 || sigismember(&mask, SIGINT)) return;
  {
    std::lock_guard lock(g_owner_mutex);
    if (g_owners[SIGINT].loop) return;
  }
  state_ = std::make_shared<state>();
  state_->main = std::move(main);
  token_ = install(loop, SIGINT, [st = state_] {
    if (st->main.done()) return;
    st->interrupted = true;
    st->main.cancel();
  });
  g_slots[SIGINT].arrivals.store(0);
  g_slots[SIGINT].exit_on_repeat.store(true);
  loop_ = &loop;
  // Only an armed guard can lead to keyboard_interrupt, so only then is the handler needed.
  install_terminate_handler();
}

sigint_guard::~sigint_guard() {
  if (loop_) (void)uninstall(*loop_, SIGINT, token_);
}

auto sigint_guard::interrupted() const noexcept -> bool { return state_ && state_->interrupted; }

}  // namespace detail
}  // namespace asyncio
