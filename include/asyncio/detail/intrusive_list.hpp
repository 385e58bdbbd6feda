#pragma once
// The library's one intrusive doubly linked list: the waiters of every sync primitive, a process's
// exit waiters and a loop's watched children, a task_group's children.
//
// Why intrusive: the node is a member (a base) of the object it links, which lives where it must
// anyway (an awaiter in the suspended coroutine frame, a child record), so linking allocates nothing
// (docs/lessons.md §2.1: a wait costs no malloc). Why doubly linked: a cancelled waiter or a finished child
// must leave the middle of the list in O(1) (Trio's abort_fn). Waiters are served strictly in
// arrival order (push_back, pop_front: FIFO fairness, docs/lessons.md §1.3 and §1.6).
//
// An object in two lists at once derives from two nodes with different tags and names the tag in
// each list:
//
//   struct in_run_queue;  struct in_all;                      // tags: any type, never defined
//   struct job : intrusive_node<in_run_queue>, intrusive_node<in_all> { ... };
//   intrusive_list<job, in_run_queue> runnable;
//   intrusive_list<job, in_all> all;
//
// waiter_node / waiter_list (detail/waiter_list.hpp) are the untagged node and list.
#include <cstddef>

namespace asyncio::detail {

/// A link in an intrusive_list<T, Tag>. `linked` tells whether the node is in a list right now,
/// so that an awaiter's destructor and abort can unlink it without knowing who already woke it.
template <class Tag = void>
struct intrusive_node {
  intrusive_node* prev = nullptr;
  intrusive_node* next = nullptr;
  bool linked = false;
};

/// A list of T (which derives from intrusive_node<Tag>). O(1) push_back, push_front, pop_front and
/// remove. Does not own its elements.
///
/// Invariant: size_ counts the linked nodes; head_ is the first (for FIFO use, the oldest) node.
/// Thread safety: loop-affine (owned by a loop-affine object).
template <class T, class Tag = void>
class intrusive_list {
 public:
  using node = intrusive_node<Tag>;

  intrusive_list() = default;
  intrusive_list(const intrusive_list&) = delete;
  auto operator=(const intrusive_list&) -> intrusive_list& = delete;

  [[nodiscard]] auto empty() const noexcept -> bool { return head_ == nullptr; }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return size_; }
  [[nodiscard]] auto front() const noexcept -> T* { return head_ ? elem(head_) : nullptr; }

  void push_back(T& t) noexcept {
    node& n = t;
    n.prev = tail_;
    n.next = nullptr;
    n.linked = true;
    if (tail_) tail_->next = &n;
    else head_ = &n;
    tail_ = &n;
    ++size_;
  }

  void push_front(T& t) noexcept {
    node& n = t;
    n.prev = nullptr;
    n.next = head_;
    n.linked = true;
    if (head_) head_->prev = &n;
    else tail_ = &n;
    head_ = &n;
    ++size_;
  }

  /// Removes and returns the first element, or null.
  auto pop_front() noexcept -> T* {
    node* n = head_;
    if (!n) return nullptr;
    unlink(*n);
    return elem(n);
  }

  /// Unlinks `t` if it is linked (a no-op otherwise). `t` must not be in another list of this tag.
  void remove(T& t) noexcept {
    node& n = t;
    if (n.linked) unlink(n);
  }

  /// Calls fn(T&) for every element, first to last. fn must not modify the list.
  template <class F>
  void for_each(F&& fn) const {
    for (node* n = head_; n; n = n->next) fn(*elem(n));
  }

 private:
  static auto elem(node* n) noexcept -> T* { return static_cast<T*>(n); }

  void unlink(node& n) noexcept {
    if (n.prev) n.prev->next = n.next;
    else head_ = n.next;
    if (n.next) n.next->prev = n.prev;
    else tail_ = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
    --size_;
  }

  node* head_ = nullptr;
  node* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace asyncio::detail
