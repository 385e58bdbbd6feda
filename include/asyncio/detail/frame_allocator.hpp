#pragma once
// Coroutine frames come from a per-thread pool of size classes (16-byte steps up to 1 KiB), because
// g++ never elides frame allocations (docs/toolchain.md §3) and malloc costs a header and a lock-free but
// slow path per frame. Freed frames go onto the freeing thread's list, so a frame created on one
// thread and destroyed on another simply migrates; slabs are never returned to the OS.
//
// Thread safety: each thread uses its own lists; no locking on the fast path.
#include <cstddef>
#include <cstdlib>
#include <new>

// Under AddressSanitizer the pool would hide frame use-after-free, so frames go to malloc there.
#if defined(__SANITIZE_ADDRESS__)
#define ASYNCIO_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCIO_FRAME_POOL 0
#endif
#endif
#ifndef ASYNCIO_FRAME_POOL
#define ASYNCIO_FRAME_POOL 1
#endif

namespace asyncio::detail {

inline constexpr std::size_t frame_granule = 16;
inline constexpr std::size_t frame_max_pooled = 1024;
inline constexpr std::size_t frame_class_count = frame_max_pooled / frame_granule;

struct free_block {
  free_block* next;
};

struct frame_pool {
  free_block* free[frame_class_count + 1] = {};
};

/// The calling thread's pool. Not inline so that no coroutine body caches a thread_local address
/// across a suspension (docs/toolchain.md §5.3).
[[gnu::noinline]] auto this_thread_frame_pool() noexcept -> frame_pool&;
/// Carves a new block of class `cls` from a fresh slab (slow path).
[[gnu::noinline]] auto frame_refill(frame_pool& pool, std::size_t cls) -> void*;
/// Bytes of slabs the pool has taken from malloc so far, all threads together (never decreases).
/// Cold: for benchmarks and tests that check the size of frames, which sizeof cannot tell.
auto frame_pool_reserved_bytes() noexcept -> std::size_t;

inline auto frame_class(std::size_t size) noexcept -> std::size_t {
  return (size + frame_granule - 1) / frame_granule;
}

/// Allocates a coroutine frame of `size` bytes (16-byte aligned).
inline auto frame_allocate(std::size_t size) -> void* {
  if (!ASYNCIO_FRAME_POOL || size > frame_max_pooled) [[unlikely]] {
    if (void* p = std::malloc(size)) return p;
    throw std::bad_alloc();
  }
  frame_pool& pool = this_thread_frame_pool();
  std::size_t cls = frame_class(size);
  if (free_block* b = pool.free[cls]) [[likely]] {
    pool.free[cls] = b->next;
    return b;
  }
  return frame_refill(pool, cls);
}

/// Returns a frame allocated by frame_allocate with the same `size`.
inline void frame_deallocate(void* p, std::size_t size) noexcept {
  if (!ASYNCIO_FRAME_POOL || size > frame_max_pooled) [[unlikely]] {
    std::free(p);
    return;
  }
  frame_pool& pool = this_thread_frame_pool();
  std::size_t cls = frame_class(size);
  auto* b = static_cast<free_block*>(p);
  b->next = pool.free[cls];
  pool.free[cls] = b;
}

}  // namespace asyncio::detail
