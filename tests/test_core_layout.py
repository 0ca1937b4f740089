"""The core's layout: TensorFlow-free modules stay so, and few modules sit flat at the top."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import featviz_core

CORE = Path(featviz_core.__file__).parent
TENSORFLOW_FREE = ("featviz_core", "featviz_core.settings", "featviz_core.results", "featviz_core.parts",
                   "featviz_core.objective_text", "featviz_core.catalog", "featviz_core.layers",
                   "featviz_core.imaging", "featviz_core.memory", "featviz_core.cli", "featviz_core.atlas",
                   "featviz_core.atlas.format")
MAX_FLAT_MODULES = 12


def test_tensorflow_free_modules_import_without_tensorflow():
    probe = (f"import importlib, sys\nfor name in {TENSORFLOW_FREE!r}:\n    importlib.import_module(name)\n"
             "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr[-2000:]


@pytest.mark.slow  # a fresh interpreter that imports TensorFlow
def test_a_tensorflow_module_does_load_it():  # the probe above can tell
    probe = "import sys, featviz_core.ascent.loop; print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("True")


def test_at_most_twelve_modules_are_flat_at_the_top():
    flat = sorted(path.stem for path in CORE.glob("*.py") if path.stem != "__init__")
    assert len(flat) <= MAX_FLAT_MODULES, flat
    packages = sorted(path.parent.name for path in CORE.glob("*/__init__.py"))
    assert packages == ["ascent", "atlas", "cli", "dissect", "examples", "models"]


def test_every_core_package_is_installed():
    """pyproject.toml names the packages a wheel holds: a new one left out would import here (in the
    repository) and fail where featviz is installed."""
    import tomllib

    listed = tomllib.loads((CORE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = ["featviz_core"] + [f"featviz_core.{path.parent.name}" for path in CORE.glob("*/__init__.py")]
    assert sorted(listed) == sorted(found)
