#pragma once
// An intrusive FIFO of waiter nodes, the building block of every sync primitive.
//
// Why intrusive: a waiter node is a member of the awaiter, which lives in the suspended coroutine
// frame, so parking a task allocates nothing (DESIGN §5: a wait costs no malloc). Why doubly
// linked: a cancelled waiter must leave the middle of the queue in O(1) (Trio's abort_fn), and
// waiters are served strictly in arrival order (FIFO fairness, DESIGN §3.3 and §3.6).
#include <cstddef>

namespace asyncio::detail {

/// A link in a waiter_list. `linked` tells whether the node is in a list right now, so that an
/// awaiter's destructor and abort can unlink it without knowing who already woke it.
struct waiter_node {
  waiter_node* prev = nullptr;
  waiter_node* next = nullptr;
  bool linked = false;
};

/// FIFO of W (which derives from waiter_node). O(1) push_back, pop_front and remove.
///
/// Invariant: size_ counts the linked nodes; head_ is the oldest waiter.
/// Thread safety: loop-affine (owned by a loop-affine primitive).
template <class W>
class waiter_list {
 public:
  waiter_list() = default;
  waiter_list(const waiter_list&) = delete;
  auto operator=(const waiter_list&) -> waiter_list& = delete;

  [[nodiscard]] auto empty() const noexcept -> bool { return head_ == nullptr; }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return size_; }
  [[nodiscard]] auto front() const noexcept -> W* { return static_cast<W*>(head_); }

  void push_back(W& w) noexcept {
    waiter_node& n = w;
    n.prev = tail_;
    n.next = nullptr;
    n.linked = true;
    if (tail_) tail_->next = &n;
    else head_ = &n;
    tail_ = &n;
    ++size_;
  }

  /// Removes and returns the oldest waiter, or null.
  auto pop_front() noexcept -> W* {
    waiter_node* n = head_;
    if (!n) return nullptr;
    unlink(*n);
    return static_cast<W*>(n);
  }

  /// Unlinks `w` if it is linked (a no-op otherwise).
  void remove(W& w) noexcept {
    waiter_node& n = w;
    if (n.linked) unlink(n);
  }

  /// Calls fn(W&) for every waiter, oldest first (fn must not modify the list).
  template <class F>
  void for_each(F&& fn) const {
    for (waiter_node* n = head_; n; n = n->next) fn(*static_cast<W*>(n));
  }

 private:
  void unlink(waiter_node& n) noexcept {
    if (n.prev) n.prev->next = n.next;
    else head_ = n.next;
    if (n.next) n.next->prev = n.prev;
    else tail_ = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
    --size_;
  }

  waiter_node* head_ = nullptr;
  waiter_node* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace asyncio::detail
