// fs::temporary_directory / temporary_file: fresh names with the prefix, modes 0700 / 0600, "w+",
// removal by remove() or by the destructor, release(), on each route of the fs dispatch (see
// file_test.cpp).
// test-label: threaded
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <support/fs_helpers.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace fs = asyncio::fs;
using route = asyncio::detail::fs_route;

namespace {

class TemporaryTest : public test_support::fs_route_test {};

TEST_P(TemporaryTest, DirectoryIsFreshPrivateAndRemoved) {
  std::filesystem::path kept;
  asyncio::run([](std::filesystem::path d, std::filesystem::path* kept) -> asyncio::task<void> {
    std::filesystem::path first;
    {
      auto t = co_await fs::temporary_directory("run-", d);
      first = t.path();
      EXPECT_EQ(first.parent_path(), d);
      EXPECT_EQ(first.filename().native().rfind("run-", 0), 0U);
      EXPECT_EQ(first.filename().native().size(), 12U);
      EXPECT_EQ((co_await fs::stat(first)).permissions(), 0700U);
      co_await fs::mkdir(first / "a" / "b", fs::parents);
      co_await fs::write_file(first / "a" / "b" / "f", "x");
      auto other = co_await fs::temporary_directory("run-", d);
      EXPECT_NE(other.path(), first);
      co_await other.remove();
      EXPECT_TRUE(other.path().empty());
    }  // the destructor removes the tree
    EXPECT_FALSE(co_await fs::exists(first));
    auto released = co_await fs::temporary_directory("keep-", d);
    *kept = released.release();
    auto in_tmp = co_await fs::temporary_directory();  // the system's directory
    EXPECT_TRUE(co_await fs::is_dir(in_tmp.path()));
    co_await in_tmp.remove();
  }(dir_, &kept));
  EXPECT_TRUE(std::filesystem::is_directory(kept));
}

TEST_P(TemporaryTest, FileIsFreshPrivateReadWriteAndRemoved) {
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    std::filesystem::path name;
    {
      auto t = co_await fs::temporary_file("data-", d);
      name = t.path();
      EXPECT_EQ(name.parent_path(), d);
      EXPECT_EQ(name.filename().native().rfind("data-", 0), 0U);
      EXPECT_EQ((co_await fs::stat(name)).permissions(), 0600U);
      co_await t.write("scratch");
      co_await t.seek(0);
      EXPECT_EQ(co_await t.read(), "scratch");
      co_await t.write(" more");  // buffered, then dropped with the file: no report
    }
    EXPECT_FALSE(co_await fs::exists(name));
    {
      auto t = co_await fs::temporary_file("data-", d);
      name = t.path();
      co_await t.write("x");
      co_await t.close();
      EXPECT_EQ(co_await fs::read_file(name), "x");  // closing does not remove it
    }
    EXPECT_FALSE(co_await fs::exists(name));
    auto t = co_await fs::temporary_file("data-", d);
    name = t.path();
    co_await t.remove();
    EXPECT_TRUE(t.closed());
    EXPECT_FALSE(co_await fs::exists(name));
    auto kept = co_await fs::temporary_file("data-", d);
    name = kept.release();
    co_await kept.close();
    EXPECT_TRUE(co_await fs::exists(name));
  }(dir_));
}

auto route_name(const ::testing::TestParamInfo<route>& info) -> std::string {
  return info.param == route::automatic ? "automatic" : info.param == route::ring ? "ring" : "threads";
}
INSTANTIATE_TEST_SUITE_P(Routes, TemporaryTest, ::testing::Values(route::automatic, route::threads, route::ring),
                         route_name);

}  // namespace
