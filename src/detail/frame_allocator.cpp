#include <asyncio/detail/frame_allocator.hpp>

#include <cstdint>
#include <mutex>
#include <vector>

namespace asyncio::detail {
namespace {

// Slabs are carved into blocks of one class at a time. A global registry keeps every slab
// reachable, so leak checkers stay quiet and frames may migrate between threads freely.
constexpr std::size_t slab_bytes = 64 * 1024;

struct slab_registry {
  std::mutex mutex;
  std::vector<void*> slabs;
  ~slab_registry() {
    // Runs at process exit only; frames still alive at that point belong to leaked tasks.
    for (void* s : slabs) std::free(s);
  }
};

auto registry() -> slab_registry& {
  static auto* r = new slab_registry;  // never destroyed: threads may free frames during exit
  return *r;
}

}  // namespace

auto this_thread_frame_pool() noexcept -> frame_pool& {
  thread_local frame_pool pool;
  return pool;
}

auto frame_refill(frame_pool& pool, std::size_t cls) -> void* {
  std::size_t block = cls * frame_granule;
  void* slab = std::aligned_alloc(frame_granule, slab_bytes);
  if (!slab) throw std::bad_alloc();
  {
    slab_registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.slabs.push_back(slab);
  }
  auto* base = static_cast<std::byte*>(slab);
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
  return r.slabs.size() * slab_bytes;
}

}  // namespace asyncio::detail
