// task_group: the bookkeeping behind both forms (see task_group.hpp). The exit logic follows
// CPython's TaskGroup.__aexit__ (3.13) step by step; comments name the Python counterpart.
#include <asyncio/core/task_group.hpp>

#include <algorithm>
#include <string>

namespace asyncio {

struct task_group::child : detail::watch_node, detail::intrusive_node<> {  // the node: children_
  any_task task;
};

task_group::task_group() noexcept : spot_(&on_exit_cancel, this) {}

task_group::~task_group() {
  deferred_.cancel();
  if (children_.empty() && errors_.empty()) return;
  // Destroyed before join()/exit finished: children cannot be awaited here. Cancel them, let them
  // go (the loop owns them) and say so loudly; collect errors nobody will ever raise.
  event_loop* loop = detail::running_loop();
  std::size_t unfinished = 0;
  children_.for_each([&](child& c) {
    if (!loop) loop = &c.task.get_loop();
    if (!c.task.done()) {
      ++unfinished;
      (void)c.task.core()->cancel_noexcept();
    } else if (c.task.core()->state() == detail::outcome::exception) {
      errors_.push_back(c.task.core()->take_exception_ptr());  // within the room adopt() reserved
    }
  });
  if (loop) report_abandoned(*loop, unfinished);
  while (child* c = children_.pop_front()) delete c;  // unwatches; the loop keeps running the task
}

// The destructor's report. Building it allocates; without memory, the handler still hears of it.
void task_group::report_abandoned(event_loop& loop, std::size_t unfinished) noexcept {
  exception_context ctx;
  try {
    if (unfinished > 0) {
      std::string names;
      children_.for_each([&](child& c) {
        if (c.task.done()) return;
        if (!names.empty()) names += ", ";
        names += c.task.get_name();
      });
      ctx.message = "task_group destroyed before join() finished: " + std::to_string(unfinished) +
                    " unfinished child task(s) were cancelled and outlive the frame that owned the group (" +
                    names + "); use asyncio::with_task_group when the scope can exit early";
    } else {
      ctx.message = "task_group destroyed before join(): its children's errors were never raised";
    }
    if (!errors_.empty()) {
      ctx.exception = std::make_exception_ptr(exception_group("unhandled errors in a task_group", std::move(errors_)));
    }
  } catch (...) {
    ctx.exception = std::current_exception();  // the report is then this failure (and the message so far)
  }
  loop.call_exception_handler(ctx);
}

auto task_group::refusal() const noexcept -> const char* {
  // Python: "TaskGroup is finished" / "TaskGroup is shutting down".
  if (exiting_ && children_.empty()) return "task_group is finished";
  if (aborting_) return "task_group is shutting down";
  return nullptr;
}

void task_group::discard(std::coroutine_handle<> h) noexcept {
  if (h) h.destroy();  // Python closes the coroutine: no "never awaited" report
}

void task_group::adopt(const any_task& h) {
  // Room for this child's error, reserved while failing is still allowed: child_done runs inside
  // the finishing child and the destructor cannot throw, so neither may allocate. (Each child
  // adds at most one error: capacity >= errors_.size() + children_.size() holds throughout.)
  const std::size_t room = errors_.size() + children_.size() + 1;
  if (errors_.capacity() < room) errors_.reserve(std::max(room, 2 * errors_.capacity()));
  auto* c = new child;
  c->task = h;
  c->owner = this;
  c->notify = &on_child_done;
  children_.push_front(*c);
  if (!h.done()) {
    c->watch(*h.core(), parent_ ? parent_ : detail::loop_access::current_task(*detail::running_loop()));
    return;
  }
  // The child finished inside create_task (eager start). Handle it on the next loop iteration,
  // not now: a failure would otherwise cancel the body before create_task even returned, and the
  // body's next create_task would be refused (CPython gh-128550 defers the same way).
  eager_done_.push_back(c);
  if (eager_done_.size() == 1) {
    deferred_ = h.get_loop().call_soon([this] { process_eager_done(); });
  }
}

void task_group::process_eager_done() noexcept {
  auto done = std::move(eager_done_);
  eager_done_.clear();
  for (child* c : done) child_done(c);
}

void task_group::begin_body(detail::task_core& parent) noexcept {
  parent_ = &parent;
  body_running_ = true;
}

void task_group::on_child_done(detail::watch_node* n) noexcept {
  static_cast<task_group*>(n->owner)->child_done(static_cast<child*>(n));
}

// Python's _on_task_done.
void task_group::child_done(child* c) noexcept {
  children_.remove(*c);
  detail::task_base* core = c->task.core();
  if (core->state() == detail::outcome::exception) {
    errors_.push_back(core->take_exception_ptr());  // within the room adopt() reserved: cannot fail
    if (!aborting_) {
      abort();
      // Function form, body still running: interrupt it (Python cancels the parent task and
      // withdraws that request with uncancel() in __aexit__). During exit there is nothing to
      // interrupt: the parent only waits for the children, which abort() just cancelled.
      if (body_running_ && parent_ && !parent_cancel_requested_) {
        parent_cancel_requested_ = true;
        (void)parent_->cancel_noexcept();
      }
    }
  }
  delete c;  // drops our reference; the loop still holds the finishing task's
  if (children_.empty()) spot_.wake();
}

// Python's _abort.
void task_group::abort() noexcept {
  aborting_ = true;
  children_.for_each([](child& c) {
    if (!c.task.done()) (void)c.task.core()->cancel_noexcept();
  });
}

// The parent was cancelled while waiting in exit (Python: the CancelledError caught around
// `await self._on_completed_fut`).
void task_group::on_exit_cancel(detail::parking_spot* spot, detail::task_core&) noexcept {
  auto* g = static_cast<task_group*>(spot->owner());
  if (!g->aborting_) {
    g->propagate_cancel_ = true;
    g->abort();
  }
}

auto task_group::join() -> task<void> { return exit(nullptr); }

// Python's __aexit__.
auto task_group::exit(std::exception_ptr body_error) -> task<void> {
  detail::task_core& me = co_await detail::this_task();
  exiting_ = true;
  body_running_ = false;
  deferred_.cancel();
  process_eager_done();
  const bool body_cancelled = detail::is_cancelled(body_error);
  if (body_cancelled) propagate_cancel_ = true;
  if (body_error && !aborting_) abort();  // the body failed or was cancelled: stop the children

  while (!children_.empty()) co_await spot_.wait();  // a cancel meanwhile runs on_exit_cancel and waits on

  bool propagate = propagate_cancel_;
  propagate_cancel_ = false;
  if (parent_cancel_requested_) {
    parent_cancel_requested_ = false;
    // Withdraw our own cancellation of the parent; if nobody else asked, don't propagate it.
    if (me.uncancel() == 0) propagate = false;
  }
  // Errors have priority over a propagating cancellation.
  if (propagate && errors_.empty()) {
    if (body_cancelled) std::rethrow_exception(body_error);
    throw cancelled_error(me.cancel_message());
  }
  if (body_error && !body_cancelled) errors_.push_back(body_error);
  if (!errors_.empty()) {
    // The parent is being cancelled from outside: un-cancel and re-cancel it, which keeps the
    // count stable and re-arms the cancellation the wait above absorbed (next suspension point).
    if (me.cancelling() > 0) {
      (void)me.uncancel();
      (void)me.cancel_noexcept();
    }
    std::vector<std::exception_ptr> errors = std::move(errors_);
    errors_.clear();
    throw exception_group("unhandled errors in a task_group", std::move(errors));
  }
}

}  // namespace asyncio
