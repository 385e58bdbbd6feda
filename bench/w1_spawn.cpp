// W1 spawn: create_task x 1,000,000 of a trivial coroutine returning its index, then await every
// handle and check the sum. Wall time from just before the first create_task until the last result
// is collected and its handle dropped, / 1M (as the peers: tokio spawns into a Vec and awaits each).
//
// Default: create_task is eager (this library's default), so a task that never suspends finishes
// inside create_task. With --lazy, task_options{.eager = false} schedules every task on the ready
// queue like asyncio/tokio/asio do, and the peer name gets the suffix "-lazy".
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

constexpr int n_tasks = 1'000'000;

asyncio::task<int> work(int i) { co_return i; }

asyncio::task<double> spawn_all(bool eager) {
  auto t0 = bench::wall_clock::now();
  std::vector<asyncio::task_handle<int>> handles;
  handles.reserve(n_tasks);
  for (int i = 0; i < n_tasks; ++i)
    handles.push_back(asyncio::create_task(work(i), asyncio::task_options{.eager = eager}));
  long long sum = 0;
  for (auto& h : handles) {
    sum += co_await h;
    h.detach();  // drop the handle now, freeing the finished task (tokio consumes its JoinHandles)
  }
  double dt = bench::seconds_since(t0);
  bench::check(sum == 1LL * n_tasks * (n_tasks - 1) / 2, "W1 sum");
  co_return dt;
}

}  // namespace

int main(int argc, char** argv) {
  bool lazy = bench::has_flag(argc, argv, "--lazy");
  double dt = asyncio::run(spawn_all(!lazy));
  bench::emit("W1_spawn", bench::peer_name(lazy ? "-lazy" : ""), dt * 1e9 / n_tasks, "ns/task");
}
