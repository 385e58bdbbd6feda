#pragma once
// completion: the state shared by Python's Future and Task, without the typed result: an outcome,
// the tasks parked on it, done callbacks, a reference count and the rarely used extras (exception,
// name, cancel message, context values). A task adds task_base (detail/task_base.hpp), a future
// future_base (below).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asyncio/detail/debug_check.hpp>
#include <asyncio/detail/suspension.hpp>
#include <asyncio/detail/unique_function.hpp>

namespace asyncio {
class event_loop;
}

namespace asyncio::detail {

class task_core;
class completion;

/// A task parked on a completion (a task or a future). Intrusive: lives in the awaiter.
struct completion_waiter : suspension {
  completion_waiter* next = nullptr;
  task_core* task = nullptr;  // the parked task
  completion* source = nullptr;
  /// If set, complete() calls this (on the loop thread, from inside the completing task's final
  /// step) instead of scheduling `task`: one task can then watch many completions at once (gather,
  /// wait, as_completed, task_group) and decide itself when to wake. It must not resume anything
  /// inline; it may schedule tasks and cancel tasks. The node is unlinked before the call.
  void (*on_complete)(completion_waiter* self) noexcept = nullptr;
};

enum class outcome : std::uint8_t { pending, value, exception, cancelled };

/// A task's context values (contextvars, core/context.hpp): shared copy-on-write between a task and
/// the tasks it creates. Defined in src/core/context.cpp; null until a context_var is set.
struct context_data;
void release_context(context_data* c) noexcept;
auto share_context(context_data* c) noexcept -> context_data*;
class task_core;
/// A task created outside any task (e.g. asyncio::run's main) starts with the thread's context.
void inherit_thread_context(task_core& t);

/// Owning pointer to a context_data (move-only; copies go through share_context).
class context_ref {
 public:
  context_ref() noexcept = default;
  explicit context_ref(context_data* c) noexcept : p_(c) {}
  context_ref(context_ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  auto operator=(context_ref&& o) noexcept -> context_ref& {
    context_data* old = p_;
    p_ = o.p_;
    o.p_ = nullptr;
    if (old) release_context(old);
    return *this;
  }
  context_ref(const context_ref&) = delete;
  auto operator=(const context_ref&) -> context_ref& = delete;
  ~context_ref() {
    if (p_) release_context(p_);
  }
  [[nodiscard]] auto get() const noexcept -> context_data* { return p_; }
  [[nodiscard]] explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  context_data* p_ = nullptr;
};

/// A cancel message, shared by the tasks and futures a cancel is passed on to (gather's children, an
/// awaited task): copying one only counts a reference, so passing a cancel on allocates nothing.
/// Immutable; empty means no message.
/// Thread safety: copies may be used and destroyed on different threads (the count is atomic).
class shared_message {
 public:
  shared_message() noexcept = default;
  /// Throws: std::bad_alloc.
  explicit shared_message(std::string_view text)
      : text_(text.empty() ? nullptr : std::make_shared<const std::string>(text)) {}

  [[nodiscard]] auto empty() const noexcept -> bool { return !text_; }
  [[nodiscard]] auto view() const noexcept -> std::string_view { return text_ ? std::string_view(*text_) : std::string_view(); }
  [[nodiscard]] auto str() const -> std::string { return std::string(view()); }

