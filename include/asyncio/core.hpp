#pragma once
// Core layer: tasks, the event loop, futures, cancellation, combinators and task groups.
//
//   asyncio::task<T>            a coroutine (`async def`); lazy, awaited with co_await
//   asyncio::create_task(c)     run c concurrently as a task owned by the loop (eager by default)
//   asyncio::task_handle<T>     what create_task returns: cancel(), done(), result(), co_await
//   asyncio::run(main())        run main on a new loop; cancel leftovers; close
//   asyncio::runner r; r.run(a()); r.run(b());   several top-level runs on one loop (Python's Runner)
//   asyncio::clock              the loop's clock (loop.time()); sleep(d) is in <asyncio/time.hpp>
//
// Combinators (no child outlives the call that started it, docs/lessons.md §1.4):
//   asyncio::gather(a, b, ...)      results as a tuple (vector for a vector argument); the first
//                                   failure cancels and awaits the rest, then is rethrown
//   asyncio::gather(asyncio::return_exceptions, ...)   every outcome as asyncio::result<T>
//   asyncio::wait(handles, timeout, return_when)   done/pending split; cancels nothing
//   for (auto next : asyncio::as_completed(handles)) { co_await next; }   completion order
//   asyncio::shield(h)              await without passing cancellation on
//   asyncio::timeout(d, body) / timeout_at(when, body)   reschedulable deadline (Python 3.11)
//   asyncio::wait_for(aw, d)        await with a time limit; the inner is cancelled and awaited
//
// wait_for, timeout, gather, shield and create_task also take the library's awaiters directly
// (`co_await asyncio::wait_for(ev.wait(), 5s)`, `gather(q.get(), m.acquire())`): see awaitable.hpp.
//   asyncio::with_task_group(fn)    structured concurrency with Python's TaskGroup semantics;
//   asyncio::task_group tg; ... co_await tg.join();   the simple object form (see task_group.hpp)
//   asyncio::with_cleanup(body, cleanup, 2s)   Python's `finally: await cleanup()`: the cleanup
//                                   runs however the body ends, shielded, with a deadline
//
// Async generators and task-local values:
//   asyncio::generator<T>           `co_yield` values; `while (auto v = co_await gen.next())` is `async for`
//   asyncio::for_each(gen, fn)      the same loop as one call; asyncio::to_async(range) (scenario S1's to_aiter)
//   asyncio::context_var<T> v       task-local value (contextvars): v.set(x), v.get(), v.reset(token);
//                                   create_task copies the creator's values into the new task
#include <asyncio/core/as_completed.hpp>
#include <asyncio/core/awaitable.hpp>
#include <asyncio/core/cleanup.hpp>
#include <asyncio/core/clock.hpp>
#include <asyncio/core/context.hpp>
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/future.hpp>
#include <asyncio/core/gather.hpp>
#include <asyncio/core/generator.hpp>
#include <asyncio/core/result.hpp>
#include <asyncio/core/run.hpp>
#include <asyncio/core/runner.hpp>
#include <asyncio/core/shield.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/core/task_group.hpp>
#include <asyncio/core/task_handle.hpp>
#include <asyncio/core/timeout.hpp>
#include <asyncio/core/wait.hpp>
#include <asyncio/core/wait_for.hpp>
#include <asyncio/errors.hpp>
