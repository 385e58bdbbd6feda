// detail::frame_allocate: coroutine frames are recycled through the per-thread pool, so spawning and
// finishing many tasks stops taking memory from malloc after warm-up. Checked through the pool's
// own counter (frame_pool_reserved_bytes), not by replacing global operator new (which the clang
// TSan runtime forbids). Under ASan frames go to malloc (to catch use-after-free): skipped there.
#include <asyncio/asyncio.hpp>
#include <asyncio/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using namespace asyncio::detail;

TEST(FramePool, ReusesTheLastFreedBlockOfAClass) {
  if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "frame pool disabled (ASan)";
  void* a = frame_allocate(200);
  void* b = frame_allocate(200);
  EXPECT_NE(a, b);
  frame_deallocate(a, 200);
  void* c = frame_allocate(200);
  EXPECT_EQ(c, a);             // LIFO: the warm block comes back
  void* d = frame_allocate(195);  // same 16-byte class
  frame_deallocate(d, 195);
  EXPECT_EQ(frame_allocate(208), d);
  frame_deallocate(d, 208);
  frame_deallocate(b, 200);
  frame_deallocate(c, 200);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 16, 0u);
}

TEST(FramePool, ABigPoolGrowsInArenasAndStaysUsable) {
  // Past 16 MiB per thread, slabs come from pre-populated 2 MiB arenas: blocks must still be
  // distinct, aligned, writable and recycled. A fresh thread starts the per-thread count at zero.
  if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "frame pool disabled (ASan)";
  std::thread([] {
    constexpr std::size_t size = 128;
    constexpr std::size_t count = (24u << 20) / size;  // 24 MiB of frames: 8 MiB of them in arenas
    std::size_t before = frame_pool_reserved_bytes();
    std::vector<void*> blocks(count);
    for (auto& b : blocks) {
      b = frame_allocate(size);
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(b) % 16, 0u);
      std::memset(b, 0xab, size);
    }
    EXPECT_GE(frame_pool_reserved_bytes() - before, count * size);
    std::vector<void*> sorted = blocks;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i)
      ASSERT_GE(static_cast<char*>(sorted[i]) - static_cast<char*>(sorted[i - 1]), std::ptrdiff_t(size));
    for (void* b : blocks) frame_deallocate(b, size);
    std::size_t reserved = frame_pool_reserved_bytes();
    for (auto& b : blocks) b = frame_allocate(size);  // all from the free list now
    EXPECT_EQ(frame_pool_reserved_bytes(), reserved);
    for (void* b : blocks) frame_deallocate(b, size);
  }).join();
}

TEST(FramePool, LargeFramesBypassThePool) {
  std::size_t before = frame_pool_reserved_bytes();
  void* p = frame_allocate(frame_max_pooled + 1);
  frame_deallocate(p, frame_max_pooled + 1);
  EXPECT_EQ(frame_pool_reserved_bytes(), before);
}

auto trivial(int i) -> asyncio::task<int> { co_return i; }
auto spawn_many(int n) -> asyncio::task<long> {
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    auto h = asyncio::create_task(trivial(i));
    sum += co_await h;
  }
  co_return sum;
}
auto spawn_and_measure() -> asyncio::task<std::size_t> {
  (void)co_await spawn_many(1000);  // warm-up: the pool carves its slabs
  std::size_t before = frame_pool_reserved_bytes();
  (void)co_await spawn_many(200'000);
  co_return frame_pool_reserved_bytes() - before;
}

TEST(FramePool, SpawningAndFinishingTasksRecyclesFrames) {
  if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "frame pool disabled (ASan)";
  EXPECT_EQ(asyncio::run(spawn_and_measure()), 0u);
}

TEST(FramePool, AFrameMayBeFreedOnAnotherThread) {
  void* p = nullptr;
  std::thread t([&] { p = frame_allocate(64); });
  t.join();
  frame_deallocate(p, 64);  // joins this thread's free list
  if (ASYNCIO_FRAME_POOL) {
    EXPECT_EQ(frame_allocate(64), p);
    frame_deallocate(p, 64);
  }
}

}  // namespace
