// fs::stat / lstat / exists / is_file / is_dir: the fields, symbolic links, missing paths and the
// path in error messages, on each route of the fs dispatch (see file_test.cpp).
// test-label: threaded
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <support/fs_helpers.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = asyncio::fs;
using route = asyncio::detail::fs_route;

namespace {

class StatTest : public test_support::fs_route_test {
 protected:
  void SetUp() override {
    fs_route_test::SetUp();
    std::ofstream(dir_ / "file") << "12345";
    std::filesystem::create_directory(dir_ / "sub");
    std::filesystem::create_symlink(dir_ / "file", dir_ / "link");
    std::filesystem::create_symlink(dir_ / "nowhere", dir_ / "dangling");
  }
};

TEST_P(StatTest, FieldsOfAFileAndADirectory) {
  ::chmod((dir_ / "file").c_str(), 0640);
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    fs::stat_result f = co_await fs::stat(d / "file");
    EXPECT_EQ(f.type, fs::file_type::regular);
    EXPECT_TRUE(f.is_file());
    EXPECT_FALSE(f.is_dir());
    EXPECT_EQ(f.size, 5U);
    EXPECT_EQ(f.permissions(), 0640U);
    EXPECT_TRUE(S_ISREG(f.mode));
    EXPECT_EQ(f.uid, ::getuid());
    EXPECT_EQ(f.nlink, 1U);
    struct stat ref {};
    ::stat((d / "file").c_str(), &ref);
    EXPECT_EQ(f.ino, ref.st_ino);
    EXPECT_EQ(f.dev, ref.st_dev);
    auto mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(f.mtime.time_since_epoch()).count();
    EXPECT_EQ(mtime_ns, static_cast<long long>(ref.st_mtim.tv_sec) * 1000000000LL + ref.st_mtim.tv_nsec);
    EXPECT_GT(f.ctime.time_since_epoch().count(), 0);
    EXPECT_GT(f.atime.time_since_epoch().count(), 0);
    fs::stat_result s = co_await fs::stat(d / "sub");
    EXPECT_TRUE(s.is_dir());
    EXPECT_EQ(s.type, fs::file_type::directory);
  }(dir_));
}

TEST_P(StatTest, SymbolicLinks) {
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    EXPECT_TRUE((co_await fs::stat(d / "link")).is_file());   // followed
    EXPECT_TRUE((co_await fs::lstat(d / "link")).is_symlink());
    EXPECT_TRUE((co_await fs::stat(d / "link", false)).is_symlink());
    EXPECT_TRUE((co_await fs::lstat(d / "dangling")).is_symlink());
    EXPECT_THROW(co_await fs::stat(d / "dangling"), asyncio::file_not_found_error);
  }(dir_));
}

TEST_P(StatTest, MissingPathsRaiseWithThePath) {
  auto message = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::string> {
    try {
      co_await fs::stat(d / "missing");
    } catch (const asyncio::file_not_found_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }(dir_));
  EXPECT_EQ(message, "stat '" + (dir_ / "missing").native() + "': No such file or directory");
  auto not_dir = asyncio::run([](std::filesystem::path d) -> asyncio::task<std::string> {
    try {
      co_await fs::lstat(d / "file" / "below");
    } catch (const asyncio::not_a_directory_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }(dir_));
  EXPECT_EQ(not_dir, "lstat '" + (dir_ / "file" / "below").native() + "': Not a directory");
}

TEST_P(StatTest, ExistsIsFileIsDir) {
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    EXPECT_TRUE(co_await fs::exists(d / "file"));
    EXPECT_TRUE(co_await fs::exists(d / "sub"));
    EXPECT_TRUE(co_await fs::exists(d / "link"));
    EXPECT_FALSE(co_await fs::exists(d / "dangling"));
    EXPECT_FALSE(co_await fs::exists(d / "missing"));
    EXPECT_FALSE(co_await fs::exists(d / "file" / "below"));  // ENOTDIR counts as missing
    EXPECT_TRUE(co_await fs::is_file(d / "file"));
    EXPECT_TRUE(co_await fs::is_file(d / "link"));
    EXPECT_FALSE(co_await fs::is_file(d / "sub"));
    EXPECT_FALSE(co_await fs::is_file(d / "missing"));
    EXPECT_TRUE(co_await fs::is_dir(d / "sub"));
    EXPECT_FALSE(co_await fs::is_dir(d / "file"));
    EXPECT_FALSE(co_await fs::is_dir(d / "missing"));
  }(dir_));
}

TEST_P(StatTest, PermissionErrorsAreNotMissing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may search any directory";
  std::filesystem::create_directory(dir_ / "closed");
  std::ofstream(dir_ / "closed" / "x") << "x";
  ::chmod((dir_ / "closed").c_str(), 0);
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    EXPECT_THROW(co_await fs::exists(d / "closed" / "x"), asyncio::permission_error);
  }(dir_));
  ::chmod((dir_ / "closed").c_str(), 0700);
}

auto route_name(const ::testing::TestParamInfo<route>& info) -> std::string {
  return info.param == route::automatic ? "automatic" : info.param == route::ring ? "ring" : "threads";
}
INSTANTIATE_TEST_SUITE_P(Routes, StatTest, ::testing::Values(route::automatic, route::threads, route::ring), route_name);

}  // namespace
