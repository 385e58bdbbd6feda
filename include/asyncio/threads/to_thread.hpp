#pragma once
// to_thread(fn, args...) and run_in_executor(ex, fn, args...): run a blocking or CPU-heavy call on
// another thread and await its result without blocking the loop (Python's asyncio.to_thread and
// loop.run_in_executor). Plus the loop's default executor (Python's loop.set_default_executor).
//
// How a call travels (no lock and one allocation per call, besides the awaiting frame):
//   loop thread: allocate a thread_call (fn, args, result slot), post it to the executor, park;
//   worker:      run fn, store the value or exception, post the call to the loop's port;
//   loop thread: the port delivers the call, the task is scheduled and takes the result.
//
// Cancellation and the race with the worker: cancelling the awaiting task raises
// cancelled_error at once; the awaiter lets go of the call by setting `abandoned` and clearing
// `waiter`. From then on the awaiter never touches the call again, and the worker never touches the
// awaiting frame at all (only the call and the port). Whoever sees the call last frees it: the worker
// if it had not started (it skips the call), else the loop when the completion arrives. Both the
// cancel and the delivery run on the loop thread, so `waiter` and `delivered` need no atomics.
#include <atomic>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include <asyncio/core/context.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/detail/frame_allocator.hpp>
#include <asyncio/detail/loop_port.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/detail/value_slot.hpp>
#include <asyncio/threads/thread_pool.hpp>

namespace asyncio {
namespace detail {

/// The error a call gets when its executor shut down before running it.
[[nodiscard]] auto make_shutdown_error() noexcept -> std::exception_ptr;
/// The loop's default executor, created on first use (a thread_pool of default_executor_threads()).
[[nodiscard]] auto default_executor(event_loop& loop) -> executor&;

/// A call in flight to an executor and back. See the file comment for who owns it when.
template <class R>
struct thread_call : pool_job, remote_item {
  loop_port* port = nullptr;           // where the completion goes (a reference is held)
  task_core* waiter = nullptr;         // loop thread only; null once the awaiter let go
  std::atomic<bool> abandoned{false};  // set by the loop when the awaiter lets go; read by the worker
  bool delivered = false;              // loop thread only: the completion has arrived
  value_slot<R> value;
  std::exception_ptr error;
  context_ref context;  // to_thread: the caller's context values, copied; run_in_executor: none
  void (*destroy)(thread_call* self) noexcept = nullptr;

  /// Loop side of the completion: wake the waiter, or free the call if nobody waits any more.
  static void on_deliver(remote_item* item, bool discard) noexcept {
    auto* c = static_cast<thread_call*>(item);
    if (!c->waiter) {
      c->destroy(c);
      return;
    }
    if (discard) return;  // the loop closed under a leaked task that still points here: keep it
    c->delivered = true;
    event_loop& loop = c->waiter->loop();
    detail::loop_access::add_remote_waits(loop, -1);
    detail::loop_access::schedule(loop, *c->waiter);  // waiting_ stays set: a late cancel still interrupts (as CPython)
  }
};

/// thread_call with its callable. Allocated from the per-thread frame pool (cheap on the loop
/// thread, where it is almost always freed too).
template <class R, class Fn>
struct thread_call_impl final : thread_call<R> {
  explicit thread_call_impl(Fn&& f) : fn(std::move(f)) {
    this->execute = &on_execute;
    this->deliver = &thread_call<R>::on_deliver;
    this->destroy = &on_destroy;
  }
  Fn fn;

  static auto operator new(std::size_t size) -> void* { return frame_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

  static void on_destroy(thread_call<R>* c) noexcept { delete static_cast<thread_call_impl*>(c); }

  /// Worker side (or shutdown dropping it unrun). Never touches the awaiting frame.
  static void on_execute(pool_job* job, bool run) noexcept {
    auto* c = static_cast<thread_call_impl*>(static_cast<thread_call<R>*>(job));
    loop_port* port = c->port;  // read before post(): the call may be freed right after it
    if (c->abandoned.load(std::memory_order_acquire)) {
      delete c;  // the awaiter let go before we started: skip the call (as a cancelled Future)
      port->release();
      return;
    }
    if (run) {
      // The call sees a copy of its caller's context_var values; what it sets stays in the copy.
      thread_context_scope scope(std::move(c->context));
      try {
        if constexpr (std::is_void_v<R>) {
          std::invoke(c->fn);
          c->value.set();
        } else {
          c->value.set(std::invoke(c->fn));
        }
      } catch (...) {
        c->error = std::current_exception();
      }
    } else {
      c->error = make_shutdown_error();
    }
    port->post(c);
    port->release();
  }
};

/// The awaiter of to_thread/run_in_executor. Owns the call until it is posted; see the file comment.
template <class R>
class thread_call_awaiter : public parked_awaiter<thread_call_awaiter<R>> {
  using base = parked_awaiter<thread_call_awaiter<R>>;
  friend base;

