#!/usr/bin/env python3
"""Find import cycles between the top-level modules of Rust crates.

Usage: scripts/module-cycles.py [CRATE_SRC_DIR ...]
       (no argument: every crate of the workspace: proto, services/*, cli, tests/support)

For each crate, every `.rs` file under `src/` belongs to the top-level module
its path starts with (`src/web/api.rs` to `web`, `src/consumer.rs` to
`consumer`; `lib.rs` and `main.rs` are the crate root and are left out). A
module depends on another when its code names `crate::<other>` (in `use`
declarations, paths in expressions, or `use crate::{a, b}` groups). Strongly connected
groups of two or more modules are cycles; the script prints them with one
line of evidence per edge and exits 1 when it finds any.
"""

import os
import re
import sys
from collections import defaultdict

CRATE_PATH = re.compile(r"\bcrate::(\{[^;]*?\}|[a-z_][a-z0-9_]*)", re.S)


def top_module(src, path):
    rel = os.path.relpath(path, src)
    parts = rel.split(os.sep)
    if len(parts) == 1:
        name = parts[0][:-3]
        return None if name in ("lib", "main") else name
    return parts[0]


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def names_in_group(group):
    # `{a, b::c, d::{e}}` -> a, b, d (the first segment of each item)
    depth, item, names = 0, "", []
    for ch in group[1:-1]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            names.append(item)
            item = ""
        else:
            item += ch
    names.append(item)
    out = []
    for n in names:
        n = n.strip()
        if n:
            out.append(re.split(r"[:\s{]", n, maxsplit=1)[0])
    return out


def edges_of(src):
    modules = set()
    edges = defaultdict(dict)  # from -> to -> evidence
    files = []
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                files.append(os.path.join(root, name))
    for path in files:
        module = top_module(src, path)
        if module:
            modules.add(module)
    for path in sorted(files):
        module = top_module(src, path)
        if not module:
            continue
        rel = os.path.relpath(path, src)
        # Unit tests beside a module (`<module>/tests/*.rs` or `tests/x.rs`
        # included with #[path]) belong to the module they test.
        text = strip_comments(open(path, encoding="utf-8").read())
        targets = []
        for match in CRATE_PATH.finditer(text):
            first = match.group(1)
            targets.extend(names_in_group(first) if first.startswith("{") else [first])
        for target in targets:
            if target in modules and target != module:
                edges[module].setdefault(target, f"{rel}: crate::{target}")
    return modules, edges


def cycles(modules, edges):
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    return out


def crates(root):
    found = []
    for candidate in ["proto/src", "cli/src", "tests/support"]:
        if os.path.isdir(os.path.join(root, candidate)):
            found.append(os.path.join(root, candidate))
    services = os.path.join(root, "services")
    for name in sorted(os.listdir(services)):
        src = os.path.join(services, name, "src")
        if os.path.isdir(src):
            found.append(src)
    return found


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sources = sys.argv[1:] or crates(root)
    bad = 0
    for src in sources:
        modules, edges = edges_of(src)
        found = cycles(modules, edges)
        name = os.path.relpath(src, root) if src.startswith(root) else src
        if not found:
            print(f"{name}: no cycles among {len(modules)} modules")
            continue
        bad += len(found)
        for group in found:
            print(f"{name}: cycle {' <-> '.join(group)}")
            for a in group:
                for b in group:
                    if b in edges.get(a, {}):
                        print(f"    {a} -> {b}   ({edges[a][b]})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
