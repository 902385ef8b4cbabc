"""`pip install choreo-lab` ships the course: build the sdist and the wheel (from the sdist),
install the wheel into a fresh venv, and use it as a student would.

Offline, as every test: the build uses this venv's setuptools (`--no-isolation`), and the
fresh venv's only own package is the wheel; its dependencies are read from this venv through
a .pth file (`pip check` proves the wheel's requirements are met by them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from choreo_lab import __version__
from choreo_lab.course import FIRST_NOTEBOOK, course_files

REPO = Path(__file__).resolve().parents[2]
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", "test-artifacts", "node_modules", "course")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = pytest.mark.notebooks  # executes notebook 00 in a kernel of the fresh venv


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a program of this venv (choreo-lab, python) with its bin/ first on PATH, outside
        the repository (where `python -c` would import the checkout's choreo_lab)."""
        env = {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONPATH", None)
        done = subprocess.run([str(self.bin / args[0]), *args[1:]], cwd=cwd or self.root, env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert not check or done.returncode == 0, (
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done


def build(tmp: Path) -> Path:
    """The wheel, built from an sdist of a copy of the sources (the way `python -m build` does)."""
    sources = tmp / "sources"
    shutil.copytree(REPO, sources, ignore=NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp / "dist"),
                    str(sources)], check=True, capture_output=True, text=True, timeout=300)
    wheels = list((tmp / "dist").glob("choreo_lab-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {wheels}"
    return wheels[0]


def fresh_venv(root: Path, wheel: Path) -> Venv:
    """A new venv with the wheel installed, its dependencies read from this venv."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    venv = Venv(root)
    purelib = venv.run("python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    Path(purelib.stdout.strip(), "dependencies-from-the-test-venv.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    venv.run("python", "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel))
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Venv:
    tmp = tmp_path_factory.mktemp("wheel")
    return fresh_venv(tmp / "venv", build(tmp))


def test_the_wheel_installs_choreo_lab_itself_with_its_requirements_met(installed):
    where = installed.run("python", "-c", "import choreo_lab; print(choreo_lab.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(installed.root), (
        f"choreo_lab came from {where.stdout.strip()}, not from the installed wheel")
    assert installed.run("python", "-m", "pip", "check").returncode == 0
    assert installed.run("choreo-lab", "--version").stdout.strip() == f"choreo-lab {__version__}"


def test_the_course_command_copies_the_whole_course(installed, tmp_path):
    copied = installed.run("choreo-lab", "course", str(tmp_path / "course"))
    expected = course_files(REPO)
    assert f"copied {len(expected)} course files" in copied.stdout
    assert course_files(tmp_path / "course") == expected
    assert "exercises/ex01-inventory.ipynb" in expected and FIRST_NOTEBOOK in expected
    changed = [name for name in expected
               if (tmp_path / "course" / name).read_bytes() != (REPO / name).read_bytes()]
    assert not changed, f"the installed course differs from the repository: {changed}"
    again = installed.run("choreo-lab", "course", str(tmp_path / "course"))
    assert f"copied 0 course files into {tmp_path / 'course'} (kept {len(expected)}" in again.stdout


def test_notebook_00_of_the_installed_course_runs(installed, tmp_path):
    installed.run("choreo-lab", "course", str(tmp_path))
    executed = tmp_path / "executed.ipynb"
    installed.run("python", "-m", "nbconvert", "--to", "notebook", "--execute",
                  "--ExecutePreprocessor.kernel_name=python3", f"--output={executed}",
                  str(tmp_path / FIRST_NOTEBOOK), timeout=300)
    notebook = nbformat.read(executed, as_version=4)
    errors = [output.get("evalue") for cell in notebook.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert not errors, errors
    assert "order o-1: completed" in printed, "notebook 00's self-check did not complete an order"


def test_choreo_lab_lab_copies_the_course_and_serves_it_with_the_save_hook(installed, tmp_path):
    folder, token, home = tmp_path / "my-course", secrets.token_hex(16), tmp_path / "jupyter"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "PATH": f"{installed.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("JUPYTER_CONFIG_PATH", None)
    port = free_port()
    log = tmp_path / "lab.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([str(installed.bin / "choreo-lab"), "lab", str(folder),
                                   "--no-browser", "--port", str(port)], env=env, stdout=output,
                                  cwd=tmp_path,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, token, server, log)
        assert course_files(folder) == course_files(REPO)
        assert f"{base}/lab/tree/{FIRST_NOTEBOOK}?token=" in log.read_text(), "not opened at 00"
        # the exercises notebook 00 links to are inside the server's root
        exercise = api(base, token, "api/contents/exercises/ex01-inventory.ipynb")
        assert exercise["type"] == "notebook"
        # saving goes through the course's pre-save hook: widget state never reaches the file
        notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
        api(base, token, "api/contents/notebooks/scratch.ipynb", method="PUT",
            body={"type": "notebook", "format": "json", "content": notebook})
        saved = json.loads((folder / "notebooks" / "scratch.ipynb").read_text())
        assert "widgets" not in saved["metadata"], "the save hook is not configured"
    finally:
        server.send_signal(signal.SIGTERM)  # our JupyterLab (choreo-lab lab became it)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}"})
    with NO_PROXY.open(request, timeout=10) as answer:
        return json.loads(answer.read())


def wait_until_serving(base: str, token: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"choreo-lab lab exited:\n{log.read_text()}"
        try:
            api(base, token, "api/status")
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"choreo-lab lab did not start serving:\n{log.read_text()}")
