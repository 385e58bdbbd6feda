// examples/task_tree.cpp: what every task is doing, as Python 3.14's `python -m asyncio pstree`
// shows it, on demand and on a signal.
// Run: ./task_tree        (or run a program that called dump_task_tree_on_signal, and `kill -USR1`)
// Shows: task_snapshot, format_task_tree / print_task_tree, dump_task_tree_on_signal; a program
// that seems stuck, and the tree that shows which leaf holds up whom.
//
// ctest-expect: == the tree while "parse" waits for the lock main holds
// ctest-expect: main .running.
// ctest-expect: indexer .suspended.
// ctest-expect: crawler .suspended.
// ctest-expect:     [^a-z ]+ fetch-a .suspended.
// ctest-expect:     [^a-z ]+ fetch-b .suspended.
// ctest-expect:     [^a-z ]+ parse .suspended.
// ctest-expect: == the same tree, printed by the SIGUSR1 handler
// ctest-expect: main .suspended.
// ctest-expect: crawler .suspended.
// ctest-expect: == 6 unfinished tasks, 3 awaited by crawler
// ctest-expect: done: indexed 3 pages
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

// Borrows: crawl()'s task group outlives this child:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
asyncio::task<> fetch(std::chrono::milliseconds delay, int& pages) {
  co_await asyncio::sleep(delay);  // stands for a download
  ++pages;
}

// Borrows: crawl()'s task group outlives this child:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
asyncio::task<> parse(asyncio::lock& index_lock, int& pages) {
  auto guard = co_await index_lock.acquire();  // held by main until it has printed the tree
  ++pages;
}

// Three children in a task group: the crawler waits for all of them when the body returns.
// Borrows: amain() awaits the crawler before the lock goes:
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
asyncio::task<int> crawl(asyncio::lock& index_lock) {
  int pages = 0;
  // The lambda and tg live in with_task_group's frame (core/task_group.hpp):
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-*coroutine*)
  co_await asyncio::with_task_group([&](asyncio::task_group& tg) -> asyncio::task<> {
    tg.create_task(fetch(20ms, pages), "fetch-a");
    tg.create_task(fetch(30ms, pages), "fetch-b");
    tg.create_task(parse(index_lock, pages), "parse");
    co_return;
  });
  co_return pages;
}

asyncio::task<int> index(asyncio::task_handle<int> crawler) { co_return co_await crawler; }

asyncio::task<int> amain() {
  asyncio::current_task().set_name("main");
  asyncio::lock index_lock;
  auto guard = co_await index_lock.acquire();
  auto crawler = asyncio::create_task(crawl(index_lock), "crawler");
  auto indexer = asyncio::create_task(index(crawler), "indexer");
  co_await asyncio::sleep(5ms);  // let everyone reach their first wait

  std::puts("== the tree while \"parse\" waits for the lock main holds");
  asyncio::print_task_tree(stdout);

  // The same from a signal handler: a long-running server would install this once at start-up.
  asyncio::dump_task_tree_on_signal(SIGUSR1, stdout);
  std::puts("== the same tree, printed by the SIGUSR1 handler");
  std::fflush(stdout);
  std::raise(SIGUSR1);
  co_await asyncio::sleep(5ms);  // the loop runs the handler on its next turn
  asyncio::get_running_loop().remove_signal_handler(SIGUSR1);

  // The rows behind the text, for tools of your own.
  auto tasks = asyncio::task_snapshot();
  int under_crawler = 0;
  for (const auto& t : tasks) {
    for (const auto& awaiter : t.awaited_by) under_crawler += awaiter == crawler ? 1 : 0;
  }
  std::printf("== %zu unfinished tasks, %d awaited by crawler\n", tasks.size(), under_crawler);

  guard.release();  // parse can go on now
  int pages = co_await indexer;
  std::printf("done: indexed %d pages\n", pages);
  co_return 0;
}

int main() { return asyncio::run(amain()); }
