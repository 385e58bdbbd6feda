// Input of the ctest lint.clang_tidy (scripts/run_clang_tidy.py): the two coroutine traps of
// docs/coroutine_lifetimes.md, which compile without a warning and print garbage at run time. The
// profile tools/clang-tidy/asyncio.clang-tidy must flag every line marked `// trap: <check>` with
// that check, and nothing else. Not part of any build (no _test suffix: tests/CMakeLists.txt).
#include <chrono>
#include <cstdio>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

// 1. A reference parameter: the caller's temporary std::string dies at the first suspension.
auto greet(const std::string& name) -> asyncio::task<> {  // trap: cppcoreguidelines-avoid-reference-coroutine-parameters
  co_await asyncio::sleep(1ms);
  std::printf("hello %s\n", name.c_str());
}

// The fix: take it by value.
auto greet_fixed(std::string name) -> asyncio::task<> {
  co_await asyncio::sleep(1ms);
  std::printf("hello %s\n", name.c_str());
}

auto amain() -> asyncio::task<> {
  auto a = asyncio::create_task(greet(std::string("world")));
  auto b = asyncio::create_task(greet_fixed("world"));

  // 2. A capturing lambda coroutine: the closure (and `who`) is a temporary destroyed when
  // create_task returns, while the coroutine still reads it after its first suspension.
  std::string who = "lambda";
  auto c = asyncio::create_task([who]() -> asyncio::task<> {  // trap: cppcoreguidelines-avoid-capturing-lambda-coroutines
    co_await asyncio::sleep(1ms);
    std::printf("hello %s\n", who.c_str());
  }());

  // The fix: no captures; what the coroutine needs comes in as parameters, by value.
  auto d = asyncio::create_task([](std::string w) -> asyncio::task<> {
    co_await asyncio::sleep(1ms);
    std::printf("hello %s\n", w.c_str());
  }(who));

  co_await a;
  co_await b;
  co_await c;
  co_await d;
}

int main() { asyncio::run(amain()); }
