#pragma once
// Debug layer: what every task is doing (the task tree). Debug mode itself (slow steps, tasks
// never run, exceptions never retrieved) is part of the loop: event_loop::set_debug.
#include <asyncio/debug/task_tree.hpp>
