#pragma once
// semaphore / bounded_semaphore: a counter of free units (Python's asyncio.Semaphore and
// BoundedSemaphore). Typical use bounds concurrency:
//
//   asyncio::semaphore slots(10);
//   auto guard = co_await slots.acquire();   // at most 10 tasks get past this line at once
//
// Like lock, release() hands a unit straight to the oldest waiter (fair, no barging).
#include <cstddef>
#include <iosfwd>
#include <string>

#include <asyncio/detail/lifetimebound.hpp>
#include <asyncio/sync/detail/acquire_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/lock_guard.hpp>

namespace asyncio {

/// What semaphore::statistics() reports.
struct semaphore_statistics {
  std::size_t value = 0;    // free units
  std::size_t waiters = 0;  // tasks parked in acquire()
};

/// A counter of free units (Python's asyncio.Semaphore). acquire() takes one, waiting while none
/// is free; release() returns one. Not movable: waiters point into it.
///
/// Thread safety: loop-affine.
class semaphore {
 public:
  using guard = lock_guard<semaphore>;

  /// A semaphore with `value` free units (Python's default is 1). Signed, so that semaphore(-1) is
  /// refused rather than wrapped to a huge count.
  /// Throws: std::invalid_argument if value < 0 (Python's ValueError).
  explicit semaphore(std::ptrdiff_t value = 1) : value_(checked_value(value)) {}
  semaphore(const semaphore&) = delete;
  auto operator=(const semaphore&) -> semaphore& = delete;

  /// Waits for a free unit and takes it; returns a guard that gives it back.
  ///
  /// Cancellation: safe at every moment. A task cancelled while waiting leaves the queue; one
  /// cancelled after release() handed it a unit but before it resumed passes the unit on; so does a
  /// `wait_for(s.acquire(), d)` whose deadline fires then (core/awaitable.hpp): value() is unchanged.
  /// Resumes: on the semaphore's loop, in FIFO order of the acquire() calls.
  /// Throws: cancelled_error.
  [[nodiscard]] auto acquire() noexcept ASYNCIO_LIFETIMEBOUND -> detail::acquire_awaiter<semaphore> {
    return detail::acquire_awaiter<semaphore>(*this);
  }
  /// Takes a unit if one is free and nobody waits; true on success. Never suspends.
  [[nodiscard]] auto try_acquire() noexcept -> bool { return try_take(); }
  /// Returns a unit: to the oldest waiter if any, else to the pool. Releasing more than was
  /// acquired raises the value (use bounded_semaphore to forbid that).
  void release() noexcept { pass_on(); }

  /// True if acquire() would wait (Python's Semaphore.locked()).
  [[nodiscard]] auto locked() const noexcept -> bool { return value_ == 0; }
  /// Free units.
  [[nodiscard]] auto value() const noexcept -> std::size_t { return value_; }
  [[nodiscard]] auto statistics() const noexcept -> semaphore_statistics { return {value_, waiters_.size()}; }
  /// "<semaphore unlocked value=2>" or "<semaphore locked waiters=3>".
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const semaphore& s) -> std::ostream&;

 protected:
  [[nodiscard]] auto describe_as(const char* kind) const -> std::string;
  [[nodiscard]] static auto checked_value(std::ptrdiff_t value) -> std::size_t {
    if (value < 0) throw_negative_value(value);
    return static_cast<std::size_t>(value);
  }
  [[noreturn]] static void throw_negative_value(std::ptrdiff_t value);

  // Invariant: waiters_ is non-empty only while value_ == 0.
  std::size_t value_;

 private:
  friend class detail::acquire_awaiter<semaphore>;

  auto try_take() noexcept -> bool {
    if (value_ == 0 || !waiters_.empty()) return false;
    --value_;
    return true;
  }
  void pass_on() noexcept {
    if (auto* w = waiters_.pop_front()) w->grant();
    else ++value_;
  }

  detail::waiter_list<detail::acquire_awaiter<semaphore>> waiters_;
};

/// A semaphore that refuses to be released more often than acquired (Python's BoundedSemaphore).
///
/// Thread safety: loop-affine.
class bounded_semaphore : public semaphore {
 public:
  /// A bounded semaphore with `value` free units, which is also the bound.
  /// Throws: std::invalid_argument if value < 0 (Python's ValueError).
  explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value), bound_(semaphore::value()) {}

  /// Returns a unit.
  ///
  /// Throws: std::invalid_argument if every unit is already free (Python's ValueError).
  void release() {
    if (value_ >= bound_) throw_over_release();
    semaphore::release();
  }
  /// The initial value, which value() never exceeds.
  [[nodiscard]] auto bound() const noexcept -> std::size_t { return bound_; }
  /// "<bounded_semaphore unlocked value=2/3>".
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const bounded_semaphore& s) -> std::ostream&;

 private:
  [[noreturn]] static void throw_over_release();
  std::size_t bound_;
};

}  // namespace asyncio
