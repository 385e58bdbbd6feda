#pragma once
// run_coroutine_threadsafe(coro, loop): start a coroutine on a loop from any other thread and get a
// concurrent_future, a thread-safe future that a plain thread can wait on (with a timeout), read,
// or cancel (Python's asyncio.run_coroutine_threadsafe and concurrent.futures.Future).
//
// Lifetimes: the shared state is reference counted (std::shared_ptr) and touched by the plain thread
// only under its mutex. The task handle lives in the state but is read and released on the loop's
// thread only (task handles are loop-affine), by the wrapper coroutine and by posted callbacks.
// cancel() reaches the loop through the loop's port (detail/loop_port.hpp) with an item that is part
// of the state, so cancelling allocates nothing and cannot fail.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/loop_port.hpp>
#include <asyncio/detail/unique_function.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {
namespace detail {

template <class T>
struct concurrent_state : remote_item {  // the item: concurrent_future::cancel() posts it
  using stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  enum class phase : unsigned char { pending, value, exception, cancelled };

  explicit concurrent_state(loop_port& p) noexcept : port(&p) {
    port->add_ref();
    deliver = &on_cancel;
  }
  concurrent_state(const concurrent_state&) = delete;
  auto operator=(const concurrent_state&) -> concurrent_state& = delete;
  ~concurrent_state() { port->release(); }

  std::mutex mutex;
  std::condition_variable done_cv;
  phase state = phase::pending;
  std::optional<stored> value;
  std::exception_ptr error;
  any_task task;  // loop thread only
  loop_port* port;  // the task's loop's (a reference is held): cancel() posts this state to it
  std::shared_ptr<concurrent_state> cancel_hold;  // keeps the state alive while the cancel travels
  std::vector<unique_function<void()>> done_callbacks;  // guarded by mutex; run once, outside it

  /// Runs the done callbacks once the state left pending: call with `lock` held on `mutex`, right
  /// after the change; unlocks it.
  void notify_done(std::unique_lock<std::mutex>& lock) {
    std::vector<unique_function<void()>> callbacks = std::move(done_callbacks);
    done_callbacks.clear();
    lock.unlock();
    done_cv.notify_all();
    for (auto& cb : callbacks) cb();
  }

  /// Loop side of cancel(): cancels the task if it started (a start that comes later finds the
  /// state cancelled and never runs the coroutine). A closed loop discards it: its tasks were
  /// cancelled already.
  static void on_cancel(remote_item* item, bool discard) noexcept {
    auto* s = static_cast<concurrent_state*>(item);
    std::shared_ptr<concurrent_state> hold = std::move(s->cancel_hold);
    if (!discard && s->task) (void)s->task.core()->cancel_noexcept();
  }

  /// Sets the outcome unless one is set already (a cancel() from another thread wins).
  template <class Set>
  void finish(phase p, Set&& set) {
    std::unique_lock lock(mutex);
    if (state != phase::pending) return;
    set();
    state = p;
    notify_done(lock);
  }
};

/// The coroutine run as a task on the target loop: awaits the user's coroutine and publishes its
/// outcome to the state.
template <class T>
auto publish_outcome(std::shared_ptr<concurrent_state<T>> s, task<T> coro) -> task<void> {
  using phase = typename concurrent_state<T>::phase;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(coro);
      s->finish(phase::value, [&] { s->value.emplace(); });
    } else {
      T v = co_await std::move(coro);
      s->finish(phase::value, [&] { s->value.emplace(std::move(v)); });
    }
  } catch (const cancelled_error&) {
    s->finish(phase::cancelled, [] {});
  } catch (...) {
    auto e = std::current_exception();
    s->finish(phase::exception, [&] { s->error = e; });
  }
  s->task = any_task();  // on the loop thread (the loop still holds its own reference)
}

}  // namespace detail

/// A result computed on an event loop, readable from any thread (Python's concurrent.futures.Future
/// as returned by run_coroutine_threadsafe). Copies share one state.
///
/// Cancellation: cancel() marks the future cancelled at once and cancels the task on its loop.
/// Thread safety: every member may be called from any thread. Waiting on a loop's own thread
/// blocks that loop: from a coroutine, await the work with asyncio::run_on instead.
template <class T>
class concurrent_future {
  using state = detail::concurrent_state<T>;
  using phase = typename state::phase;

