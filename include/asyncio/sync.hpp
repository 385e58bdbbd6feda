#pragma once
// Sync layer: coordinating tasks of one loop (Python's asyncio.Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier and the queues), one line each (doc-test: excluded, a synopsis whose
// lines are alternatives, not one program):
//
//   asyncio::lock m;                 auto g = co_await m.acquire();     // async with lock:
//   asyncio::event e;                co_await e.wait();  e.set();
//   asyncio::condition c;            auto g = co_await c.acquire(); co_await c.wait_for(pred); c.notify();
//   asyncio::semaphore s(10);        auto g = co_await s.acquire();     // at most 10 inside
//   asyncio::barrier b(3);           auto index = co_await b.wait();
//   asyncio::queue<T> q(maxsize);    co_await q.put(x);  T x = co_await q.get();  q.task_done();  co_await q.join();
//
// Rules every primitive here follows (docs/design.md):
//  * Waiters are served in FIFO order. A unit (lock, semaphore unit, queue item) is handed straight
//    to the oldest waiter, so nobody can barge in between a release and the waiter's resumption.
//  * Every wait is cancellable and loses nothing: a waiter cancelled after something was handed to
//    it passes it on (lock, semaphore, notification) or puts it back at the front (queue item).
//  * A wait allocates nothing: the waiter node lives in the awaiting coroutine frame.
//  * `co_await m.acquire()` returns a lock_guard; leaving its scope releases, also when an
//    exception or cancellation unwinds.
//  * With a time limit, as in Python: `co_await asyncio::wait_for(e.wait(), 5s)`,
//    `auto g = co_await asyncio::wait_for(m.acquire(), 1s)`, `asyncio::timeout(1s, q.get())`
//    (core/awaitable.hpp). A timed-out wait holds nothing afterwards.
//  * Each primitive has statistics(), describe() and operator<< ("<lock locked waiters=2>").
//  * Loop-affine: use one primitive from the tasks of one loop; from other threads go through
//    loop.call_soon_threadsafe.
#include <asyncio/sync/barrier.hpp>
#include <asyncio/sync/condition.hpp>
#include <asyncio/sync/event.hpp>
#include <asyncio/sync/lock.hpp>
#include <asyncio/sync/lock_guard.hpp>
#include <asyncio/sync/queue.hpp>
#include <asyncio/sync/semaphore.hpp>
