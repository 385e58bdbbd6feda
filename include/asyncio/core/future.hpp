#pragma once
// future<T>: a result that will be set later (Python's asyncio.Future). Low-level: most code awaits
// tasks; futures bridge callback-style code (call_later, add_reader, other threads via
// call_soon_threadsafe) into coroutines.
#include <concepts>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <asyncio/core/task_handle.hpp>

namespace asyncio {
namespace detail {

template <class T>
class future_state final : public future_base {
 public:
  future_state() noexcept {
    destroy_fn = [](future_base* self) noexcept { delete static_cast<future_state*>(self); };
  }
  using stored = std::conditional_t<std::is_void_v<T>, bool, T>;
  std::optional<stored> value;

  void finish(outcome o) noexcept { (void)complete(o, false); }
  void set_cancel_message(const std::string& m) {
    if (!m.empty()) extras().cancel_message = shared_message(m);
  }
  void mark_retrieved() noexcept { retrieved_ = true; }
};

void cancel_future_source(completion& source, const shared_message& message) noexcept;
[[noreturn]] void throw_already_done();
}  // namespace detail

/// A placeholder for a result set later by set_result()/set_exception() (Python's asyncio.Future).
/// Copies share one state, so one copy can be awaited while another is completed.
///
/// Cancellation: cancelling a task that awaits a future cancels the future (as CPython), also when
/// the cancel was pending as it began to await; every task awaiting it then gets cancelled_error.
/// Resumes: awaiters are scheduled in the order they started waiting, on the next loop iteration.
/// Thread safety: loop-affine; from another thread, complete it via loop.call_soon_threadsafe.
template <class T = void>
class future {
  using state = detail::future_state<T>;

 public:
  /// A new pending future.
  future() : state_(new state) {}
  future(const future& o) noexcept : state_(o.state_) { state_->add_ref(); }
  future(future&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  auto operator=(future o) noexcept -> future& {
    std::swap(state_, o.state_);
    return *this;
  }
  ~future() {
    if (state_) state_->release();
  }

  /// Marks the future done with `value`. Throws invalid_state_error if already done.
  template <class U = T>
    requires(!std::is_void_v<T>)
  void set_result(U&& value) {
    if (state_->done()) detail::throw_already_done();
    state_->value.emplace(std::forward<U>(value));
    state_->finish(detail::outcome::value);
  }
  /// Marks a future<void> done. Throws invalid_state_error if already done.
  void set_result()
    requires std::is_void_v<T>
  {
    if (state_->done()) detail::throw_already_done();
    state_->value.emplace(true);
    state_->finish(detail::outcome::value);
  }
  /// Marks the future done with an exception. Throws invalid_state_error if already done.
  void set_exception(std::exception_ptr e) {
    if (state_->done()) detail::throw_already_done();
    state_->set_exception_ptr(std::move(e));
    state_->finish(detail::outcome::exception);
  }
  /// Cancels the future; false if it was already done.
  auto cancel(std::string message = {}) -> bool {
    if (state_->done()) return false;
    state_->set_cancel_message(message);
    state_->finish(detail::outcome::cancelled);
    return true;
  }
  [[nodiscard]] auto done() const noexcept -> bool { return state_->done(); }
  [[nodiscard]] auto cancelled() const noexcept -> bool { return state_->cancelled(); }

  /// The result; rethrows the exception; throws cancelled_error if cancelled and
  /// invalid_state_error if not done.
  auto result() const -> decltype(auto) {
    check();
    if constexpr (!std::is_void_v<T>) return std::as_const(*state_->value);
  }
  /// The exception (null if it has a result); throws cancelled_error if cancelled and
  /// invalid_state_error if not done.
  [[nodiscard]] auto exception() const -> std::exception_ptr {
    if (!done()) detail::throw_not_done();
    if (cancelled()) throw cancelled_error(state_->cancel_message());
    return state_->take_exception_ptr();
  }
  /// Runs fn() via call_soon once the future is done (at once, via call_soon, if already done).
  /// `fn` takes no argument, or the future (as Python's `fut.add_done_callback(lambda f: ...)`):
  /// then it is called with a copy of this future, which the callback holds until it ran or was
  /// removed (so a future nobody completes stays allocated while such a callback waits on it). A
  /// callable that accepts both forms is called without argument. Returns the handle
  /// remove_done_callback takes (callback_handle says why a handle and not the callable).
  /// Throws: std::bad_alloc.
  ///
  ///   asyncio::future<int> f;
  ///   asyncio::callback_handle h = f.add_done_callback([](const asyncio::future<int>& done) { (void)done.result(); });
  ///   f.remove_done_callback(h);  // returns 1: it had not run yet
  template <class F>
    requires std::invocable<F&> || std::invocable<F&, const future&>
  auto add_done_callback(F fn) -> callback_handle {
    if constexpr (std::invocable<F&>) {
      return callback_handle(state_->add_done_callback_with_id(detail::unique_function<void()>(std::move(fn))));
    } else {
      return callback_handle(state_->add_done_callback_with_id(
          detail::unique_function<void()>([self = *this, f = std::move(fn)]() mutable { f(std::as_const(self)); })));
    }
  }
  /// Removes the callback `h` names if it has not been scheduled yet (Python's
  /// Future.remove_done_callback). Returns the number removed: 1, or 0 if it already ran, is
  /// scheduled to run (the future is done) or belongs to another future.
  auto remove_done_callback(callback_handle h) noexcept -> std::size_t { return state_->remove_done_callback(h.id()); }

  /// For the library's combinators (shield): the shared state.
  [[nodiscard]] auto core() const noexcept -> detail::future_base* { return state_; }

  /// Awaiter of a future: only the completion_wait (32 bytes); the source is the state (W3, docs/benchmarks.md §2.3).
  /// Take: `co_await std::move(f)` moves the value out (required for a move-only T); a template
  /// parameter so that the copying branch is not instantiated for move-only values.
  template <bool Take>
  struct awaiter : detail::completion_wait {
    explicit awaiter(state& s) noexcept : completion_wait(s, on_cancel<&detail::cancel_future_source>{}) {}
    auto await_resume() -> T {
      check_cancelled();
      auto& s = static_cast<state&>(*source);
      check(s);
      if constexpr (!std::is_void_v<T>) {
        if constexpr (Take) return std::move(*s.value);
        else return *s.value;
      }
    }
  };
  /// Waits until the future is done and returns its result (moved out for `co_await std::move(f)`).
  auto operator co_await() & noexcept -> awaiter<false> { return awaiter<false>(*state_); }
  auto operator co_await() && noexcept -> awaiter<true> { return awaiter<true>(*state_); }

 private:
  void check() const { check(*state_); }
  static void check(state& s) {
    if (!s.done()) detail::throw_not_done();
    s.mark_retrieved();
    if (s.cancelled()) throw cancelled_error(s.cancel_message());
    if (auto e = s.take_exception_ptr()) std::rethrow_exception(e);
  }
  state* state_;
};

// event_loop::create_future (declared, with its documentation, in core/event_loop.hpp).
template <class T>
auto event_loop::create_future() -> future<T> {
  return future<T>();
}

}  // namespace asyncio
