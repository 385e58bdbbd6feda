#pragma once
// task_core: a running task (Python's Task while its coroutine has not finished): a task_base
// driven by a coroutine chain, with the suspension it is parked at and its innermost frame.
#include <coroutine>

#include <asyncio/detail/suspension.hpp>
#include <asyncio/detail/task_base.hpp>

namespace asyncio::detail {

/// The asyncio Task: a completion driven by a coroutine chain. Embedded in the promise of every
/// task<T> frame and used only when that frame was promoted to a task by create_task.
///
/// Invariant while not done, exactly one of:
///  (a) running: the loop is executing the task's frames (current_task() == this);
///  (b) scheduled: on the ready queue exactly once; waiting_ may still name a suspension whose
///      wake-up has happened (see the protocol above);
///  (c) parked: waiting_ != nullptr and the task is on no queue; only the suspension's wake-up or
///      its abort moves it to (b).
class task_core : public task_base {
 public:
  /// Parks the task at `s` with `h` as the frame to resume. Returns false (do not suspend) if a
  /// cancel is pending; the awaiter must then throw from await_resume via consume_cancel().
  [[nodiscard]] auto park(suspension& s, std::coroutine_handle<> h) noexcept -> bool {
    resume_ = h;
    if (must_cancel_) [[unlikely]] return false;
    waiting_ = &s;
    return true;
  }
  /// Called from await_resume: true if this suspension was aborted by cancel().
  [[nodiscard]] auto unpark(suspension& s) noexcept -> bool {
    if (waiting_ == &s) {
      waiting_ = nullptr;
      return false;
    }
    return true;
  }
  /// Marks a woken suspension as no longer abortable (it carries a value that must not be lost).
  void clear_waiting(suspension& s) noexcept {
    if (waiting_ == &s) waiting_ = nullptr;
  }
  /// Parks the task at `s` again (an abort that keeps waiting, e.g. for a cancelled child).
  void repark(suspension& s) noexcept { waiting_ = &s; }
  [[nodiscard]] auto waiting() const noexcept -> suspension* { return waiting_; }

  [[nodiscard]] auto resume_point() const noexcept -> std::coroutine_handle<> { return resume_; }
  void set_resume_point(std::coroutine_handle<> h) noexcept { resume_ = h; }
  [[nodiscard]] auto started() const noexcept -> bool { return started_; }

  /// Destroys the task's frame. Only once the task is done or never started, when resume_ is the
  /// root frame (finish_root and the unstarted path guarantee it).
  void destroy_frame() noexcept { resume_.destroy(); }

 protected:
  std::coroutine_handle<> resume_{};  // innermost suspended frame (the root frame once done)
  suspension* waiting_ = nullptr;

 private:
  // task_base::cancel's work for a task that is not done yet.
  auto cancel_unfinished(const shared_message& message) noexcept -> bool;

  friend class asyncio::event_loop;
  friend class task_base;
  friend class finished_task;
};

}  // namespace asyncio::detail
