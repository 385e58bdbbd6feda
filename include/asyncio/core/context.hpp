#pragma once
// Task-local values (Python's contextvars).
//
//   asyncio::context_var<std::string> request_id("request_id", "-");
//
//   asyncio::task<void> handle(std::string id) {
//     auto token = request_id.set(id);       // seen by everything this task awaits...
//     co_await log_something();              // ...which reads request_id.get()
//     auto child = asyncio::create_task(audit());   // ...and copied into tasks it creates
//     request_id.reset(token);
//   }
//
// Semantics as in Python: every task has a context (a map from variables to values). create_task
// gives the new task a copy of its creator's context at that moment; later set() calls in either
// task do not affect the other. Awaited coroutines and generators run inside the awaiting task and
// share its context. Code outside any task (before asyncio::run, or in plain loop callbacks) uses
// the thread's context, which asyncio::run's main task copies.
//
// Cost: a task that never sets a variable, created by one that never did, pays one branch in
// create_task. The copy is copy-on-write: create_task shares the creator's map (a reference count);
// the first set() in either task clones it (one small vector of shared pointers).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <asyncio/detail/task_core.hpp>
#include <asyncio/errors.hpp>

namespace asyncio {

namespace detail {

/// The context a context_var operation uses now: the running task's, else the thread's.
/// Null if no value was ever set there.
[[gnu::noinline]] auto current_context() noexcept -> context_data*;
/// The same, made private to the caller (cloned if shared, created if absent), for writing.
[[gnu::noinline]] auto writable_context() -> context_data&;
/// Identifies the context owner (task or thread) for token checks.
[[gnu::noinline]] auto current_context_owner() noexcept -> const void*;

auto context_lookup(const context_data* c, std::uint64_t var) noexcept -> const std::shared_ptr<const void>*;
/// Sets (or with a null value removes) var in c.
void context_store(context_data& c, std::uint64_t var, std::shared_ptr<const void> value);
auto new_context_var_id() noexcept -> std::uint64_t;
[[noreturn]] void throw_context_lookup(const std::string& name);
/// Python raises RuntimeError for a token used twice and ValueError for one of another variable
/// or context: invalid_state_error and std::invalid_argument here (docs/python-mapping.md §1).
[[noreturn]] void throw_used_token();
[[noreturn]] void throw_foreign_token(const char* why);

/// A private copy of the current context (Python's contextvars.copy_context()), for a call that
/// runs on another thread (to_thread). Null if the current context holds no value. The copy owns
/// its map outright (the values, immutable, are shared): the reference counts of a context are not
/// atomic, so a map shared by copy-on-write must never reach another thread.
[[nodiscard]] auto copy_current_context() -> context_ref;

/// Makes `c` the calling thread's context until destroyed, then puts the previous one back, so
/// that a call run on a worker thread sees (and may set, in its copy only) the caller's values.
/// For a thread with no running loop (context_var reads the thread's context there).
class thread_context_scope {
 public:
  explicit thread_context_scope(context_ref c) noexcept;
  ~thread_context_scope();
  thread_context_scope(const thread_context_scope&) = delete;
  auto operator=(const thread_context_scope&) -> thread_context_scope& = delete;

 private:
  context_ref saved_;
};

}  // namespace detail

template <class T>
class context_var;

/// What context_var::set() returns: reset(token) restores the value seen before that set().
/// Single use, and only in the task (or thread) that created it, as in Python.
template <class T>
class context_token {
 public:
  // Move-only, so that "single use" cannot be side-stepped with a copy.
  context_token(context_token&&) noexcept = default;
  auto operator=(context_token&&) noexcept -> context_token& = default;
  context_token(const context_token&) = delete;
  auto operator=(const context_token&) -> context_token& = delete;

  /// The value before set(), or null if the variable was unset (Python's Token.old_value).
  [[nodiscard]] auto old_value() const noexcept -> const T* { return static_cast<const T*>(old_.get()); }
  [[nodiscard]] auto used() const noexcept -> bool { return used_; }

 private:
  friend class context_var<T>;
  context_token(std::uint64_t var, std::shared_ptr<const void> old, const void* owner)
      : var_(var), old_(std::move(old)), owner_(owner) {}
  std::uint64_t var_;
  std::shared_ptr<const void> old_;
  const void* owner_;
  bool used_ = false;
};

/// A task-local variable (Python's contextvars.ContextVar). Declare it once (e.g. at namespace
/// scope); its value differs per task.
///
/// Thread safety: get/set/reset act on the running task's context (or the calling thread's outside
/// tasks); the variable object itself may be shared between threads.
template <class T>
class context_var {
 public:
  /// A variable without a default: get() throws lookup_error until set.
  explicit context_var(std::string name) : name_(std::move(name)), id_(detail::new_context_var_id()) {}
  /// A variable with a default, returned by get() while unset.
  context_var(std::string name, T default_value)
      : name_(std::move(name)), id_(detail::new_context_var_id()),
        default_(std::make_shared<const T>(std::move(default_value))) {}
  context_var(const context_var&) = delete;
  auto operator=(const context_var&) -> context_var& = delete;

  [[nodiscard]] auto name() const noexcept -> const std::string& { return name_; }

  /// The value in the current context, else the default.
  /// Throws: lookup_error if neither exists.
  [[nodiscard]] auto get() const -> T {
    if (const T* v = find()) return *v;
    if (default_) return *static_cast<const T*>(default_.get());
    detail::throw_context_lookup(name_);
  }
  /// The value in the current context, else `fallback` (Python's get(default)).
  [[nodiscard]] auto get(T fallback) const -> T {
    if (const T* v = find()) return *v;
    return fallback;
  }
  /// Sets the value in the current context; returns a token for reset().
  auto set(T value) -> context_token<T> {
    detail::context_data& c = detail::writable_context();
    const auto* old = detail::context_lookup(&c, id_);
    context_token<T> token(id_, old ? *old : nullptr, detail::current_context_owner());
    detail::context_store(c, id_, std::make_shared<const T>(std::move(value)));
    return token;
  }
  /// Restores the value the variable had before the set() that returned `token`.
  /// Throws: invalid_state_error if the token was used already (Python's RuntimeError);
  /// std::invalid_argument if it belongs to another variable or was created in another task
  /// (Python's ValueError).
  void reset(context_token<T>& token) {
    if (token.used_) detail::throw_used_token();
    if (token.var_ != id_) detail::throw_foreign_token("the token was created by a different context_var");
    if (token.owner_ != detail::current_context_owner()) {
      detail::throw_foreign_token("the token was created in a different context");
    }
    detail::context_store(detail::writable_context(), id_, std::move(token.old_));
    token.used_ = true;
  }

 private:
  [[nodiscard]] auto find() const noexcept -> const T* {
    const auto* v = detail::context_lookup(detail::current_context(), id_);
    return v ? static_cast<const T*>(v->get()) : nullptr;
  }

  std::string name_;
  std::uint64_t id_;
  std::shared_ptr<const void> default_;
};

}  // namespace asyncio
