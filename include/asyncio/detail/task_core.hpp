#pragma once
// The task and future state, one concept per header; this one includes them all, so that code
// that needs the whole picture (and every older includer) includes just this.
//   detail/suspension.hpp     the suspension interface for awaiter authors: suspension, task_of,
//                             and the cancellation protocol (park/unpark/clear_waiting/repark)
//   detail/completion.hpp     completion: outcome, waiters, callbacks, references, extras
//                             (Python's Future without its result); future_base
//   detail/task_base.hpp      task_base: what a task handle points at (cancel, loop, name)
//   detail/running_task.hpp   task_core: a running task (its suspension and innermost frame)
//   detail/finished_task.hpp  finished_task: a task finished inside create_task, without a frame
//
// Which member of the header's shared words is live depends on what the object is now (a task or
// a frame, pending or done, compact or not); the accessors check it in debug builds
// (detail/debug_check.hpp) and cost nothing in release builds.
#include <asyncio/detail/completion.hpp>
#include <asyncio/detail/finished_task.hpp>
#include <asyncio/detail/running_task.hpp>
#include <asyncio/detail/suspension.hpp>
#include <asyncio/detail/task_base.hpp>