 public:
  thread_call_awaiter(executor* ex, thread_call<R>* call) noexcept : call_(call), executor_(ex) {}
  ~thread_call_awaiter() {
    if (call_) let_go();
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }

  auto await_resume() -> R {
    if (submit_error_) std::rethrow_exception(submit_error_);
    this->check_cancelled();  // aborted: the destructor lets go of the call
    if (call_->error) std::rethrow_exception(call_->error);
    return call_->value.take();
  }

 private:
  // parked_awaiter: post the call (false: it could not be submitted; await_resume raises why).
  // Inlined into await_suspend, which then stays one out-of-line function (parked_awaiter.hpp).
  [[gnu::always_inline]] auto link(task_core& t) noexcept -> bool {
    event_loop& loop = t.loop();
    try {
      executor& ex = executor_ ? *executor_ : default_executor(loop);
      call_->waiter = &t;
      call_->port = &detail::loop_access::port(loop);
      call_->port->add_ref();  // released by the worker after it posted (or skipped) the call
      submitted_ = true;
      detail::loop_access::add_remote_waits(loop, 1);
      // Last action: from here a worker may run the call (it never touches this frame).
      ex.post(*call_);
    } catch (...) {
      if (submitted_) {
        submitted_ = false;
        detail::loop_access::add_remote_waits(loop, -1);
        call_->port->release();
      }
      call_->waiter = nullptr;
      submit_error_ = std::current_exception();
      return false;
    }
    return true;
  }
  // parked_awaiter: cancelled while parked.
  auto abort_wait() noexcept -> bool {
    if (call_->delivered) return false;  // already scheduled by the delivery; await_resume throws
    let_go();                            // raise at once; the thread finishes and its result is dropped
    return true;
  }

  /// Drops the awaiter's hold on the call: frees it if nobody else can reach it, else abandons it
  /// to the worker/port pipeline (whoever sees it last frees it).
  void let_go() noexcept {
    thread_call<R>* c = std::exchange(call_, nullptr);
    if (!submitted_ || c->delivered) {
      c->destroy(c);
      return;
    }
    detail::loop_access::add_remote_waits(c->waiter->loop(), -1);
    c->waiter = nullptr;
    c->abandoned.store(true, std::memory_order_release);
  }

