// event: the cold parts (description).
#include <asyncio/sync/event.hpp>

#include <ostream>

namespace asyncio {

auto event::describe() const -> std::string {
  std::string s = is_set_ ? "<event set" : "<event unset";
  if (!waiters_.empty()) s += " waiters=" + std::to_string(waiters_.size());
  return s + ">";
}

auto operator<<(std::ostream& os, const event& e) -> std::ostream& { return os << e.describe(); }

}  // namespace asyncio
