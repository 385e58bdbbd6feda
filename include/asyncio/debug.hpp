#pragma once
// Debug layer: what every task is doing (the task tree). Debug mode itself (slow steps, where
// tasks were created, use from the wrong thread) is part of the loop: event_loop::set_debug.
// Coroutines never awaited and exceptions never retrieved are reported in any mode.
#include <asyncio/debug/task_tree.hpp>
