"""The student process's side of grading: load the submission by path, then answer case
requests until the grader closes the pipe. Runs only in a process forked for one submission.

A watchdog thread looks at where the student's code is when a case nears its time limit and
tells the grader (``{"stuck": ...}``), so that the grader can name the function that hangs
and skip the other cases that would call it.
"""
import importlib
import importlib.abc
import importlib.util
import os
import sys
import threading
import time
import types

from ..assignment import default, kit_packages
from . import absent, eecs598
from .capture import watch_disable
from .capture import describe_error
from .probes import PROBES, Context
from .wire import ChannelClosed, decode_request, encode_reply, recv_frame, send_frame

_SEND = threading.Lock()


def send_locked(fd, data: bytes) -> None:
    """Send one frame; the watchdog thread and the main thread never interleave their frames."""
    with _SEND:
        send_frame(fd, data)


def _unit(unit):
    """The assignment's worker spec (see Assignment.worker_spec); None: the kit's default one."""
    if unit is None:
        unit = default().worker_spec()
    return unit


class _Withheld(importlib.abc.MetaPathFinder):
    """Refuses to import modules that compute the graded assignment's answers."""

    def __init__(self, names, title):
        self.names, self.title = frozenset(names), title

    def find_spec(self, name, path=None, target=None):
        if name in self.names:
            raise ModuleNotFoundError(f"{name} is not available while {self.title} is graded: it belongs to another "
                                      "assignment (write this assignment's code yourself)", name=name)
        return None


def withhold(names, title) -> None:
    """Make ``names`` unimportable in this process (gone from sys.modules and from their
    parent package, refused by the import system from now on)."""
    if not names:
        return
    for name in names:
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules and child in vars(sys.modules[parent]):
            delattr(sys.modules[parent], child)
    sys.meta_path.insert(0, _Withheld(names, title))


def load_student(folder, unit=None):
    """Import the submission's files from ``folder`` (``unit``: the assignment's worker spec,
    naming its package and modules; None: the kit's default assignment).

    They are loaded as the assignment's package (``a2``, so the kit's ``from .linear_classifier
    import`` works) with ``folder`` also on sys.path (so the course's ``from linear_classifier
    import`` works), and with the course's helper package ``eecs598`` available. A top-level
    import of a module that is not installed here loads a placeholder instead (see
    :mod:`.absent`). Returns ``(modules, errors, files, absent)``: ``absent`` lists those
    imports, as :class:`.absent.Absent`.
    """
    unit = _unit(unit)
    name_of_package = unit["package"]
    folder = os.path.abspath(folder)
    eecs598.install()
    watch_disable()  # before the student's module-level code can keep the original
    withhold(unit.get("withheld", ()), unit.get("title", "this assignment"))
    package = types.ModuleType(name_of_package)
    package.__path__ = [folder]
    package.__file__ = os.path.join(folder, "__init__.py")
    sys.modules[name_of_package] = package
    sys.path.insert(0, folder)
    missing = absent.prepare(folder, unit["modules"], kit_packages() + ("helpers",))
    modules, errors, files = {}, {}, []
    try:
        for name in unit["modules"]:
            path = os.path.join(folder, f"{name}.py")
            files.append(path)
            try:
                modules[name] = importlib.import_module(f"{name_of_package}.{name}")
                sys.modules.setdefault(name, modules[name])
            except BaseException as exc:  # noqa: BLE001 - syntax errors, exits, anything
                errors[name] = describe_error(exc, (path,))
    finally:
        missing.finish()
    return modules, errors, files, missing.absent


class Watchdog(threading.Thread):
    """Reports where the student's code is shortly before a case's time limit runs out."""

    def __init__(self, rep_fd, files):
        super().__init__(daemon=True, name="a2-watchdog")
        self.rep_fd, self.files = rep_fd, set(files)
        self.main = threading.main_thread().ident
        self.case, self.deadline, self.changed = None, None, threading.Condition()

    def watch(self, key, timeout) -> None:
        with self.changed:
            lead = 1.0 if timeout > 4 else timeout / 4
            self.case, self.deadline = key, time.monotonic() + max(timeout - lead, 0.0)
            self.changed.notify()

    def done(self) -> None:
        with self.changed:
            self.case = self.deadline = None

    def run(self) -> None:
        while True:
            with self.changed:
                while self.deadline is None or time.monotonic() < self.deadline:
                    self.changed.wait(None if self.deadline is None else self.deadline - time.monotonic())
                case, self.deadline = self.case, None
            where = self.where()
            if where:
                send_locked(self.rep_fd, encode_reply({"stuck": where, "case": case}))

    def where(self):
        """The innermost frame of the main thread in the student's files: its function (as
        qualified in the file), the top-level name it belongs to, its file and line."""
        frame = sys._current_frames().get(self.main)
        while frame is not None:
            code = frame.f_code
            if code.co_filename in self.files:
                qualified = getattr(code, "co_qualname", code.co_name)
                return {"function": qualified, "name": qualified.split(".")[0], "line": frame.f_lineno,
                        "file": os.path.basename(code.co_filename)}
            frame = frame.f_back
        return None


def prepare(rep_fd, unit=None) -> Watchdog:
    """What the worker sets up before any of the student's code runs: the assignment's probe
    module (named by ``unit``, imported by the zygote) and the watchdog thread. A failure here
    is the grader's side (the machine could not give it a thread, say), never the student's."""
    unit = _unit(unit)
    importlib.import_module(unit["probes"])
    watchdog = Watchdog(rep_fd, ())
    watchdog.start()
    return watchdog


def serve(folder, device, req_fd, rep_fd, layers=None, unit=None, watchdog=None) -> None:
    """Load the submission, say hello, then run each case as its request arrives: (key, time
    limit, probe, pickled payload). The assignment's probe module registers its probes beside
    the shared ones (see :func:`prepare`, which ``watchdog`` comes from when given)."""
    unit = _unit(unit)
    if watchdog is None:
        watchdog = prepare(rep_fd, unit)
    modules, errors, files, missing = load_student(folder, unit)
    watchdog.files = set(files)
    ctx = Context(modules, errors, files, device)
    send_locked(rep_fd, encode_reply({"hello": True, "errors": errors, "layers": layers or {},
                                      "absent": [[a.module, a.name, a.line] for a in missing]}))
    while True:
        try:
            key, timeout, name, blob = decode_request(recv_frame(req_fd))
        except ChannelClosed:
            return
        watchdog.watch(key, timeout)
        try:
            result = PROBES[name](ctx, decode_request(blob))  # the payload lives as long as its case
        except BaseException as exc:  # noqa: BLE001 - the probe itself broke, or the student sabotaged it
            result = {"probe_error": describe_error(exc)}
        del blob
        watchdog.done()
        try:  # tagged with its case, so that a frame the student's code wrote is never taken for it
            data = encode_reply({"case": key, "reply": result})
        except BaseException as exc:  # noqa: BLE001
            data = encode_reply({"case": key, "reply": {"probe_error": describe_error(exc)}})
        send_locked(rep_fd, data)
