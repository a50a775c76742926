#!/usr/bin/env python3
"""Finds circular imports between the top-level modules of each engine crate.

A module is a file `src/NAME.rs` or a folder `src/NAME/` (its submodules count as NAME).
An import is any `crate::NAME` path outside a comment (in `use` lines and inline paths,
grouped `use crate::{a, b::c}` included). An edge the language needs on purpose is kept out
of the check by a comment on the line above it that contains `modcycles: allowed`, which
must also say why. Exit status 1 and the cycles on stdout when there is one, else 0.

Usage: modcycles.py [CRATE_SRC_DIR ...] (default: every crate of the workspace)
"""

import pathlib
import re
import sys

ALLOW = "modcycles: allowed"


def module_of(src: pathlib.Path, f: pathlib.Path) -> str | None:
    rel = f.relative_to(src).parts
    name = rel[0].removesuffix(".rs")
    return None if name in ("lib", "main") else name


def strip_comment(line: str) -> str:
    # Good enough for this code base: no `//` inside string literals on import lines.
    in_str = False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            in_str = not in_str
        elif not in_str and line.startswith("//", i):
            return line[:i]
    return line


def targets(code: str) -> set[str]:
    out = set()
    for m in re.finditer(r"\bcrate::(\{[^}]*\}|\w+)", code):
        part = m.group(1)
        if part.startswith("{"):
            for item in part[1:-1].split(","):
                head = item.strip().split("::")[0].strip()
                if head and head != "self":
                    out.add(head)
        else:
            out.add(part)
    return out


def edges(src: pathlib.Path) -> dict[str, dict[str, str]]:
    """module -> {imported module: first place it is imported}"""
    found: dict[str, dict[str, str]] = {}
    for f in sorted(src.rglob("*.rs")):
        me = module_of(src, f)
        if me is None:
            continue
        found.setdefault(me, {})
        allowed = False
        text = f.read_text()
        for lineno, line in enumerate(text.splitlines(), 1):
            if ALLOW in line:
                allowed = True
                continue
            code = strip_comment(line)
            if not code.strip():
                continue
            if not allowed:
                for t in targets(code):
                    if t != me:
                        found[me].setdefault(t, f"{f}:{lineno}")
            allowed = False
        # Grouped imports spanning several lines: their names are not on the `use` line.
        for m in re.finditer(r"use crate::\{(.*?)\};", text, re.S):
            for t in targets("crate::{" + m.group(1).replace("\n", " ") + "}"):
                if t != me:
                    lineno = text[: m.start()].count("\n") + 1
                    found[me].setdefault(t, f"{f}:{lineno}")
    return found


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(args: list[str]) -> int:
    repo = pathlib.Path(__file__).resolve().parent.parent.parent
    default = [d for pattern in ("engine/*/src", "cli/src", "state/src", "providers/*/src", "testing/*/src") for d in sorted(repo.glob(pattern))]
    dirs = [pathlib.Path(a) for a in args] or default
    bad = 0
    if not dirs:
        print(f"no crate sources found under {root}")
        return 2
    for src in dirs:
        graph = edges(src)
        if not graph:
            if args:
                print(f"{src}: no modules found")
                return 2
            continue  # a one-file crate has no modules to loop
        for comp in cycles(graph):
            bad += 1
            print(f"{src}: circular imports between {', '.join(comp)}")
            for a in comp:
                for b, where in sorted(graph[a].items()):
                    if b in comp:
                        print(f"  {a} -> {b} ({where})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
