// W4 to_thread: one untimed warm-up batch, then 100 batches of 1000 trivial jobs (job(i) = i),
// each batch offloaded with asyncio::to_thread and awaited together with gather (Python's
// gather(*(to_thread(job, i) ...))) on the default executor. Value: wall time / 100,000 jobs.
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

constexpr int n_jobs = 100'000;
constexpr int batch_size = 1000;

int job(int i) { return i; }

asyncio::task<long long> batch(int start) {
  std::vector<asyncio::task<int>> calls;
  calls.reserve(batch_size);
  for (int i = start; i < start + batch_size; ++i) calls.push_back(asyncio::to_thread(job, i));
  std::vector<int> results = co_await asyncio::gather(std::move(calls));
  long long s = 0;
  for (int r : results) s += r;
  co_return s;
}

asyncio::task<double> offload_all() {
  (void)co_await batch(0);  // warm-up: starts the default executor's threads
  auto t0 = bench::wall_clock::now();
  long long total = 0;
  for (int b = 0; b < n_jobs; b += batch_size) total += co_await batch(b);
  double dt = bench::seconds_since(t0);
  bench::check(total == 1LL * n_jobs * (n_jobs - 1) / 2, "W4 sum");
  co_return dt;
}

}  // namespace

int main() {
  double dt = asyncio::run(offload_all());
  bench::emit("W4_to_thread", bench::peer_name(), dt * 1e6 / n_jobs, "us/job");
}
