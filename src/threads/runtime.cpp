// runtime: one thread per loop. Each thread owns its loop (constructed, run and closed there), so
// the loop's thread-affinity checks hold from the first to the last call.
#include <asyncio/core/run.hpp>
#include <asyncio/threads/runtime.hpp>
#include <asyncio/threads/to_thread.hpp>

#include <pthread.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace asyncio {
namespace {
thread_local std::size_t tls_loop_index = runtime::npos;
}

auto runtime::current_index() noexcept -> std::size_t { return tls_loop_index; }

runtime::runtime(runtime_options options) : options_(std::move(options)) {
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  if (options_.loops == 0) options_.loops = hw;
  executor_ = std::make_shared<thread_pool>(thread_pool_options{
      .threads = options_.executor_threads, .name = "asyncio-rt-pool", .shutdown_timeout = options_.shutdown_timeout});
  std::mutex m;
  std::condition_variable cv;
  std::size_t started = 0;
  std::exception_ptr failure;
  for (std::size_t i = 0; i < options_.loops; ++i) loops_.push_back(std::make_unique<loop_thread>());
  for (std::size_t i = 0; i < options_.loops; ++i) {
    loop_thread& slot = *loops_[i];
    slot.thread = std::thread([this, i, &slot, &m, &cv, &started, &failure] {
      try {
        run_loop(i, slot, executor_, [&] {
          std::lock_guard lock(m);
          ++started;
          cv.notify_all();
        });
      } catch (...) {
        std::lock_guard lock(m);
        if (!failure) failure = std::current_exception();
        ++started;
        cv.notify_all();
      }
    });
  }
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return started == options_.loops; });
  if (failure) {
    lock.unlock();
    stop();
    std::rethrow_exception(failure);
  }
}

runtime::~runtime() { stop(); }

void runtime::run_loop(std::size_t index, loop_thread& slot, std::shared_ptr<thread_pool> executor,
                       std::function<void()> ready) {
  std::string name = options_.name + "-" + std::to_string(index);
  if (name.size() > 15) name.resize(15);
  pthread_setname_np(pthread_self(), name.c_str());
  tls_loop_index = index;
  loop_options lo;
  lo.debug = options_.debug;
  lo.busy_poll = options_.busy_poll;
  event_loop loop(lo);
  // The executor is shared: no loop shuts it down at close; stop() does, after every loop closed.
  set_default_executor(loop, executor, false);
  slot.loop = &loop;
  // Published before run_forever: anything posted meanwhile waits in the loop's queues.
  ready();
  loop.run_forever();
  detail::finish_run(loop);  // cancel leftovers, run them out, close (as asyncio::run)
}

void runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& slot : loops_) {
    if (slot->loop) {
      event_loop* l = slot->loop;
      l->call_soon_threadsafe([l] { l->stop(); });
    }
  }
  for (auto& slot : loops_) {
    if (slot->thread.joinable()) slot->thread.join();
    slot->loop = nullptr;
  }
  if (executor_) {
    shutdown_report report = executor_->shutdown(true, options_.shutdown_timeout);
    if (report.abandoned_threads > 0) {
      std::fprintf(stderr,
                   "asyncio: runtime stop: %zu executor thread(s) still running a call were abandoned\n",
                   report.abandoned_threads);
    }
  }
}

}  // namespace asyncio
