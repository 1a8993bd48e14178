"""Running student code in its own process, from the grader's side.

A :class:`Zygote` (``grader.zygote``) imports torch once and forks one worker per submission;
a :class:`Sandbox` drives one submission's worker: it sends probe requests, enforces the
per-case time limit, drains and caps what the student prints, and when anything goes wrong
(timeout, crash, exit, memory blow-up) kills the worker's whole process tree and starts a
fresh worker for the remaining cases. Nothing here ever raises because of student code.
"""
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from .wire import ChannelClosed, ChannelTimeout, decode_reply, encode_request, recv_frame, send_frame

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT = 30.0  # seconds per case
DEFAULT_MEMORY_GIB = 4.0  # per submission, on top of the warm interpreter
OUTPUT_KEEP = 64 * 1024  # bytes of student output kept for messages
FILE_LIMIT = 256 * 1024 * 1024  # largest file a worker may write
LOAD_TIMEOUT = 60.0  # importing the student's files


@dataclass
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_gib: float = DEFAULT_MEMORY_GIB
    drop_privileges: bool = True  # only has an effect when the grader runs as root
    threads: int = 0  # torch threads per worker; 0: all cores (a batch gives each job its share)


@dataclass
class Reply:
    """One probe's answer, or why there is none."""

    data: Optional[Dict[str, Any]] = None
    failure: Optional[str] = None
    seconds: float = 0.0


# ------------------------------------------------------------------ process trees

