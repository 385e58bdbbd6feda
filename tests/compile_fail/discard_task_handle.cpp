// expect: nodiscard.*unused-result
// Dropping the task_handle that create_task returns loses the only way to see the task's result or
// exception (the loop still runs the task). task_handle is [[nodiscard]]; a deliberate
// fire-and-forget says so with a named handle or a cast to void.
#include <asyncio/core.hpp>

asyncio::task<int> compute() { co_return 42; }

asyncio::task<> caller() {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  auto h = asyncio::create_task(compute());
  int v = co_await h;
  (void)v;
#else
  asyncio::create_task(compute());  // misuse: result and exception are never looked at
#endif
  co_return;
}

int main() { asyncio::run(caller()); }
