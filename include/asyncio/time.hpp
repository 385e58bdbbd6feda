#pragma once
// Time layer: a task sleeping on its loop's clock.
//
//   asyncio::sleep(d)              suspend for d; sleep(0s) yields to the loop
//   asyncio::sleep_until(when)     suspend until `when` on the loop's clock (loop.time())
//
// The clock itself (asyncio::clock, duration, time_point, clock_source) is core's, since the event
// loop reads it (core/clock.hpp, included here); so are the deadlines on other awaits:
// asyncio::wait_for(aw, d) and asyncio::timeout(d, body) (<asyncio/core.hpp>).
#include <asyncio/core/clock.hpp>
#include <asyncio/time/sleep.hpp>
