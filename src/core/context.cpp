// Task-local values: the per-task map and the copy-on-write protocol (see core/context.hpp).
#include <asyncio/core/context.hpp>
#include <asyncio/core/event_loop.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace asyncio::detail {

/// A small map from variable id to value. Values are immutable and shared, so cloning a context
/// (the first set() after create_task shared it) copies only the pointers.
struct context_data {
  std::uint32_t refs = 1;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const void>>> values;
};

namespace {
std::atomic<std::uint64_t> next_var_id{1};
thread_local context_ref thread_context;

auto running_task() noexcept -> task_core* {
  event_loop* loop = running_loop();
  return loop ? detail::loop_access::current_task(*loop) : nullptr;
}
}  // namespace

void release_context(context_data* c) noexcept {
  if (--c->refs == 0) delete c;
}

auto share_context(context_data* c) noexcept -> context_data* {
  ++c->refs;
  return c;
}

void inherit_thread_context(task_core& t) {
  if (thread_context) [[unlikely]] t.extras().context = context_ref(share_context(thread_context.get()));
}

auto current_context() noexcept -> context_data* {
  if (task_core* t = running_task()) {
    completion_extras* e = t->extras_or_null();
    return e ? e->context.get() : nullptr;
  }
  return thread_context.get();
}

auto writable_context() -> context_data& {
  task_core* t = running_task();
  context_ref& ref = t ? t->extras().context : thread_context;
  if (!ref) {
    ref = context_ref(new context_data);
  } else if (ref.get()->refs > 1) {
    auto* copy = new context_data;
    copy->values = ref.get()->values;
    ref = context_ref(copy);  // copy-on-write: the other holders keep the old map
  }
  return *ref.get();
}

auto current_context_owner() noexcept -> const void* {
  if (task_core* t = running_task()) return t;
  return &thread_context;
}

auto context_lookup(const context_data* c, std::uint64_t var) noexcept -> const std::shared_ptr<const void>* {
  if (!c) return nullptr;
  for (const auto& [id, value] : c->values) {
    if (id == var) return &value;
  }
  return nullptr;
}

void context_store(context_data& c, std::uint64_t var, std::shared_ptr<const void> value) {
  for (auto it = c.values.begin(); it != c.values.end(); ++it) {
    if (it->first == var) {
      if (value) it->second = std::move(value);
      else c.values.erase(it);
      return;
    }
  }
  if (value) c.values.emplace_back(var, std::move(value));
}

auto new_context_var_id() noexcept -> std::uint64_t { return next_var_id.fetch_add(1, std::memory_order_relaxed); }

void throw_context_lookup(const std::string& name) {
  throw lookup_error("context_var '" + name + "' has no value and no default");
}

void throw_used_token() { throw invalid_state_error("the token has already been used once"); }
void throw_foreign_token(const char* why) { throw std::invalid_argument(why); }

auto copy_current_context() -> context_ref {
  const context_data* c = current_context();
  if (!c || c->values.empty()) return {};
  auto* copy = new context_data;
  copy->values = c->values;
  return context_ref(copy);
}

thread_context_scope::thread_context_scope(context_ref c) noexcept : saved_(std::move(thread_context)) {
  thread_context = std::move(c);
}

thread_context_scope::~thread_context_scope() { thread_context = std::move(saved_); }

}  // namespace asyncio::detail
