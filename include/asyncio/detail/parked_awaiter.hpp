#pragma once
// parked_awaiter: the skeleton of an awaiter that parks its task at itself, links itself into some
// source (a poller interest, a thread call, a cross-loop call, a waiter list) and is woken by that
// source or aborted by a cancel. It is the suspension protocol of docs/design.md ("The suspension
// protocol") written once, so that every such awaiter agrees on its four steps:
//
//   await_suspend   task_of(h); park; link into the source as the last action; if linking throws,
//                   un-park before the exception leaves (a later cancel must not abort an awaiter
//                   that never waited) and rethrow
//   wake-up         the source schedules the task (wake()); the task stays parked, so a cancel that
//                   comes before it resumes still interrupts it (nothing is handed over)
//   abort           cancel() calls the derived abort_wait(): unlink from the source; if the wait was
//                   still pending, the base schedules the task
//   await_resume    un-park; if the wait was aborted (or a pending cancel kept it from parking),
//                   raise cancelled_error
//
// CRTP, so nothing is virtual and a derived awaiter compiles to what it was when written out by
// hand: abort is one static function per awaiter type that calls the inlined hook. One thing the
// compiler decides differently: with a big link() out of line, the rest of await_suspend (park) is
// small enough that clang inlines it into every awaiting coroutine and then calls link(). Mark a
// big link() [[gnu::always_inline]] to keep the hand-written shape (one out-of-line await_suspend;
// to_thread and run_on do: their test objects are then within 50 bytes of the hand-written code).
//
// The derived awaiter provides (private, with `friend base;`, or public):
//   void link(task_core& t)            registers with the source; the last action of await_suspend.
//                                       May throw: the base un-parks the task and rethrows.
//   bool link(task_core& t)            the same, but may also decline without throwing (it stored
//                                       the error for await_resume): false = not linked, the base
//                                       un-parks the task and does not suspend.
//   bool abort_wait() noexcept         called by cancel() while the task is parked here: unlink
//                                       from the source; true if the wait was still pending (the
//                                       base schedules the task), false if a wake-up scheduled it
//                                       already (await_resume raises all the same).
// and writes await_ready, await_resume (starting with check_cancelled(), or unpark() when it has
// something to undo first) and a destructor that unlinks it: the frame can be destroyed while
// parked (loop close, a cancelled lazy chain), and then nobody calls abort_wait.
//
// Example: a wait for a one-shot source that calls back `on_fire(self)` when it fires.
//
//   class fire_awaiter : public parked_awaiter<fire_awaiter> {
//     using base = parked_awaiter<fire_awaiter>;
//     friend base;
//
//    public:
//     explicit fire_awaiter(source& s) noexcept : source_(&s) {}
//     ~fire_awaiter() { if (linked_) source_->remove(*this); }
//     [[nodiscard]] auto await_ready() const noexcept -> bool { return source_->fired(); }
//     void await_resume() {
//       if (task_) check_cancelled();  // task_ is null when await_ready found it fired
//     }
//     static void on_fire(fire_awaiter& a) noexcept {  // called by the source, which unlinked it
//       a.linked_ = false;
//       a.wake();
//     }
//
//    private:
//     void link(task_core&) {
//       source_->add(*this);  // may throw
//       linked_ = true;
//     }
//     auto abort_wait() noexcept -> bool {
//       if (!linked_) return false;  // fired already: scheduled, await_resume raises
//       source_->remove(*this);
//       linked_ = false;
//       return true;
//     }
//     source* source_;
//     bool linked_ = false;
//   };
//
// Not for waits whose wake-up hands something over that a cancel must pass on (locks, semaphores,
// queue items): those use sync/detail/handoff_awaiter.hpp. Waits on a waiter_list with nothing
// handed over use sync/detail/wakeup_awaiter.hpp, which adds the list and the "movable until
// awaited" rule.
// A parked_awaiter cannot move: await it directly, or wrap it in a coroutine (core/awaitable.hpp).
#include <coroutine>
#include <type_traits>
#include <utility>

