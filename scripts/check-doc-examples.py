#!/usr/bin/env python3
"""Lists the public items whose doc comment has no compiled code example.

The project's standard: every public item has a doc comment with an example that compiles
(a doctest). This script scans `src/**/*.rs` for `pub fn`, `pub struct`, `pub enum`,
`pub trait`, `pub type`, `pub const`, `pub static` and `pub union` items at any indentation
(including `pub const fn`, `pub unsafe fn`, and items written inside `macro_rules!` bodies),
and reports each one whose doc comment (`///` lines and `#[doc = ...]` attributes directly
above it, attributes and `//` comments in between allowed) holds no Rust code block that
rustdoc compiles. A block fenced with an info string such as `text`, `ignore` or
`compile_fail` does not count: it shows no working use.

Skipped, because they are not public API or are documented elsewhere:
- `pub(crate)`, `pub(super)` and `pub(in ...)` items, and `pub mod` / `pub use`;
- items under `#[cfg(loom)]` or `#[cfg(test)]`, and everything inside a block (impl, mod,
  fn) that carries one of those attributes;
- everything inside a private `mod sealed { ... }`.

Usage: scripts/check-doc-examples.py [--root DIR]   (DIR defaults to the crate root, the
parent of this script's folder). Prints `file:line: kind name` for each item lacking an
example and exits 1 if there is any; prints a summary and exits 0 otherwise.

Python 3 standard library only.
"""

import argparse
import re
import sys
from pathlib import Path

ITEM_RE = re.compile(
    r"""^\s*pub\s+                             # `pub` alone: not pub(crate)/pub(super)
        (?:(?:const|unsafe|async|extern(?:\s+"[^"]*")?)\s+)*  # qualifiers (ABI strings
                                                           # are blanked in code)
        (?P<kind>fn|struct|enum|trait|type|const|static|union)\s+
        (?:mut\s+)?
        (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)  # `$name` in a macro""",
    re.VERBOSE,
)
DOC_LINE_RE = re.compile(r"^\s*///(?!/)(?P<text>.*)$")
# `#[doc = "..."]` or `#[doc = concat!("...", ...)]` on one line: the text is its literals.
DOC_ATTR_RE = re.compile(r"^\s*#\[doc\s*=\s*(?P<body>.*)\]\s*$")
ATTR_START_RE = re.compile(r"^\s*#!?\[")
EXCLUDING_ATTR_RE = re.compile(r"^\s*#\[cfg\(\s*(?:loom|test)\s*\)\]")
SEALED_MOD_RE = re.compile(r"^\s*mod\s+sealed\b")
FENCE_RE = re.compile(r"^\s*(?P<fence>```+|~~~+)\s*(?P<info>[^`]*)$")
STRING_LIT_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')

# Info-string words under which rustdoc compiles a block as Rust (and runs it, unless
# `no_run`). Anything else (`text`, `ignore`, `compile_fail`, `console`, ...) does not count.
RUST_INFO_WORDS = {"", "rust", "no_run", "should_panic", "edition2015", "edition2018",
                   "edition2021", "edition2024"}


def strip_code(text):
    """Returns `text` with comments, string and char literals blanked (newlines kept), so
    that braces and semicolons can be counted."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 260]) and not (
            i and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): blank only the former.
            m = re.match(r"'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'", text[i:i + 12])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def doc_text(line):
    """The documentation text a line contributes, or None if it is not a doc line."""
    m = DOC_LINE_RE.match(line)
    if m:
        return m.group("text")
    m = DOC_ATTR_RE.match(line)
    if m:
        return "".join(
            bytes(s, "utf-8").decode("unicode_escape") for s in STRING_LIT_RE.findall(m.group("body"))
        )
    return None


def has_compiled_example(doc_lines):
    """True if the doc text holds a fenced code block that rustdoc compiles as Rust."""
    in_block = None
    for raw in doc_lines:
        for line in raw.split("\n"):
            m = FENCE_RE.match(line)
            if not m:
                continue
            if in_block is None:
                info = m.group("info").strip()
                words = {w for w in re.split(r"[\s,]+", info) if w}
                in_block = m.group("fence")
                if words <= RUST_INFO_WORDS:
                    return True
            elif m.group("fence").startswith(in_block) and not m.group("info").strip():
                in_block = None
    return False


def scan(path):
    """Yields (line number, kind, name, has example) for each public item of `path`."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    code_lines = strip_code(text).split("\n")

    depth = 0
    # Depths at which an excluded block was opened: everything deeper is skipped.
    excluded = []
    # Set by an excluding attribute or `mod sealed`: the next `{` at this depth opens an
    # excluded block; a `;` at this depth first (an item without a body) cancels it.
    pending_exclude = None
    docs = []  # doc text gathered since the last item or statement
    attr_balance = 0  # open `[` of a multi-line attribute

    for lineno, (line, code) in enumerate(zip(lines, code_lines), start=1):
        stripped = line.strip()
        in_excluded = bool(excluded)

        if attr_balance > 0:
            attr_balance += code.count("[") - code.count("]")
            continue

        d = doc_text(line)
        if d is not None:
            docs.append(d)
            continue
        if ATTR_START_RE.match(line):
            if EXCLUDING_ATTR_RE.match(line) and pending_exclude is None:
                pending_exclude = depth
            attr_balance = code.count("[") - code.count("]")
            continue
        if stripped == "" or stripped.startswith("//"):
            continue

        m = ITEM_RE.match(code)
        if m and not in_excluded and pending_exclude is None:
            yield lineno, m.group("kind"), m.group("name"), has_compiled_example(docs)
        if SEALED_MOD_RE.match(code) and pending_exclude is None:
            pending_exclude = depth
        docs = []

        for ch in code:
            if ch == "{":
                if pending_exclude is not None and depth == pending_exclude:
                    excluded.append(depth)
                    pending_exclude = None
                depth += 1
            elif ch == "}":
                depth -= 1
                if excluded and excluded[-1] == depth:
                    excluded.pop()
            elif ch == ";" and pending_exclude is not None and depth == pending_exclude:
                pending_exclude = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the crate root (holding src/)")
    args = parser.parse_args()

    files = sorted((args.root / "src").rglob("*.rs"))
    if not files:
        print(f"no Rust files under {args.root / 'src'}", file=sys.stderr)
        return 2
    missing = []
    checked = 0
    for path in files:
        rel = path.relative_to(args.root)
        for lineno, kind, name, ok in scan(path):
            checked += 1
            if not ok:
                missing.append(f"{rel}:{lineno}: {kind} {name}")

    if missing:
        print(f"{len(missing)} of {checked} public items without a compiled doc example:")
        for m in missing:
            print(f"  {m}")
        return 1
    print(f"ok: all {checked} public items in {len(files)} files have a compiled doc example")
    return 0


if __name__ == "__main__":
    sys.exit(main())
