// The loop's default executor: created on first use, shut down when the loop closes (Python's
// loop.shutdown_default_executor in asyncio.run), with a deadline so that a stuck call cannot hang
// the program's exit (docs/lessons.md §3.3): threads still busy after the deadline are abandoned and reported.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/threads/to_thread.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace asyncio {
namespace {

/// What the threads layer keeps per loop (event_loop::threads_state()).
struct loop_threads_state {
  std::shared_ptr<executor> default_executor;
  bool shutdown_at_close = true;
};

auto state_of(event_loop& loop) -> loop_threads_state& {
  void*& slot = detail::loop_access::threads_state(loop);
  if (!slot) {
    auto* state = new loop_threads_state;
    slot = state;
    detail::loop_access::call_at_close(loop, [&loop] {
      auto* st = static_cast<loop_threads_state*>(std::exchange(detail::loop_access::threads_state(loop), nullptr));
      std::unique_ptr<loop_threads_state> owner(st);
      if (!st->default_executor || !st->shutdown_at_close) return;
      auto started = std::chrono::steady_clock::now();
      shutdown_report report = st->default_executor->shutdown(true);
      if (report.abandoned_threads == 0 && report.dropped_jobs == 0) return;
      double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "default executor shutdown: %zu thread(s) still running a call after %.3f s were "
                    "abandoned (they finish in the background; their results are dropped); %zu queued "
                    "call(s) never ran",
                    report.abandoned_threads, waited, report.dropped_jobs);
      loop.call_exception_handler(exception_context(buf));
    });
  }
  return *static_cast<loop_threads_state*>(slot);
}

}  // namespace

namespace detail {

auto make_shutdown_error() noexcept -> std::exception_ptr {
  return std::make_exception_ptr(invalid_state_error("the executor was shut down before the call ran"));
}

auto default_executor(event_loop& loop) -> executor& {
  loop_threads_state& st = state_of(loop);
  if (!st.default_executor) {
    if (loop.is_closed()) throw invalid_state_error("event loop is closed");
    thread_pool_options options;
    options.threads = default_executor_threads();
    st.default_executor = std::make_shared<thread_pool>(std::move(options));
  }
  return *st.default_executor;
}

}  // namespace detail

auto default_executor_threads() noexcept -> std::size_t {
  // Python's ThreadPoolExecutor default; why, in threads/to_thread.hpp.
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cpus + 4);
}

auto get_default_executor(event_loop& loop) -> executor& {
  detail::loop_access::check_thread(loop, "get_default_executor");
  return detail::default_executor(loop);
}

void set_default_executor(event_loop& loop, std::shared_ptr<executor> ex, bool shutdown_at_close) {
  detail::loop_access::check_thread(loop, "set_default_executor");
  loop_threads_state& st = state_of(loop);
  st.default_executor = std::move(ex);
  st.shutdown_at_close = shutdown_at_close;
}

}  // namespace asyncio