def _children_map() -> Dict[int, list]:
    children: Dict[int, list] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list:
    children, found, todo = _children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_tree(pid: int, grace: float = 0.2) -> None:
    """SIGTERM the worker's process group and every descendant, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        targets = [pid] + descendants(pid)
        for target in targets:
            try:
                os.kill(target, sig)
            except OSError:
                pass
        try:
            os.killpg(pid, sig)
        except OSError:
            pass
        end = time.monotonic() + wait
        while time.monotonic() < end and any(_alive(t) for t in targets):
            time.sleep(0.01)
        if not any(_alive(t) for t in targets):
            return


def host_pid(ns_pid: int, under: int) -> Optional[int]:
    """The host pid of the process that is ``ns_pid`` in a child PID namespace, searched among
    the descendants of ``under``."""
    for pid in descendants(under):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        fields = line.split()[1:]
                        if len(fields) >= 2 and int(fields[-1]) == ns_pid:
                            return pid
                        break
        except (OSError, ValueError):
            continue
    return None


_WORK_ROOT: Optional[Path] = None


def work_root() -> Path:
    """One folder per grading process for private code copies and scratch folders; workers
    see it read-only (but for their own scratch folder) where mount namespaces are available."""
    global _WORK_ROOT
    if _WORK_ROOT is None or not _WORK_ROOT.exists():
        import atexit

        _WORK_ROOT = Path(tempfile.mkdtemp(prefix="a2-grading-"))
        _WORK_ROOT.chmod(0o755)
        atexit.register(shutil.rmtree, _WORK_ROOT, True)
    return _WORK_ROOT


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
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.zygote", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, env=env, cwd=str(ROOT),
        )
        child.close()
        self.control = parent
        self._buffer = b""
        self._lock = threading.Lock()
        self._ready = False
        self.namespaced = False
        self.live_workers: set = set()

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
            self.namespaced = bool(self._read_line(timeout).get("namespaced"))
            self._ready = True

    def sweep(self, keep=()) -> None:
        """Kill whatever runs under the zygote but outside the live workers' trees: orphans
        left by workers that have ended (inside a PID namespace they are reparented to it)."""
        keep = set(keep)
        for pid in descendants(self.process.pid):
            if pid in keep or any(pid in descendants(k) for k in keep):
                continue
            if self._is_zygote(pid):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def _is_zygote(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return b"grader.zygote" in f.read()
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
                kill_tree(self.process.pid, grace=0.5)
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


def protected_paths(extra=()) -> list:
    """Folders a worker must not write: this repository (the grader and the solution), the
    installed packages, the other submissions' private copies, and ``extra`` (a batch's
    submissions and output folders)."""
    import sysconfig

    paths = [ROOT, Path(sysconfig.get_paths()["purelib"]), work_root()] + [Path(p) for p in extra]
    return [p.resolve() for p in paths if Path(p).is_dir()]


def _world_readable(path: Path) -> bool:
    """Whether an unprivileged user can reach and read ``path`` (every folder above it too)."""
    path = path.resolve()
    for part in [path] + list(path.parents):
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001 or (part == path and not mode & 0o004):
            return False
    return True


def _unprivileged():
    """(uid, gid) to run student code as, or None to keep the grader's own user.

    Only when the grader runs as root, and only when that user can still read the Python
    installation (a Python under /root, say, is out of its reach)."""
    if os.geteuid() != 0:
        return None
    import sysconfig

    needed = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"]), ROOT]
    if not all(_world_readable(p) for p in needed):
        log.info("student code keeps the grader's user: the Python installation is not world-readable")
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


class Worker:
    """One forked student process and its pipes."""

    def __init__(self, zygote: Zygote, folder: Path, device: str, limits: Limits, protect=()):
        self.zygote = zygote
        self.scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=work_root()))
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        spec = {"op": "spawn", "folder": str(folder), "device": device, "scratch": str(self.scratch),
                "memory_bytes": int(limits.memory_gib * 2**30) if limits.memory_gib else 0,
                "file_bytes": FILE_LIMIT, "protect": [str(p) for p in protected_paths(protect)],
                "threads": limits.threads}
        ids = _unprivileged() if limits.drop_privileges else None
        if ids:
            spec["uid"], spec["gid"] = ids
            os.chown(self.scratch, *ids)
        try:
            self.ns_pid = zygote.request(spec, fds=[req_r, rep_w, out_w])["pid"]
        finally:
            for fd in (req_r, rep_w, out_w):
                os.close(fd)
        # In a PID namespace the zygote speaks the namespace's pids; signals need the host's
        # (-1 if the worker is already gone: there is nothing left to signal).
        self.pid = (host_pid(self.ns_pid, zygote.process.pid) or -1) if zygote.namespaced else self.ns_pid
        self.drain = _OutputDrain(out_r)
        self.drain.start()
        self.dead = False
        zygote.live_workers.add(self.pid)

    def send(self, name: str, payload: Any) -> None:
        send_frame(self.req_w, encode_request((name, payload)))

    def receive(self, deadline: float) -> Dict[str, Any]:
        return decode_reply(recv_frame(self.rep_r, deadline))

    def why_dead(self) -> str:
        """After EOF: ask the zygote how the worker ended (briefly), then make sure it has."""
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
        if not self.dead:
            self.dead = True
            if self.pid > 0:
                kill_tree(self.pid)
            try:
                self.zygote.request({"op": "status", "pid": self.ns_pid, "wait": True}, timeout=5)
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
        self.drain.join(timeout=1)
        shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass
class Sandbox:
    """Grades one submission folder in a worker, replacing the worker when it is lost."""

    folder: Path
    device: str = "cpu"
    limits: Limits = field(default_factory=Limits)
    zygote: Any = None  # a Zygote, a ZygoteHolder shared between threads, or None for a private one
    protect: tuple = ()  # more folders the worker must not write

    def __post_init__(self):
        self.folder = Path(self.folder).resolve()
        self._own_zygote = self.zygote is None
        if not isinstance(self.zygote, ZygoteHolder):
            self.zygote = ZygoteHolder(self.zygote)
        self.worker: Optional[Worker] = None
        self.load_errors: Dict[str, dict] = {}

    def _start(self) -> Optional[str]:
        """Start a worker and read its hello; returns a failure message or None."""
        zygote = self.zygote.get()
        try:
            self.worker = Worker(zygote, self.folder, self.device, self.limits, self.protect)
        except Exception as exc:  # noqa: BLE001 - the zygote died (e.g. killed by a submission)
            log.warning("restarting the zygote: %s", exc)
            zygote = self.zygote.replace(zygote)
            self.worker = Worker(zygote, self.folder, self.device, self.limits, self.protect)
        try:
            hello = self.worker.receive(time.monotonic() + LOAD_TIMEOUT + self.limits.timeout)
        except ChannelTimeout:
            self.worker.stop()
            self.worker = None
            return f"loading the submission took longer than {LOAD_TIMEOUT + self.limits.timeout:.0f} s (an endless loop at import time?)"
        except (ChannelClosed, Exception) as exc:  # noqa: BLE001
            why = self.worker.why_dead()
            self.worker = None
            return f"the submission's process ended while loading its files: {why} {exc}".strip()
        self.load_errors = hello.get("errors", {})
        return None

    def run(self, name: str, payload: Any, timeout: Optional[float] = None) -> Reply:
        timeout = timeout or self.limits.timeout
        if self.worker is None or self.worker.dead:
            failure = self._start()
            if failure:
                return Reply(failure=failure)
        start = time.monotonic()
        try:
            self.worker.send(name, payload)
            data = self.worker.receive(start + timeout)
        except ChannelTimeout:
            self._lose_worker()
            return Reply(failure=f"timed out after {timeout:g} s (an endless loop, or far too slow)",
                         seconds=time.monotonic() - start)
        except (ChannelClosed, BrokenPipeError, OSError) as exc:
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
        if "probe_error" in data:
            error = data["probe_error"]
            return Reply(failure=f"grading this case raised {error['type']}: {error['message']}",
                         seconds=time.monotonic() - start)
        return Reply(data=data, seconds=time.monotonic() - start)

    def _lose_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.worker = None

    def close(self) -> None:
        self._lose_worker()
        if self._own_zygote:
            self.zygote.close()
