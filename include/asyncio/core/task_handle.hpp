#pragma once
// Tasks (Python's asyncio.Task): create_task, task_handle<T>, any_task, current_task, all_tasks,
// and eager_task<T>, the coroutine type that starts on call (js_like_await of scenario S1, docs/scenarios.md §1).
//
// The loop owns every unfinished task strongly: dropping a task_handle never stops or loses a task
// (unlike CPython, python/cpython#91887). A task that finished with an exception nobody retrieved
// is reported when its last handle goes away.
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <asyncio/core/task.hpp>

namespace asyncio {

/// Options for create_task.
struct task_options {
  /// The task's name (get_name()); default "Task-N".
  std::string_view name = {};
  /// Run the coroutine synchronously up to its first suspension inside create_task (default, as
  /// JavaScript and Python 3.12's eager_task_factory); false schedules it like classic asyncio.
  bool eager = true;
};

template <class T>
class task_handle;

/// Names a done callback so that remove_done_callback can find it again: add_done_callback returns
/// one. Python removes "every callback equal to fn", but C++ callables (lambdas, std::function)
/// have no equality, so a callback is identified by the handle its registration returned. A
/// default-constructed handle names no callback. Copyable, compared by value.
///
/// Thread safety: a plain value; removing goes through the (loop-affine) future or task.
class callback_handle {
 public:
  callback_handle() noexcept = default;
  /// For the library (detail::completion ids).
  explicit callback_handle(std::uint64_t id) noexcept : id_(id) {}
  [[nodiscard]] explicit operator bool() const noexcept { return id_ != 0; }
  [[nodiscard]] auto id() const noexcept -> std::uint64_t { return id_; }
  friend auto operator==(const callback_handle& a, const callback_handle& b) noexcept -> bool = default;

 private:
  std::uint64_t id_ = 0;
};

/// Wraps the coroutine in a task owned by the running loop and starts it: eagerly by default (it
/// runs synchronously up to its first suspension before create_task returns), or scheduled.
///
/// Throws invalid_state_error if no loop runs on this thread.
template <class T>
auto create_task(task<T> coro, task_options options = {},
                 std::source_location where = std::source_location::current()) -> task_handle<T>;

/// A type-erased reference to a task: everything of Python's Task except result().
///
/// Thread safety: loop-affine.
class any_task {
 public:
  any_task() noexcept = default;
  explicit any_task(detail::task_base* core) noexcept : core_(core) {
    if (core_) core_->add_ref();
  }
  any_task(const any_task& o) noexcept : any_task(o.core_) {}
  any_task(any_task&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  auto operator=(any_task o) noexcept -> any_task& {
    std::swap(core_, o.core_);
    return *this;
  }
  ~any_task() {
    if (core_) core_->release();
  }

  /// False for an empty handle (e.g. current_task() outside a task).
  [[nodiscard]] explicit operator bool() const noexcept { return core_ != nullptr; }
  friend auto operator==(const any_task& a, const any_task& b) noexcept -> bool { return a.core_ == b.core_; }

  /// Requests cancellation: cancelled_error is raised at the task's suspension point.
  /// Returns false if the task is already done.
  /// Throws: std::bad_alloc only if `message` is not empty and cannot be kept (nothing changes then).
  auto cancel(std::string message = {}) -> bool { return core_->cancel(std::move(message)); }
  /// True if the task finished by cancellation.
  [[nodiscard]] auto cancelled() const noexcept -> bool { return core_->cancelled(); }
  /// True if the task finished (value, exception or cancellation).
  [[nodiscard]] auto done() const noexcept -> bool { return core_->done(); }
  /// Pending cancel requests (Python 3.11's Task.cancelling()).
  [[nodiscard]] auto cancelling() const noexcept -> int { return core_->cancelling(); }
  /// Withdraws one cancel request (Python 3.11's Task.uncancel()); returns the remaining count.
  auto uncancel() noexcept -> int { return core_->uncancel(); }
  /// The exception the task finished with (null if it returned normally).
  /// Throws cancelled_error if cancelled, invalid_state_error if not done.
  [[nodiscard]] auto exception() const -> std::exception_ptr;
  /// The task's name ("Task-N" unless set).
  [[nodiscard]] auto get_name() const -> std::string;
  /// Renames the task.
  void set_name(std::string name) { core_->extras().name = std::move(name); }
  /// Runs fn() via call_soon once the task is done (at once, via call_soon, if already done).
  /// `fn` takes no argument, or the task (Python passes it: `t.add_done_callback(lambda t: ...)`):
  /// then it is called with an any_task for it, and the callback keeps the task alive until it
  /// ran or was removed. A callable that accepts both forms is called without argument.
  /// Returns the handle remove_done_callback takes.
  /// Throws: std::bad_alloc.
  template <class F>
    requires std::invocable<F&> || std::invocable<F&, const any_task&>
  auto add_done_callback(F fn) -> callback_handle {
    if constexpr (std::invocable<F&>) {
      return callback_handle(core_->add_done_callback_with_id(detail::unique_function<void()>(std::move(fn))));
    } else {
      return callback_handle(core_->add_done_callback_with_id(
          detail::unique_function<void()>([self = *this, f = std::move(fn)]() mutable { f(std::as_const(self)); })));
    }
  }
  /// Removes the callback `h` names if it has not been scheduled yet (Python's
  /// Task.remove_done_callback). Returns the number removed: 1, or 0 if it already ran, is
  /// scheduled to run (the task is done) or was added to another task.
  auto remove_done_callback(callback_handle h) noexcept -> std::size_t { return core_->remove_done_callback(h.id()); }
  /// Where the task was created (std::source_location{} when unknown).
  [[nodiscard]] auto created_at() const noexcept -> std::source_location { return core_->created_at(); }
  /// The loop that runs the task.
  [[nodiscard]] auto get_loop() const noexcept -> event_loop& { return core_->loop(); }

  /// Drops this reference on purpose: the loop keeps running the task; an exception it ends with is
  /// reported unless another handle retrieves it.
  void detach() noexcept { any_task().swap(*this); }
  void swap(any_task& o) noexcept { std::swap(core_, o.core_); }

  /// For the library's combinators.
  [[nodiscard]] auto core() const noexcept -> detail::task_base* { return core_; }

 protected:
  detail::task_base* core_ = nullptr;
};

namespace detail {

/// Parks the awaiting task until `source` (a task or future) completes.
///
/// Cancellation: cancelling the awaiting task calls OnCancel(source) (tasks: cancel the awaited
/// task, as CPython; futures: cancel the future) and keeps waiting for its outcome; so does a
/// cancel already pending when the wait starts. If the source had already finished (the awaiter
/// was woken but not yet resumed), cancelled_error is raised instead.
/// OnCancel is a template argument, not a member, so that the awaiter (which lives in every frame
/// that awaits a task or future) is 32 bytes (W3, docs/benchmarks.md §2.3).
struct completion_wait : completion_waiter {
  /// Passes the awaiting task's cancel on to the source; cannot fail (task_base::cancel_noexcept).
  using cancel_source_fn = void (*)(completion& source, const shared_message& message) noexcept;
  /// Selects what cancelling the awaiting task does to the source.
  template <cancel_source_fn OnCancel>
  struct on_cancel {};

