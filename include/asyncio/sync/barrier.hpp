#pragma once
// barrier: `parties` tasks wait for each other, then all go on (Python 3.11's asyncio.Barrier).
//
// Example (doc-test: compile-only, three tasks run the second line):
//
//   asyncio::barrier b(3);
//   std::size_t index = co_await b.wait();   // 0, 1 or 2: the order of arrival
//
// States as in CPython: filling (tasks arrive) -> draining (the last one arrived; everyone leaves)
// -> filling again once all left; reset() moves through resetting (waiters get
// broken_barrier_error) back to filling; abort() makes it broken for good.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include <asyncio/detail/lifetimebound.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/sync/detail/park_awaiter.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {

/// What barrier::statistics() reports.
struct barrier_statistics {
  std::size_t parties = 0;
  std::size_t n_waiting = 0;  // tasks waiting for the barrier to fill
  bool broken = false;
};

/// A barrier for `parties` tasks (Python's asyncio.Barrier). Reusable: once every party arrived
/// and left, it fills again. Not movable: waiters point into it.
///
/// Thread safety: loop-affine.
class barrier {
 public:
  /// Signed, so that barrier(-4) is refused rather than wrapped to a huge count.
  /// Throws: std::invalid_argument if parties < 1 (Python's ValueError).
  explicit barrier(std::ptrdiff_t parties);
  barrier(const barrier&) = delete;
  auto operator=(const barrier&) -> barrier& = delete;

  /// Waits until `parties` tasks called wait(); returns this task's arrival index (0 for the first,
  /// parties-1 for the one that released the others). A task arriving while the barrier drains or
  /// resets waits for that to finish first.
  ///
  /// Cancellation: safe. A task cancelled while waiting leaves (the barrier then needs one more
  /// arrival, as in CPython) and raises cancelled_error.
  /// Resumes: on the barrier's loop, waiters in arrival order.
  /// Throws: broken_barrier_error if the barrier is (or becomes) broken or is reset meanwhile.
  auto wait() ASYNCIO_LIFETIMEBOUND -> task<std::size_t>;

  /// Returns the barrier to the empty state; tasks waiting in it get broken_barrier_error.
  /// (Python's reset() is a coroutine only because it takes a lock; here nothing needs to wait.)
  void reset() noexcept;
  /// Breaks the barrier: current and future wait() calls raise broken_barrier_error.
  void abort() noexcept;

  [[nodiscard]] auto parties() const noexcept -> std::size_t { return parties_; }
  /// Tasks waiting for the barrier to fill (Python's n_waiting).
  [[nodiscard]] auto n_waiting() const noexcept -> std::size_t { return state_ == state::filling ? count_ : 0; }
  [[nodiscard]] auto broken() const noexcept -> bool { return state_ == state::broken; }
  [[nodiscard]] auto statistics() const noexcept -> barrier_statistics { return {parties_, n_waiting(), broken()}; }
  /// "<barrier filling waiters=1/3>".
  [[nodiscard]] auto describe() const -> std::string;
  friend auto operator<<(std::ostream& os, const barrier& b) -> std::ostream&;

 private:
  enum class state : std::uint8_t { filling, draining, resetting, broken };
  struct leave_guard;  // the `finally:` of CPython's wait()
  void leave() noexcept;

  std::size_t parties_;
  std::size_t count_ = 0;  // tasks between arrival and exit
  state state_ = state::filling;
  detail::park_awaiter::list waiters_;
};

}  // namespace asyncio
