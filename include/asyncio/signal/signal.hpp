#pragma once
// Unix signals on the event loop (Python's loop.add_signal_handler) and Ctrl-C in asyncio::run.
//
// The calls themselves are members of event_loop (declared in <asyncio/core/event_loop.hpp>, defined
// in src/core/loop_signals.cpp: signal delivery is part of the loop, as in Python):
//
//   loop.add_signal_handler(SIGTERM, [&] { server.close(); });   // runs on the loop, via call_soon
//   loop.remove_signal_handler(SIGTERM);                         // the previous action comes back
//
// How it works and what it means for threads: a real sigaction handler (SA_RESTART) records the
// arrival and writes to an eventfd that the loop watches (the self-pipe trick, as CPython and libuv),
// rather than signalfd. signalfd requires the signal to be blocked in every thread of the process,
// including threads started before the handler was added, and the blocked mask leaks into every
// child process; one forgotten thread and Ctrl-C kills the process anyway. With a handler the
// signal may be delivered to any thread and still reaches the loop, nothing needs blocking, and exec'd
// children start with default actions. Consequences:
//   * do not block a handled signal in the loop's thread and all others (it would never arrive);
//   * a signal number belongs to one loop at a time (adding it on a second loop throws);
//   * arrivals of one number before the loop runs the callback are coalesced into one call;
//   * blocking system calls in other threads are restarted (SA_RESTART), not failed with EINTR.
//
// Ctrl-C in asyncio::run (Python 3.11's Runner): the first SIGINT cancels the main task; its cleanup
// runs; if it ends cancelled, run() throws asyncio::keyboard_interrupt. Left uncaught (as in
// `int main() { return asyncio::run(amain()); }`), it prints "KeyboardInterrupt" to stderr and ends
// the process by SIGINT, status 130, as Python does (detail::sigint_guard in core/runner.hpp); catch
// it in main() to return your own exit code instead. A second SIGINT kills the process by SIGINT at
// once, even if a step is stuck. asyncio::runner handles Ctrl-C the same way in each run().
// It applies only when run() is called on the main thread, SIGINT has its default action and is not
// blocked; loop_options{.handle_sigint = false} opts out, and a loop.add_signal_handler(SIGINT, ...)
// made by the program replaces it.
//
// A complete program that chooses its own exit code on Ctrl-C (without the try, it would end by
// SIGINT after printing "KeyboardInterrupt"; doc-test: compile-only, it runs until Ctrl-C):
//
//   #include <asyncio/asyncio.hpp>
//   #include <cstdio>
//   using namespace std::chrono_literals;
//
//   asyncio::task<int> serve() { co_await asyncio::sleep(1h); co_return 0; }
//
//   int main() {
//     try {
//       return asyncio::run(serve());
//     } catch (const asyncio::keyboard_interrupt&) {
//       std::fputs("stopped by Ctrl-C\n", stderr);
//       return 1;
//     }
//   }
#include <csignal>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/run.hpp>
#include <asyncio/errors.hpp>
