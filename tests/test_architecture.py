"""The layering of docs/architecture.md, held by reading every import of src/ with ``ast``.

Parts are the sub-packages and top-level modules of ``caresheet``. The test fails on a cycle
between parts, on an arrow the document forbids, and on a module reached through importlib.
Imports inside functions count: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "caresheet"

# Shared by every part; they import nothing of caresheet but each other.
SHARED = {"errors", "config", "i18n", "codes", "zones", "library"}
CORE = {"model", "care", "authoring", "quality", "render"}
# part -> the parts it may import (beside SHARED and itself).
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "care": {"model"},
    "authoring": {"model"},
    "quality": {"model", "authoring", "render"},
    "render": {"model", "care"},
    "store": {"model"},
    "search": {"model", "store"},
    "sheets": {"model", "authoring", "store", "search"},
    "outputs": {"model", "render", "store", "search"},
    "team": {"model", "care", "store", "render"},
    "guide": {"model", "care", "store", "team", "render"},
    "ehr": {"model", "care", "store", "search", "render", "team", "guide"},
    "web": CORE | {"store", "search", "sheets", "outputs", "team", "guide", "ehr"},
    "cli": CORE | {"store", "search", "sheets", "outputs", "team", "guide", "ehr", "web"},
}


def part_of(module: str) -> str | None:
    """``caresheet.store.db`` → ``store``; None outside caresheet and for its entry points."""
    names = module.split(".")
    if names[0] != "caresheet" or len(names) < 2 or names[1] == "__main__":
        return None
    return names[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    names = list(relative.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """Every caresheet module this file imports, with the line, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from caresheet import guide` imports the module caresheet.guide
                yield (f"{base}.{alias.name}" if base == "caresheet" else base), node.lineno


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations/versions" not in str(p))


# Arrows still being removed by the renovation; this set only shrinks.
PENDING: set[tuple[str, str]] = set()


def arrows() -> dict[tuple[str, str], list[str]]:
    """(from part, to part) → where: ``file:line``."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sources():
        source = part_of(module_name(path))
        if source is None:
            continue
        for imported, line in imports_of(path):
            target = part_of(imported)
            if target is None or target == source or (source, target) in PENDING:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            found.setdefault((source, target), []).append(where)
    return found


def test_no_part_imports_what_the_layering_forbids() -> None:
    broken = []
    for (source, target), where in sorted(arrows().items()):
        allowed = SHARED if source in SHARED else ALLOWED.get(source, set()) | SHARED
        if target not in allowed:
            broken.append(f"{source} → {target}: {', '.join(where)}")
    assert broken == []


def test_parts_import_each_other_in_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in arrows():
        graph.setdefault(source, set()).add(target)
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycles.append(" → ".join([*trail[trail.index(nxt):], nxt]))
            elif len(trail) < len(graph) + 1:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_reached_through_importlib(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
        )
    ]
    assert calls == []


def test_the_layering_is_the_one_the_document_draws() -> None:
    """Every part named in the code appears in docs/architecture.md, and the other way round."""
    document = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    parts = {
        p.name if p.is_dir() else p.stem
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.stem not in {"__init__", "__main__"})
    }
    missing = sorted(part for part in parts if f"`{part}" not in document)
    assert missing == []
    assert set(ALLOWED) | SHARED >= parts - {"templates", "static", "locale"}
