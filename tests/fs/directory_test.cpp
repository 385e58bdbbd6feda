// fs::list_dir / scan_dir / walk: names sorted, entry types (d_type and symbolic links), walk order
// and follow_symlinks, errors with the path, and cancellation of a listing that has not started, on
// each route of the fs dispatch (see file_test.cpp; directories always go to the executor).
// test-label: threaded
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <support/fs_helpers.hpp>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace fs = asyncio::fs;
using route = asyncio::detail::fs_route;

namespace {

class DirectoryTest : public test_support::fs_route_test {
 protected:
  void SetUp() override {
    fs_route_test::SetUp();
    //  dir_/ a.txt  b/ (c.txt, d/ (e.txt))  fifo  link_to_b -> b  dangling -> nowhere  z.txt
    std::ofstream(dir_ / "a.txt") << "a";
    std::filesystem::create_directories(dir_ / "b" / "d");
    std::ofstream(dir_ / "b" / "c.txt") << "c";
    std::ofstream(dir_ / "b" / "d" / "e.txt") << "e";
    ::mkfifo((dir_ / "fifo").c_str(), 0600);
    std::filesystem::create_directory_symlink(dir_ / "b", dir_ / "link_to_b");
    std::filesystem::create_symlink(dir_ / "nowhere", dir_ / "dangling");
    std::ofstream(dir_ / "z.txt") << "z";
  }
};

TEST_P(DirectoryTest, ListDirIsSorted) {
  auto names = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::vector<std::string>> {
    co_return co_await fs::list_dir(d);
  }(dir_));
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "b", "dangling", "fifo", "link_to_b", "z.txt"}));
}

TEST_P(DirectoryTest, ScanDirGivesTypes) {
  auto entries = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::vector<fs::dir_entry>> {
    co_return co_await fs::scan_dir(d);
  }(dir_));
  ASSERT_EQ(entries.size(), 6U);
  EXPECT_EQ(entries[0].name, "a.txt");
  EXPECT_EQ(entries[0].path, dir_ / "a.txt");
  EXPECT_TRUE(entries[0].is_file());
  EXPECT_TRUE(entries[1].is_dir());
  EXPECT_FALSE(entries[1].is_symlink());
  EXPECT_TRUE(entries[2].is_symlink());  // dangling
  EXPECT_EQ(entries[2].target_type, fs::file_type::unknown);
  EXPECT_FALSE(entries[2].is_file());
  EXPECT_EQ(entries[3].type, fs::file_type::fifo);
  EXPECT_TRUE(entries[4].is_symlink());  // link_to_b
  EXPECT_TRUE(entries[4].is_dir());
  EXPECT_EQ(entries[5].type, fs::file_type::regular);
}

TEST_P(DirectoryTest, WalkIsTopDownInNameOrder) {
  auto levels = asyncio::run([](std::filesystem::path d, bool follow) -> asyncio::task<std::vector<fs::walk_entry>> {
    std::vector<fs::walk_entry> out;
    auto tree = fs::walk(d, follow);
    while (auto level = co_await tree.next()) out.push_back(std::move(*level));
    co_return out;
  }(dir_, false));
  ASSERT_EQ(levels.size(), 3U);
  EXPECT_EQ(levels[0].root, dir_);
  EXPECT_EQ(levels[0].dirs, (std::vector<std::string>{"b", "link_to_b"}));
  EXPECT_EQ(levels[0].files, (std::vector<std::string>{"a.txt", "dangling", "fifo", "z.txt"}));
  EXPECT_EQ(levels[1].root, dir_ / "b");
  EXPECT_EQ(levels[1].dirs, std::vector<std::string>{"d"});
  EXPECT_EQ(levels[1].files, std::vector<std::string>{"c.txt"});
  EXPECT_EQ(levels[2].root, dir_ / "b" / "d");
  EXPECT_TRUE(levels[2].dirs.empty());
  EXPECT_EQ(levels[2].files, std::vector<std::string>{"e.txt"});

  auto followed = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::vector<std::string>> {
    std::vector<std::string> roots;
    auto tree = fs::walk(d, true);
    while (auto level = co_await tree.next()) roots.push_back(level->root.lexically_relative(d).native());
    co_return roots;
  }(dir_));
  EXPECT_EQ(followed, (std::vector<std::string>{".", "b", "b/d", "link_to_b", "link_to_b/d"}));
}

TEST_P(DirectoryTest, ErrorsNameThePath) {
  auto messages = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::vector<std::string>> {
    std::vector<std::string> out;
    try {
      (void)co_await fs::list_dir(d / "missing");
    } catch (const asyncio::file_not_found_error& e) {
      out.emplace_back(e.what());
    }
    try {
      (void)co_await fs::scan_dir(d / "a.txt");
    } catch (const asyncio::not_a_directory_error& e) {
      out.emplace_back(e.what());
    }
    try {
      auto tree = fs::walk(d / "missing");
      (void)co_await tree.next();
    } catch (const asyncio::file_not_found_error& e) {
      out.emplace_back(e.what());
    }
    co_return out;
  }(dir_));
  EXPECT_EQ(messages, (std::vector<std::string>{
                          "list_dir '" + (dir_ / "missing").native() + "': No such file or directory",
                          "scan_dir '" + (dir_ / "a.txt").native() + "': Not a directory",
                          "scan_dir '" + (dir_ / "missing").native() + "': No such file or directory",
                      }));
}

// A listing queued behind a busy executor is withdrawn by a cancel: it never runs.
TEST_P(DirectoryTest, CancellingAQueuedListingSkipsIt) {
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    asyncio::thread_pool_options one;
    one.threads = 1;
    asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(one));
    std::latch release(1);
    auto blocker = asyncio::create_task(asyncio::to_thread([&release] { release.wait(); }));
    auto listing = asyncio::create_task(fs::list_dir(d));
    co_await asyncio::sleep(0s);
    listing.cancel();
    bool cancelled = false;
    try {
      (void)co_await listing;
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    release.count_down();
    co_await blocker;
    EXPECT_EQ((co_await fs::list_dir(d)).size(), 6U);
  }(dir_));
}

auto route_name(const ::testing::TestParamInfo<route>& info) -> std::string {
  return info.param == route::automatic ? "automatic" : info.param == route::ring ? "ring" : "threads";
}
INSTANTIATE_TEST_SUITE_P(Routes, DirectoryTest, ::testing::Values(route::automatic, route::threads, route::ring),
                         route_name);

}  // namespace
