#pragma once
// ASYNCIO_DEBUG_CHECK(condition): an internal invariant that is checked in debug builds only.
//
// With ASYNCIO_DEBUG_CHECKS set to 1 (the default when NDEBUG is not defined, i.e. Debug and the
// sanitizer presets) a false condition prints it with its file and line and aborts. With 0 (the
// default under NDEBUG: Release, RelWithDebInfo, the benchmarks) the macro expands to nothing and
// the condition is not evaluated, so the checks cost nothing where speed is measured. Define
// ASYNCIO_DEBUG_CHECKS=1 to keep them in an optimised build; the library and the code using it
// must agree on the setting (inline functions use it).
//
// For invariants whose check would sit on a hot path, such as which member of a union is the live
// one (detail/completion.hpp, detail/task_base.hpp). Misuse by callers that a release build must
// also catch is reported by detail/awaiter_misuse.hpp instead.
#ifndef ASYNCIO_DEBUG_CHECKS
#ifdef NDEBUG
#define ASYNCIO_DEBUG_CHECKS 0
#else
#define ASYNCIO_DEBUG_CHECKS 1
#endif
#endif

#if ASYNCIO_DEBUG_CHECKS
#include <cstdio>
#include <cstdlib>

namespace asyncio::detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void debug_check_failed(const char* condition, const char* file,
                                                                      int line) noexcept {
  std::fprintf(stderr, "asyncio: internal check failed: %s (%s:%d)\n", condition, file, line);
  std::abort();
}
}  // namespace asyncio::detail

#define ASYNCIO_DEBUG_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::asyncio::detail::debug_check_failed(#condition, __FILE__, __LINE__))
#else
#define ASYNCIO_DEBUG_CHECK(condition) static_cast<void>(0)
#endif
