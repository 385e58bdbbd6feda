#pragma once
// awaitable: what `co_await` accepts (Python's "awaitable"), and how a bare awaiter becomes a task.
//
// Python's combinators take any awaitable: `await asyncio.wait_for(ev.wait(), 5)`. Here the
// library's awaiters (event::wait(), lock::acquire(), queue::get(), sleep(), ...) are objects, not
// coroutines, and they hold intrusive waiter nodes or timer slots that must not move once linked.
// They are movable only until they are first awaited (a moved-from awaiter is inert; moving one that
// was awaited stops the program: docs/design.md, "Awaiters are movable until awaited"). So wait_for,
// timeout, gather, shield and create_task take them BY VALUE and wrap them in a coroutine that
// awaits them (detail::await_value): the awaiter is moved into that coroutine's frame before it is
// ever linked, and the returned lazy task owns it, so it may be awaited after the full-expression
// that created the awaiter ended.
//
//   guard g = co_await asyncio::wait_for(m.acquire(), 1s);   // a lock_guard, or timeout_error
//   auto [a, b] = co_await asyncio::gather(q.get(), ev.wait());
#include <concepts>
#include <coroutine>
#include <source_location>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asyncio/core/future.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>

namespace asyncio {
namespace detail {

template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };
template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(static_cast<A&&>(a)); };

/// An object with the three awaiter methods (await_suspend is a template on the promise type in
/// this library, so only await_ready and await_resume can be checked here).
template <class W>
concept awaiter_like = requires(W& w) {
  { w.await_ready() } -> std::convertible_to<bool>;
  w.await_resume();
};

template <class A>
struct awaiter_of {
  using type = A;
};
template <class A>
  requires has_member_co_await<A>
struct awaiter_of<A> {
  using type = decltype(std::declval<A>().operator co_await());
};
template <class A>
  requires(!has_member_co_await<A> && has_free_co_await<A>)
struct awaiter_of<A> {
  using type = decltype(operator co_await(std::declval<A>()));
};

template <class A>
struct is_task_like : std::false_type {};
template <class T>
struct is_task_like<task<T>> : std::true_type {};
template <class T>
struct is_task_like<future<T>> : std::true_type {};

}  // namespace detail

/// Anything `co_await std::move(a)` accepts: an awaiter (await_ready/await_suspend/await_resume)
/// or a type with operator co_await (task<T>, task_handle<T>, future<T>). Python's "awaitable".
template <class A>
concept awaitable = detail::awaiter_like<std::remove_reference_t<typename detail::awaiter_of<A>::type>>;

/// What `co_await std::move(a)` gives for an A.
template <awaitable A>
using await_result_t =
    decltype(std::declval<std::remove_reference_t<typename detail::awaiter_of<A>::type>&>().await_resume());

namespace detail {

/// An awaitable that is not a task<T>, task_handle<T> or future<T>: those have their own overloads
/// of every combinator. Mostly the library's awaiters (event::wait(), lock::acquire(), ...).
template <class A>
concept bare_awaitable =
    awaitable<A> && !std::is_reference_v<A> && !is_task_like<std::remove_cv_t<A>>::value &&
    !std::is_base_of_v<any_task, std::remove_cv_t<A>>;

/// Awaits `aw` inside the awaiting task and returns its result. `aw` is a by-value coroutine
/// parameter: it is moved into this frame (before it was ever awaited) and lives as long as the
/// frame, so the lazy task may be awaited after the caller's full-expression ended.
template <class R, class A>
auto await_value(A aw) -> task<R> {
  if constexpr (std::is_void_v<R>) {
    co_await std::move(aw);
  } else {
    co_return co_await std::move(aw);
  }
}

/// Checked where an awaiter is taken by value, for a diagnostic better than "no move constructor".
template <class A>
constexpr void check_movable_awaiter() {
  static_assert(std::is_move_constructible_v<A>,
                "this awaiter cannot be moved into a combinator (it is linked where it lives); "
                "await it inside a coroutine and pass that coroutine instead");
}

/// Wraps awaiter `aw` in a lazy task that awaits it: `co_await as_task(ev.wait())` behaves as
/// `co_await ev.wait()`. `aw` must not have been awaited.
template <bare_awaitable A>
auto as_task(A aw) -> task<await_result_t<A>> {
  check_movable_awaiter<A>();
  return await_value<await_result_t<A>>(std::move(aw));
}

}  // namespace detail

/// create_task for a bare awaiter (Python's `create_task(ev.wait())`, where ev.wait() is a
/// coroutine): the task awaits `aw`. With the default eager start it is awaited at once, so a
/// free lock is taken (or an item got) before create_task returns.
///
/// Cancellation: cancelling the task cancels the wait (see `aw`'s own Cancellation:).
/// Throws: invalid_state_error if no loop runs on this thread.
template <detail::bare_awaitable A>
auto create_task(A aw, task_options options = {}, std::source_location where = std::source_location::current())
    -> task_handle<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return create_task(detail::as_task(std::move(aw)), options, where);
}

/// create_task for a bare awaiter, with just a name.
template <detail::bare_awaitable A>
auto create_task(A aw, std::string_view name, std::source_location where = std::source_location::current())
    -> task_handle<await_result_t<A>> {
  detail::check_movable_awaiter<A>();
  return create_task(detail::as_task(std::move(aw)), task_options{.name = name}, where);
}

}  // namespace asyncio
