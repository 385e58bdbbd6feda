// expect: cannot be moved into a combinator
// Awaiters that cannot move at all (lowlevel::wait_readable's I/O waiter is linked into the loop's
// fd table where it lives) are rejected by wait_for/timeout/gather with a message that says what to
// do instead: await them inside a coroutine and pass that coroutine.
#include <chrono>

#include <asyncio/core.hpp>
#include <asyncio/lowlevel/wait_io.hpp>

using namespace std::chrono_literals;

#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
asyncio::task<> readable(int fd) { co_await asyncio::lowlevel::wait_readable(fd); }
#endif

asyncio::task<> caller(int fd) {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  co_await asyncio::wait_for(readable(fd), 1s);
#else
  co_await asyncio::wait_for(asyncio::lowlevel::wait_readable(fd), 1s);  // misuse: not movable
#endif
}

int main() { asyncio::run(caller(0)); }
