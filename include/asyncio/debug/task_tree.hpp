#pragma once
// The live task tree: which tasks exist, what each is doing, and who awaits whom (Python 3.14's
// `python -m asyncio ps` and `pstree`, tokio-console's task list).
//
//   for (const auto& t : asyncio::task_snapshot()) use(t);   // one row per unfinished task
//   std::puts(asyncio::format_task_tree().c_str());           // the tree as text
//   asyncio::dump_task_tree_on_signal(SIGUSR1);                // `kill -USR1 <pid>` prints it to stderr
//
// A task is "awaited by" the tasks that wait for its outcome: a `co_await` on its handle, a shield,
// and the gather / wait / as_completed / task_group that watch it on a task's behalf. The tree puts
// every awaiting task above the tasks it awaits, so a hung program shows which leaf holds up whom.
// Nothing is recorded while the program runs: the snapshot reads the loop's registry and each
// task's waiter list, so the feature costs nothing until it is used.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <source_location>
#include <string>
#include <vector>

#include <asyncio/core/task_handle.hpp>

namespace asyncio {

/// What an unfinished task is doing at the moment of a snapshot.
enum class task_status : std::uint8_t {
  running,    ///< executing: the task that took the snapshot, or one whose eager start it runs in
  ready,      ///< on the ready queue: runs at the loop's next turn
  suspended,  ///< at an await, waiting to be woken (or woken already and about to be resumed)
};

/// The name of a task_status ("running", "ready", "suspended").
[[nodiscard]] auto to_string(task_status s) noexcept -> const char*;

/// One unfinished task of a snapshot (a row of Python's `asyncio ps`).
struct task_info {
  any_task task;
  std::string name;
  task_status status = task_status::ready;
  /// The tasks waiting for this one's outcome, in the order they started waiting.
  std::vector<any_task> awaited_by;
  /// Where the task was created: known in debug mode (loop.set_debug(true), ASYNCIO_DEBUG=1);
  /// otherwise line() is 0.
  std::source_location created_at;
};

/// Every unfinished task of the running loop, oldest first (Python's all_tasks() with what each
/// one does and who awaits it).
///
/// Throws: invalid_state_error if no loop runs on this thread.
/// Thread safety: call on the loop's thread (from a task or a callback).
[[nodiscard]] auto task_snapshot() -> std::vector<task_info>;

/// The running loop's tasks as a tree (Python's `asyncio pstree`): one line per task, its name,
/// status and (in debug mode) where it was created; below each task the tasks it awaits. A task
/// awaited by several tasks appears under each of them (in full under the first, then as
/// "(see above)"); tasks that await each other in a cycle, which is a deadlock, are listed under a
/// "wait cycle" heading.
///
/// Throws and thread safety: as task_snapshot().
[[nodiscard]] auto format_task_tree() -> std::string;

/// Writes format_task_tree() to `out` (stderr by default) and flushes it.
///
/// Throws and thread safety: as task_snapshot().
void print_task_tree(std::FILE* out = stderr);

/// From now on, whenever the process receives `sig` (default SIGUSR1), prints the running loop's
/// task tree to `out` (default stderr), from a loop callback so that the snapshot is consistent.
/// `out` must stay open while the handler is installed. Undo it with
/// get_running_loop().remove_signal_handler(sig).
///
/// Throws: as event_loop::add_signal_handler (invalid signal, a signal another loop handles).
/// Thread safety: call on the loop's thread.
void dump_task_tree_on_signal(int sig = SIGUSR1, std::FILE* out = stderr);

}  // namespace asyncio
