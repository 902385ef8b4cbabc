"""Inside the sandbox, before the submission's first line: confine this process for good.

As root (the grader's usual case) the sandbox process:

1. joins its own cgroup, if the grader made one (so every process it starts is counted
   and can be ended together), and its memory and cpu cgroups where those are others
   (cgroup v1): the memory of all its processes together is capped, not only each one's
   address space, and all of them together get one CPU's worth of time;
2. moves into namespaces of its own: a network namespace with only a loopback that is down
   (nothing to connect to, not even the host's 127.0.0.1), an IPC namespace (no System V
   shared memory or message queues in common with anyone), and a mount namespace: fresh,
   empty ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (nothing written there outlives it); every
   top-level folder that is not the system's (``/work``, ``/home``, ``/root``, ``/var``, ...) covered
   by an empty mount, except the paths it must read (Python, the venv, the package), which
   stay reachable even where they live in a private home folder; the reference code and
   every submission folder covered too; a ``/proc`` of its own that shows only its own
   user's processes (``hidepid``) and the cgroup folders covered, so it cannot read what
   another sandbox runs or how much it uses (not even a restarted copy of the same notebook
   beside it); and then every mount read-only but those three private temp folders, so no
   ``/run/lock`` or other folder anyone may write on the host carries a file from one
   submission to the next;
3. takes resource limits: address space, processes, CPU time, file size, open files;
4. drops to its own unprivileged user (a uid no other process has; no groups) with
   ``no_new_privs`` set, so no setuid program can give root back;
5. loses the kernel's keyrings (a seccomp filter refuses add_key, request_key and keyctl,
   and every system call of another ABI): keys belong to no namespace, outlive the process
   and can be made readable by anyone, so they would carry data from one sandbox to another.

Without root, only the limits apply; the grader reports that the sandbox is weaker.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import resource
import stat
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 1, 32, 4096, 8192, 16384, 1 << 18
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
#: Since Linux 5.8 each mount of proc has options of its own; before, a new mount's hidepid
#: would change the host's /proc too.
OWN_PROC_OPTIONS = (5, 8)
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
#: classic BPF: load a 32-bit word of the data, jump if equal / greater or equal, return
BPF_LOAD, BPF_JUMP_EQ, BPF_JUMP_GE, BPF_RETURN = 0x20, 0x15, 0x35, 0x06
#: Per machine: the audit architecture seccomp reports, and the numbers of add_key,
#: request_key and keyctl there.
KEYRING_CALLS = {"x86_64": (0xC000003E, (248, 249, 250)), "aarch64": (0xC00000B7, (217, 218, 219))}
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: the same calls under other numbers
MNT_DETACH = 2
#: mount_setattr(2) (Linux 5.12; the same number on every architecture) and its flags.
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 0x1
#: The per-mount flags a read-only remount keeps (mountinfo's names for them).
MOUNT_FLAGS = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048,
               "relatime": 1 << 21}
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
#: Top-level folders the sandbox keeps seeing: the system. Everything else at / is covered,
#: /var too (the system's data, where a course may keep its submissions; its /var/tmp is private).
SYSTEM_FOLDERS = frozenset({"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc",
                            "run", "sbin", "sys", "tmp", "usr"})


@dataclass(frozen=True)
class Plan:
    """What to do to this process: sent by the grader in the sandbox's first frame."""

    uid: int | None                      # the unprivileged user to become (None: stay)
    cgroup_procs: str | None             # the cgroup's `cgroup.procs` file to join
    memory_cgroup_procs: str | None = None  # the memory cgroup's, where that is another (v1)
    cpu_cgroup_procs: str | None = None  # the cpu cgroup's, where that is another (v1)
    hide: tuple[str, ...] = ()           # folders and files the submission must not see
    read_only: tuple[str, ...] = ()      # folders it may read but never write
    reach: tuple[str, ...] = ()          # folders it must be able to read (Python, the venv)
    memory: int = 2 << 30                # bytes of address space per process
    processes: int = 64                  # processes and threads of the sandbox user
    cpu_seconds: int = 600
    file_size: int = 64 << 20            # the largest file it may write
    open_files: int = 256
    tmp_size: str = "256m"               # each private tmpfs
    scratch: str = "/tmp/submission"     # its working directory (inside the private /tmp)

    @classmethod
    def from_json(cls, data: dict) -> Plan:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
                  if k in cls.__dataclass_fields__}
        return cls(**fields)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          options: str | None = None) -> None:
    """mount(2)."""
    encode = (lambda s: None if s is None else s.encode())
    _call(_libc().mount(encode(source), encode(target), encode(fstype), flags, encode(options)),
          f"mount {target}")


