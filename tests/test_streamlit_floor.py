"""The Streamlit floor: pyproject.toml states it, CI's floor check installs exactly it, the Cloud pin is above it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _streamlit_requirement() -> Requirement:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(requirement for requirement in map(Requirement, dependencies) if requirement.name == "streamlit")


def test_the_floor_check_installs_the_floor_of_pyproject():
    floors = [spec.version for spec in _streamlit_requirement().specifier if spec.operator == ">="]
    installs = subprocess.run([sys.executable, str(ROOT / ".ci" / "check_streamlit_floor.py"), "--print-floor"],
                              check=True, capture_output=True, text=True).stdout.strip()
    assert floors == [installs]


def test_the_cloud_pin_meets_the_requirement():
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("streamlit==")]
    assert len(pins) == 1 and Version(pins[0].split("==")[1]) in _streamlit_requirement().specifier