  template <cancel_source_fn OnCancel>
  completion_wait(completion& s, on_cancel<OnCancel> /*policy*/) noexcept {
    source = &s;
    abort = &on_abort<OnCancel>;
  }
  completion_wait(const completion_wait&) = delete;
  ~completion_wait() {
    if (task && !source->done()) source->remove_waiter(*this);
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return source->done(); }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& me = task_of(h);
    task = &me;
    if (!me.park(*this, h)) [[unlikely]]
      return pass_on_pending_cancel(me, h);
    source->add_waiter(*this);
    return true;
  }
  /// Call first in await_resume: throws cancelled_error if this wait was cancelled.
  void check_cancelled() {
    if (task && task->unpark(*this)) task->throw_cancelled();
  }

  /// The awaiting task has a cancel pending (it cancelled itself, or was cancelled while it ran):
  /// as CPython's Task.__step, the cancel goes to what it now awaits instead of interrupting the
  /// await, and the task waits for that outcome, so nothing awaited is left running orphaned. It
  /// is the abort of a parked wait (on_abort), taken at once.
  [[gnu::cold]] auto pass_on_pending_cancel(task_core& me, std::coroutine_handle<> h) noexcept -> bool {
    (void)me.take_pending_cancel();
    (void)me.park(*this, h);
    source->add_waiter(*this);
    abort(this, me);
    return true;
  }

  template <cancel_source_fn OnCancel>
  static void on_abort(suspension* self, task_core& me) noexcept {
    auto* w = static_cast<completion_wait*>(self);
    if (w->source->done()) return;  // woken already: await_resume sees the abort and throws
    me.repark(*w);                  // keep waiting for the source's outcome (CPython semantics)
    OnCancel(*w->source, me.shared_cancel_message());
  }
};

void cancel_task_source(completion& source, const shared_message& message) noexcept;
[[noreturn]] void throw_not_done();
/// Turns a frame into a task on `loop`: registers it, applies options, starts or schedules it.
void promote_to_task(event_loop& loop, promise_base& p, std::coroutine_handle<> root,
                     const task_options& options, const std::source_location* where);

}  // namespace detail

/// A task returning T (Python's asyncio.Task). A copyable handle; awaiting it yields the result.
///
/// Cancellation: cancelling a task that awaits this one cancels this one too (as CPython), and so
/// does a cancel that was pending when it began to await (a task that cancelled itself); use
/// shield() to prevent that.
/// Resumes: the awaiting task, on its loop, right after this task finishes.
/// Thread safety: loop-affine.
template <class T>
class [[nodiscard]] task_handle : public any_task {
 public:
  using promise_type_of_task = detail::task_promise<T>;
  using value_type = T;

