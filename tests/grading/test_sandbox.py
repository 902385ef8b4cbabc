"""The sandbox on its own: the pipe protocol, confinement, reference code, clean-up."""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from choreo_lab.grading.sandbox.client import Sandbox, SandboxGone, SandboxTimeout
from choreo_lab.grading.sandbox.containment import UID_BASE, processes
from choreo_lab.grading.sandbox.protocol import (
    MAX_FRAME,
    FrameReader,
    ProtocolError,
    UnsupportedValue,
    decode_value,
    encode_value,
)

from .conftest import ROOT

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="confinement to a user of its own needs root")


# -- the protocol -------------------------------------------------------------------------------
def test_plain_data_crosses_the_pipe_as_it_was() -> None:
    state = {"stock": {"lamp": 3}, "seen": {"m1", "m2"}, (1, "a"): [1.5, None, True],
             "frozen": frozenset({1}), 7: ()}
    assert decode_value(encode_value(state)) == state


@pytest.mark.parametrize("value", [object(), {"f": print}, [1, {2, 3}, type]])
def test_a_state_holding_an_object_is_refused_with_a_reason(value: object) -> None:
    with pytest.raises(UnsupportedValue, match="keep plain dicts, lists"):
        encode_value(value)


@pytest.mark.parametrize("data", [{"list": [1], "dict": []}, {"exec": []}, {"set": [{"list": []}]},
                                  {"dict": [[1]]}, [1, 2], {"dict": [["k", {"tuple": 3}]]}])
def test_a_malformed_value_from_the_sandbox_is_a_protocol_error(data: object) -> None:
    with pytest.raises(ProtocolError):
        decode_value(data)


