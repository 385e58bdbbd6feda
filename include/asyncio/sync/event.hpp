#pragma once
// event: a flag tasks can wait for (Python's asyncio.Event).
//
// Example (doc-test: compile-only, the lines run in different tasks):
//
//   asyncio::event ready;
//   co_await ready.wait();     // in one task
//   ready.set();               // in another: wakes every waiter
#include <cstddef>
#include <iosfwd>
#include <string>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/awaiter_misuse.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/detail/wakeup_awaiter.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

class event;

/// What event::statistics() reports.
struct event_statistics {
  bool is_set = false;
  std::size_t waiters = 0;  // tasks parked in wait()
};

namespace detail {

/// Awaiter behind event::wait(). Nothing is handed over, so a wake-up has nothing to lose: the
/// task stays parked on it until it resumes and a late cancel still interrupts it (as CPython;
/// sync/detail/wakeup_awaiter.hpp).
class event_awaiter : public wakeup_awaiter<event_awaiter> {
  using base = wakeup_awaiter<event_awaiter>;
  friend base;

 public:
  explicit event_awaiter(event& ev) noexcept : ev_(&ev) {}
  /// Movable until awaited (core/awaitable.hpp: wait_for(ev.wait(), d)); the moved-from one is
  /// inert (awaiting it stops the program, detail/awaiter_misuse.hpp).
  event_awaiter(event_awaiter&& o) noexcept : base(std::move(o)), ev_(std::exchange(o.ev_, nullptr)) {}
  ~event_awaiter() { unlink(); }

  [[nodiscard]] auto await_ready() const noexcept -> bool;

 private:
  auto waiters() noexcept -> waiter_list<event_awaiter>&;

  event* ev_;
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
  [[nodiscard]] auto wait() noexcept ASYNCIO_LIFETIMEBOUND -> detail::event_awaiter {
    return detail::event_awaiter(*this);
  }

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
inline auto event_awaiter::await_ready() const noexcept -> bool {
  if (!ev_) [[unlikely]] awaiter_misuse(awaited_moved_from);
  return ev_->is_set_;
}
inline auto event_awaiter::waiters() noexcept -> waiter_list<event_awaiter>& { return ev_->waiters_; }
}  // namespace detail

}  // namespace asyncio
