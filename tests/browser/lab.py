"""Run an isolated JupyterLab (or Notebook 7) on loopback and find Chromium for the browser tests.

Isolated: its config, data, runtime, settings and workspaces live in a temporary folder, so
the machine's own Jupyter setup neither affects the test nor is changed by it; the course's
own configuration (`choreo_lab.lab.CONFIG_DIR`, the save hook) is added as `choreo-lab lab`
adds it. The server is stopped at the end (its kernels first), by the process id we started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from choreo_lab.lab import lab_environment

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
#: JupyterLab user settings: render every cell, never autosave, no news or update toasts.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def chromium_or_skip() -> str:
    """The path of Debian's chromium (installed by ensure_chromium.sh when root), or skip."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the browser test needs Python Playwright: pip install -e '.[browser]'")
    found = subprocess.run(["sh", str(HERE / "ensure_chromium.sh")], capture_output=True,
                           text=True, timeout=900)
    if found.returncode != 0:
        pytest.skip(f"no chromium for the browser test: {found.stderr.strip()}")
    return found.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(url: str, method: str = "GET") -> bytes | None:
    try:
        with NO_PROXY.open(urllib.request.Request(url, method=method), timeout=5) as answer:
            return answer.read()
    except (urllib.error.URLError, OSError):
        return None


@dataclass(frozen=True)
class Lab:
    base: str
    token: str

    def url(self, path: str) -> str:
        return f"{self.base}/{path}?token={self.token}"


def isolated_environment(home: Path) -> dict[str, str]:
    for plugin, values in LAB_SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = lab_environment({name: value for name, value in os.environ.items()
                           if name != "JUPYTER_CONFIG_PATH"})  # only the course's, not the machine's
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


@contextmanager
def jupyterlab(root: Path, home: Path, log: Path, timeout: float = 60,
               app: str = "jupyterlab") -> Iterator[Lab]:
    """JupyterLab (or `app="notebook"`: Notebook 7) serving `root` on 127.0.0.1 with a fresh
    token; stopped on exit."""
    env = isolated_environment(home)
    token = secrets.token_hex(16)
    server = None
    with open(log, "ab") as output:
        for _attempt in range(3):  # another process may take the free port first
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", app, "--no-browser", "--allow-root",
                 "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                 "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                 f"--ServerApp.root_dir={root}", "--expose-app-in-browser"],
                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=root)
            lab = Lab(f"http://127.0.0.1:{port}", token)
            deadline = time.monotonic() + timeout
            while server.poll() is None and time.monotonic() < deadline:
                if request(lab.url("api/status")) is not None:
                    break
                time.sleep(0.25)
            if server.poll() is None:
                break
        if server is None or server.poll() is not None or request(lab.url("api/status")) is None:
            stop(server, lab)
            raise RuntimeError(f"{app} did not start; see {log}")
        try:
            yield lab
        finally:
            stop(server, lab)


def stop(server: subprocess.Popen | None, lab: Lab) -> None:
    """Shut down the server's kernels, then the server itself (the process we started)."""
    if server is None or server.poll() is not None:
        return
    kernels = request(lab.url("api/kernels"))
    for kernel in json.loads(kernels or b"[]"):
        request(lab.url(f"api/kernels/{kernel['id']}"), method="DELETE")
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(5)


def open_chromium(playwright, chromium: str, profile: Path, height: int = 1600):
    """A headless Chromium with its own profile, and its first page: (browser, page)."""
    browser = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": height})
    return browser, browser.pages[0] if browser.pages else browser.new_page()


def wait_for_an_idle_kernel(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app has started and restored, and the open notebook's kernel is idle."""
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell",
                           timeout=timeout_ms)
    page.evaluate("async () => { await window.jupyterapp.started;"
                  " await window.jupyterapp.restored; }")
    page.wait_for_function(
        """() => { const panel = window.jupyterapp.shell.currentWidget;
                   const kernel = panel && panel.sessionContext && panel.sessionContext.session
                                  && panel.sessionContext.session.kernel;
                   return kernel && kernel.status === 'idle'; }""", timeout=timeout_ms)
