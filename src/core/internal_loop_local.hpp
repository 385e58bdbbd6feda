#pragma once
// Per-loop state for the layers above core (signal handlers, child watchers) without adding a member
// to event_loop for each of them: a process-wide map from loop to state, created on first use and
// destroyed by a call_at_close hook when the loop closes. Lookups happen only when a handler is added
// or a child is spawned, never per iteration, so a mutex-protected map is cheap enough.
// Private header (never installed).
#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

#include <mutex>
#include <unordered_map>

namespace asyncio::detail {

template <class T>
class loop_local {
 public:
  /// The state of `loop`, created (T(loop)) on first use. Loop thread only.
  /// Throws: asyncio::error if the loop is closed (its close hooks already ran).
  static auto get(event_loop& loop) -> T& {
    if (T* existing = find(loop)) return *existing;
    if (loop.is_closed()) throw invalid_state_error("event loop is closed");
    auto* state = new T(loop);
    {
      std::lock_guard lock(mutex());
      map()[&loop] = state;
    }
    detail::loop_access::call_at_close(loop, [&loop] {
      T* s = nullptr;
      {
        std::lock_guard lock(mutex());
        auto it = map().find(&loop);
        if (it == map().end()) return;
        s = it->second;
        map().erase(it);
      }
      s->on_loop_close();
      delete s;
    });
    return *state;
  }
  /// The state of `loop`, or null if it never needed one.
  static auto find(event_loop& loop) -> T* {
    std::lock_guard lock(mutex());
    auto it = map().find(&loop);
    return it == map().end() ? nullptr : it->second;
  }

 private:
  static auto mutex() -> std::mutex& {
    static std::mutex m;
    return m;
  }
  static auto map() -> std::unordered_map<event_loop*, T*>& {
    static std::unordered_map<event_loop*, T*> m;
    return m;
  }
};

}  // namespace asyncio::detail
