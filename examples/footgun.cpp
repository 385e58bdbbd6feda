// examples/footgun.cpp: scenario S1, "async def is a magic footgun" (docs/scenarios.md §1), in C++.
//
// The scenario does 3 rounds of CPU work (2 units each) and wants each round's output write (1 unit of
// OS I/O) to overlap the next round: 7 units instead of 9. In Python, calling an `async def` does
// not start it, and create_task only schedules it, so most of the scenario's variants run the writes
// serially. Here every variant is written the way a C++ user would write the Python one, and each
// prints the scenario's timeline (`<elapsed> <label>`) and then `variant <Python function name> total <s>`.
// Because asyncio::create_task starts the coroutine eagerly (it runs up to its first suspension,
// which here is the start of the write), the natural code overlaps: example6 reaches 7 units with no
// sleep(0) trick.
//
// Run: ./footgun [--scale S] [--variant NAME] [--summary] [--virtual-clock]
//   --scale S        1 unit = S seconds (default 1.0: 2 s of CPU work, 1 s per write, as in the scenario)
//   --variant NAME   run only the variant whose name contains NAME
//   --summary        end with a table: the scenario's Python total next to this library's, in units
//   --virtual-clock  run on asyncio::testing::virtual_clock: CPU work moves the clock forward while it
//                    blocks the loop, writes are virtual timers; the timeline is exact and instant
// Shows: lazy task<T> versus eager create_task, gather, task_group, eager_task<T> (the scenario's
// js_like_await), future + call_later (an OS operation that starts on call), lock, an async
// generator (to_async) iterated like `async for`.
//
// The test (footgun.check.cmake) checks that every variant ran and that each total is what this
// library's semantics give (example6: 7 units). It runs on the virtual clock, so the totals are exact
// whatever the machine's load (on the real clock, scheduling noise reached 1.2 units on a loaded
// 2-core machine). `make demo` runs it on the real clock.
// ctest-args: --scale 0.01 --virtual-clock
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

using namespace std::chrono_literals;
using clock_type = asyncio::clock;

// ---- the scenario's helpers: log, CPU work, OS writes ----------------------------------------------

namespace {

constexpr double work_units = 2;   // the scenario's WORK_TIME
constexpr double write_units = 1;  // the scenario's WRITE_TIME

double scale = 1.0;     // seconds per unit
int decimals = 2;       // enough to tell units apart at this scale
bool color = false;     // ANSI colours, as the scenario, when writing to a terminal
clock_type::time_point log_start;
asyncio::testing::virtual_clock* virtual_time = nullptr;  // set by --virtual-clock

auto now() -> clock_type::time_point { return virtual_time ? virtual_time->now() : clock_type::now(); }

auto units(double n) -> std::chrono::nanoseconds {
  return std::chrono::nanoseconds(static_cast<long long>(n * scale * 1e9));
}

auto elapsed() -> double { return std::chrono::duration<double>(now() - log_start).count(); }

// The scenario's log(): elapsed seconds since the variant started, then the message.
void log(std::string_view message, const char* ansi = "0") {
  if (color) std::printf("\x1b[%sm%.*f %.*s\x1b[0m\n", ansi, decimals, elapsed(), int(message.size()), message.data());
  else std::printf("%.*f %.*s\n", decimals, elapsed(), int(message.size()), message.data());
  std::fflush(stdout);
}
void log_starting() {
  log_start = now();
  log("Starting");
}
auto tag(char kind, int i) -> std::string { return std::string("[") + kind + std::to_string(i) + "] "; }

// Blocks the thread (and so the loop) like the scenario's time.sleep(WORK_TIME): a busy loop on the real
// clock, so it lasts the same on a fast or a slow machine. On the virtual clock, the blocked loop sees
// the same: time has moved on when it gets control back.
void do_cpu_work(int i) {
  log(tag('X', i) + "> Starting CPU work " + std::to_string(i), "93");
  if (virtual_time) {
    virtual_time->advance(units(work_units));
  } else {
    const auto end = clock_type::now() + units(work_units);
    while (clock_type::now() < end) {
    }
  }
  log(tag('X', i) + "< Done with CPU work " + std::to_string(i), "93");
}

// The scenario's async_sleep(): a future resolved by a timer that starts now, when it is called (unlike
// a coroutine, whose body starts only when awaited). It stands for I/O the OS has started.
auto async_sleep(double n) -> asyncio::future<> {
  asyncio::future<> done;
  asyncio::get_running_loop().call_later(units(n), [done]() mutable { done.set_result(); });
  return done;
}

asyncio::lock write_lock;  // a socket or an appended file takes one write at a time

auto wait_for_write(int i, asyncio::future<> write_done) -> asyncio::task<> {
  co_await write_done;
  log(tag('W', i) + "<<< OS done writing " + std::to_string(i), "94");
}

auto wait_for_locked_write() -> asyncio::task<> {
  auto guard = co_await write_lock.acquire();  // released at the end of the scope, as `finally`
  co_await async_sleep(write_units);
}

// The scenario's os_async_write(): a plain function (not a coroutine) that starts the write at once and
// returns a task<> to await its completion. With `with_lock`, the write waits for write_lock first.
auto os_async_write(int i, bool with_lock = false) -> asyncio::task<> {
  log(tag('W', i) + ">>> OS started writing " + std::to_string(i), "94");
  if (!with_lock) return wait_for_write(i, async_sleep(write_units));
  return wait_for_locked_write();
}

// The scenario's `async def write_output_async`: a coroutine, so nothing in it runs until it is awaited
// or made a task.
auto write_output_async(int i, bool with_lock = false) -> asyncio::task<> {
  log(tag('O', i) + ">> Tell OS to write output " + std::to_string(i));
  co_await os_async_write(i, with_lock);
  log(tag('O', i) + "<< OS writing completed " + std::to_string(i));
}

// ---- the variants, in the scenario's order ---------------------------------------------------------

auto example1_await_immediately() -> asyncio::task<> {
  log_starting();
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    co_await write_output_async(i);
  }
  log("Done");
}

