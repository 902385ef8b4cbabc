"""The layers are enforced by import-linter's contracts in pyproject.toml, and they can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=project, env=env, capture_output=True,
                          text=True)


def test_the_package_keeps_its_layers():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_core_module_importing_the_dashboard_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "choreo_lab", tmp_path / "choreo_lab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "choreo_lab" / "events.py", "a") as module:
        module.write("\nfrom .dashboard import Dashboard  # a lower layer reaching up\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "choreo_lab.events -> choreo_lab.dashboard" in result.stdout
