#include <asyncio/detail/timer_heap.hpp>

#include <algorithm>
#include <stdexcept>

namespace asyncio::detail {

auto timer_heap::add(std::int64_t when, timer_target* target) -> std::uint64_t {
  std::uint32_t index;
  if (free_head_ != UINT32_MAX) {
    index = free_head_;
    free_head_ = slots_[index].next_free;
  } else {
    if (slots_.size() > slot_mask) throw std::length_error("too many pending timers");
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back({});
  }
  std::uint64_t key = (++sequence_ << slot_bits) | index;
  slots_[index] = {key, target, UINT32_MAX};
  heap_.push_back({when, key});
  sift_up(size() - 1);
  ++live_;
  return key;
}

void timer_heap::cancel(std::uint64_t key) noexcept {
  if (key == no_timer) return;
  std::uint64_t index = key & slot_mask;
  if (index >= slots_.size() || slots_[index].key != key) return;
  slots_[index] = {0, nullptr, free_head_};
  free_head_ = static_cast<std::uint32_t>(index);
  --live_;
  if (size() > 1024 && live_ < size() / 2) compact();
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
  std::uint64_t key = top().key;
  std::uint64_t index = key & slot_mask;
  timer_target* target = slots_[index].target;
  slots_[index] = {0, nullptr, free_head_};
  free_head_ = static_cast<std::uint32_t>(index);
  --live_;
  pop_top();
  return target;
}

void timer_heap::drop_dead_top() noexcept {
  while (size() != 0 && !is_live(top())) pop_top();
}

void timer_heap::pop_top() noexcept {
  top() = heap_.back();
  heap_.pop_back();
  if (size() != 0) sift_down(0);
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
  // The padding entries have key 0, which no live timer has: they are kept only as padding.
  heap_.erase(std::remove_if(heap_.begin() + pad, heap_.end(), [this](const entry& e) { return !is_live(e); }),
              heap_.end());
  // Floyd's heapify, bottom-up.
  if (size() > 1)
    for (std::size_t i = (size() - 2) / 4 + 1; i-- > 0;) sift_down(i);
}

}  // namespace asyncio::detail
