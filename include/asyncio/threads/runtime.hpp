#pragma once
// runtime: N event loops on N threads (thread-per-core; default one per hardware thread) sharing one
// executor for blocking calls. Each loop is an ordinary event_loop: its tasks stay on it, nothing
// migrates, so everything loop-affine keeps working unchanged. Work crosses loops explicitly
// (doc-test: compile-only, the lines belong to different threads):
//
//   asyncio::runtime rt;                                 // rt.size() loops, running
//   auto f = rt.spawn(1, compute());                     // from any thread: a concurrent_future
//   int r = rt.block_on(0, compute());                   // from a plain thread: run and wait
//   rt.run_on_every_loop([&](std::size_t i) { return serve(i); });   // one task per loop, waited for
//   co_await asyncio::run_on(rt.loop(1), compute());     // from a coroutine on a loop: hand off, await
//
// A server per core (networking): on every loop, a coroutine that opens its own listening
// socket with SO_REUSEPORT on the same port; the kernel spreads connections across the loops, and
// runtime::current_index() tells each one which loop it is on (doc-test: compile-only, port 8080):
//
//   auto serve(std::uint16_t port) -> asyncio::task<void> {       // runs once on every loop
//     asyncio::server_options options;
//     options.reuse_port = true;                                   // every loop binds the same port
//     asyncio::server srv = co_await asyncio::start_server(handle_client, "0.0.0.0", port, options);
//     co_await srv.serve_forever();                                // until cancelled
//   }
//   for (std::size_t i = 0; i < rt.size(); ++i) rt.spawn(i, serve(8080));
//   rt.stop();                                                     // cancels them all
//
// (tests/net/reuse_port_test.cpp checks that connections reach every loop this way.)
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/threads/run_coroutine_threadsafe.hpp>
#include <asyncio/threads/run_on.hpp>
#include <asyncio/threads/thread_pool.hpp>

namespace asyncio {

/// Options for runtime.
struct runtime_options {
  /// Number of loops (and loop threads); 0 = std::thread::hardware_concurrency().
  std::size_t loops = 0;
  /// Threads of the shared executor that to_thread() uses on every loop; 0 = one per hardware thread.
  std::size_t executor_threads = 0;
  /// Debug mode of every loop; unset = from ASYNCIO_DEBUG.
  std::optional<bool> debug = std::nullopt;
  /// How long stop() lets each loop's leftover tasks and the executor wind down.
  duration shutdown_timeout = std::chrono::seconds(5);
  /// Thread name prefix: "<name>-<index>".
  std::string name = "asyncio-loop";
  /// Busy polling of every loop (loop_options::busy_poll, same default; 0 = off): how long a loop
  /// that just found I/O keeps polling without blocking before it sleeps. A server per core spares
  /// its clients the wake-ups of a sleeping loop; turn it off where a loop's core is shared with
  /// other busy threads.
  std::chrono::microseconds busy_poll = loop_options{}.busy_poll;
};

/// A set of event loops, one per thread, started by the constructor and stopped by stop() or the
/// destructor (each loop's remaining tasks are cancelled and its loop closed, as asyncio::run does).
///
/// Thread safety: every member may be called from any thread, except that block_on() and
/// run_on_every_loop() must not be called from one of the runtime's own loop threads (they block).
class runtime {
 public:
  explicit runtime(runtime_options options = {});
  /// stop().
  ~runtime();
  runtime(const runtime&) = delete;
  auto operator=(const runtime&) -> runtime& = delete;

  /// The number of loops.
  [[nodiscard]] auto size() const noexcept -> std::size_t { return loops_.size(); }
  /// Loop `index` (valid until stop()). Use it with run_on / run_coroutine_threadsafe; its
  /// loop-affine members only from its own thread.
  [[nodiscard]] auto loop(std::size_t index) -> event_loop& { return *loops_.at(index)->loop; }
  /// The executor shared by the loops (their default executor).
  [[nodiscard]] auto get_executor() noexcept -> thread_pool& { return *executor_; }
  /// The index of the runtime loop running on the calling thread, or npos on any other thread.
  [[nodiscard]] static auto current_index() noexcept -> std::size_t;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Starts `coro` on loop `index`; returns its concurrent_future.
  template <class T>
  auto spawn(std::size_t index, task<T> coro) -> concurrent_future<T> {
    return run_coroutine_threadsafe(std::move(coro), loop(index));
  }
  /// Runs `coro` on loop `index` and waits for its result (from a plain thread).
  /// Throws: whatever coro throws; cancelled_error if it was cancelled.
  template <class T>
  auto block_on(std::size_t index, task<T> coro) -> T {
    return spawn(index, std::move(coro)).result();
  }
  /// Calls factory(i) (concurrently: it must be thread-safe) for every loop i, on that loop's thread, runs the coroutine it returns as a
  /// task there, and waits for all of them (from a plain thread). Returns the results in loop order
  /// (nothing for task<void>). Throws: the first exception (in loop order) after all finished.
  template <class F>
  auto run_on_every_loop(F factory) {
    using T = typename std::invoke_result_t<F&, std::size_t>::value_type;
    std::vector<concurrent_future<T>> futures;
    futures.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) futures.push_back(spawn(i, call_factory<T>(&factory, i)));
    for (auto& f : futures) f.wait();
    if constexpr (std::is_void_v<T>) {
      for (auto& f : futures) f.result();
    } else {
      std::vector<T> results;
      results.reserve(futures.size());
      for (auto& f : futures) results.push_back(f.result());
      return results;
    }
  }

  /// Stops every loop: cancels its remaining tasks, closes it, joins its thread; then shuts the
  /// executor down (abandoning calls stuck past shutdown_timeout, as asyncio::run does). Idempotent.
  void stop();

 private:
  struct loop_thread {
    std::thread thread;
    event_loop* loop = nullptr;
  };
  // The factory runs on the target loop's thread, inside the task; run_on_every_loop waits for all
  // tasks before `factory` goes out of scope.
  template <class T, class F>
  static auto call_factory(F* factory, std::size_t i) -> task<T> {
    task<T> t = (*factory)(i);
    co_return co_await std::move(t);
  }
  void run_loop(std::size_t index, loop_thread& slot, std::shared_ptr<thread_pool> executor,
                std::function<void()> ready);

  runtime_options options_;
  std::shared_ptr<thread_pool> executor_;
  std::vector<std::unique_ptr<loop_thread>> loops_;
  bool stopped_ = false;
};

}  // namespace asyncio
