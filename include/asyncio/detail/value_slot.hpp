#pragma once
// value_slot<T>: where a call run on another thread (to_thread's worker, run_on's target loop)
// leaves its T for the awaiting task to take. void is kept as std::monostate and T& as a pointer,
// so that std::optional can hold every T a coroutine or callable may return.
//
// Why a type: to_thread and run_on each spelled out the same storage type, the same three ways to
// store and the same three ways to take; one copy keeps void and references handled alike.
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace asyncio::detail {

template <class T>
class value_slot {
  using stored = std::conditional_t<std::is_void_v<T>, std::monostate,
                                    std::conditional_t<std::is_reference_v<T>, std::remove_reference_t<T>*, T>>;

 public:
  /// Stores the outcome of a call that returned void.
  void set() { value_.emplace(); }
  /// Stores the value (for a reference: its address).
  template <class U>
  void set(U&& v) {
    if constexpr (std::is_reference_v<T>) value_.emplace(std::addressof(v));
    else value_.emplace(std::forward<U>(v));
  }
  /// The stored result (moved out), after set().
  auto take() -> T {
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (std::is_reference_v<T>) {
      return **value_;
    } else {
      return std::move(*value_);
    }
  }

 private:
  std::optional<stored> value_;
};

}  // namespace asyncio::detail
