"""CI: run the fast dashboard tests (every page at least once) under the oldest Streamlit the project allows.

The floor is the `>=` bound of the streamlit requirement in pyproject.toml: raising it there is the only
change needed. A throwaway venv sees the installed packages (--system-site-packages) and gets exactly
that Streamlit on top. `--print-floor` prints the version it would install and exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
TESTS = (  # about a minute on two cores; no long TensorFlow renders
    "tests/test_dashboard_units.py",
    "tests/test_dashboard_explore.py::test_explore_renders_picture_chart_scrubber_and_metrics",
    "tests/test_dashboard_explore.py::test_presets_fill_the_advanced_fields_and_edits_make_them_custom",
    "tests/test_dashboard_compare.py::test_shared_scrubber_moves_every_column_without_rendering",
    "tests/test_dashboard_compare.py::test_octave_marks_follow_the_schedule_when_the_first_run_was_stopped",
    "tests/test_dashboard_compare.py::test_bad_uploads_show_an_error_and_the_page_keeps_working",
    "tests/test_dashboard_methods.py::test_a_render_shows_one_image_per_method_one_chart_and_a_quality_row_each",
    "tests/test_dashboard_gallery.py::test_gallery_renders_a_layer_in_batches_and_sorts_it",
    "tests/test_dashboard_gallery.py::test_how_it_works_fills_in_the_current_numbers",
    "tests/test_dashboard_atlas.py::test_an_atlas_view_opens_without_importing_tensorflow",
)


def streamlit_floor(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """X of the project's `streamlit>=X` dependency."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    streamlit = next(requirement for requirement in map(Requirement, dependencies) if requirement.name == "streamlit")
    return next(spec.version for spec in streamlit.specifier if spec.operator == ">=")


def venv_with_streamlit(folder: Path, version: str) -> Path:
    """A venv in `folder` over the installed packages, with exactly this Streamlit; its python."""
    venv.create(folder, system_site_packages=True, with_pip=True)
    python = folder / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"streamlit=={version}"],
                   check=True)
    found = subprocess.run([python, "-c", "import streamlit; print(streamlit.__version__)"], check=True,
                           capture_output=True, text=True).stdout.strip()
    if Version(found) != Version(version):
        raise SystemExit(f"the venv imports streamlit {found}, not {version}")
    return python


def main() -> int:
    floor = streamlit_floor()
    if sys.argv[1:] == ["--print-floor"]:
        print(floor)
        return 0
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        python = venv_with_streamlit(Path(folder), floor)
        print(f"Streamlit {floor} (the floor) installed in {time.perf_counter() - began:.0f} s; its tests:", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT,
                              env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
