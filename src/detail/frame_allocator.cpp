#include <asyncio/detail/frame_allocator.hpp>

#include <cstdint>
#include <mutex>
#include <vector>

#include <sys/mman.h>

namespace asyncio::detail {
namespace {

// Slabs are carved into blocks of one class at a time. A global registry keeps every slab
// reachable, so leak checkers stay quiet and frames may migrate between threads freely.
constexpr std::size_t slab_bytes = 64 * 1024;

// Page faults, not the allocator, dominate the cost of a large pool: in this VM the first touch of
// a 4 KiB page costs about 2 us, i.e. 40-50 ns per 96-byte task frame (W1 spent 55 % of its time in
// the kernel). Once a thread's slabs pass arena_after bytes, new slabs are carved from 2 MiB arenas
// populated by one madvise(MADV_POPULATE_WRITE) call instead of 512 separate faults (W1: 75 -> 52
// ns/task). Transparent huge pages would save more (34 ns) but stall for compaction now and then
// (200 ns/task runs), a latency trap for servers, so they are not requested. Small pools stay on
// plain malloc; a big pool holds at most one partly used arena, under 1/8 of what it already uses.
// (W1 is the spawn benchmark, docs/benchmarks.md §2.1; the cost of fresh pages: docs/toolchain.md §9.)
constexpr std::size_t arena_bytes = 2 * 1024 * 1024;
constexpr std::size_t arena_after = 16 * 1024 * 1024;

struct slab_registry {
  std::mutex mutex;
  std::vector<void*> slabs;   // from malloc
  std::size_t arena_count = 0;  // populated arenas (never unmapped: frames may live until exit)
};

auto registry() -> slab_registry& {
  static auto* r = new slab_registry;  // never destroyed: threads may free frames during exit
  return *r;
}

struct thread_slabs {
  std::size_t reserved = 0;       // bytes of slabs this thread carved
  std::byte* arena_next = nullptr;  // the unused rest of the current arena
  std::byte* arena_end = nullptr;
};

auto this_thread_slabs() noexcept -> thread_slabs& {
  thread_local thread_slabs slabs;
  return slabs;
}

// A populated arena of arena_bytes; null if mmap fails. (Populating may fail on kernels before
// 5.14: the pages then fault in one by one as before.)
auto map_arena() noexcept -> std::byte* {
  void* p = ::mmap(nullptr, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  ::madvise(p, arena_bytes, MADV_POPULATE_WRITE);
  return static_cast<std::byte*>(p);
}

auto new_slab() -> void* {
  thread_slabs& mine = this_thread_slabs();
  mine.reserved += slab_bytes;
  if (mine.reserved > arena_after) {
    if (mine.arena_next == mine.arena_end) {
      if (std::byte* arena = map_arena()) {
        mine.arena_next = arena;
        mine.arena_end = arena + arena_bytes;
        slab_registry& r = registry();
        std::lock_guard lock(r.mutex);
        ++r.arena_count;
      }
    }
    if (mine.arena_next != mine.arena_end) {
      void* slab = mine.arena_next;
      mine.arena_next += slab_bytes;
      return slab;
    }
  }
  void* slab = std::aligned_alloc(frame_granule, slab_bytes);
  if (!slab) throw std::bad_alloc();
  slab_registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.slabs.push_back(slab);
  return slab;
}

}  // namespace

auto this_thread_frame_pool() noexcept -> frame_pool& {
  thread_local frame_pool pool;
  return pool;
}

auto frame_refill(frame_pool& pool, std::size_t cls) -> void* {
  std::size_t block = cls * frame_granule;
  auto* base = static_cast<std::byte*>(new_slab());
  std::size_t count = slab_bytes / block;
  // Thread blocks 1..count-1 onto the free list; hand out block 0.
  for (std::size_t i = count - 1; i >= 1; --i) {
    auto* b = reinterpret_cast<free_block*>(base + i * block);
    b->next = pool.free[cls];
    pool.free[cls] = b;
  }
  return base;
}

auto frame_pool_reserved_bytes() noexcept -> std::size_t {
  slab_registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.slabs.size() * slab_bytes + r.arena_count * arena_bytes;
}

}  // namespace asyncio::detail
