#include <asyncio/detail/frame_allocator.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include <sys/mman.h>

namespace asyncio::detail {
namespace {

// Slabs are carved into blocks of one class at a time. A global registry keeps every slab
// reachable, so leak checkers stay quiet and frames may migrate between threads freely.
constexpr std::size_t slab_bytes = 64 * 1024;

// Page faults, not the allocator, dominate the cost of a large pool: in this VM the first touch of
// a 4 KiB page costs 1.2-3 us, i.e. 15-40 ns per 48-96-byte block (W1 spent half its time in the
// kernel). Once a thread's slabs pass arena_after bytes, new slabs are carved from 2 MiB arenas,
// aligned to 2 MiB and advised MADV_HUGEPAGE, then populated by one MADV_POPULATE_WRITE: the kernel
// backs such an arena with one transparent huge page when it has a free 2 MiB block, which costs
// ~0.3 us per 4 KiB instead of 1.5-2.3 us (measured side by side after harness.py's pre-fault,
// session 4), and saves 511 TLB entries. Where no free 2 MiB block exists the kernel may compact
// memory first (system setting `defrag`) or falls back to 4 KiB pages; a process that must never
// risk that stall sets ASYNCIO_HUGE_PAGES=0 in its environment. Small pools (under arena_after)
// stay on plain malloc; a big pool holds at most one partly used arena, under 1/8 of its size.
constexpr std::size_t arena_bytes = 2 * 1024 * 1024;
constexpr std::size_t arena_after = 16 * 1024 * 1024;

struct slab_registry {
  std::mutex mutex;
  std::vector<void*> slabs;   // from malloc
  std::size_t arena_count = 0;  // populated arenas (never unmapped: frames may live until exit)
  ~slab_registry() {
    // Runs at process exit only; frames still alive at that point belong to leaked tasks.
    for (void* s : slabs) std::free(s);
  }
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

// False if the environment says ASYNCIO_HUGE_PAGES=0 (read once).
auto huge_pages_wanted() noexcept -> bool {
  static const bool wanted = [] {
    const char* v = std::getenv("ASYNCIO_HUGE_PAGES");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return wanted;
}

// A populated arena of arena_bytes, aligned to arena_bytes (a huge page can back only an aligned
// range); null if mmap fails. Advice that the kernel rejects (no THP support; populating before
// Linux 5.14) leaves 4 KiB pages faulting in one by one, which is only slower.
auto map_arena() noexcept -> std::byte* {
  void* raw = ::mmap(nullptr, 2 * arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  auto start = reinterpret_cast<std::uintptr_t>(raw);
  std::uintptr_t aligned = (start + arena_bytes - 1) & ~(std::uintptr_t{arena_bytes} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  if (std::uintptr_t tail = start + arena_bytes - aligned) ::munmap(reinterpret_cast<void*>(aligned + arena_bytes), tail);
  void* p = reinterpret_cast<void*>(aligned);
  if (huge_pages_wanted()) ::madvise(p, arena_bytes, MADV_HUGEPAGE);
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
