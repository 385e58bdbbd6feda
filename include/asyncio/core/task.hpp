#pragma once
// task<T>: the coroutine type (Python's `async def f() -> T`).
//
// A task<T> is lazy: calling the function allocates its frame and runs nothing. `co_await f()` runs
// it inside the awaiting task (symmetric transfer in, symmetric transfer back out); create_task(f())
// promotes the frame to an independent task that the loop owns. Frames come from the per-thread
// frame pool (detail/frame_allocator.hpp).
//
// Stack depth: symmetric transfer is a tail call on clang and on g++ with -foptimize-sibling-calls,
// but sanitizers and -O0 may break that (docs/toolchain.md §2, §4.2). Every transfer therefore spends one unit
// of the loop's inline budget; when it runs out the frame is posted to the ready queue instead, so
// a chain of synchronously completing awaits can never overflow the stack (docs/toolchain.md §2.2).
#include <coroutine>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/detail/frame_allocator.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {

template <class T = void>
class task;

namespace detail {

/// What every coroutine frame of this library starts with. Embeds the task_core used when the
/// frame becomes a task (see task_core.hpp for the invariants and the W3 layout argument; docs/benchmarks.md §2.3).
struct promise_base : task_core {
  /// True if this frame is the root of a task (create_task promoted it).
  [[nodiscard]] auto is_root() const noexcept -> bool { return is_task_; }
  /// The task whose chain this frame runs in (this, for a root); null before the frame started.
  [[nodiscard]] auto owner_task() noexcept -> task_core* { return is_task_ ? this : chain_task(); }
  /// Makes this (non-root) frame run in task t's chain.
  void set_owner_task(task_core& t) noexcept { set_chain_task(&t); }
  [[nodiscard]] auto continuation() const noexcept -> std::coroutine_handle<> {
    return std::coroutine_handle<>::from_address(continuation_address());
  }
  void set_continuation(std::coroutine_handle<> h) noexcept { set_continuation_address(h.address()); }

  static auto operator new(std::size_t size) -> void* { return frame_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

  auto initial_suspend() noexcept -> std::suspend_always { return {}; }
  void unhandled_exception() noexcept {
    try {
      set_exception_ptr(std::current_exception());
    } catch (...) {
      std::terminate();  // out of memory while recording an exception
    }
  }

  /// Makes this frame the root of a new task on `loop` (create_task).
  void become_task(event_loop& loop, std::coroutine_handle<> root) noexcept {
    loop_ = &loop;  // from here on the live members are loop_ and waiters_ (task_core.hpp)
    is_task_ = true;
    waiters_slot() = nullptr;
    resume_ = root;
  }

  /// Finishes a root frame: records the outcome, wakes waiters, leaves the loop's registry.
  /// Returns the frame to transfer to (the first waiter) or noop.
  auto finish_root(std::coroutine_handle<> root) noexcept -> std::coroutine_handle<>;
  /// finish_root when there are waiters, extras (exception, callbacks...) or a pending cancel.
  auto finish_root_completing() noexcept -> std::coroutine_handle<>;

  /// Where a finished non-root frame goes next: its continuation, unless the inline budget is
  /// spent, in which case the continuation is posted to the ready queue.
  auto next_after_child() noexcept -> std::coroutine_handle<> {
    task_core& t = *chain_task();
    event_loop& loop = t.loop();
    if (detail::loop_access::consume_inline_budget(loop)) [[likely]] return continuation();
    t.set_resume_point(continuation());
    detail::loop_access::schedule(loop, t);
    return std::noop_coroutine();
  }

  struct final_awaiter {
    [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) noexcept -> std::coroutine_handle<> {
      promise_base& p = h.promise();
      if (p.is_root()) return p.finish_root(h);
      return p.next_after_child();
    }
    void await_resume() const noexcept {}
  };
  auto final_suspend() noexcept -> final_awaiter { return {}; }
};

// asyncio_promise and task_of (the task running a frame): detail/suspension.hpp.

template <class T>
class task_promise : public promise_base {
 public:
  task_promise() noexcept {}
  ~task_promise() {
    if (has_value_) value_.~T();
  }
  auto get_return_object() noexcept -> task<T>;
  template <class U = T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    ::new (static_cast<void*>(std::addressof(value_))) T(std::forward<U>(v));
    has_value_ = true;
  }
  /// The value, or rethrows the stored exception.
  auto value() & -> T& {
    if (has_exception()) [[unlikely]] std::rethrow_exception(exception_ptr());
    return value_;
  }

  union {
    T value_;
  };
  bool has_value_ = false;
};

template <class T>
class task_promise<T&> : public promise_base {
 public:
  auto get_return_object() noexcept -> task<T&>;
  void return_value(T& v) noexcept { value_ = std::addressof(v); }
  auto value() & -> T& {
    if (has_exception()) [[unlikely]] std::rethrow_exception(exception_ptr());
    return *value_;
  }

