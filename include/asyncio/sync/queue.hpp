#pragma once
// queue<T>, priority_queue<T>, lifo_queue<T>: Python's asyncio.Queue, PriorityQueue and LifoQueue,
// including task_done()/join() and 3.13's shutdown().
//
//   asyncio::queue<job> q(100);          // maxsize 100; 0 = unbounded
//   co_await q.put(job{1});              // waits while full
//   job j = co_await q.get();            // waits while empty
//   q.task_done();                       // ... and co_await q.join() waits until all are done
//
// Design (why it is fast and loses nothing):
//  * An item is handed straight from put() to the oldest waiting getter, and a slot freed by get()
//    is reserved for the oldest waiting putter, whose item goes in when that putter resumes.
//    Nobody can barge in between (FIFO fairness: a reserved slot counts as taken for full() and
//    put_nowait), and a wait allocates nothing: getter and putter nodes live in the awaiting
//    frames. Invariants: getters wait only while the queue is empty; putters only while it is
//    full (reserved slots included).
//  * A getter cancelled after an item was handed to it, but before it resumed, puts the item back
//    where get() takes from (the front; the top for lifo; into the heap for priority) or straight
//    to the next waiting getter, then raises cancelled_error (CPython's timing). If the queue
//    filled up meanwhile, qsize() may exceed maxsize by such returned items until they are got.
//  * A put that raises cancelled_error put nothing (Python's rule, so a caller may retry it): a
//    putter cancelled after a slot was reserved for it, but before it resumed, releases the slot
//    to the next waiting putter and raises; its item was never visible to getters.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <asyncio/detail/lifetimebound.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/sync/detail/handoff_awaiter.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/sync/event.hpp>

namespace asyncio {

/// What a queue's statistics() reports.
struct queue_statistics {
  std::size_t size = 0;
  std::size_t maxsize = 0;  // 0 = unbounded
  std::size_t getters = 0;  // tasks parked in get()
  std::size_t putters = 0;  // tasks parked in put()
  std::size_t unfinished_tasks = 0;
  bool shut_down = false;
};

namespace detail {

/// FIFO order (Python's Queue).
template <class T>
struct fifo_storage {
  static constexpr const char* name = "queue";
  std::deque<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  auto pop() -> T {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
  /// Puts back an item that pop() returned, so that pop() returns it next.
  void push_back_taken(T&& v) { items.push_front(std::move(v)); }
};

/// LIFO order (Python's LifoQueue).
template <class T>
struct lifo_storage {
  static constexpr const char* name = "lifo_queue";
  std::vector<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  auto pop() -> T {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  void push_back_taken(T&& v) { items.push_back(std::move(v)); }
};

/// Smallest first by Compare (Python's PriorityQueue over heapq). A binary heap in a vector, so
/// that move-only items can be moved out (std::priority_queue::top() is const).
template <class T, class Compare>
struct heap_storage {
  static constexpr const char* name = "priority_queue";
  std::vector<T> items;
  [[no_unique_address]] Compare less;
  auto greater() {
    return [this](const T& a, const T& b) { return less(b, a); };
  }
  void push(T&& v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(), greater());
  }
  auto pop() -> T {
    std::pop_heap(items.begin(), items.end(), greater());
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  void push_back_taken(T&& v) { push(std::move(v)); }
};

template <class Q>
class queue_get_awaiter;
template <class Q>
class queue_put_awaiter;

}  // namespace detail

/// A queue of T between tasks of one loop (Python's asyncio.Queue family; Storage picks the
/// order). Works with move-only T. Not movable: waiters point into it.
///
/// Thread safety: loop-affine; from another thread use loop.call_soon_threadsafe.
template <class T, class Storage>
class basic_queue {
 public:
  using value_type = T;