def confine(plan: Plan) -> None:
    """Apply `plan` to this process (as root: all of it; otherwise the limits only)."""
    for procs in (plan.cgroup_procs, plan.memory_cgroup_procs, plan.cpu_cgroup_procs):
        if procs:
            Path(procs).write_text(str(os.getpid()))
    if plan.uid is not None:
        private_mounts(plan)
    os.makedirs(plan.scratch, exist_ok=True)
    limit(plan)
    if plan.uid is not None:
        os.chown(plan.scratch, plan.uid, plan.uid)
        drop_privileges(plan.uid)
        refuse_keyrings()
    os.chdir(plan.scratch)
    os.environ.update(HOME=plan.scratch, USER="student", LOGNAME="student", TMPDIR="/tmp")


def private_mounts(plan: Plan) -> None:
    """Namespaces of our own: no network, no shared IPC; private temp folders, reference code
    hidden, and nothing but the private temp folders writable."""
    _call(_libc().unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    stage_root = f"/run/choreo-lab-stage-{os.getpid()}"  # on the host only as an empty folder
    os.makedirs(stage_root, exist_ok=True)
    mount("tmpfs", stage_root, "tmpfs", 0, "size=64k,mode=700")
    staged = stage(plan.reach, stage_root)
    private = [folder for folder in PRIVATE_TMP if os.path.isdir(folder)]
    cover_outside(staged)
    for folder in private:  # after covering: /var/tmp lies in a covered folder
        os.makedirs(folder, exist_ok=True)
        mount("tmpfs", folder, "tmpfs", 0, f"size={plan.tmp_size},mode=1777")
    unstage(staged)
    _call(_libc().umount2(stage_root.encode(), MNT_DETACH), f"umount {stage_root}")
    os.rmdir(stage_root)
    for path in plan.read_only:
        if os.path.isdir(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    for path in plan.hide:
        hide(path)
    own_proc()
    hide("/sys/fs/cgroup")  # joined already (step 1); others' usage is no one's business here
    read_only_except(private)


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def read_only_except(writable: list[str]) -> None:
    """Make every mount of this namespace read-only, except the mounts at `writable`.

    One recursive mount_setattr(2) where the kernel has it; otherwise each mount in
    /proc/self/mountinfo is remounted read-only on its own, keeping its nosuid, nodev, ...
    """
    libc = _libc()
    attr = MountAttr(attr_set=MOUNT_ATTR_RDONLY)
    result = libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr),
                          ctypes.sizeof(attr))
    if result == 0:
        writable_again = MountAttr(attr_clr=MOUNT_ATTR_RDONLY)
        for path in writable:
            _call(libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), 0,
                               ctypes.byref(writable_again), ctypes.sizeof(writable_again)),
                  f"mount_setattr {path}")
        return
    # ENOSYS: a kernel before 5.12; EPERM: a seccomp filter that does not know the call (as
    # older container profiles answer for calls they do not list); EINVAL: no recursive flag
    if ctypes.get_errno() not in (errno.ENOSYS, errno.EPERM, errno.EINVAL):
        _call(result, "mount_setattr /")
    remount_each_read_only(writable)


def remount_each_read_only(writable: list[str]) -> None:
    """Without mount_setattr(2): remount each mount but those at `writable` read-only."""
    for target, options in mounts():
        if target in writable:
            continue
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        flags |= sum(MOUNT_FLAGS.get(option, 0) for option in options)
        try:
            mount(None, target, None, flags)
        except OSError as error:  # a mount covered by a later one, so out of reach
            if error.errno not in (errno.ENOENT, errno.EINVAL):
                raise


