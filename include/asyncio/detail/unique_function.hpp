#pragma once
// A move-only type-erased callable (C++23's std::move_only_function is not in C++20's libstdc++ 12).
// Small callables (up to three pointers) are stored inline, larger ones on the heap.
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
  static constexpr std::size_t inline_size = 3 * sizeof(void*);

  struct vtable {
    R (*call)(void* self, Args&&... args);
    void (*move_to)(void* from, void* to) noexcept;  // move-constructs into `to`, destroys `from`
    void (*destroy)(void* self) noexcept;
  };

  template <class F>
  static constexpr bool stored_inline =
      sizeof(F) <= inline_size && alignof(F) <= alignof(std::max_align_t) &&
      std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static auto target(void* storage) -> F* {
    if constexpr (stored_inline<F>) return std::launder(static_cast<F*>(storage));
    else return *static_cast<F**>(storage);
  }

  template <class F>
  static constexpr vtable vtable_for{
      [](void* self, Args&&... args) -> R { return (*target<F>(self))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept {
        if constexpr (stored_inline<F>) {
          ::new (to) F(std::move(*target<F>(from)));
          target<F>(from)->~F();
        } else {
          *static_cast<F**>(to) = *static_cast<F**>(from);
        }
      },
      [](void* self) noexcept {
        if constexpr (stored_inline<F>) target<F>(self)->~F();
        else delete target<F>(self);
      }};

 public:
  unique_function() noexcept = default;
  unique_function(std::nullptr_t) noexcept {}

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, unique_function> &&
                                     std::is_invocable_r_v<R, D&, Args...>>>
  unique_function(F&& f) {  // NOLINT(google-explicit-constructor): like std::function
    if constexpr (stored_inline<D>) ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
    else *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
    vtable_ = &vtable_for<D>;
  }

  unique_function(unique_function&& other) noexcept : vtable_(other.vtable_) {
    if (vtable_) vtable_->move_to(other.storage_, storage_);
    other.vtable_ = nullptr;
  }
  auto operator=(unique_function&& other) noexcept -> unique_function& {
    if (this != &other) {
      reset();
      vtable_ = other.vtable_;
      if (vtable_) vtable_->move_to(other.storage_, storage_);
      other.vtable_ = nullptr;
    }
    return *this;
  }
  unique_function(const unique_function&) = delete;
  auto operator=(const unique_function&) -> unique_function& = delete;
  ~unique_function() { reset(); }

  void reset() noexcept {
    if (vtable_) vtable_->destroy(storage_);
    vtable_ = nullptr;
  }
  explicit operator bool() const noexcept { return vtable_ != nullptr; }
  auto operator()(Args... args) -> R { return vtable_->call(storage_, std::forward<Args>(args)...); }

 private:
  const vtable* vtable_ = nullptr;
  alignas(std::max_align_t) std::byte storage_[inline_size];
};

}  // namespace asyncio::detail
