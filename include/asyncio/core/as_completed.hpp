#pragma once
// as_completed: results in the order the tasks finish (Python's asyncio.as_completed).
//
//   for (auto next : asyncio::as_completed(tasks, 10s)) {
//     int r = co_await next;   // the earliest result not yet taken (or its exception)
//   }
//
// Each `next` is a task<T>: awaiting it waits for the next task to finish and gives its result
// (rethrows its exception). The loop runs exactly once per distinct task. After `timeout` (counted
// from the as_completed call), the results already finished are still given out, then every
// further `co_await next` raises timeout_error. `co_await ac.next_task()` gives the finished
// task's handle instead (Python 3.13's `async for t in as_completed(...)`).
//
// Like wait(), as_completed takes handles and never cancels them: on timeout or cancellation the
// tasks keep running; they are yours. Await the `next`s one at a time, from one task.
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <asyncio/core/shield.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/distinct_tasks.hpp>
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/core/clock.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {
namespace detail {

/// The completion order of a set of tasks, as indices. Not movable (its nodes are linked into
/// the tasks); as_completed_range holds it on the heap.
class completion_queue : timer_target {
 public:
  completion_queue(std::vector<task_base*> tasks, std::optional<duration> timeout);
  ~completion_queue();
  completion_queue(const completion_queue&) = delete;
  auto operator=(const completion_queue&) -> completion_queue& = delete;

  /// Waits for the next finished task and returns its index.
  /// Throws: timeout_error after the timeout once the finished ones are taken; cancelled_error.
  auto next_index() -> task<std::size_t>;
  [[nodiscard]] auto size() const noexcept -> std::size_t { return tasks_.size(); }

 private:
  static void on_done(watch_node* n) noexcept;
  static void on_timer(timer_target* self) noexcept;

  std::vector<task_base*> tasks_;
  std::unique_ptr<watch_node[]> nodes_;
  std::vector<std::size_t> finished_;  // indices in completion order (capacity: one per task)
  std::size_t next_finished_ = 0;      // finished_[next_finished_...] are not given out yet
  event_loop* loop_ = nullptr;
  std::uint64_t timer_key_ = timer_heap::no_timer;
  bool timed_out_ = false;
  parking_spot spot_;  // interrupt mode: a cancelled awaiter loses nothing (the index stays queued)
};

}  // namespace detail

/// What as_completed() returns: a range of exactly size() task<T> awaitables.
///
/// Thread safety: loop-affine.
template <class T>
class as_completed_range {
 public:
  as_completed_range(std::vector<task_handle<T>> tasks, std::optional<duration> timeout) {
    auto distinct = detail::drop_repeated_tasks(tasks);
    tasks_ = std::move(distinct.handles);
    queue_ = std::make_unique<detail::completion_queue>(std::move(distinct.cores), timeout);
  }

  /// The next result in completion order.
  ///
  /// Cancellation: the awaiter raises cancelled_error; nothing is lost (the next await gets it).
  /// Resumes: on the awaiting task's loop, when a task finished.
  /// Throws: the finished task's exception; timeout_error after the timeout.
  auto next() ASYNCIO_LIFETIMEBOUND -> task<T> {
    std::size_t i = co_await queue_->next_index();
    co_return detail::shared_result(tasks_[i]);
  }
  /// The next finished task itself (its result untouched).
  auto next_task() ASYNCIO_LIFETIMEBOUND -> task<task_handle<T>> {
    std::size_t i = co_await queue_->next_index();
    co_return tasks_[i];
  }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return tasks_.size(); }

  class iterator {
   public:
    using difference_type = std::ptrdiff_t;
    using value_type = task<T>;
    iterator() = default;
    iterator(as_completed_range* r, std::size_t i) : range_(r), index_(i) {}
    auto operator*() const -> task<T> { return range_->next(); }
    auto operator++() -> iterator& {
      ++index_;
      return *this;
    }
    auto operator++(int) -> iterator {
      iterator old = *this;
      ++index_;
      return old;
    }
    friend auto operator==(const iterator& a, const iterator& b) -> bool { return a.index_ == b.index_; }

   private:
    as_completed_range* range_ = nullptr;
    std::size_t index_ = 0;
  };
  auto begin() ASYNCIO_LIFETIMEBOUND -> iterator { return iterator(this, 0); }
  auto end() ASYNCIO_LIFETIMEBOUND -> iterator { return iterator(this, tasks_.size()); }

 private:
  std::vector<task_handle<T>> tasks_;
  std::unique_ptr<detail::completion_queue> queue_;
};

/// Gives the results of `tasks` in the order they finish (see the top of this file).
/// Call it inside a task of the running loop; the timeout starts now.
template <class T>
auto as_completed(std::vector<task_handle<T>> tasks, std::optional<duration> timeout = std::nullopt)
    -> as_completed_range<T> {
  return as_completed_range<T>(std::move(tasks), timeout);
}

}  // namespace asyncio
