"""Log writer, Python peers of the library's example log_writer (the rules: bench/README.md, "Log writer").

N messages "message <i> for file <k>\\n", i = 0..N-1, k = ((i * 2654435761) mod 2**32) mod F,
appended to <dir>/<way>/<k>.log. One way per run:

  sync                       built-in open() (buffered, text), one f.write per message
  aiofiles_task_per_message  one asyncio task per message, each `async with lock: await f.write(msg)`
                             with one asyncio.Lock per file (the lock keeps each file's messages in
                             order: every aiofiles call runs on the loop's default thread pool)
  aiofiles_sequential        one coroutine awaiting aiofiles' f.write for each message in turn

Timed (from inside the running loop for the asyncio ways, as the C++ programs start their clocks
once the loop exists): open the F files ("w"), format and write every message, close the F files (which flushes
Python's buffers). Not timed: creating the empty <way> directory, and afterwards reading every file
back to check that it holds exactly its messages in order, then removing it. No fsync.
Prints "way <name> total <seconds>"; exits 1 when a check fails.

Usage: python3 log_writer.py --way NAME [--messages N] [--files F] [--dir DIR]
The asyncio ways run on the default asyncio loop. aiofiles is Debian's python3-aiofiles.
"""
import argparse
import asyncio
import os
import shutil
import sys
import time

try:
    import aiofiles
except ImportError:  # only the aiofiles ways need it; they say so below
    aiofiles = None

KNUTH = 2654435761
MASK32 = 0xFFFFFFFF


def file_of(i, files):
    return ((i * KNUTH) & MASK32) % files


def path_of(directory, k):
    return os.path.join(directory, f"{k}.log")


def way_sync(directory, messages, files):
    t0 = time.perf_counter()
    out = [open(path_of(directory, k), "w", encoding="utf-8") for k in range(files)]
    for i in range(messages):
        k = ((i * KNUTH) & MASK32) % files
        out[k].write(f"message {i} for file {k}\n")
    for f in out:
        f.close()
    return time.perf_counter() - t0


async def write_locked(f, lock, msg):
    async with lock:
        await f.write(msg)


async def way_aiofiles_task_per_message(directory, messages, files):
    t0 = time.perf_counter()
    out = [await aiofiles.open(path_of(directory, k), "w", encoding="utf-8") for k in range(files)]
    locks = [asyncio.Lock() for _ in range(files)]
    tasks = []
    for i in range(messages):
        k = ((i * KNUTH) & MASK32) % files
        tasks.append(asyncio.create_task(write_locked(out[k], locks[k], f"message {i} for file {k}\n")))
    await asyncio.gather(*tasks)
    for f in out:
        await f.close()
    return time.perf_counter() - t0


async def way_aiofiles_sequential(directory, messages, files):
    t0 = time.perf_counter()
    out = [await aiofiles.open(path_of(directory, k), "w", encoding="utf-8") for k in range(files)]
    for i in range(messages):
        k = ((i * KNUTH) & MASK32) % files
        await out[k].write(f"message {i} for file {k}\n")
    for f in out:
        await f.close()
    return time.perf_counter() - t0


WAYS = {
    "sync": way_sync,
    "aiofiles_task_per_message": way_aiofiles_task_per_message,
    "aiofiles_sequential": way_aiofiles_sequential,
}


def verify(directory, messages, files):
    """True when every file holds exactly its messages, in order."""
    expected = [[] for _ in range(files)]
    for i in range(messages):
        k = file_of(i, files)
        expected[k].append(f"message {i} for file {k}\n")
    ok = True
    for k in range(files):
        with open(path_of(directory, k), encoding="utf-8") as f:
            got = f.read()
        want = "".join(expected[k])
        if got != want:
            print(f"log_writer.py: {path_of(directory, k)}: {len(got)} characters, expected "
                  f"{len(want)} characters of its messages in order", file=sys.stderr)
            ok = False
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--way", required=True, choices=sorted(WAYS))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    if args.messages <= 0 or args.files <= 0:
        parser.error("--messages and --files want positive counts")

    directory = os.path.join(args.dir, args.way)
    os.mkdir(directory)
    run = WAYS[args.way]
    if asyncio.iscoroutinefunction(run):
        if aiofiles is None:
            sys.exit("log_writer.py: aiofiles is missing (Debian: apt-get install python3-aiofiles)")
        seconds = asyncio.run(run(directory, args.messages, args.files))
    else:
        seconds = run(directory, args.messages, args.files)
    ok = verify(directory, args.messages, args.files)
    shutil.rmtree(directory)
    print(f"way {args.way} total {seconds:.6f}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
