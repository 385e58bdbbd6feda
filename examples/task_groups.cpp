// examples/task_groups.cpp: structured concurrency (Python 3.11's asyncio.TaskGroup) and the other
// ways to run several tasks at once: gather(return_exceptions), as_completed, wait(FIRST_COMPLETED).
//
// Run: ./task_groups [--virtual-clock]
//   --virtual-clock  run on asyncio::testing::virtual_clock (instant, exact times)
// Shows:
//   1. with_task_group: `async with asyncio.TaskGroup() as tg:`; every child finishes before the
//      group does, results are read from the children's handles
//   2. one child fails: its siblings are cancelled (their cleanup runs), and the errors come out
//      together as one asyncio::exception_group, which we take apart exception by exception
//   3. nested groups: a failure in the outer group cancels the inner group and all its children
//   4. gather(return_exceptions, ...) for contrast: nobody is cancelled, each outcome is a result<T>
//   5. as_completed: results in the order they arrive
//   6. wait(..., return_when::first_completed): a race between two mirrors; wait cancels nothing,
//      so we cancel the loser ourselves
// Every line starts with the loop time since the start, in ms.
//
// The test runs it on the virtual clock and checks the printed times and outcomes (ctest-expect).
// ctest-args: --virtual-clock
// ctest-expect: t=30 ms +group: users=12 orders=7 stock=3
// ctest-expect: t=50 ms +(payment: cancelled, releasing the reservation|email: cancelled, rollback failed)
// ctest-expect: t=50 ms +(payment: cancelled, releasing the reservation|email: cancelled, rollback failed)
// ctest-expect: t=50 ms +checkout: exception_group 'unhandled errors in a task_group' with 2 exceptions:
// ctest-expect: - std::runtime_error: inventory: item 7 out of stock
// ctest-expect: - std::logic_error: email: could not roll back
// ctest-expect: t=70 ms +inner (a|b): cancelled
// ctest-expect: t=70 ms +inner (a|b): cancelled
// ctest-expect: t=70 ms +outer: exception_group with 1 exception: std::runtime_error: outer job failed
// ctest-expect: t=100 ms +gather: users=12
// ctest-expect: t=100 ms +gather: inventory failed: std::runtime_error: inventory: item 7 out of stock
// ctest-expect: t=100 ms +gather: stock=3
// ctest-expect: t=110 ms +as_completed: stock
// ctest-expect: t=120 ms +as_completed: users
// ctest-expect: t=130 ms +as_completed: orders
// ctest-expect: t=140 ms +wait: first completed: mirror-b, 1 still pending
// ctest-expect: t=140 ms +mirror-a: cancelled by us
// ctest-expect: done
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

using namespace std::chrono_literals;

namespace {

asyncio::time_point start;

// Prints `t=<ms since start> ms  <what>`.
void log(const std::string& what) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(asyncio::get_running_loop().time() - start);
  std::printf("t=%lld ms  %s\n", static_cast<long long>(ms.count()), what.c_str());
  std::fflush(stdout);
}

// What a user does with each exception of a group: rethrow it and catch what it may be.
auto describe(const std::exception_ptr& e) -> std::string {
  try {
    std::rethrow_exception(e);
  } catch (const asyncio::cancelled_error&) {
    return "asyncio::cancelled_error";
  } catch (const std::runtime_error& x) {
    return std::string("std::runtime_error: ") + x.what();
  } catch (const std::logic_error& x) {
    return std::string("std::logic_error: ") + x.what();
  } catch (const std::exception& x) {
    return std::string("std::exception: ") + x.what();
  }
}

// Stands for a query that answers `value` after `latency`.
auto query(std::string name, int value, asyncio::duration latency) -> asyncio::task<int> {
  co_await asyncio::sleep(latency);
  (void)name;
  co_return value;
}

auto failing(std::string message, asyncio::duration after) -> asyncio::task<int> {
  co_await asyncio::sleep(after);
  throw std::runtime_error(message);
}

// 1. Everything succeeds: the group waits for all three children.
auto dashboard() -> asyncio::task<> {
  asyncio::child_handle<int> users, orders, stock;
  // The lambda and tg live in with_task_group's frame (core/task_group.hpp):
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-*coroutine*)
  co_await asyncio::with_task_group([&](asyncio::task_group& tg) -> asyncio::task<> {
    users = tg.create_task(query("users", 12, 10ms));
    orders = tg.create_task(query("orders", 7, 30ms));
    stock = tg.create_task(query("stock", 3, 20ms));
    co_return;
  });  // all three are done here
  log("group: users=" + std::to_string(users.result()) + " orders=" + std::to_string(orders.result()) +
      " stock=" + std::to_string(stock.result()));
}

// 2. One child fails: the others are cancelled, and every error comes out in one exception_group.
auto charge_payment() -> asyncio::task<> {
  try {
    co_await asyncio::sleep(100ms);
  } catch (const asyncio::cancelled_error&) {
    log("payment: cancelled, releasing the reservation");  // cleanup runs, then the cancel goes on
    throw;
  }
}

auto send_email() -> asyncio::task<> {
  try {
    co_await asyncio::sleep(100ms);
  } catch (const asyncio::cancelled_error&) {
    // A cleanup that fails: its exception joins the group too (as in Python).
    log("email: cancelled, rollback failed");
    throw std::logic_error("email: could not roll back");
  }
}

