// examples/futures.cpp: scenario S2's async_futures.py (docs/scenarios.md §2.2). Two coroutines share
// a future: foo awaits it, bar resolves it after sleeping 3 seconds; gather runs both concurrently.
// Run: ./futures [--scale S]     (S multiplies the 3 s sleep; default 1.0)
// Shows: asyncio::future<T> (set_result, co_await), gather of two coroutines, timing a run.
// ctest-args: --scale 0.01
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

#include <asyncio/asyncio.hpp>

namespace {

double scale = 1.0;
bool color = false;

// The scenario's ANSI colours (only on a terminal).
void say(const char* ansi, const std::string& text) {
  if (color) std::printf("\033[%sm%s\033[0m\n", ansi, text.c_str());
  else std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}
constexpr const char* red = "31";
constexpr const char* green = "32";
constexpr const char* blue = "34";

auto seconds(double s) -> std::chrono::nanoseconds {
  return std::chrono::nanoseconds(static_cast<long long>(s * scale * 1e9));
}

// The future is shared: a copy refers to the same result (like passing a Python object).
auto bar(asyncio::future<std::string> future) -> asyncio::task<> {
  say(red, "bar will sleep for 3 seconds");
  co_await asyncio::sleep(seconds(3));
  say(red, "bar resolving the future");
  future.set_result("future is resolved");
}

auto foo(asyncio::future<std::string> future) -> asyncio::task<> {
  say(green, "foo will await the future");
  std::string value = co_await future;
  say(green, "foo finds the future resolved: " + value);
}

auto amain() -> asyncio::task<> {
  asyncio::future<std::string> future;
  co_await asyncio::gather(foo(future), bar(future));
}

}  // namespace

int main(int argc, char** argv) {
  for (int a = 1; a < argc; ++a) {
    if (std::string_view(argv[a]) == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else {
      std::fprintf(stderr, "usage: futures [--scale S]\n");
      return 2;
    }
  }
  color = isatty(STDOUT_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  asyncio::run(amain());
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  char line[64];
  std::snprintf(line, sizeof line, "Future Execution Time: %.2f seconds.", took.count());
  say(blue, line);
  return 0;
}