def mounts() -> list[tuple[str, set[str]]]:
    """Each mount of this namespace: where it is and its per-mount options."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        found.append((target, set(fields[5].split(","))))
    return found


def has_own_proc_options() -> bool:
    """Does this kernel keep the options of each mount of /proc apart (Linux 5.8 and later)?"""
    release = tuple(int(part) for part in re.findall(r"\d+", os.uname().release)[:2])
    return release >= OWN_PROC_OPTIONS


def own_proc() -> None:
    """A /proc that shows no process of another user (the sandbox's user is its own), where
    the kernel gives each proc mount its own options; elsewhere /proc stays as it is."""
    if has_own_proc_options():
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def hide(path: str) -> None:
    """Cover a folder with an empty read-only tmpfs, or a file with /dev/null."""
    if os.path.isdir(path):
        mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=4k,mode=555")
    elif os.path.exists(path):
        mount("/dev/null", path, None, MS_BIND)


def blocked_ancestor(path: str, covered: set[str]) -> str | None:
    """The highest folder above `path` to cover: one outside the system's folders, or one
    that others may not enter (e.g. /root, mode 0700), and not covered yet."""
    parts = Path(path).parts
    for index in range(2, len(parts) + 1):
        folder = os.path.join(*parts[:index])
        if folder in covered:
            continue
        if index == 2 and parts[1] not in SYSTEM_FOLDERS and not os.path.islink(folder):
            return folder
        if os.path.isdir(folder) and not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def outside_folders() -> list[str]:
    """The real top-level folders that are not the system's (what `cover_outside` hides)."""
    return sorted(f"/{name}" for name in os.listdir("/") if name not in SYSTEM_FOLDERS
                  and os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}"))


def stage(paths: tuple[str, ...], stage_root: str) -> list[tuple[str, str]]:
    """Bind-mount each of `paths` that is about to be covered to a staging point.

    A path is covered when it lies below a folder outside the system's, below one that
    others may not enter (e.g. /root, mode 0700), or in a temp folder that becomes private.
    `cover_outside` then covers those folders with empty tmpfs mounts anyone may enter, and
    `unstage` moves each bind mount back to its place. Returns (staging, target) pairs.
    """
    wanted = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    wanted = [p for p in wanted if not any(p != q and p.startswith(q + "/") for q in wanted)]
    staged: list[tuple[str, str]] = []
    for number, path in enumerate(p for p in wanted if blocked_ancestor(p, set()) or any(
            p.startswith(folder + "/") for folder in PRIVATE_TMP)):
        staging = f"{stage_root}/{number}"
        os.makedirs(staging)
        mount(path, staging, None, MS_BIND | MS_REC)
        staged.append((staging, path))
    return staged


def cover_outside(staged: list[tuple[str, str]]) -> None:
    """Cover every folder outside the system's, and each private folder above a staged path."""
    covered: set[str] = set()
    for folder in outside_folders():
        mount("tmpfs", folder, "tmpfs", 0, "size=64k,mode=755")
        covered.add(folder)
    for _, path in staged:
        while (ancestor := blocked_ancestor(path, covered)) is not None:
            mount("tmpfs", ancestor, "tmpfs", 0, "size=64k,mode=755")
            covered.add(ancestor)


def unstage(staged: list[tuple[str, str]]) -> None:
    """Move each staged bind mount to its target (inside the tmpfs `cover_outside` laid)."""
    for staging, target in staged:
        os.makedirs(target, exist_ok=True)
        mount(staging, target, None, MS_MOVE)


def limit(plan: Plan) -> None:
    """Resource limits for this process and everything it starts."""
    for which, value in ((resource.RLIMIT_AS, plan.memory), (resource.RLIMIT_CPU, plan.cpu_seconds),
                         (resource.RLIMIT_FSIZE, plan.file_size),
                         (resource.RLIMIT_NOFILE, plan.open_files), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    if plan.uid is not None:  # counted per user: meaningful only for a user of our own
        resource.setrlimit(resource.RLIMIT_NPROC, (plan.processes, plan.processes))


def drop_privileges(uid: int) -> None:
    """Become `uid` (group `uid`, no supplementary groups) for good."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _call(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def has_keyring_filter() -> bool:
    """Does the sandbox know this machine's numbers for the keyring calls?"""
    return os.uname().machine in KEYRING_CALLS


def refuse_keyrings() -> None:
    """A seccomp filter: add_key, request_key and keyctl fail with EPERM, as does any call
    of another ABI (x32, or 32-bit calls on a 64-bit kernel, which number them otherwise).
    Needs no_new_privs (set by `drop_privileges`); inherited by every process started after."""
    if not has_keyring_filter():
        return
    arch, calls = KEYRING_CALLS[os.uname().machine]
    refused = SECCOMP_RET_ERRNO | errno.EPERM
    # A jump skips that many instructions when the test holds (`true`) or fails (`false`).
    # What is loaded is the kernel's seccomp_data: the call's number at 0, the ABI at 4.
    program = [
        SockFilter(BPF_LOAD, 0, 0, 4),                    # the ABI
        SockFilter(BPF_JUMP_EQ, 1, 0, arch),              # ours: skip the next
        SockFilter(BPF_RETURN, 0, 0, refused),            # another ABI: refused
        SockFilter(BPF_LOAD, 0, 0, 0),                    # the call's number
        SockFilter(BPF_JUMP_GE, len(calls) + 1, 0, X32_SYSCALL_BIT),  # x32: to the last
        *(SockFilter(BPF_JUMP_EQ, len(calls) - index, 0, call)      # a keyring call: to the last
          for index, call in enumerate(calls)),
        SockFilter(BPF_RETURN, 0, 0, SECCOMP_RET_ALLOW),  # anything else: allowed
        SockFilter(BPF_RETURN, 0, 0, refused),
    ]
    filters = (SockFilter * len(program))(*program)
    fprog = SockFprog(len(program), filters)
    _call(_libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0),
          "prctl(seccomp)")
