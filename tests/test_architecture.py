"""The floors of the house (docs/architecture.md): an import only ever goes down a floor, never up
and never sideways between two folders of one floor, and no two modules import each other in a
loop. Read from the source with `ast`, lazy imports inside functions included."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Floor of each part of the package, lowest first. Parts on one floor may not import each other.
FLOORS = {
    "ground": 0,          # drumfont/*.py: errors, validate, atomic, paths, quiet, npzfile, checkpoint
    "score": 1,           # the torch-free core: Pattern, note maps, .mid read/write, genres
    "nn": 2,              # inference layers on numpy and the preset files: what playing needs
    "drums": 3, "letters": 3, "audio": 3,
    "live": 4, "trainers": 4,
    "tui": 5,
    "cli": 6,
    "main": 7,            # drumfont/__main__.py
}
# Third-party packages that only one part may import (DESIGN: "Only tui/ imports textual ...").
ONLY = {"textual": {"tui"}, "matplotlib": {"drums.plots", "letters.plots"}}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted((ROOT / "drumfont").rglob("*.py")):
        rel = path.relative_to(ROOT / "drumfont").with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        mods[".".join(["drumfont", *parts])] = path
    for path in sorted((ROOT / "trainers").glob("*.py")):
        name = path.stem
        mods["drumfont.trainers" + ("" if name == "__init__" else f".{name}")] = path
    return mods


MODULES = _modules()


def part(module: str) -> str:
    """'drumfont.drums.gmd' -> 'drums'; a module straight under drumfont/ is on the ground."""
    parts = module.split(".")
    if module == "drumfont.__main__":
        return "main"
    if len(parts) == 2 and f"{module}" not in _PACKAGES:
        return "ground"
    return parts[1] if len(parts) > 1 else "ground"


_PACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py"}


@cache
def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, resolving `from pkg import mod`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{a.name}", node.lineno) for a in node.names
                      if f"{node.module}.{a.name}" in MODULES]
    return found


@cache
def _internal_edges() -> tuple[tuple[str, str, str], ...]:
    return tuple((module, target, f"{path.relative_to(ROOT)}:{line}")
                 for module, path in MODULES.items() for target, line in _imports(module, path)
                 if target in MODULES or target.startswith("drumfont."))


def test_the_package_has_every_floor():
    assert {part(m) for m in MODULES} == set(FLOORS)


def violations(module: str, edges) -> list[str]:
    """Imports of `module` that go up a floor or sideways to another part of its floor."""
    here, bad = part(module), []
    for src, target, where in edges:
        if src != module or target == "drumfont":
            continue
        there = part(target)
        if there != here and FLOORS[there] >= FLOORS[here]:
            bad.append(f"{where}: {here} imports {target} ({there}, floor {FLOORS[there]} >= {FLOORS[here]})")
    return bad


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_run_down(module):
    bad = violations(module, _internal_edges())
    assert not bad, "\n".join(bad)


def test_no_two_modules_import_each_other():
    graph: dict[str, set[str]] = {}
    for src, target, _ in _internal_edges():
        if target in MODULES and target != src:
            graph.setdefault(src, set()).add(target)
    # a package importing its own submodules (hand-on re-exports) is not a loop
    for pkg in _PACKAGES:
        graph[pkg] = {t for t in graph.get(pkg, set()) if not t.startswith(pkg + ".")}
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert not cycles, "import loops: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("library", sorted(ONLY))
def test_heavy_libraries_stay_in_their_rooms(library):
    allowed = ONLY[library]
    bad = []
    for module, path in MODULES.items():
        short = module.removeprefix("drumfont.")
        if any(short == a or short.startswith(a + ".") for a in allowed):
            continue
        for target, line in _imports(module, path):
            if target == library or target.startswith(library + "."):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_upward_and_sideways_imports(tmp_path):
    """A layer test that cannot fail proves nothing: score/ importing drums/ (up) and drums/
    importing letters/ (sideways) are both caught, from source as the real files are read."""
    probe = tmp_path / "probe.py"
    probe.write_text("from drumfont.drums.engine import load_engine\nimport drumfont.letters.engine\n", encoding="utf-8")
    targets = [t for t, _ in _imports("drumfont.score.probe", probe)]
    assert targets == ["drumfont.drums.engine", "drumfont.letters.engine"]
    assert len(violations("drumfont.score.probe", [("drumfont.score.probe", t, "probe") for t in targets])) == 2
    assert violations("drumfont.drums.probe", [("drumfont.drums.probe", "drumfont.letters.engine", "probe")])
    assert not violations("drumfont.drums.probe", [("drumfont.drums.probe", "drumfont.score.pattern", "probe")])


def test_no_module_in_the_package_passes_600_lines():
    """Split a room when it passes ~500 lines, before it reaches 600 (issue 18)."""
    big = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not big, big
