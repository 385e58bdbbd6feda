// expect: deleted|no matching function
// An awaiter such as ev.wait() is movable only until it is first awaited (core/awaitable.hpp), so
// wait_for and timeout take it by value and never copy it: a named awaiter must be handed over with
// std::move, which says "this object is now the combinator's" (awaiting it afterwards is a bug that
// stops the program). Passing it as an lvalue is rejected at compile time.
#include <chrono>

#include <asyncio/core.hpp>
#include <asyncio/sync/event.hpp>

using namespace std::chrono_literals;

asyncio::task<> caller() {
  asyncio::event ev;
  ev.set();
  auto w = ev.wait();
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  co_await asyncio::wait_for(std::move(w), 1s);
#else
  co_await asyncio::wait_for(w, 1s);  // misuse: would copy an awaiter
#endif
}

int main() { asyncio::run(caller()); }
