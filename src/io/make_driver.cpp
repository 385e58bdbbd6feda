// io::make_driver: picks the backend (io/driver.hpp).
#include <asyncio/io/driver.hpp>

#include "io/epoll_driver.hpp"

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
  if (std::strcmp(v, "epoll") == 0) return backend::epoll;
  throw std::invalid_argument(std::string("ASYNCIO_BACKEND: unknown io backend '") + v +
                              "' (this build has: epoll)");
}

}  // namespace

auto make_driver(backend which) -> std::unique_ptr<driver> {
  if (which == backend::automatic) which = backend_from_environment();
  switch (which) {
    case backend::automatic:
    case backend::epoll: break;
  }
  return std::make_unique<epoll_driver>();
}

}  // namespace asyncio::io
