#!/usr/bin/env python3
"""Extracts the code snippets of README.md, docs/*.md and the public headers' comments into C++
translation units, so that each one is compiled and run as a ctest (docs/conventions.md §9).

What is a snippet (the convention, docs/conventions.md §9):
  * Markdown: every ```cpp fenced block.
  * Headers (include/asyncio/**.hpp outside detail/): a run of comment lines indented by three or
    more spaces after the `//` or `///` (`//   code`), that follows a blank comment line or a line
    ending in ':', and whose every line, without its trailing `// comment`, ends in one of
    `; { } ( ) , :` or is a preprocessor line. Indented prose and synopsis tables ("asyncio::sleep(d)
    suspend for d") do not end that way and are not snippets. Code blocks separated only by blank
    comment lines form one snippet.
  * A marker says what else to do with a snippet: `doc-test: compile-only (why)` (compiled, not
    run: it needs a network peer, or runs forever) or `doc-test: excluded (why)` (neither: it shows a
    trap or is a sketch). In Markdown the marker is an HTML comment on one of the two lines before
    the fence; in a header it is in the paragraph of comment lines just before the block, e.g.
    `// Example (doc-test: compile-only, it needs a TLS server):`.

How a snippet becomes a program: the translation unit includes <asyncio/asyncio.hpp>, the header the
snippet comes from and the snippet's own `#include` lines, and has std::chrono_literals; a snippet
with `main` is a whole program (main is renamed and called); otherwise function, class and
variable definitions that come before the last definition stay at namespace scope, and the
statements after them become the body of a function: a coroutine run by asyncio::run, or a plain
function when they start a loop themselves (asyncio::run, run_virtual, block_on, runner) and do not
co_await. Names the snippet uses without declaring come from
tests/docs/doc_fixture.hpp (ready-made objects: an event that is set, a lock, a queue with items,
a task handle...).

Usage: extract_snippets.py ROOT OUTDIR EXECUTABLE   writes OUTDIR/<doc>.cpp (one per document with
                                                     snippets), OUTDIR/doc_tests.cmake (the ctests)
       extract_snippets.py ROOT --list              prints every snippet and its mode
Files are rewritten only when their content changes (no needless rebuilds).
"""
import pathlib
import re
import sys

MARKER = re.compile(r"doc-test:\s*(compile-only|excluded)\b\s*(.*)")
CODE_END = re.compile(r"[;{}(),:]$")
COMMENT_LINE = re.compile(r"^\s*///?(.*)$")
MD_FENCE = re.compile(r"^\s*```(\w*)\s*$")


class Snippet:
    def __init__(self, doc, index, line, lines, mode, reason, numbers=None):
        self.doc, self.index, self.line, self.lines = doc, index, line, lines
        self.numbers = numbers or list(range(line, line + len(lines)))  # each line's line in doc
        self.mode, self.reason = mode, reason.strip().strip("()").strip() if reason else ""

    @property
    def name(self):
        return f"{self.doc}.{self.index}"


