// semaphore / bounded_semaphore: the cold parts (errors, description).
#include <asyncio/errors.hpp>
#include <asyncio/sync/semaphore.hpp>

#include <ostream>
#include <stdexcept>

namespace asyncio {

auto semaphore::describe_as(const char* kind) const -> std::string {
  std::string s = std::string("<") + kind + (value_ == 0 ? " locked" : " unlocked");
  s += " value=" + std::to_string(value_);
  if (!waiters_.empty()) s += " waiters=" + std::to_string(waiters_.size());
  return s + ">";
}

auto semaphore::describe() const -> std::string { return describe_as("semaphore"); }
auto operator<<(std::ostream& os, const semaphore& s) -> std::ostream& { return os << s.describe(); }

void semaphore::throw_negative_value(std::ptrdiff_t value) {
  throw std::invalid_argument("semaphore: initial value must be >= 0, not " + std::to_string(value));
}

void bounded_semaphore::throw_over_release() {
  throw std::invalid_argument("bounded_semaphore released too many times");
}
auto bounded_semaphore::describe() const -> std::string { return describe_as("bounded_semaphore"); }
auto operator<<(std::ostream& os, const bounded_semaphore& s) -> std::ostream& { return os << s.describe(); }

}  // namespace asyncio
