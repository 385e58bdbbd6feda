#pragma once
// The fixture of the fs suites: each test runs once per route of the fs layer (automatic, the
// thread pool, the ring; src/fs/dispatch.hpp) in a fresh directory under /tmp, removed after it.
#include <asyncio/fs.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace test_support {

class fs_route_test : public ::testing::TestWithParam<asyncio::detail::fs_route> {
 protected:
  void SetUp() override {
    char name[] = "/tmp/asyncio-fs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    asyncio::detail::set_fs_route(GetParam());
  }
  void TearDown() override {
    asyncio::detail::set_fs_route(asyncio::detail::fs_route::automatic);
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

}  // namespace test_support
