"""Running student code in its own process, from the grader's side.

A :class:`Zygote` (``grader.student_side.zygote``) imports torch once and forks one worker per
submission; a :class:`Sandbox` drives one submission's worker: it sends case requests,
enforces the per-case time limit and the submission's time budget, drains and caps what the
student prints, and when anything goes wrong (timeout, crash, exit, memory blow-up) kills the
worker's whole process tree and starts a fresh worker for the remaining cases. After a
timeout, the cases that would run the function that hung are not run at all. Nothing here
ever raises because of student code.
"""
import fcntl
import functools
import json
import logging
import os
import pickle
import pwd
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from .assignment import kit_packages, resolve
from .files import disk_usage, remove_tree
from .paths import ROOT
from .student_side.namespaces import covered_folders
from .student_side.procs import alive, children_map, descendants, tasks_of_user
from .student_side.wire import (MAX_REPLY, ChannelClosed, ChannelTimeout, decode_reply, recv_frame,
                                send_frame)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds per case
DEFAULT_BUDGET = 60.0  # seconds per submission, loading included
DEFAULT_MEMORY_GIB = 4.0  # per submission, on top of the warm interpreter
OUTPUT_KEEP = 64 * 1024  # bytes of student output kept for messages
FILE_LIMIT = 256 * 1024 * 1024  # largest file a worker may write
PROCESS_LIMIT = 512  # processes a worker may add to its user's (a fork bomb stops there)
OWN_USER_SPARE = 1024  # the same when the worker keeps the grader's user (it runs more)
LOAD_TIMEOUT = 30.0  # seconds for importing the student's files
AHEAD = 64  # case requests sent to a worker before their turn
AHEAD_BYTES = 32 * 1024  # bytes of requests waiting in the pipe at most (a pipe holds 64 KiB)
SCRATCH_BYTES = FILE_LIMIT  # what a worker may keep in its scratch folder, all files together
SCRATCH_ENTRIES = 4096  # files and folders in it
SCRATCH_DEPTH = 32  # folders nested in it
SCRATCH_POLL = 0.2  # seconds between two looks at it


@dataclass
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_gib: float = DEFAULT_MEMORY_GIB
    budget: float = DEFAULT_BUDGET
    drop_privileges: bool = True  # only has an effect when the grader runs as root
    threads: int = 0  # torch threads per worker; 0: all cores (a batch gives each job its share)
    load_timeout: float = LOAD_TIMEOUT


@dataclass(frozen=True)
class Request:
    """One case for the worker: its id and probe, its payload (pickled once: the grader's
    side of the pipe is the trusted one), its time limit, and the student functions it may run
    (so that it is not run after one of them hung)."""

    case_id: str
    probe: str
    blob: bytes
    timeout: Optional[float] = None
    calls: FrozenSet[str] = frozenset()
    # Whether it may reach the worker before its function's turn: only a payload of plain inputs
    # may (one with stand-in tables can hold what answers another function's cases).
    ahead: bool = False


@dataclass
class Reply:
    """One probe's answer, or why there is none."""

    data: Optional[Dict[str, Any]] = None
    failure: Optional[str] = None
    seconds: float = 0.0
    not_run: bool = False  # skipped: a function it runs hung earlier, or the time budget ran out
    # Not graded for the grader's own reason: its process could not be set up (twice), before
    # any of the student's code ran (an overloaded machine); never the student's failure.
    grader_side: bool = False


class SetupFailed(Exception):
    """The worker said it could not be set up, before any of the student's code ran."""


# ------------------------------------------------------------------ process trees

