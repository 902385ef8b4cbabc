"""Open JupyterLab on a course folder: bound to 127.0.0.1, the folder as its root (so the
notebooks can link to exercises/), notebook 00 first, and the course's Jupyter configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from .course import FIRST_NOTEBOOK

#: Jupyter configuration the course adds to the user's own: jupyter_server_config.json sets
#: the contents manager's pre-save hook (`choreo_lab.save_hook`).
CONFIG_DIR = Path(__file__).resolve().parent / "jupyter_config"


def lab_command(folder: Path, *, open_browser: bool = True, port: int | None = None) -> list[str]:
    """The command line that opens JupyterLab on `folder` at its first notebook."""
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={folder.resolve()}",
               f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}"]
    if not open_browser:
        command.append("--no-browser")
    if port is not None:
        command.append(f"--ServerApp.port={port}")
    if hasattr(os, "getuid") and os.getuid() == 0:  # containers and CI machines often are root
        command.append("--allow-root")
    return command


def lab_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the course's configuration first on JUPYTER_CONFIG_PATH (the user's own
    configuration still loads)."""
    paths = [str(CONFIG_DIR), *filter(None, environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    return {**environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(dict.fromkeys(paths))}


def open_lab(folder: Path, *, open_browser: bool = True, port: int | None = None) -> int:
    """Run JupyterLab on `folder` until it is stopped (Ctrl+C); returns its exit status.

    On POSIX JupyterLab replaces this process, so Ctrl+C and `kill` reach it directly.
    """
    command = lab_command(folder, open_browser=open_browser, port=port)
    environment = lab_environment(os.environ)
    if os.name == "posix":
        os.execve(command[0], command, environment)
    try:
        return subprocess.call(command, env=environment)
    except KeyboardInterrupt:  # JupyterLab shuts down on the same Ctrl+C
        return 0
