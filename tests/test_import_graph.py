"""No circle of imports anywhere in the tree: every import of one of our modules by another (at the top or
inside a function) is an edge, and no module reaches itself along them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("featviz_core", "dashboard")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a name imported from a package counts as its module when it is one)."""
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    modules = {_module_name(path): path for path in paths}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {target for target in found if target in modules and target != name
                       and not name.startswith(f"{target}.")}  # (a package's own __init__ is not a circle)
    return graph


def circles(graph: dict[str, set[str]]) -> list[str]:
    """The modules that reach themselves."""
    def reaches(start: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current == start:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    return sorted(name for name in graph if reaches(name))


def test_the_tree_has_no_circle_of_imports():
    assert circles(import_graph()) == []


def test_the_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c"]


@pytest.mark.parametrize("package", ["featviz_core/ascent"])
def test_the_ascent_imports_nothing_from_the_examples(package):
    graph = import_graph()
    ascent = {name: targets for name, targets in graph.items() if name.startswith(package.replace("/", "."))}
    assert ascent and not any(target.startswith("featviz_core.examples") for targets in ascent.values() for target in targets)
