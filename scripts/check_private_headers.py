#!/usr/bin/env python3
"""Finds private headers that nothing includes.

A public header can be the user's to include; a private one exists only to be included by the
library or its tests. A private header that no other file includes is dead code that nothing
compiles, so nothing keeps it correct. Private means:
  - every header under src/ (never installed), and
  - every header in a detail/ folder under include/asyncio/ (include/asyncio/detail/ and a layer's
    own include/asyncio/<layer>/detail/: no stability promise, docs/design.md "Naming rules").

A header counts as used when another file under include/, src/, tests/, examples/ or bench/ includes
it: `#include <asyncio/...>` names include/asyncio/...; `#include "..."` is looked up next to the
including file, then in src/, include/ and tests/ (the include paths the build gives them).

Usage: check_private_headers.py [ROOT]     ROOT: the repository (default: this script's parent's parent)
Exit status 0 if every private header is included somewhere, 1 otherwise (one line per orphan).
"""
from __future__ import annotations

import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)
HEADER_SUFFIXES = {".hpp", ".h", ".ipp", ".inl"}
SOURCE_SUFFIXES = HEADER_SUFFIXES | {".cpp", ".cc"}
SEARCHED = ("include", "src", "tests", "examples", "bench")
QUOTED_ROOTS = ("src", "include", "tests")


def private_headers(root: pathlib.Path) -> list[pathlib.Path]:
    found = [p for p in (root / "src").rglob("*") if p.suffix in HEADER_SUFFIXES]
    found += [p for p in (root / "include" / "asyncio").rglob("*")
              if p.suffix in HEADER_SUFFIXES and "detail" in p.relative_to(root / "include" / "asyncio").parts[:-1]]
    return sorted(p for p in found if p.is_file())


def included_files(root: pathlib.Path) -> set[tuple[pathlib.Path, pathlib.Path]]:
    """(includer, included) pairs, both resolved, for every include that names a file of ours."""
    pairs = set()
    for top in SEARCHED:
        for path in (root / top).rglob("*"):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for kind, target in INCLUDE.findall(text):
                bases = [root / "include"] if kind == "<" else [path.parent] + [root / r for r in QUOTED_ROOTS]
                for base in bases:
                    candidate = base / target
                    if candidate.is_file():
                        pairs.add((path.resolve(), candidate.resolve()))
                        break
    return pairs


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    pairs = included_files(root)
    used = {included for includer, included in pairs if includer != included}
    orphans = [h for h in private_headers(root) if h.resolve() not in used]
    for h in orphans:
        print(f"{h.relative_to(root).as_posix()}: a private header that no other file includes "
              "(delete it, or include it where it is used)")
    return 1 if orphans else 0


if __name__ == "__main__":
    sys.exit(main())
