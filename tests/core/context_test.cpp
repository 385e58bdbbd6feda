// context_var: Python contextvars semantics for tasks (copy on create_task, isolation, tokens).
#include <asyncio/asyncio.hpp>
#include <asyncio/core/context.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

asyncio::context_var<std::string> request_id("request_id", "-");
asyncio::context_var<int> depth("depth");

auto read_after_await() -> asyncio::task<std::string> {
  co_await asyncio::sleep(1ms);
  co_return request_id.get();
}

auto child(std::vector<std::string>* log) -> asyncio::task<void> {
  log->push_back("child sees " + request_id.get());
  co_await asyncio::sleep(1ms);
  request_id.set("child");  // does not leak into the parent
  log->push_back("child set " + request_id.get());
  co_await asyncio::sleep(1ms);
  log->push_back("child still " + request_id.get());
}

auto parent() -> asyncio::task<void> {
  std::vector<std::string> log;
  EXPECT_EQ(request_id.get(), "-");  // the default
  EXPECT_THROW((void)depth.get(), asyncio::lookup_error);
  EXPECT_EQ(depth.get(7), 7);
  auto token = request_id.set("p1");
  EXPECT_EQ(token.old_value(), nullptr);
  EXPECT_EQ(co_await read_after_await(), "p1");  // awaited coroutines share the task's context
  auto c = asyncio::create_task(child(&log));   // snapshot: sees p1
  request_id.set("p2");                          // after the snapshot: the child keeps p1
  co_await c;
  EXPECT_EQ(request_id.get(), "p2");
  EXPECT_EQ(log, (std::vector<std::string>{"child sees p1", "child set child", "child still child"}));
  request_id.reset(token);
  EXPECT_EQ(request_id.get(), "-");
  EXPECT_THROW(request_id.reset(token), asyncio::invalid_state_error);  // single use
}
TEST(Context, ChildGetsASnapshotAndCannotChangeTheParent) { run_virtual(parent()); }

auto untouched_child(std::vector<std::string>* log) -> asyncio::task<void> {
  co_await asyncio::sleep(1ms);
  log->push_back(request_id.get());
}

auto no_context_cost() -> asyncio::task<void> {
  // A task that never set anything gives its children no context (nothing allocated) and they
  // see the defaults.
  std::vector<std::string> log;
  auto c = asyncio::create_task(untouched_child(&log));
  co_await c;
  EXPECT_EQ(log, (std::vector<std::string>{"-"}));
}
TEST(Context, DefaultsWithoutAnySet) { run_virtual(no_context_cost()); }

auto grandchild(std::vector<int>* seen) -> asyncio::task<void> {
  seen->push_back(depth.get());
  if (depth.get() < 3) {
    depth.set(depth.get() + 1);
    auto t = asyncio::create_task(grandchild(seen));
    co_await t;
  }
}

auto nested() -> asyncio::task<void> {
  std::vector<int> seen;
  depth.set(0);
  auto t = asyncio::create_task(grandchild(&seen));
  co_await t;
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(depth.get(), 0);
}
TEST(Context, PropagatesThroughGenerations) { run_virtual(nested()); }

auto wrong_task_token(asyncio::context_token<int>* token, bool* threw) -> asyncio::task<void> {
  try {
    depth.reset(*token);
  } catch (const std::invalid_argument&) {  // Python's ValueError
    *threw = true;
  }
  co_return;
}

auto token_rules() -> asyncio::task<void> {
  auto token = depth.set(1);
  auto token2 = depth.set(2);
  EXPECT_EQ(*token2.old_value(), 1);
  bool threw = false;
  auto t = asyncio::create_task(wrong_task_token(&token, &threw));
  co_await t;
  EXPECT_TRUE(threw);
  depth.reset(token2);
  EXPECT_EQ(depth.get(), 1);
  depth.reset(token);
  EXPECT_THROW((void)depth.get(), asyncio::lookup_error);
}
TEST(Context, TokensAreSingleUseAndTaskBound) { run_virtual(token_rules()); }

auto sees_thread_value() -> asyncio::task<std::string> { co_return request_id.get(); }

TEST(Context, RunCopiesTheThreadContext) {
  auto token = request_id.set("outside");
  EXPECT_EQ(run_virtual(sees_thread_value()), "outside");
  request_id.reset(token);
  EXPECT_EQ(request_id.get(), "-");
}

auto gen_reads() -> asyncio::generator<std::string> {
  co_yield request_id.get();
  co_await asyncio::sleep(1ms);
  co_yield request_id.get();
}
auto generator_shares_context() -> asyncio::task<void> {
  request_id.set("consumer");
  auto gen = gen_reads();
  std::vector<std::string> got;
  while (auto v = co_await gen.next()) got.push_back(*v);
  EXPECT_EQ(got, (std::vector<std::string>{"consumer", "consumer"}));
}
TEST(Context, GeneratorsRunInTheConsumersContext) { run_virtual(generator_shares_context()); }

}  // namespace
