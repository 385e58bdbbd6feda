#pragma once
// A virtual clock for deterministic tests (Trio's MockClock, tokio's paused time).
//
// With autojump on, the loop moves the clock straight to the next timer whenever every task waits,
// so a test full of 30-second timeouts runs in microseconds and never depends on the machine's speed.
//
// Example:
//   asyncio::testing::virtual_clock clk;               // autojump on
//   asyncio::run(main(), {.clock = &clk});
//   EXPECT_EQ(clk.elapsed(), 30s);
#include <asyncio/core/clock.hpp>

namespace asyncio::testing {

/// Passed to virtual_clock to pick its mode.
enum class jump_mode { autojump, manual };
inline constexpr jump_mode autojump = jump_mode::autojump;
inline constexpr jump_mode manual = jump_mode::manual;

/// A clock that only moves when told to (advance()) or, with autojump, when the loop would sleep.
///
/// Thread safety: use from the loop's thread only.
class virtual_clock final : public clock_source {
 public:
  explicit virtual_clock(jump_mode mode = jump_mode::autojump, time_point start = time_point(std::chrono::hours(1)))
      : mode_(mode), start_(start), now_(start) {}

  [[nodiscard]] auto now() noexcept -> time_point override { return now_; }
  [[nodiscard]] auto autojump() const noexcept -> bool override { return mode_ == jump_mode::autojump; }
  void jump_to(time_point t) noexcept override {
    if (t > now_) now_ = t;
  }
  /// Moves the clock forward by d (timers that become due fire on the loop's next iteration).
  void advance(duration d) noexcept { now_ += d; }
  /// Time passed since the clock was created.
  [[nodiscard]] auto elapsed() const noexcept -> duration { return now_ - start_; }
  void set_mode(jump_mode mode) noexcept { mode_ = mode; }

 private:
  jump_mode mode_;
  time_point start_;
  time_point now_;
};

}  // namespace asyncio::testing
