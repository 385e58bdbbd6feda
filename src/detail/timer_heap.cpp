#include <asyncio/detail/timer_heap.hpp>

#include <algorithm>
#include <stdexcept>

namespace asyncio::detail {

auto timer_heap::add(std::int64_t when, timer_target* target) -> std::uint64_t {
  // Allocate first (a new slot joins the free list), so that a throw leaves everything consistent.
  if (free_head_ == no_free) {
    // Index slot_mask is never handed out: it ends the free list.
    if (slots_.size() >= slot_mask) throw std::length_error("too many pending timers");
    slots_.push_back({no_free, nullptr});
    free_head_ = static_cast<std::uint32_t>(slots_.size() - 1);
  }
  std::uint32_t index = free_head_;
  std::uint64_t key = ((sequence_ + 1) << slot_bits) | index;
  std::uint64_t bucket = bucket_of(when);
  if (bucket <= horizon_) {
    heap_.push_back({when, key});
    sift_up(size() - 1);
  } else {
    auto [it, created] = far_.try_emplace(bucket);
    if (created) {
      try {
        it->second.resize(pad);
      } catch (...) {
        far_.erase(it);  // a bucket always holds its padding
        throw;
      }
    }
    it->second.push_back({when, key});
    ++far_size_;
  }
  ++sequence_;
  free_head_ = static_cast<std::uint32_t>(slots_[index].key);
  slots_[index] = {key, target};
  ++live_;
  return key;
}

auto timer_heap::refill() noexcept -> bool {
  // The heap is empty (padding only): the earliest bucket becomes the heap. A bucket without
  // entries (its first append failed) is skipped.
  while (!far_.empty()) {
    auto first = far_.begin();
    horizon_ = first->first;
    heap_.swap(first->second);
    far_size_ -= size();
    far_.erase(first);  // frees the old, empty heap array
    if (size() != 0) {
      heapify();
      return true;
    }
  }
  return false;
}

void timer_heap::cancel(std::uint64_t key) noexcept {
  if (key == no_timer) return;
  std::uint64_t index = key & slot_mask;
  if (index >= slots_.size() || slots_[index].key != key) return;
  release_slot(index);
  if (heap_size() > 1024 && live_ < heap_size() / 2) compact();
}

auto timer_heap::next_deadline(std::int64_t& when) noexcept -> bool {
  drop_dead_top();
  if (size() == 0) return false;
  when = top().when;
  return true;
}

auto timer_heap::pop_due(std::int64_t now) noexcept -> timer_target* {
  drop_dead_top();
  if (size() == 0 || top().when > now) return nullptr;
  std::uint64_t index = top().key & slot_mask;
  timer_target* target = slots_[index].target;
  release_slot(index);
  pop_top();
  return target;
}

void timer_heap::fire_due(std::int64_t now) noexcept {
  // A window of due entries already popped off the heap, in firing order: popping ahead lets the
  // slot loads (and then the target loads) of consecutive timers overlap instead of queueing.
  constexpr std::size_t window = 8;        // a power of two
  constexpr std::size_t target_ahead = 2;  // prefetch the target this many fires ahead
  entry ring[window];
  std::size_t head = 0;
  std::size_t tail = 0;
  for (;;) {
    // Refill, keeping the window sorted: a callback may have added a due timer that belongs before
    // entries already in the window; that one stays in the heap and is taken from there below.
    while (tail - head < window && have_top() && top().when <= now &&
           (head == tail || ring[(tail - 1) % window].before(top()))) {
      ring[tail++ % window] = top();
      __builtin_prefetch(&slots_[top().key & slot_mask]);
      pop_top();
    }
    entry e;
    if (head != tail && !(have_top() && top().before(ring[head % window]))) {
      e = ring[head++ % window];
    } else if (have_top() && top().when <= now) {
      e = top();
      pop_top();
    } else {
      return;
    }
    if (tail - head >= target_ahead) {
      // Only a prefetch: the slot may be freed (target null) or reused before that entry's turn.
      __builtin_prefetch(slots_[ring[(head + target_ahead - 1) % window].key & slot_mask].target);
    }
    std::uint64_t index = e.key & slot_mask;
    if (slots_[index].key != e.key) continue;  // cancelled, possibly by a callback of this call
    timer_target* target = slots_[index].target;
    release_slot(index);
    target->fire(target);
  }
}

void timer_heap::drop_dead_top() noexcept {
  while (have_top() && !is_live(top())) pop_top();
}

void timer_heap::pop_top() noexcept {
  entry last = heap_.back();
  heap_.pop_back();
  std::size_t n = size();
  if (n == 0) return;
  // Bottom-up ("hole") sift-down: move the hole at the root down to a leaf along the smaller
  // children (3 comparisons per full family, with no comparison against `last`), then sift `last`
  // up from there. `last` came from the bottom, so it rarely climbs more than a level; the classic
  // sift-down spends a comparison and a mispredicted branch per level on it instead.
  std::size_t i = 0;
  for (;;) {
    std::size_t first = 4 * i + 1;
    std::size_t best;
    if (first + 4 <= n) {
      // The four families below these children are the 4 lines after node(4 * first + 1): fetch
      // them now, so the next level's load overlaps this level's comparisons.
      if (4 * first + 1 < n) {
        const char* g = reinterpret_cast<const char*>(&node(4 * first + 1));
        __builtin_prefetch(g);
        __builtin_prefetch(g + 64);
        __builtin_prefetch(g + 128);
        __builtin_prefetch(g + 192);
      }
      std::size_t a = node(first + 1).before(node(first)) ? first + 1 : first;
      std::size_t b = node(first + 3).before(node(first + 2)) ? first + 3 : first + 2;
      best = node(b).before(node(a)) ? b : a;
    } else {
      if (first >= n) break;
      best = first;
      for (std::size_t c = first + 1; c < n; ++c)
        if (node(c).before(node(best))) best = c;
    }
    node(i) = node(best);
    i = best;
  }
  node(i) = last;
  sift_up(i);
}

void timer_heap::sift_up(std::size_t i) noexcept {
  entry e = node(i);
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (!e.before(node(parent))) break;
    node(i) = node(parent);
    i = parent;
  }
  node(i) = e;
}

void timer_heap::sift_down(std::size_t i) noexcept {
  std::size_t n = size();
  entry e = node(i);
  for (;;) {
    std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    std::size_t last = std::min(first + 4, n);
    for (std::size_t c = first + 1; c < last; ++c)
      if (node(c).before(node(best))) best = c;
    if (!node(best).before(e)) break;
    node(i) = node(best);
    i = best;
  }
  node(i) = e;
}

void timer_heap::compact() {
  // The padding entries (key 0) are skipped: they are kept only as padding.
  auto dead = [this](const entry& e) { return !is_live(e); };
  heap_.erase(std::remove_if(heap_.begin() + pad, heap_.end(), dead), heap_.end());
  heapify();
  far_size_ = 0;
  for (auto it = far_.begin(); it != far_.end();) {
    entries& b = it->second;
    b.erase(std::remove_if(b.begin() + pad, b.end(), dead), b.end());
    if (b.size() == pad) {
      it = far_.erase(it);
    } else {
      far_size_ += b.size() - pad;
      ++it;
    }
  }
}

void timer_heap::heapify() noexcept {
  // Floyd's heapify, bottom-up.
  if (size() > 1)
    for (std::size_t i = (size() - 2) / 4 + 1; i-- > 0;) sift_down(i);
}

}  // namespace asyncio::detail
