// asyncio::runner: the non-template part (Python's asyncio.Runner; core/runner.hpp).
#include <asyncio/core/runner.hpp>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {

runner::runner(loop_options options) : loop_(options), handle_sigint_(options.handle_sigint) {}

runner::~runner() {
  if (!closed_) {
    closed_ = true;
    detail::finish_run(loop_);
  }
}

void runner::check_can_run() const {
  // Python's Runner.run checks the running loop first, then the runner's state.
  if (detail::running_loop() != nullptr)
    throw invalid_state_error("runner::run() cannot be called from a running event loop");
  if (closed_) throw invalid_state_error("the runner is closed");
}

auto runner::get_loop() -> event_loop& {
  if (closed_) throw invalid_state_error("the runner is closed");
  return loop_;
}

void runner::close() {
  if (closed_) return;
  if (loop_.is_running()) throw invalid_state_error("cannot close a runner while its loop is running");
  closed_ = true;
  detail::finish_run(loop_);
}

}  // namespace asyncio
