// examples/gather_counters.cpp: scenario S3's first asyncio program (docs/scenarios.md §3). One counter
// alone, then the Earth and Moon counters gathered: they alternate on one thread, and together take as
// long as one.
// Run: ./gather_counters [--scale S]     (S multiplies the 0.2 s sleeps; default 1.0)
// Shows: gather of two coroutines (concurrency without threads), timing a block with an RAII
// timer (the scenario's asynccontextmanager).
// ctest-args: --scale 0.05
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <asyncio/asyncio.hpp>

namespace {

double scale = 1.0;

auto seconds(double s) -> std::chrono::nanoseconds {
  return std::chrono::nanoseconds(static_cast<long long>(s * scale * 1e9));
}

auto counter(std::string name) -> asyncio::task<> {
  for (int i = 0; i < 5; ++i) {
    std::printf("%-10s %03d\n", name.c_str(), i);  // Python: f"{name:<10} {i:03}"
    std::fflush(stdout);
    co_await asyncio::sleep(seconds(0.2));
  }
}

// The scenario's `async with timer() as t:` is a plain RAII object: no coroutine needed to time a block.
struct timer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~timer() {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("that took %.2f seconds\n", took.count());
  }
};

auto amain() -> asyncio::task<> {
  {
    timer t;
    co_await counter("Venus");
  }
  {
    timer t;
    co_await asyncio::gather(counter("Earth"), counter("Moon"));
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int a = 1; a < argc; ++a) {
    if (std::string_view(argv[a]) == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else {
      std::fprintf(stderr, "usage: gather_counters [--scale S]\n");
      return 2;
    }
  }
  asyncio::run(amain());
  return 0;
}
