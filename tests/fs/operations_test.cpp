// fs::rename / remove / rmdir / remove_all / mkdir: what each does, its errors (with the paths in
// the message), and mkdir's parents / exist_ok, on each route of the fs dispatch (see file_test.cpp).
// test-label: threaded
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <support/fs_helpers.hpp>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = asyncio::fs;
using route = asyncio::detail::fs_route;

namespace {

class OperationsTest : public test_support::fs_route_test {};

/// Runs `body` and returns the message of the os_error it raises ("" if none), checking its type.
template <class E, class T>
auto error_of(T body) -> asyncio::task<std::string> {
  try {
    co_await std::move(body);
  } catch (const E& e) {
    co_return e.what();
  } catch (const std::exception& e) {
    co_return std::string("unexpected: ") + e.what();
  }
  co_return "";
}

TEST_P(OperationsTest, RenameMovesAndReplaces) {
  std::ofstream(dir_ / "a") << "A";
  std::ofstream(dir_ / "b") << "B";
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    co_await fs::rename(d / "a", d / "c");
    EXPECT_FALSE(co_await fs::exists(d / "a"));
    co_await fs::rename(d / "c", d / "b");  // replaces b
    EXPECT_EQ(co_await fs::read_file(d / "b"), "A");
    std::string message = co_await error_of<asyncio::file_not_found_error>(fs::rename(d / "a", d / "z"));
    EXPECT_EQ(message, "rename '" + (d / "a").native() + "' -> '" + (d / "z").native() + "': No such file or directory");
  }(dir_));
}

TEST_P(OperationsTest, RemoveAndRmdir) {
  std::ofstream(dir_ / "f") << "x";
  std::filesystem::create_directories(dir_ / "d" / "inner");
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    co_await fs::remove(d / "f");
    EXPECT_FALSE(co_await fs::exists(d / "f"));
    EXPECT_EQ(co_await error_of<asyncio::file_not_found_error>(fs::remove(d / "f")),
              "remove '" + (d / "f").native() + "': No such file or directory");
    EXPECT_EQ(co_await error_of<asyncio::is_a_directory_error>(fs::remove(d / "d")),
              "remove '" + (d / "d").native() + "': Is a directory");
    std::string not_empty = co_await error_of<asyncio::os_error>(fs::rmdir(d / "d"));
    EXPECT_EQ(not_empty, "rmdir '" + (d / "d").native() + "': Directory not empty");
    co_await fs::rmdir(d / "d" / "inner");
    co_await fs::rmdir(d / "d");
    EXPECT_FALSE(co_await fs::exists(d / "d"));
  }(dir_));
}

TEST_P(OperationsTest, RemoveAllRemovesATreeWithoutFollowingLinks) {
  std::filesystem::create_directories(dir_ / "t" / "a" / "b");
  std::ofstream(dir_ / "t" / "a" / "b" / "f1") << "1";
  std::ofstream(dir_ / "t" / "f2") << "2";
  std::filesystem::create_directory(dir_ / "outside");
  std::ofstream(dir_ / "outside" / "keep") << "keep";
  std::filesystem::create_directory_symlink(dir_ / "outside", dir_ / "t" / "link");
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    EXPECT_EQ(co_await fs::remove_all(d / "t"), 6U);  // t, a, b, f1, f2, link
    EXPECT_FALSE(co_await fs::exists(d / "t"));
    EXPECT_TRUE(co_await fs::exists(d / "outside" / "keep"));
    EXPECT_EQ(co_await fs::remove_all(d / "t"), 0U);  // missing: nothing to do
    std::ofstream(d / "single") << "s";
    EXPECT_EQ(co_await fs::remove_all(d / "single"), 1U);
  }(dir_));
}

TEST_P(OperationsTest, MkdirPlainParentsAndExistOk) {
  mode_t old = ::umask(022);
  asyncio::run([](std::filesystem::path d) -> asyncio::task<void> {
    co_await fs::mkdir(d / "one");
    EXPECT_TRUE(co_await fs::is_dir(d / "one"));
    EXPECT_EQ((co_await fs::stat(d / "one")).permissions(), 0755U);
    EXPECT_EQ(co_await error_of<asyncio::file_exists_error>(fs::mkdir(d / "one")),
              "mkdir '" + (d / "one").native() + "': File exists");
    co_await fs::mkdir(d / "one", fs::exist_ok);
    EXPECT_EQ(co_await error_of<asyncio::file_not_found_error>(fs::mkdir(d / "x" / "y")),
              "mkdir '" + (d / "x" / "y").native() + "': No such file or directory");
    co_await fs::mkdir(d / "x" / "y" / "z", fs::parents, 0700);
    EXPECT_TRUE(co_await fs::is_dir(d / "x" / "y" / "z"));
    EXPECT_EQ((co_await fs::stat(d / "x")).permissions(), 0700U);
    EXPECT_EQ((co_await fs::stat(d / "x" / "y" / "z")).permissions(), 0700U);
    EXPECT_NE(co_await error_of<asyncio::file_exists_error>(fs::mkdir(d / "x" / "y", fs::parents)), "");
    co_await fs::mkdir(d / "x" / "y", fs::parents | fs::exist_ok);
    co_await fs::mkdir(d / "p" / "q/", fs::parents);  // a trailing slash names the same directory
    EXPECT_TRUE(co_await fs::is_dir(d / "p" / "q"));
    // exist_ok accepts only a directory.
    std::ofstream(d / "file") << "f";
    EXPECT_EQ(co_await error_of<asyncio::file_exists_error>(fs::mkdir(d / "file", fs::exist_ok)),
              "mkdir '" + (d / "file").native() + "': File exists");
    EXPECT_NE(co_await error_of<asyncio::not_a_directory_error>(fs::mkdir(d / "file" / "sub", fs::parents)), "");
  }(dir_));
  ::umask(old);
}

auto route_name(const ::testing::TestParamInfo<route>& info) -> std::string {
  return info.param == route::automatic ? "automatic" : info.param == route::ring ? "ring" : "threads";
}
INSTANTIATE_TEST_SUITE_P(Routes, OperationsTest, ::testing::Values(route::automatic, route::threads, route::ring),
                         route_name);

}  // namespace
