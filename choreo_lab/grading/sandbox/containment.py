"""Ending every process a submission started, however it tried to get away.

A sandbox is tracked three ways at once, so that a new session, a double fork or a
process that renamed itself cannot escape:

- by **user**: as root, each sandbox runs as a user of its own (a uid derived from the
  grading worker's pid and the sandbox's slot, which no other live process can share), so
  "every process of that uid" is exactly what the submission started;
- by **cgroup**: where the cgroup file system is writable, the sandbox joins a pids cgroup
  of its own (with a cap on its processes), and the cgroup lists every process in it; where
  the memory controller is there too, the same cgroup (v2) or a memory cgroup of its own (v1)
  caps the memory of all its processes together, with no swap; and where the cpu controller
  is, the same cgroup (v2) or a cpu cgroup of its own (v1) gives all its processes together
  one CPU's worth of time, so a submission's busy loops cannot starve another sandbox;
- by **descent and session**: the worker is a child subreaper, so orphans of the sandbox
  are re-parented to it instead of escaping to init; its descendants and every process in
  the sandbox's session are found by scanning /proc.

`end_all` kills what it finds until nothing is left, and reaps what it killed.

A worker may run a second sandbox for the same submission at once (slot 1: the learner's
code restarted in a fresh process, for one check). It has a uid and cgroups of its own, and
what belongs to the other live sandbox of the worker (by uid, cgroup or session) is never
counted as its own, so ending one leaves the other running. Only where there is neither a
uid nor a cgroup of its own (not root, no writable cgroups) can an orphan of the other
sandbox that left its session be taken for one of the restarted one's, and ended with it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
#: Sandbox users are UID_BASE + the worker's pid: far above any real account's uid.
UID_BASE = 1_500_000_000
#: Pids are below 2**22 (Linux's largest pid_max): a sandbox in slot n runs as
#: UID_BASE + n * PID_SPAN + the worker's pid.
PID_SPAN = 1 << 22
#: The slots a worker's sandboxes may use: 0 for the notebook's, 1 for a restart.
SLOTS = (0, 1)
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
CGROUP_PREFIX = "choreo-lab-sandbox-"
MEMORY_ROOT_V1 = Path("/sys/fs/cgroup/memory")
CPU_ROOT_V1 = Path("/sys/fs/cgroup/cpu")
#: The CPU time a sandbox gets: `CPU_QUOTA` microseconds in every `CPU_PERIOD` (one CPU).
CPU_PERIOD = 100_000
CPU_QUOTA = 100_000


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children (Linux); False if refused."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def sandbox_uid(worker_pid: int, slot: int = 0) -> int | None:
    """The uid the worker's sandbox (in `slot`) runs as, or None when not root (nobody to drop to)."""
    return UID_BASE + slot * PID_SPAN + worker_pid if os.geteuid() == 0 else None


def group_name(worker_pid: int, slot: int = 0) -> str:
    return f"{CGROUP_PREFIX}{worker_pid}" + (f"-{slot}" if slot else "")


def make_cgroup(worker_pid: int, max_processes: int, slot: int = 0) -> Path | None:
    """A pids cgroup for the worker's sandbox, or None where cgroups are not writable here."""
    for root in CGROUP_ROOTS:
        if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
            continue
        if root.name != "pids" and "pids" not in _text(root / "cgroup.controllers"):
            continue
        group = root / group_name(worker_pid, slot)
        try:
            group.mkdir(exist_ok=True)
            (group / "pids.max").write_text(str(max_processes))
        except OSError:
            continue
        return group
    return None


