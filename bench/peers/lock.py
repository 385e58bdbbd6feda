"""Lock benchmark peer for Python asyncio/uvloop (same work as bench/lock.cpp).

Usage: python3 lock.py [asyncio|uvloop]
Prints "lock_uncontended <peer> <ns> ns/acquire" and "lock_contended <peer> <ns> ns/acquire".
"""
import asyncio
import sys
import time

PEER = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
if PEER == "uvloop":
    import uvloop
    uvloop.install()

N, CONTENDERS = 1_000_000, 100


async def uncontended():
    m, counter = asyncio.Lock(), 0
    t0 = time.perf_counter()
    for _ in range(N):
        async with m:
            counter += 1
    dt = time.perf_counter() - t0
    assert counter == N
    return dt


async def contended():
    m, counter = asyncio.Lock(), [0]

    async def contender(n):
        for _ in range(n):
            async with m:
                counter[0] += 1
                await asyncio.sleep(0)  # hold it across a switch

    t0 = time.perf_counter()
    await asyncio.gather(*(contender(N // CONTENDERS) for _ in range(CONTENDERS)))
    dt = time.perf_counter() - t0
    assert counter[0] == N
    return dt


for name, fn in (("lock_uncontended", uncontended), ("lock_contended", contended)):
    print(f"{name} {PEER} {asyncio.run(fn()) * 1e9 / N:.6g} ns/acquire", flush=True)
