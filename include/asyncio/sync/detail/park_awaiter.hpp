#pragma once
// park_awaiter: "wait until someone wakes this list", for primitives that re-check their own
// state after every wake-up (barrier). Nothing is handed over, so nothing can be lost: a late
// cancel still interrupts the wait, as for event.
#include <asyncio/core/task.hpp>
#include <asyncio/detail/waiter_list.hpp>
#include <asyncio/sync/detail/wakeup_awaiter.hpp>

namespace asyncio::detail {

class park_awaiter : public wakeup_awaiter<park_awaiter> {
  using base = wakeup_awaiter<park_awaiter>;
  friend base;

 public:
  using list = waiter_list<park_awaiter>;

  explicit park_awaiter(list& l) noexcept : list_(&l) {}
  park_awaiter(const park_awaiter&) = delete;
  auto operator=(const park_awaiter&) -> park_awaiter& = delete;
  ~park_awaiter() { unlink(); }

  [[nodiscard]] auto await_ready() const noexcept -> bool { return false; }

  /// Wakes every waiter of `l` (oldest first).
  static void wake_all(list& l) noexcept {
    while (park_awaiter* w = l.pop_front()) w->wake();
  }

 private:
  auto waiters() noexcept -> list& { return *list_; }

  list* list_;
};

}  // namespace asyncio::detail
