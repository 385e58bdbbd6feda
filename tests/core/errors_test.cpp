// errors.hpp: the hierarchy mirrors Python's, and describe() names exceptions the way people read them
// (demangled type names), since the loop's exception handler prints it for unretrieved exceptions.
#include <asyncio/errors.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <type_traits>

TEST(Errors, DescribeUsesReadableTypeNames) {
  EXPECT_EQ(asyncio::describe(std::make_exception_ptr(std::runtime_error("boom"))), "std::runtime_error: boom");
  EXPECT_EQ(asyncio::describe(std::make_exception_ptr(
                asyncio::connection_reset_error(std::make_error_code(std::errc::connection_reset), "read"))),
            "asyncio::connection_reset_error: read: " + std::make_error_code(std::errc::connection_reset).message());
  EXPECT_EQ(asyncio::describe(std::make_exception_ptr(asyncio::cancelled_error("stop"))), "cancelled_error: stop");
  EXPECT_EQ(asyncio::describe(nullptr), "no exception");
}

TEST(Errors, DescribeListsTheExceptionsOfAGroup) {
  asyncio::exception_group group("two failures", {std::make_exception_ptr(std::logic_error("a")),
                                                  std::make_exception_ptr(asyncio::timeout_error())});
  EXPECT_EQ(asyncio::describe(std::make_exception_ptr(group)),
            "exception_group: two failures (2 sub-exceptions)\n  - std::logic_error: a\n"
            "  - asyncio::timeout_error: timed out: " +
                std::make_error_code(std::errc::timed_out).message());
}

TEST(Errors, HierarchyMirrorsPython) {
  // TimeoutError and ConnectionResetError are OSErrors; CancelledError is not an Exception.
  EXPECT_THROW(throw asyncio::timeout_error(), asyncio::os_error);
  EXPECT_THROW(asyncio::throw_os_error(ECONNRESET, "recv"), asyncio::connection_error);
  EXPECT_THROW(asyncio::throw_os_error(ETIMEDOUT), asyncio::timeout_error);
  EXPECT_FALSE((std::is_base_of_v<std::exception, asyncio::cancelled_error>));
}