  thread_call<R>* call_;
  executor* executor_;  // null: the loop's default executor
  bool submitted_ = false;
  std::exception_ptr submit_error_;
};

template <class F, class... A>
using offload_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>;

/// Packs fn and args into a call and returns the awaiter that runs it on `ex` (null: default).
/// With `copy_context` (to_thread), the call runs in a copy of the current context.
template <class F, class... A>
auto offload(executor* ex, bool copy_context, F fn, A... args) {
  using R = offload_result_t<F, A...>;
  auto bound = [fn = std::move(fn), ... args = std::move(args)]() mutable -> R {
    return std::invoke(std::move(fn), std::move(args)...);
  };
  auto* call = new thread_call_impl<R, decltype(bound)>(std::move(bound));
  if (copy_context) {
    try {
      call->context = copy_current_context();
    } catch (...) {
      delete call;
      throw;
    }
  }
  return thread_call_awaiter<R>(ex, call);
}

}  // namespace detail

/// Runs fn(args...) on the running loop's default executor and returns its result (Python's
/// asyncio.to_thread). fn and args are moved into the call; fn runs with no running loop.
///
/// Context values: fn runs in a copy of the caller's context, as Python's to_thread runs it in
/// contextvars.copy_context(): context_var::get() in fn sees the caller's values at the time of
/// the call, and a set() in fn changes only the copy, which is dropped when fn returns. (Python's
/// run_in_executor copies nothing, and neither does ours.)
///
/// Example (a complete program):
///
///   #include <asyncio/asyncio.hpp>
///   #include <string>
///   #include <unistd.h>
///
///   asyncio::context_var<std::string> request_id("request_id", "-");
///
///   std::string blocking_lookup(int n) {
///     ::usleep(1000);                                       // blocking: keep it off the loop
///     return request_id.get() + ": " + std::to_string(n);   // the caller's value
///   }
///
///   asyncio::task<int> amain() {
///     request_id.set("req-7");
///     std::string line = co_await asyncio::to_thread(blocking_lookup, 42);
///     co_return line == "req-7: 42" ? 0 : 1;
///   }
///
///   int main() { return asyncio::run(amain()); }
///
/// Cancellation: raises cancelled_error at once; the thread still finishes the call (a running
///   thread cannot be interrupted) and its result or exception is dropped. A call cancelled before a
///   worker started it is skipped.
/// Resumes: on the awaiting task's loop, after the call returned or threw on the worker.
/// Thread safety: await on a loop thread; fn runs on a worker thread.
/// Throws: whatever fn throws (rethrown in the awaiter); invalid_state_error if the executor was
/// shut down.
template <class F, class... A>
auto to_thread(F fn, A... args) -> task<detail::offload_result_t<F, A...>> {
  co_return co_await detail::offload(nullptr, true, std::move(fn), std::move(args)...);
}

/// Runs fn(args...) on `ex` and returns its result (Python's loop.run_in_executor). `ex` must
/// outlive the call.
///
/// Cancellation: as to_thread.
/// Resumes: on the awaiting task's loop.
/// Thread safety: await on a loop thread; fn runs on one of ex's threads.
/// Throws: whatever fn throws; invalid_state_error if ex was shut down.
template <class F, class... A>
auto run_in_executor(executor& ex, F fn, A... args) -> task<detail::offload_result_t<F, A...>> {
  co_return co_await detail::offload(&ex, false, std::move(fn), std::move(args)...);
}

/// run_in_executor on the loop's default executor (Python's run_in_executor(None, ...)).
template <class F, class... A>
auto run_in_executor(std::nullptr_t, F fn, A... args) -> task<detail::offload_result_t<F, A...>> {
  co_return co_await detail::offload(nullptr, false, std::move(fn), std::move(args)...);
}

/// The number of threads of a loop's default executor: min(32, hardware threads + 4), Python's
/// ThreadPoolExecutor default. Sized for blocking calls, not for the cores: to_thread exists for
/// calls that wait (files, DNS, blocking libraries), and a thread that waits costs no CPU, so one
/// thread per core made 40 calls of 50 ms take 1 s on 2 cores. "+ 4" keeps at least 5 such calls
/// going at once on the smallest machine; the cap of 32 keeps a many-core machine from starting
/// dozens of threads on its first to_thread (this pool starts its threads at once, Python's on
/// demand). A program that needs more calls in flight sets its own pool:
///
///   #include <asyncio/asyncio.hpp>
///   #include <memory>
///
///   asyncio::task<void> amain() {
///     asyncio::thread_pool_options options{.threads = 64};
///     auto pool = std::make_shared<asyncio::thread_pool>(options);
///     asyncio::set_default_executor(asyncio::get_running_loop(), pool);
///     co_await asyncio::to_thread([] { /* blocking work */ });
///   }
///
///   int main() { asyncio::run(amain()); }
///
/// Thread safety: any thread.
[[nodiscard]] auto default_executor_threads() noexcept -> std::size_t;

/// The default executor of `loop`, created on first use: a thread_pool of
/// default_executor_threads() threads, unless set_default_executor() replaced it.
/// Thread safety: loop-affine.
/// Throws: invalid_state_error if the loop is closed and has none yet; whatever starting the threads throws.
[[nodiscard]] auto get_default_executor(event_loop& loop) -> executor&;

/// Replaces the default executor of `loop` (Python's loop.set_default_executor). With
/// `shutdown_at_close` (Python's behaviour), the loop shuts it down when it closes, waiting at most
/// the pool's shutdown timeout and reporting abandoned threads through the exception handler;
/// pass false for an executor shared by several loops (asyncio::runtime does).
/// Thread safety: loop-affine.
void set_default_executor(event_loop& loop, std::shared_ptr<executor> ex, bool shutdown_at_close = true);

}  // namespace asyncio