def limit_memory(group: Path | None, worker_pid: int, memory: int,
                 slot: int = 0) -> Path | None:
    """Cap the memory of the whole sandbox at `memory` bytes, with no swap.

    On cgroup v2 in `group` itself (the pids cgroup), where its memory controller is
    enabled; on cgroup v1 in a memory cgroup of its own, which the sandbox joins too.
    Returns the cgroup that holds the cap, or None where no memory controller is writable.
    """
    if group is not None and (group / "memory.max").exists():
        try:
            (group / "memory.max").write_text(str(memory))
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
            return group
        except OSError:
            pass
    if not (MEMORY_ROOT_V1 / "memory.limit_in_bytes").exists() or not os.access(
            MEMORY_ROOT_V1, os.W_OK):
        return None
    group = MEMORY_ROOT_V1 / group_name(worker_pid, slot)
    swap = group / "memory.memsw.limit_in_bytes"  # memory and swap together (if accounted)
    try:
        group.mkdir(exist_ok=True)
        if swap.exists():  # never below the memory limit: raised first, lowered after
            _try_write(swap, str(memory))
        (group / "memory.limit_in_bytes").write_text(str(memory))
        if swap.exists():
            swap.write_text(str(memory))
        else:
            _try_write(group / "memory.swappiness", "0")
    except OSError:
        return None
    return group


def limit_cpu(group: Path | None, worker_pid: int, quota: int = CPU_QUOTA,
              period: int = CPU_PERIOD, slot: int = 0) -> Path | None:
    """Give the whole sandbox at most `quota` microseconds of CPU time in every `period`.

    On cgroup v2 in `group` itself (cpu.max), where its cpu controller is enabled; on
    cgroup v1 in a cpu cgroup of its own (cpu.cfs_quota_us), which the sandbox joins too.
    Returns the cgroup that holds the quota, or None where no cpu controller is writable.
    """
    if group is not None and (group / "cpu.max").exists():
        try:
            (group / "cpu.max").write_text(f"{quota} {period}")
            return group
        except OSError:
            pass
    if not (CPU_ROOT_V1 / "cpu.cfs_quota_us").exists() or not os.access(CPU_ROOT_V1, os.W_OK):
        return None
    group = CPU_ROOT_V1 / group_name(worker_pid, slot)
    try:
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(period))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    except OSError:
        return None
    return group


def memory_killed(group: Path | None) -> bool:
    """Whether the memory controller of `group` killed a process for going over its cap.

    v2 and newer v1 kernels count the kills (memory.events, memory.oom_control); an older v1
    only says the cap was reached (memory.failcnt, or the peak usage at the limit).
    """
    if group is None:
        return False
    for name in ("memory.events", "memory.oom_control"):
        counts = dict(line.split()[:2] for line in _text(group / name).splitlines()
                      if len(line.split()) >= 2)
        if "oom_kill" in counts:
            return counts["oom_kill"].isdigit() and int(counts["oom_kill"]) > 0
    limit = _number(group / "memory.limit_in_bytes")
    peak = _number(group / "memory.max_usage_in_bytes")
    return _number(group / "memory.failcnt") > 0 or (limit > 0 and peak >= limit)


def _number(path: Path) -> int:
    text = _text(path).strip()
    return int(text) if text.isdigit() else 0


def _try_write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass


def memory_cgroup_of(worker_pid: int, slot: int = 0) -> Path | None:
    """The v1 memory cgroup `limit_memory` made for this worker, if it exists."""
    group = MEMORY_ROOT_V1 / group_name(worker_pid, slot)
    return group if group.is_dir() else None


def cpu_cgroup_of(worker_pid: int, slot: int = 0) -> Path | None:
    """The v1 cpu cgroup `limit_cpu` made for this worker's sandbox in `slot`, if it exists."""
    group = CPU_ROOT_V1 / group_name(worker_pid, slot)
    return group if group.is_dir() else None


def cgroup_of(worker_pid: int, slot: int = 0) -> Path | None:
    """The cgroup `make_cgroup` made for this worker, if it exists."""
    for root in CGROUP_ROOTS:
        group = root / group_name(worker_pid, slot)
        if group.is_dir():
            return group
    return None


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@dataclass
class ProcessInfo:
    pid: int
    ppid: int
    session: int
    uid: int
    zombie: bool
    stopped: bool = False  # by a signal (SIGSTOP), until SIGCONT


