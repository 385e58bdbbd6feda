// expect: Wdangling
// requires: clang (g++ 12 has no [[clang::lifetimebound]]; include/asyncio/detail/lifetimebound.hpp)
// A member coroutine keeps `this` in its frame: calling one on a temporary and awaiting the task
// later reads a destroyed object. stream_reader's read functions are ASYNCIO_LIFETIMEBOUND, so
// clang rejects it (-Wdangling under -Werror) instead of letting it crash at run time.
#include <string>

#include <asyncio/core.hpp>
#include <asyncio/net.hpp>

asyncio::task<std::string> first_line(std::string host) {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
  auto [reader, writer] = co_await asyncio::open_connection(host, 80);
  auto line = reader.readline();
#else
  auto line = (co_await asyncio::open_connection(host, 80)).reader.readline();  // misuse: the reader dies here
#endif
  co_return co_await std::move(line);
}

int main() { asyncio::run(first_line("localhost")); }
