// expect: nodiscard.*unused-result
// asyncio::sleep(d) returns an awaitable; calling it without co_await sleeps for no time at all.
#include <chrono>

#include <asyncio/core.hpp>
#include <asyncio/time.hpp>

using namespace std::chrono_literals;

asyncio::task<> caller() {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  co_await asyncio::sleep(1ms);
#else
  asyncio::sleep(1ms);  // misuse: forgot co_await
#endif
  co_return;
}

int main() { asyncio::run(caller()); }