def strip_trailing_comment(s: str) -> str:
    """The code of a line without a trailing // comment (a // inside a string literal is kept)."""
    in_str = None
    i = 0
    while i < len(s):
        c = s[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
        elif s.startswith("//", i):
            return s[:i].rstrip()
        i += 1
    return s.rstrip()


def marker_of(text: str):
    m = MARKER.search(text or "")
    if not m:
        return "run", ""
    reason = re.sub(r"\s*-->.*$", "", m.group(2))
    reason = re.split(r"\)", reason.strip(" ,:("))[0]   # up to the parenthesis that holds the marker
    return m.group(1), reason.strip(" ,:")


def is_code_block(block):
    saw_code = False
    for b in block:
        s = b.strip()
        if s.startswith("#"):
            saw_code = True
            continue
        code = strip_trailing_comment(s)
        if not code:
            continue  # a line that is only a comment
        if not CODE_END.search(code):
            return False
        saw_code = True
    return saw_code


def markdown_snippets(doc, text):
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = MD_FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and not MD_FENCE.match(lines[j]):
            j += 1
        if lang == "cpp":
            mode, reason = marker_of("\n".join(lines[max(0, start - 2):start]))
            indent = len(lines[start]) - len(lines[start].lstrip())
            body = [l[indent:] if l[:indent].strip() == "" else l for l in lines[start + 1:j]]
            out.append(Snippet(doc, len(out) + 1, start + 2, body, mode, reason))
        i = j + 1
    return out


def header_snippets(doc, text):
    lines = text.splitlines()
    out, i = [], 0

    def comment(k):
        m = COMMENT_LINE.match(lines[k]) if 0 <= k < len(lines) else None
        return None if m is None else m.group(1)

    while i < len(lines):
        t = comment(i)
        prev = comment(i - 1)
        if t is None or not re.match(r"^ {3,}\S", t) or prev is None or not (
                prev.strip() == "" or prev.rstrip().endswith(":")):
            i += 1
            continue
        # Collect code blocks separated only by blank comment lines.
        blocks, j = [], i
        while True:
            block = []
            while j < len(lines) and comment(j) is not None and comment(j).startswith("   ") and comment(j).strip():
                block.append(comment(j))
                j += 1
            if not is_code_block(block):
                break
            blocks.append(block)
            k = j
            while k < len(lines) and comment(k) is not None and comment(k).strip() == "":
                k += 1
            if k < len(lines) and comment(k) is not None and re.match(r"^ {3,}\S", comment(k)) and k > j:
                j = k
                continue
            break
        if not blocks:
            i = max(j, i + 1)
            continue
        # The marker: in the paragraph of comment lines just before the block.
        k = i - 1
        while k >= 0 and comment(k) is not None and not comment(k).strip():
            k -= 1
        intro = []
        while k >= 0 and comment(k) is not None and comment(k).strip():
            intro.insert(0, comment(k))
            k -= 1
        intro = " ".join(intro)
        mode, reason = marker_of(intro)
        indent = min(len(l) - len(l.lstrip()) for b in blocks for l in b if l.strip())
        body, numbers, k = [], [], i
        for n, b in enumerate(blocks):
            if n:
                body.append("")
                numbers.append(k)
                while not comment(k).strip():
                    k += 1
            body.extend(l[indent:] for l in b)
            numbers.extend(range(k + 1, k + 1 + len(b)))
            k += len(b)
        out.append(Snippet(doc, len(out) + 1, i + 1, body, mode, reason, numbers))
        i = j
    return out


# ---- turning a snippet into C++ ---------------------------------------------------------------------
DEF_START = re.compile(
    r"^(?:template\s*<.*>\s*)?(?:(?:static|inline|constexpr)\s+)*"
    r"(?:struct|class|enum|union|namespace|using\s+\w+\s*=|"
    r"(?:[\w:]+(?:<[^=;{}]*>)?[\s*&]*\s+)+[\w:~]+\s*\([^=;]*\)\s*(?:const\s*)?(?:noexcept\s*)?(?:->\s*[^{;=]+)?\{?\s*$|"
    r"[A-Z_]+\(.*\)\s*\{)")
NOT_DEF = re.compile(r"^(?:return|co_return|co_await|co_yield|if|for|while|switch|else|do|case|throw|delete)\b")
NS_VAR = re.compile(r"^(?:static\s+|inline\s+|constexpr\s+)*[\w:]+(?:<[^;{}]*>)?\s+\w+\s*[({=]")


def chunks(lines):
    """Splits lines into top-level statements/definitions: (first_line_text, [lines])."""
    out, cur, depth = [], [], 0
    for line in lines:
        code = strip_trailing_comment(line)
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
        code = re.sub(r"'(?:\\.|[^'\\])*'", "''", code)
        cur.append(line)
        depth += code.count("{") + code.count("(") - code.count("}") - code.count(")")
        if depth <= 0 and (code.endswith(";") or code.endswith("}") or code.strip().startswith("#") or not code.strip()):
            if any(strip_trailing_comment(l).strip() for l in cur):
                out.append(cur)
            elif out:
                out[-1].extend(cur)
            cur, depth = [], 0
    if cur:
        out.append(cur)
    return out


def is_definition(chunk):
    first = next(strip_trailing_comment(l).strip() for l in chunk if strip_trailing_comment(l).strip())
    if NOT_DEF.match(first) or first.startswith("auto ") and "=" in first.split("(")[0]:
        return False
    joined = " ".join(strip_trailing_comment(l).strip() for l in chunk)
    head = joined.split("{")[0] + ("{" if "{" in joined else "")
    return bool(DEF_START.match(head.strip())) and joined.rstrip().endswith(("}", "};"))


FIXTURE_NAMES = None


def fixture_locals(root):
    """Names doc::fixture offers as locals (its line `fixture-locals: ...`)."""
    global FIXTURE_NAMES
    if FIXTURE_NAMES is None:
        text = (root / "tests/docs/doc_fixture.hpp").read_text()
        FIXTURE_NAMES = re.search(r"fixture-locals:(.*)", text).group(1).split()
    return FIXTURE_NAMES


def declares(code, name):
    n = re.escape(name)
    return bool(re.search(r"(?:[\w>&*]\s+|[\w>]&\s*)" + n + r"\s*[;({=]", code)
                or re.search(r"\[[^\]]*\b" + n + r"\b[^\]]*\]\s*=", code)
                or re.search(r"\(\s*(?:const\s+)?[\w:<>]+[&\s]+" + n + r"\s*[,)]", code)
                or re.search(r"\bfor\s*\([^;:]*\b" + n + r"\s*:", code))


def main_returns(code):
    """Whether main's own body (not a lambda or block inside it) has a return statement."""
    m = re.search(r"\bint\s+main\s*\([^)]*\)\s*\{", code)
    body, depth = code[m.end():], 1
    for k, c in enumerate(body):
        depth += (c == "{") - (c == "}")
        if depth == 0:
            body = body[:k]
            break
    lam = re.compile(r"\[[^\[\]]*\]\s*(?:\([^()]*\))?[^{};()]*\{")  # a lambda's body: not main's
    while (m := lam.search(body)):
        depth = 0
        for k in range(m.end() - 1, len(body)):
            depth += (body[k] == "{") - (body[k] == "}")
            if depth == 0:
                break
        body = body[:m.start()] + body[k + 1:]
    return bool(re.search(r"\breturn\b", body))


def render(sn, root):
    """C++ for one snippet: (hoisted includes, namespace-scope code, kind) with kind in
    'main', 'coroutine', 'function', 'declarations'."""
    includes, rest = [], []
    for l, n in zip(sn.lines, sn.numbers):
        s = l.strip()
        if s.startswith("#include") or s == "using namespace std::chrono_literals;":
            includes.append(s)
        else:
            rest.append(l)
    line_of = {k: n for k, (l, n) in enumerate((l, n) for l, n in zip(sn.lines, sn.numbers)
                                              if not (l.strip().startswith("#include") or l.strip() == "using namespace std::chrono_literals;"))}

    def located(lines, first):
        """lines, preceded by a #line directive naming the document's line of the first one."""
        if not lines:
            return []
        return [f'#line {line_of.get(first, sn.line)} "{sn.doc}"'] + lines
    text = "\n".join(rest)
    code_only = "\n".join(strip_trailing_comment(l) for l in rest)
    ns = f"doc_snippet_{sn.index}"
    if re.search(r"\bint\s+main\s*\(", code_only):
        # main may end without a return; snippet_main may not: it becomes void then.
        renamed = "int snippet_main(" if main_returns(code_only) else "void snippet_main("
        body = "\n".join(located(re.sub(r"\bint\s+main\s*\(", renamed, text).split("\n"), 0))
        kind = "main" if renamed.startswith("int") else "void_main"
        return includes, f"namespace {ns} {{\nusing namespace doc;\n{body}\n}}  // namespace {ns}\n", kind
    parts = chunks(rest)
    last_def = max((k for k, c in enumerate(parts) if is_definition(c)), default=-1)
    top = [l for c in parts[:last_def + 1] for l in c]
    stmts = [l for c in parts[last_def + 1:] for l in c]
    stmt_code = "\n".join(strip_trailing_comment(l) for l in stmts)
    out = [f"namespace {ns} {{", "using namespace doc;"] + located(top, 0)
    if not stmt_code.strip():
        out.append(f"}}  // namespace {ns}")
        return includes, "\n".join(out) + "\n", "declarations"
    # Statements run inside a coroutine on a loop, unless they start a loop themselves.
    coroutine = bool(re.search(r"\bco_(?:await|yield|return)\b", stmt_code)) or not re.search(
        r"\b(?:asyncio::run|run_virtual|block_on|runner)\b", stmt_code)
    all_code = "\n".join(strip_trailing_comment(l) for l in rest)
    binds = [n for n in fixture_locals(root)
             if re.search(r"\b" + re.escape(n) + r"\b", stmt_code) and not declares(all_code, n)]
    if coroutine:
        out.append("asyncio::task<void> snippet_body() {")
        out.append("  doc::fixture fx;")
    else:
        out.append("void snippet_body() {")
        out.append("  doc::fixture fx;")
    for n in binds:
        out.append(f"  [[maybe_unused]] auto& {n} = fx.{n}();")
    out.append("  {")
    out.extend(located(["    " + l if l.strip() else "" for l in stmts], len(top)))
    out.append("  }")
    if coroutine:
        out.append("  co_return;")
    out.append("}")
    out.append(f"}}  // namespace {ns}")
    return includes, "\n".join(out) + "\n", "coroutine" if coroutine else "function"


def translation_unit(doc, snippets, root):
    head = [f"// Generated by scripts/extract_snippets.py from {doc}: do not edit (docs/conventions.md §9).",
            "#include \"doc_fixture.hpp\""]
    if doc.startswith("include/"):
        head.append(f"#include <{doc[len('include/'):]}>  // the header documents itself")
    head.append("")
    includes, bodies, regs = [], [], []
    for sn in snippets:
        if sn.mode == "excluded":
            bodies.append(f"// {sn.name} (line {sn.line}) excluded: {sn.reason}\n")
            continue
        inc, code, kind = render(sn, root)
        includes += [i for i in inc if i not in includes]
        bodies.append(f"// {sn.name}, {doc} line {sn.line}" + (f" (compile-only: {sn.reason})" if sn.mode == "compile-only" else "")
                      + "\n" + code)
        ns = f"doc_snippet_{sn.index}"
        fn = {"main": f"[] {{ return {ns}::snippet_main(); }}",
              "void_main": f"[] {{ {ns}::snippet_main(); return 0; }}",
              "coroutine": f"[] {{ asyncio::run({ns}::snippet_body()); return 0; }}",
              "function": f"[] {{ {ns}::snippet_body(); return 0; }}",
              "declarations": "nullptr"}[kind]
        compile_only = "true" if sn.mode == "compile-only" else "false"
        regs.append(f"    doc::entry{{\"{sn.name}\", {compile_only}, {fn}}},")
    # The snippets of one document share an unnamed namespace: other documents' doc_snippet_1 differ.
    text = "\n".join(head + [i for i in includes if i.startswith("#include")] + ["", "namespace {"] + bodies)
    text += ("\nconst doc::registration registered{\n" + "\n".join(regs) + "\n};\n}  // namespace\n")
    return text


def documents(root):
    docs = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    docs += sorted(p for p in (root / "include/asyncio").rglob("*.hpp") if "detail" not in p.parts)
    return docs


def collect(root):
    result = []
    for p in documents(root):
        rel = p.relative_to(root).as_posix()
        text = p.read_text()
        sns = markdown_snippets(rel, text) if p.suffix == ".md" else header_snippets(rel, text)
        if sns:
            result.append((rel, sns))
    return result


def write_if_changed(path: pathlib.Path, text: str):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main(argv):
    root = pathlib.Path(argv[1]).resolve()
    if len(argv) > 2 and argv[2] == "--list":
        for doc, sns in collect(root):
            for sn in sns:
                kind = render(sn, root)[2] if sn.mode != "excluded" else "-"
                print(f"doc.{sn.name} line {sn.line}: {sn.mode} {kind} {sn.reason}")
        return 0
    out, exe = pathlib.Path(argv[2]), argv[3]
    out.mkdir(parents=True, exist_ok=True)
    tests, counts = [], {"run": 0, "compile-only": 0, "excluded": 0}
    for p in documents(root):
        rel = p.relative_to(root).as_posix()
        tu = out / (re.sub(r"[^\w.-]", "_", rel) + ".cpp")
        text = p.read_text()
        sns = markdown_snippets(rel, text) if p.suffix == ".md" else header_snippets(rel, text)
        write_if_changed(tu, translation_unit(rel, sns, root) if sns else f"// {rel}: no snippet\n")
        for sn in sns:
            counts[sn.mode] += 1
            if sn.mode == "excluded":
                continue
            tests.append(f'add_test(doc.{sn.name} "{exe}" "{sn.name}")\n'
                         f'set_tests_properties(doc.{sn.name} PROPERTIES LABELS docs TIMEOUT 60 SKIP_RETURN_CODE 77)\n')
    write_if_changed(out / "doc_tests.cmake",
                     f"# Generated by scripts/extract_snippets.py: {counts['run']} run, {counts['compile-only']} "
                     f"compile-only, {counts['excluded']} excluded\n" + "".join(tests))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