// task<T> is lazy, like a Python coroutine object: the write starts only when awaited.
auto example2_await_before_next_write() -> asyncio::task<> {
  log_starting();
  asyncio::task<> last_write;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    if (last_write.valid()) co_await last_write;
    last_write = write_output_async(i);
  }
  co_await last_write;
  log("Done");
}

// gather runs the writes concurrently, but they are created lazily and start only when gather is
// awaited, after all the CPU work: 6 units of work, then 1 of parallel writes.
auto example3_gather() -> asyncio::task<> {
  log_starting();
  std::vector<asyncio::task<>> writes;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    writes.push_back(write_output_async(i));
  }
  co_await asyncio::gather(std::move(writes));
  log("Done");
}

// The scenario's `async with asyncio.TaskGroup() as tg:` in the object form (straight-line code, nothing
// between the group's construction and join() can throw). tg.create_task starts each write eagerly,
// so the writes overlap the CPU work; only their completions wait for join().
auto example4_taskgroup_create_task_outside_loop() -> asyncio::task<> {
  log_starting();
  asyncio::task_group tg;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    tg.create_task(write_output_async(i));
  }
  co_await tg.join();
  log("Done");
}

// The same with one write at a time (write_lock). Write 0 takes the lock at once; writes 1 and 2
// queue behind it, and the lock changes hands only when the loop runs again, at join(): 6 units of
// work, write 0 already done, then writes 1 and 2 in turn: 8 units (the scenario's Python: 9).
auto example5_taskgroup_create_task_outside_loop_with_lock() -> asyncio::task<> {
  log_starting();
  asyncio::task_group tg;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    tg.create_task(write_output_async(i, true));
  }
  co_await tg.join();
  log("Done");
}

// create_task starts write_output_async(i) at once: it logs, starts the OS write and suspends,
// all before create_task returns. The write then overlaps the next CPU work.
auto example6_await_before_next_write_with_task() -> asyncio::task<> {
  log_starting();
  asyncio::task_handle<void> last_write;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    if (last_write) co_await last_write;
    last_write = asyncio::create_task(write_output_async(i));
  }
  co_await last_write;
  log("Done");
}

// The scenario's sleep(0) trick: not needed here (the task already started), and harmless.
auto example7_sleep_with_task() -> asyncio::task<> {
  log_starting();
  asyncio::task_handle<void> last_write;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    if (last_write) co_await last_write;
    last_write = asyncio::create_task(write_output_async(i));
    co_await asyncio::sleep(0s);
  }
  log("Awaiting last write");
  co_await last_write;
  log("Done");
}

// The scenario's `async for i in to_aiter(range(3))`: asyncio::to_async is the scenario's to_aiter (it
// yields each element, then sleep(0)), and `while (auto i = co_await gen.next())` is `async for`.
// The sleep(0) lets the loop run between rounds, so the lock passes from one write to the next
// during the CPU work instead of at join().
auto example9_task_with_async_for() -> asyncio::task<> {
  log_starting();
  asyncio::task_group tg;
  auto numbers = asyncio::to_async(std::views::iota(0, 3));
  while (auto i = co_await numbers.next()) {
    do_cpu_work(*i);
    tg.create_task(write_output_async(*i, true));
  }
  co_await tg.join();
  log("Done");
}

