#pragma once
// The loop's notion of time. asyncio::clock is a steady clock with nanosecond ticks; a loop reads
// it through a clock_source so that tests can substitute a virtual clock (testing::virtual_clock).
#include <chrono>
#include <cstdint>

namespace asyncio {

/// Monotonic clock used by event loops (like time.monotonic()).
struct clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<clock>;
  static constexpr bool is_steady = true;
  static auto now() noexcept -> time_point {
    return time_point(std::chrono::duration_cast<duration>(
        std::chrono::steady_clock::now().time_since_epoch()));
  }
};

using duration = clock::duration;
using time_point = clock::time_point;

/// Where a loop reads the time. The default (no source) is asyncio::clock; tests install a
/// testing::virtual_clock.
///
/// Thread safety: now() is called on the loop's thread only.
class clock_source {
 public:
  virtual ~clock_source() = default;
  [[nodiscard]] virtual auto now() noexcept -> time_point = 0;
  /// True if the loop may move this clock forward to the next timer when every task waits
  /// (Trio's MockClock autojump).
  [[nodiscard]] virtual auto autojump() const noexcept -> bool { return false; }
  /// Called by the loop, only when autojump() is true, to jump to `t` instead of sleeping.
  virtual void jump_to(time_point t) noexcept { (void)t; }
};

}  // namespace asyncio
