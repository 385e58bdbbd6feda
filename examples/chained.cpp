// examples/chained.cpp: scenario S2's async_chained.py (docs/scenarios.md §2.3). Each chain(n) awaits
// function1(n), then function2(n, result1): a chain is sequential, but the chains run concurrently
// under gather, so function2 of one chain starts as soon as its own function1 is done.
// Run: ./chained [--scale S] [n...]     (default n: 1 2 3; S multiplies every sleep, default 1.0)
// Shows: chaining coroutines with co_await (each returns a value), gather over a vector of tasks,
// arguments taken by value into coroutine frames.
// ctest-args: --scale 0.01 11 8 5
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <asyncio/asyncio.hpp>

namespace {

double scale = 1.0;
bool color = false;
std::mt19937 rng(444);  // the scenario's random.seed(444): a fixed sequence of sleeps

constexpr const char* red = "31";
constexpr const char* green = "32";
constexpr const char* cyan = "36";
constexpr const char* blue = "34";

void say(const char* ansi, const std::string& text) {
  if (color) std::printf("\033[%sm%s\033[0m\n", ansi, text.c_str());
  else std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}
auto seconds(int s) -> std::chrono::nanoseconds {
  return std::chrono::nanoseconds(static_cast<long long>(s * scale * 1e9));
}
auto fixed2(double v) -> std::string {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
auto randint_0_10() -> int { return static_cast<int>(rng() % 11); }

auto function1(int n) -> asyncio::task<std::string> {
  const int i = randint_0_10();
  say(red, "function1(" + std::to_string(n) + ") is sleeping for " + std::to_string(i) + " seconds.");
  co_await asyncio::sleep(seconds(i));
  std::string result = "result" + std::to_string(n) + "-1";
  say(red, "Returning function1(" + std::to_string(n) + ") == " + result + ".");
  co_return result;
}

auto function2(int n, std::string arg) -> asyncio::task<std::string> {
  const int i = randint_0_10();
  const std::string args = "(" + std::to_string(n) + ", '" + arg + "')";  // Python prints the tuple
  say(green, "function2" + args + " is sleeping for " + std::to_string(i) + " seconds.");
  co_await asyncio::sleep(seconds(i));
  std::string result = "result" + std::to_string(n) + "-2 derived from " + arg;
  say(green, "Returning function2" + args + " == " + result + ".");
  co_return result;
}

auto chain(int n) -> asyncio::task<> {
  const auto start = std::chrono::steady_clock::now();
  std::string p1 = co_await function1(n);
  std::string p2 = co_await function2(n, p1);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  say(cyan, "--> Chained result" + std::to_string(n) + " => " + p2 + " (took " + fixed2(took.count()) +
                " seconds).");
}

auto amain(std::vector<int> args) -> asyncio::task<> {
  std::vector<asyncio::task<>> chains;
  for (int n : args) chains.push_back(chain(n));
  co_await asyncio::gather(std::move(chains));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> args;
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (arg == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string_view::npos) args.push_back(std::atoi(argv[a]));
    else {
      std::fprintf(stderr, "usage: chained [--scale S] [n...]\n");
      return 2;
    }
  }
  if (args.empty()) args = {1, 2, 3};
  color = isatty(STDOUT_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  asyncio::run(amain(args));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  say(blue, "Program Execution Time: " + fixed2(took.count()) + " seconds.");
  return 0;
}
