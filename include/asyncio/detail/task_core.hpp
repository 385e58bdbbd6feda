#pragma once
// The state shared by Python's Future and Task, without the typed result: a completion that parked
// tasks wait on, plus (for tasks) the cancellation protocol.
//
// Cancellation protocol (docs/lessons.md §1.2-1.3, modelled on CPython's Task.cancel and Trio's abort_fn):
//  * A task parked at a suspension point has task_core::waiting_ pointing at that suspension.
//  * task_core::cancel() clears waiting_ and calls suspension::abort(), which must undo the wait
//    (unlink the waiter, cancel the timer) and make sure the task is (or already was) scheduled; the
//    awaiter's await_resume then throws cancelled_error.
//  * If the task is not parked (running, or scheduled after a wake-up that cleared waiting_), cancel()
//    sets must_cancel_ and the next suspension point throws instead of suspending.
//  * Neither step allocates: the cancelling() count and the cycle guard live in the task's header,
//    and a message is stored only when one is given (see task_base::cancel_noexcept). So the
//    library's own cancels (a timeout expiring, a task_group or gather cancelling its children, a
//    cancel passed on to an awaited task) cannot fail.
//  * A suspension whose wake-up carries something that must not be lost (a queue item, a lock) clears
//    waiting_ when it is woken: a cancel arriving between wake-up and resumption then stays pending
//    for the next suspension point, and the value is delivered. Suspensions with nothing to lose
//    (sleep, yield, awaiting a task or future) keep waiting_ until they resume, so such a late cancel
//    still interrupts them, as in CPython.
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <asyncio/detail/frame_allocator.hpp>
#include <asyncio/detail/unique_function.hpp>

namespace asyncio {
class event_loop;
}

namespace asyncio::detail {

class task_core;
class completion;

/// A point where a task is parked. abort() is called (on the loop thread) by task_core::cancel().
struct suspension {
  using abort_fn = void (*)(suspension* self, task_core& task) noexcept;
  abort_fn abort;
};

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

/// Rarely used state, allocated on first use so that a plain task stays small.
struct completion_extras {
  context_ref context;  // task-local values (core/context.hpp)
  std::exception_ptr exception;  // the exception a task/frame/future finished with
  std::string name;
  shared_message cancel_message;
  int cancel_requests = 0;  // task: the cancelling() count once it outgrew the header (task_base)
  std::source_location created_at;
  bool has_location = false;
  std::vector<unique_function<void()>> done_callbacks;
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
    return done() ? nullptr : waiters_;
  }

  /// Registers fn to run via call_soon once done (at once, via call_soon, if already done).
  void add_done_callback(unique_function<void()> fn);

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

/// What every task has, running or finished: a completion with a loop and a name. Task handles
/// (any_task, task_handle<T>) point at a task_base, which is either a task_core (a coroutine frame
/// promoted by create_task) or a finished_task (a task that finished inside create_task, kept
/// without its frame: W1). A finished_task is done from birth, so everything here that concerns
/// running tasks checks done() before it treats the object as a task_core.
class task_base : public completion {
 public:
  /// The task's name, "Task-N" (numbered on first use) unless one was set.
  [[nodiscard]] auto task_name() -> std::string;
  [[nodiscard]] auto loop() const noexcept -> event_loop& { return *loop_; }

  /// Requests cancellation (Python's Task.cancel). False if already done.
  /// Throws: std::bad_alloc only if `message` is not empty and there is no memory to keep it;
  /// nothing has changed then.
  auto cancel(std::string message = {}) -> bool;
  /// cancel() for the library's own paths (a timeout expiring, a task_group or gather cancelling
  /// its children, a cancel passed on to an awaited task): cannot fail. Counting the request and
  /// delivering it need no memory; a message is kept in the extras, and if those cannot be
  /// allocated the cancel is delivered without it. False if already done.
  auto cancel_noexcept(const shared_message& message = {}) noexcept -> bool;
  /// Number of pending cancel requests (Python's Task.cancelling).
  [[nodiscard]] auto cancelling() const noexcept -> int {
    const unsigned n = status_ >> cancel_count_shift;
    return n == cancel_count_in_extras ? extras_->cancel_requests : static_cast<int>(n);
  }
  /// Decrements the cancel request count (Python's Task.uncancel). At zero, a cancel still waiting
  /// for delivery is dropped (CPython gh-102780 behaviour).
  auto uncancel() noexcept -> int;
  /// Throws cancelled_error with the task's cancel message, clearing a pending must_cancel.
  [[noreturn]] void throw_cancelled();
  [[nodiscard]] auto must_cancel() const noexcept -> bool { return must_cancel_; }
  /// Clears a cancel pending delivery (must_cancel) without raising it; true if there was one.
  auto take_pending_cancel() noexcept -> bool {
    const bool pending = must_cancel_;
    must_cancel_ = false;
    return pending;
  }

