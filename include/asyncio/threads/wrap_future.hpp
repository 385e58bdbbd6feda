#pragma once
// wrap_future(cf): an asyncio future for a concurrent_future (Python's asyncio.wrap_future), so that
// a coroutine can await work that another loop or thread completes (doc-test: compile-only, it
// needs a loop running on another thread):
//
//   asyncio::task<int> compute() { co_return 42; }
//   asyncio::task<int> use(asyncio::event_loop& other) {
//     asyncio::future<int> f = asyncio::wrap_future(asyncio::run_coroutine_threadsafe(compute(), other));
//     co_return co_await f;
//   }
//
// How (Python's _chain_future): the concurrent future's done callback, run by whichever thread
// completes it, posts the outcome to the awaiting loop with call_soon_threadsafe, where it is copied
// into the asyncio future; a cancel of the asyncio future cancels the concurrent one (which cancels
// its task on its own loop). Copies of the asyncio future are loop-affine, so the one the link keeps
// is created, used and freed on the loop's thread only.
#include <exception>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/threads/run_coroutine_threadsafe.hpp>

namespace asyncio {
namespace detail {

/// What the concurrent side needs to reach the asyncio future: its loop, and a copy of the future
/// that only the loop's thread touches (deleted there once the outcome is copied).
template <class T>
struct wrap_link {
  event_loop* loop;
  future<T>* dest;
};

/// On the loop's thread: copies the concurrent future's outcome into `dest`, unless `dest` was
/// done first (cancelled on this side).
template <class T>
void copy_outcome(concurrent_future<T>& source, future<T>& dest) {
  if (dest.done()) return;
  try {
    if constexpr (std::is_void_v<T>) {
      source.result();
      dest.set_result();
    } else {
      dest.set_result(source.result());
    }
  } catch (const cancelled_error&) {
    dest.cancel();
  } catch (...) {
    dest.set_exception(std::current_exception());
  }
}

/// The callback that carries the outcome to the loop: copies it into the link's future and frees
/// that copy. Dropped unrun (the loop closed with it queued), it still frees the copy, on the
/// loop's thread; dropped on another thread (the loop was closed when it was posted), it cannot
/// touch the loop-affine future and leaves it.
template <class T>
struct wrap_delivery {
  std::shared_ptr<wrap_link<T>> link;
  concurrent_future<T> source;

  wrap_delivery(std::shared_ptr<wrap_link<T>> l, concurrent_future<T> s) noexcept
      : link(std::move(l)), source(std::move(s)) {}
  wrap_delivery(wrap_delivery&&) noexcept = default;
  wrap_delivery(const wrap_delivery&) = delete;
  auto operator=(const wrap_delivery&) -> wrap_delivery& = delete;
  auto operator=(wrap_delivery&&) -> wrap_delivery& = delete;
  ~wrap_delivery() {
    if (link && link->dest && std::this_thread::get_id() == loop_access::thread_id(*link->loop))
      delete std::exchange(link->dest, nullptr);
  }
  void operator()() {
    future<T>* d = std::exchange(link->dest, nullptr);
    copy_outcome(source, *d);
    delete d;
  }
};

}  // namespace detail

/// An asyncio future (on the running loop) that completes as `source` does (Python's
/// asyncio.wrap_future): same value (moved out of `source`: read it from the asyncio future),
/// exception or cancellation.
///
/// Cancellation: cancelling the returned future (or a task awaiting it) cancels `source`, and
/// through it the task behind it on its own loop, as Python's wrap_future does.
/// Resumes: a task awaiting the future resumes on the running loop, on an iteration after
/// `source` was completed (the outcome crosses with call_soon_threadsafe).
/// Thread safety: call on the loop's thread; `source` may be completed from any thread. If the
/// loop was closed when `source` completes, the future stays pending and the copy kept for the
/// outcome is not freed (it belongs to that loop's thread). A `source` that never completes keeps
/// that copy, and itself (its callback holds it), alive.
/// Throws: invalid_state_error if no loop runs on this thread; std::bad_alloc.
template <class T>
auto wrap_future(concurrent_future<T> source) -> future<T> {
  event_loop& loop = get_running_loop();
  future<T> dest = loop.create_future<T>();
  // This side's cancel reaches the concurrent future (from a done callback, on the loop).
  dest.add_done_callback([source](const future<T>& f) mutable {
    if (f.cancelled()) (void)source.cancel();
  });
  auto link = std::make_shared<detail::wrap_link<T>>(detail::wrap_link<T>{&loop, nullptr});
  link->dest = new future<T>(dest);
  // On whichever thread completes `source` (or here, if it is done already).
  source.add_done_callback([link, source]() mutable {
    try {
      link->loop->call_soon_threadsafe(detail::wrap_delivery<T>(link, source));
    } catch (...) {
      // The loop is closed: nobody will await the future any more; see Thread safety above.
    }
  });
  return dest;
}

/// Python's wrap_future returns an asyncio future unchanged.
template <class T>
auto wrap_future(future<T> f) noexcept -> future<T> {
  return f;
}

}  // namespace asyncio
