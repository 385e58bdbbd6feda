#pragma once
// Children for the combinator tests (gather, wait, wait_for, shield, timeout, task_group), which run
// on the virtual clock (run_virtual): each finishes, fails or takes its time being cancelled after a
// given delay, so that a test can say when things happen and check the loop's time.
#include <asyncio/core.hpp>
#include <asyncio/time.hpp>

#include <stdexcept>

namespace test_support {

/// The running loop's time (the virtual clock's under run_virtual).
inline auto now() -> asyncio::time_point { return asyncio::get_running_loop().time(); }

/// Returns `v` after `d`; sets *finished first if given (to see whether it ran to the end).
inline auto value_after(asyncio::duration d, int v, bool* finished = nullptr) -> asyncio::task<int> {
  co_await asyncio::sleep(d);
  if (finished) *finished = true;
  co_return v;
}

/// Throws std::runtime_error("fail") after `d`.
inline auto fail_after(asyncio::duration d) -> asyncio::task<int> {
  co_await asyncio::sleep(d);
  throw std::runtime_error("fail");
}

/// Sleeps for `d` and returns 0, unless cancelled: then it goes on for `cleanup` more (still inside
/// the child, so whoever cancelled it and awaits it waits for that), sets *cleaned_up if given, and
/// raises cancelled_error again.
inline auto slow_to_cancel(asyncio::duration d, asyncio::duration cleanup, bool* cleaned_up = nullptr)
    -> asyncio::task<int> {
  bool cancelled = false;
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  if (cancelled) {
    co_await asyncio::sleep(cleanup);
    if (cleaned_up) *cleaned_up = true;
    throw asyncio::cancelled_error();
  }
  co_return 0;
}

}  // namespace test_support
