"""The dashboard is the package `dashboard`: its modules are never top-level names (`server`, `store`, ...) that
an installed module of that name would shadow, or that would shadow it. Each check runs in a fresh interpreter,
where a fake top-level module of every dashboard module's name comes first on sys.path and fails on import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard_helpers import APP, ROOT

DASHBOARD = ROOT / "dashboard"


def _dotted(path: Path) -> str:
    """dashboard/line/server.py -> line.server; dashboard/line/__init__.py -> line."""
    parts = path.relative_to(DASHBOARD).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ENTRY_POINTS = (DASHBOARD / "__init__.py", DASHBOARD / "app.py")  # (the pages in app_pages/ run as scripts)
MODULES = sorted(_dotted(path) for path in DASHBOARD.rglob("*.py")
                 if path.parent.name != "app_pages" and path not in ENTRY_POINTS)
NAMES = sorted({part for module in MODULES for part in module.split(".")})  # top-level names that must not shadow them


def _probe(tmp_path, body: str, timeout: float) -> dict:
    """Run `body` in a fresh interpreter (from the repository root) after the fakes are put first on sys.path
    and dashboard/ last (where an installed package would be); its last line of output, read as JSON."""
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for name in NAMES:
        (fakes / f"{name}.py").write_text(f"raise ImportError('the fake top-level module {name} was imported')\n")
    script = textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(fakes)!r})
        sys.path.append({str(DASHBOARD)!r})
        DASHBOARD, NAMES, MODULES = {str(DASHBOARD)!r}, {NAMES!r}, {MODULES!r}

        def on_path(paths):
            return [path for path in paths if os.path.realpath(path or os.curdir) == DASHBOARD]

        def loaded():
            return {{"top_level": [name for name in NAMES if name in sys.modules],
                     "elsewhere": [name for name, module in list(sys.modules.items()) if name.startswith("dashboard.")
                                   and not module.__file__.startswith(DASHBOARD + os.sep)]}}
    """) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "FEATVIZ_MODEL": "tiny"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_dashboard_modules_leaves_sys_path_alone_and_no_name_shadows_them(tmp_path):
    found = _probe(tmp_path, """
        import importlib
        before = list(sys.path)
        imported = [importlib.import_module(f"dashboard.{name}").__name__ for name in MODULES]
        print(json.dumps({"imported": imported, "path_changed": sys.path != before, **loaded()}))
    """, timeout=300)
    assert found["imported"] == [f"dashboard.{name}" for name in MODULES]
    assert not found["path_changed"]
    assert found["top_level"] == [] and found["elsewhere"] == []


@pytest.mark.slow
def test_the_app_takes_dashboard_off_sys_path_and_imports_its_modules_from_the_package(tmp_path):
    """As under `streamlit run`, where dashboard/ is on sys.path: app.py takes it off for the whole run, and the
    module a test patches (`from dashboard import guard`) is the one the app uses."""
    found = _probe(tmp_path, f"""
        from streamlit.testing.v1 import AppTest
        from dashboard import guard

        paths = []  # sys.path each time the app calls the guard: the sidebar's, then the page's
        real = guard.user_facing_errors
        guard.user_facing_errors = lambda where: paths.append(list(sys.path)) or real(where)
        at = AppTest.from_file({APP!r}, default_timeout=240)
        at.query_params.update(preset="quick", final_size="32", octaves="2", steps_per_octave="3")
        at.run()
        print(json.dumps({{"exceptions": [item.value for item in at.exception],
                           "errors": [item.value for item in at.error],
                           "images": len(at.main.image), "guarded": len(paths),
                           "dashboard_on_path": [on_path(path) for path in paths], **loaded()}}))
    """, timeout=600)
    assert found["exceptions"] == [] and found["errors"] == []
    assert found["images"] >= 1  # Explore rendered its picture
    assert found["guarded"] == 2 and found["dashboard_on_path"] == [[], []]
    assert found["top_level"] == [] and found["elsewhere"] == []