 private:
  std::shared_ptr<const std::string> text_;
};

/// A done callback as a completion keeps it: the callable and the id remove_done_callback finds
/// it by (0: added without one, by the library). Callable, so that complete() hands it to
/// call_soon as it is.
struct done_callback {
  done_callback(unique_function<void()> f) noexcept : fn(std::move(f)) {}  // NOLINT: implicit on purpose
  done_callback(std::uint64_t i, unique_function<void()> f) noexcept : id(i), fn(std::move(f)) {}
  void operator()() { fn(); }
  std::uint64_t id = 0;
  unique_function<void()> fn;
};

/// A fresh id for a done callback, unique in the process (ids are compared, never dereferenced).
inline auto next_done_callback_id() noexcept -> std::uint64_t {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

/// Rarely used state, allocated on first use so that a plain task stays small.
struct completion_extras {
  context_ref context;  // task-local values (core/context.hpp)
  std::exception_ptr exception;  // the exception a task/frame/future finished with
  std::string name;
  shared_message cancel_message;
  int cancel_requests = 0;  // task: the cancelling() count once it outgrew the header (task_base)
  std::source_location created_at;
  bool has_location = false;
  std::vector<done_callback> done_callbacks;
};

/// Python's Future without its result: outcome, waiters, done callbacks, reference count.
///
/// Layout matters (W3, docs/benchmarks.md §2.3: a suspended task must cost few bytes): no vtable and
/// no exception_ptr in the object. A finished task's frame is destroyed through resume_ (its root
/// frame); a future's state through future_base::destroy_fn; exceptions live in the lazily allocated
/// extras.
///
/// Invariants: waiters_ is non-empty only while the outcome is pending (a finished_task reuses the
/// word for its result). refs_ counts task_handle / future objects plus one held by the loop
/// while a task is unfinished.
/// Thread safety: loop-affine.
class completion {
 public:
  completion() = default;
  completion(const completion&) = delete;
  auto operator=(const completion&) -> completion& = delete;

  [[nodiscard]] auto done() const noexcept -> bool { return (status_ & outcome_mask) != 0; }
  [[nodiscard]] auto cancelled() const noexcept -> bool { return state() == outcome::cancelled; }
  [[nodiscard]] auto state() const noexcept -> outcome { return static_cast<outcome>(status_ & outcome_mask); }

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_release();
  }

  /// Parks `w` until this completes (FIFO wake order).
  void add_waiter(completion_waiter& w) noexcept;
  /// Unparks `w` (e.g. when the waiting frame is destroyed). Safe if `w` is not linked, and a
  /// no-op once done.
  void remove_waiter(completion_waiter& w) noexcept;
  /// The waiters, most recent first (null once done). Cold: for the task tree (debug/task_tree.hpp).
  [[nodiscard]] auto newest_waiter() const noexcept -> const completion_waiter* {
    return done() ? nullptr : waiters();
  }

  /// Registers fn to run via call_soon once done (at once, via call_soon, if already done).
  void add_done_callback(unique_function<void()> fn);
  /// As add_done_callback, under a fresh id that remove_done_callback accepts.
  auto add_done_callback_with_id(unique_function<void()> fn) -> std::uint64_t {
    std::uint64_t id = next_done_callback_id();
    if (done()) add_done_callback(std::move(fn));  // scheduled at once: nothing left to remove
    else extras().done_callbacks.emplace_back(id, std::move(fn));
    return id;
  }
  /// Removes the callback added under `id` if it has not been scheduled yet; returns how many were
  /// removed (0 or 1; Python's remove_done_callback returns the count too).
  auto remove_done_callback(std::uint64_t id) noexcept -> std::size_t {
    if (id == 0 || !extras_) return 0;
    auto& v = extras_->done_callbacks;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it->id == id) {
        v.erase(it);
        return 1;
      }
    }
    return 0;
  }

  auto extras() -> completion_extras& {
    if (!extras_) extras_ = new completion_extras;
    return *extras_;
  }
  /// The extras, allocated if need be; null if there is no memory for them.
  auto extras_nothrow() noexcept -> completion_extras* {
    if (!extras_) extras_ = new (std::nothrow) completion_extras;
    return extras_;
  }
  [[nodiscard]] auto extras_or_null() const noexcept -> completion_extras* { return extras_; }
  [[nodiscard]] auto name() const -> std::string { return extras_ ? extras_->name : std::string(); }

  /// The stored exception, marking it as retrieved (null unless outcome is exception).
  [[nodiscard]] auto take_exception_ptr() noexcept -> std::exception_ptr {
    retrieved_ = true;
    return extras_ ? extras_->exception : nullptr;
  }
  /// The stored exception without marking it retrieved (null if none).
  [[nodiscard]] auto exception_ptr() const noexcept -> std::exception_ptr {
    return extras_ ? extras_->exception : nullptr;
  }
  [[nodiscard]] auto has_exception() const noexcept -> bool { return extras_ && extras_->exception; }
  void set_exception_ptr(std::exception_ptr e) { extras().exception = std::move(e); }
  /// Cancels a pending future-like completion: records the message and wakes every waiter.
  /// False if already done. Cannot fail: without memory for the extras, the message is dropped
  /// (as task_base::cancel_noexcept).
  auto cancel_completion(const shared_message& message) noexcept -> bool {
    if (done()) return false;
    if (!message.empty()) {
      if (completion_extras* e = extras_nothrow()) e->cancel_message = message;
    }
    (void)complete(outcome::cancelled, false);
    return true;
  }
  [[nodiscard]] auto cancel_message() const -> std::string {
    return extras_ ? extras_->cancel_message.str() : std::string();
  }
  /// The cancel message as a shared reference (to pass a cancel on without allocating).
  [[nodiscard]] auto shared_cancel_message() const noexcept -> shared_message {
    return extras_ ? extras_->cancel_message : shared_message();
  }

 protected:
  ~completion() {
    if (extras_) [[unlikely]] free_extras(extras_);
  }
  static void free_extras(completion_extras* e) noexcept;
  /// Sets the outcome and wakes every waiter. Returns the first waiter's task (which the caller may
  /// resume by symmetric transfer) if `hand_first` is true; otherwise schedules all.
  auto complete(outcome o, bool hand_first) noexcept -> task_core*;
  void last_release() noexcept;
  /// Reports an exception nobody retrieved through the running loop's exception handler.
  void report_unretrieved() noexcept;
  /// Frees the coroutine frame (task) or the state (future).
  void free_storage() noexcept;

