// expect: nodiscard.*unused-result
// Calling a coroutine and dropping the task<T> it returns runs nothing (tasks are lazy): the frame is
// destroyed unstarted. task<T> is [[nodiscard]] so that this is a warning (an error under -Werror).
#include <asyncio/core.hpp>

asyncio::task<int> compute() { co_return 42; }

asyncio::task<> caller() {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  int v = co_await compute();
  (void)v;
#else
  compute();  // misuse: never awaited, never run
#endif
  co_return;
}

int main() { asyncio::run(caller()); }
