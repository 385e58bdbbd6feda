// The task tree: a snapshot of the loop's registry plus each task's waiter list (see the header).
#include <asyncio/core/event_loop.hpp>
#include <asyncio/debug/task_tree.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <unordered_map>

namespace asyncio {
namespace {

// The tasks waiting for t, in the order they started waiting (the list is newest first).
auto awaiters_of(const detail::task_core& t) -> std::vector<any_task> {
  std::vector<any_task> out;
  for (const detail::completion_waiter* w = t.newest_waiter(); w; w = w->next) {
    // A watch node keeps the task it watches for in `task` (core/detail/watch.hpp); null if it was
    // started outside any task (as_completed called from a callback).
    if (!w->task) continue;
    any_task awaiter(w->task);
    if (std::find(out.begin(), out.end(), awaiter) == out.end()) out.push_back(std::move(awaiter));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

auto status_of(const event_loop& loop, const detail::task_core& t, bool starting) -> task_status {
  if (starting || detail::loop_access::current_task(loop) == &t) return task_status::running;
  return t.waiting() ? task_status::suspended : task_status::ready;
}

auto describe(const task_info& t) -> std::string {
  std::string line = t.name + " [" + to_string(t.status) + "]";
  if (t.created_at.line() != 0) {
    std::string_view file = t.created_at.file_name();
    line += " created at ";
    line += file;
    line += ':' + std::to_string(t.created_at.line());
  }
  return line;
}

// Prints the tree below each root: children[i] are the tasks task i awaits.
class tree_printer {
 public:
  explicit tree_printer(const std::vector<task_info>& tasks) : tasks_(tasks), state_(tasks.size(), unseen) {
    std::unordered_map<detail::task_base*, std::size_t> index;
    for (std::size_t i = 0; i < tasks_.size(); ++i) index.emplace(tasks_[i].task.core(), i);
    children_.resize(tasks_.size());
    is_awaited_.resize(tasks_.size(), false);
    for (std::size_t j = 0; j < tasks_.size(); ++j) {
      for (const any_task& awaiter : tasks_[j].awaited_by) {
        auto it = index.find(awaiter.core());
        if (it == index.end()) continue;  // not in the snapshot (cannot happen for live tasks)
        children_[it->second].push_back(j);
        is_awaited_[j] = true;
      }
    }
  }

  auto print() -> std::string {
    if (tasks_.empty()) return "(no unfinished tasks)\n";
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (!is_awaited_[i]) print_node(i, "", "");
    }
    // What is left awaits in a circle (A awaits B awaits A): no root reaches it.
    bool heading = false;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (state_[i] != unseen) continue;
      if (!heading) out_ += "wait cycle (these tasks await each other: a deadlock):\n";
      heading = true;
      print_node(i, "", "");
    }
    return out_;
  }

 private:
  enum mark : std::uint8_t { unseen, on_path, printed };

  void print_node(std::size_t i, const std::string& first, const std::string& rest) {
    if (state_[i] == on_path) {
      out_ += first + tasks_[i].name + " (wait cycle)\n";
      return;
    }
    if (state_[i] == printed) {
      out_ += first + tasks_[i].name + " (see above)\n";
      return;
    }
    out_ += first + describe(tasks_[i]) + '\n';
    state_[i] = on_path;
    const auto& kids = children_[i];
    for (std::size_t k = 0; k < kids.size(); ++k) {
      bool last = k + 1 == kids.size();
      print_node(kids[k], rest + (last ? "└── " : "├── "), rest + (last ? "    " : "│   "));
    }
    state_[i] = printed;
  }

  const std::vector<task_info>& tasks_;
  std::vector<mark> state_;
  std::vector<std::vector<std::size_t>> children_;
  std::vector<bool> is_awaited_;
  std::string out_;
};

}  // namespace

auto to_string(task_status s) noexcept -> const char* {
  switch (s) {
    case task_status::running: return "running";
    case task_status::ready: return "ready";
    case task_status::suspended: return "suspended";
  }
  return "?";
}

auto task_snapshot() -> std::vector<task_info> {
  event_loop& loop = get_running_loop();
  std::vector<task_info> out;
  auto add = [&](detail::task_core* t, bool starting) {
    task_info info;
    info.task = any_task(t);
    info.name = t->task_name();
    info.status = status_of(loop, *t, starting);
    info.awaited_by = awaiters_of(*t);
    info.created_at = t->created_at();
    out.push_back(std::move(info));
  };
  out.reserve(detail::loop_access::tasks(loop).size());
  for (detail::task_core* t : detail::loop_access::tasks(loop)) add(t, false);
  // Tasks in their eager start are not in the registry yet (event_loop::start_task).
  detail::loop_access::for_each_starting_task(loop, [&](detail::task_core* t) { add(t, true); });
  return out;
}

auto format_task_tree() -> std::string {
  std::vector<task_info> tasks = task_snapshot();
  return tree_printer(tasks).print();
}

void print_task_tree(std::FILE* out) {
  std::string text = format_task_tree();
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

void dump_task_tree_on_signal(int sig, std::FILE* out) {
  get_running_loop().add_signal_handler(sig, [out] { print_task_tree(out); });
}

}  // namespace asyncio
