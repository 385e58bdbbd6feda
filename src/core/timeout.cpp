// timeout_scope: CPython's asyncio.Timeout state machine (created → entered → expiring →
// expired, or entered → exited) on the loop's timer heap.
#include <asyncio/core/timeout.hpp>

namespace asyncio {

timeout_scope::~timeout_scope() { disarm(); }

void timeout_scope::disarm() noexcept {
  soon_.cancel();
  soon_ = handle();
  if (key_ != detail::timer_heap::no_timer) {
    detail::loop_access::cancel_timer(task_->loop(), key_);
    key_ = detail::timer_heap::no_timer;
  }
}

void timeout_scope::enter(detail::task_core& task) {
  task_ = &task;
  cancelling_at_entry_ = task.cancelling();
  state_ = state::entered;
  reschedule(when_);
}

void timeout_scope::reschedule(std::optional<time_point> when) {
  if (state_ != state::entered) {
    if (state_ == state::created) throw invalid_state_error("timeout has not been entered");
    throw invalid_state_error(state_ == state::exited ? "cannot reschedule a finished timeout"
                                                      : "cannot reschedule an expired timeout");
  }
  when_ = when;
  disarm();
  if (!when) return;
  event_loop& loop = task_->loop();
  if (*when <= loop.time()) {
    // Through the ready queue, not the timer heap: the loop keeps running newly ready tasks
    // before it looks at timers again, so a body yielding with sleep(0s) would outrun the timer.
    soon_ = loop.call_soon([this] {
      soon_ = handle();
      on_fire(this);
    });
  } else {
    key_ = detail::loop_access::add_timer(loop, *when, this);
  }
}

void timeout_scope::on_fire(detail::timer_target* self) noexcept {
  auto* s = static_cast<timeout_scope*>(self);
  s->key_ = detail::timer_heap::no_timer;
  s->state_ = state::expiring;
  (void)s->task_->cancel_noexcept();
}

auto timeout_scope::exit() noexcept -> bool {
  disarm();
  if (state_ == state::expiring) {
    state_ = state::expired;
    // Withdraw our cancel request. Back at the entry level = no other cancel is pending: the
    // cancellation (if one escapes) was ours.
    return task_->uncancel() <= cancelling_at_entry_;
  }
  if (state_ == state::entered) state_ = state::exited;
  return false;
}

void timeout_scope::exit_after_value() {
  const bool fired = state_ == state::expiring;
  (void)exit();
  if (fired && task_->cancelling() > cancelling_at_entry_) task_->throw_cancelled();
}

namespace detail {

void rethrow_from_timeout(timeout_scope& scope) {
  if (scope.exit()) {
    try {
      throw;  // anything but a cancellation leaves as it is
    } catch (const cancelled_error&) {
      std::throw_with_nested(timeout_error());  // Python: raise TimeoutError from exc
    }
  }
  throw;
}

auto deadline_after(std::optional<duration> delay) -> std::optional<time_point> {
  if (!delay) return std::nullopt;
  return get_running_loop().time() + *delay;
}

}  // namespace detail
}  // namespace asyncio
