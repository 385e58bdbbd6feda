// condition: the cold parts (errors, notify, description).
#include <asyncio/sync/condition.hpp>

#include <ostream>

namespace asyncio {

void condition::throw_not_locked(const char* what) {
  throw invalid_state_error(std::string("cannot ") + what + " on an un-acquired condition lock");
}

void condition::notify(std::size_t n) {
  if (!lock_->locked()) throw_not_locked("notify");
  wake(n);
}

auto condition::describe() const -> std::string {
  std::string s = lock_->locked() ? "<condition locked" : "<condition unlocked";
  if (!waiters_.empty()) s += " waiters=" + std::to_string(waiters_.size());
  return s + ">";
}

auto operator<<(std::ostream& os, const condition& c) -> std::ostream& { return os << c.describe(); }

}  // namespace asyncio
