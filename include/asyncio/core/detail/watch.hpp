#pragma once
// Plumbing shared by the combinators (gather, wait, as_completed, task_group): one task watching
// many completions at once.
//
//  * watch_node: a completion_waiter whose completion calls its owner back (completion_waiter::
//    on_complete) instead of scheduling a task, so that N children finishing wake the watcher at
//    most once (a task must never be on the ready queue twice).
//  * parking_spot: the single suspension where the watching task parks. The owner calls wake()
//    when its condition holds. What a cancel() of the parked task does is the owner's choice:
//      - interrupt (no hook): the task is woken and cancelled_error is raised (wait, as_completed);
//      - keep waiting (hook): the hook runs (e.g. cancels the children) and the task stays parked
//        until the owner wakes it (gather, task_group exit), as CPython's gather future does.
//  * this_task(): the task running the awaiting frame, without suspending.
#include <coroutine>
#include <cstddef>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/task_core.hpp>

namespace asyncio::detail {

/// A watcher of one completion. Not movable while linked (the completion points at it).
struct watch_node : completion_waiter {
  using notify_fn = void (*)(watch_node* self) noexcept;

  notify_fn notify = nullptr;  // called once when the watched completion finishes
  void* owner = nullptr;
  std::size_t index = 0;
  bool linked = false;

  watch_node() noexcept { task = nullptr; }
  watch_node(const watch_node&) = delete;
  auto operator=(const watch_node&) -> watch_node& = delete;
  ~watch_node() { unwatch(); }

  /// Starts watching `c`, which must not be done yet, on behalf of `watcher`: the task that will
  /// act on the outcome (kept in completion_waiter::task, which complete() ignores for a watch
  /// node, so that the task tree (debug/task_tree.hpp) can tell who awaits `c`; may be null).
  void watch(completion& c, task_core* watcher) noexcept {
    source = &c;
    task = watcher;
    on_complete = &trampoline;
    linked = true;
    c.add_waiter(*this);
  }
  /// Stops watching (no-op if not linked).
  void unwatch() noexcept {
    if (linked) {
      source->remove_waiter(*this);
      linked = false;
    }
  }

 private:
  static void trampoline(completion_waiter* w) noexcept {
    auto* n = static_cast<watch_node*>(w);
    n->linked = false;
    n->notify(n);
  }
};

/// Where a combinator's task parks (see the file comment).
class parking_spot : public suspension {
 public:
  using cancel_hook = void (*)(parking_spot* self, task_core& task) noexcept;

  /// `hook` null: a cancel interrupts the wait. Otherwise the hook runs and the task keeps waiting.
  explicit parking_spot(cancel_hook hook = nullptr, void* owner = nullptr) noexcept
      : hook_(hook), owner_(owner) {
    abort = &on_abort;
  }
  parking_spot(const parking_spot&) = delete;
  auto operator=(const parking_spot&) -> parking_spot& = delete;

  /// Schedules the parked task; a no-op if it is not parked here or was already woken.
  void wake() noexcept {
    if (!parked_) return;
    parked_ = false;
    detail::loop_access::schedule(task_->loop(), *task_);
  }
  [[nodiscard]] auto owner() const noexcept -> void* { return owner_; }
  [[nodiscard]] auto parked() const noexcept -> bool { return parked_; }

  struct awaiter {
    parking_spot* spot;
    [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
      task_core& t = task_of(h);
      spot->task_ = &t;
      if (!t.park(*spot, h)) return false;  // a cancel is pending: handled in await_resume
      spot->parked_ = true;
      return true;
    }
    /// Interrupt mode: throws cancelled_error if cancelled. Keep-waiting mode: never throws for
    /// a cancel (the hook has run, now or earlier); the owner re-checks its condition.
    void await_resume() { spot->resume(); }
  };
  /// Parks the calling task until wake() (or, in interrupt mode, a cancel).
  ///
  /// Cancellation: see the constructor.
  /// Resumes: on the task's loop, after wake() scheduled it.
  [[nodiscard]] auto wait() noexcept -> awaiter { return awaiter{this}; }

 private:
  void resume();
  static void on_abort(suspension* self, task_core& t) noexcept;

  cancel_hook hook_;
  void* owner_;
  task_core* task_ = nullptr;
  bool parked_ = false;     // parked here and not yet woken
  bool hook_ran_ = false;   // keep-waiting mode: a cancel was handled by the hook during this wait
};

/// Awaitable giving the task that runs the awaiting frame, without suspending.
struct this_task_awaiter {
  task_core* task = nullptr;
  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task = &task_of(h);
    return false;
  }
  [[nodiscard]] auto await_resume() const noexcept -> task_core& { return *task; }
};
[[nodiscard]] inline auto this_task() noexcept -> this_task_awaiter { return {}; }

/// The T of task<T> (for APIs taking a callable that returns a task).
template <class T>
struct task_value;
template <class T>
struct task_value<task<T>> {
  using type = T;
};

/// Clears a cancel that is pending delivery on `t` (must_cancel) without raising it; returns
/// whether there was one. For waits that absorb a cancel and forward it (keep-waiting mode).
auto consume_pending_cancel(task_core& t) noexcept -> bool;

}  // namespace asyncio::detail
