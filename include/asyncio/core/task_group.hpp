#pragma once
// task_group: structured concurrency (Python 3.11's asyncio.TaskGroup).
//
// C++ has no `async with`, so the group comes in two forms.
//
// 1. The function form: exact Python semantics. PREFER IT whenever the body can fail or be
//    cancelled.
//
//      co_await asyncio::with_task_group([&](asyncio::task_group& tg) -> asyncio::task<> {
//        tg.create_task(fetch(a));
//        tg.create_task(fetch(b));
//        co_return;
//      });  // waits for every child
//
//    The body runs inside the calling task. The lambda object lives in with_task_group's frame
//    for the whole co_await, so capturing by reference is safe HERE (docs/toolchain.md §5.8 is about
//    lambdas that die before their coroutine finishes; this one cannot).
//
// 2. The object form: simple, for straight-line code.
//
//      asyncio::task_group tg;
//      tg.create_task(fetch(a));
//      tg.create_task(fetch(b));
//      co_await tg.join();
//
//    The object cannot see the code between its construction and join(): it never cancels the
//    enclosing task. A child failure cancels the other children at once and join() raises the
//    exception_group; code before join() runs on until it reaches join().
//    !!! If the object is DESTROYED WITHOUT join() having finished (an exception or a
//    !!! cancellation left the scope early), its unfinished children are cancelled, but they
//    !!! cannot be awaited in a destructor: they OUTLIVE the frame and are reported through the
//    !!! loop's exception handler. Children that reference locals of that frame then dangle.
//    !!! Use the function form if anything between construction and join() can throw or be
//    !!! cancelled.
//
// Semantics (both forms, as CPython 3.11-3.13):
//  * A child that fails with an exception (not a cancellation) cancels every other child and,
//    in the function form while the body still runs, the enclosing task (the body then sees
//    cancelled_error at its current suspension point).
//  * When all children are done, the errors come out together as one asyncio::exception_group,
//    in the order they happened (children first, then the body's own exception).
//  * A cancellation of the enclosing task reaches every child; the group waits for all of them
//    and then propagates cancelled_error. The group's own cancellation of its parent is withdrawn
//    with uncancel() (Python 3.11 counting), so nested groups and timeouts never swallow an outer
//    cancellation, and an outer cancellation that arrives while errors win is re-armed (the
//    next suspension point raises it).
//  * No child outlives the group (docs/lessons.md §1.4).
#include <cstddef>
#include <exception>
#include <optional>
#include <source_location>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/intrusive_list.hpp>
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {

namespace detail {
struct task_group_access;
}  // namespace detail

/// What task_group::create_task returns: a task_handle<T> that may be discarded, because the
/// group owns the child (unlike create_task's handle, which is [[nodiscard]]).
template <class T>
class child_handle : public task_handle<T> {
 public:
  child_handle() noexcept = default;
  explicit child_handle(task_handle<T> h) noexcept : task_handle<T>(std::move(h)) {}
};

/// A group of child tasks that all finish before the group does (Python's asyncio.TaskGroup).
/// See the top of this file for the two forms and which to prefer.
///
/// Thread safety: loop-affine.
class task_group {
 public:
  task_group() noexcept;
  /// Object form destroyed early: cancels unfinished children and reports them (see above).
  ~task_group();
  task_group(const task_group&) = delete;
  auto operator=(const task_group&) -> task_group& = delete;

  /// Starts `coro` as a child task (eagerly unless options say otherwise) and returns its handle
  /// (which may be discarded: the group owns the child).
  ///
  /// Throws: invalid_state_error if the group is shutting down (a child failed or it was
  /// cancelled) or finished (Python's RuntimeError); `coro` is then destroyed without running.
  template <class T>
  auto create_task(task<T> coro, task_options options = {},
                   std::source_location where = std::source_location::current()) -> child_handle<T> {
    if (const char* why = refusal()) {
      discard(coro.release());
      throw invalid_state_error(why);
    }
    child_handle<T> h(asyncio::create_task(std::move(coro), options, where));
    adopt(h);
    return h;
  }
  /// create_task with just a name.
  template <class T>
  auto create_task(task<T> coro, std::string_view name,
                   std::source_location where = std::source_location::current()) -> child_handle<T> {
    return create_task(std::move(coro), task_options{.name = name, .eager = true}, where);
  }
  /// Starts a child that awaits awaiter `aw` (Python's `tg.create_task(ev.wait())`; see
  /// core/awaitable.hpp). Throws: as create_task(coro); `aw` is then destroyed without being awaited.
  template <detail::bare_awaitable A>
  auto create_task(A aw, task_options options = {}, std::source_location where = std::source_location::current())
      -> child_handle<await_result_t<A>> {
    detail::check_movable_awaiter<A>();
    return create_task(detail::as_task(std::move(aw)), options, where);
  }

  /// Object form: waits until every child is done (children may add children meanwhile).
  ///
  /// Cancellation: cancelling the awaiting task cancels every child; join() waits for them and
  /// then raises cancelled_error (unless children failed: then the exception_group wins and the
  /// cancellation is re-armed for the next suspension point).
  /// Resumes: on the awaiting task's loop, after the last child finished.
  /// Throws: exception_group with every child's exception, if any child failed.
  [[nodiscard]] auto join() -> task<void>;

  /// Number of children not finished yet.
  [[nodiscard]] auto size() const noexcept -> std::size_t { return children_.size(); }

 private:
  struct child;
  friend struct detail::task_group_access;

  [[nodiscard]] auto refusal() const noexcept -> const char*;
  static void discard(std::coroutine_handle<> h) noexcept;
  void adopt(const any_task& h);
  void begin_body(detail::task_core& parent) noexcept;
  auto exit(std::exception_ptr body_error) -> task<void>;
  void abort() noexcept;
  void report_abandoned(event_loop& loop, std::size_t unfinished) noexcept;
  void child_done(child* c) noexcept;
  void process_eager_done() noexcept;
  static void on_child_done(detail::watch_node* n) noexcept;
  static void on_exit_cancel(detail::parking_spot* spot, detail::task_core& me) noexcept;

  // Children not yet processed as done (a child finished inside create_task stays until
  // deferred_ runs), newest first.
  detail::intrusive_list<child> children_;
  std::vector<child*> eager_done_;    // finished inside create_task; processed by deferred_
  handle deferred_;
  std::vector<std::exception_ptr> errors_;
  detail::task_core* parent_ = nullptr;  // function form: the task running the body
  detail::parking_spot spot_;
  bool body_running_ = false;           // function form: the body has not returned yet
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
  bool propagate_cancel_ = false;
};

namespace detail {
struct task_group_access {
  static void begin_body(task_group& g, task_core& parent) noexcept { g.begin_body(parent); }
  static auto exit(task_group& g, std::exception_ptr e) -> task<void> { return g.exit(std::move(e)); }
};
}  // namespace detail

/// Runs `fn(tg)` (a coroutine) inside the calling task with a fresh task_group, then waits for
/// every child: Python's `async with asyncio.TaskGroup() as tg:` with exact semantics. Returns
/// what the body returns.
///
/// Cancellation: a cancel of the calling task reaches the body and every child; the group waits
/// for all of them, then cancelled_error propagates. A failing child cancels the body (that
/// cancellation is withdrawn again when the group exits).
/// Resumes: on the calling task's loop, after the body and the last child finished.
/// Throws: exception_group with every child's exception (and the body's, last), if any failed.
template <class F>
  requires std::is_invocable_v<F&, task_group&>
auto with_task_group(F fn) -> task<typename detail::task_value<std::invoke_result_t<F&, task_group&>>::type> {
  using R = typename detail::task_value<std::invoke_result_t<F&, task_group&>>::type;
  static_assert(!std::is_reference_v<R>, "with_task_group: the body cannot return a reference");
  task_group tg;
  detail::task_core& me = co_await detail::this_task();
  detail::task_group_access::begin_body(tg, me);
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    try {
      task<void> body = fn(tg);
      co_await std::move(body);
    } catch (...) {
      error = std::current_exception();
    }
    co_await detail::task_group_access::exit(tg, std::move(error));
  } else {
    std::optional<R> value;
    try {
      task<R> body = fn(tg);
      value.emplace(co_await std::move(body));
    } catch (...) {
      error = std::current_exception();
    }
    co_await detail::task_group_access::exit(tg, std::move(error));
    co_return std::move(*value);
  }
}

}  // namespace asyncio
