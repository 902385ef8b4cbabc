"""The OS processes of one service: one worker per instance, started and killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .names import Names
from .sources import ServiceSource


class ServiceProcesses:
    """The worker processes of one service (`instances` of them, sharing its database)."""

    def __init__(self, name: str, instances: int, source: ServiceSource, *, servers: list[str],
                 database: Path, names: Names, log: Path) -> None:
        self.name = name
        self.instances = instances
        self.source = source
        self.servers = servers
        self.database = database
        self.names = names
        self.log = log
        self.processes: list[subprocess.Popen[bytes]] = []

    def command(self) -> list[str]:
        """The command line of one worker."""
        return [sys.executable, "-m", "choreo_lab.nats.worker", self.source.spec, self.name,
                "--arguments", self.source.arguments_text, "--server", ",".join(self.servers),
                "--database", str(self.database), "--run", self.names.run]

    def start(self) -> None:
        """Start the workers; each imports the service's source, so it gets this sys.path."""
        environment = dict(os.environ,
                           PYTHONPATH=os.pathsep.join([os.getcwd()] + [p for p in sys.path if p]))
        with open(self.log, "ab") as log:
            self.processes = [subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, env=environment)
                              for _ in range(self.instances)]

    def kill(self) -> None:
        """kill -9 every worker: no goodbye, no flush; whatever was not committed is gone."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait()
        self.processes = []

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.poll() is None]

    def exited(self) -> list[int]:
        """Exit codes of workers that ended by themselves (a crash at start, an import error)."""
        return [process.returncode for process in self.processes if process.poll() is not None]

    def log_tail(self, lines: int = 8) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