  /// Where this task was created (valid if has_location()).
  [[nodiscard]] auto created_at() const noexcept -> std::source_location {
    return extras_ ? extras_->created_at : std::source_location();
  }

  /// True if this is a finished_task (see there).
  [[nodiscard]] auto compact() const noexcept -> bool { return compact_; }
  /// The result of a finished_task (R is the stored type: the value, or a pointer for a reference).
  template <class R>
  [[nodiscard]] auto compact_result() noexcept -> R& {
    return *std::launder(reinterpret_cast<R*>(finished_value_));
  }

 protected:
  // Counts one more cancel request (cancelling()). Up to 30 in the status byte; the 31st moves the
  // count to the extras. Without memory for them the count stays at 30: only 31 requests pending
  // at once on a task without extras, and no memory, make cancelling() one too low.
  void count_cancel_request() noexcept;

  // A task's loop. A frame that is not a task (awaited lazily by `co_await f()`) never uses loop_
  // and keeps here the task whose chain it runs in instead (promise_base::owner_task): sharing the
  // word makes every frame 8 bytes smaller (W3).
  union {
    event_loop* loop_ = nullptr;
    task_core* chain_task_;
  };

  friend class asyncio::event_loop;
};

/// The asyncio Task: a completion driven by a coroutine chain. Embedded in the promise of every
/// task<T> frame and used only when that frame was promoted to a task by create_task.
///
/// Invariant while not done, exactly one of:
///  (a) running: the loop is executing the task's frames (current_task() == this);
///  (b) scheduled: on the ready queue exactly once; waiting_ may still name a suspension whose
///      wake-up has happened (see the protocol above);
///  (c) parked: waiting_ != nullptr and the task is on no queue; only the suspension's wake-up or
///      its abort moves it to (b).
class task_core : public task_base {
 public:
  /// Parks the task at `s` with `h` as the frame to resume. Returns false (do not suspend) if a
  /// cancel is pending; the awaiter must then throw from await_resume via consume_cancel().
  [[nodiscard]] auto park(suspension& s, std::coroutine_handle<> h) noexcept -> bool {
    resume_ = h;
    if (must_cancel_) [[unlikely]] return false;
    waiting_ = &s;
    return true;
  }
  /// Called from await_resume: true if this suspension was aborted by cancel().
  [[nodiscard]] auto unpark(suspension& s) noexcept -> bool {
    if (waiting_ == &s) {
      waiting_ = nullptr;
      return false;
    }
    return true;
  }
  /// Marks a woken suspension as no longer abortable (it carries a value that must not be lost).
  void clear_waiting(suspension& s) noexcept {
    if (waiting_ == &s) waiting_ = nullptr;
  }
  /// Parks the task at `s` again (an abort that keeps waiting, e.g. for a cancelled child).
  void repark(suspension& s) noexcept { waiting_ = &s; }
  [[nodiscard]] auto waiting() const noexcept -> suspension* { return waiting_; }

  [[nodiscard]] auto resume_point() const noexcept -> std::coroutine_handle<> { return resume_; }
  void set_resume_point(std::coroutine_handle<> h) noexcept { resume_ = h; }
  [[nodiscard]] auto started() const noexcept -> bool { return started_; }

  /// Destroys the task's frame. Only once the task is done or never started, when resume_ is the
  /// root frame (finish_root and the unstarted path guarantee it).
  void destroy_frame() noexcept { resume_.destroy(); }

 protected:
  std::coroutine_handle<> resume_{};  // innermost suspended frame (the root frame once done)
  suspension* waiting_ = nullptr;

 private:
  // task_base::cancel's work for a task that is not done yet.
  auto cancel_unfinished(const shared_message& message) noexcept -> bool;

  friend class asyncio::event_loop;
  friend class task_base;
  friend class finished_task;
};

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
    ::new (static_cast<void*>(finished_value_)) R(result);
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
