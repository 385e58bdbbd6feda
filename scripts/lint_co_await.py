#!/usr/bin/env python3
"""Finds co_await expressions that g++ 12 miscompiles.

g++ 12 destroys twice every aggregate-initialised temporary with a non-trivial destructor that lives in
a co_await full-expression (docs/toolchain.md §5.5; repro in docs/design.md "Compiler traps"): a double free, or a
reference count that drops below zero. Two shapes reach our code:

  co_await start_server([state](stream_reader r, stream_writer w) -> task<> {...}, host, port);
  co_await create_subprocess_exec("cat", {}, {.std_in = redirect::pipe});

This check flags, inside each co_await full-expression, a lambda that captures anything by copy and a
designated initialiser `{.name = ...}`. The fix is to name the object in a statement of its own first.
Lambdas that capture only by reference are not flagged (their closure has a trivial destructor).

A file that shows the miscompiled shapes on purpose says `lint_co_await: skip` in a comment
(tests/toolchain/co_await_temporaries.cpp, the canary that checks which shapes g++ 12 gets wrong).

Usage: lint_co_await.py DIR... (exit status 1 and one line per finding if any)
"""
import pathlib
import re
import sys

CO_AWAIT = re.compile(r"\bco_await\b")
LAMBDA_INTRO = re.compile(r"\[([^\[\]]*)\]\s*(?:\(|\{|mutable|->)")
DESIGNATED = re.compile(r"\{\s*\.[A-Za-z_]")


def strip_comments_and_strings(text: str) -> str:
    """Blanks comments and the insides of string/char literals, keeping offsets and newlines."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote:
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def full_expression_end(code: str, start: int) -> int:
    """Index of the ';' (or unmatched closer) that ends the expression starting at `start`."""
    depth = 0
    for j in range(start, len(code)):
        c = code[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return j
        elif c == ";" and depth == 0:
            return j
    return len(code)


def copies_something(captures: str) -> bool:
    items = [c.strip() for c in captures.split(",") if c.strip()]
    return any(not (c.startswith("&") or c == "this") for c in items)


def findings(path: pathlib.Path):
    text = path.read_text()
    if "lint_co_await: skip" in text:
        return
    code = strip_comments_and_strings(text)
    for m in CO_AWAIT.finditer(code):
        if code[max(0, m.start() - 9):m.start()].endswith("operator "):
            continue  # a declaration of operator co_await, not an await
        end = full_expression_end(code, m.end())
        expr = code[m.end():end]
        line = code.count("\n", 0, m.start()) + 1
        for lam in LAMBDA_INTRO.finditer(expr):
            if copies_something(lam.group(1)):
                yield line, f"lambda capturing [{lam.group(1).strip()}] by copy inside co_await"
                break
        if DESIGNATED.search(expr):
            yield line, "designated-initialiser temporary inside co_await"


def main(argv):
    roots = [pathlib.Path(a) for a in argv[1:]] or [pathlib.Path(".")]
    bad = 0
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".cpp", ".hpp")):
            for line, what in findings(path):
                print(f"{path}:{line}: {what}: name it in a statement of its own first (g++ 12 destroys it twice)")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
