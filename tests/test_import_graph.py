"""The tree's shape: no circle of imports anywhere (every import of one of our modules by another, at the top or
inside a function, is an edge, and no module reaches itself along them), no dashboard module importing another
inside a function, packages grouped by job (at most 12 modules flat in each) and no module over 450 lines."""

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


def _function_body_imports(path: Path) -> list[str]:
    """The modules a file imports inside a function body."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    found.append(node.module)
                elif isinstance(node, ast.Import):
                    found.extend(alias.name for alias in node.names)
    return found


def test_no_dashboard_module_imports_another_inside_a_function():
    late = {str(path.relative_to(ROOT)): [name for name in _function_body_imports(path) if name.startswith("dashboard")]
            for path in (ROOT / "dashboard").rglob("*.py")}
    assert {path: names for path, names in late.items() if names} == {}


def test_the_check_finds_an_import_inside_a_function(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("import os\n\ndef f():\n    from dashboard.line import renders\n    return renders\n")
    assert _function_body_imports(module) == ["dashboard.line"]


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_keeps_at_most_12_modules_flat_and_each_under_450_lines(package):
    flat = sorted(path.name for path in (ROOT / package).glob("*.py"))
    long = {str(path.relative_to(ROOT)): lines for path in (ROOT / package).rglob("*.py")
            if (lines := len(path.read_text().splitlines())) > 450}
    assert len(flat) <= 12, flat
    assert long == {}
