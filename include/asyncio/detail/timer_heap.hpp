#pragma once
// Timers: a 4-ary min-heap of 16-byte entries (deadline, key), not a timer wheel.
// Measured choice (issue #2, W6): with 1M pending timers a 4-ary heap keeps the four children of a
// node in one cache line, so a pop touches ~10 lines and the random-deadline push is O(1) on
// average, while deadlines stay exact to the nanosecond (a wheel rounds to its tick, which would
// make the virtual clock land on tick boundaries).
//
// Layout: the four children of a node share one 64-byte cache line (the array is line-aligned and
// starts with three padding entries), so a pop that sifts through a 16 MB heap misses one line per
// level, not two (W6: 1M pending timers).
//
// Cancellation is lazy, as in CPython: a cancelled timer frees its slot at once (so the owner,
// e.g. a sleeping coroutine frame, may be destroyed), and its heap entry is skipped when it
// surfaces. The heap is compacted when more than half of it is dead.
//
// key = (sequence << slot_bits) | slot. The slot table maps a live key to its target; equal
// deadlines fire in the order the timers were added (the sequence is the tie-breaker).
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace asyncio::detail {

/// Something a timer fires. fire() runs on the loop thread when the deadline has passed.
struct timer_target {
  void (*fire)(timer_target* self) noexcept;
};

/// std::allocator, but 64-byte aligned (one cache line).
template <class T>
struct line_aligned_allocator {
  using value_type = T;
  line_aligned_allocator() = default;
  template <class U>
  line_aligned_allocator(const line_aligned_allocator<U>&) noexcept {}
  auto allocate(std::size_t n) -> T* {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  auto operator==(const line_aligned_allocator<U>&) const noexcept -> bool {
    return true;
  }
};

class timer_heap {
 public:
  timer_heap() : heap_(pad) {}

  static constexpr std::uint64_t no_timer = 0;

  /// Adds a timer firing at `when` (ns); returns its key (never no_timer).
  auto add(std::int64_t when, timer_target* target) -> std::uint64_t;
  /// Cancels a timer by key; a no-op if it already fired or was cancelled.
  void cancel(std::uint64_t key) noexcept;
  /// The earliest live deadline, or false if there is none.
  [[nodiscard]] auto next_deadline(std::int64_t& when) noexcept -> bool;
  /// Removes the earliest live timer if its deadline is <= now and returns its target.
  auto pop_due(std::int64_t now) noexcept -> timer_target*;
  [[nodiscard]] auto live() const noexcept -> std::size_t { return live_; }
  /// Heap entries, cancelled ones not yet dropped included (tests check the compaction bound).
  [[nodiscard]] auto heap_size() const noexcept -> std::size_t { return heap_.size() - pad; }

 private:
  struct entry {
    std::int64_t when;
    std::uint64_t key;
    [[nodiscard]] auto before(const entry& o) const noexcept -> bool {
      return when < o.when || (when == o.when && key < o.key);
    }
  };
  struct slot {
    std::uint64_t key;       // key of the live timer in this slot, or 0 when free
    timer_target* target;    // the target, or (when free) unused
    std::uint32_t next_free;
  };
  static constexpr int slot_bits = 26;
  static constexpr std::uint64_t slot_mask = (std::uint64_t{1} << slot_bits) - 1;

  [[nodiscard]] auto is_live(const entry& e) const noexcept -> bool {
    return slots_[e.key & slot_mask].key == e.key;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void pop_top() noexcept;
  void drop_dead_top() noexcept;
  void compact();

  // heap_[pad + i] is node i; children of node i are nodes 4i+1..4i+4, at byte 64*(i+1): one line.
  static constexpr std::size_t pad = 3;
  [[nodiscard]] auto size() const noexcept -> std::size_t { return heap_.size() - pad; }
  [[nodiscard]] auto node(std::size_t i) noexcept -> entry& { return heap_[pad + i]; }
  [[nodiscard]] auto top() noexcept -> entry& { return heap_[pad]; }
  std::vector<entry, line_aligned_allocator<entry>> heap_;
  std::vector<slot> slots_;
  std::uint32_t free_head_ = UINT32_MAX;
  std::uint64_t sequence_ = 0;
  std::size_t live_ = 0;
};

}  // namespace asyncio::detail