 public:
  concurrent_future() = default;
  explicit concurrent_future(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

  /// True once the result, an exception or a cancellation is set.
  [[nodiscard]] auto done() const -> bool {
    std::lock_guard lock(state_->mutex);
    return state_->state != phase::pending;
  }
  /// True if cancelled (by cancel() or because the task was cancelled on its loop).
  [[nodiscard]] auto cancelled() const -> bool {
    std::lock_guard lock(state_->mutex);
    return state_->state == phase::cancelled;
  }
  /// Blocks until done.
  void wait() const {
    std::unique_lock lock(state_->mutex);
    state_->done_cv.wait(lock, [&] { return state_->state != phase::pending; });
  }
  /// Blocks until done or `timeout` passed; true if done.
  template <class Rep, class Period>
  auto wait_for(std::chrono::duration<Rep, Period> timeout) const -> bool {
    std::unique_lock lock(state_->mutex);
    return state_->done_cv.wait_for(lock, timeout, [&] { return state_->state != phase::pending; });
  }
  /// Waits (at most `timeout`, if given) and returns the result.
  /// Throws: timeout_error if not done in time; cancelled_error if cancelled; the coroutine's
  /// exception otherwise.
  auto result(std::optional<duration> timeout = std::nullopt) -> T {
    std::unique_lock lock(state_->mutex);
    wait_finished(lock, timeout);
    if (state_->state == phase::exception) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return std::move(*state_->value);
  }
  /// Waits (at most `timeout`) and returns the exception (null if the coroutine returned).
  /// Throws: timeout_error, cancelled_error as result().
  auto exception(std::optional<duration> timeout = std::nullopt) -> std::exception_ptr {
    std::unique_lock lock(state_->mutex);
    wait_finished(lock, timeout);
    return state_->error;
  }
  /// Cancels: the future is cancelled at once (waiters wake) and the task is cancelled on its loop
  /// (its eventual outcome is dropped). False if already done.
  auto cancel() -> bool {
    std::unique_lock lock(state_->mutex);
    if (state_->state != phase::pending) return false;
    state_->state = phase::cancelled;
    state_->notify_done(lock);
    // Only the thread that moved the state to cancelled gets here, so the item is posted once.
    state_->cancel_hold = state_;
    state_->port->post(state_.get());
    return true;
  }
  /// Calls fn() once the future is done (Python's concurrent.futures.Future.add_done_callback):
  /// in the thread that completes or cancels it, or at once in this thread if it is done already.
  /// fn must not throw (it would escape from whichever thread completes the future).
  /// Thread safety: any thread. fn runs on an arbitrary thread: to reach a loop, it calls
  /// call_soon_threadsafe (wrap_future does, threads/wrap_future.hpp).
  /// Throws: std::bad_alloc.
  void add_done_callback(detail::unique_function<void()> fn) {
    {
      std::lock_guard lock(state_->mutex);
      if (state_->state == phase::pending) {
        state_->done_callbacks.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }
  [[nodiscard]] auto valid() const noexcept -> bool { return state_ != nullptr; }

 private:
  /// What result() and exception() both do first: wait (holding `lock` on state_->mutex) until
  /// done, at most `timeout` if given, and leave only a value or an exception to read.
  /// Throws: timeout_error if not done in time; cancelled_error if cancelled.
  void wait_finished(std::unique_lock<std::mutex>& lock, const std::optional<duration>& timeout) const {
    auto ready = [&] { return state_->state != phase::pending; };
    if (timeout) {
      if (!state_->done_cv.wait_for(lock, *timeout, ready)) throw timeout_error();
    } else {
      state_->done_cv.wait(lock, ready);
    }
    if (state_->state == phase::cancelled) throw cancelled_error();
  }

  std::shared_ptr<state> state_;
};

/// Starts `coro` as a task on `loop` from any thread and returns a concurrent_future for its outcome
/// (Python's asyncio.run_coroutine_threadsafe). The task is created by a call_soon_threadsafe
/// callback; `loop` must outlive that callback (a closed loop drops it and the future stays pending,
/// so wait with a timeout if the loop may be gone).
///
/// Cancellation: concurrent_future::cancel() cancels the task on its loop.
/// Thread safety: call from any thread, including another loop's thread.
template <class T>
auto run_coroutine_threadsafe(task<T> coro, event_loop& loop) -> concurrent_future<T> {
  auto s = std::make_shared<detail::concurrent_state<T>>(detail::loop_access::port(loop));
  loop.call_soon_threadsafe([s, c = std::move(coro)]() mutable {
    {
      std::lock_guard lock(s->mutex);
      if (s->state == detail::concurrent_state<T>::phase::cancelled) {
        if (auto h = c.release()) h.destroy();  // cancelled before it started: never run it
        return;
      }
    }
    auto t = create_task(detail::publish_outcome<T>(s, std::move(c)));
    if (!t.done()) s->task = t;
  });
  return concurrent_future<T>(std::move(s));
}

}  // namespace asyncio
