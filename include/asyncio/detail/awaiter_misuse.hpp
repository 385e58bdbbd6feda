#pragma once
// awaiter_misuse: the diagnostic for using an awaiter in a way that would corrupt a primitive.
//
// The library's awaiters are movable until they are first awaited (core/awaitable.hpp), so that
// wait_for(ev.wait(), d) can carry one into a coroutine frame. Moving one after it was awaited would
// move a waiter node that a primitive still points to, and awaiting a moved-from one would wait on
// nothing (or put a moved-from item). Neither can be detected at compile time: both stop the
// program with a message instead of corrupting memory (the checks are one predictable branch).
#include <cstdio>
#include <cstdlib>

namespace asyncio::detail {

[[noreturn]] [[gnu::cold]] inline void awaiter_misuse(const char* what) noexcept {
  std::fprintf(stderr, "asyncio: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

inline constexpr const char* moved_after_await = "an awaiter was moved after it was awaited (it may be linked)";
inline constexpr const char* awaited_moved_from = "a moved-from awaiter was awaited (or an awaiter was awaited twice)";

}  // namespace asyncio::detail
