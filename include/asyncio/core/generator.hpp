#pragma once
// generator<T>: an async generator (Python's `async def` with `yield`), and the ways to iterate it
// that read like `async for`.
//
//   asyncio::generator<int> ticks(int n) {
//     for (int i = 0; i < n; ++i) {
//       co_await asyncio::sleep(1s);   // co_await works inside
//       co_yield i;
//     }
//   }
//
//   auto gen = ticks(3);                          // Python:
//   while (auto i = co_await gen.next()) {        //   async for i in ticks(3):
//     use(*i);                                    //       use(i)
//   }
//   co_await asyncio::for_each(ticks(3), [](int i) { use(i); });   // the same, as one call
//
// C++20 has no `for co_await`, and an iterator interface needs `co_await ++it`; `next()` returning
// std::optional<T> (empty at the end) keeps the loop to one line, as `async for` does.
//
// Where it runs: like an awaited task<T>, the generator's frame runs *inside the consuming task*
// (symmetric transfer in on next(), back out on co_yield). So cancelling the consumer while the
// generator awaits something raises cancelled_error inside the generator, where its catch blocks and
// destructors run, and then out of next(). Exceptions thrown by the generator come out of next().
//
// Cleanup (Python's aclose()): destroying the generator object (or close()) destroys a frame that
// is suspended at a co_yield, which runs the destructors of its locals. As in Python, a consumer
// that stops early (break) therefore cleans up; cleanup code cannot co_await (destructors are
// synchronous).
#include <coroutine>
#include <exception>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/lifetimebound.hpp>

namespace asyncio {

template <class T>
class generator;

namespace detail {

template <class T>
class generator_promise : public promise_base {
 public:
  auto get_return_object() noexcept -> generator<T>;

  struct yield_awaiter {
    [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) noexcept -> std::coroutine_handle<> {
      return h.promise().next_after_child();  // back to the consumer (budgeted, see task.hpp)
    }
    void await_resume() const noexcept {}
  };
  /// Stores the value for next() and suspends until the consumer asks again.
  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  auto yield_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) -> yield_awaiter {
    value_.emplace(std::forward<U>(v));
    return {};
  }
  void return_void() noexcept {}

  struct final_awaiter {
    [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) noexcept -> std::coroutine_handle<> {
      return h.promise().next_after_child();
    }
    void await_resume() const noexcept {}
  };
  auto final_suspend() noexcept -> final_awaiter { return {}; }

  std::optional<T> value_;
};

/// to_async's pause between two items: the task goes to the back of the ready queue, exactly as
/// sleep(0s) does (time/sleep.hpp, a layer above this one). A cancel while it waits is raised here.
class yield_to_loop : suspension {
 public:
  yield_to_loop() noexcept { abort = &on_abort; }
  yield_to_loop(const yield_to_loop&) = delete;
  auto operator=(const yield_to_loop&) -> yield_to_loop& = delete;

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;  // a cancel is pending: await_resume raises it
    detail::loop_access::schedule(t.loop(), t);
    return true;
  }
  void await_resume() {
    if (task_->unpark(*this)) task_->throw_cancelled();
  }

 private:
  // The task is on the ready queue already: await_resume sees the abort and raises.
  static void on_abort(suspension* /*self*/, task_core& /*t*/) noexcept {}

  task_core* task_ = nullptr;
};

}  // namespace detail

/// An async generator yielding T (Python's async generator). Move-only; iterate it with next() or
/// for_each(). T is an object type (yield pointers or std::reference_wrapper for references).
///
/// Cancellation: the generator runs inside the consuming task; a cancel raises cancelled_error at
/// the generator's suspension point, which propagates out of next() (the generator is then done).
/// Resumes: next() resumes the consumer when the generator yields, returns or throws.
/// Thread safety: loop-affine.
template <class T>
class [[nodiscard]] generator {
  static_assert(std::is_object_v<T>, "generator<T>: T must be an object type");

 public:
  using promise_type = detail::generator_promise<T>;
  using value_type = T;