auto checkout() -> asyncio::task<> {
  try {
    // Tg lives in with_task_group's frame (core/task_group.hpp):
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
    co_await asyncio::with_task_group([](asyncio::task_group& tg) -> asyncio::task<> {
      tg.create_task(charge_payment());
      tg.create_task(failing("inventory: item 7 out of stock", 20ms));
      tg.create_task(send_email());
      co_return;
    });
  } catch (const asyncio::exception_group& group) {
    // Python 3.11: `except* RuntimeError as eg:`; here we walk group.exceptions().
    log("checkout: exception_group '" + group.message() + "' with " + std::to_string(group.exceptions().size()) +
        " exceptions:");
    for (const auto& e : group.exceptions()) std::printf("    - %s\n", describe(e).c_str());
  }
}

// 3. Nested groups: the outer job fails, which cancels the inner group, which cancels its children.
auto inner_child(std::string name) -> asyncio::task<> {
  try {
    co_await asyncio::sleep(1s);
  } catch (const asyncio::cancelled_error&) {
    log(name + ": cancelled");
    throw;
  }
}

auto nested() -> asyncio::task<> {
  try {
    // Outer lives in with_task_group's frame (core/task_group.hpp):
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
    co_await asyncio::with_task_group([](asyncio::task_group& outer) -> asyncio::task<> {
      // Inner lives in with_task_group's frame (core/task_group.hpp):
      // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
      outer.create_task(asyncio::with_task_group([](asyncio::task_group& inner) -> asyncio::task<> {
        inner.create_task(inner_child("inner a"));
        inner.create_task(inner_child("inner b"));
        co_return;
      }));
      outer.create_task(failing("outer job failed", 20ms));
      co_return;
    });
  } catch (const asyncio::exception_group& group) {
    // The inner group ended cancelled (not failed), so only the real failure is in the group.
    log("outer: exception_group with " + std::to_string(group.exceptions().size()) +
        " exception: " + describe(group.exceptions().front()));
  }
}

// 4. gather(return_exceptions): every child runs to its end, each outcome is a result<int>.
auto gather_everything() -> asyncio::task<> {
  auto [users, inventory, stock] = co_await asyncio::gather(asyncio::return_exceptions,
                                                            query("users", 12, 10ms),
                                                            failing("inventory: item 7 out of stock", 20ms),
                                                            query("stock", 3, 30ms));
  log("gather: users=" + std::to_string(*users));
  if (!inventory) log("gather: inventory failed: " + describe(inventory.exception()));
  log("gather: stock=" + std::to_string(*stock));
}

// 5. as_completed: take the results as they come.
auto answer_after(std::string name, asyncio::duration latency) -> asyncio::task<std::string> {
  co_await asyncio::sleep(latency);
  co_return name;
}

auto first_come_first_served() -> asyncio::task<> {
  std::vector<asyncio::task_handle<std::string>> tasks;
  const std::vector<std::pair<std::string, asyncio::duration>> sources = {
      {"orders", 30ms}, {"users", 20ms}, {"stock", 10ms}};
  for (const auto& [name, latency] : sources) tasks.push_back(asyncio::create_task(answer_after(name, latency)));
  for (auto next : asyncio::as_completed(tasks)) {
    std::string name = co_await next;
    log("as_completed: " + name);
  }
}

// 6. wait(first_completed): the first mirror to answer wins; the other is ours to cancel.
auto mirror(std::string name, asyncio::duration latency) -> asyncio::task<std::string> {
  try {
    co_await asyncio::sleep(latency);
  } catch (const asyncio::cancelled_error&) {
    log(name + ": cancelled by us");
    throw;
  }
  co_return name;
}

auto race() -> asyncio::task<> {
  std::vector<asyncio::task_handle<std::string>> mirrors;
  mirrors.push_back(asyncio::create_task(mirror("mirror-a", 50ms)));
  mirrors.push_back(asyncio::create_task(mirror("mirror-b", 10ms)));
  auto [done, pending] = co_await asyncio::wait(mirrors, asyncio::return_when::first_completed);
  log("wait: first completed: " + done.front().result() + ", " + std::to_string(pending.size()) +
      " still pending");
  for (auto& t : pending) t.cancel();
  // wait() cancels nothing and leaves the tasks to us: await the cancelled ones, so that none
  // outlives this function.
  auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, std::move(pending));
  (void)outcomes;
}

auto amain() -> asyncio::task<int> {
  start = asyncio::get_running_loop().time();
  co_await dashboard();                 // 0 -> 30 ms
  co_await checkout();                  // -> 50 ms
  co_await nested();                    // -> 70 ms
  co_await gather_everything();         // -> 100 ms
  co_await first_come_first_served();   // -> 130 ms
  co_await race();                      // -> 140 ms
  log("done");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool use_virtual_clock = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--virtual-clock") {
      use_virtual_clock = true;
    } else {
      std::fprintf(stderr, "usage: task_groups [--virtual-clock]\n");
      return 2;
    }
  }
  asyncio::testing::virtual_clock clock;
  return asyncio::run(amain(), {.clock = use_virtual_clock ? &clock : nullptr});
}
