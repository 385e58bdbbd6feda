// examples/signals.cpp: Unix signals on the event loop (Python's loop.add_signal_handler) and
// Ctrl-C in asyncio::run (Python 3.11's Runner: SIGINT cancels the main task, its cleanup runs,
// then KeyboardInterrupt).
//
//   signals
//
// Try it: run `./signals`, then from another terminal `kill -USR1 <pid>` (reload), `kill -TERM <pid>`
// (graceful stop of the first part); then press Ctrl-C (the second part: main is cancelled, its
// cleanup runs, and the process ends as killed by SIGINT, status 130, as a Python program does).
// The ctest (examples/signals.check.cmake) does the same from outside: it sends each signal once
// the previous one was handled, and expects the status 130.
// Shows:
//   1. loop.add_signal_handler(SIGUSR1, fn): fn runs on the loop (a plain callback, not inside the
//      signal handler), so it may touch loop objects: here it bumps a counter and sets an event
//   2. SIGTERM as "shut down gracefully": its handler sets the same asyncio::event, which main
//      awaits; the worker is cancelled and cleans up; remove_signal_handler restores the previous
//      action
//   3. Ctrl-C: asyncio::run cancels the main task; a catch block and destructors run; run() throws
//      asyncio::keyboard_interrupt, which main() catches
#include <chrono>
#include <csignal>
#include <cstdio>

#include <unistd.h>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

void say(const char* text) {
  std::printf("%s\n", text);
  std::fflush(stdout);
}

auto worker() -> asyncio::task<> {
  say("worker: running");
  try {
    for (;;) co_await asyncio::sleep(10ms);  // a service doing its periodic work
  } catch (const asyncio::cancelled_error&) {
    say("worker: cancelled, flushing its state");
    throw;
  }
}

// Part 1: SIGUSR1 and SIGTERM handled on the loop.
auto serve() -> asyncio::task<int> {
  auto& loop = asyncio::get_running_loop();
  int reloads = 0;
  bool stopping = false;
  asyncio::event wake;  // set by both handlers: main then looks at what changed
  // The callbacks run on the loop thread, between two task steps: they may use loop objects.
  // (They capture locals of this frame by reference; the handlers are removed before it ends.)
  loop.add_signal_handler(SIGUSR1, [&] {
    ++reloads;
    std::printf("SIGUSR1 handler: reload #%d\n", reloads);
    wake.set();
  });
  loop.add_signal_handler(SIGTERM, [&] {
    say("SIGTERM handler: shutting down");
    stopping = true;
    wake.set();
  });
  std::printf("pid %d: SIGUSR1 reloads, SIGTERM stops the worker\n", static_cast<int>(::getpid()));
  std::fflush(stdout);

  auto service = asyncio::create_task(worker());
  int seen = 0;
  while (!stopping) {
    co_await wake.wait();  // until `kill -USR1 <pid>` or `kill -TERM <pid>`
    wake.clear();
    if (reloads != seen) {
      seen = reloads;
      std::printf("main: reload #%d seen\n", seen);
      std::fflush(stdout);
    }
  }

  service.cancel();
  try {
    co_await service;
  } catch (const asyncio::cancelled_error&) {
  }
  bool removed = loop.remove_signal_handler(SIGUSR1) && loop.remove_signal_handler(SIGTERM);
  std::printf("main: worker stopped, handlers removed: %s\n", removed ? "yes" : "no");
  co_return 0;
}

// Part 2: Ctrl-C. Nothing here handles SIGINT: asyncio::run does.
struct connection {
  ~connection() { say("main: connection closed (destructor)"); }
};

auto wait_for_ctrl_c() -> asyncio::task<int> {
  connection conn;
  say("part 2: press Ctrl-C");
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    say("main: cancelled by Ctrl-C, cleaning up");
    throw;  // let it end cancelled: run() then throws keyboard_interrupt
  }
  say("main: no Ctrl-C came");
  co_return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr, "usage: %s (then send it SIGUSR1, SIGTERM, SIGINT)\n", argv[0]);
    return 2;
  }
  if (asyncio::run(serve()) != 0) return 1;

  try {
    return asyncio::run(wait_for_ctrl_c());
  } catch (const asyncio::keyboard_interrupt& e) {
    std::printf("asyncio::run threw keyboard_interrupt: %s\n", e.what());
    std::fflush(stdout);
    asyncio::keyboard_interrupt::exit_by_signal();  // status 130, as Python at exit
  }
}
