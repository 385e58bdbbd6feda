// examples/hello.cpp: the README's first example. Two greetings run concurrently on one thread.
// Run: ./hello
// Shows: task<T> (a coroutine, like `async def`), co_await, create_task (starts the coroutine at
// once and lets it run concurrently), sleep, asyncio::run.
#include <chrono>
#include <iostream>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

asyncio::task<std::string> greet(std::string name, std::chrono::milliseconds delay) {
  co_await asyncio::sleep(delay);
  std::cout << "hello, " << name << '\n';
  co_return "greeted " + name;
}

asyncio::task<int> amain() {
  auto world = asyncio::create_task(greet("world", 20ms));  // runs concurrently from here on
  std::string cpp = co_await greet("C++", 10ms);            // runs inside this task
  std::string w = co_await world;                            // "world" finishes 10 ms later
  std::cout << cpp << " and " << w << '\n';
  co_return 0;
}

int main() { return asyncio::run(amain()); }
