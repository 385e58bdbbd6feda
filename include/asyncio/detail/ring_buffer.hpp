#pragma once
// A growable FIFO ring buffer of trivially copyable items (power-of-two capacity).
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

namespace asyncio::detail {

template <class T>
class ring_buffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ring_buffer() = default;
  ring_buffer(const ring_buffer&) = delete;
  auto operator=(const ring_buffer&) -> ring_buffer& = delete;
  ~ring_buffer() { std::free(items_); }

  [[nodiscard]] auto empty() const noexcept -> bool { return head_ == tail_; }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return tail_ - head_; }

  void push_back(T item) {
    if (tail_ - head_ == capacity_) [[unlikely]] grow();
    items_[tail_++ & (capacity_ - 1)] = item;
  }
  auto pop_front() noexcept -> T { return items_[head_++ & (capacity_ - 1)]; }
  [[nodiscard]] auto front() const noexcept -> T { return items_[head_ & (capacity_ - 1)]; }

 private:
  void grow() {
    std::size_t cap = capacity_ ? capacity_ * 2 : 256;
    auto* items = static_cast<T*>(std::malloc(cap * sizeof(T)));
    if (!items) throw std::bad_alloc();
    std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) items[i] = items_[(head_ + i) & (capacity_ - 1)];
    std::free(items_);
    items_ = items;
    capacity_ = cap;
    head_ = 0;
    tail_ = n;
  }

  T* items_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // monotonically increasing indices, masked on access
  std::size_t tail_ = 0;
};

}  // namespace asyncio::detail
