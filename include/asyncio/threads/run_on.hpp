#pragma once
// run_on(loop, coro): hand a coroutine from the running loop to another loop and await its result
// (Python spells it asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, other_loop))).
//
// The hand-off costs one allocation (the call) and travels through the loops' ports in both
// directions, so no mutex and no per-call eventfd write while the loops are busy.
//
// Ownership of the call (a reference count, since both loops touch it):
//   origin ref: the awaiter; if the awaiter lets go before the result arrives (cancelled), the
//               delivery of the result releases it instead;
//   target ref: the runner on the target loop, released after it posted the result;
//   one ref per cancel request in flight to the target.
// `waiter`/`delivered` are touched on the origin thread only, `target_task` on the target thread only.
#include <atomic>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/detail/loop_port.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/detail/value_slot.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {
namespace detail {

template <class T>
struct cross_call {
  struct item : remote_item {
    cross_call* call;
  };

  cross_call(task<T> c, loop_port& origin, loop_port& target) : coro(std::move(c)), origin_port(&origin), target_port(&target) {
    origin_port->add_ref();
    target_port->add_ref();
    start.call = done.call = cancel.call = this;
    start.deliver = &on_start;
    done.deliver = &on_done;
    cancel.deliver = &on_cancel;
  }
  ~cross_call() {
    if (auto h = coro.release()) h.destroy();  // never started (target closed): not "never awaited"
    origin_port->release();
    target_port->release();
  }

  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::atomic<int> refs{2};
  task<T> coro;
  loop_port* origin_port;
  loop_port* target_port;
  item start, done, cancel;
  // origin thread only
  task_core* waiter = nullptr;
  bool delivered = false;
  // written on the target before `done` is posted, read on the origin after it arrived
  value_slot<T> value;
  std::exception_ptr error;
  bool remote_cancelled = false;
  // target thread only
  any_task target_task;

  static auto runner(cross_call* c) -> task<void> {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(c->coro);
        c->value.set();
      } else {
        c->value.set(co_await std::move(c->coro));
      }
    } catch (const cancelled_error&) {
      c->remote_cancelled = true;
    } catch (...) {
      c->error = std::current_exception();
    }
    c->target_task = any_task();
    c->finish_on_target();
  }

  void finish_on_target() noexcept {
    loop_port* port = origin_port;  // the call holds a reference until it is destroyed
    port->add_ref();                // ...but the origin may release the call right after post()
    port->post(&done);
    port->release();
    release();  // the target ref
  }

  static void on_start(remote_item* r, bool discard) noexcept {
    cross_call* c = static_cast<item*>(r)->call;
    if (discard) {
      c->error = std::make_exception_ptr(invalid_state_error("run_on: the target loop is closed"));
      c->finish_on_target();
      return;
    }
    try {
      auto t = create_task(runner(c));
      if (!t.done()) c->target_task = std::move(t);
    } catch (...) {
      c->error = std::current_exception();
      c->finish_on_target();
    }
  }

  static void on_done(remote_item* r, bool discard) noexcept {
    cross_call* c = static_cast<item*>(r)->call;
    if (!c->waiter) {
      c->release();  // the origin ref, left by an awaiter that let go
      return;
    }
    if (discard) return;  // the origin loop closed under a leaked task: keep the call
    c->delivered = true;
    event_loop& loop = c->waiter->loop();
    detail::loop_access::add_remote_waits(loop, -1);
    detail::loop_access::schedule(loop, *c->waiter);
  }

  static void on_cancel(remote_item* r, bool discard) noexcept {
    cross_call* c = static_cast<item*>(r)->call;
    if (!discard && c->target_task) (void)c->target_task.core()->cancel_noexcept();
    c->release();
  }
};

template <class T>
class cross_call_awaiter : public parked_awaiter<cross_call_awaiter<T>> {
  using base = parked_awaiter<cross_call_awaiter<T>>;
  friend base;

 public:
  cross_call_awaiter(event_loop& target, task<T> coro) : target_(&target), coro_(std::move(coro)) {}
  ~cross_call_awaiter() {
    if (call_) let_go();
  }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  auto await_resume() -> T {
    this->check_cancelled();
    if (call_->error) std::rethrow_exception(call_->error);
    if (call_->remote_cancelled) throw cancelled_error("run_on: the task was cancelled on its loop");
    return call_->value.take();
  }

 private:
  // parked_awaiter: allocate the call and post it to the target (throws if the allocation fails).
  // Inlined into await_suspend, which then stays one out-of-line function (parked_awaiter.hpp).
  [[gnu::always_inline]] void link(task_core& t) {
    event_loop& origin = t.loop();
    call_ = new cross_call<T>(std::move(coro_), detail::loop_access::port(origin), detail::loop_access::port(*target_));
    call_->waiter = &t;
    detail::loop_access::add_remote_waits(origin, 1);
    call_->target_port->post(&call_->start);  // last action
  }
  // parked_awaiter: cancelled while parked.
  auto abort_wait() noexcept -> bool {
    if (call_->delivered) return false;  // already scheduled; await_resume throws
    let_go();
    return true;
  }

  void let_go() noexcept {
    cross_call<T>* c = std::exchange(call_, nullptr);
    if (c->delivered) {
      c->release();
      return;
    }
    // Still running on the target: ask it to cancel; the result, when it comes, is dropped.
    detail::loop_access::add_remote_waits(c->waiter->loop(), -1);
    c->waiter = nullptr;  // on_done now releases the origin ref
    c->refs.fetch_add(1, std::memory_order_relaxed);
    c->target_port->post(&c->cancel);
  }

  event_loop* target_;
  task<T> coro_;
  cross_call<T>* call_ = nullptr;
};

}  // namespace detail

/// Runs `coro` as a task on `target` (another loop, e.g. of an asyncio::runtime) and returns its
/// result to the awaiting task on its own loop. On the same loop it simply awaits `coro`.
///
/// Cancellation: raises cancelled_error at once and cancels the task on `target` (its outcome is
/// dropped). If the task on `target` is cancelled by someone else, the awaiter gets cancelled_error.
/// Resumes: on the awaiting task's loop.
/// Thread safety: `target` must outlive the call (a closed target makes the awaiter throw error).
/// Throws: whatever `coro` throws.
template <class T>
auto run_on(event_loop& target, task<T> coro) -> task<T> {
  if (&target == detail::running_loop()) co_return co_await std::move(coro);
  co_return co_await detail::cross_call_awaiter<T>(target, std::move(coro));
}

}  // namespace asyncio
