// The task tree (debug/task_tree.hpp): statuses, who awaits whom through every kind of wait, the
// text tree, wait cycles, and the dump on a signal.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::run_virtual;

asyncio::task<> sleeper(asyncio::duration d) { co_await asyncio::sleep(d); }
asyncio::task<> awaits(asyncio::task_handle<void> h) { co_await h; }
asyncio::task<> gathers_two() { co_await asyncio::gather(sleeper(1s), sleeper(2s)); }
asyncio::task<> waits_for_both(asyncio::task_handle<void> a, asyncio::task_handle<void> b) {
  std::vector both{a, b};  // named: g++ 12 mishandles an initializer-list temporary inside co_await
  co_await asyncio::wait(both, asyncio::return_when::all_completed);
}
asyncio::task<> two_children(asyncio::task_group& tg) {
  tg.create_task(sleeper(1s), "child-1");
  tg.create_task(sleeper(1s), "child-2");
  co_return;
}
asyncio::task<> groups_two() { co_await asyncio::with_task_group(two_children); }
asyncio::task<> shields(asyncio::task_handle<void> s) { co_await asyncio::shield(s); }

auto find(const std::vector<asyncio::task_info>& ts, const asyncio::any_task& t) -> const asyncio::task_info* {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const asyncio::task_info& i) { return i.task == t; });
  return it == ts.end() ? nullptr : &*it;
}
auto named(const std::vector<asyncio::task_info>& ts, const std::string& name) -> const asyncio::task_info* {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const asyncio::task_info& i) { return i.name == name; });
  return it == ts.end() ? nullptr : &*it;
}

asyncio::task<> statuses_and_awaiters() {
  auto me = asyncio::current_task();
  me.set_name("main");
  auto leaf = asyncio::create_task(sleeper(1s), "leaf");
  auto waiter = asyncio::create_task(awaits(leaf), "waiter");  // eager: already awaiting leaf
  auto later = asyncio::create_task(sleeper(1s), asyncio::task_options{.name = "later", .eager = false});

  auto ts = asyncio::task_snapshot();
  EXPECT_EQ(ts.size(), 4u);
  if (find(ts, me) == nullptr || find(ts, leaf) == nullptr || find(ts, waiter) == nullptr ||
      find(ts, later) == nullptr) {
    ADD_FAILURE() << "a task is missing from the snapshot";
    co_return;
  }
  EXPECT_EQ(find(ts, me)->status, asyncio::task_status::running);
  EXPECT_EQ(find(ts, leaf)->status, asyncio::task_status::suspended);
  EXPECT_EQ(find(ts, waiter)->status, asyncio::task_status::suspended);
  EXPECT_EQ(find(ts, later)->status, asyncio::task_status::ready);  // lazy: on the ready queue
  EXPECT_EQ(find(ts, leaf)->awaited_by.size(), 1u);
  EXPECT_TRUE(find(ts, leaf)->awaited_by.at(0) == waiter);
  EXPECT_TRUE(find(ts, waiter)->awaited_by.empty());
  EXPECT_EQ(find(ts, leaf)->name, "leaf");
  EXPECT_EQ(std::string(asyncio::to_string(asyncio::task_status::suspended)), "suspended");

  co_await waiter;  // now main awaits waiter, which awaits leaf
  auto after = asyncio::task_snapshot();  // finished tasks leave the snapshot
  EXPECT_EQ(find(after, leaf), nullptr);
  EXPECT_EQ(find(after, waiter), nullptr);
  EXPECT_NE(find(after, me), nullptr);
  co_await later;
}
TEST(TaskTree, SnapshotTellsStatusAndWhoAwaitsWhom) { run_virtual(statuses_and_awaiters()); }