  T* value_ = nullptr;
};

template <>
class task_promise<void> : public promise_base {
 public:
  auto get_return_object() noexcept -> task<void>;
  void return_void() noexcept {}
  void value() {
    if (has_exception()) [[unlikely]] std::rethrow_exception(exception_ptr());
  }

};

/// Reports a task<T> destroyed without ever being awaited or spawned: Python's "coroutine was never
/// awaited" (src/core/never_awaited.cpp; format in task<T>'s comment). Always on, debug mode or not;
/// it goes to the running loop's exception handler, or to stderr when no loop runs on this thread.
/// Out of line and only called on that path: the destructor's cost is the one branch that calls it.
void report_never_awaited(void* frame_address) noexcept;

/// The name a report shows for a demangled coroutine resume function. For `template <class T>
/// auto twice(T) -> task<T>` in an anonymous namespace, clang's
/// "asyncio::task<double> (anonymous namespace)::twice<double>(double) [clone .resume]" and g++'s
/// "(anonymous namespace)::twice((anonymous namespace)::twice<double>(double)::
/// _ZN12_GLOBAL__N_15twiceIdEEN7asyncio4taskIT_EES3_.Frame*) [clone .actor]" (one line) both give
/// "twice<double>(double)": clone suffixes, anonymous namespaces and a template's return type are
/// removed; parameters are kept so that overloads differ. Any other name gets the same removals.
/// Throws: std::bad_alloc.
auto coroutine_display_name(std::string_view demangled) -> std::string;

}  // namespace detail

/// A coroutine returning T (Python's `async def`). Move-only; lazy; awaited at most once.
///
/// Never awaited: destroying a task<T> whose coroutine never started (neither awaited nor passed to
/// create_task, gather, a task_group...) reports it, as Python warns "coroutine 'f' was never
/// awaited", in debug mode or not. The report goes to the running loop's exception handler
/// (event_loop::set_exception_handler captures it; the default one prints it to stderr), or to
/// stderr when no loop runs on this thread. Its message is
///
///     coroutine 'child(int)' was never awaited
///       dropped in: parent()
///
/// (the default handler prefixes "asyncio: "). The coroutine is named from the executable's symbol
/// table, read only when reporting: no -rdynamic needed, but a stripped binary gives
/// "coroutine at <file>+0x<offset> was never awaited" with an addr2line command instead. The second
/// line names the function whose scope destroyed it, when the symbols allow. A task, once created,
/// owns its coroutine and is never reported, even if it is cancelled before its first step (as in
/// CPython); neither is a coroutine handed to a refusing task_group or a closed loop's run_on.
/// Where the coroutine was created is not recorded, debug mode included: that would cost every
/// coroutine call a check (docs/lessons.md §3.9).
///
/// Cancellation: a cancelled task raises asyncio::cancelled_error at the suspension point where the
/// chain is parked; destructors and catch blocks run.
/// Resumes: on the loop of the task that awaits it.
/// Thread safety: loop-affine.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  task(task&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  auto operator=(task&& o) noexcept -> task& {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  task(const task&) = delete;
  auto operator=(const task&) -> task& = delete;
  ~task() { reset(); }

  /// True if this object holds a coroutine that has not been handed off.
  [[nodiscard]] auto valid() const noexcept -> bool { return bool(handle_); }

  struct awaiter {
    std::coroutine_handle<promise_type> child;

    [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> parent) noexcept -> std::coroutine_handle<> {
      promise_type& c = child.promise();
      detail::task_core& t = detail::task_of(parent);
      c.set_owner_task(t);
      c.set_continuation(parent);
      event_loop& loop = t.loop();
      if (detail::loop_access::consume_inline_budget(loop)) [[likely]] return child;
      t.set_resume_point(child);
      detail::loop_access::schedule(loop, t);
      return std::noop_coroutine();
    }
    auto await_resume() -> T {
      if constexpr (std::is_void_v<T>) {
        child.promise().value();
      } else if constexpr (std::is_reference_v<T>) {
        return child.promise().value();
      } else {
        return std::move(child.promise().value());
      }
    }
  };

  /// Runs the coroutine inside the awaiting task and returns its result (or rethrows).
  auto operator co_await() && noexcept -> awaiter { return awaiter{handle_}; }
  auto operator co_await() & noexcept -> awaiter { return awaiter{handle_}; }

  /// Gives up ownership of the frame (used by create_task).
  auto release() noexcept -> std::coroutine_handle<promise_type> { return std::exchange(handle_, nullptr); }

 private:
  void reset() noexcept {
    if (!handle_) return;
    // A frame that never ran (still at its initial suspension) is Python's "never awaited". A
    // task<T> never holds a task's root frame (create_task takes it), so this is the chain link.
    if (!handle_.promise().owner_task()) [[unlikely]]
      detail::report_never_awaited(handle_.address());
    handle_.destroy();
    handle_ = nullptr;
  }
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
auto task_promise<T>::get_return_object() noexcept -> task<T> {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
template <class T>
auto task_promise<T&>::get_return_object() noexcept -> task<T&> {
  return task<T&>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline auto task_promise<void>::get_return_object() noexcept -> task<void> {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}
}  // namespace detail

}  // namespace asyncio
