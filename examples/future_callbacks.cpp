// examples/future_callbacks.cpp: the Future/Task/loop calls of Python's asyncio that bridge callback
// code and coroutines, one after another, each printing what it did.
// Run: ./future_callbacks
// Shows: loop.create_future, add_done_callback taking the future and remove_done_callback,
// sleep(delay, result), gather and shield of futures, a task factory (lazy_task_factory and an
// observing one), a call_soon_threadsafe handle cancelled from another thread, and wrap_future
// of a concurrent_future computed by a loop on another thread.
// ctest-expect: removed 1 callback
// ctest-expect: callback: result 7
// ctest-expect: gather: 7 and 9
// ctest-expect: factory saw 1 task\(s\); started inside create_task: no
// ctest-expect: cancelled from another thread: yes
// ctest-expect: wrap_future: 144
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

auto square_later(int x) -> asyncio::task<int> {
  co_await asyncio::sleep(10ms);
  co_return x * x;
}

auto amain() -> asyncio::task<> {
  asyncio::event_loop& loop = asyncio::get_running_loop();

  // A future made by the loop, completed by a timer callback; a done callback that receives it.
  asyncio::future<int> f = loop.create_future<int>();
  f.add_done_callback([](const asyncio::future<int>& done) { std::printf("callback: result %d\n", done.result()); });
  asyncio::callback_handle unwanted = f.add_done_callback([] { std::printf("never printed\n"); });
  std::printf("removed %zu callback\n", f.remove_done_callback(unwanted));
  loop.call_later(20ms, [f]() mutable { f.set_result(7); });

  // sleep(delay, result), then gather and shield of futures.
  std::string word = co_await asyncio::sleep(5ms, std::string("slept"));
  std::printf("sleep returned \"%s\"\n", word.c_str());
  auto [a, b] = co_await asyncio::gather(f, square_later(3));
  std::printf("gather: %d and %d\n", a, b);
  int again = co_await asyncio::shield(f);
  std::printf("shield: %d\n", again);

  // A task factory sees every task created on the loop; lazy_task_factory schedules them all.
  int created = 0;
  loop.set_task_factory([&created](asyncio::event_loop& l, asyncio::task_creation& c) {
    ++created;
    asyncio::lazy_task_factory(l, c);
  });
  bool started = false;
  auto t = asyncio::create_task([](bool* s) -> asyncio::task<> {
    *s = true;
    co_return;
  }(&started));
  std::printf("factory saw %d task(s); started inside create_task: %s\n", created, started ? "yes" : "no");
  co_await t;
  loop.set_task_factory({});

  // call_soon_threadsafe returns a handle that any thread may cancel.
  asyncio::threadsafe_handle h;
  std::thread([&h, &loop] { h = loop.call_soon_threadsafe([] { std::printf("never printed\n"); }); }).join();
  std::thread([&h] { std::printf("cancelled from another thread: %s\n", h.cancel() ? "yes" : "no"); }).join();

  // wrap_future: a coroutine run on another loop's thread, awaited here as an asyncio future.
  asyncio::runtime_options one_loop;
  one_loop.loops = 1;
  one_loop.executor_threads = 1;
  asyncio::runtime rt(one_loop);
  asyncio::future<int> remote = asyncio::wrap_future(rt.spawn(0, square_later(12)));
  int r = co_await remote;
  std::printf("wrap_future: %d\n", r);
}

}  // namespace

int main() {
  asyncio::run(amain());
  return 0;
}
