#pragma once
// sleep(d): suspend the calling task for d on the loop's clock. sleep(0s) yields to the loop: the
// task goes to the back of the ready queue (Python's bare `yield` in asyncio.sleep(0)).
#include <coroutine>
#include <cstdint>
#include <utility>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>

namespace asyncio {
namespace detail {

/// Awaiter behind sleep()/sleep_until(). Lives in the sleeping frame; the timer slot is released
/// when it fires, when it is aborted, or when the frame is destroyed mid-sleep.
class sleep_awaiter : suspension, timer_target {
 public:
  explicit sleep_awaiter(time_point deadline, bool yield_only) noexcept
      : deadline_(deadline), yield_only_(yield_only) {
    suspension::abort = &on_abort;
    timer_target::fire = &on_fire;
  }
  /// Movable until awaited (core/awaitable.hpp: wait_for(sleep(d), limit)); the moved-from one is
  /// inert (awaiting it stops the program, detail/awaiter_misuse.hpp).
  sleep_awaiter(sleep_awaiter&& o) noexcept : deadline_(o.deadline_), yield_only_(o.yield_only_), moved_(o.moved_) {
    if (o.task_) [[unlikely]] awaiter_misuse(moved_after_await);
    o.moved_ = true;
    suspension::abort = &on_abort;
    timer_target::fire = &on_fire;
  }
  sleep_awaiter(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (key_ != timer_heap::no_timer) detail::loop_access::cancel_timer(task_->loop(), key_);
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool {
    if (moved_) [[unlikely]] awaiter_misuse(awaited_moved_from);
    return false;
  }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;
    if (yield_only_) detail::loop_access::schedule(t.loop(), t);
    else key_ = detail::loop_access::add_timer(t.loop(), deadline_, this);
    return true;
  }
  void await_resume() {
    if (task_->unpark(*this)) task_->throw_cancelled();
  }

 private:
  static void on_fire(timer_target* self) noexcept {
    auto* s = static_cast<sleep_awaiter*>(self);
    s->key_ = timer_heap::no_timer;
    detail::loop_access::schedule(s->task_->loop(), *s->task_);  // waiting_ stays set: a late cancel still interrupts
  }
  static void on_abort(suspension* self, task_core& t) noexcept {
    auto* s = static_cast<sleep_awaiter*>(self);
    if (s->key_ == timer_heap::no_timer) return;  // already scheduled (yield, or timer fired)
    detail::loop_access::cancel_timer(t.loop(), s->key_);
    s->key_ = timer_heap::no_timer;
    detail::loop_access::schedule(t.loop(), t);
  }

  time_point deadline_;
  task_core* task_ = nullptr;
  std::uint64_t key_ = timer_heap::no_timer;
  bool yield_only_;
  bool moved_ = false;  // moved-from: inert
};

}  // namespace detail

/// Suspends the calling task until `deadline` on its loop's clock.
///
/// Cancellation: safe; raises cancelled_error and releases the timer.
/// Resumes: on the task's loop, in deadline order (ties in the order the sleeps started).
[[nodiscard]] inline auto sleep_until(time_point deadline) noexcept -> detail::sleep_awaiter {
  return detail::sleep_awaiter(deadline, false);
}

/// Suspends the calling task for `delay` (Python's asyncio.sleep). sleep(0s) (or a negative delay)
/// yields: the task goes to the back of the ready queue and resumes after the tasks already ready.
/// A delay of more than a century sleeps until time_point::max() (forever). The deadline is taken
/// when sleep() is called, so `wait_for(asyncio::sleep(10s), 1s)` (core/awaitable.hpp) sleeps
/// until 10 s after that call even if the returned task is awaited later.
///
/// Cancellation: safe; raises cancelled_error and releases the timer.
/// Resumes: on the task's loop.
template <class Rep, class Period>
[[nodiscard]] auto sleep(std::chrono::duration<Rep, Period> delay) -> detail::sleep_awaiter {
  if (delay <= delay.zero()) return detail::sleep_awaiter(time_point{}, true);
  // A delay beyond a century means "forever": clamp it before the conversion to int64 nanoseconds
  // (292 years), which hours::max() or duration<double>(1e300) would overflow.
  constexpr std::chrono::duration<double> forever = std::chrono::hours(24 * 365 * 100);
  if (std::chrono::duration<double>(delay) >= forever) return detail::sleep_awaiter(time_point::max(), false);
  return detail::sleep_awaiter(get_running_loop().time() + std::chrono::ceil<duration>(delay), false);
}

namespace detail {
template <class T>
auto sleep_then(sleep_awaiter wait, T result) -> task<T> {
  co_await std::move(wait);
  co_return std::move(result);
}
}  // namespace detail

/// Suspends the calling task for `delay`, then returns `result` (Python's asyncio.sleep(delay,
/// result)). The deadline is taken when sleep() is called, as for sleep(delay); `result` is kept
/// (moved) in the returned lazy task until it is awaited.
///
///   int answer = co_await asyncio::sleep(10ms, 42);
///
/// Cancellation: as sleep(delay): raises cancelled_error and releases the timer; `result` is
/// destroyed with the task.
/// Resumes: on the task's loop.
/// Throws: std::bad_alloc (the task's frame).
template <class Rep, class Period, class T>
[[nodiscard]] auto sleep(std::chrono::duration<Rep, Period> delay, T result) -> task<T> {
  return detail::sleep_then<T>(sleep(delay), std::move(result));
}

}  // namespace asyncio