def processes() -> list[ProcessInfo]:
    """Every process on the machine, read from /proc (ones that vanish meanwhile are skipped)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            uid_line = next(line for line in Path(f"/proc/{entry}/status").read_text().splitlines()
                            if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (command name) "
        found.append(ProcessInfo(int(entry), int(fields[1]), int(fields[3]),
                                 int(uid_line.split()[1]), fields[0] == "Z", fields[0] == "T"))
    return found


@dataclass
class Containment:
    """How one worker's sandbox is tracked: its uid, its cgroups, its first process."""

    worker_pid: int
    uid: int | None
    cgroup: Path | None
    leader: int | None = None   # the sandbox's first process (the leader of its session)
    memory_cgroup: Path | None = None  # the cgroup capping its memory (v2: `cgroup` itself)
    cpu_cgroup: Path | None = None     # the cgroup giving it its CPU time (v2: `cgroup` itself)
    #: the worker's other live sandbox, whose processes are never this one's
    sibling: Containment | None = None

    @classmethod
    def for_worker(cls, worker_pid: int, slot: int = 0) -> Containment:
        """What the parent can find of a worker's sandbox after the worker itself is gone."""
        return cls(worker_pid, sandbox_uid(worker_pid, slot), cgroup_of(worker_pid, slot),
                   memory_cgroup=memory_cgroup_of(worker_pid, slot),
                   cpu_cgroup=cpu_cgroup_of(worker_pid, slot))

    def owned(self, table: list[ProcessInfo]) -> set[int]:
        """The live processes that carry this sandbox's marks: its cgroups, uid or session."""
        found: set[int] = set()
        for group in self.cgroups():
            found |= {int(pid) for pid in _text(group / "cgroup.procs").split()}
        for info in table:
            if self.uid is not None and info.uid == self.uid:
                found.add(info.pid)
            if self.leader is not None and info.session == self.leader:
                found.add(info.pid)
        return found

    def cgroups(self) -> list[Path]:
        return list(dict.fromkeys(g for g in (self.cgroup, self.memory_cgroup, self.cpu_cgroup)
                                  if g is not None))

    def members(self) -> set[int]:
        """Every live process that belongs to the sandbox (none of its live sibling's)."""
        table = processes()
        found = self.owned(table)
        children: dict[int, list[int]] = {}
        for info in table:
            children.setdefault(info.ppid, []).append(info.pid)
        if self.worker_pid == os.getpid() and self.leader is not None:
            found |= self._descendants(children)
        if self.sibling is not None:
            found -= self.sibling.owned(table)
            if self.sibling.leader is not None:
                found.discard(self.sibling.leader)
        zombies = {info.pid for info in table if info.zombie}
        found -= zombies
        found.discard(os.getpid())
        found.discard(self.worker_pid)
        return found

    def _descendants(self, children: dict[int, list[int]]) -> set[int]:
        """This worker's descendants (orphans come back here: the worker is a subreaper)."""
        found, pending = set(), list(children.get(os.getpid(), []))
        while pending:
            pid = pending.pop()
            found.add(pid)
            pending.extend(children.get(pid, []))
        return found

    def signal_all(self, sig: int, rounds: int = 5) -> None:
        """Send `sig` to every process of the sandbox, again to any that appeared meanwhile
        (one forked while the others were being signalled), until no new one does."""
        signalled: set[int] = set()
        for _ in range(rounds):
            fresh = self.members() - signalled
            if not fresh:
                return
            for pid in fresh:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            signalled |= fresh

    def stop_all(self, patience: float = 2.0) -> bool:
        """SIGSTOP every process of the sandbox and wait until each is stopped (a signal is
        taken when its process next runs); True if all are within `patience` seconds."""
        self.signal_all(signal.SIGSTOP)
        deadline = time.monotonic() + patience
        while True:
            mine = self.members()
            if all(info.stopped for info in processes() if info.pid in mine):
                return True
            if time.monotonic() > deadline:
                return False
            self.signal_all(signal.SIGSTOP)
            time.sleep(0.005)

    def end_all(self, patience: float = 10.0) -> bool:
        """Kill every process of the sandbox until none is left; True if none is."""
        deadline = time.monotonic() + patience
        while True:
            alive = self.members()
            if not alive:
                break
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            reap_children()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        reap_children()
        for group in self.cgroups():
            try:
                group.rmdir()
            except OSError:
                pass
        return True


def reap_children() -> None:
    """Collect the exit status of every child that has ended (orphans included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
