#pragma once
// lock_guard<M>: what `co_await m.acquire()` returns for a lock, a semaphore or a condition
// (Python's `async with m:`). Leaving the scope releases; so does an exception or a cancellation
// unwinding through it, so no cancelled task can leave a lock held (docs/lessons.md §1.3).
#include <utility>

#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

/// Owns one acquisition of M (lock, semaphore, bounded_semaphore or condition) and releases it on
/// destruction. Move-only.
///
/// Unlike std::unique_lock, release() releases the primitive now (Python's m.release()), and
/// detach() is the one that gives up ownership without releasing (for a hand-written
/// `co_await m.acquire(); ... m.release();` in Python style: `(co_await m.acquire()).detach();`).
///
/// Thread safety: loop-affine, like M.
template <class M>
class [[nodiscard]] lock_guard {
 public:
  lock_guard() noexcept = default;
  explicit lock_guard(M& m ASYNCIO_LIFETIMEBOUND) noexcept : m_(&m) {}
  lock_guard(lock_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  auto operator=(lock_guard&& o) noexcept -> lock_guard& {
    if (this != &o) {
      release();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  lock_guard(const lock_guard&) = delete;
  auto operator=(const lock_guard&) -> lock_guard& = delete;
  ~lock_guard() { release(); }

  /// Releases the primitive now (a no-op if this guard no longer owns it).
  void release() {
    if (M* m = std::exchange(m_, nullptr)) m->release();
  }
  /// Gives up ownership without releasing: the caller must call m.release() later.
  auto detach() noexcept -> M* { return std::exchange(m_, nullptr); }
  /// True while this guard owns an acquisition.
  [[nodiscard]] auto owns() const noexcept -> bool { return m_ != nullptr; }
  [[nodiscard]] explicit operator bool() const noexcept { return owns(); }
  /// The primitive this guard releases (null if none).
  [[nodiscard]] auto get() const noexcept -> M* { return m_; }

 private:
  M* m_ = nullptr;
};

}  // namespace asyncio
