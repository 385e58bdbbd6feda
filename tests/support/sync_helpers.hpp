#pragma once
// Small helpers for the sync tests: yield to the loop, run a test body under the virtual clock.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <chrono>

namespace test_support {

/// Lets every ready task run `n` times (sleep(0s) puts us at the back of the ready queue).
inline auto yield(int n = 1) -> asyncio::task<void> {
  for (int i = 0; i < n; ++i) co_await asyncio::sleep(std::chrono::seconds(0));
}

/// Runs `main` on a fresh loop driven by an autojumping virtual clock.
using asyncio::testing::run_virtual;

}  // namespace test_support
