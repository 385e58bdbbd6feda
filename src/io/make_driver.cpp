// io::make_driver: picks the backend (io/driver.hpp, docs/io_uring.md "Choosing the backend").
#include <asyncio/io/driver.hpp>

#include <asyncio/errors.hpp>

#include "io/epoll_driver.hpp"
#if ASYNCIO_HAS_IO_URING
#include "io/uring_driver.hpp"
#endif

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace asyncio::io {
namespace {

// ASYNCIO_BACKEND names a backend for loops that did not ask for one.
auto backend_from_environment() -> backend {
  const char* v = std::getenv("ASYNCIO_BACKEND");
  if (!v || !*v || std::strcmp(v, "auto") == 0) return backend::automatic;
  for (backend b : {backend::epoll, backend::io_uring, backend::prefer_io_uring}) {
    if (std::strcmp(v, to_string(b)) == 0) return b;
  }
  throw std::invalid_argument(std::string("ASYNCIO_BACKEND: unknown io backend '") + v +
                              "' (known: auto, epoll, io_uring, prefer_io_uring)");
}

}  // namespace

auto to_string(backend b) noexcept -> const char* {
  switch (b) {
    case backend::automatic: return "auto";
    case backend::epoll: return "epoll";
    case backend::io_uring: return "io_uring";
    case backend::prefer_io_uring: return "prefer_io_uring";
  }
  return "?";
}

auto make_driver(backend which) -> std::unique_ptr<driver> {
  if (which == backend::automatic) which = backend_from_environment();
  if (which == backend::io_uring || which == backend::prefer_io_uring) {
    std::string why_not;
#if ASYNCIO_HAS_IO_URING
    if (auto ring = uring_driver::create(why_not)) return ring;
#else
    why_not = "this build has no io_uring backend (configured with ASYNCIO_WITH_IO_URING=OFF)";
#endif
    if (which == backend::io_uring) {
      // Required: say why the kernel refused it. ENOSYS: "function not implemented" classes it as
      // an os_error a caller can catch, the message says the rest.
      throw_os_error(ENOSYS, "the io_uring backend was required but is unavailable: " + why_not);
    }
  }
  // automatic (the default) and the fallback: epoll, the faster backend on the measured workloads.
  return std::make_unique<epoll_driver>();
}

}  // namespace asyncio::io