def kill_tree(pid: int, wait: float = 1.0) -> None:
    """Kill ``pid`` and every process below it. The whole tree is stopped first (SIGSTOP, round
    after round until no new process appears: a stopped process cannot fork, and none can be
    reparented out of reach while its parents still stand), then killed at once."""
    stopped: set = set()
    for _ in range(50):
        tree = {pid, *descendants(pid)}
        new = tree - stopped
        if not new:
            break
        for target in new:
            try:
                os.kill(target, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= new
    for target in stopped:
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    end, pause = time.monotonic() + wait, 0.0005
    while time.monotonic() < end and any(alive(t) for t in stopped):
        time.sleep(pause)
        pause = min(pause * 2, 0.01)


_WORK_ROOT: Optional[Path] = None
_WORK_LOCK: Optional[int] = None  # held while this process lives: its folder is not stale
_WORK_GUARD = threading.Lock()
WORK_PREFIX = "a2-grading-"


def work_root() -> Path:
    """One folder per grading process for private code copies and scratch folders; a worker
    sees none of it (where namespaces or Landlock work) but its own copy and scratch folder.
    It is removed at exit; one left by a process that could not clean up (``kill -9``) is
    removed by the next grading process that starts (its lock is free). A batch's threads ask
    for it at once: one makes it, the others wait for it."""
    global _WORK_ROOT, _WORK_LOCK
    with _WORK_GUARD:
        if _WORK_ROOT is None or not _WORK_ROOT.exists():
            import atexit

            _sweep_stale_work_roots()
            root = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
            # Locked before it gets its name, so that no sweep ever sees it unlocked.
            lock = os.open(root / ".lock-new", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.rename(root / ".lock-new", root / ".lock")
            root.chmod(0o755)
            atexit.register(remove_tree, root)
            if _WORK_LOCK is not None:  # the lock of a folder that is gone
                os.close(_WORK_LOCK)
            _WORK_ROOT, _WORK_LOCK = root, lock
        return _WORK_ROOT


def _sweep_stale_work_roots() -> None:
    """Remove the work folders of grading processes that are gone (their lock is free)."""
    for folder in Path(tempfile.gettempdir()).glob(WORK_PREFIX + "*"):
        try:
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # no lock (yet, or never): not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live process holds it
            os.close(fd)
            continue
        try:
            log.info("removing %s, left by a grading process that ended without cleaning up", folder)
            remove_tree(folder)
        finally:
            os.close(fd)


def describe_status(status: Optional[int]) -> str:
    if status is None:
        return "it stopped answering"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"it was killed by {name}"
    if os.WIFEXITED(status):
        return f"it exited with status {os.WEXITSTATUS(status)} (os._exit or a crash)"
    return f"it ended (status {status})"


# ------------------------------------------------------------------ the zygote

class Zygote:
    """A warm interpreter (torch imported) that forks workers on request."""

    def __init__(self):
        from .launch import take

        self.process, self.control = take()
        self._buffer = b""
        self._lock = threading.Lock()
        self._ready = False
        self.namespaced = False
        self.layers: Dict[str, Any] = {}
        self.live_workers: set = set()
        self.registry = threading.Lock()  # held while a worker is born and registered, and by sweeps

    def _read_line(self, timeout: float) -> dict:
        end = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the zygote did not answer")
            self.control.settimeout(left)
            chunk = self.control.recv(65536)
            if not chunk:
                raise ChannelClosed("the zygote exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def wait_ready(self, timeout: float = 120.0) -> None:
        if not self._ready:
            ready = self._read_line(timeout)
            self.namespaced, self.layers = bool(ready.get("namespaced")), ready.get("layers", {})
            self._ready = True

    def sweep(self, keep=()) -> None:
        """Kill whatever runs under the zygote but outside the live workers' trees: orphans
        left by workers that have ended (inside a PID namespace they are reparented to it)."""
        with self.registry:
            children = children_map()
            spared = set(keep)
            for pid in keep:
                spared.update(descendants(pid, children))
            for pid in descendants(self.process.pid, children):
                if pid in spared or self._is_zygote(pid):
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def _is_zygote(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return b"grader.student_side.zygote" in f.read()
        except OSError:
            return False

    def request(self, message: dict, fds=(), timeout: float = 30.0) -> dict:
        with self._lock:
            self.wait_ready()
            socket.send_fds(self.control, [json.dumps(message).encode() + b"\n"], list(fds))
            return self._read_line(timeout)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.process.poll() is None:
                kill_tree(self.process.pid)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


class ZygoteHolder:
    """A zygote shared by grading threads, replaced when it has died."""

    def __init__(self, zygote: Optional[Zygote] = None):
        self._zygote, self._lock = zygote, threading.Lock()

    def get(self) -> Zygote:
        with self._lock:
            if self._zygote is None or not self._zygote.alive:
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote()
            return self._zygote

    def layers(self) -> Dict[str, Any]:
        """What confinement the zygote's workers get on this machine (see grader.protection)."""
        zygote = self.get()
        zygote.wait_ready()
        return zygote.layers

    def replace(self, dead: Zygote) -> Zygote:
        with self._lock:
            if self._zygote is dead:
                dead.close()
                self._zygote = Zygote()
            return self._zygote

    def close(self) -> None:
        with self._lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


class _OutputDrain(threading.Thread):
    """Reads a worker's stdout/stderr so it never blocks; keeps the first OUTPUT_KEEP bytes."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.kept, self.total = fd, bytearray(), 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            if len(self.kept) < OUTPUT_KEEP:
                self.kept += chunk[:OUTPUT_KEEP - len(self.kept)]
        os.close(self.fd)


class _ScratchWatch(threading.Thread):
    """Looks at a worker's scratch folder every SCRATCH_POLL seconds and stops the worker when
    it holds more than SCRATCH_BYTES, SCRATCH_ENTRIES files and folders or folders nested more
    than SCRATCH_DEPTH deep (one file is also bounded by FILE_LIMIT): one submission cannot
    fill the disk for the ones after it, whatever the sandbox's layers."""

    def __init__(self, worker: "Worker"):
        super().__init__(daemon=True)
        self.worker, self.done, self.over = worker, threading.Event(), ""

    def run(self) -> None:
        while not self.done.wait(SCRATCH_POLL):
            used, _, why = disk_usage(self.worker.scratch, SCRATCH_ENTRIES, SCRATCH_DEPTH)
            if used > SCRATCH_BYTES:
                why = f"more than {SCRATCH_BYTES >> 20} MiB"
            if why and self.worker.pid > 0 and not self.done.is_set():  # (its pid comes before any student code)
                self.over = why
                kill_tree(self.worker.pid)
                return


# ------------------------------------------------------------------ what a worker may see

def hidden_paths(extra=()) -> List[str]:
    """Folders a worker's mount namespace covers (besides /tmp, /home, /root, /run, ...): this
    kit (the solution and the instructor's code), the grading folders of other submissions,
    the grader's home, the kit's own packages where an install put them, and ``extra`` (a
    batch's submissions and output folders)."""
    paths = [*_installed_kit(), work_root(), Path.home()]
    return sorted({str(Path(p).resolve()) for p in list(paths) + list(extra) if Path(p).is_dir()})


@functools.lru_cache(maxsize=None)
def _installed_kit() -> tuple:
    """Where this kit's code lies (its folder, or its packages where an install put them):
    the same for every worker of this process, so read from sysconfig once."""
    site = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
    kit = [] if str(ROOT) in site else [ROOT]  # installed from a wheel, the kit's folder is site-packages
    return tuple(kit + [Path(s) / name for s in site for name in kit_packages()])


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _reachable_by(path: Path, covered: List[str], kept: List[str]) -> bool:
    """Whether an unprivileged user can reach and read ``path`` (every folder above it too)
    in a worker's view: a folder that a cover hides is reachable only as the cover's own
    folders on the way to what is mounted back (mode 0755); what is mounted back keeps its
    own modes."""
    path = path.resolve()
    for part in [path] + list(path.parents):
        text = str(part)
        made_by_cover = any(_under(text, c) for c in covered) and any(
            _under(k, text) and k != text for k in kept)
        if made_by_cover and part != path:
            continue
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001 or (part == path and not mode & 0o004):
            return False
    return True


def _worker_user():
    """(uid, gid) of the user student code runs as when the grader runs as root:
    ``$A2_WORKER_USER`` (the Gradescope bundle makes one), else nobody."""
    for name in (os.environ.get("A2_WORKER_USER"), "nobody"):
        if not name:
            continue
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            log.warning("there is no user %r to run student code as", name)
    return 65534, 65534


def _unprivileged(zygote: Zygote):
    """(uid, gid) to run student code as, or None to keep the grader's own user.

    Only when the grader runs as root, and only when that user can still reach the Python
    installation (through the mount namespace's covers where there is one)."""
    if os.geteuid() != 0:
        return None
    covered = hidden_paths() + list(covered_folders()) if zygote.layers.get("namespaces") else []
    needed = [Path(sysconfig.get_paths()[k]) for k in ("stdlib", "purelib")] + [ROOT / "helpers"]
    kept = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, ROOT / "helpers")]
    if not all(_reachable_by(p, covered, kept) for p in needed):
        log.info("student code keeps the grader's user: the Python installation is out of an unprivileged user's reach")
        return None
    return _worker_user()


def _worker_ids(zygote: Zygote):
    """:func:`_unprivileged` for this zygote's workers, worked out once per zygote (it reads the
    user database and the modes of every folder above the Python installation)."""
    if not hasattr(zygote, "worker_ids"):
        zygote.worker_ids = _unprivileged(zygote)
    return zygote.worker_ids


class Worker:
    """One forked student process and its pipes."""

    def __init__(self, zygote: Zygote, folder: Path, device: str, limits: Limits, protect=(), unit=None):
        self.zygote = zygote
        self.scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=work_root()))
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        zygote.wait_ready()
        spec = {"op": "spawn", "folder": str(folder), "device": device, "scratch": str(self.scratch),
                "memory_bytes": int(limits.memory_gib * 2**30) if limits.memory_gib else 0,
                "file_bytes": FILE_LIMIT, "hidden": hidden_paths(protect), "threads": limits.threads,
                "assignment": unit}
        ids = _worker_ids(zygote) if limits.drop_privileges else None
        # The user's processes and threads are limited to what it runs now and a margin: the limit
        # counts every one of that user's on the machine (other gradings' workers too), so a fixed
        # one left a worker on a loaded machine without the threads it needs to start.
        if ids:
            spec["uid"], spec["gid"] = ids
            spec["processes"] = max(1, tasks_of_user(ids[0]) + PROCESS_LIMIT)
            os.chown(self.scratch, *ids)
        else:
            spec["processes"] = max(1, tasks_of_user(os.getuid()) + OWN_USER_SPARE)
        self.dead, self.pending = False, 0  # pending: frames owed (pid, setup done, hello, one per case sent)
        self.greeted = False  # its hello was read
        self.set_up = False  # it said "setup: done": from then on the student's code runs in it
        self.setup_error: Optional[dict] = None  # why it could not be set up, as it said before that
        self.drain = None
        self.watch: Optional[_ScratchWatch] = None
        self.stuck: Optional[dict] = None  # where the watchdog last saw the running case
        self.answered: set = set()  # ids of the cases it has answered
        # Registered under the zygote's lock, so that another job's sweep never takes a worker
        # being born for an orphan.
        with zygote.registry:
            try:
                self.ns_pid = zygote.request(spec, fds=[req_r, rep_w, out_w])["pid"]
            except BaseException:
                for fd in (self.req_w, self.rep_r, out_r):
                    os.close(fd)
                remove_tree(self.scratch)
                raise
            finally:
                for fd in (req_r, rep_w, out_w):
                    os.close(fd)
            self.drain = _OutputDrain(out_r)
            self.drain.start()
            self.watch = _ScratchWatch(self)
            self.watch.start()
            self.pending = 3
            # In a PID namespace the zygote speaks the namespace's pids; signals need the host's,
            # which the worker sends first, before any student code runs (-1: it is already gone).
            self.pid = -1 if zygote.namespaced else self.ns_pid
            try:
                first = self.receive(time.monotonic() + 30.0)
                if zygote.namespaced and isinstance(first.get("pid"), int):
                    self.pid = first["pid"]
            except Exception:  # noqa: BLE001 - it died while setting up: the hello will say so
                pass
            if self.pid > 0:
                zygote.live_workers.add(self.pid)

    def send_case(self, request: "Request", timeout: float) -> None:
        # Plain strings, a number and bytes (the payload, pickled once): no tensor to reduce.
        send_frame(self.req_w, pickle.dumps((request.case_id, timeout, request.probe, request.blob),
                                            protocol=pickle.HIGHEST_PROTOCOL))
        self.pending += 1

    def receive(self, deadline: float) -> Dict[str, Any]:
        """The next reply; where-is-it reports of the watchdog are kept aside on the way.
        Everything read here may have been written by the student's code: it is checked for
        shape before it is used, and a reply that is not a dict is refused (ValueError)."""
        while True:
            data = decode_reply(recv_frame(self.rep_r, deadline, limit=MAX_REPLY))
            if not isinstance(data, dict):
                raise ValueError("a reply that is not a mapping")
            if not self.set_up:  # only the grader's own code has run in it: these frames are its own
                if "setup_error" in data:
                    self.setup_error = _valid_setup_error(data["setup_error"])
                    raise SetupFailed(_setup_error_text(self.setup_error))
                if data.get("setup") == "done":
                    self.set_up = True
                    self.pending -= 1
                    continue
            if "stuck" in data:
                self.stuck = _valid_stuck(data["stuck"])
                continue
            self.pending -= 1
            self.stuck = None  # a report about a case that then finished in time
            return data

    def why_dead(self) -> str:
        """After EOF: ask the zygote how the worker ended (briefly), then make sure it has."""
        if self.watch is not None and self.watch.over:
            self.stop()
            return f"it was stopped: its scratch folder held {self.watch.over}, over a submission's limit"
        status = None
        for _ in range(20):
            try:
                status = self.zygote.request({"op": "status", "pid": self.ns_pid}).get("status")
            except Exception:  # noqa: BLE001 - the zygote itself is gone
                break
            if status is not None:
                break
            time.sleep(0.025)
        self.stop()
        return describe_status(status)

    def stop(self) -> None:
        """End the worker and everything it started. A worker that answered every case it was
        sent and has nothing running under it is simply SIGKILLed (nothing of it is left to
        lose, and nothing waits for its exit); otherwise its whole tree gets SIGTERM, then
        SIGKILL. Either way, orphans that reached the zygote are killed too."""
        lone = False
        if not self.dead:
            self.dead = True
            lone = self.pid > 0 and self.pending == 0 and not descendants(self.pid)
            if lone:
                for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
                    try:
                        kill(target, signal.SIGKILL)
                    except OSError:
                        pass
            elif self.pid > 0:
                kill_tree(self.pid)
            try:
                self.zygote.request({"op": "status", "pid": self.ns_pid, "wait": not lone, "forget": lone}, timeout=5)
                if self.zygote.namespaced:
                    self.zygote.sweep(keep=self.zygote.live_workers - {self.pid})
            except Exception:  # noqa: BLE001
                pass
            self.zygote.live_workers.discard(self.pid)
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.req_w = self.rep_r = -1
        if self.drain is not None and not lone:
            self.drain.join(timeout=1)  # a lone worker's drain ends by itself once its exit closes the pipe
        if self.watch is not None:
            self.watch.done.set()
        remove_tree(self.scratch)  # whatever it left: any depth, any permissions


