#pragma once
// What the protocol transports (net/transport.cpp, net/datagram_transport.cpp,
// process/subprocess_transport.cpp) do with errors they cannot raise to a caller: a protocol
// callback that threw, or an OS error handed to connection_lost / error_received. One copy, so
// that the three report alike (docs/lessons.md §1.5: nothing fails silently).
#include <exception>
#include <utility>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

namespace asyncio::detail {

/// The os_error subclass for errno `err` as an exception_ptr (for connection_lost/error_received).
inline auto os_error_ptr(int err, const char* what) -> std::exception_ptr {
  try {
    throw_os_error(err, what);
  } catch (...) {
    return std::current_exception();
  }
}

/// Hands `e` to the running loop's exception handler with `message` (Python's
/// loop.call_exception_handler); outside a loop there is nobody to tell.
inline void report_to_loop(const char* message, std::exception_ptr e) noexcept {
  if (event_loop* loop = running_loop()) {
    exception_context ctx(message, std::move(e));
    loop->call_exception_handler(ctx);
  }
}

}  // namespace asyncio::detail
