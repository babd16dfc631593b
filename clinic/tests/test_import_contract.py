"""The packages' import contract (README "Layout"): arrows point one way, up the table, and no
module imports another that imports it back, however far round. Read from the source, so an
import inside a function counts as much as one at the top: it is the same arrow, taken late.
Tests and migrations are left out; they may reach anywhere."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each package and the packages of ours it may import. `clinic` is the project's top.
MAY_IMPORT: dict[str, set[str]] = {
    "common": set(),
    "accounts": {"common"},
    "directory": {"accounts", "common"},
    "scheduling": {"directory", "accounts", "common"},
    "notifications": {"scheduling", "directory", "accounts", "common"},
    "audit": {"notifications", "scheduling", "directory", "accounts", "common"},
    "api": {"notifications", "scheduling", "directory", "accounts", "common"},
    "clinic": {"api", "audit", "notifications", "scheduling", "directory", "accounts", "common"},
}
# Modules of a package that no other package may import.
PRIVATE = {"views", "admin"}


def modules() -> dict[str, Path]:
    found = {}
    for package in MAY_IMPORT:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if {"tests", "migrations"} & set(parts):
                continue
            name = ".".join(parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The modules of ours the file imports (`from a import b` names a.b when b is a module),
    with the line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        for name in names:
            if name in known:
                yield name, node.lineno


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target, _ in imports_of(path, known) if target != name}
        for name, path in known.items()
    }


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_scan_reads_our_packages() -> None:
    edges = graph()

    assert "scheduling.services" in edges
    assert "accounts.models" in edges["scheduling.services"]


def test_arrows_point_one_way() -> None:
    known = modules()
    wrong = []
    for name, path in known.items():
        package = name.split(".")[0]
        for target, line in imports_of(path, known):
            other = target.split(".")[0]
            if other == package:
                continue
            if other not in MAY_IMPORT[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
            elif target.split(".")[-1] in PRIVATE:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (private)")

    assert wrong == []


def test_no_import_circle() -> None:
    assert circles(graph()) == []


def test_a_circle_is_found() -> None:
    edges = {"a.models": {"a.services"}, "a.services": {"b.x"}, "b.x": {"a.models"}, "c": {"a"}}

    assert circles(edges) == [["a.models", "a.services", "b.x"]]
