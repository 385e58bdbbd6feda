#pragma once
// Threads layer: run blocking or CPU-heavy work off the loop, and use every core.
//
//   co_await asyncio::to_thread(fn, args...)          run fn(args...) on the loop's default executor
//   co_await asyncio::run_in_executor(pool, fn, ...)  the same on an executor of your choice
//   asyncio::thread_pool pool({.threads = 4});        an executor (Python's ThreadPoolExecutor)
//   asyncio::set_default_executor(loop, pool_ptr)     replace the loop's default executor
//   auto f = asyncio::run_coroutine_threadsafe(c, loop)  from any thread: start c on loop; f.result(5s)
//   co_await asyncio::run_on(other_loop, c)           hand c to another loop and await its result
//   co_await asyncio::wrap_future(f)                  await a concurrent_future on this loop
//   asyncio::runtime rt;                              one loop per core; rt.spawn / rt.block_on /
//                                                     rt.run_on_every_loop (a server per core)
//
// In C++ there is no GIL: offloaded calls run truly in parallel, and an offload costs well under a
// microsecond. The default executor has min(32, CPUs + 4) threads, as Python's (sized for calls
// that block, see default_executor_threads()), and to_thread runs its call in a copy of the
// caller's context_var values, as Python's. Cancelling an awaiting to_thread raises cancelled_error at once; the thread finishes
// its call and the result is dropped. At loop close the default executor is shut down with a
// deadline: a stuck call is abandoned and reported, never waited for forever.
#include <asyncio/threads/thread_pool.hpp>
#include <asyncio/threads/run_coroutine_threadsafe.hpp>
#include <asyncio/threads/run_on.hpp>
#include <asyncio/threads/runtime.hpp>
#include <asyncio/threads/to_thread.hpp>
#include <asyncio/threads/wrap_future.hpp>
