// Shutting a loop down (close, and the cancel-and-drain that asyncio::run ends with) and reporting
// errors through the exception handler (Python's call_exception_handler).
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/errors.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

namespace asyncio {

auto event_loop::cancel_all_tasks(std::size_t max_iterations) -> std::size_t {
  if (tasks_.empty()) return 0;
  std::vector<detail::task_core*> to_cancel = tasks_;
  for (auto* t : to_cancel) t->add_ref();
  for (auto* t : to_cancel) (void)t->cancel_noexcept();
  event_loop* previous = detail::running_loop();
  bool set_tls = previous == nullptr;
  if (set_tls) detail::set_running_loop(this);
  bool was_running = running_;
  running_ = true;
  for (std::size_t i = 0; i < max_iterations && !tasks_.empty(); ++i) {
    // Nothing can make progress (no ready item, timer, watched fd or cross-thread call): the
    // remaining tasks ignore cancellation and wait forever; stop instead of blocking.
    if (ready_.empty() && timers_.live() == 0 && io_->watched() == 0 &&
        !threadsafe_pending_.load(std::memory_order_acquire) && remote_waits_ == 0 && !port_->has_items())
      break;
    run_once();
  }
  running_ = was_running;
  stopping_ = false;
  for (auto* t : to_cancel) {
    if (t->state() == detail::outcome::exception && !t->retrieved_) {
      exception_context ctx;
      ctx.message = "unhandled exception during asyncio.run() shutdown";
      ctx.exception = t->take_exception_ptr();
      ctx.task_name = t->task_name();
      call_exception_handler(ctx);
    }
  }
  for (auto* t : to_cancel) t->release();
  release_deferred();
  if (set_tls) detail::set_running_loop(nullptr);
  return tasks_.size();
}

void event_loop::close() {
  if (running_) throw invalid_state_error("cannot close a running event loop");
  if (closed_) return;
  // Unfinished tasks are cancelled and run to completion so that their destructors run while the
  // loop still exists (frames must not be leaked or outlive the loop; docs/lessons.md §3.3).
  std::size_t stuck = cancel_all_tasks();
  if (stuck) {
    exception_context ctx;
    ctx.message = std::to_string(stuck) + " task(s) did not finish after cancellation; leaked at close";
    call_exception_handler(ctx);
  }
  {
    bool set_tls = detail::running_loop() == nullptr;
    if (set_tls) detail::set_running_loop(this);
    auto hooks = std::move(at_close_);
    for (auto& fn : hooks) {
      try {
        fn();
      } catch (...) {
        call_exception_handler(exception_context("Exception in a loop close hook", std::current_exception()));
      }
    }
    if (set_tls) detail::set_running_loop(nullptr);
  }
  port_->close();  // completions of abandoned thread jobs are discarded from now on
  closed_ = true;
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_closed_ = true;
  }
  while (!ready_.empty()) {
    std::uintptr_t item = ready_.pop_front();
    if (item & 1) reinterpret_cast<detail::callback_node*>(item & ~std::uintptr_t{1})->release();
  }
  drain_threadsafe();
  while (!ready_.empty()) {
    std::uintptr_t item = ready_.pop_front();
    if (item & 1) reinterpret_cast<detail::callback_node*>(item & ~std::uintptr_t{1})->release();
  }
  while (auto* target = timers_.pop_due(INT64_MAX)) {
    if (target->fire == &fire_callback_timer) {
      auto* node = static_cast<detail::callback_node*>(target);
      // A timer_handle may outlive the loop: its cancel() must neither touch the loop nor drop the
      // timer's reference a second time.
      node->timer_key = detail::timer_heap::no_timer;
      node->release();
    }
  }
  for (std::size_t i = 0; i < callback_interests_.size(); ++i) {
    if (callback_interests_[i]) {
      int fd = static_cast<int>(i / 2);
      if (i % 2 == 0) remove_reader(fd);
      else remove_writer(fd);
    }
  }
}

namespace detail {
void finish_run(event_loop& loop) noexcept {
  try {
    loop.close();
  } catch (...) {
    loop.call_exception_handler(exception_context("Exception while closing the loop", std::current_exception()));
  }
}
}  // namespace detail

// ---- errors ---------------------------------------------------------------------------------------

void event_loop::call_exception_handler(const exception_context& context) noexcept {
  if (handler_) {
    try {
      handler_(*this, context);
      return;
    } catch (...) {
      exception_context inner("Unhandled error in exception handler", std::current_exception());
      default_exception_handler(inner);
    }
  }
  default_exception_handler(context);
}

void event_loop::default_exception_handler(const exception_context& context) noexcept {
  std::string text = "asyncio: " + context.message;
  if (!context.task_name.empty()) text += "\n  task: " + context.task_name;
  if (context.has_source) {
    text += "\n  created at: ";
    text += context.source.file_name();
    text += ":" + std::to_string(context.source.line());
    text += " in ";
    text += context.source.function_name();
  }
  if (context.exception) text += "\n  exception: " + describe(context.exception);
  text += "\n";
  std::fputs(text.c_str(), stderr);
}

}  // namespace asyncio
