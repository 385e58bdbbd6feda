// examples/producer_consumer.cpp: scenario S2's async_queue.py (docs/scenarios.md §2.4). Producers put
// a random number of items into an unbounded queue after random sleeps; consumers take them forever,
// marking each one done; main waits for the producers, then for q.join() (every item processed), then
// cancels the consumers, which are parked in q.get() (cancelling a waiting getter loses nothing).
// Run: ./producer_consumer [-p N] [-c N] [--scale S]   (defaults -p 10 -c 15, S multiplies every sleep)
// Shows: asyncio::queue put/get/task_done/join, create_task, cancelling tasks parked in a queue.
// ctest-args: -p 2 -c 4 --scale 0.002
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <asyncio/asyncio.hpp>

namespace {

using clock_type = std::chrono::steady_clock;
using item = std::pair<std::string, clock_type::time_point>;

double scale = 1.0;
bool color = false;
std::mt19937 rng(444);  // the scenario's random.seed(444)
int produced = 0;
int consumed = 0;

void say(const char* ansi, const std::string& text) {
  if (color) std::printf("\033[%sm%s\033[0m\n", ansi, text.c_str());
  else std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}
auto randint(int lo, int hi) -> int { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)); }

// os.urandom(5).hex(), from the seeded generator so that runs are reproducible.
auto generate_item() -> asyncio::task<std::string> {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 10; ++i) s += digits[rng() % 16];
  co_return s;
}

auto random_sleep(std::string caller) -> asyncio::task<> {
  const int i = randint(0, 10);
  say("31", caller + " sleeping for " + std::to_string(i) + " seconds.");
  co_await asyncio::sleep(std::chrono::nanoseconds(static_cast<long long>(i * scale * 1e9)));
}

auto produce(int name, asyncio::queue<item>* q) -> asyncio::task<> {
  const int n = randint(0, 10);
  for (int k = 0; k < n; ++k) {  // synchronous loop for each single producer
    co_await random_sleep("Producer " + std::to_string(name));
    std::string i = co_await generate_item();
    item produced_item{i, clock_type::now()};  // named: g++ 12 destroys aggregate temporaries in co_await twice
    co_await q->put(std::move(produced_item));
    ++produced;
    say("32", "Producer " + std::to_string(name) + " added <" + i + "> to queue.");
  }
}

auto consume(int name, asyncio::queue<item>* q) -> asyncio::task<> {
  for (;;) {
    co_await random_sleep("Consumer " + std::to_string(name));
    auto [i, t] = co_await q->get();
    const std::chrono::duration<double> waited = clock_type::now() - t;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0.5f", waited.count());
    say("36", "Consumer " + std::to_string(name) + " got element <" + i + "> in " + buf + " seconds.");
    ++consumed;
    q->task_done();
  }
}

auto amain(int no_producer, int no_consumer) -> asyncio::task<> {
  asyncio::queue<item> q;
  std::vector<asyncio::task_handle<void>> producers, consumers;
  for (int n = 0; n < no_producer; ++n) producers.push_back(asyncio::create_task(produce(n, &q)));
  for (int n = 0; n < no_consumer; ++n) consumers.push_back(asyncio::create_task(consume(n, &q)));
  for (auto& p : producers) co_await p;  // Python: await asyncio.gather(*producers)
  co_await q.join();                     // implicitly awaits consumers, too
  for (auto& c : consumers) c.cancel();
  // Python leaves the cancelled consumers to asyncio.run; waiting here shows they end cleanly.
  for (auto& c : consumers) {
    try {
      co_await c;
    } catch (const asyncio::cancelled_error&) {
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int no_producer = 10, no_consumer = 15;
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if ((arg == "-p" || arg == "--no_producer") && a + 1 < argc) no_producer = std::atoi(argv[++a]);
    else if ((arg == "-c" || arg == "--no_consumer") && a + 1 < argc) no_consumer = std::atoi(argv[++a]);
    else if (arg == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else {
      std::fprintf(stderr, "usage: producer_consumer [-p N] [-c N] [--scale S]\n");
      return 2;
    }
  }
  color = isatty(STDOUT_FILENO) != 0;
  const auto start = clock_type::now();
  asyncio::run(amain(no_producer, no_consumer));
  const std::chrono::duration<double> took = clock_type::now() - start;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", took.count());
  say("34", "Program Execution Time: " + std::string(buf) + " seconds. Produced " + std::to_string(produced) +
                ", consumed " + std::to_string(consumed) + ".");
  return produced == consumed ? 0 : 1;
}
