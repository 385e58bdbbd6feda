#pragma once
// event: a flag tasks can wait for (Python's asyncio.Event).
//
//   asyncio::event ready;
//   co_await ready.wait();     // in one task
//   ready.set();               // in another: wakes every waiter
#include <cstddef>
#include <iosfwd>
#include <string>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>
#include <asyncio/detail/waiter_list.hpp>

namespace asyncio {

class event;

/// What event::statistics() reports.
struct event_statistics {
  bool is_set = false;
  std::size_t waiters = 0;  // tasks parked in wait()
};

namespace detail {

/// Awaiter behind event::wait(). Nothing is handed over, so a wake-up has nothing to lose: the
/// task stays parked on it until it resumes and a late cancel still interrupts it (as CPython).
class event_awaiter : suspension, public waiter_node {
 public:
  explicit event_awaiter(event& ev) noexcept : ev_(&ev) { suspension::abort = &on_abort; }
  /// Movable until awaited (core/awaitable.hpp: wait_for(ev.wait(), d)); the moved-from one is
  /// inert (awaiting it stops the program, detail/awaiter_misuse.hpp).
  event_awaiter(event_awaiter&& o) noexcept : waiter_node(), ev_(o.ev_) {
    if (o.task_ || o.linked) [[unlikely]] awaiter_misuse(moved_after_await);
    o.ev_ = nullptr;
    suspension::abort = &on_abort;
  }
  event_awaiter(const event_awaiter&) = delete;
  auto operator=(const event_awaiter&) -> event_awaiter& = delete;
  ~event_awaiter();

  [[nodiscard]] auto await_ready() const noexcept -> bool;
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;
    link();  // last action
    return true;
  }
  void await_resume() {
    if (task_ && task_->unpark(*this)) task_->throw_cancelled();
  }
  /// Called by event::set(): the waiter is already unlinked.
  void wake() noexcept { task_->loop().schedule(*task_); }

 private:
  void link() noexcept;
  static void on_abort(suspension* self, task_core& t) noexcept;

  event* ev_;
  task_core* task_ = nullptr;
};

}  // namespace detail

/// A flag, initially false, that tasks can wait for (Python's asyncio.Event). set() wakes every
/// waiter; clear() resets the flag for future waits. Not movable: waiters point into it.
///
/// Thread safety: loop-affine; from another thread use loop.call_soon_threadsafe(&event::set...).
class event {
 public:
  event() noexcept = default;
  event(const event&) = delete;
  auto operator=(const event&) -> event& = delete;

  /// Waits until the flag is set; returns at once if it is set already.
  ///
  /// With a limit: `co_await asyncio::wait_for(ev.wait(), 5s)` (the awaiter is movable until
  /// awaited; core/awaitable.hpp).
  ///
  /// Cancellation: safe; raises cancelled_error (also if set() woke the task but it had not resumed
  /// yet, as CPython: there is nothing to hand back). Under wait_for/timeout a timed-out wait
  /// leaves the waiter list as if it had never waited.
  /// Resumes: on the event's loop, waiters in the order they started waiting.
  [[nodiscard]] auto wait() noexcept -> detail::event_awaiter { return detail::event_awaiter(*this); }

  /// Sets the flag and wakes every waiter. A no-op if already set.
  void set() noexcept {
    if (is_set_) return;
    is_set_ = true;
    while (auto* w = waiters_.pop_front()) w->wake();
  }
  /// Resets the flag: later wait() calls suspend until the next set().
  void clear() noexcept { is_set_ = false; }
  [[nodiscard]] auto is_set() const noexcept -> bool { return is_set_; }

  [[nodiscard]] auto statistics() const noexcept -> event_statistics { return {is_set_, waiters_.size()}; }
  /// "<event set>" or "<event unset waiters=2>" (Python's repr).
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const event& e) -> std::ostream&;

 private:
  friend class detail::event_awaiter;
  // Invariant: waiters_ is empty while is_set_.
  detail::waiter_list<detail::event_awaiter> waiters_;
  bool is_set_ = false;
};

namespace detail {
inline event_awaiter::~event_awaiter() {
  if (linked) ev_->waiters_.remove(*this);
}
inline auto event_awaiter::await_ready() const noexcept -> bool {
  if (!ev_) [[unlikely]] awaiter_misuse(awaited_moved_from);
  return ev_->is_set_;
}
inline void event_awaiter::link() noexcept { ev_->waiters_.push_back(*this); }
inline void event_awaiter::on_abort(suspension* self, task_core& t) noexcept {
  auto* w = static_cast<event_awaiter*>(self);
  if (!w->linked) return;  // set() woke it already: it is scheduled and will raise
  w->ev_->waiters_.remove(*w);
  t.loop().schedule(t);
}
}  // namespace detail

}  // namespace asyncio
