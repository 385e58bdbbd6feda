#pragma once
// distinct_tasks: a list of task handles with the repeats dropped, and the cores to watch.
//
// Why: wait() and as_completed() take a *set* of tasks in Python; given the same task twice, they
// must watch it once and report it once. The lists are short and handles are not hashable, so a
// linear scan per handle is the simplest thing that keeps the caller's order.
#include <utility>
#include <vector>

#include <asyncio/detail/task_core.hpp>

namespace asyncio::detail {

template <class H>
struct distinct_tasks {
  std::vector<H> handles;         // first occurrence of each task, in the caller's order
  std::vector<task_base*> cores;  // cores[i] == handles[i].core()
};

/// Moves the first handle of each distinct task out of `tasks`.
template <class H>
auto drop_repeated_tasks(std::vector<H>& tasks) -> distinct_tasks<H> {
  distinct_tasks<H> out;
  for (auto& h : tasks) {
    bool seen = false;
    for (auto* c : out.cores) seen = seen || c == h.core();
    if (seen) continue;
    out.cores.push_back(h.core());
    out.handles.push_back(std::move(h));
  }
  return out;
}

}  // namespace asyncio::detail