#include <asyncio/detail/running_task.hpp>
#include <asyncio/detail/suspension.hpp>

namespace asyncio::detail {

struct loop_access;  // core/event_loop.hpp, included wherever an awaiter is instantiated

template <class Derived>
class parked_awaiter : protected suspension {
 public:
  parked_awaiter(const parked_awaiter&) = delete;
  auto operator=(const parked_awaiter&) -> parked_awaiter& = delete;

  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept(link_is_noexcept()) -> bool {
    return park_and_link(task_of(h), h);
  }

  /// The source woke this wait: schedules the task. It stays parked here until it resumes, so a
  /// cancel that comes first still interrupts it (docs/design.md, "Lose nothing": nothing is lost).
  void wake() noexcept { loop_door::schedule(task_->loop(), *task_); }

  /// The task parked here (null before await_suspend).
  [[nodiscard]] auto parked_task() const noexcept -> task_core* { return task_; }

 protected:
  parked_awaiter() noexcept { suspension::abort = &on_abort; }
  ~parked_awaiter() = default;

  /// await_suspend's work, for a derived await_suspend that checks something first (and may then
  /// return false without parking). `t` must be task_of(h).
  // Always inline: it is a few stores around link(), and the io waits call it from their own
  // await_suspend, where clang otherwise kept it out of line (a call per wait on the echo path).
  [[gnu::always_inline]] auto park_and_link(task_core& t, std::coroutine_handle<> h) noexcept(link_is_noexcept())
      -> bool {
    task_ = &t;
    if (!t.park(*this, h)) return false;  // a cancel is pending: await_resume raises it
    if constexpr (link_is_noexcept()) {
      return link_into(t);
    } else {
      try {
        return link_into(t);
      } catch (...) {
        t.clear_waiting(*this);  // not parked after all: a later cancel must not abort this awaiter
        throw;
      }
    }
  }

  /// First in await_resume: un-parks the task; true if the wait was aborted by a cancel (or a
  /// pending cancel kept it from parking). The caller then undoes what it must and calls
  /// throw_cancelled().
  [[nodiscard]] auto unpark() noexcept -> bool { return task_->unpark(*this); }
  /// Raises the task's cancellation (cancelled_error with its message).
  [[noreturn]] void throw_cancelled() { task_->throw_cancelled(); }
  /// First in await_resume when nothing needs undoing: raises cancelled_error if the wait was aborted.
  void check_cancelled() {
    if (task_->unpark(*this)) task_->throw_cancelled();
  }

  task_core* task_ = nullptr;

 private:
  // The loop's door (loop_access), named through Derived so that it is looked up where an awaiter
  // is instantiated, which includes core: this header stays in the base layer (docs/design.md,
  // "Layers"; scripts/check_layers.py).
  template <class>
  struct late {
    using access = loop_access;
  };
  using loop_door = typename late<Derived>::access;

  static constexpr auto link_is_noexcept() noexcept -> bool {
    return noexcept(std::declval<Derived&>().link(std::declval<task_core&>()));
  }
  auto self() noexcept -> Derived& { return static_cast<Derived&>(*this); }

  // link() returns void (always linked) or bool (false: declined; un-park, do not suspend).
  auto link_into(task_core& t) noexcept(link_is_noexcept()) -> bool {
    if constexpr (std::is_void_v<decltype(self().link(t))>) {
      self().link(t);
      return true;
    } else {
      if (self().link(t)) [[likely]]
        return true;
      t.clear_waiting(*this);
      return false;
    }
  }

  static void on_abort(suspension* s, task_core& t) noexcept {
    auto& self = static_cast<parked_awaiter&>(*s).self();
    if (self.abort_wait()) loop_door::schedule(t.loop(), t);
  }
};

}  // namespace asyncio::detail