  /// A queue holding at most `maxsize` items (0 = unbounded).
  explicit basic_queue(std::size_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
  basic_queue(const basic_queue&) = delete;
  auto operator=(const basic_queue&) -> basic_queue& = delete;

  /// Puts an item, waiting while the queue is full.
  ///
  /// Cancellation: safe. A put that raises cancelled_error put nothing (the item is destroyed with
  /// the awaiter), even when a freed slot had been reserved for it: the slot goes to the next
  /// waiting putter. So does `wait_for(q.put(x), d)` (core/awaitable.hpp): a put that raises
  /// timeout_error put nothing.
  /// Resumes: on the queue's loop; putters in FIFO order.
  /// Throws: queue_shut_down if the queue is (or gets) shut down; cancelled_error.
  [[nodiscard]] auto put(T item) ASYNCIO_LIFETIMEBOUND -> detail::queue_put_awaiter<basic_queue> {
    return detail::queue_put_awaiter<basic_queue>(*this, std::move(item));
  }

  /// Removes and returns an item, waiting while the queue is empty.
  ///
  /// Cancellation: safe. A getter cancelled after an item was handed to it puts the item back at
  /// the front (or gives it to the next waiting getter) and raises cancelled_error; so does
  /// `wait_for(q.get(), d)` when its deadline fires then (core/awaitable.hpp): no item is lost.
  /// Resumes: on the queue's loop; getters in FIFO order.
  /// Throws: queue_shut_down once the queue is shut down and empty; cancelled_error.
  [[nodiscard]] auto get() noexcept ASYNCIO_LIFETIMEBOUND -> detail::queue_get_awaiter<basic_queue> {
    return detail::queue_get_awaiter<basic_queue>(*this);
  }

  /// Puts an item without waiting.
  /// Throws: queue_full if full; queue_shut_down if shut down.
  void put_nowait(T item) {
    if (shut_down_) throw queue_shut_down();
    if (full()) throw queue_full();
    accept(std::move(item));
  }
  /// Removes and returns an item without waiting.
  /// Throws: queue_empty if empty; queue_shut_down if shut down and empty.
  auto get_nowait() -> T {
    if (storage_.items.empty()) {
      if (shut_down_) throw queue_shut_down();
      throw queue_empty();
    }
    return take();
  }

  /// Marks one item got earlier as processed (for join()).
  /// Throws: std::invalid_argument if called more often than items were put (Python's ValueError).
  void task_done() {
    if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  /// Waits until every item put has been marked with task_done() (returns at once if so).
  ///
  /// Cancellation: safe (nothing to lose).
  /// Resumes: on the queue's loop.
  [[nodiscard]] auto join() noexcept ASYNCIO_LIFETIMEBOUND -> detail::event_awaiter { return finished_.wait(); }

  /// Shuts the queue down (Python 3.13): put() and put_nowait() raise queue_shut_down from now on,
  /// and so do get() and get_nowait() once the queue is empty; waiting putters and getters are
  /// woken and raise queue_shut_down. With immediate = true the queue is emptied first (the
  /// dropped items count as done for join()).
  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      while (!storage_.items.empty()) {
        (void)storage_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    while (auto* g = getters_.pop_front()) g->wake_shut_down();
    while (auto* p = putters_.pop_front()) p->wake_shut_down();
  }

  /// Items in the queue (Python's qsize()).
  [[nodiscard]] auto qsize() const noexcept -> std::size_t { return storage_.items.size(); }
  [[nodiscard]] auto empty() const noexcept -> bool { return storage_.items.empty(); }
  /// True if maxsize > 0 and the queue holds maxsize items (or more, see the header note),
  /// counting the slots reserved for putters that were woken and have not resumed yet.
  [[nodiscard]] auto full() const noexcept -> bool {
    return maxsize_ > 0 && storage_.items.size() + reserved_ >= maxsize_;
  }
  [[nodiscard]] auto maxsize() const noexcept -> std::size_t { return maxsize_; }
  [[nodiscard]] auto is_shut_down() const noexcept -> bool { return shut_down_; }
  /// Items put and not yet marked with task_done().
  [[nodiscard]] auto unfinished_tasks() const noexcept -> std::size_t { return unfinished_; }

  [[nodiscard]] auto statistics() const noexcept -> queue_statistics {
    return {qsize(), maxsize_, getters_.size(), putters_.size(), unfinished_, shut_down_};
  }
  /// "<queue size=3/10 getters=2 unfinished=3>" (maxsize shown when bounded; waiters when any).
  [[nodiscard]] auto describe() const -> std::string {
    std::string s = std::string("<") + Storage::name + " size=" + std::to_string(qsize());
    if (maxsize_ > 0) s += "/" + std::to_string(maxsize_);
    if (!getters_.empty()) s += " getters=" + std::to_string(getters_.size());
    if (!putters_.empty()) s += " putters=" + std::to_string(putters_.size());
    if (unfinished_ > 0) s += " unfinished=" + std::to_string(unfinished_);
    if (shut_down_) s += " shut_down";
    return s + ">";
  }
  friend auto operator<<(std::ostream& os, const basic_queue& q) -> std::ostream& { return os << q.describe(); }

 private:
  friend class detail::queue_get_awaiter<basic_queue>;
  friend class detail::queue_put_awaiter<basic_queue>;
  using getter = detail::queue_get_awaiter<basic_queue>;
  using putter = detail::queue_put_awaiter<basic_queue>;

  /// A new item enters: straight to the oldest getter, else into the storage.
  void accept(T&& item) {
    ++unfinished_;
    finished_.clear();
    deliver(std::move(item));
  }
  void deliver(T&& item) {
    if (getter* g = getters_.pop_front()) g->grant(std::move(item));
    else storage_.push(std::move(item));
  }
  /// Takes the next item; the freed slot goes to the oldest putter.
  auto take() -> T {
    T item = storage_.pop();
    grant_free_slots();
    return item;
  }
  /// Reserves each free slot for the oldest waiting putter; its item goes in when it resumes.
  void grant_free_slots() noexcept {
    while (!putters_.empty() && !full()) {
      ++reserved_;
      putters_.pop_front()->grant_slot();
    }
  }
  /// A putter gives its reserved slot back: it is going in now (then it puts), or it was cancelled
  /// or destroyed before resuming (then the slot goes to the next putter).
  void release_slot() noexcept { --reserved_; }
  /// A granted getter gave its item back (cancelled before resuming).
  void give_back(T&& item) {
    if (getter* g = getters_.pop_front()) g->grant(std::move(item));
    else storage_.push_back_taken(std::move(item));
  }

  Storage storage_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  std::size_t reserved_ = 0;  // free slots promised to woken putters (see the header)
  bool shut_down_ = false;
  detail::waiter_list<getter> getters_;
  detail::waiter_list<putter> putters_;
  event finished_;
};

/// FIFO queue (Python's asyncio.Queue).
template <class T>
using queue = basic_queue<T, detail::fifo_storage<T>>;
/// Smallest item first by Compare (Python's asyncio.PriorityQueue; use std::pair/tuple entries
/// such as (priority, item) as in Python).
template <class T, class Compare = std::less<T>>
using priority_queue = basic_queue<T, detail::heap_storage<T, Compare>>;
/// Last in, first out (Python's asyncio.LifoQueue).
template <class T>
using lifo_queue = basic_queue<T, detail::lifo_storage<T>>;

namespace detail {

/// Awaiter behind basic_queue::get(). The grant is an item; a getter that will not use it (cancelled
/// or destroyed before resuming) gives it back (sync/detail/handoff_awaiter.hpp has the protocol).
template <class Q>
class queue_get_awaiter : public handoff_awaiter<queue_get_awaiter<Q>, Q> {
  using T = typename Q::value_type;
  using base = handoff_awaiter<queue_get_awaiter<Q>, Q>;
  friend base;
  using typename base::state;
  using base::owner_, base::state_, base::task_;

 public:
  explicit queue_get_awaiter(Q& q) noexcept : base(q) {}
  /// Movable until awaited (core/awaitable.hpp: wait_for(q.get(), d)).
  queue_get_awaiter(queue_get_awaiter&& o) noexcept : base(std::move(o)) {}
  ~queue_get_awaiter() { this->withdraw(); }  // frame destroyed while parked or before resuming

  [[nodiscard]] auto await_ready() -> bool {
    this->check_first_await();
    if (!owner_->storage_.items.empty()) {
      item_.emplace(owner_->take());
      state_ = state::done;
      return true;
    }
    if (owner_->shut_down_) {
      state_ = state::shut_down_now;
      return true;
    }
    return false;
  }
  auto await_resume() -> T {
    if (state_ == state::shut_down_now) throw queue_shut_down();
    if (state_ != state::done) {
      if (task_->unpark(*this)) task_->throw_cancelled();  // refused park, or aborted
      if (state_ == state::shut_down) throw queue_shut_down();
      state_ = state::done;
    }
    return std::move(*item_);
  }

  /// The queue hands this (unlinked) getter an item.
  void grant(T&& item) {
    item_.emplace(std::move(item));
    this->grant_and_schedule();  // still parked on us: a late cancel gives the item back
  }

 private:
  static auto waiters(Q& q) noexcept -> waiter_list<queue_get_awaiter>& { return q.getters_; }
  void pass_on_grant() noexcept {
    // If putting it back cannot allocate, noexcept terminates: better than losing the item silently.
    owner_->give_back(std::move(*item_));
    item_.reset();
  }

  std::optional<T> item_;
};

/// Awaiter behind basic_queue::put(item). Holds the item until it goes in. The grant is a reserved
/// slot: the putter's item goes in when it resumes; one cancelled or destroyed before that
/// releases the slot to the next putter and puts nothing (see the header).
template <class Q>
class queue_put_awaiter : public handoff_awaiter<queue_put_awaiter<Q>, Q> {
  using T = typename Q::value_type;
  using base = handoff_awaiter<queue_put_awaiter<Q>, Q>;
  friend base;
  using typename base::state;
  using base::owner_, base::state_, base::task_;

 public:
  queue_put_awaiter(Q& q, T&& item) : base(q), item_(std::move(item)) {}
  /// Movable until awaited (core/awaitable.hpp: wait_for(q.put(x), d)), item included.
  queue_put_awaiter(queue_put_awaiter&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : base(std::move(o)), item_(std::move(o.item_)) {}
  ~queue_put_awaiter() { this->withdraw(); }  // frame destroyed while parked

  [[nodiscard]] auto await_ready() -> bool {
    this->check_first_await();
    if (owner_->shut_down_) {
      state_ = state::shut_down_now;
      return true;
    }
    if (owner_->full()) return false;  // putters wait only while full, so none can be bypassed
    owner_->accept(std::move(item_));
    state_ = state::done;
    return true;
  }
  void await_resume() {
    switch (state_) {
      case state::done:
        return;
      case state::shut_down_now:
        throw queue_shut_down();
      default:
        break;
    }
    if (task_->unpark(*this)) task_->throw_cancelled();  // a reserved slot was passed on
    if (state_ == state::shut_down) throw queue_shut_down();
    state_ = state::done;  // granted: the reserved slot takes the item
    owner_->release_slot();
    if (owner_->shut_down_) {  // shut down between the grant and now: nothing goes in
      owner_->grant_free_slots();
      throw queue_shut_down();
    }
    owner_->accept(std::move(item_));
    owner_->grant_free_slots();  // the item went straight to a getter: its slot is free again
  }

  /// The queue reserved a slot for this (unlinked) putter; it puts when it resumes.
  void grant_slot() noexcept { this->grant_and_schedule(); }

 private:
  static auto waiters(Q& q) noexcept -> waiter_list<queue_put_awaiter>& { return q.putters_; }
  void pass_on_grant() noexcept {  // cancelled or destroyed after the grant: put nothing
    owner_->release_slot();
    owner_->grant_free_slots();
  }

  T item_;
};

}  // namespace detail

}  // namespace asyncio
