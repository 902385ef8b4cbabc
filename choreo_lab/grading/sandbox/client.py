"""The grader's side of the sandbox: start it, send it requests within deadlines, end it.

`Sandbox` starts the sandbox process (as root it confines itself to a user of its own),
sends it cells to run and calls to make, and gives each request a deadline. A request that
runs out of time is interrupted (SIGINT, as Jupyter does); a sandbox that ignores the
interrupt, dies, or answers out of protocol is ended - with every process it started - and
every later request fails at once with the reason. Its stdout and stderr are drained and
dropped (only the last lines of stderr are kept, to say why it died).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .confine import has_keyring_filter, has_own_proc_options
from .containment import (
    Containment,
    become_subreaper,
    limit_cpu,
    limit_memory,
    make_cgroup,
    memory_killed,
    sandbox_uid,
)
from .protocol import FrameReader, ProtocolClosed, ProtocolError, ProtocolTimeout, write_frame

#: Seconds a sandbox gets to start (imports, confinement) and to answer after an interrupt.
START_TIMEOUT = 60.0
INTERRUPT_GRACE = 3.0
#: Seconds the goodbye may take to send (a sandbox that reads nothing is ended all the same).
BYE_TIMEOUT = 1.0
#: Replies to earlier requests skipped while waiting for one (the server sends at most one
#: per request, so only a request that ran out of time leaves one behind).
MAX_STALE_REPLIES = 16
FLOODED = ("the notebook's code wrote messages to the grader's channel that answer no request, "
           "so the kernel was stopped")
#: How the sandbox starts: the package the grader itself imported comes first on its path
#: (``-I`` ignores PYTHONPATH, and an editable install elsewhere would win otherwise).
def boot(module: str) -> str:
    """A `python -I -c` program that runs `module` of the package whose folder's parent is its
    first argument: the grader's own copy of the package, whatever else is installed."""
    return ("import sys, runpy; sys.path.insert(0, sys.argv.pop(1)); "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")


BOOT = boot("choreo_lab.grading.sandbox.server")


class SandboxGone(Exception):
    """The sandbox cannot answer any more; the message says why, in words for a learner."""


class SandboxTimeout(Exception):
    """A request ran out of time; the sandbox was interrupted (and is still usable)."""


class ChannelFlooded(ProtocolError):
    """More replies to earlier requests than the sandbox ever sends: code wrote to the pipe."""


def package_paths() -> dict[str, str]:
    """Where the library, the Python installation and the venv live (the sandbox must read them)."""
    import choreo_lab
    package = Path(choreo_lab.__file__).resolve().parent
    return {"package": str(package), "examples": str(package / "examples"),
            "grading": str(package / "grading"), "base_prefix": os.path.realpath(sys.base_prefix),
            "prefix": os.path.realpath(sys.prefix)}


def python_paths() -> list[str]:
    """Where this Python's standard library and installed packages live (never the cwd)."""
    import sysconfig
    return sorted({os.path.realpath(sysconfig.get_path(name))
                   for name in ("stdlib", "platstdlib", "purelib", "platlib")})


class Sandbox:
    """One submission's sandbox process, for the duration of its grading."""

    def __init__(self, notebook_name: str, notebook_text: str, *, hide: list[str],
                 memory: int = 2 << 30, processes: int = 64, cpu_seconds: int = 600,
                 slot: int = 0) -> None:
        self.notebook_name, self.notebook_text = notebook_name, notebook_text
        self.hide, self.memory, self.processes, self.cpu = hide, memory, processes, cpu_seconds
        self.slot = slot
        self.gone: str | None = None
        self.out_of_memory = False  # it died because its memory cgroup killed it
        self.notes: list[str] = []
        self.refused: list[str] = []
        self.stderr_tail: deque[str] = deque(maxlen=5)
        self._ids = 0
        become_subreaper()
        pid = os.getpid()
        self.containment = Containment(pid, sandbox_uid(pid, slot), None)
        self._sibling: Sandbox | None = None
        self.paused = False  # stopped by `pause` while a restarted copy runs

    def sibling(self) -> Sandbox:
        """A second sandbox for the same notebook, with the same limits and hide list (not
        started): the learner's code in a fresh process. It has a slot, uid and cgroups of its
        own; the two never count each other's processes as theirs, so closing it leaves this
        one running. One at a time: a new one closes the one before."""
        if self._sibling is not None:
            self._sibling.close()
        other = Sandbox(self.notebook_name, self.notebook_text, hide=self.hide,
                        memory=self.memory, processes=self.processes, cpu_seconds=self.cpu,
                        slot=1 - self.slot)
        other.containment.sibling, self.containment.sibling = self.containment, other.containment
        other._sibling, self._sibling = self, other
        return other

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sandbox and wait until it is confined and ready (or raise SandboxGone)."""
        self.containment.end_all()  # a stale process of a previous worker with this pid
        self.containment.cgroup = make_cgroup(os.getpid(), self.processes, self.slot)
        self.containment.memory_cgroup = limit_memory(self.containment.cgroup, os.getpid(),
                                                      self.memory, self.slot)
        self.containment.cpu_cgroup = limit_cpu(self.containment.cgroup, os.getpid(),
                                                slot=self.slot)
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOT, str(Path(package_paths()["package"]).parent),
             str(requests_read), str(replies_write)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(requests_read, replies_write), start_new_session=True, cwd="/",
            env=sandbox_environment())
        os.close(requests_read)
        os.close(replies_write)
        self.containment.leader = self.process.pid
        os.set_blocking(requests_write, False)  # every write has a deadline (write_frame)
        self._requests, self.reader = requests_write, FrameReader(replies_read)
        for stream, keep in ((self.process.stdout, False), (self.process.stderr, True)):
            threading.Thread(target=self._drain, args=(stream, keep), daemon=True).start()
        self.request({"op": "setup", "plan": self._plan(), "notebook_name": self.notebook_name,
                      "notebook": self.notebook_text}, START_TIMEOUT)

    def _plan(self) -> dict[str, Any]:
        paths = package_paths()
        uid = self.containment.uid
        if uid is None:
            self.notes.append("not run as root: the sandbox shares the grader's user, its files "
                              "and its network (limits, process tracking and the pipe still "
                              "hold)")
        group, memory = self.containment.cgroup, self.containment.memory_cgroup
        cpu = self.containment.cpu_cgroup
        if uid is not None and memory is None:
            self.notes.append("no memory cgroup here: memory is limited for each process of "
                              "the sandbox, not for all of them together")
        if uid is not None and cpu is None:
            self.notes.append("no cpu cgroup here: the sandbox's processes together may use "
                              "every CPU, so notebooks graded at the same time (--jobs) can "
                              "run out of time; grade with --jobs 1 or enable the cpu "
                              "controller")
        if uid is not None and not has_own_proc_options():
            self.notes.append(f"Linux {os.uname().release} gives every mount of /proc the same "
                              "options, so the sandbox sees the machine's processes (their "
                              "names and command lines), other sandboxes' too")
        if uid is not None and not has_keyring_filter():
            self.notes.append(f"no keyring filter for {os.uname().machine}: the sandbox can "
                              "reach the kernel's keyrings, which other sandboxes reach too")
        return {"uid": uid, "cgroup_procs": _procs(group),
                "memory_cgroup_procs": _procs(memory) if memory != group else None,
                "cpu_cgroup_procs": _procs(cpu) if cpu != group else None,
                "hide": [paths["examples"], paths["grading"], *self.hide],
                "read_only": [paths["package"], paths["prefix"], paths["base_prefix"]],
                "reach": [paths["package"], paths["prefix"], paths["base_prefix"],
                          *python_paths()],
                "memory": self.memory, "processes": self.processes,
                "cpu_seconds": self.cpu,
                "scratch": f"/tmp/submission-{os.getpid()}"
                           + (f"-{self.slot}" if self.slot else "")}

    def close(self) -> None:
        """End the sandbox and everything it started; wait until they are all gone."""
        if getattr(self, "process", None) is not None and self.gone is None:
            try:
                write_frame(self._requests, {"op": "bye"}, BYE_TIMEOUT)
            except (OSError, ProtocolError):
                pass
        self._end("it was closed")

    def _end(self, why: str) -> None:
        if self.gone is None:
            self.gone = why
        self.containment.end_all()
        if self._sibling is not None:  # its processes are no longer a sibling's to spare
            self._sibling._sibling = None
            self._sibling.containment.sibling = None
            self._sibling, self.containment.sibling = None, None
        process = getattr(self, "process", None)
        if process is not None:
            try:
                process.kill()
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=5)
            except (subprocess.TimeoutExpired, ChildProcessError):
                pass
            for fd in (self._requests, self.reader.fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.process = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drain(self, stream: Any, keep: bool) -> None:
        """Read a stream to its end, keeping at most the last few short lines of it."""
        while chunk := stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16):
            if keep:
                self.stderr_tail.extend(line[:300] for line in
                                        chunk.decode("utf-8", "replace").splitlines()[-5:])

    # -- requests ------------------------------------------------------------------------------
    def pause(self) -> None:
        """Stop every process of the sandbox (SIGSTOP) until `resume` or the next request:
        while a restarted copy of the notebook runs, nothing of the first one runs beside it
        (no thread of it can pass the copy what the first process kept in memory)."""
        if self.gone is None and not self.paused:
            self.containment.stop_all()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self.containment.signal_all(signal.SIGCONT)

    def request(self, message: dict[str, Any], timeout: float,
                on_step: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Send one request and return its reply; raises SandboxTimeout or SandboxGone.

        `on_step` answers the steps the sandbox reports while it works on the request (a
        relay's publishes, each made here as it happens): what it returns goes back at once.
        """
        if self.gone is not None:
            raise SandboxGone(self.gone)
        self.resume()
        self._ids += 1
        number = self._ids
        try:
            write_frame(self._requests, message | {"id": number}, max(0.0, timeout))
            reply = self._reply(number, max(0.0, timeout), on_step)
        except ProtocolTimeout:
            return self._interrupted(number)
        except ChannelFlooded:
            self._end(FLOODED)
            raise SandboxGone(self.gone) from None
        except ProtocolClosed:
            self._end(self._death())
            raise SandboxGone(self.gone) from None
        except (ProtocolError, OSError) as error:
            self._end(f"the kernel broke the grading protocol ({error})"[:300])
            raise SandboxGone(self.gone) from None
        self._note_refusals(reply)
        return reply

    def _reply(self, number: int, timeout: float,
               on_step: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
        """The reply to request `number`, within `timeout` however many frames come first.

        A step of the request is answered by `on_step`. A reply to an earlier request (one
        that ran out of time), or a step nobody asked for, is skipped, up to
        `MAX_STALE_REPLIES`; more is the learner's code writing to the channel, and ends it.
        """
        deadline = time.monotonic() + timeout
        stale = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:  # checked on every frame: a flood of them must not outlast it
                raise ProtocolTimeout()
            reply = self.reader.read(left)
            if reply.get("id") == number and "step" not in reply:
                return reply
            if reply.get("id") == number and on_step is not None:
                write_frame(self._requests, {"id": number, "answer": on_step(reply["step"])},
                            max(0.0, deadline - time.monotonic()))
                continue
            if type(reply.get("id")) is not int or reply["id"] > number:
                raise ProtocolError(f"a reply to request {reply.get('id')!r}, not {number}")
            stale += 1
            if stale > MAX_STALE_REPLIES:
                raise ChannelFlooded()

    def _interrupted(self, number: int) -> dict[str, Any]:
        """Interrupt the request that ran out of time; end the sandbox if it does not stop."""
        try:
            os.kill(self.process.pid, signal.SIGINT)
            reply = self._reply(number, INTERRUPT_GRACE)
        except ChannelFlooded:
            self._end(FLOODED)
            raise SandboxGone(self.gone) from None
        except (ProtocolError, ProtocolTimeout, OSError, ProcessLookupError):
            self._end("it ran out of time and did not stop when interrupted, so the kernel "
                      "was stopped")
            raise SandboxGone(self.gone) from None
        self._note_refusals(reply)
        raise SandboxTimeout()

    def _death(self) -> str:
        code = self.process.poll() if self.process is not None else None
        if code is None:
            try:
                code = self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        why = "the Python kernel died"
        self.out_of_memory = memory_killed(self.containment.memory_cgroup)
        if self.out_of_memory:
            why += (f": the notebook's code used more than {size(self.memory)} of memory (all "
                    "its processes together, files in its /tmp included), so it was stopped")
        elif code is not None and code < 0:
            why += f" (killed by signal {signal.Signals(-code).name})"
        elif code not in (None, 0):
            why += f" (exit status {code})"
        return why

    def _note_refusals(self, reply: dict[str, Any]) -> None:
        refused = reply.get("refused", [])
        if isinstance(refused, list):
            for name in refused[:20]:
                if isinstance(name, str) and name[:120] not in self.refused:
                    self.refused.append(name[:120])


def _procs(group: Path | None) -> str | None:
    return str(group / "cgroup.procs") if group is not None else None


def size(count: int) -> str:
    """A number of bytes for a learner: "256 MB", "2 GB" (binary units, as the limits are)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def sandbox_environment() -> dict[str, str]:
    """A small environment for the sandbox: no secrets of the grader's shell get through."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep} | {"PYTHONHASHSEED": "0"}
