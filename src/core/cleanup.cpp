// with_cleanup's out-of-line part: reporting an exception it does not propagate.
#include <asyncio/core/cleanup.hpp>

#include <string>
#include <utility>

namespace asyncio::detail {

void report_cleanup_exception(const char* what, std::exception_ptr e) noexcept {
  try {
    get_running_loop().call_exception_handler(exception_context(std::string(what), std::move(e)));
  } catch (...) {  // std::bad_alloc building the message: nothing better to do than drop it
  }
}

}  // namespace asyncio::detail
