// examples/signals.cpp: Unix signals on the event loop (Python's loop.add_signal_handler) and
// Ctrl-C in asyncio::run (Python 3.11's Runner: SIGINT cancels the main task, its cleanup runs,
// then KeyboardInterrupt).
//
//   signals [--self-test]
//
// Try it: run `./signals`, then from another terminal `kill -USR1 <pid>` (reload), `kill -TERM <pid>`
// (graceful stop of the first part); then press Ctrl-C (the second part: main is cancelled, its
// cleanup runs, and the process ends as killed by SIGINT, status 130, as a Python program does).
// --self-test sends those signals itself with kill(getpid(), ...), each after the previous one
// was handled, and exits 0 (the ctest run). Every wait is bounded by asyncio::timeout.
// Shows:
//   1. loop.add_signal_handler(SIGUSR1, fn): fn runs on the loop (a plain callback, not inside the
//      signal handler), so it may touch loop objects: here it bumps a counter and sets an event
//   2. SIGTERM as "shut down gracefully": its handler sets an asyncio::event that main awaits; the
//      worker is cancelled and cleans up; remove_signal_handler restores the previous action
//   3. Ctrl-C: asyncio::run cancels the main task; a catch block and destructors run; run() throws
//      asyncio::keyboard_interrupt, which main() catches
// ctest-args: --self-test
// ctest-timeout: 30
// ctest-expect: pid [0-9]+: SIGUSR1 reloads, SIGTERM stops the worker
// ctest-expect: worker: running
// ctest-expect: SIGUSR1 handler: reload #1
// ctest-expect: main: reload #1 seen
// ctest-expect: SIGUSR1 handler: reload #2
// ctest-expect: main: reload #2 seen
// ctest-expect: SIGTERM handler: shutting down
// ctest-expect: worker: cancelled, flushing its state
// ctest-expect: main: worker stopped, handlers removed: yes
// ctest-expect: part 2: press Ctrl-C
// ctest-expect: main: cancelled by Ctrl-C, cleaning up
// ctest-expect: main: connection closed \(destructor\)
// ctest-expect: asyncio::run threw keyboard_interrupt: keyboard interrupt \(SIGINT\)
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <signal.h>
#include <unistd.h>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

namespace {

bool self_test = false;

void say(const char* text) {
  std::printf("%s\n", text);
  std::fflush(stdout);
}

// Sends `sig` to this process, as `kill -SIG <pid>` from a shell would.
void send_to_self(int sig) { ::kill(::getpid(), sig); }

// timeout() takes a coroutine (task<T>); event::wait() is a lighter awaiter, so wrap it in one.
auto wait_set(asyncio::event* e) -> asyncio::task<> { co_await e->wait(); }

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
  asyncio::event reloaded;
  asyncio::event stop;
  // The callbacks run on the loop thread, between two task steps: they may use loop objects.
  // (They capture locals of this frame by reference; the handlers are removed before it ends.)
  loop.add_signal_handler(SIGUSR1, [&] {
    ++reloads;
    std::printf("SIGUSR1 handler: reload #%d\n", reloads);
    reloaded.set();
  });
  loop.add_signal_handler(SIGTERM, [&] {
    say("SIGTERM handler: shutting down");
    stop.set();
  });
  std::printf("pid %d: SIGUSR1 reloads, SIGTERM stops the worker\n", static_cast<int>(::getpid()));
  std::fflush(stdout);

  auto service = asyncio::create_task(worker());
  if (self_test) {
    for (int i = 1; i <= 2; ++i) {
      reloaded.clear();
      send_to_self(SIGUSR1);
      co_await asyncio::timeout(5s, wait_set(&reloaded));  // each reload is handled before the next signal
      std::printf("main: reload #%d seen\n", reloads);
    }
    send_to_self(SIGTERM);
    co_await asyncio::timeout(5s, wait_set(&stop));
  } else {
    co_await stop.wait();  // until `kill -TERM <pid>`
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
  if (self_test) {
    // Ctrl-C in 20 ms (a timer callback, so that main is already waiting below).
    asyncio::get_running_loop().call_later(20ms, [] { send_to_self(SIGINT); });
  }
  const asyncio::duration patience = self_test ? asyncio::duration(10s) : asyncio::duration(1h);
  try {
    co_await asyncio::sleep(patience);  // the self-test never waits this long
  } catch (const asyncio::cancelled_error&) {
    say("main: cancelled by Ctrl-C, cleaning up");
    throw;  // let it end cancelled: run() then throws keyboard_interrupt
  }
  say("main: no Ctrl-C came");
  co_return 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test")) {
      self_test = true;
    } else {
      std::fprintf(stderr, "usage: signals [--self-test]\n");
      return 2;
    }
  }
  if (self_test) {
    // A shell starts background jobs with SIGINT ignored, and asyncio::run leaves an ignored SIGINT
    // alone (the user chose that). The self-test sends itself SIGINT, so it wants the default.
    std::signal(SIGINT, SIG_DFL);
    sigset_t ours;
    sigemptyset(&ours);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&ours, sig);
    sigprocmask(SIG_UNBLOCK, &ours, nullptr);
  }

  if (asyncio::run(serve()) != 0) return 1;

  try {
    return asyncio::run(wait_for_ctrl_c());
  } catch (const asyncio::keyboard_interrupt& e) {
    std::printf("asyncio::run threw keyboard_interrupt: %s\n", e.what());
    std::fflush(stdout);
    if (self_test) return 0;
    asyncio::keyboard_interrupt::exit_by_signal();  // status 130, as Python at exit
  }
}