def _valid_stuck(stuck) -> Optional[dict]:
    """A watchdog report as the grader uses it, or None when it is not one."""
    fields = {"function": str, "name": str, "file": str, "line": int}
    if not isinstance(stuck, dict) or any(type(stuck.get(k)) is not t for k, t in fields.items()):
        return None
    return {k: stuck[k] if t is int else stuck[k][:200] for k, t in fields.items()}


def _valid_setup_error(error) -> dict:
    """A worker's setup error as the grader shows it: strings of bounded length."""
    error = error if isinstance(error, dict) else {}
    where = error.get("where") if isinstance(error.get("where"), list) else []
    return {"type": str(error.get("type", "?"))[:100], "message": str(error.get("message", ""))[:500],
            "where": [str(w)[:200] for w in where[-6:]]}


def _setup_error_text(error: dict) -> str:
    where = f" (at {' < '.join(reversed(error['where']))})" if error["where"] else ""
    return f"{error['type']}: {error['message']}{where}"


def _valid_errors(errors, modules) -> Dict[str, dict]:
    """The hello's load errors, {module: {type, message, traceback[, needs_python]}}, as
    strings of bounded length; anything else is dropped."""
    valid = {}
    if isinstance(errors, dict):
        for module in modules:
            error = errors.get(module)
            if isinstance(error, dict):
                valid[module] = {k: str(error.get(k, ""))[:limit] for k, limit in
                                 (("type", 100), ("message", 2000), ("traceback", 4000))}
                if error.get("needs_python"):
                    valid[module]["needs_python"] = str(error["needs_python"])[:10]
    return valid


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _valid_absent(absent, modules) -> List[Tuple[str, str, int]]:
    """The hello's imports of absent modules, [module, absent module, line], kept only where
    each field is what it says (one of the assignment's modules, an identifier, a line
    number); at most 20."""
    valid = []
    for entry in absent if isinstance(absent, list) else []:
        if (isinstance(entry, list) and len(entry) == 3 and entry[0] in modules and isinstance(entry[1], str)
                and _MODULE_NAME.fullmatch(entry[1]) and type(entry[2]) is int and 0 < entry[2] < 10**7):
            valid.append((entry[0], entry[1], entry[2]))
    return valid[:20]