// The scenario's fix without tasks: a plain function that starts the OS write before returning the
// coroutine that waits for it.
auto wait_for_inner(int i, asyncio::task<> write) -> asyncio::task<> {
  co_await write;
  log(tag('O', i) + "<< OS writing completed " + std::to_string(i));
}
auto write_output_awaitable(int i, bool with_lock = false) -> asyncio::task<> {
  log(tag('O', i) + "<< Tell OS to write output " + std::to_string(i));
  auto write = os_async_write(i, with_lock);
  return wait_for_inner(i, std::move(write));
}

auto example2_await_before_next_write_fixed_function() -> asyncio::task<> {
  log_starting();
  asyncio::task<> last_write;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    if (last_write.valid()) co_await last_write;
    last_write = write_output_awaitable(i);
  }
  log("Awaiting last write");
  co_await last_write;
  log("Done");
}

// The scenario's js_like_await decorator is a coroutine type here: calling an eager_task<> function
// starts it on the running loop, up to its first suspension.
auto fixed_write_output_async(int i, bool with_lock = false) -> asyncio::eager_task<> {
  co_await write_output_async(i, with_lock);
}

auto example10_fixed_write_with_gather() -> asyncio::task<> {
  log_starting();
  asyncio::task_handle<void> last_write;
  for (int i = 0; i < 3; ++i) {
    do_cpu_work(i);
    if (last_write) co_await last_write;
    last_write = fixed_write_output_async(i);
  }
  log("Awaiting last write");
  co_await last_write;
  log("Done");
}

// ---- driver ------------------------------------------------------------------------------------

struct variant {
  const char* name;
  std::function<asyncio::task<>()> body;
  double python_total;  // the scenario's measured total, seconds at WORK_TIME=2, WRITE_TIME=1
};

const std::vector<variant> variants = {
    {"example1_await_immediately", example1_await_immediately, 9.10},
    {"example2_await_before_next_write", example2_await_before_next_write, 9.08},
    {"example3_gather", example3_gather, 7.07},
    {"example4_taskgroup_create_task_outside_loop", example4_taskgroup_create_task_outside_loop, 7.07},
    {"example5_taskgroup_create_task_outside_loop_with_lock", example5_taskgroup_create_task_outside_loop_with_lock,
     9.09},
    {"example6_await_before_next_write_with_task", example6_await_before_next_write_with_task, 9.10},
    {"example7_sleep_with_task", example7_sleep_with_task, 7.07},
    {"example9_task_with_async_for", example9_task_with_async_for, 8.09},
    {"example2_await_before_next_write_fixed_function", example2_await_before_next_write_fixed_function, 7.08},
    {"example10_fixed_write_with_gather", example10_fixed_write_with_gather, 7.08},
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: footgun [--scale S] [--variant NAME] [--summary] [--virtual-clock]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  bool summary = false;
  bool use_virtual_clock = false;
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (arg == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else if (arg == "--variant" && a + 1 < argc) only = argv[++a];
    else if (arg == "--summary") summary = true;
    else if (arg == "--virtual-clock") use_virtual_clock = true;
    else usage();
  }
  if (!(scale > 0)) usage();
  decimals = 2 + std::max(0, int(std::ceil(-std::log10(scale) - 1e-9)));
  color = isatty(STDOUT_FILENO) != 0;

  struct row {
    const variant* v;
    double total;
  };
  std::vector<row> rows;
  for (const variant& v : variants) {
    if (!only.empty() && std::string_view(v.name).find(only) == std::string_view::npos) continue;
    std::printf("\n# %s\n", v.name);
    asyncio::testing::virtual_clock clock;
    virtual_time = use_virtual_clock ? &clock : nullptr;
    asyncio::run(v.body(), {.clock = virtual_time});
    const double total = elapsed();
    std::printf("variant %s total %.*f\n", v.name, decimals, total);
    std::fflush(stdout);
    rows.push_back({&v, total});
  }
  if (rows.empty()) usage();

  if (summary) {
    std::printf("\n%-56s %14s %14s\n", "total in units (1 unit = 1 s in the seed)", "Python (seed)", "asyncio C++");
    for (const row& r : rows)
      std::printf("%-56s %14.2f %14.2f\n", r.v->name, r.v->python_total, r.total / scale);
    std::printf("(CPU work 2 units and a write 1 unit, 3 times: serial = 9 units, overlapped = 7)\n");
  }
  return 0;
}