  task_handle() noexcept = default;
  explicit task_handle(promise_type_of_task* p) noexcept : any_task(p) {}

  /// The result (a reference into the task); rethrows the task's exception; throws cancelled_error
  /// if it was cancelled and invalid_state_error if it is not done.
  auto result() const -> decltype(auto) { return result_of(*core_); }
  /// Moves the result out (for move-only T); same errors as result().
  auto take_result() -> T { return take_result_of(*core_); }

  /// As any_task::add_done_callback, and `fn` may also take this task_handle<T> (to read the
  /// result: `t.add_done_callback([](const asyncio::task_handle<int>& t) { use(t.result()); })`).
  /// Throws: std::bad_alloc.
  template <class F>
    requires std::invocable<F&> || std::invocable<F&, const task_handle&>
  auto add_done_callback(F fn) -> callback_handle {
    if constexpr (std::invocable<F&>) {
      return any_task::add_done_callback(std::move(fn));
    } else {
      return callback_handle(core_->add_done_callback_with_id(
          detail::unique_function<void()>([self = *this, f = std::move(fn)]() mutable { f(std::as_const(self)); })));
    }
  }

  /// Awaiter of a task_handle: only the completion_wait (32 bytes), the source is the task (W3).
  /// Take: `co_await std::move(h)` moves the result out (the only way for a move-only T); a plain
  /// `co_await h` copies it. A template parameter, not a flag, so that the copying branch is not
  /// instantiated for move-only results.
  template <bool Take>
  struct awaiter : detail::completion_wait {
    explicit awaiter(detail::task_base& t) noexcept
        : completion_wait(t, on_cancel<&detail::cancel_task_source>{}) {}
    auto await_resume() -> T {
      check_cancelled();
      auto& t = static_cast<detail::task_base&>(*source);
      if constexpr (Take) return take_result_of(t);
      else if constexpr (std::is_void_v<T>) result_of(t);
      else return result_of(t);
    }
  };
  /// Waits for the task and returns its result (a copy; `co_await std::move(h)` moves it out).
  auto operator co_await() & noexcept -> awaiter<false> { return awaiter<false>(*core_); }
  auto operator co_await() && noexcept -> awaiter<true> { return awaiter<true>(*core_); }

 private:
  static void check_result(detail::task_base& t) {
    if (!t.done()) detail::throw_not_done();
    (void)t.take_exception_ptr();  // marks an exception as retrieved
    if (t.cancelled()) t.throw_cancelled();
  }
  // What a finished_task stores for T (detail::compactable_result<T> only).
  using compact_type = std::conditional_t<std::is_reference_v<T>, std::remove_reference_t<T>*, T>;

  // The result of a finished task, in its frame's promise or (compactable T) in a finished_task.
  static auto value_of(detail::task_base& t) -> decltype(auto) {
    if constexpr (detail::compactable_result<T>) {
      if (t.compact()) {
        if constexpr (std::is_void_v<T>) return;
        else if constexpr (std::is_reference_v<T>) return static_cast<T>(*t.compact_result<compact_type>());
        else return t.compact_result<T>();
      }
    }
    return static_cast<promise_type_of_task&>(t).value();
  }
  static auto result_of(detail::task_base& t) -> decltype(auto) {
    check_result(t);
    if constexpr (std::is_void_v<T>) {
      value_of(t);
    } else if constexpr (std::is_reference_v<T>) {
      return value_of(t);  // refers to an object outside the task: as the coroutine returned it
    } else {
      return std::as_const(value_of(t));
    }
  }
  static auto take_result_of(detail::task_base& t) -> T {
    check_result(t);
    if constexpr (std::is_void_v<T>) {
      value_of(t);
    } else if constexpr (std::is_reference_v<T>) {
      return value_of(t);
    } else {
      return std::move(value_of(t));
    }
  }

  /// Replaces a task that finished inside create_task by a finished_task, when it can (see there).
  void compact_if_finished() noexcept {
    if constexpr (detail::compactable_result<T>) {
      auto& p = static_cast<promise_type_of_task&>(*core_);  // create_task's own frame
      if (!p.done() || !detail::finished_task::can_replace(p)) return;
      detail::finished_task* box;
      try {
        // value_ is the value itself, or a pointer for a reference (compact_type either way).
        if constexpr (std::is_void_v<T>) box = new detail::finished_task(p.loop());
        else box = new detail::finished_task(p.loop(), p.value_);
      } catch (...) {
        return;  // no memory for the box: keep the frame
      }
      // Our reference was the frame's last (can_replace): free it now, so that the next frame
      // reuses it while it is in cache. Directly, not through release(): nothing to report.
      core_ = box;
      p.destroy_frame();
    }
  }