def test_a_frame_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    read, write = os.pipe()
    os.write(write, struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(ProtocolError, match="more than"):
        FrameReader(read).read(1)
    os.close(read)
    os.close(write)


def test_a_frame_nested_deeper_than_the_parser_goes_is_a_protocol_error() -> None:
    read, write = os.pipe()
    frame = b"[" * 20_000
    os.write(write, struct.pack(">I", len(frame)) + frame)
    with pytest.raises(ProtocolError, match="nested too deep"):
        FrameReader(read).read(1)
    os.close(read)
    os.close(write)


# -- a sandbox ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox("ex01-inventory.ipynb", '{"cells": []}', hide=[])
    box.start()
    yield box
    box.close()


def run(sandbox: Sandbox, source: str, timeout: float = 10) -> dict:
    return sandbox.request({"op": "run_cell", "source": source}, timeout)


def value(sandbox: Sandbox, expression: str) -> str:
    """repr(expression) evaluated in the sandbox (read back from an assertion's message)."""
    reply = run(sandbox, f"assert False, repr({expression})")
    return reply["evalue"]


@as_root
def test_the_sandbox_runs_as_a_user_of_its_own_in_a_folder_with_only_the_notebook(
        sandbox: Sandbox) -> None:
    assert int(value(sandbox, "__import__('os').getuid()")) >= UID_BASE
    assert value(sandbox, "sorted(__import__('os').listdir('.'))") == repr(
        ['.ipython', 'ex01-inventory.ipynb'])


@as_root
def test_the_course_repository_and_other_folders_are_hidden(sandbox: Sandbox) -> None:
    listing = value(sandbox, f"sorted(__import__('os').listdir({str(ROOT)!r}))")
    assert "solutions" not in listing and "tests" not in listing and "choreo_lab" in listing
    assert value(sandbox, f"__import__('os').path.exists({str(ROOT / 'solutions')!r})") == "False"
    assert value(sandbox, "sorted(__import__('os').listdir('/tmp'))") == repr(
        sorted([f"submission-{os.getpid()}", *course_folder_in_tmp()]))


def course_folder_in_tmp() -> list[str]:
    """The course's own top folder, when it was cloned under /tmp: the package must stay readable."""
    parts = ROOT.resolve().parts
    return [parts[2]] if parts[:2] == ("/", "tmp") else []


@as_root
def test_the_package_cannot_be_written_and_its_reference_code_is_gone(sandbox: Sandbox) -> None:
    package = ROOT / "choreo_lab"
    reply = run(sandbox, f"open({str(package / 'planted.py')!r}, 'w')")
    assert reply["ename"] in ("OSError", "PermissionError")
    assert value(sandbox, f"__import__('os').listdir({str(package / 'examples')!r})") == "[]"
    assert not (package / "planted.py").exists()


def test_the_reference_services_are_not_even_in_the_sandboxs_memory(sandbox: Sandbox) -> None:
    found = value(sandbox, "[f.__name__ for f in __import__('gc').get_objects() if "
                           "isinstance(f, __import__('types').FunctionType) and "
                           "str(f.__module__).startswith('choreo_lab.examples')]")
    assert found == "[]"
    reply = run(sandbox, "from choreo_lab.examples.orders import OrderPlaced, STOCK")
    assert reply["status"] == "ok"


def test_a_cell_that_runs_too_long_is_interrupted_and_the_sandbox_goes_on(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxTimeout):
        run(sandbox, "while True:\n    pass", timeout=0.5)
    assert run(sandbox, "x = 1")["status"] == "ok"


def test_every_process_a_submission_starts_ends_with_it(tmp_path: Path) -> None:
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    run(box, "import os, subprocess, time\n"
             "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
             "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
             "        time.sleep(600)\n    os._exit(0)\n")
    leader = box.process.pid
    time.sleep(0.5)
    started = [p for p in processes() if p.session != leader and p.pid in box.containment.members()]
    assert len(started) >= 2, "the escapees were started in sessions of their own"
    box.close()
    assert box.containment.members() == set()
    with pytest.raises(SandboxGone):
        run(box, "x = 1")


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own (one worker has one sandbox: closing another ends this one too)."""
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    yield box
    box.close()


def test_the_sandbox_runs_the_graders_own_copy_of_the_package(fresh: Sandbox) -> None:
    import choreo_lab
    assert value(fresh, "__import__('choreo_lab').__file__") == repr(choreo_lab.__file__)


@as_root
def test_a_folder_under_var_is_hidden_but_var_tmp_is_its_own() -> None:
    """Submissions kept under /var (a course's data) while one student's folder is graded:
    the others' notebooks are out of sight."""
    kept = Path(f"/var/choreo-lab-test-{os.getpid()}")
    (kept / "bob").mkdir(parents=True)
    (kept / "bob" / "ex01-inventory.ipynb").write_text("bob's answers")
    box = Sandbox("x.ipynb", "{}", hide=[])
    try:
        box.start()
        assert value(box, f"__import__('os').path.exists({str(kept)!r})") == "False"
        assert run(box, "open('/var/tmp/scratch', 'w').write('mine')")["status"] == "ok"
    finally:
        box.close()
        (kept / "bob" / "ex01-inventory.ipynb").unlink()
        (kept / "bob").rmdir()
        kept.rmdir()
    assert not Path("/var/tmp/scratch").exists()


def test_a_sandbox_that_stops_reading_its_requests_is_ended_not_waited_for() -> None:
    """Learner code that replaces the sandbox's reader: the grader's next request, too large
    for the pipe, must not block the worker past the request's time."""
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    outcome: list[object] = []
    try:
        replaced = run(box, "import gc, time\n"
                            "[s for s in gc.get_objects() if type(s).__name__ == 'Server'][0]"
                            ".reader.read = lambda *args: time.sleep(1000)")
        assert replaced["status"] == "ok", replaced

        def big_request() -> None:
            try:
                run(box, "x = '" + "y" * 300_000 + "'", timeout=2)
            except (SandboxGone, SandboxTimeout) as error:
                outcome.append(error)

        worker = threading.Thread(target=big_request, daemon=True)
        worker.start()
        worker.join(15)
        assert not worker.is_alive(), "the grader was held by a sandbox that reads nothing"
        assert isinstance(outcome[0], SandboxGone), outcome
        assert "stopped reading what the grader sent it" in str(outcome[0])
    finally:
        box.close()


# -- what one sandbox could leave for another -----------------------------------------------------
def world_writable_folders() -> list[str]:
    """Folders on the host anyone may write to (outside the temp folders that become private)."""
    found = {"/run/lock", "/var/lock"}
    for top in ("/run", "/var", "/dev", "/var/lib", "/var/cache"):
        try:
            entries = [os.path.join(top, name) for name in os.listdir(top)]
        except OSError:
            continue
        found.update(path for path in entries if os.path.isdir(path)
                     and os.stat(path).st_mode & 0o002)
    private = ("/tmp", "/var/tmp", "/dev/shm")
    return sorted(path for path in found if os.path.isdir(path)
                  and os.path.realpath(path) not in private)


@as_root
def test_nothing_outside_its_private_temp_folders_can_be_written() -> None:
    folders = world_writable_folders()
    assert "/run/lock" in folders or not os.path.isdir("/run/lock")
    name = f".cl-share-{os.getpid()}.py"
    everywhere = [*folders, "/", "/etc", "/usr", "/tmp", "/var/tmp", "/dev/shm"]
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    try:
        written = value(box, f"[f for f in {[*folders, '/', '/etc', '/usr']!r} if not "
                             f"__import__('subprocess').run(['touch', f + '/{name}']).returncode]")
        reply = run(box, f"for f in ('/tmp', '/var/tmp', '/dev/shm'):\n"
                         f"    open(f + '/{name}', 'w').write('answer = 42')")
    finally:
        box.close()
        left = sorted({os.path.realpath(os.path.join(f, name)) for f in everywhere
                       if os.path.exists(os.path.join(f, name))})
        for path in left:
            os.unlink(path)
    assert written == "[]"
    assert reply["status"] == "ok"
    assert left == [], "a file the sandbox wrote stayed on the host"
    following = Sandbox("x.ipynb", "{}", hide=[])
    following.start()
    try:
        assert value(following, f"[f for f in ('/tmp', '/var/tmp', '/dev/shm') "
                                f"if __import__('os').path.exists(f + '/{name}')]") == "[]"
    finally:
        following.close()


#: In a mount namespace of its own with a private /tmp, make the mounts read-only as
#: {how}, then print each folder given that can still be written.
READ_ONLY_PROBE = """
import ctypes, errno, os, sys
from choreo_lab.grading.sandbox import confine
libc = confine._libc()
{before}
confine._call(libc.unshare(confine.CLONE_NEWNS), "unshare")
confine.mount(None, "/", None, confine.MS_REC | confine.MS_PRIVATE)
confine.mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m")
{how}
for folder in sys.argv[1:]:
    try:
        open(os.path.join(folder, ".cl-probe"), "w").close()
        print(folder)
    except OSError:
        pass
"""

REFUSING_FILTER = """
class Filtered:  # as a seccomp filter that does not know mount_setattr answers: EPERM
    def __getattr__(self, name):
        return getattr(libc, name)

    def syscall(self, number, *args):
        if number == confine.SYS_MOUNT_SETATTR:
            ctypes.set_errno(errno.EPERM)
            return -1
        return libc.syscall(number, *args)

confine._libc = Filtered
"""


def writable_after(how: str, before: str = "") -> list[str]:
    """The folders a process can still write after making its mounts read-only `how`."""
    import subprocess
    import sys
    folders = ["/tmp", "/", "/etc", *world_writable_folders()]
    done = subprocess.run([sys.executable, "-c", READ_ONLY_PROBE.format(how=how, before=before),
                           *folders], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@as_root
def test_without_mount_setattr_every_mount_is_remounted_read_only_on_its_own() -> None:
    assert writable_after('confine.remount_each_read_only(["/tmp"])') == ["/tmp"]


@as_root
def test_a_mount_setattr_refused_by_a_filter_falls_back_to_remounting_each_mount() -> None:
    assert writable_after('confine.read_only_except(["/tmp"])', REFUSING_FILTER) == ["/tmp"]


# -- network and IPC -----------------------------------------------------------------------------
@as_root
def test_a_listener_on_the_hosts_loopback_cannot_be_reached(fresh: Sandbox) -> None:
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        reply = run(fresh, f"__import__('socket').create_connection(('127.0.0.1', {port}), "
                             "timeout=2).sendall(b'give me the solution')")
    assert reply["status"] == "error" and reply["ename"] in (
        "OSError", "ConnectionRefusedError", "TimeoutError")


@as_root
def test_the_sandbox_has_network_and_ipc_namespaces_of_its_own(fresh: Sandbox) -> None:
    for kind in ("net", "ipc"):
        inside = value(fresh, f"__import__('os').readlink('/proc/self/ns/{kind}')")
        assert inside != repr(os.readlink(f"/proc/self/ns/{kind}")), kind


# -- a flood on the channel ---------------------------------------------------------------------
FLOOD = '''
import os, struct, sys, time
frame = b'{"id":0}'
frame = struct.pack(">I", len(frame)) + frame
end = time.monotonic() + 6
while time.monotonic() < end:
    os.write(int(sys.argv[-1]), frame * 64)
'''


def test_a_cell_that_floods_the_channel_with_stale_replies_is_stopped_in_time() -> None:
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    started = time.monotonic()
    try:
        with pytest.raises(SandboxGone, match="answer no request"):
            run(box, FLOOD, timeout=1)
        assert time.monotonic() - started < 4
        assert box.containment.members() == set()
        with pytest.raises(SandboxGone):
            run(box, "x = 1")
    finally:
        box.close()


# -- memory for the sandbox as a whole ------------------------------------------------------------
HOLD = ("import sys, time\nblock = b'x' * int(sys.argv[1])\nprint('held', flush=True)\n"
        "time.sleep(60)")


@as_root
def test_the_sandboxs_cgroup_limits_the_memory_of_all_its_processes_together() -> None:
    limit = 256 << 20
    box = Sandbox("x.ipynb", "{}", hide=[], memory=limit)
    box.start()
    try:
        group = box.containment.memory_cgroup
        if group is None:
            pytest.skip("no writable cgroup with a memory controller here")
        if (group / "memory.max").exists():  # cgroup v2
            assert (group / "memory.max").read_text().strip() == str(limit)
            if (group / "memory.swap.max").exists():
                assert (group / "memory.swap.max").read_text().strip() == "0"
        else:  # cgroup v1
            assert int((group / "memory.limit_in_bytes").read_text()) == limit
            if (group / "memory.memsw.limit_in_bytes").exists():
                assert int((group / "memory.memsw.limit_in_bytes").read_text()) == limit
        assert str(box.process.pid) in (group / "cgroup.procs").read_text().split()
        alive = value(box, "(lambda subprocess, sys, time: ("
                           f"children := [subprocess.Popen([sys.executable, '-c', {HOLD!r}, "
                           f"str({int(limit * 0.6)})], stdout=subprocess.PIPE) for _ in range(2)], "
                           "[child.stdout.readline() for child in children], time.sleep(1), "
                           "[child.poll() is None for child in children])[-1])("
                           "__import__('subprocess'), __import__('sys'), __import__('time'))")
        assert alive != "[True, True]", "two children of 0.6 times the limit both lived"
    finally:
        box.close()


# -- memory stopped by the cgroup, said in words ----------------------------------------------------
FILL = ("chunk = b'x' * (30 << 20)\n"  # 90 MB of files in the private /tmp (charged to the cgroup)
        "for i in range(3):\n    open(f'/tmp/fill{i}', 'wb').write(chunk)\n"
        "del chunk\nhold = bytearray(60 << 20)\nhold[::4096] = b'y' * len(hold[::4096])\n")


@as_root
def test_a_sandbox_stopped_for_its_memory_says_it_used_more_than_its_limit() -> None:
    box = Sandbox("x.ipynb", "{}", hide=[], memory=128 << 20)
    box.start()
    try:
        if box.containment.memory_cgroup is None:
            pytest.skip("no writable cgroup with a memory controller here")
        with pytest.raises(SandboxGone, match=r"used more than 128 MB of memory \(all its "
                                              r"processes together, files in its /tmp included"):
            run(box, FILL, timeout=30)
        assert box.containment.members() == set()
    finally:
        box.close()


# -- CPU for the sandbox as a whole ---------------------------------------------------------------
BUSY = ("import time\nend = time.monotonic() + 2\nwhile time.monotonic() < end:\n    pass\n"
        "print(time.process_time())")
SPIN = (f"import subprocess, sys, time\nstarted = time.monotonic()\n"
        f"children = [subprocess.Popen([sys.executable, '-c', {BUSY!r}], stdout=subprocess.PIPE) "
        f"for _ in range(4)]\n"
        "used = sum(float(child.communicate()[0]) for child in children)\n"
        "wall = time.monotonic() - started\n")


@as_root
def test_the_sandboxs_cgroup_gives_all_its_processes_together_one_cpu(fresh: Sandbox) -> None:
    group = fresh.containment.cpu_cgroup
    if group is None:
        pytest.skip("no writable cgroup with a cpu controller here")
    if (group / "cpu.max").exists():  # cgroup v2
        assert (group / "cpu.max").read_text().split() == ["100000", "100000"]
    else:  # cgroup v1
        assert int((group / "cpu.cfs_period_us").read_text()) == 100_000
        assert int((group / "cpu.cfs_quota_us").read_text()) == 100_000
    assert str(fresh.process.pid) in (group / "cgroup.procs").read_text().split()
    assert run(fresh, SPIN, timeout=30)["status"] == "ok"
    cpus = float(value(fresh, "used / wall"))
    assert 0.3 < cpus < 1.5, f"4 busy processes used {cpus:.2f} CPUs"


def test_without_a_cpu_controller_the_verdict_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import choreo_lab.grading.sandbox.client as client
    monkeypatch.setattr(client, "limit_cpu", lambda *args, **kwargs: None)
    box = Sandbox("x.ipynb", "{}", hide=[])
    box.start()
    try:
        assert run(box, "x = 1")["status"] == "ok"
    finally:
        box.close()
    if box.containment.uid is not None:
        assert any("no cpu cgroup" in note and "--jobs 1" in note for note in box.notes)


def test_a_second_sandbox_is_a_fresh_process_and_ending_it_leaves_the_first_running() -> None:
    """A restart (`Sandbox.sibling`): the same notebook in a new process of its own user, with
    nothing of the first one's memory; closing it, and what it started, spares the first."""
    with Sandbox("ex09-outbox-relay.ipynb", '{"cells": []}', hide=[]) as first:
        first.start()
        run(first, "import subprocess; ROWS = [41]; child = subprocess.Popen(['sleep', '60'])")
        second = first.sibling()
        second.start()
        run(second, "import subprocess; child = subprocess.Popen(['sleep', '60'])")
        assert value(second, "'ROWS' in globals()") == "False"
        if second.containment.uid is not None:
            assert second.containment.uid != first.containment.uid
            assert int(value(second, "__import__('os').getuid()")) == second.containment.uid
        second.close()
        assert second.gone == "it was closed"
        assert value(first, "(ROWS, child.poll())") == "([41], None)"  # untouched, child alive
    assert first.gone == "it was closed"


@as_root
def test_a_sandbox_sees_only_its_own_processes_and_no_cgroups() -> None:
    """Two sandboxes side by side (a restart beside the notebook's first process): neither can
    read the other's process names or command lines in /proc, nor anyone's cgroup usage."""
    from choreo_lab.grading.sandbox.confine import has_own_proc_options
    if not has_own_proc_options():
        pytest.skip(f"Linux {os.uname().release} shares /proc's options between its mounts")
    with Sandbox("ex09-outbox-relay.ipynb", '{"cells": []}', hide=[]) as first:
        first.start()
        run(first, "import ctypes; ctypes.CDLL(None).prctl(15, b'rowctr41', 0, 0, 0)")
        second = first.sibling()
        second.start()
        try:
            seen = value(second, "sorted({open(f'/proc/{p}/comm').read().strip() for p in "
                                 "__import__('os').listdir('/proc') if p.isdigit()})")
            own = value(second, "sorted({__import__('os').stat(f'/proc/{p}').st_uid for p in "
                                "__import__('os').listdir('/proc') if p.isdigit()})")
            cgroups = value(second, "__import__('os').listdir('/sys/fs/cgroup')")
        finally:
            second.close()
    assert "rowctr41" not in seen and own == repr([second.containment.uid]), (seen, own)
    assert cgroups == "[]"
    host_proc = [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
                 if line.split()[4] == "/proc"]
    assert host_proc and not any("hidepid" in line for line in host_proc)  # the host's as it was


KEYRING_PROBE = '''
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
KEY_SPEC_USER_KEYRING = -4
added = libc.syscall(calls[0], b"user", b"choreo-lab-probe", b"42", 2, KEY_SPEC_USER_KEYRING)
add_errno = ctypes.get_errno()
listed = libc.syscall(calls[1], 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
list_errno = ctypes.get_errno()
'''


@as_root
def test_a_sandbox_cannot_reach_the_kernels_keyrings(fresh: Sandbox) -> None:
    """Keys belong to no namespace and outlive their process: a notebook could leave one for
    a restarted copy of itself, or for the next notebook graded. The calls fail."""
    from choreo_lab.grading.sandbox.confine import has_keyring_filter
    if not has_keyring_filter():
        pytest.skip(f"no keyring filter for {os.uname().machine}")
    assert run(fresh, KEYRING_PROBE)["status"] == "ok"
    import errno
    assert value(fresh, "(added, add_errno, listed, list_errno)") == repr(
        (-1, errno.EPERM, -1, errno.EPERM))
    assert run(fresh, "import subprocess; subprocess.run(['true'], check=True)")["status"] == "ok"


def states(pids: set[int]) -> set[str]:
    """The scheduler states of `pids` (R, S, T for stopped, ...), from /proc."""
    found = set()
    for pid in pids:
        try:
            found.add(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
        except (OSError, IndexError):
            pass
    return found


def test_a_paused_sandbox_runs_nothing_until_it_is_resumed_or_asked_again() -> None:
    """While a restarted copy runs, the first sandbox is stopped, threads and children too, so
    nothing of it can pass the copy what it kept (through file locks, say)."""
    with Sandbox("ex09-outbox-relay.ipynb", '{"cells": []}', hide=[]) as first:
        first.start()
        run(first, "import subprocess, threading, time\n"
                   "child = subprocess.Popen(['sleep', '60'])\n"
                   "threading.Thread(target=lambda: [time.sleep(0.01) for _ in iter(int, 1)],"
                   " daemon=True).start()")
        members = first.containment.members()
        assert len(members) >= 2
        first.pause()
        assert states(members) == {"T"}
        first.resume()
        assert "T" not in states(members)
        first.pause()
        assert value(first, "child.poll()") == "None"  # a request resumes it first
        assert "T" not in states(first.containment.members())
