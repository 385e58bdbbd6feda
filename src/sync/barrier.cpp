// barrier: a port of CPython's Barrier state machine. CPython guards the state with a Condition;
// here the code between two suspension points already runs atomically, so a plain waiter list
// that is woken on every state change (and re-checked by each waiter) does the job.
#include <asyncio/sync/barrier.hpp>

#include <ostream>
#include <stdexcept>
#include <string>

namespace asyncio {

barrier::barrier(std::ptrdiff_t parties) : parties_(static_cast<std::size_t>(parties)) {
  if (parties < 1) throw std::invalid_argument("barrier: parties must be >= 1, not " + std::to_string(parties));
}

struct barrier::leave_guard {
  barrier* b;
  ~leave_guard() { b->leave(); }
};

auto barrier::wait() -> task<std::size_t> {
  // Block while the barrier drains or resets.
  while (state_ == state::draining || state_ == state::resetting) {
    co_await detail::park_awaiter(waiters_);
  }
  if (state_ == state::broken) throw broken_barrier_error();
  std::size_t index = count_++;
  leave_guard guard{this};
  if (index + 1 == parties_) {
    state_ = state::draining;  // the last one releases everybody
    detail::park_awaiter::wake_all(waiters_);
  } else {
    while (state_ == state::filling) co_await detail::park_awaiter(waiters_);
    if (state_ == state::broken || state_ == state::resetting) throw broken_barrier_error();
  }
  co_return index;
}

void barrier::leave() noexcept {
  --count_;
  if (count_ == 0) {
    if (state_ == state::resetting || state_ == state::draining) state_ = state::filling;
    detail::park_awaiter::wake_all(waiters_);  // tasks blocked while draining may enter now
  }
}

void barrier::reset() noexcept {
  if (count_ > 0) {
    if (state_ != state::resetting) state_ = state::resetting;
  } else {
    state_ = state::filling;
  }
  detail::park_awaiter::wake_all(waiters_);
}

void barrier::abort() noexcept {
  state_ = state::broken;
  detail::park_awaiter::wake_all(waiters_);
}

auto barrier::describe() const -> std::string {
  const char* names[] = {"filling", "draining", "resetting", "broken"};
  std::string s = std::string("<barrier ") + names[static_cast<int>(state_)];
  s += " waiters=" + std::to_string(n_waiting()) + "/" + std::to_string(parties_);
  return s + ">";
}

auto operator<<(std::ostream& os, const barrier& b) -> std::ostream& { return os << b.describe(); }

}  // namespace asyncio
