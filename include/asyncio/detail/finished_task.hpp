#pragma once
// finished_task: a task that finished inside create_task, kept without its coroutine frame (W1).
#include <cstddef>
#include <new>
#include <type_traits>

#include <asyncio/detail/frame_allocator.hpp>
#include <asyncio/detail/running_task.hpp>

namespace asyncio::detail {

/// Results small and plain enough to live in a finished_task (in its waiters word): void, a
/// reference (stored as a pointer), or a trivially copyable value of at most 8 bytes.
template <class T>
struct small_trivial_value
    : std::bool_constant<std::is_trivially_copyable_v<T> && sizeof(T) <= 8 && alignof(T) <= 8> {};
template <class T>
inline constexpr bool compactable_result =
    std::disjunction_v<std::is_void<T>, std::is_reference<T>, small_trivial_value<T>>;

/// A task that finished inside its eager start, kept without its coroutine frame.
///
/// W1 (create 1M tasks that never suspend, keep every handle, then await them): what costs most is
/// memory touched for the first time (in this VM about 0.4 ns per byte), and a finished task needs
/// none of its frame (its parameters, locals, resume/destroy pointers) nor a running task's fields
/// (its suspension point and innermost frame). create_task therefore copies a small result into
/// this 32-byte block (the result sits in the waiters word, unused once done) and frees the frame,
/// which the next create_task reuses while it is still in cache.
/// It is a task in every respect a handle can observe (done, value outcome, loop, name, done
/// callbacks, identity): only task_handle's result accessors and last_release know the difference.
///
/// Only taken for a task with a value outcome, no extras (no name, context, exception, callback,
/// debug location) and no reference but the creating handle's: nobody else can hold the frame.
class finished_task final : public task_base {
 public:
  template <class R>
  finished_task(event_loop& loop, const R& result) noexcept : finished_task(loop) {
    ::new (static_cast<void*>(finished_value())) R(result);
  }
  explicit finished_task(event_loop& loop) noexcept {
    is_task_ = true;
    started_ = true;
    compact_ = true;
    status_ = static_cast<std::uint8_t>(outcome::value);
    loop_ = &loop;
  }
  /// True if t (just created, finished inside its eager start) can be replaced by a finished_task.
  /// (The whole status byte: a value, and no cancel request counted.)
  [[nodiscard]] static auto can_replace(const task_core& t) noexcept -> bool {
    return t.status_ == static_cast<std::uint8_t>(outcome::value) && t.refs_ == 1 && !t.extras_;
  }
  static auto operator new(std::size_t size) -> void* { return frame_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

}  // namespace asyncio::detail