asyncio::task<> every_kind_of_wait() {
  asyncio::current_task().set_name("main");
  auto g = asyncio::create_task(gathers_two(), "gatherer");
  auto a = asyncio::create_task(sleeper(1s), "a");
  auto b = asyncio::create_task(sleeper(1s), "b");
  auto waits = asyncio::create_task(waits_for_both(a, b), "waiter");
  auto grouped = asyncio::create_task(groups_two(), "grouper");
  auto shielded = asyncio::create_task(sleeper(1s), "shielded");
  auto shielder = asyncio::create_task(shields(shielded), "shielder");
  co_await asyncio::sleep(0s);  // let the group's body return: it then waits for its children

  auto ts = asyncio::task_snapshot();
  auto awaited_by = [&](const std::string& name) -> std::vector<std::string> {
    std::vector<std::string> names;
    if (const auto* t = named(ts, name)) {
      for (const auto& w : t->awaited_by) names.push_back(find(ts, w) ? find(ts, w)->name : "?");
    }
    return names;
  };
  // gather's children are unnamed: find them as the tasks the gatherer awaits.
  std::size_t gathered = 0;
  for (const auto& t : ts) {
    if (t.awaited_by.size() == 1 && t.awaited_by[0] == g) ++gathered;
  }
  EXPECT_EQ(gathered, 2u);
  EXPECT_EQ(awaited_by("a"), std::vector<std::string>{"waiter"});
  EXPECT_EQ(awaited_by("b"), std::vector<std::string>{"waiter"});
  EXPECT_EQ(awaited_by("child-1"), std::vector<std::string>{"grouper"});
  EXPECT_EQ(awaited_by("child-2"), std::vector<std::string>{"grouper"});
  EXPECT_EQ(awaited_by("shielded"), std::vector<std::string>{"shielder"});

  std::string tree = asyncio::format_task_tree();
  EXPECT_NE(tree.find("main [running]\n"), std::string::npos) << tree;
  EXPECT_NE(tree.find("grouper [suspended]\n├── child-1 [suspended]\n└── child-2 [suspended]\n"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("waiter [suspended]\n├── a [suspended]\n└── b [suspended]\n"), std::string::npos) << tree;
  EXPECT_NE(tree.find("shielder [suspended]\n└── shielded [suspended]\n"), std::string::npos) << tree;
  co_await asyncio::gather(g, waits, grouped, shielder);
}
TEST(TaskTree, GatherWaitTaskGroupAndShieldCountAsAwaiting) { run_virtual(every_kind_of_wait()); }

asyncio::task<> nested_and_shared() {
  asyncio::current_task().set_name("main");
  auto leaf = asyncio::create_task(sleeper(1s), "leaf");
  auto mid = asyncio::create_task(awaits(leaf), "mid");
  auto top = asyncio::create_task(awaits(mid), "top");
  auto other = asyncio::create_task(awaits(leaf), "other");  // leaf has two awaiters
  std::string tree = asyncio::format_task_tree();
  EXPECT_EQ(tree,
            "main [running]\n"
            "top [suspended]\n"
            "└── mid [suspended]\n"
            "    └── leaf [suspended]\n"
            "other [suspended]\n"
            "└── leaf (see above)\n")
      << tree;
  co_await asyncio::gather(top, other);
}
TEST(TaskTree, TextTreeNestsAndPrintsASharedTaskOnce) { run_virtual(nested_and_shared()); }

// Two tasks waiting for each other (through wait(), which cancels nothing, so that the cycle ends
// by its timeout instead of a cancellation going round it).
asyncio::task_handle<void> first_of_cycle;
asyncio::task_handle<void> second_of_cycle;
asyncio::task<> waits_for(asyncio::task_handle<void>* other) {
  co_await asyncio::sleep(0s);  // both handles are set by now
  std::vector one{*other};
  co_await asyncio::wait(one, 10s);
}
asyncio::task<> cycle() {
  asyncio::current_task().set_name("main");
  first_of_cycle = asyncio::create_task(waits_for(&second_of_cycle), "ping");
  second_of_cycle = asyncio::create_task(waits_for(&first_of_cycle), "pong");
  co_await asyncio::sleep(1s);
  std::string tree = asyncio::format_task_tree();
  EXPECT_EQ(tree,
            "main [running]\n"
            "wait cycle (these tasks await each other: a deadlock):\n"
            "ping [suspended]\n"
            "└── pong [suspended]\n"
            "    └── ping (wait cycle)\n")
      << tree;
  co_await asyncio::sleep(10s);  // wait() times out in both
  EXPECT_TRUE(first_of_cycle.done());
  EXPECT_TRUE(second_of_cycle.done());
  first_of_cycle = {};
  second_of_cycle = {};
}
TEST(TaskTree, WaitCyclesAreShownAsDeadlocks) { run_virtual(cycle()); }

asyncio::task<> debug_mode_shows_where_tasks_were_created() {
  asyncio::get_running_loop().set_debug(true);
  auto t = asyncio::create_task(sleeper(1s), "located");
  auto ts = asyncio::task_snapshot();
  const auto* info = named(ts, "located");
  EXPECT_TRUE(info != nullptr && info->created_at.line() > 0u);
  std::string tree = asyncio::format_task_tree();
  EXPECT_NE(tree.find("located [suspended] created at "), std::string::npos) << tree;
  EXPECT_NE(tree.find("task_tree_test.cpp:"), std::string::npos) << tree;
  co_await t;
  asyncio::get_running_loop().set_debug(false);
}
TEST(TaskTree, DebugModeShowsWhereEachTaskWasCreated) {
  run_virtual(debug_mode_shows_where_tasks_were_created());
}

asyncio::task<> dump_on_signal(std::FILE* out) {
  asyncio::current_task().set_name("main");
  auto t = asyncio::create_task(sleeper(1h), "sleeping");
  asyncio::dump_task_tree_on_signal(SIGUSR1, out);
  ::raise(SIGUSR1);
  // Bounded: the loop reads the signal on its next turn; allow up to 10 s of real time.
  for (int i = 0; i < 10000 && std::ftell(out) == 0; ++i) co_await asyncio::sleep(1ms);
  EXPECT_TRUE(asyncio::get_running_loop().remove_signal_handler(SIGUSR1));
  t.cancel();
}
TEST(TaskTree, SignalDumpsTheTree) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  // Real time here: a signal is real I/O for the loop (as in signal_test).
  asyncio::run(dump_on_signal(out));
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  EXPECT_NE(text.find("main [suspended]\n"), std::string::npos) << text;  // dumped from a callback
  EXPECT_NE(text.find("sleeping [suspended]\n"), std::string::npos) << text;
}

TEST(TaskTree, EmptyLoopSaysSo) {
  asyncio::event_loop loop;
  std::string text;
  loop.call_soon([&] {
    text = asyncio::format_task_tree();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(text, "(no unfinished tasks)\n");
}

}  // namespace