  template <class U>
  friend auto create_task(task<U> coro, task_options options, std::source_location where) -> task_handle<U>;
  friend class event_loop;
};

// create_task (declared, with its documentation, above any_task).
template <class T>
auto create_task(task<T> coro, task_options options, std::source_location where) -> task_handle<T> {
  auto h = coro.release();
  task_handle<T> result(&h.promise());  // hold a reference before the task may finish
  detail::promote_to_task(get_running_loop(), h.promise(), h, options, &where);
  result.compact_if_finished();
  return result;
}

// event_loop::create_task (declared, with its documentation, in core/event_loop.hpp).
template <class T>
auto event_loop::create_task(task<T> coro, const task_options& options, std::source_location where) -> task_handle<T> {
  task_options o = options;
  if (!running_) o.eager = false;  // CPython: an eager start needs a running loop
  auto h = coro.release();
  task_handle<T> result(&h.promise());  // hold a reference before the task may finish
  detail::promote_to_task(*this, h.promise(), h, o, &where);
  result.compact_if_finished();
  return result;
}
template <class T>
auto event_loop::create_task(task<T> coro, std::source_location where) -> task_handle<T> {
  return create_task(std::move(coro), task_options{}, where);
}

/// What a task factory (event_loop::set_task_factory) receives for each new task.
///
/// Thread safety: loop-affine, valid during the factory call.
struct task_creation {
  /// The new task: named (task_options::name or "Task-N"), not started, not yet in all_tasks().
  /// The factory may rename it, add done callbacks, cancel it, or copy the handle to watch it
  /// (a copy kept past the call keeps the task's frame alive after it finishes).
  any_task task;
  /// Whether it will run synchronously to its first suspension inside create_task (true) or be
  /// scheduled (false). Starts as task_options::eager asked; the factory may change it. An eager
  /// start needs a running loop: on a loop that is not running the task is scheduled anyway.
  bool eager = true;
};

/// Python 3.12's asyncio.eager_task_factory: every task created on the loop starts eagerly, even
/// one created with `task_options{.eager = false}`. (Eager is this library's default already; the
/// factory makes it unconditional.)
///
///   asyncio::get_running_loop().set_task_factory(asyncio::eager_task_factory);
inline void eager_task_factory(event_loop& /*loop*/, task_creation& c) noexcept { c.eager = true; }

/// Every task created on the loop is scheduled, as in Python's default (no factory): it starts on a
/// later loop iteration, after the callbacks and tasks already ready.
///
///   asyncio::get_running_loop().set_task_factory(asyncio::lazy_task_factory);
inline void lazy_task_factory(event_loop& /*loop*/, task_creation& c) noexcept { c.eager = false; }

/// Python 3.12's asyncio.create_eager_task_factory(custom_task_constructor): a factory that runs
/// `custom` (if not empty) for each task and then makes the task eager. Python's argument
/// constructs the Task (a subclass, typically); C++ cannot replace the task (see
/// event_loop::set_task_factory), so `custom` is a factory that observes or adjusts it.
/// Throws: std::bad_alloc.
inline auto create_eager_task_factory(task_factory custom) -> task_factory {
  return [custom = std::move(custom)](event_loop& loop, task_creation& c) {
    if (custom) custom(loop, c);
    c.eager = true;
  };
}

/// create_task with just a name.
template <class T>
auto create_task(task<T> coro, std::string_view name,
                 std::source_location where = std::source_location::current()) -> task_handle<T> {
  return create_task(std::move(coro), task_options{.name = name}, where);
}

/// The task running now (empty outside any task). Python's asyncio.current_task().
auto current_task() -> any_task;
/// Every unfinished task of the running loop. Python's asyncio.all_tasks().
auto all_tasks() -> std::vector<any_task>;

/// A coroutine type that starts on call (scenario S1's js_like_await): calling the function creates a
/// task on the running loop and runs it up to its first suspension; the returned object is that
/// task's handle. Requires a running loop.
template <class T = void>
class [[nodiscard]] eager_task : public task_handle<T> {
 public:
  struct promise_type : detail::task_promise<T> {
    auto get_return_object() noexcept -> eager_task { return eager_task(this); }
    struct starter {
      [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) {
        detail::promote_to_task(get_running_loop(), h.promise(), h, task_options{}, nullptr);
      }
      void await_resume() const noexcept {}
    };
    auto initial_suspend() noexcept -> starter { return {}; }
  };
  explicit eager_task(promise_type* p) noexcept : task_handle<T>(p) {}
};

}  // namespace asyncio
