#pragma once
// Everything a Python asyncio user reaches for (like asyncio/__init__.py).
#include <asyncio/core.hpp>
#include <asyncio/time.hpp>
#include <asyncio/net.hpp>
#include <asyncio/sync.hpp>
#include <asyncio/threads.hpp>
#include <asyncio/signal.hpp>
#include <asyncio/process.hpp>
#include <asyncio/fs.hpp>
#include <asyncio/debug.hpp>