def _function(request: Request) -> str:
    """The graded function a request belongs to (its id is 'function: case')."""
    return request.case_id.split(":", 1)[0]


def _stuck_text(stuck: Optional[dict]) -> str:
    if not stuck:
        return ""
    return f" (it was in {stuck['function']}, {stuck['file']} line {stuck['line']})"


def _hung_names(stuck: Optional[dict], request: Request) -> set:
    """The student function that hung: where the watchdog saw the code, or the case's own."""
    if stuck:  # the innermost of its enclosing names that the case may run ("Net.loss", else "Net")
        parts = stuck["function"].split(".")
        named = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        return {next((n for n in named if n in request.calls), stuck["name"])}
    return set(request.calls) & {request.case_id.split(":")[0]}


@dataclass
class Sandbox:
    """Grades one submission folder in a worker, replacing the worker when it is lost."""

    folder: Path
    device: str = "cpu"
    limits: Limits = field(default_factory=Limits)
    zygote: Any = None  # a Zygote, a ZygoteHolder shared between threads, or None for a private one
    protect: tuple = ()  # more folders the worker must not see
    assignment: Any = None  # whose files these are (a name or an Assignment; None: the kit's default)

    def __post_init__(self):
        self.folder = Path(self.folder).resolve()
        self.assignment = resolve(self.assignment)
        self._own_zygote = self.zygote is None
        if not isinstance(self.zygote, ZygoteHolder):
            self.zygote = ZygoteHolder(self.zygote)
        self.worker: Optional[Worker] = None
        self.load_errors: Dict[str, dict] = {}
        self.absent_imports: List[Tuple[str, str, int]] = []  # (module, absent module, line): loaded without it
        self.applied: Dict[str, Any] = {}  # the confinement the last worker reported
        self._last_stuck: Optional[dict] = None  # where the watchdog saw the case that timed out
        self._budget_end: Optional[float] = None  # the submission's budget, from its first request on
        self._hung: Dict[str, str] = {}  # function -> the case in which it hung

    def launch(self) -> None:
        """Start the worker now, so that it loads the submission while the grader prepares the
        cases' inputs; a failure here is met again, and reported, when the cases are run."""
        if self.worker is None or self.worker.dead:
            try:
                self._spawn()
            except Exception as exc:  # noqa: BLE001
                log.info("starting a worker early failed (retried with the first case): %s", exc)
                self.worker = None

    def _spawn(self) -> None:
        zygote = self.zygote.get()
        try:
            self.worker = Worker(zygote, self.folder, self.device, self.limits, self.protect,
                                 self.assignment.worker_spec())
        except Exception as exc:  # noqa: BLE001 - the zygote died (e.g. killed by a submission)
            log.warning("restarting the zygote: %s", exc)
            zygote = self.zygote.replace(zygote)
            self.worker = Worker(zygote, self.folder, self.device, self.limits, self.protect,
                                 self.assignment.worker_spec())

    def _start(self, deadline: float) -> Optional[Reply]:
        """Start a worker (unless one was launched and has not said hello yet) and read its
        hello; returns a failure (the Reply every remaining case gets) or None. A worker that
        could not be set up for the grader's own reason (before any of the student's code ran:
        no thread or process to be had on an overloaded machine, a setup slower than the load
        limit) is started once more; failing again, the cases are "not graded", never failed."""
        failure, grader_side = self._start_once(deadline)
        if not grader_side:
            return Reply(failure=failure) if failure else None
        log.warning("the submission's process could not be set up (%s); starting it once more", failure)
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
        again, grader_side = self._start_once(deadline)
        if not grader_side:
            return Reply(failure=again) if again else None
        return Reply(failure=f"not graded: the grading machine could not set up the submission's process, twice, "
                             f"before any of the submission's code ran ({again}); the machine was most likely "
                             "overloaded: grade this submission again", grader_side=True)

    def _start_once(self, deadline: float):
        """One try of :meth:`_start`: (failure message or None, whether it is the grader's side)."""
        if self.worker is None or self.worker.dead:
            try:
                self._spawn()
            except Exception as exc:  # noqa: BLE001 - no zygote to be had, twice
                self.worker = None
                return f"the grader could not start a process for it: {type(exc).__name__}: {exc}", True
        limit = min(self.limits.load_timeout, max(deadline - time.monotonic(), 0.0))
        try:
            hello = self.worker.receive(time.monotonic() + limit)
        except ChannelTimeout:
            set_up = self.worker.set_up
            self.worker.stop()
            self.worker = None
            if not set_up:
                return f"its process was not set up after {limit:g} s", True
            return (f"loading the submission took longer than {limit:g} s "
                    "(an endless loop at import time?)"), False
        except SetupFailed as exc:
            self.worker.why_dead()
            self.worker = None
            return f"setting it up raised {exc}", True
        except (ChannelClosed, Exception) as exc:  # noqa: BLE001
            set_up, worker = self.worker.set_up, self.worker
            why = worker.why_dead()
            self.worker = None
            if not set_up:  # what it printed is the grader's and torch's own (e.g. libgomp's)
                printed = bytes(worker.drain.kept[:300]).decode("utf-8", "replace").strip() if worker.drain else ""
                said = f"; it printed: {printed}" if printed else ""
                return f"its process ended while being set up: {why}{said}", True
            return f"the submission's process ended while loading its files: {why} {exc}".strip(), False
        self.worker.greeted = True
        if hello.get("hello") is not True:
            self._lose_worker()
            return ("the submission's process did not say hello as it should (its code wrote into the grader's "
                    "pipe?)"), False
        self.load_errors = _valid_errors(hello.get("errors"), self.assignment.modules)
        self.absent_imports = _valid_absent(hello.get("absent"), self.assignment.modules)
        self.applied = hello.get("layers") if isinstance(hello.get("layers"), dict) else {}
        return None, False

    def replies(self, requests: List[Request]):
        """Yield one :class:`Reply` per request, in order.

        The worker is sent requests ahead (up to ``AHEAD`` of them and ``AHEAD_BYTES``, so that
        neither pipe can fill while the other waits), so it goes from case to case while the
        grader judges; a request whose payload holds stand-in tables never reaches it before its
        function's turn (``Request.ahead``). Each case has its own
        time limit, counted from when the worker was free to start it, and all of them share
        the submission's time budget. When a case times out, the function that hung is noted
        and every later case that would run it is answered "not run" at once; when a worker is
        lost, a fresh one takes the remaining cases; when the files cannot even be loaded, or
        the budget is spent, every remaining case gets that reason. A later call (further
        requests, asked once these are answered) goes on with the same budget and hung functions."""
        if self._budget_end is None:
            self._budget_end = time.monotonic() + self.limits.budget
        budget_end, hung = self._budget_end, self._hung
        index = sent = 0
        free_since = time.monotonic()
        while index < len(requests):
            request = requests[index]
            skipped = sorted(set(request.calls) & set(hung))
            if skipped:
                yield Reply(failure=f"not run: {skipped[0]} timed out in an earlier case ({hung[skipped[0]]})",
                            not_run=True)
                index += 1
                continue
            if time.monotonic() >= budget_end:
                self._lose_worker()
                for _ in requests[index:]:
                    yield Reply(failure=f"not run: the submission used up its time budget of {self.limits.budget:g} s "
                                        "(--budget) before this case", not_run=True)
                return
            if self.worker is None or self.worker.dead or not self.worker.greeted:
                failure = self._start(budget_end)
                if failure:
                    for _ in requests[index:]:
                        yield Reply(failure=failure.failure, grader_side=failure.grader_side)
                    return
                sent, free_since = index, time.monotonic()
            sent = self._send_ahead(requests, index, sent, hung)
            reply = self._receive(free_since, request, budget_end)
            if reply.failure and "timed out" in reply.failure and not reply.not_run:
                for name in _hung_names(self._last_stuck, request):
                    hung.setdefault(name, request.case_id)
            free_since = time.monotonic()
            # The worker has answered every case up to this one: the next case's turn has come for
            # it now, not once this reply is judged (it would sit idle meanwhile).
            sent = self._send_ahead(requests, index + 1, sent, hung)
            yield reply
            index += 1

    def _send_ahead(self, requests: List[Request], index: int, sent: int, hung: Dict[str, str]) -> int:
        """Send the requests from ``index`` (the case whose turn has come: every earlier one was
        answered) on, as far as they may go ahead; returns the index of the first not sent."""
        if index >= len(requests) or self.worker is None or self.worker.dead or not self.worker.greeted:
            return sent
        sent = max(sent, index)  # requests skipped on the way were never sent
        while sent < len(requests) and sent - index < AHEAD:
            if set(requests[sent].calls) & set(hung):
                break  # to be skipped: do not send it (nor anything after it, to keep the order)
            if sent > index and _function(requests[sent]) != _function(requests[index]) and not requests[sent].ahead:
                # Not ahead of its function's turn: its payload holds what a stand-in answers
                # (the true results of what the graded function calls), which must not
                # reach another function's cases through the request pipe.
                break
            waiting = sum(len(r.blob) for r in requests[index + 1:sent]) + len(requests[sent].blob)
            if sent > index and waiting > AHEAD_BYTES:
                break  # what is sent ahead must fit in the pipe, or both sides could wait on each other
            try:
                self.worker.send_case(requests[sent], requests[sent].timeout or self.limits.timeout)
            except OSError:  # the worker is gone: the next reply says how
                break
            sent += 1
        return sent

    def _receive(self, start: float, request: Request, budget_end: float) -> Reply:
        timeout = request.timeout or self.limits.timeout
        deadline = min(start + timeout, budget_end)
        self._last_stuck = None
        try:
            data = self.worker.receive(deadline)
            while data.get("case") in self.worker.answered:  # a late copy for a case already judged
                data = self.worker.receive(deadline)
        except ChannelTimeout:
            self._last_stuck = self.worker.stuck
            self._lose_worker()
            if deadline < start + timeout:
                return Reply(failure=f"not run to its end: the submission used up its time budget of "
                                     f"{self.limits.budget:g} s (--budget){_stuck_text(self._last_stuck)}",
                             seconds=time.monotonic() - start, not_run=True)
            return Reply(failure=f"timed out after {timeout:g} s (an endless loop, or far too slow)"
                                 f"{_stuck_text(self._last_stuck)}", seconds=time.monotonic() - start)
        except (ChannelClosed, OSError) as exc:
            why = self.worker.why_dead()
            self.worker = None
            hint = " (most often the memory limit)" if "SIGKILL" in why else ""
            detail = f": {exc}" if str(exc) else ""
            return Reply(failure=f"the submission's process died during this case: {why}{hint}{detail}",
                         seconds=time.monotonic() - start)
        except Exception as exc:  # noqa: BLE001 - an unreadable reply
            self._lose_worker()
            return Reply(failure=f"the submission's process sent back something unreadable ({type(exc).__name__})",
                         seconds=time.monotonic() - start)
        if data.get("case") != request.case_id or not isinstance(data.get("reply"), dict):
            # Not this case's reply: something the student's code wrote into the pipe. Whatever
            # follows cannot be trusted to line up either, so the worker goes.
            self._lose_worker()
            return Reply(failure="the submission's process answered out of turn (its code wrote into the "
                                 "grader's pipe); this case was not graded", seconds=time.monotonic() - start)
        data = data["reply"]
        self.worker.answered.add(request.case_id)
        if "probe_error" in data:
            error = data["probe_error"] if isinstance(data["probe_error"], dict) else {}
            return Reply(failure=f"grading this case raised {str(error.get('type', '?'))[:100]}: "
                                 f"{str(error.get('message', ''))[:2000]}", seconds=time.monotonic() - start)
        return Reply(data=data, seconds=time.monotonic() - start)

    def confinement_notes(self) -> List[str]:
        """What the worker could not apply of what this machine offers, for the report."""
        return [f"the sandbox could not apply {layer}: {problem}"
                for layer, problem in sorted(self.applied.get("errors", {}).items())]

    def _lose_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.worker = None

    def close(self) -> None:
        self._lose_worker()
        if self._own_zygote:
            self.zygote.close()
