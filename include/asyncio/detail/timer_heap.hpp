#pragma once
// Timers: a 4-ary min-heap of 16-byte entries (deadline, key), not a timer wheel.
// Measured choice (W6, docs/benchmarks.md §2.6): with 1M pending timers a 4-ary heap keeps the four children of a
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
//
// Far timers: a timer whose deadline lies in a later bucket (2^bucket_bits ns, ~34 ms) than every
// timer in the heap is appended, unsorted, to its bucket's vector instead; when the heap runs
// empty, the earliest bucket becomes the heap (swapped in, heapified in O(n)). Every heap entry is
// thus earlier than every bucketed one, so the heap's top is still the earliest timer, exactly
// (deadlines and FIFO ties are untouched), while the heap only holds the current bucket: with 1M
// timers over a second (W6) it holds ~34k entries (540 KB, within a core's 1 MB L2 here) instead
// of 1M (16 MB), so a pop misses far less. Adding to a bucket is an append; moving a bucket in
// costs O(1) per timer. Bucket size, measured with cachegrind on 1M timers: 2^23..2^27 ns all
// beat the plain heap (fewer misses the smaller, in a heap-only run); in W6 itself 2^25 missed
// least (2^24: +3 % D1 misses), and it keeps the bucket map small for long timeouts.
// Known limit: horizon_ only moves forward, so once a very late bucket (e.g. a sleep "forever")
// became the heap because nothing else was pending, later timers all go to the heap, as before
// buckets existed, until it runs empty again.
//
// Firing (fire_due) is pipelined, because with 1M timers each fire costs up to three cache misses
// that do not depend on each other across timers: the heap's lower levels, the slot (the slot table
// is in allocation order, deadlines are not) and the target (a sleeping frame, touched for the
// first time since it went to sleep). fire_due pops a few due entries ahead into a small window,
// prefetching their slots, and prefetches the target of the entry after the one it fires; only
// prefetches: liveness is checked through the slot when an entry's turn comes, so a callback that
// cancels a timer of the same window (a timeout cancelling a sleeping task) is honoured.
#include <cstddef>
#include <cstdint>
#include <map>
#include <new>
#include <vector>

namespace asyncio::detail {

/// Something a timer fires. fire() runs on the loop thread when the deadline has passed; it may
/// add and cancel timers (fire_due keeps deadline order across both).
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
  /// Fires every live timer whose deadline is <= now, in deadline order (ties in the order they
  /// were added), including timers that the fired callbacks add with a deadline <= now. A timer
  /// cancelled by an earlier callback of the same call does not fire.
  void fire_due(std::int64_t now) noexcept;
  [[nodiscard]] auto live() const noexcept -> std::size_t { return live_; }
  /// Entries in the heap and the buckets, cancelled ones not yet dropped included (tests check the
  /// compaction bound).
  [[nodiscard]] auto heap_size() const noexcept -> std::size_t { return size() + far_size_; }

 private:
  __extension__ using u128 = unsigned __int128;
  struct entry {
    std::int64_t when;
    std::uint64_t key;
    // (when, key) as one unsigned 128-bit number (sign bit of `when` flipped): one compare without
    // branches, where the two-field comparison mispredicts on random deadlines.
    [[nodiscard]] auto rank() const noexcept -> u128 {
      return (u128(std::uint64_t(when) ^ (std::uint64_t{1} << 63)) << 64) | key;
    }
    [[nodiscard]] auto before(const entry& o) const noexcept -> bool { return rank() < o.rank(); }
  };
  static constexpr int slot_bits = 26;
  static constexpr std::uint64_t slot_mask = (std::uint64_t{1} << slot_bits) - 1;
  // 16 bytes. A live slot holds its timer's key (>= 1 << slot_bits: the sequence starts at 1); a
  // free one holds the index of the next free slot (< 1 << slot_bits, so no key ever matches it),
  // slot_mask ending the list (that index is never handed out: add() stops one short of it).
  struct slot {
    std::uint64_t key;
    timer_target* target;
  };
  static constexpr std::uint32_t no_free = static_cast<std::uint32_t>(slot_mask);

  [[nodiscard]] auto is_live(const entry& e) const noexcept -> bool {
    return slots_[e.key & slot_mask].key == e.key;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void pop_top() noexcept;
  void release_slot(std::uint64_t index) noexcept {
    slots_[index] = {free_head_, nullptr};
    free_head_ = static_cast<std::uint32_t>(index);
    --live_;
  }
  void drop_dead_top() noexcept;
  void compact();
  void heapify() noexcept;
  // Makes the heap non-empty if any timer is bucketed; false if there is no entry at all.
  [[nodiscard]] auto have_top() noexcept -> bool { return size() != 0 || refill(); }
  auto refill() noexcept -> bool;
  static auto bucket_of(std::int64_t when) noexcept -> std::uint64_t {
    return (std::uint64_t(when) ^ (std::uint64_t{1} << 63)) >> bucket_bits;
  }

  // heap_[pad + i] is node i; children of node i are nodes 4i+1..4i+4, at byte 64*(i+1): one line.
  static constexpr std::size_t pad = 3;
  [[nodiscard]] auto size() const noexcept -> std::size_t { return heap_.size() - pad; }
  [[nodiscard]] auto node(std::size_t i) noexcept -> entry& { return heap_[pad + i]; }
  [[nodiscard]] auto top() noexcept -> entry& { return heap_[pad]; }
  using entries = std::vector<entry, line_aligned_allocator<entry>>;
  entries heap_;
  std::vector<slot> slots_;
  // Buckets later than horizon_, each laid out like heap_ (padding first) so that it can be
  // swapped in. Every heap entry is in a bucket <= horizon_.
  static constexpr int bucket_bits = 25;
  std::map<std::uint64_t, entries> far_;
  std::uint64_t horizon_ = 0;
  std::size_t far_size_ = 0;
  std::uint32_t free_head_ = no_free;
  std::uint64_t sequence_ = 0;
  std::size_t live_ = 0;
};

}  // namespace asyncio::detail
