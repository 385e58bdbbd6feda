#!/usr/bin/env python3
"""Checks that the repository's comments and docs only point at things inside the repository.

Reads the comments of source files (C++, Go, Python, shell, CMake, Makefile) and the whole text of
documents (Markdown, JSON, plain text), and reports, as file:line and the offending text:

  (a) a path to a repository file that does not exist: `docs/...`, `src/...`, `include/asyncio/...`,
      `tests/...`, `examples/...`, `bench/...`, `scripts/...`, `cmake/...`, a header named as
      `<asyncio/x/y.hpp>` or `asyncio/x/y.hpp`, a layer-relative `core/task.hpp`, and relative links
      of Markdown files. Placeholders and globs (`tests/<layer>/<concept>_test.cpp`, `bench/*.cpp`,
      `$REPO/...`), git-ignored build outputs (`out/...`, `bench/results/...`), a layer's folder in a
      layout (`include/asyncio/http/`) and paths on a line that calls them planned ("to be written")
      are not checked;
  (b) a section citation `docs/<file>.md §N` (also `§N, §M`, `§N-M`, `§N and §M`, `§4.3a`) whose
      numbered heading N does not exist in that file; inside a Markdown file a bare `§N` refers to
      the file itself, elsewhere a bare `§N` is an error (cite the document);
  (c) a reference to documents that are not in the repository: the document names LESSONS, DESIGN,
      TOOLCHAIN, STYLE, HTTP-LESSONS (all capitals), `../shared`, `/work/shared`, `shared/peers`,
      `seed 000`-style seed numbers and `seeds/`, and issue numbers (`issue 4`, `issues 2-4`,
      `issue-5`, `#12`). References to other projects' trackers such as `python/cpython#91887`,
      `bpo-42130` or `GCC PR 107288` are public and allowed.

Code itself is not checked (a script may default to a peer directory outside the tree); only
comments, docstrings and documents are.

Usage: check_references.py [ROOT]         exit status 1 and one line per finding if any
       check_references.py --self-test    checks the checker on a small made-up tree
"""
import fnmatch
import io
import os
import re
import subprocess
import sys
import tempfile
import tokenize

C_LIKE = {".cpp", ".hpp", ".h", ".cc", ".c", ".cxx", ".hxx", ".go", ".rs", ".js", ".java"}
HASH_LIKE = {".sh", ".bash", ".cmake", ".in", ".yml", ".yaml", ".toml", ".cfg", ".ini"}
HASH_NAMES = {"CMakeLists.txt", "Makefile", ".gitignore", ".clang-format", ".clang-tidy", ".gitattributes"}
PROSE = {".md", ".txt", ".json", ".rst"}
SKIP_DIRS = {".git", "out"}

# ---- (c) documents outside the tree -----------------------------------------------------------------
EXTERNAL = [
    (re.compile(r"\b(?:HTTP-LESSONS|LESSONS|DESIGN|TOOLCHAIN|STYLE)(?:\.md)?\b"), "document outside the repository"),
    (re.compile(r"\.\./shared\b|/work/shared\b|\bshared/peers\b"), "path outside the repository"),
    (re.compile(r"\bseeds?\s*#?\s*\d{3}\b|\bseeds/", re.I), "seed document outside the repository"),
    (re.compile(r"\bissues?[ -]?#?\d+|\bissue-\d+", re.I), "issue number"),
    # A bare #N (not owner/repo#N, not an anchor or a colour): an issue or pull-request number.
    (re.compile(r"(?<![\w/&#.-])#\d+\b(?![\w-])"), "issue number"),
]
# ctest-expect lines hold regular expressions of a program's output ("reload #1"), not prose.
NOT_PROSE = re.compile(r"ctest-(?:expect|args|timeout|properties):")

# ---- (a) paths ---------------------------------------------------------------------------------------
ROOT_DIRS = r"(?:docs|src|include/asyncio|tests|examples|bench|scripts|cmake)"
PATH = re.compile(r"(?<![\w./$~-])(" + ROOT_DIRS + r"/[\w./<>*{}$@+-]*)")
HEADER = re.compile(r"(?<![\w./-])(asyncio/[\w/-]+\.hpp)\b")
LAYERS = r"(?:core|detail|sync|net|threads|time|testing|debug|lowlevel|process|signal|io|fs|http)"
LAYER_FILE = re.compile(r"(?<![\w./-])(" + LAYERS + r"/[\w/-]+\.(?:hpp|cpp))\b")
LAYER_BASES = ["include/asyncio", "src", "tests", "bench", "examples"]
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"[<>*{}$@]|\.\.\.|…")
# A line that says the file is still to come ("to be written in src/io/uring_driver.cpp") is a plan.
PLANNED = re.compile(r"\bto be (?:written|added|created)\b|\bplanned\b|\bnot (?:yet )?written\b|\bnot written yet\b", re.I)
ROOT_DIR_NAMES = {"docs", "src", "include/asyncio", "tests", "examples", "bench", "scripts", "cmake"}

