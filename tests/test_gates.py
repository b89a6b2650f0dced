"""The static gates ./test runs with the suite: ruff under pyproject's rule set, mypy strict on every package.

Each runs the real tool on the whole tree in a few seconds and fails with the tool's own findings.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def packages() -> list[str]:
    """Every package the project installs (pyproject's [tool.setuptools] packages): all of them are checked."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["tool"]["setuptools"]["packages"])


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing_under_the_chosen_rules() -> None:
    checked = run("ruff", "check", "--no-fix", "--output-format", "concise", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mypy_strict_passes_on_every_package() -> None:
    checked = run("mypy", "--strict", *packages())
    assert checked.returncode == 0, checked.stdout + checked.stderr
