#pragma once
// The whole exception hierarchy, mirroring Python's (asyncio/exceptions.py and the OSError tree).
//
// cancelled_error deliberately does NOT derive from std::exception: Python 3.8 made CancelledError a
// BaseException so that generic `except Exception` handlers stop swallowing cancellation. In C++ the
// same rule means `catch (const std::exception&)` cannot swallow it; only `catch (...)` or a
// `catch (const asyncio::cancelled_error&)` can.
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace asyncio {

/// The operation was cancelled (Python's asyncio.CancelledError).
///
/// Thrown at the suspension point of a task that was cancelled. Not a std::exception on purpose.
class cancelled_error {
 public:
  cancelled_error() = default;
  explicit cancelled_error(std::string message) : message_(std::move(message)) {}
  /// The message passed to task_handle::cancel(msg), or "" if none.
  [[nodiscard]] auto message() const noexcept -> const std::string& { return message_; }
  [[nodiscard]] auto what() const noexcept -> const char* {
    return message_.empty() ? "cancelled" : message_.c_str();
  }

 private:
  std::string message_;
};

/// Base of every error this library throws, except cancelled_error.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An operation was attempted on an object in the wrong state (Python's InvalidStateError),
/// e.g. result() of a pending future or set_result() on a done one.
class invalid_state_error : public error {
 public:
  using error::error;
};

/// An error reported by the operating system; carries the std::error_code (Python's OSError).
class os_error : public error {
 public:
  explicit os_error(std::error_code code, const std::string& what = {})
      : error(what.empty() ? code.message() : what + ": " + code.message()), code_(code) {}
  [[nodiscard]] auto code() const noexcept -> std::error_code { return code_; }

 private:
  std::error_code code_;
};

/// The operation exceeded its deadline (Python's TimeoutError, an OSError subclass).
class timeout_error : public os_error {
 public:
  timeout_error() : os_error(std::make_error_code(std::errc::timed_out), "timed out") {}
  explicit timeout_error(const std::string& what)
      : os_error(std::make_error_code(std::errc::timed_out), what) {}
};

#define ASYNCIO_DETAIL_OS_ERROR(name, base)                                              \
  class name : public base {                                                            \
   public:                                                                              \
    explicit name(std::error_code code, const std::string& what = {}) : base(code, what) {} \
  };

ASYNCIO_DETAIL_OS_ERROR(blocking_io_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(child_process_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(connection_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(broken_pipe_error, connection_error)
ASYNCIO_DETAIL_OS_ERROR(connection_aborted_error, connection_error)
ASYNCIO_DETAIL_OS_ERROR(connection_refused_error, connection_error)
ASYNCIO_DETAIL_OS_ERROR(connection_reset_error, connection_error)
ASYNCIO_DETAIL_OS_ERROR(file_exists_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(file_not_found_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(interrupted_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(is_a_directory_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(not_a_directory_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(permission_error, os_error)
ASYNCIO_DETAIL_OS_ERROR(process_lookup_error, os_error)
#undef ASYNCIO_DETAIL_OS_ERROR

/// Throws the os_error subclass that matches errno value `err` (as Python maps errno to OSError
/// subclasses). `what` names the failed operation, e.g. "connect".
[[noreturn]] void throw_os_error(int err, const std::string& what = {});

/// asyncio::run's main task ended cancelled because of Ctrl-C (SIGINT), as Python's asyncio.run
/// raises KeyboardInterrupt. Unlike Python's (a BaseException), it derives from asyncio::error: run()
/// throws it outside every task, so no code inside the program can swallow it by accident, and a
/// `catch (const std::exception&)` in main() reports it. Left uncaught, it prints
/// "KeyboardInterrupt" and ends the process by SIGINT, not by std::terminate's abort (core/runner.hpp).
class keyboard_interrupt : public error {
 public:
  keyboard_interrupt() : error("keyboard interrupt (SIGINT)") {}
  /// Ends the process as an unhandled Ctrl-C does: restores SIGINT's default action and raises it,
  /// so the parent (a shell) sees death by SIGINT (status 130), as CPython does at exit.
  /// Defined in src/core/loop_signals.cpp.
  [[noreturn]] static void exit_by_signal() noexcept;
};

/// readexactly() hit EOF first (Python's IncompleteReadError). partial() holds what was read.
class incomplete_read_error : public error {
 public:
  incomplete_read_error(std::string partial, std::size_t expected)
      : error(std::to_string(partial.size()) + " bytes read on a total of " +
              std::to_string(expected) + " expected bytes"),
        partial_(std::move(partial)),
        expected_(expected) {}
  [[nodiscard]] auto partial() const noexcept -> const std::string& { return partial_; }
  [[nodiscard]] auto expected() const noexcept -> std::size_t { return expected_; }

 private:
  std::string partial_;
  std::size_t expected_;
};

/// readuntil()/readline() found no separator within the limit (Python's LimitOverrunError).
class limit_overrun_error : public error {
 public:
  limit_overrun_error(const std::string& what, std::size_t consumed)
      : error(what), consumed_(consumed) {}
  [[nodiscard]] auto consumed() const noexcept -> std::size_t { return consumed_; }

 private:
  std::size_t consumed_;
};

/// A key or value was not found, e.g. context_var::get() of an unset variable without a default
/// (Python's LookupError).
class lookup_error : public error {
 public:
  using error::error;
};

/// get_nowait() on an empty queue (Python's QueueEmpty).
class queue_empty : public error {
 public:
  queue_empty() : error("queue is empty") {}
};
/// put_nowait() on a full queue (Python's QueueFull).
class queue_full : public error {
 public:
  queue_full() : error("queue is full") {}
};
/// The queue was shut down (Python 3.13's QueueShutDown).
class queue_shut_down : public error {
 public:
  queue_shut_down() : error("queue is shut down") {}
};
/// A barrier was aborted or reset while tasks waited (Python's BrokenBarrierError).
class broken_barrier_error : public error {
 public:
  broken_barrier_error() : error("barrier is broken") {}
};

/// Several exceptions raised together, e.g. by the children of a task_group (Python's
/// ExceptionGroup). exceptions() keeps them in the order they happened.
class exception_group : public error {
 public:
  exception_group(std::string message, std::vector<std::exception_ptr> exceptions);
  [[nodiscard]] auto exceptions() const noexcept -> const std::vector<std::exception_ptr>& {
    return exceptions_;
  }
  [[nodiscard]] auto message() const noexcept -> const std::string& { return message_; }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

/// A one-line description of any exception, cancelled_error included ("timeout_error: timed out").
[[nodiscard]] auto describe(const std::exception_ptr& e) -> std::string;

namespace detail {
/// True if `e` holds a cancelled_error (false for null). One place for the rethrow-and-catch test
/// that result<T>::cancelled() and task_group's exit logic both need.
[[nodiscard]] inline auto is_cancelled(const std::exception_ptr& e) noexcept -> bool {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace detail

}  // namespace asyncio
