#pragma once
// io::busy_poll_governor: how long a loop polls without blocking before it sleeps.
//
// Why spin at all: a loop that sleeps in the kernel must be woken by whoever hands it work; on
// loopback that is the peer's send(), which pays for the wake-up (a remote wake-up, an
// inter-processor interrupt, and on a VM an exit to the hypervisor), and the loop pays its own
// sleep and wake. A loop that finds the next event while polling spares both (bench/README.md,
// the TCP echo section, has the counts). The governor keeps that spin cheap when traffic is sparse,
// adapting like Linux's haltpoll cpuidle governor:
//   * grow (double, at least to 1/8 of the maximum) when a spin found I/O, or a sleep ended by an
//     event within the maximum after the wait began (a longer spin would have caught it);
//   * shrink (halve) when the event came later than the maximum, or a timeout ended the sleep;
//     below 1/8 of the maximum the spin stops until a short sleep shows traffic again.
// The loop decides when spinning is allowed at all (loop_options::busy_poll in
// core/event_loop.hpp: never while tasks are ready, never past a timer, never on a virtual clock,
// never without recent I/O). All times are nanoseconds.
//
// Thread safety: loop-affine.
#include <algorithm>
#include <cstdint>

namespace asyncio::io {

class busy_poll_governor {
 public:
  /// `max_ns` is the largest spin (loop_options::busy_poll); 0 turns spinning off.
  explicit busy_poll_governor(std::int64_t max_ns = 0) noexcept
      : max_(std::max<std::int64_t>(0, max_ns)), limit_(max_) {}

  /// True if the loop may spin at all (a maximum was set).
  [[nodiscard]] auto enabled() const noexcept -> bool { return max_ > 0; }
  /// The current spin limit (0 .. the maximum).
  [[nodiscard]] auto limit() const noexcept -> std::int64_t { return limit_; }

  /// A spin found I/O: spinning pays off under this load.
  void spin_found_io() noexcept { grow(); }
  /// A sleep ended (`found_io`: by an event rather than a timeout) `waited` ns after the wait
  /// began (spin included).
  void slept(bool found_io, std::int64_t waited) noexcept {
    if (found_io && waited <= max_) {
      grow();
    } else {
      limit_ /= 2;
      if (limit_ < max_ / 8) limit_ = 0;
    }
  }

 private:
  void grow() noexcept { limit_ = std::min(max_, std::max(limit_ * 2, max_ / 8)); }

  std::int64_t max_;
  std::int64_t limit_;
};

}  // namespace asyncio::io
