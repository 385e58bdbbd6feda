// parking_spot: the suspension a combinator's task parks at while it watches several completions.
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/errors.hpp>

namespace asyncio::detail {

void parking_spot::resume() {
  const bool aborted = task_->unpark(*this);  // waiting_ no longer names this spot
  parked_ = false;
  if (!hook_) {
    hook_ran_ = false;
    if (aborted) task_->throw_cancelled();
    return;
  }
  if (aborted && !hook_ran_) {
    // park() refused because a cancel was pending (it arrived while the task ran): take it over
    // exactly as an abort while parked would have.
    (void)consume_pending_cancel(*task_);
    hook_(this, *task_);
  }
  hook_ran_ = false;
}

void parking_spot::on_abort(suspension* self, task_core& t) noexcept {
  auto* s = static_cast<parking_spot*>(self);
  if (!s->hook_) {
    if (s->parked_) {
      s->parked_ = false;
      detail::loop_access::schedule(t.loop(), t);
    }
    return;  // already woken: await_resume sees the abort and throws
  }
  s->hook_ran_ = true;
  s->hook_(s, t);
  if (s->parked_) t.repark(*s);  // keep waiting for the owner's wake()
}

auto consume_pending_cancel(task_core& t) noexcept -> bool { return t.take_pending_cancel(); }

}  // namespace asyncio::detail
