// lock: the cold parts (errors, description).
#include <asyncio/errors.hpp>
#include <asyncio/sync/lock.hpp>

#include <ostream>

namespace asyncio {

void lock::throw_not_locked() { throw invalid_state_error("lock is not acquired"); }

auto lock::describe() const -> std::string {
  std::string s = locked_ ? "<lock locked" : "<lock unlocked";
  if (!waiters_.empty()) s += " waiters=" + std::to_string(waiters_.size());
  return s + ">";
}

auto operator<<(std::ostream& os, const lock& m) -> std::ostream& { return os << m.describe(); }

}  // namespace asyncio
