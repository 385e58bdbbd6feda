#pragma once
// ASYNCIO_LIFETIMEBOUND: clang's [[clang::lifetimebound]] where the compiler has it, nothing
// elsewhere (g++ 12 lacks the attribute and would warn about an unknown one).
//
// On a parameter it says "the returned object keeps a reference to this argument"; after a member
// function's parameter list, the same about `*this`. clang then warns (-Wdangling, an error under
// -Werror) when the argument is a temporary that dies before the returned awaiter, task or guard
// is used:
//
//   auto line = (co_await asyncio::open_connection(host, 80)).first.readline();  // warns: the
//   std::string s = co_await std::move(line);                                     // reader is gone
//
// The library puts it on every public function whose result borrows an argument: awaiters and
// guards of a primitive (lock::acquire, event::wait, lock_guard), member coroutines (the frame
// keeps `this`: stream_reader::read*), and coroutines that keep a view of a buffer (sock_sendall,
// lowlevel::recv). tests/compile_fail/dangling_reader.cpp proves the warning fires; the idioms
// behind it are in docs/coroutine_lifetimes.md.
#if defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::lifetimebound)
#define ASYNCIO_LIFETIMEBOUND [[clang::lifetimebound]]
#endif
#endif
#ifndef ASYNCIO_LIFETIMEBOUND
#define ASYNCIO_LIFETIMEBOUND
#endif
