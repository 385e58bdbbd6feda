#!/usr/bin/env python3
"""Checks that every include in include/ and src/ goes down the layer order, never up or sideways.

The library is built in layers (docs/design.md, "Layers"); a file may include its own layer and the
layers before it, nothing else. This script reads every `#include <asyncio/...>` and `#include "..."`
in include/ and src/, gives the including file and the included file a layer each, and reports every
include of a later layer ("upward") or of another layer of the same rank ("peer"):

  include/asyncio/core/event_loop.hpp:12: core includes time (upward): <asyncio/time/clock.hpp>

Which layer a file belongs to:
  include/asyncio/<layer>/...        the directory under include/asyncio/ (lowlevel/ counts as core)
  include/asyncio/<layer>.hpp        the layer's umbrella header belongs to the layer
  src/<layer>/...                    the directory under src/ (a source of layer X implements X)
  include/asyncio/errors.hpp         detail (every layer throws the library's errors)
  include/asyncio/asyncio.hpp        the top (it includes every layer)
A layer's private plumbing lives in <layer>/detail/ and belongs to that layer; include/asyncio/detail/
is the base that every layer may use, so it includes only itself and the standard library.

Usage: check_layers.py [ROOT]     ROOT: the repository (default: the parent of this script's folder)
Exit status 0 if every include goes down the order, 1 otherwise (one line per violation).
"""
from __future__ import annotations

import pathlib
import re
import sys

# ---- the layer order ----------------------------------------------------------------------------
# THE one place the order is written down. docs/design.md ("Layers") describes the same order in
# prose: the two must agree, so change them together.
#
# One row per rank, earliest first. A file may include its own layer and any layer of an earlier
# rank. Layers sharing a rank are peers: none may include another (process, signal and fs are
# independent of each other; process reaps children with a pidfd, not SIGCHLD, so it needs no signal).
LAYER_ORDER = [
    ["detail"],                     # the base: task_core, timer heap, ring buffer; errors.hpp
    ["io"],                         # the readiness drivers (epoll) behind the loop
    ["core"],                       # tasks, the loop, its clock, futures, combinators; lowlevel/
    ["time"],                       # sleep
    ["sync"],                       # lock, event, condition, semaphore, barrier, queue
    ["threads"],                    # thread pool, to_thread, run_on, runtime
    ["net"],                        # sockets, streams, servers, TLS
    ["process", "signal", "fs"],    # peers
    ["http"],
    ["debug"],                      # task tree
    ["testing"],                    # virtual clock, run_virtual
    ["asyncio"],                    # asyncio.hpp: everything
]

# Directories and files whose layer is not their directory's name.
DIRECTORY_LAYER = {
    "lowlevel": "core",  # awaiters for extension authors, built on the core loop
}
FILE_LAYER = {
    "include/asyncio/errors.hpp": "detail",
    "include/asyncio/asyncio.hpp": "asyncio",
}
# ---------------------------------------------------------------------------------------------------

RANK = {layer: i for i, row in enumerate(LAYER_ORDER) for layer in row}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SUFFIXES = {".hpp", ".h", ".cpp", ".cc", ".ipp", ".inl"}


def layer_of(rel: str) -> str | None:
    """The layer of a repository-relative path (include/... or src/...), or None if it has none."""
    if rel in FILE_LAYER:
        return FILE_LAYER[rel]
    parts = rel.split("/")
    if parts[0] == "include" and len(parts) >= 3 and parts[1] == "asyncio":
        name = parts[2] if len(parts) > 3 else parts[2].rsplit(".", 1)[0]  # dir, or umbrella stem
    elif parts[0] == "src" and len(parts) >= 3:
        name = parts[1]
    else:
        return None
    return DIRECTORY_LAYER.get(name, name)


def resolve(root: pathlib.Path, src: pathlib.Path, kind: str, target: str) -> str | None:
    """The repository-relative path an include names, or None if it is not one of ours."""
    if kind == "<":
        return f"include/{target}" if target.startswith("asyncio/") else None
    # "...": next to the including file, then the private src/ root, then include/ (the -I order).
    for base in (src.parent, root / "src", root / "include"):
        candidate = (base / target).resolve()
        if candidate.is_file():
            try:
                return candidate.relative_to(root.resolve()).as_posix()
            except ValueError:
                return None
    # Not found (yet): a quoted include names a file under src/ by convention.
    return f"src/{target}"


def includes(path: pathlib.Path):
    """(line number, '<' or '"', target) of every include outside block comments."""
    in_comment = False
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if in_comment:
            if "*/" not in line:
                continue
            line = line.split("*/", 1)[1]
            in_comment = False
        m = INCLUDE.match(line)
        if m:
            yield number, m.group(1), m.group(2)
        elif "/*" in line.split("//", 1)[0] and "*/" not in line.split("/*", 1)[1]:
            in_comment = True


def check(root: pathlib.Path) -> list[str]:
    problems = []
    files = [p for top in ("include", "src") for p in sorted((root / top).rglob("*"))
             if p.is_file() and p.suffix in SUFFIXES]
    for path in files:
        rel = path.relative_to(root).as_posix()
        mine = layer_of(rel)
        if mine not in RANK:
            problems.append(f"{rel}:1: no layer '{mine}' in the layer order (scripts/check_layers.py)")
            continue
        for number, kind, target in includes(path):
            dep = resolve(root, path, kind, target)
            if dep is None:
                continue  # the standard library or a system header
            theirs = layer_of(dep)
            shown = f"<{target}>" if kind == "<" else f'"{target}"'
            if theirs not in RANK:
                problems.append(f"{rel}:{number}: {mine} includes {shown}, which has no layer")
            elif theirs == mine or RANK[theirs] < RANK[mine]:
                continue
            elif RANK[theirs] == RANK[mine]:
                problems.append(f"{rel}:{number}: {mine} includes {theirs} (peer): {shown}")
            else:
                problems.append(f"{rel}:{number}: {mine} includes {theirs} (upward): {shown}")
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        order = " -> ".join("/".join(row) for row in LAYER_ORDER)
        print(f"{len(problems)} include(s) against the layer order: {order}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