# ---- (b) section citations ---------------------------------------------------------------------------
NUM = r"(\d+(?:\.\d+)*)[a-z]?"
CITE = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)`?\s*(?:\"[^\"]*\"\s*)?§\s*" + NUM)
CHAIN = re.compile(r"\s*(?:,|and|or|to|–|-|/)\s*§?\s*" + NUM)
BARE = re.compile(r"§\s*" + NUM)
# Sections of public standards are fine without a repository document: RFC 8305 §4, C++20 §9.5.4.
STANDARD = re.compile(r"(?:\bRFC\s*\d+|\bC\+\+\d*|\bISO[\w /-]*|\bPOSIX)\s*§\s*\d+(?:\.\d+)*")
# Already reported under (c): do not report their section numbers again.
EXTERNAL_CITE = re.compile(r"\b(?:HTTP-LESSONS|LESSONS|DESIGN|TOOLCHAIN|STYLE)(?:\.md)?\s*§?\s*\d*[\d.]*[a-z]?"
                           r"(?:\s*(?:,|and|–|-)\s*§\s*\d+(?:\.\d+)*[a-z]?)*")
SELF = "scripts/check_references.py"  # this file names every pattern it rejects
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)[.)]?\s")


def list_files(root):
    """Tracked and untracked-but-not-ignored files (git), or a walk of the tree."""
    if os.path.isdir(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, ".git")):
        try:
            out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 capture_output=True, check=True).stdout.decode()
            return sorted({f for f in out.split("\0") if f and os.path.isfile(os.path.join(root, f))})
        except (OSError, subprocess.CalledProcessError):
            pass
    files = []
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not (rel == "." and x.startswith("build"))]
        files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return sorted(files)


def ignore_patterns(root):
    """Directory patterns of the top-level .gitignore (build outputs), plus out/ and .git/."""
    pats = ["out", ".git", "build*"]
    try:
        for line in open(os.path.join(root, ".gitignore"), encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#") and line.endswith("/"):
                pats.append(line.strip("/"))
    except OSError:
        pass
    return pats


def is_ignored(path, pats):
    parts = path.split("/")
    return any(fnmatch.fnmatch("/".join(parts[:k]), p) for p in pats for k in range(1, len(parts) + 1))


# ---- comment extraction: {line number: text} -----------------------------------------------------------
def add(out, line, text):
    if text.strip():
        out[line] = out.get(line, "") + " " + text if line in out else text


def c_comments(text):
    out, i, n, line = {}, 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            add(out, line, text[i + 2:j])
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j
            for k, part in enumerate(text[i + 2:j].split("\n")):
                add(out, line + k, part)
            line += text.count("\n", i, j)
            i = j + 2
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                i += 2
                continue
            end = text.find(")" + m.group(1) + '"', i)
            end = n if end < 0 else end + len(m.group(1)) + 2
            line += text.count("\n", i, end)
            i = end
        elif ch in "\"'":
            # A ' between digits is a digit separator (1'000'000), not a character literal.
            if ch == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1 if j < n and text[j] == ch else j
        else:
            i += 1
    return out


def hash_comments(text):
    """'#' comments of shell, CMake, Makefile, YAML: a '#' outside quotes that starts a word."""
    out = {}
    for ln, row in enumerate(text.split("\n"), 1):
        quote = None
        for k, ch in enumerate(row):
            if quote:
                if ch == "\\" and quote == '"':
                    continue
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#" and (k == 0 or row[k - 1] in " \t;(|&"):
                add(out, ln, row[k + 1:])
                break
    return out


def python_comments(text):
    """Comments and docstrings/prose strings (triple-quoted) of a Python file."""
    out = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                add(out, tok.start[0], tok.string[1:])
            elif tok.type == tokenize.STRING and re.match(r"^[rRbBuUfF]*('''|\"\"\")", tok.string):
                for k, part in enumerate(tok.string.split("\n")):
                    add(out, tok.start[0] + k, part)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return hash_comments(text)
    return out


def prose_lines(path, text):
    if path.endswith(".json"):
        text = text.replace("\\u00a7", "§").replace("\\u00A7", "§")
    return {ln: row for ln, row in enumerate(text.split("\n"), 1) if row.strip()}


def comments_of(path, text):
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if name in HASH_NAMES or name.endswith(".cmake.in"):
        return hash_comments(text)
    if ext in C_LIKE:
        return c_comments(text)
    if ext == ".py" or text.startswith("#!") and "python" in text.split("\n", 1)[0]:
        return python_comments(text)
    if ext in HASH_LIKE or text.startswith("#!"):
        return hash_comments(text)
    if ext in PROSE:
        return prose_lines(path, text)
    return None  # unknown kind of file: not checked


# ---- the checks ----------------------------------------------------------------------------------------
class Checker:
    def __init__(self, root):
        self.root = root
        self.ignore = ignore_patterns(root)
        self.sections = {}

    def exists(self, rel):
        return os.path.exists(os.path.join(self.root, rel))

    def headings(self, rel):
        if rel not in self.sections:
            nums = set()
            try:
                fence = False
                for row in open(os.path.join(self.root, rel), encoding="utf-8"):
                    if row.startswith("```"):
                        fence = not fence
                    m = None if fence else HEADING.match(row)
                    if m:
                        nums.add(m.group(1))
            except OSError:
                nums = None
            self.sections[rel] = nums
        return self.sections[rel]

    def resolve_doc(self, name, path):
        """A cited Markdown file: relative to the citing file's directory, else to the root."""
        for cand in (os.path.normpath(os.path.join(os.path.dirname(path), name)), os.path.normpath(name)):
            if self.exists(cand):
                return cand
        return None

    def check_path(self, raw, path, found, where, text):
        p = re.sub(r"[.,:;)\]'\"`]+$", "", raw)
        if PLANNED.search(text):
            return
        if p.endswith("/") and os.path.dirname(p.rstrip("/")) in ROOT_DIR_NAMES:
            return  # a layer's folder in a layout description (include/asyncio/http/): may come later
        p = re.sub(r"#.*$", "", re.sub(r":\d+(?:-\d+)?$", "", p))
        if not p or PLACEHOLDER.search(p) or is_ignored(p, self.ignore) or self.exists(p):
            return
        if not os.path.splitext(p)[1] and self.exists(p + ".cpp"):
            return  # a program named after its source: examples/calc_pi
        found.append((where, f"no such file in the repository: {p}"))

    def check_line(self, path, ln, text, found):
        where = f"{path}:{ln}"
        is_md = path.endswith(".md")
        if not NOT_PROSE.search(text):
            for rx, what in EXTERNAL:
                for m in rx.finditer(text):
                    found.append((where, f"{what}: '{m.group(0)}' in: {text.strip()[:140]}"))
        for m in PATH.finditer(text):
            self.check_path(m.group(1), path, found, where, text)
        for m in HEADER.finditer(text):
            if not PLACEHOLDER.search(m.group(1)) and not self.exists("include/" + m.group(1)):
                found.append((where, f"no such header: <{m.group(1)}>"))
        for m in LAYER_FILE.finditer(text):
            rel = m.group(1)
            if not any(self.exists(os.path.join(b, rel)) for b in LAYER_BASES + [os.path.dirname(path)]):
                found.append((where, f"no such file under include/asyncio, src, tests, bench or examples: {rel}"))
        if is_md:
            for m in MD_LINK.finditer(text):
                target = m.group(1)
                if re.match(r"^[a-z][\w+.-]*:|^#|^mailto:", target) or PLACEHOLDER.search(target):
                    continue
                rel = os.path.normpath(os.path.join(os.path.dirname(path), target.split("#")[0]))
                if rel.startswith(".."):
                    found.append((where, f"link outside the repository: {target}"))
                elif not is_ignored(rel, self.ignore) and not self.exists(rel):
                    found.append((where, f"broken link: {target}"))
        # Section citations; what a citation consumed is blanked so that the bare-§ check skips it.
        consumed = list(text)
        for m in CITE.finditer(text):
            doc = self.resolve_doc(m.group(1), path)
            nums, end = [m.group(2)], m.end()
            while True:
                c = CHAIN.match(text, end)
                if not c:
                    break
                nums.append(c.group(1))
                end = c.end()
            for k in range(m.start(), end):
                consumed[k] = " "
            if doc is None:
                if "/" in m.group(1):
                    found.append((where, f"cited document does not exist: {m.group(1)}"))
                continue
            have = self.headings(doc)
            for num in nums:
                if have is not None and num not in have:
                    found.append((where, f"{doc} has no section {num}: {text.strip()[:140]}"))
        rest = "".join(consumed)
        rest = EXTERNAL_CITE.sub(lambda m: " " * len(m.group(0)), STANDARD.sub(lambda m: " " * len(m.group(0)), rest))
        for m in BARE.finditer(rest):
            if is_md:
                have = self.headings(path)
                if have is not None and m.group(1) not in have:
                    found.append((where, f"{path} has no section {m.group(1)}"))
            else:
                found.append((where, f"section sign without a document (cite docs/<file>.md §N): {text.strip()[:140]}"))

    def run(self, files):
        found = []
        for path in files:
            if is_ignored(path, self.ignore) or path == SELF:
                continue
            try:
                with open(os.path.join(self.root, path), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if b"\0" in data[:4096]:
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            lines = comments_of(path, text)
            if lines is None:
                continue
            for ln in sorted(lines):
                self.check_line(path, ln, lines[ln], found)
        return found


def check(root):
    return Checker(root).run(list_files(root))


# ---- self-test -----------------------------------------------------------------------------------------
SELF_TEST_TREE = {
    "docs/guide.md": "# Guide\n## 1. One\n### 1.2 Sub\n## 2. Two\nSee §2 and docs/guide.md §1.2.\n"
                     "Bad: §7. `docs/guide.md` §5\n[ok](guide.md) [bad](missing.md) [out](../../x.md)\n",
    "src/a.cpp": "// ok: docs/guide.md §1, §2 and §1.2; docs/guide.md §1.2a; <asyncio/x.hpp>\n"
                 "// ok: tests/<layer>/<concept>_test.cpp, bench/*.cpp, out/default/x, src/a.cpp.\n"
                 "// ok: python/cpython#91887, bpo-42130, GCC PR 107288, 1'000'000 and #include\n"
                 "int x = 1'000; const char* s = \"TOOLCHAIN §8 issue 4 docs/nope.md\";  // code is not checked\n"
                 "/* bad: LESSONS §1 */\n"
                 "// bad: docs/guide.md §3; docs/guide.md §1, §9\n"
                 "// bad: src/missing.cpp and <asyncio/nope.hpp> and core/nope.hpp\n"
                 "// bad: seed 000, seeds/, ../shared/x, issue 2, issues 2-4, issue-5, see #12\n"
                 "// bad: a bare §4\n"
                 "// ok: RFC 8305 §4, C++20 §9.5\n"
                 "// ok: include/asyncio/http/ and src/io/uring.cpp (to be written)\n",
    "include/asyncio/x.hpp": "#pragma once\n",
    "scripts/t.sh": "#!/bin/sh\n# bad: DESIGN §3.3\nP=${P:-../shared/peers}  # ok: code\necho \"# not a comment\" $#\n",
    "scripts/t.py": "\"\"\"Doc: see STYLE §1.\"\"\"\nx = '# TOOLCHAIN'  # bad: issue 7\n",
    "CMakePresets.json": "{\"displayName\": \"x (docs/guide.md \\u00a71.2)\", \"y\": \"(docs/guide.md \\u00a79)\"}\n",
    "examples/e.cpp": "// ctest-expect: reload #1\n",
}
SELF_TEST_EXPECT = [  # (file:line, a fragment of the message)
    ("docs/guide.md:6", "no section 7"), ("docs/guide.md:6", "no section 5"), ("docs/guide.md:7", "broken link: missing.md"),
    ("docs/guide.md:7", "link outside"),
    ("src/a.cpp:5", "'LESSONS'"),
    ("src/a.cpp:6", "has no section 3"), ("src/a.cpp:6", "has no section 9"),
    ("src/a.cpp:7", "src/missing.cpp"), ("src/a.cpp:7", "<asyncio/nope.hpp>"), ("src/a.cpp:7", "core/nope.hpp"),
    ("src/a.cpp:8", "'seed 000'"), ("src/a.cpp:8", "'seeds/'"), ("src/a.cpp:8", "'../shared'"),
    ("src/a.cpp:8", "'issue 2'"), ("src/a.cpp:8", "'issues 2'"), ("src/a.cpp:8", "'issue-5'"), ("src/a.cpp:8", "'#12'"),
    ("src/a.cpp:9", "section sign without a document"),
    ("scripts/t.sh:2", "'DESIGN'"), ("scripts/t.py:1", "'STYLE'"), ("scripts/t.py:2", "'issue 7'"),
    ("CMakePresets.json:1", "has no section 9"),
]


def self_test():
    with tempfile.TemporaryDirectory() as d:
        for rel, body in SELF_TEST_TREE.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
                f.write(body)
        found = check(d)
    bad = []
    for where, frag in SELF_TEST_EXPECT:
        if not any(w == where and frag in msg for w, msg in found):
            bad.append(f"missed: {where} {frag}")
    for w, msg in found:
        if not any(w == where and frag in msg for where, frag in SELF_TEST_EXPECT):
            bad.append(f"unexpected: {w}: {msg}")
    for line in bad:
        print("self-test " + line)
    print(f"self-test: {'FAILED' if bad else 'ok'} ({len(found)} findings, {len(SELF_TEST_EXPECT)} expected)")
    return 1 if bad else 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    args = [a for a in argv if not a.startswith("--")]
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    found = check(root)
    for where, msg in found:
        print(f"{where}: {msg}")
    if found:
        print(f"{len(found)} reference problem(s): comments and docs must cite files and sections of this "
              "repository (docs/*.md), not outside documents or issue numbers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
