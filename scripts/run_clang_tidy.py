#!/usr/bin/env python3
"""The ctest lint.clang_tidy: the clang-tidy profile users adopt (tools/clang-tidy/asyncio.clang-tidy,
docs/coroutine_lifetimes.md §4) holds for the examples, and it does catch the coroutine traps.

1. Every source given is checked with the build's compile_commands.json; any diagnostic fails
   (the profile turns warnings into errors; a justified exception is a NOLINT with its reason).
2. The traps file (tests/lint/coroutine_traps.cpp) is checked on its own (it is in no build): each
   line marked `// trap: <check>` must be flagged by that check, and nothing else may be flagged.

Usage: run_clang_tidy.py CLANG_TIDY CONFIG BUILD_DIR INCLUDE_DIR TRAPS SOURCE...
Runs two clang-tidy processes at a time (ASYNCIO_TIDY_JOBS overrides).
"""
import concurrent.futures
import os
import re
import subprocess
import sys

DIAG = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):\d+: (?:warning|error): .*\[(?P<checks>[^\]]+)\]$")
TRAP = re.compile(r"//\s*trap:\s*([a-z][\w.-]*)")


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def diagnostics(output, path):
    """(line, check) of each diagnostic reported in `path`."""
    found = []
    for text in output.splitlines():
        m = DIAG.match(text)
        if m and os.path.realpath(m["file"]) == os.path.realpath(path):
            checks = [c for c in m["checks"].split(",") if c and not c.startswith("-")]
            found += [(int(m["line"]), c) for c in checks]
    return found


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    tidy, config, build_dir, include_dir, traps, *sources = argv[1:]
    jobs = int(os.environ.get("ASYNCIO_TIDY_JOBS", "2"))
    base = [tidy, f"--config-file={config}", "--quiet"]

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        checks = {pool.submit(run, base + ["-p", build_dir, src]): src for src in sources}
        trap_run = pool.submit(run, base + [traps, "--", "-std=c++20", f"-I{include_dir}"])
        for fut in concurrent.futures.as_completed(checks):
            src = checks[fut]
            rc, out = fut.result()
            if rc != 0 or diagnostics(out, src):
                failures.append(f"{src}: clang-tidy found problems (fix them, or NOLINT with the reason):\n{out}")
        _, out = trap_run.result()

    expected = set()
    with open(traps, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            m = TRAP.search(text)
            if m:
                expected.add((number, m[1]))
    got = set(diagnostics(out, traps))
    if not expected:
        failures.append(f"{traps}: no `// trap: <check>` line")
    for line, check in sorted(expected - got):
        failures.append(f"{traps}:{line}: {check} did not fire")
    for line, check in sorted(got - expected):
        failures.append(f"{traps}:{line}: unexpected {check}")
    if expected - got or got - expected:
        failures.append(f"clang-tidy output for {traps}:\n{out}")

    for f in failures:
        print(f, file=sys.stderr)
    print(f"clang-tidy: {len(sources)} sources clean, {len(expected & got)} of {len(expected)} traps caught"
          if not failures else f"clang-tidy: {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
