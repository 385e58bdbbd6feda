#pragma once
// task_base: a task as its handles see it, running (task_core, detail/running_task.hpp) or
// finished inside create_task (finished_task, detail/finished_task.hpp): a completion with a loop,
// a name and the cancel requests.
#include <source_location>
#include <string>

#include <asyncio/detail/completion.hpp>
#include <asyncio/detail/debug_check.hpp>

namespace asyncio::detail {

/// What every task has, running or finished: a completion with a loop and a name. Task handles
/// (any_task, task_handle<T>) point at a task_base, which is either a task_core (a coroutine frame
/// promoted by create_task) or a finished_task (a task that finished inside create_task, kept
/// without its frame: W1). A finished_task is done from birth, so everything here that concerns
/// running tasks checks done() before it treats the object as a task_core.
class task_base : public completion {
 public:
  /// The task's name, "Task-N" (numbered on first use) unless one was set.
  [[nodiscard]] auto task_name() -> std::string;
  [[nodiscard]] auto loop() const noexcept -> event_loop& {
    ASYNCIO_DEBUG_CHECK(is_task_);  // a frame that is not a task has chain_task_ here (below)
    return *loop_;
  }

  /// Requests cancellation (Python's Task.cancel). False if already done.
  /// Throws: std::bad_alloc only if `message` is not empty and there is no memory to keep it;
  /// nothing has changed then.
  auto cancel(std::string message = {}) -> bool;
  /// cancel() for the library's own paths (a timeout expiring, a task_group or gather cancelling
  /// its children, a cancel passed on to an awaited task): cannot fail. Counting the request and
  /// delivering it need no memory; a message is kept in the extras, and if those cannot be
  /// allocated the cancel is delivered without it. False if already done.
  auto cancel_noexcept(const shared_message& message = {}) noexcept -> bool;
  /// Number of pending cancel requests (Python's Task.cancelling).
  [[nodiscard]] auto cancelling() const noexcept -> int {
    const unsigned n = status_ >> cancel_count_shift;
    return n == cancel_count_in_extras ? extras_->cancel_requests : static_cast<int>(n);
  }
  /// Decrements the cancel request count (Python's Task.uncancel). At zero, a cancel still waiting
  /// for delivery is dropped (CPython gh-102780 behaviour).
  auto uncancel() noexcept -> int;
  /// Throws cancelled_error with the task's cancel message, clearing a pending must_cancel.
  [[noreturn]] void throw_cancelled();
  [[nodiscard]] auto must_cancel() const noexcept -> bool { return must_cancel_; }
  /// Clears a cancel pending delivery (must_cancel) without raising it; true if there was one.
  auto take_pending_cancel() noexcept -> bool {
    const bool pending = must_cancel_;
    must_cancel_ = false;
    return pending;
  }

  /// Where this task was created (valid if has_location()).
  [[nodiscard]] auto created_at() const noexcept -> std::source_location {
    return extras_ ? extras_->created_at : std::source_location();
  }

  /// True if this is a finished_task (see there).
  [[nodiscard]] auto compact() const noexcept -> bool { return compact_; }
  /// The result of a finished_task (R is the stored type: the value, or a pointer for a reference).
  template <class R>
  [[nodiscard]] auto compact_result() noexcept -> R& {
    return *std::launder(reinterpret_cast<R*>(finished_value()));
  }

 protected:
  /// A frame that is not a task: the task whose chain it runs in (promise_base::owner_task).
  [[nodiscard]] auto chain_task() const noexcept -> task_core* {
    ASYNCIO_DEBUG_CHECK(!is_task_);
    return chain_task_;
  }
  void set_chain_task(task_core* t) noexcept {
    ASYNCIO_DEBUG_CHECK(!is_task_);
    chain_task_ = t;
  }

  // Counts one more cancel request (cancelling()). Up to 30 in the status byte; the 31st moves the
  // count to the extras. Without memory for them the count stays at 30: only 31 requests pending
  // at once on a task without extras, and no memory, make cancelling() one too low.
  void count_cancel_request() noexcept;

  // A task's loop. A frame that is not a task (awaited lazily by `co_await f()`) never uses loop_
  // and keeps here the task whose chain it runs in instead (promise_base::owner_task): sharing the
  // word makes every frame 8 bytes smaller (W3).
  union {
    event_loop* loop_ = nullptr;
    task_core* chain_task_;
  };

  friend class asyncio::event_loop;
};

}  // namespace asyncio::detail
