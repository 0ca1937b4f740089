"""CI: run the dashboard tests marked `floor` (every page at least once) under the oldest Streamlit the project allows.

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
MARKER = "floor"  # the tests marked @pytest.mark.floor (pyproject.toml describes the marker); about a minute on two cores


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
        return subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", MARKER], cwd=ROOT,
                              env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
