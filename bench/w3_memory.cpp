// W3 memory: 100,000 tasks suspended on one shared event; (VmRSS once every task waits - VmRSS
// just before spawning) / 100k, handles kept in a vector (as the peers: asyncio's task list,
// tokio's JoinHandle Vec). Then the event is set and every task is awaited.
//
// Until asyncio::event exists the tasks wait on one shared future<void> (awaiting a future is the
// same kind of completion wait); <asyncio/sync/event.hpp> is used as soon as it is there.
//
// A second line, W3_frame_pool, reports the frame-pool bytes reserved while spawning / 100k: the
// pooled size of one task's coroutine frame (rounded up to its 16-byte class), which sizeof cannot
// tell for a coroutine and which differs between compilers.
#include <asyncio/asyncio.hpp>

#if __has_include(<asyncio/sync/event.hpp>)
#include <asyncio/sync/event.hpp>
#define BENCH_W3_EVENT 1
#endif

#include "common.hpp"

namespace {

constexpr int n_tasks = 100'000;

#if BENCH_W3_EVENT
using shared_event = asyncio::event;
asyncio::task<void> waiter(shared_event& ev) { co_await ev.wait(); }
void fire(shared_event& ev) { ev.set(); }
#else
using shared_event = asyncio::future<void>;
asyncio::task<void> waiter(shared_event& ev) { co_await ev; }
void fire(shared_event& ev) { ev.set_result(); }
#endif

struct result {
  double rss_per_task, pool_per_task;
};

asyncio::task<result> park_all() {
  shared_event ev;
  long before = bench::rss_bytes();
  std::size_t pool_before = asyncio::detail::frame_pool_reserved_bytes();
  std::vector<asyncio::task_handle<void>> handles;
  handles.reserve(n_tasks);
  // create_task is eager: when it returns, the task has run up to its wait and is suspended.
  for (int i = 0; i < n_tasks; ++i) handles.push_back(asyncio::create_task(waiter(ev)));
  long after = bench::rss_bytes();
  std::size_t pool_after = asyncio::detail::frame_pool_reserved_bytes();
  for (auto& h : handles) bench::check(!h.done(), "W3 task suspended");
  fire(ev);
  for (auto& h : handles) co_await h;
  co_return result{double(after - before) / n_tasks, double(pool_after - pool_before) / n_tasks};
}

}  // namespace

int main() {
  result r = asyncio::run(park_all());
  bench::emit("W3_memory", bench::peer_name(), r.rss_per_task, "B/task");
  bench::emit("W3_frame_pool", bench::peer_name(), r.pool_per_task, "B/task");
}
