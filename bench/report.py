#!/usr/bin/python3
"""Median table, spread table, ratios and goal check from harness logs.

Usage: report.py LOG [LOG...]

Each log line is "REP workload peer value unit bg=<cores> wall=<s>" (written by the peers' harness,
docs/benchmarks.md §1). The reference is peer "asyncio_cpp" (this library, clang++-16).
A ratio is how many times better asyncio_cpp is than the peer: peer/ours for costs (ns, us, B),
ours/peer for rates (items/s); above 1 means asyncio_cpp is ahead.
"""
import statistics
import sys
from collections import defaultdict

OURS = "asyncio_cpp"
ORDER = ["asyncio_cpp", "asyncio_cpp-lazy", "asyncio_cpp-gcc", "asyncio_cpp-gcc-lazy",
         "asyncio", "uvloop", "asio", "tokio", "tokio-bt4", "go-P1", "go-P2"]
# Goals (docs/benchmarks.md §3): (workload, bound, kind) with kind "max" (value <= bound) or "min".
GOALS = [  # lock: no numeric goal (compare with the peers)
("W1_spawn", 40, "max"), ("W2_switch", 15, "max"), ("W3_memory", 160, "max"),
         ("W6_timers_cpu", 0.5, "max"), ("W5_queue", 50, "min"), ("W4_to_thread", 0.5, "max")]
# Minimum lead over a named peer: W1 5x tokio, W2 4x Go (GOMAXPROCS=1), W3 below tokio; W5 2x Go;
# W4 80x asyncio and ahead of Go and tokio (both tokio pool sizes).
LEADS = [("W1_spawn", "tokio", 5.0), ("W2_switch", "go-P1", 4.0), ("W3_memory", "tokio", 1.0),
         ("W5_queue", "go-P1", 2.0), ("W5_queue", "go-P2", 2.0), ("W4_to_thread", "asyncio", 80.0),
         ("W4_to_thread", "go-P2", 1.0), ("W4_to_thread", "tokio", 1.0), ("W4_to_thread", "tokio-bt4", 1.0)]

vals, units, bgs = defaultdict(list), {}, defaultdict(list)
for path in sys.argv[1:]:
    for line in open(path):
        f = line.split()
        if len(f) != 7:
            continue
        _rep, wl, peer, value, unit, bg, _wall = f
        scale = 1e6 if unit == "items/s" else 1.0
        vals[wl, peer].append(float(value) / scale)
        units[wl] = "M items/s" if unit == "items/s" else unit
        bgs[wl, peer].append(float(bg[3:]))

if not vals:
    sys.exit("no measurements in " + " ".join(sys.argv[1:]))
workloads = sorted(units)
present = {p for _, p in vals}
peers = [p for p in ORDER if p in present] + sorted(present - set(ORDER))
med = {k: statistics.median(v) for k, v in vals.items()}


def fmt(x):
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def higher_is_better(wl):
    return units[wl] == "M items/s"


def ratio(wl, peer, ref=OURS):
    """How many times asyncio_cpp (or ref) is ahead of peer on wl (None if either is missing)."""
    a, b = med.get((wl, ref)), med.get((wl, peer))
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return a / b if higher_is_better(wl) else b / a


def table(title, cell):
    print(f"\n{title}\n")
    print("| workload | unit | " + " | ".join(peers) + " |")
    print("|---|---|" + "---|" * len(peers))
    for w in workloads:
        cells = [cell(w, p) if (w, p) in vals else "-" for p in peers]
        print(f"| {w} | {units[w]} | " + " | ".join(cells) + " |")


n = max(len(v) for v in vals.values())
table(f"Median of {n} run(s)", lambda w, p: fmt(med[w, p]))
table("Spread: min..max (max background load in cores)",
      lambda w, p: f"{fmt(min(vals[w, p]))}..{fmt(max(vals[w, p]))} ({max(bgs[w, p]):.2f})")

print("\nRatios (peer's median / asyncio_cpp's, so >1 = asyncio_cpp ahead; rates inverted)\n")
for w in workloads:
    if (w, OURS) not in med:
        continue
    others = [p for p in peers if p != OURS and not p.startswith(OURS) and (w, p) in med]
    for ref in [OURS] + [p for p in peers if p.startswith(OURS + "-") and (w, p) in med]:
        parts = [f"{p} {ratio(w, p, ref):.3g}x" for p in others]
        if not parts:
            continue
        word = "more bytes per task than" if units[w].startswith("B/") else "slower than"
        print(f"- {w} ({units[w]}; {ref} {fmt(med[w, ref])}): " + ", ".join(parts) + f" {word} {ref}")

print("\nGoals (docs/benchmarks.md §3), from the medians above\n")
for w, bound, kind in GOALS:
    if (w, OURS) not in med:
        continue
    v = med[w, OURS]
    ok = v <= bound if kind == "max" else v >= bound
    behind = [p for p in peers if not p.startswith(OURS) and (ratio(w, p) or 2) < 1]
    print(f"- {w}: {fmt(v)} {units[w]} (goal {'<=' if kind == 'max' else '>='} {bound}): "
          f"{'met' if ok else 'MISSED'}; "
          + (f"behind {', '.join(behind)}" if behind else "ahead of every peer measured"))
for w, peer, lead in LEADS:
    r = ratio(w, peer)
    if r is not None:
        print(f"- {w} lead over {peer}: {r:.3g}x (goal >= {lead}x): {'met' if r >= lead and r > 1 else 'MISSED'}")
