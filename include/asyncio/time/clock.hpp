#pragma once
// asyncio::clock, duration, time_point and clock_source, under the name they had before the clock
// moved into core (the event loop reads it, and core comes before time: docs/design.md, "Layers").
// New code includes <asyncio/core/clock.hpp>.
#include <asyncio/core/clock.hpp>
