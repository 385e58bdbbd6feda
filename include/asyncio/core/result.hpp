#pragma once
// result<T>: a value or the exception that replaced it. What gather(return_exceptions, ...) gives
// for each child (Python puts the exception object itself in the result list). std::expected is
// not available on this toolchain (docs/toolchain.md §8), hence this small type.
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include <asyncio/errors.hpp>

namespace asyncio {

/// Either a T or a std::exception_ptr (a cancelled child holds a cancelled_error).
///
/// Thread safety: a plain value type.
template <class T>
class result {
  static_assert(!std::is_same_v<std::decay_t<T>, std::exception_ptr>, "result<exception_ptr> is ambiguous");
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use result<std::reference_wrapper<T>>");

 public:
  using value_type = T;

  /// A result holding a value.
  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit on purpose
  /// A result holding an exception (must not be null).
  static auto from_exception(std::exception_ptr e) -> result { return result(std::move(e), tag{}); }
  /// A result holding the exception being handled (call inside a catch block).
  static auto from_current_exception() -> result { return from_exception(std::current_exception()); }

  [[nodiscard]] auto has_value() const noexcept -> bool { return state_.index() == 0; }
  [[nodiscard]] explicit operator bool() const noexcept { return has_value(); }
  /// True if it holds an exception and that exception is a cancelled_error.
  [[nodiscard]] auto cancelled() const noexcept -> bool { return detail::is_cancelled(exception()); }

  /// The value. Throws: the stored exception, if there is one.
  auto value() & -> T& {
    check();
    return std::get<0>(state_);
  }
  auto value() const& -> const T& {
    check();
    return std::get<0>(state_);
  }
  auto value() && -> T&& {
    check();
    return std::get<0>(std::move(state_));
  }
  auto operator*() & -> T& { return value(); }
  auto operator*() const& -> const T& { return value(); }
  auto operator*() && -> T&& { return std::move(*this).value(); }
  auto operator->() -> T* { return &value(); }
  auto operator->() const -> const T* { return &value(); }
  /// The stored exception, or null if it holds a value.
  [[nodiscard]] auto exception() const noexcept -> std::exception_ptr {
    return state_.index() == 1 ? std::get<1>(state_) : std::exception_ptr();
  }

 private:
  struct tag {};
  result(std::exception_ptr e, tag) : state_(std::in_place_index<1>, std::move(e)) {}
  void check() const {
    if (state_.index() == 1) std::rethrow_exception(std::get<1>(state_));
  }
  std::variant<T, std::exception_ptr> state_;
};

/// result<void>: success, or an exception.
template <>
class result<void> {
 public:
  using value_type = void;

  /// A successful result.
  result() noexcept = default;
  static auto from_exception(std::exception_ptr e) -> result {
    result r;
    r.error_ = std::move(e);
    return r;
  }
  static auto from_current_exception() -> result { return from_exception(std::current_exception()); }

  [[nodiscard]] auto has_value() const noexcept -> bool { return !error_; }
  [[nodiscard]] explicit operator bool() const noexcept { return has_value(); }
  [[nodiscard]] auto cancelled() const noexcept -> bool { return detail::is_cancelled(error_); }
  /// Throws: the stored exception, if there is one.
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  [[nodiscard]] auto exception() const noexcept -> std::exception_ptr { return error_; }

 private:
  std::exception_ptr error_;
};

}  // namespace asyncio
