// completion / task_core: waking waiters, the cancellation protocol, and reports of lost outcomes.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/errors.hpp>

#include <atomic>
#include <utility>

namespace asyncio::detail {
namespace {
std::atomic<std::uint64_t> task_counter{0};
}

void completion::free_extras(completion_extras* e) noexcept { delete e; }

// finished_task is meant to fill one 32-byte class of the frame pool (W1, docs/benchmarks.md §2.1; task_core.hpp).
static_assert(sizeof(void*) != 8 || sizeof(finished_task) == 32);
// A running task's state is part of every suspended task's frame (W3, docs/benchmarks.md §2.3: bytes per task).
static_assert(sizeof(void*) != 8 || sizeof(task_core) == 48);

void completion::add_waiter(completion_waiter& w) noexcept {
  completion_waiter*& newest = waiters_slot();
  w.next = newest;
  newest = &w;
}

void completion::remove_waiter(completion_waiter& w) noexcept {
  // Done: complete() unlinked every waiter, and a finished_task keeps its value in this word.
  if (done()) return;
  for (completion_waiter** p = &waiters_slot(); *p; p = &(*p)->next) {
    if (*p == &w) {
      *p = w.next;
      w.next = nullptr;
      return;
    }
  }
}

void completion::add_done_callback(unique_function<void()> fn) {
  if (done()) {
    get_running_loop().call_soon(std::move(fn));
    return;
  }
  extras().done_callbacks.push_back(std::move(fn));
}

auto completion::complete(outcome o, bool hand_first) noexcept -> task_core* {
  completion_waiter* newest = std::exchange(waiters_slot(), nullptr);
  set_outcome(o);
  // Waiters were pushed LIFO; reverse so they wake in arrival order.
  completion_waiter* reversed = nullptr;
  for (completion_waiter* w = newest; w;) {
    completion_waiter* next = w->next;
    w->next = reversed;
    reversed = w;
    w = next;
  }
  task_core* first = nullptr;
  for (completion_waiter* w = reversed; w;) {
    completion_waiter* next = w->next;
    w->next = nullptr;
    if (w->on_complete) w->on_complete(w);  // a watcher (gather, task_group...); may free w
    else if (hand_first && !first) first = w->task;
    else detail::loop_access::schedule(w->task->loop(), *w->task);
    w = next;
  }
  if (extras_ && !extras_->done_callbacks.empty()) {
    event_loop* loop = is_task_ ? &static_cast<task_base*>(this)->loop() : running_loop();
    if (loop) {
      for (auto& cb : extras_->done_callbacks) loop->call_soon(std::move(cb));
    }
    extras_->done_callbacks.clear();
  }
  return first;
}

// Out of line: keeps last_release's common path free of the report's stack frame and registers.
[[gnu::noinline]] void completion::report_unretrieved() noexcept {
  event_loop* loop = running_loop();
  if (!loop) return;
  exception_context ctx;
  ctx.message = is_task_ ? "Task exception was never retrieved" : "Future exception was never retrieved";
  ctx.exception = exception_ptr();
  if (is_task_) {
    ctx.task_name = static_cast<task_base*>(this)->task_name();
    if (extras_ && extras_->has_location) {
      ctx.source = extras_->created_at;
      ctx.has_source = true;
    }
  }
  loop->call_exception_handler(ctx);
}

void completion::last_release() noexcept {
  if (compact_) {
    // A finished_task holds a plain value and no context: freeing it releases nothing else.
    delete static_cast<finished_task*>(this);
    return;
  }
  if (state() == outcome::exception && !retrieved_ && has_exception()) [[unlikely]] report_unretrieved();
  // Freeing a frame can drop the last reference to another task (a handle among its parameters or
  // locals), whose frame holds the next one, and so on: a chain of 100,000 tasks each awaiting the
  // previous one would recurse 100,000 frames deep here and overflow the stack. Like CPython's
  // trashcan, a release nested inside another is queued (through the waiters_ word, unused once
  // nobody can wait any more) and freed by the outermost call, iteratively.
  thread_local completion* pending = nullptr;
  thread_local bool freeing = false;
  if (freeing) {
    next_trash_slot() = pending;
    pending = this;
    return;
  }
  freeing = true;
  for (completion* c = this; c;) {
    c->free_storage();
    c = pending;
    if (c) pending = c->next_trash_slot();
  }
  freeing = false;
}

void completion::free_storage() noexcept {
  if (is_task_) static_cast<task_core*>(this)->destroy_frame();  // (finished_task: last_release)
  else static_cast<future_base*>(this)->destroy_fn(static_cast<future_base*>(this));
}

auto task_base::task_name() -> std::string {
  auto& e = extras();
  if (e.name.empty()) e.name = "Task-" + std::to_string(++task_counter);
  return e.name;
}

auto task_base::cancel(std::string message) -> bool {
  if (done()) return false;  // a finished_task always is: only a task_core gets past here
  shared_message m;
  if (!message.empty()) {
    // What can fail happens first, while nothing has changed: the message and the extras it lives in.
    m = shared_message(message);
    (void)extras();
  }
  return static_cast<task_core*>(this)->cancel_unfinished(m);
}

auto task_base::cancel_noexcept(const shared_message& message) noexcept -> bool {
  if (done()) return false;
  return static_cast<task_core*>(this)->cancel_unfinished(message);
}

void task_base::count_cancel_request() noexcept {
  const unsigned n = status_ >> cancel_count_shift;
  if (n + 1 < cancel_count_in_extras) [[likely]] {
    status_ = static_cast<std::uint8_t>(status_ + (1U << cancel_count_shift));
    return;
  }
  if (n == cancel_count_in_extras) {
    ++extras_->cancel_requests;
    return;
  }
  completion_extras* e = extras_nothrow();
  if (!e) [[unlikely]] return;  // stays at 30 (see the declaration)
  e->cancel_requests = static_cast<int>(cancel_count_in_extras);
  status_ = static_cast<std::uint8_t>((status_ & ((1U << cancel_count_shift) - 1)) |
                                      (cancel_count_in_extras << cancel_count_shift));
}

auto task_core::cancel_unfinished(const shared_message& message) noexcept -> bool {
  detail::loop_access::check_thread(loop(), "task.cancel");
  // A wait cycle (A awaits B awaits A): A's abort cancels B, whose abort cancels A again. That
  // second request is the first one coming round: absorb it instead of recursing without bound
  // (CPython raises RecursionError there). Aborts run no user code, so only a cycle re-enters.
  if (status_ & forwarding_cancel_bit) return true;
  count_cancel_request();
  // Each request replaces the message, an empty one included (CPython's Task.cancel).
  if (!message.empty()) {
    if (completion_extras* e = extras_nothrow()) e->cancel_message = message;  // else: no message
  } else if (extras_) {
    extras_->cancel_message = shared_message();
  }
  if (suspension* s = waiting_) {
    waiting_ = nullptr;
    status_ |= forwarding_cancel_bit;
    s->abort(s, *this);
    status_ &= static_cast<std::uint8_t>(~forwarding_cancel_bit);
  } else {
    must_cancel_ = true;
  }
  return true;
}

auto task_base::uncancel() noexcept -> int {
  const unsigned n = status_ >> cancel_count_shift;
  int left;
  if (n == cancel_count_in_extras) {
    int& requests = extras_->cancel_requests;
    if (requests == 0) return 0;
    left = --requests;
  } else {
    if (n == 0) return 0;
    status_ = static_cast<std::uint8_t>(status_ - (1U << cancel_count_shift));
    left = static_cast<int>(n - 1);
  }
  if (left == 0) must_cancel_ = false;
  return left;
}

void task_base::throw_cancelled() {
  must_cancel_ = false;
  throw cancelled_error(cancel_message());
}

void cancel_task_source(completion& source, const shared_message& message) noexcept {
  (void)static_cast<task_base&>(source).cancel_noexcept(message);
}

void throw_not_done() { throw invalid_state_error("result is not set"); }

namespace {
// The rarely needed part of promote_to_task, out of line so that the common case (a nameless task
// created by a task with no context values, debug off) saves no registers and makes no call.
[[gnu::noinline]] void apply_task_extras(event_loop& loop, promise_base& p, task_core* creator,
                                         const task_options& options, const std::source_location* where) {
  // contextvars: the new task starts with a (copy-on-write) snapshot of its creator's context.
  if (creator) {
    if (completion_extras* e = creator->extras_or_null(); e && e->context)
      p.extras().context = context_ref(share_context(e->context.get()));
  } else {
    inherit_thread_context(p);
  }
  if (!options.name.empty()) p.extras().name = std::string(options.name);
  if (where && loop.get_debug()) {
    p.extras().created_at = *where;
    p.extras().has_location = true;
  }
}
}  // namespace

void promote_to_task(event_loop& loop, promise_base& p, std::coroutine_handle<> root,
                     const task_options& options, const std::source_location* where) {
  detail::loop_access::check_thread(loop, "create_task");
  p.become_task(loop, root);
  task_core* creator = detail::loop_access::current_task(loop);
  completion_extras* creator_extras = creator ? creator->extras_or_null() : nullptr;
  bool inherits = !creator || (creator_extras && creator_extras->context);
  if (inherits || !options.name.empty() || (where && loop.get_debug())) [[unlikely]]
    apply_task_extras(loop, p, creator, options, where);
  detail::loop_access::start_task(loop, p, options.eager);  // registers the task unless its eager start finishes it
}

auto promise_base::finish_root(std::coroutine_handle<> root) noexcept -> std::coroutine_handle<> {
  resume_ = root;  // from now on resume_ names the frame to destroy (task_core::destroy_frame)
  if (waiters() || extras_ || must_cancel_) [[unlikely]] return finish_root_completing();
  // A value, nobody waiting, no callback, name or exception (extras_ holds all of those): the
  // usual end of a task that nobody awaits yet, e.g. one finishing inside create_task (W1).
  status_ |= static_cast<std::uint8_t>(outcome::value);  // from pending (0): one or-store
  // A task finishing inside its eager start is not in the registry; if a handle exists, dropping
  // the loop's reference frees nothing (event_loop::unregister_task otherwise).
  if (registry_index_ == not_registered && refs_ > 1) [[likely]] --refs_;
  else detail::loop_access::unregister_task(loop(), *this);
  return std::noop_coroutine();
}

// finish_root's general case, out of line so that the common one saves no registers.
[[gnu::noinline]] auto promise_base::finish_root_completing() noexcept -> std::coroutine_handle<> {
  outcome o = outcome::value;
  if (has_exception()) {
    o = outcome::exception;
    if (is_cancelled(exception_ptr())) {
      o = outcome::cancelled;
      try {
        std::rethrow_exception(exception_ptr());
      } catch (const cancelled_error& c) {  // always taken (is_cancelled)
        // Keep the message it was raised with (usually the task's own, already stored).
        if (!c.message().empty() && c.message() != extras_->cancel_message.view())
          extras_->cancel_message = shared_message(c.message());
      }
      extras_->exception = nullptr;
    }
  } else if (must_cancel_) {
    // A cancel requested while the coroutine ran its last step was never delivered: the task ends
    // cancelled, not with its value (CPython Task.__step, test_cancel_at_end).
    must_cancel_ = false;
    o = outcome::cancelled;
  }
  event_loop& loop = this->loop();
  task_core* first = complete(o, true);
  detail::loop_access::unregister_task(loop, *this);  // drops the loop's reference; the frame may be destroyed later
  if (first) {
    // Hand over to the first waiter directly, unless the inline budget is spent (task.hpp).
    if (detail::loop_access::consume_inline_budget(loop)) return detail::loop_access::enter_task(loop, *first);
    detail::loop_access::schedule(loop, *first);
  }
  return std::noop_coroutine();
}

// report_never_awaited: src/core/never_awaited.cpp.

}  // namespace asyncio::detail

namespace asyncio {

auto any_task::exception() const -> std::exception_ptr {
  if (!core_->done()) detail::throw_not_done();
  if (core_->cancelled()) core_->throw_cancelled();
  return core_->take_exception_ptr();
}

auto any_task::get_name() const -> std::string { return core_->task_name(); }

auto current_task() -> any_task {
  event_loop* loop = detail::running_loop();
  return any_task(loop ? detail::loop_access::current_task(*loop) : nullptr);
}

auto all_tasks() -> std::vector<any_task> {
  event_loop& loop = get_running_loop();
  std::vector<any_task> out;
  out.reserve(detail::loop_access::tasks(loop).size());
  for (detail::task_core* t : detail::loop_access::tasks(loop)) out.emplace_back(t);
  detail::loop_access::for_each_starting_task(loop, [&out](detail::task_core* t) { out.emplace_back(t); });
  return out;
}

}  // namespace asyncio

namespace asyncio::detail {
void cancel_future_source(completion& source, const shared_message& message) noexcept {
  (void)source.cancel_completion(message);
}
void throw_already_done() { throw invalid_state_error("invalid state: the future is already done"); }
}  // namespace asyncio::detail
