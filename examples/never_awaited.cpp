// examples/never_awaited.cpp: scenario S2.1, "coroutine was never awaited" (docs/scenarios.md §2.1).
// Calling a coroutine function only creates the coroutine; nothing of it runs until it is awaited or
// made a task. A coroutine created and then dropped is a silent bug, so the library reports it when
// it is destroyed, as Python warns, debug mode or not: through the loop's exception handler, whose
// default prints to stderr (the format is in <asyncio/core/task.hpp>, task<T>'s comment).
// Run: ./never_awaited
// Shows: task<T> is lazy; the "never awaited" report; an exception handler that captures it.
// ctest-expect: saved record 1
// ctest-expect: handler saw: coroutine 'save\(int\)' was never awaited
// ctest-expect: done
// ctest-expect: asyncio: coroutine 'save\(int\)' was never awaited
// ctest-expect:   dropped in: amain\(\)
#include <cstdio>
#include <string>

#include <asyncio/asyncio.hpp>

asyncio::task<> save(int record) {
  std::printf("saved record %d\n", record);
  co_return;
}

asyncio::task<> amain() {
  co_await save(1);  // awaited: runs
  {
    // A handler of our own sees the report (tests use this instead of reading stderr).
    asyncio::event_loop& loop = asyncio::get_running_loop();
    loop.set_exception_handler([](asyncio::event_loop&, const asyncio::exception_context& ctx) {
      std::printf("handler saw: %s\n", ctx.message.substr(0, ctx.message.find('\n')).c_str());
    });
    {
      auto forgotten = save(2);           // the mistake: created, never awaited; record 2 is not saved
    }                                     // destroyed here: reported
    loop.set_exception_handler(nullptr);  // back to the default handler
  }
  auto pending = save(3);  // the same mistake, reported by the default handler on stderr
  std::printf("done\n");
}  // `pending` is destroyed here, never having run

int main() { asyncio::run(amain()); }
