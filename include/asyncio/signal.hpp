#pragma once
// Signal layer: Unix signals delivered to the event loop.
//
//   loop.add_signal_handler(sig, fn, args...)   call fn(args...) on the loop when sig arrives
//   loop.remove_signal_handler(sig)             stop; the signal's previous action comes back
//   asyncio::run(main())                        Ctrl-C cancels main (cleanup runs), then throws
//                                               asyncio::keyboard_interrupt; a second Ctrl-C exits
//   loop_options{.handle_sigint = false}        opt out of run()'s Ctrl-C handling
//
// <asyncio/signal/signal.hpp> explains the mechanism and the caveats for multi-threaded programs.
#include <asyncio/signal/signal.hpp>
