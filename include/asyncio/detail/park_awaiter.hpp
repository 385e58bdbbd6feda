#pragma once
// park_awaiter: "wait until someone wakes this list", for primitives that re-check their own
// state after every wake-up (barrier). Nothing is handed over, so nothing can be lost: a late
// cancel still interrupts the wait, as for event.
#include <coroutine>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/waiter_list.hpp>

namespace asyncio::detail {

class park_awaiter : suspension, public waiter_node {
 public:
  using list = waiter_list<park_awaiter>;

  explicit park_awaiter(list& l) noexcept : list_(&l) { suspension::abort = &on_abort; }
  park_awaiter(const park_awaiter&) = delete;
  auto operator=(const park_awaiter&) -> park_awaiter& = delete;
  ~park_awaiter() { list_->remove(*this); }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept -> bool {
    task_core& t = task_of(h);
    task_ = &t;
    if (!t.park(*this, h)) return false;
    list_->push_back(*this);  // last action
    return true;
  }
  void await_resume() {
    if (task_->unpark(*this)) task_->throw_cancelled();
  }

  /// Wakes every waiter of `l` (oldest first).
  static void wake_all(list& l) noexcept {
    while (park_awaiter* w = l.pop_front()) w->task_->loop().schedule(*w->task_);
  }

 private:
  static void on_abort(suspension* self, task_core& t) noexcept {
    auto* w = static_cast<park_awaiter*>(self);
    if (!w->linked) return;  // woken already: scheduled, will raise
    w->list_->remove(*w);
    t.loop().schedule(t);
  }

  list* list_;
  task_core* task_ = nullptr;
};

}  // namespace asyncio::detail
