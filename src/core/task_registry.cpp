// The loop's task registry (all_tasks, shutdown) and how a task starts: eagerly, running inside
// create_task up to its first suspension, or lazily from the ready queue (docs/design.md, "Tasks,
// frames and ownership").
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_handle.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace asyncio {

void event_loop::register_task(detail::task_core& t) noexcept {
  if (tasks_.size() >= detail::completion::not_registered) [[unlikely]] {
    // registry_index_ has 24 bits (task_core.hpp: the header is 8 bytes). 16M unfinished tasks are
    // >2 GiB of frames; like running out of memory, this is fatal.
    std::fputs("asyncio: more than 2^24 unfinished tasks on one event loop\n", stderr);
    std::abort();
  }
  t.registry_index_ = static_cast<std::uint32_t>(tasks_.size()) & 0xffffff;
  tasks_.push_back(&t);
}

void event_loop::unregister_task(detail::task_core& t) noexcept {
  if (t.registry_index_ != detail::completion::not_registered) {
    detail::task_core* last = tasks_.back();
    tasks_[t.registry_index_] = last;
    last->registry_index_ = t.registry_index_;
    tasks_.pop_back();
    t.registry_index_ = detail::completion::not_registered;
  }
  // Drop the loop's reference. If it is the last one, the frame must not be destroyed from inside
  // its own final_suspend (docs/toolchain.md §5.7): defer to the end of the current step.
  if (t.refs_ == 1) [[unlikely]] defer_release(t);
  else --t.refs_;
}

void event_loop::defer_release(detail::task_core& t) noexcept { deferred_release_.push_back(&t); }

void event_loop::release_deferred() noexcept {
  while (!deferred_release_.empty()) {
    detail::task_core* t = deferred_release_.back();
    deferred_release_.pop_back();
    t->release();
  }
}

// Out of line and only with a factory installed: start_task's common path stays one branch (W1).
auto event_loop::apply_task_factory(detail::task_core& t, bool eager) noexcept -> bool {
  task_creation c{any_task(&t), eager};
  try {
    task_factory_(*this, c);
  } catch (...) {
    try {
      exception_context ctx("Exception in the task factory", std::current_exception());
      ctx.task_name = t.task_name();
      call_exception_handler(ctx);
    } catch (...) {  // no memory for the report: the task still starts
    }
    return eager;
  }
  // As CPython's Task: an eager start needs a running loop; otherwise the task is scheduled.
  return c.eager && running_;
}

// start_task's other path, out of line so that the eager one reads eager_depth_ once (W1): the
// task factory, if any, then a lazy start (or one past the nesting limit). False: start eagerly.
auto event_loop::start_scheduled(detail::task_core& t, bool eager) -> bool {
  if (task_factory_) eager = apply_task_factory(t, eager);
  if (eager && eager_starts() < max_eager_depth) return false;
  register_task(t);
  schedule(t);
  return true;
}

void event_loop::start_task(detail::task_core& t, bool eager) {
  // Eager starts nest on the C++ stack (a task eagerly creating a task...); past a bounded depth
  // the new task is scheduled instead, so recursion through create_task cannot overflow. With a
  // task factory installed eager_depth_ carries factory_bias, so this check also catches that.
  if (!eager || eager_depth_ >= max_eager_depth) {
    if (start_scheduled(t, eager)) return;
  }
  detail::task_core* previous = current_;
  eager_start frame{&t, eager_chain_};
  eager_chain_ = &frame;
  current_ = &t;
  t.started_ = true;
  ++eager_depth_;
  t.resume_point().resume();
  --eager_depth_;
  eager_chain_ = frame.outer;
  current_ = previous;
  // A task that finished within its eager start never enters the registry (W1, docs/benchmarks.md §2.1: a task that
  // completes synchronously costs no registry update); one that suspended joins it now.
  if (!t.done()) register_task(t);
  if (!previous) release_deferred();
}

void event_loop::finish_unstarted(detail::task_core& t) noexcept {
  // A lazy task cancelled before its first step never runs (CPython: the coroutine is closed).
  t.started_ = true;
  t.must_cancel_ = false;
  detail::task_core* first = t.complete(detail::outcome::cancelled, false);
  (void)first;
  unregister_task(t);
}

}  // namespace asyncio