  generator() noexcept = default;
  explicit generator(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  generator(generator&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  auto operator=(generator&& o) noexcept -> generator& {
    if (this != &o) {
      close();
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  generator(const generator&) = delete;
  auto operator=(const generator&) -> generator& = delete;
  ~generator() { close(); }

  struct next_awaiter {
    std::coroutine_handle<promise_type> gen;

    [[nodiscard]] auto await_ready() const noexcept -> bool { return !gen || gen.done(); }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> consumer) noexcept -> std::coroutine_handle<> {
      promise_type& p = gen.promise();
      detail::task_core& t = detail::task_of(consumer);
      p.set_owner_task(t);  // the generator runs in the consumer's task (cancellation reaches it)
      p.set_continuation(consumer);
      p.value_.reset();
      event_loop& loop = t.loop();
      if (detail::loop_access::consume_inline_budget(loop)) [[likely]] return gen;
      t.set_resume_point(gen);
      detail::loop_access::schedule(loop, t);
      return std::noop_coroutine();
    }
    auto await_resume() -> std::optional<T> {
      if (!gen) return std::nullopt;
      promise_type& p = gen.promise();
      if (gen.done()) {
        if (p.has_exception()) {
          std::exception_ptr e = p.exception_ptr();
          p.set_exception_ptr(nullptr);  // raised once; afterwards the generator is just finished
          std::rethrow_exception(e);
        }
        return std::nullopt;
      }
      std::optional<T> out(std::move(p.value_));
      p.value_.reset();
      return out;
    }
  };

  /// Runs the generator to its next co_yield and returns the value, or an empty optional once it
  /// has returned (Python's `await anext(gen, None)`).
  ///
  /// Cancellation: raised inside the generator at its suspension point, then from next().
  /// Resumes: in the calling task, as soon as the generator yields or finishes.
  /// Throws: whatever the generator throws (once; later calls return an empty optional).
  [[nodiscard]] auto next() noexcept ASYNCIO_LIFETIMEBOUND -> next_awaiter { return next_awaiter{handle_}; }

  /// True once the generator has returned (or thrown), or if this object is empty.
  [[nodiscard]] auto done() const noexcept -> bool { return !handle_ || handle_.done(); }

  /// Destroys the generator's frame now, running the destructors of its locals (Python's aclose()).
  /// Must not be called while the generator is running or suspended inside an await.
  void close() noexcept {
    if (handle_) std::exchange(handle_, nullptr).destroy();
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
auto generator_promise<T>::get_return_object() noexcept -> generator<T> {
  return generator<T>(std::coroutine_handle<generator_promise>::from_promise(*this));
}

template <class F, class T>
inline constexpr bool returns_awaitable = !std::is_void_v<std::invoke_result_t<F&, T&&>>;
}  // namespace detail

/// Calls fn(value) for every value of `gen`, in order (Python's `async for v in gen: fn(v)`).
/// fn may return void, or a task (or any awaitable), which is awaited before the next value.
/// The generator is closed when for_each returns or throws.
///
/// Cancellation: reaches the generator or fn, wherever the task is suspended.
/// Resumes: in the calling task.
/// Throws: whatever the generator or fn throws.
template <class T, class F>
auto for_each(generator<T> gen, F fn) -> task<void> {
  while (auto v = co_await gen.next()) {
    if constexpr (detail::returns_awaitable<F, T>) {
      co_await fn(std::move(*v));
    } else {
      fn(std::move(*v));
    }
  }
}

/// Yields the elements of `range` one by one, yielding to the loop (as sleep(0s)) after each one, so
/// that other tasks run between the iterations of the consumer (`to_aiter` of scenario S1,
/// docs/scenarios.md §1: without the sleep, an `async for` over a plain iterable never lets the tasks
/// it starts run).
/// The range is taken by value (moved or copied into the generator's frame).
template <std::ranges::input_range R>
auto to_async(R range) -> generator<std::ranges::range_value_t<R>> {
  for (auto&& element : range) {
    co_yield element;
    co_await detail::yield_to_loop();
  }
}

}  // namespace asyncio
