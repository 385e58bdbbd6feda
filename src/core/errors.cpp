#include <asyncio/errors.hpp>

#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace asyncio {

void throw_os_error(int err, const std::string& what) {
  std::error_code code(err, std::generic_category());
  switch (err) {
    case EAGAIN: throw blocking_io_error(code, what);
    case EINPROGRESS: throw blocking_io_error(code, what);
    case ECHILD: throw child_process_error(code, what);
    case EPIPE: throw broken_pipe_error(code, what);
    case ESHUTDOWN: throw broken_pipe_error(code, what);
    case ECONNABORTED: throw connection_aborted_error(code, what);
    case ECONNREFUSED: throw connection_refused_error(code, what);
    case ECONNRESET: throw connection_reset_error(code, what);
    case EEXIST: throw file_exists_error(code, what);
    case ENOENT: throw file_not_found_error(code, what);
    case EINTR: throw interrupted_error(code, what);
    case EISDIR: throw is_a_directory_error(code, what);
    case ENOTDIR: throw not_a_directory_error(code, what);
    case EACCES: throw permission_error(code, what);
    case EPERM: throw permission_error(code, what);
    case ESRCH: throw process_lookup_error(code, what);
    case ETIMEDOUT: throw timeout_error(what.empty() ? std::string("timed out") : what);
    default: throw os_error(code, what);
  }
}

exception_group::exception_group(std::string message, std::vector<std::exception_ptr> exceptions)
    : error(message + " (" + std::to_string(exceptions.size()) + " sub-exception" +
            (exceptions.size() == 1 ? "" : "s") + ")"),
      message_(std::move(message)),
      exceptions_(std::move(exceptions)) {}

auto describe(const std::exception_ptr& e) -> std::string {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error& c) {
    return std::string("cancelled_error: ") + c.what();
  } catch (const exception_group& g) {
    std::string s = std::string("exception_group: ") + g.what();
    for (const auto& sub : g.exceptions()) s += "\n  - " + describe(sub);
    return s;
  } catch (const std::exception& x) {
    // typeid names are mangled ("St13runtime_error"); reports are read by people.
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(x).name(), nullptr, nullptr, &status),
                                                std::free);
    return std::string(status == 0 && name ? name.get() : typeid(x).name()) + ": " + x.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace asyncio