  // registry_index_ of a task that is not in its loop's registry (a frame, or a task still in its
  // eager start: event_loop::start_task registers a task only if that start does not finish it).
  static constexpr std::uint32_t not_registered = 0xffffff;
  // The header is one 8-byte word pair (W3): the reference count shares its word with four flags,
  // the registry index (at most 2^24 unfinished tasks per loop; register_task checks) with the
  // status byte (outcome and cancel state, below).
  std::uint32_t refs_ : 27 = 1;
  bool retrieved_ : 1 = false;    // result()/exception() was called or the task was awaited
  bool is_task_ : 1 = false;
  bool must_cancel_ : 1 = false;  // task: a cancel is pending delivery at the next suspension
  bool started_ : 1 = false;      // task: its coroutine has begun running
  bool compact_ : 1 = false;      // task: a finished_task block, not a coroutine frame
  // Starts a new 32-bit unit: without it clang merges both words' bit-fields into one 56-bit
  // unit, and a change of refs_ becomes a 7-byte read-modify-write (W1, docs/benchmarks.md §2.1:
  // finish_root, release).
  std::uint32_t : 0;
  std::uint32_t registry_index_ : 24 = not_registered;  // task: position in the loop's task registry
  // The outcome (bits 0-1), and for a task what cancel() records, here so that a cancel allocates
  // nothing and cannot fail (task_base::cancel_noexcept): bit 2, the cycle guard (the task's cancel
  // is being passed on to what it awaits: a second request coming round is absorbed); bits 3-7,
  // the cancelling() count (31 means it moved to the extras). A plain byte rather than bit-fields,
  // so that finishing with a value stays one store (W1: finish_root does `status_ |= value`).
  std::uint8_t status_ = 0;
  static constexpr std::uint8_t outcome_mask = 0x03;  // outcome::pending is 0
  static constexpr std::uint8_t forwarding_cancel_bit = 0x04;
  static constexpr unsigned cancel_count_shift = 3;
  static constexpr unsigned cancel_count_in_extras = 31;
  void set_outcome(outcome o) noexcept {
    status_ = static_cast<std::uint8_t>((status_ & ~outcome_mask) | static_cast<std::uint8_t>(o));
  }

  // The shared word below is read and written through these: each checks, in debug builds only
  // (ASYNCIO_DEBUG_CHECK), that its member is the live one for what the object is now.
  /// A pending task or future (not released): the parked waiters, newest first.
  [[nodiscard]] auto waiters() const noexcept -> completion_waiter* {
    ASYNCIO_DEBUG_CHECK(!done() && refs_ != 0);
    return waiters_;
  }
  auto waiters_slot() noexcept -> completion_waiter*& {
    ASYNCIO_DEBUG_CHECK(!done() && refs_ != 0);
    return waiters_;
  }
  /// A frame awaited lazily (`co_await f()`; not a task): the frame to continue with.
  [[nodiscard]] auto continuation_address() const noexcept -> void* {
    ASYNCIO_DEBUG_CHECK(!is_task_);
    return continuation_address_;
  }
  void set_continuation_address(void* frame) noexcept {
    ASYNCIO_DEBUG_CHECK(!is_task_);
    continuation_address_ = frame;
  }
  /// Released (no reference left), queued to be freed by the outermost last_release.
  auto next_trash_slot() noexcept -> completion*& {
    ASYNCIO_DEBUG_CHECK(refs_ == 0 && !compact_);
    return next_trash_;
  }
  /// A finished_task: the bytes of its result.
  auto finished_value() noexcept -> unsigned char* {
    ASYNCIO_DEBUG_CHECK(compact_);
    return finished_value_;
  }

  // A frame is either a task (a root, or a future) with waiters, or a lazily awaited frame with
  // exactly one continuation, never both: sharing the word keeps a suspended task small (W3).
  union {
    completion_waiter* waiters_ = nullptr;  // LIFO linked; reversed when woken
    void* continuation_address_;            // lazily awaited frame: the awaiting frame
    completion* next_trash_;                // released, waiting to be freed (last_release)
    // A finished_task (below), done from birth so never waited on: its result lives here.
    alignas(8) unsigned char finished_value_[8];
  };
  completion_extras* extras_ = nullptr;

  friend class asyncio::event_loop;
};

/// The non-template part of future_state<T>: how to free it.
class future_base : public completion {
 public:
  void (*destroy_fn)(future_base*) noexcept = nullptr;
};

}  // namespace asyncio::detail
