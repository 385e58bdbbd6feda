// examples/blocking_offload.cpp: a blocking call done wrong (inside a coroutine: the whole loop
// stalls) and right (asyncio::to_thread: the loop keeps running), side by side with timings.
// ctest-args: --block-ms 60
//
// Run: ./blocking_offload [--block-ms MS]
// Shows: what FastAPI users hit in scenario S2 (docs/scenarios.md §2.5: a blocking handler freezes the
// server), how debug mode reports the slow step (with the task's name), and the fix with to_thread. A
// heartbeat task ticks every 5 ms; we count its ticks and the longest gap between two ticks while 4
// requests are served.
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// Stands for a blocking library call (a database driver, requests.get, a big file read).
auto blocking_lookup(int id, std::chrono::milliseconds cost) -> int {
  std::this_thread::sleep_for(cost);
  return id * 10;
}

struct heartbeat_stats {
  int ticks = 0;
  double max_gap_ms = 0;
};

auto heartbeat(heartbeat_stats* stats) -> asyncio::task<void> {
  auto last = std::chrono::steady_clock::now();
  for (;;) {
    co_await asyncio::sleep(5ms);
    auto now = std::chrono::steady_clock::now();
    stats->max_gap_ms = std::max(stats->max_gap_ms, std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
    ++stats->ticks;
  }
}

auto handler_wrong(int id, std::chrono::milliseconds cost) -> asyncio::task<int> {
  co_return blocking_lookup(id, cost);  // runs on the loop thread: nothing else runs meanwhile
}

auto handler_right(int id, std::chrono::milliseconds cost) -> asyncio::task<int> {
  co_return co_await asyncio::to_thread(blocking_lookup, id, cost);  // the loop stays free
}

auto serve(bool right, std::chrono::milliseconds cost) -> asyncio::task<void> {
  heartbeat_stats stats;
  auto hb = asyncio::create_task(heartbeat(&stats));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<asyncio::task<int>> requests;
  for (int id = 0; id < 4; ++id) requests.push_back(right ? handler_right(id, cost) : handler_wrong(id, cost));
  std::vector<int> answers = co_await asyncio::gather(std::move(requests));
  double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  hb.cancel();
  try {
    co_await hb;
  } catch (const asyncio::cancelled_error&) {
  }
  std::printf("%-34s 4 requests in %7.1f ms; heartbeat ticked %3d times, longest gap %6.1f ms\n",
              right ? "right (co_await to_thread(...)):" : "wrong (blocking call in the task):", took,
              stats.ticks, stats.max_gap_ms);
  (void)answers;
}

auto main_task(std::chrono::milliseconds cost) -> asyncio::task<int> {
  // Debug mode (on from the start: see main) reports every step longer than slow_callback_duration
  // (Python's loop.slow_callback_duration), naming the task.
  auto& loop = asyncio::get_running_loop();
  loop.set_slow_callback_duration(cost / 2);
  int reports = 0;
  loop.set_exception_handler([&reports](asyncio::event_loop&, const asyncio::exception_context& c) {
    ++reports;
    std::printf("  debug mode: %s\n", c.message.c_str());
  });
  std::printf("each request makes a blocking call of %lld ms\n", static_cast<long long>(cost.count()));
  co_await serve(false, cost);
  int wrong_reports = reports;
  co_await serve(true, cost);
  int right_reports = reports - wrong_reports;
  std::printf("slow steps reported: %d when blocking the loop, %d with to_thread\n", wrong_reports, right_reports);
  co_return wrong_reports > 0 ? 0 : 1;  // the right variant may be reported too on an overloaded machine
}

}  // namespace

int main(int argc, char** argv) {
  long ms = 200;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--block-ms" && i + 1 < argc) ms = std::stol(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--block-ms MS]\n", argv[0]);
      return 2;
    }
  }
  asyncio::loop_options options;
  options.debug = true;  // or ASYNCIO_DEBUG=1 in the environment
  return asyncio::run(main_task(std::chrono::milliseconds(ms)), options);
}
