"""The warm process that forks student workers: ``python -m grader.student_side.zygote FD``.

It imports torch and the student-side runtime once, then waits on its control socket (FD) for
spawn requests. It holds no expected values, no solution and no case's inputs, and imports
nothing of the grader outside ``grader.student_side``, so a forked worker inherits none of it.

At start it enters new PID, network and IPC namespaces where the kernel allows (see
:mod:`.namespaces`). Each worker then confines itself before it loads the student's files, in
this order: its own session and process group; its own mount namespace with the sensitive
places covered (when namespaces work); resource limits; an unprivileged user (when the grader
runs as root); Landlock (the filesystem it may read and write, no TCP, no signals out of its
domain); seccomp (no sockets, no ptrace, no new namespaces). What each layer achieved on this
machine is reported to the grader, which tells the user what is missing.
"""
import importlib
import gc
import json
import os
import resource
import signal
import socket
import sys

from ..assignment import REGISTRY, kit_packages
from . import confine, namespaces
from .procs import tasks_of_user

PR_SET_CHILD_SUBREAPER = 36
_FORGOTTEN = set()  # workers whose status nobody will ask for


def _turned_off() -> set:
    """Layers switched off by the user (``--without``), for tests and misbehaving kernels."""
    return {name.strip() for name in os.environ.get("A2_SANDBOX_WITHOUT", "").split(",") if name.strip()}


def _enter_namespaces():
    """Become PID 1 of new PID, network and IPC namespaces: this process forks, the child goes
    on as the zygote, and this one waits and passes on its exit status. Returns None when it
    worked (in the child) or why it did not; never returns in the relay."""
    problem = namespaces.enter()
    if problem:
        return problem
    child = os.fork()
    if child == 0:
        return None
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _set_subreaper() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:  # noqa: BLE001 - not Linux: teardown falls back to the process group
        pass


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _host_pid() -> int:
    """This process's pid as the grader sees it (/proc is the host's: NSpid lists the host's
    pid first, then this namespace's)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return os.getpid()


def _close_other_fds(keep) -> None:
    """Close every inherited descriptor but ``keep`` (the zygote's control socket among them:
    a worker must not be able to talk to the zygote)."""
    low = 3
    for fd in sorted(set(keep)) + [None]:
        os.closerange(low, fd if fd is not None else 1 << 16)
        if fd is not None:
            low = fd + 1


SPARE_TASKS = 1024  # processes and threads a worker may add to its user's (a fork bomb stops there)


def _tasks_of_user() -> int:
    """Processes and threads of this user now (the limit counts them all, the grader's too)."""
    return tasks_of_user(os.getuid())


def _limit(spec) -> None:
    """Core dumps off; file size, address space (on the CPU) and tasks of the user limited."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if spec.get("file_bytes"):
        resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_bytes"], spec["file_bytes"]))
    if spec.get("memory_bytes") and spec.get("device", "cpu") == "cpu":
        # Address space on top of what the warm interpreter already maps.
        limit = _vm_size() + spec["memory_bytes"]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    processes = spec.get("processes") or (spec["tasks"] + SPARE_TASKS)
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    if hard != resource.RLIM_INFINITY:
        processes = min(processes, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _confine(spec, state) -> dict:
    """Apply every layer this machine allows; returns what was applied, and why a layer that
    should have worked did not (the grader reports it; the worker carries on with the others)."""
    applied = {"namespaces": False, "landlock": 0, "seccomp": False, "user": os.geteuid(), "errors": {}}
    cuda = spec.get("device", "cpu") != "cpu"
    kept = list(state["kept"]) + [spec["folder"]]
    if state["namespaced"] and state["mounts"]:
        try:
            namespaces.isolate_files(namespaces.covered_folders() + tuple(spec.get("hidden", ())), kept, [spec["scratch"]])
            if not cuda:
                namespaces.hide_proc()
            applied["namespaces"] = True
        except OSError as exc:
            applied["errors"]["its mount namespace"] = str(exc)
    os.chdir(spec["scratch"])  # the environment is the zygote's, trimmed when it started (grader.launch)
    for name in ("HOME", "TMPDIR", "MPLCONFIGDIR"):
        os.environ[name] = spec["scratch"]
    os.environ["MPLBACKEND"] = "Agg"  # plots in student code draw nowhere
    _limit({**spec, "tasks": state["tasks"]})
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
        applied["user"] = spec["uid"]
    else:
        namespaces.drop_capabilities()  # root that could not change user, or inside a user namespace
    if state["landlock"]:
        read = list(state["readable"]) + [spec["folder"]]
        gpu = _gpu_devices() if cuda else []
        if cuda:  # the CUDA driver reads the device's state and its own libraries
            read += ["/proc", "/sys", "/usr/local"] + gpu
        try:
            applied["landlock"] = confine.apply_landlock(read, [spec["scratch"], "/dev/null"] + gpu)
        except OSError as exc:
            applied["errors"]["Landlock"] = str(exc)
    if "seccomp" not in state["off"]:
        try:
            applied["seccomp"] = confine.apply_seccomp()
        except OSError as exc:
            applied["errors"]["seccomp"] = str(exc)
    return applied


def _kit_sources() -> list:
    """The source files of the kit's modules imported here (this file among them, run as
    ``__main__``); read once, in the zygote: a worker that walked every module would write to
    the pages of each (reference counts) and so copy them all."""
    found = []
    for name, module in list(sys.modules.items()):
        if name != "__main__" and name.split(".")[0] != "grader":
            continue
        name = getattr(getattr(module, "__spec__", None), "name", None) or name
        path = getattr(module, "__file__", None)
        if name.split(".")[0] == "grader" and isinstance(path, str):
            found.append(path)
    return found


def _note_hidden_sources(paths) -> None:
    """Tell linecache that those of the kit's source files ``paths`` that this worker cannot
    read once confined have no lines, as it finds anyway; it would otherwise try to read each
    of them again for every frame of every traceback formatted here (torch formats three at
    each torch.manual_seed)."""
    import linecache

    for path in paths:
        known = linecache.cache.get(path, ())
        if len(known) == 4:  # lines read in the zygote: kept while the file's size and time match
            if known[1] is None:
                continue
            try:
                stat = os.stat(path)
            except OSError:
                linecache.cache[path] = (0, None, [], path)  # no modification time: never checked again
                continue
            if (stat.st_size, stat.st_mtime) == known[:2]:
                continue
        try:
            with open(path, "rb"):
                continue  # readable: linecache reads it as usual
        except OSError:
            linecache.cache[path] = (0, None, [], path)


def _gpu_devices() -> list:
    """The NVIDIA device files a CUDA worker opens."""
    try:
        return [os.path.join("/dev", name) for name in os.listdir("/dev") if name.startswith("nvidia")]
    except OSError:
        return []


def _become_worker(spec, fds, state) -> None:
    """In the forked child: isolate, limit, then serve requests. Never returns.

    Until it sends ``{"setup": "done"}`` nothing of the student's has run in it: a failure
    before then is the grader's side (no thread or process to be had on a loaded machine, a
    confinement layer that broke), and is sent to the grader as ``{"setup_error": ...}`` on
    the reply pipe, which only this process's own code can write to until then; the grader
    trusts such a frame only before ``setup: done`` (see grader.sandbox)."""
    req_fd, rep_fd, out_fd = fds
    code, student = 70, False
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        _close_other_fds([req_fd, rep_fd])
        _set_subreaper()
        from .serve import prepare, send_locked, serve
        from .wire import encode_reply

        send_locked(rep_fd, encode_reply({"pid": _host_pid()}))  # first, before anything can hang
        applied = _confine(spec, state)
        _note_hidden_sources(state["sources"])
        import torch

        # All cores, or the job's share of them (jobs sharing the cores must not oversubscribe them).
        torch.set_num_threads(spec.get("threads") or os.cpu_count() or 1)
        _start_thread_pool(torch)
        watchdog = prepare(rep_fd, spec.get("assignment"))
        send_locked(rep_fd, encode_reply({"setup": "done"}))
        student = True
        serve(spec["folder"], spec.get("device", "cpu"), req_fd, rep_fd, applied, spec.get("assignment"), watchdog)
        code = 0
    except BaseException as exc:  # noqa: BLE001
        code = 70
        if not student:
            _report_setup_error(rep_fd, exc)
    finally:
        sys.stdout.flush() if sys.stdout else None
    os._exit(code)


def _start_thread_pool(torch) -> None:
    """Make torch start its worker threads now (it starts them at its first parallel loop),
    while a failure to get them is still the grader's side and not a crash in a student's case."""
    if torch.get_num_threads() > 1:
        torch.ones(1 << 17).sum()
        torch.ones(256, 256).mm(torch.ones(256, 256))


def _report_setup_error(rep_fd, exc: BaseException) -> None:
    """Tell the grader why this worker could not be set up: the exception's type and message
    and where it arose in the grader's own code (file names and lines, nothing else)."""
    import traceback

    try:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        frames = [f"{os.path.relpath(f.filename, os.path.dirname(here))}:{f.lineno} in {f.name}"
                  for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(here + os.sep)]
        from .wire import encode_reply, send_frame

        send_frame(rep_fd, encode_reply({"setup_error": {"type": type(exc).__name__, "message": str(exc)[:500],
                                                          "where": frames[-6:]}}))
    except BaseException:  # noqa: BLE001 - the pipe is gone too: the grader sees the worker end
        pass


def _warm_up() -> None:
    """Do once what each worker would otherwise do on its own first use: torch's lazily set-up
    kernels, the tracer, autograd, checkpoints and reply encoding. Each kernel is run on its
    own; nothing here is put together into any of the assignment's functions."""
    import io

    import torch

    from .capture import call_captured
    from .wire import describe, encode_reply

    def exercise(a, b, labels):
        parts = [a.mm(b), a.t(), a.exp(), a.log1p().abs(), a.max(dim=1, keepdim=True).values, a.sum(dim=0),
                 a.argmax(dim=1), a.clamp(min=0), a[torch.arange(a.shape[0]), labels % a.shape[1]],
                 torch.zeros_like(a), torch.randn(3, dtype=a.dtype), a > 0, a.mean(), (a * 2) / 3 - 1]
        return [p.sum() if p.dtype != torch.bool else p.any() for p in parts]

    for dtype in (torch.float32, torch.float64):
        a, b = torch.randn(6, 4, dtype=dtype), torch.randn(4, 3, dtype=dtype)
        labels = torch.randint(3, (6,))
        outcome = call_captured(exercise, a, b, labels, trace=True, count_lines=(__file__,), trace_dtype=dtype,
                                trace_device=torch.device("cpu"))
        encode_reply({"value": describe(outcome.value), "trace": outcome.trace})
        b.requires_grad_()
        torch.autograd.grad(a.mm(b).sin().sum(), [b])
    buffer = io.BytesIO()
    torch.save({"W": b.detach()}, buffer)
    buffer.seek(0)
    torch.load(buffer, map_location="cpu", weights_only=True)


def _readable(helpers_dir) -> list:
    """What a worker may read under Landlock: shared libraries, the Python installation and its
    packages, the course helpers and a few device files; never the kit's own ``a2`` and
    ``grader`` where an install put them into a package folder, nor the kit's own folder.
    Landlock only allows, so a folder holding one of those is allowed entry by entry around it
    (every other folder as a whole: one rule, not one per file). Computed once, here."""
    import sysconfig

    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots = ["/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/local/lib"]
    roots += [os.path.join(p, "lib") for p in prefixes] + [os.path.join(p, "lib64") for p in prefixes]
    roots += [sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")]
    roots += [p for p in sys.path if os.path.basename(p) in _PACKAGE_FOLDERS]
    roots = {os.path.realpath(p) for p in roots if os.path.isdir(p)}
    sites = _package_folders(roots)
    excluded = {os.path.join(site, name) for site in sites for name in kit_packages()
                if os.path.lexists(os.path.join(site, name))}
    if _KIT_ROOT not in sites:  # a checkout (a wheel's root is the package folder: its a2 and grader are above)
        excluded.add(_KIT_ROOT)
    paths = set()
    for root in roots:
        _allow_around(root, excluded, paths)
    paths |= {helpers_dir, "/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/dev/zero", "/dev/urandom",
              "/dev/random", "/bin", "/usr/bin"}  # programs it starts inherit every restriction of its own
    paths = {os.path.realpath(p) for p in paths if p and os.path.exists(p)}
    # A folder already allowed covers whatever lies beneath it.
    return sorted(p for p in paths if not any(_beneath(p, other) for other in paths if other != p))


_PACKAGE_FOLDERS = ("site-packages", "dist-packages")
_KIT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def _beneath(path, folder) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _package_folders(roots) -> set:
    """Every site-packages or dist-packages folder at a root or one or two levels below it
    (``lib/python3.11/site-packages``, ``lib/python3/dist-packages``)."""
    found = set()
    for root in roots:
        levels = [root]
        for _ in range(3):
            below = []
            for folder in levels:
                if os.path.basename(folder) in _PACKAGE_FOLDERS:
                    found.add(folder)
                    continue
                try:
                    below += [e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)
                              and (e.name.startswith("python") or e.name in _PACKAGE_FOLDERS)]
                except OSError:
                    pass
            levels = below
    return found


def _allow_around(folder, excluded, paths) -> None:
    """Allow ``folder`` whole, or, where an excluded path lies beneath it, each of its entries
    but the excluded ones (the same, one level down, for an entry that holds one)."""
    if folder in excluded:
        return
    if not any(_beneath(path, folder) for path in excluded):
        paths.add(folder)
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _allow_around(entry.path, excluded, paths)
        elif entry.path not in excluded:
            paths.add(entry.path)


def _kept_paths(helpers_dir) -> list:
    """What must stay visible in a worker's mount namespace: the Python installation (its
    prefixes) and the course helpers."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    return sorted(prefixes | {helpers_dir})


def _layers(state, problem) -> dict:
    """What confinement this machine allows, as reported to the grader."""
    return {"namespaces": state["namespaced"] and state["mounts"], "namespace_problem": problem,
            "landlock": state["landlock"], "seccomp": confine.seccomp_available() and "seccomp" not in state["off"],
            "off": sorted(state["off"])}


def main(argv) -> int:
    off = _turned_off()
    problem = "turned off (--without namespaces)" if "namespaces" in off else _enter_namespaces()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1, a handled signal would still arrive
    control = socket.socket(fileno=int(argv[0]))
    import torch

    from . import eecs598, serve  # noqa: F401 - the point of this process: import once, fork many times

    for unit in REGISTRY.values():  # every assignment's probes: a worker cannot read the kit's files
        importlib.import_module(unit.student_side_module)
    import helpers
    import helpers.gradcheck  # noqa: F401
    import helpers.seed  # noqa: F401
    import helpers.toy  # noqa: F401
    import helpers.losses  # noqa: F401 - A3's a3_helper.softmax_loss and eecs598.Solver map onto these
    import helpers.solver  # noqa: F401

    for name in ("statistics", "itertools", "random", "abc", "typing", "math", "collections", "tempfile", "shutil"):
        __import__(name)  # what the course files and the probes import, once for every worker
    # One thread here: an OpenMP thread pool does not survive fork (a worker's first parallel
    # region would hang), so the zygote never starts one; each worker sets its own count.
    torch.set_num_threads(1)
    _warm_up()

    helpers_dir = os.path.dirname(os.path.realpath(helpers.__file__))
    namespaced = problem is None
    state = {"namespaced": namespaced, "mounts": namespaced and namespaces.can_make_mount_namespace(),
             "landlock": 0 if "landlock" in off else confine.landlock_abi(), "off": off,
             "readable": _readable(helpers_dir), "kept": _kept_paths(helpers_dir), "tasks": _tasks_of_user(),
             "sources": _kit_sources()}
    _set_subreaper()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # What the zygote holds now never changes: keep it out of the collector's reach, so that
    # a worker's collections do not write into (and so copy) every page it shares with us.
    gc.collect()
    gc.freeze()
    workers = {}
    ready = {"ready": True, "namespaced": namespaced, "layers": _layers(state, problem)}
    control.sendall(json.dumps(ready).encode() + b"\n")
    buffer = b""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, 8)
        except OSError:
            break
        if not message:
            break
        buffer += message
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            reply = _handle(request, fds, workers, state, control)
            fds = []
            control.sendall(json.dumps(reply).encode() + b"\n")
    return 0


def _reap(workers) -> None:
    """Collect exit statuses; kill orphans that were reparented to this process."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in _FORGOTTEN:
            _FORGOTTEN.discard(pid)
            workers.pop(pid, None)
        elif pid in workers:
            workers[pid] = status
        # anything else was a worker's orphan: reaped, and gone


def _kill_orphans(workers) -> None:
    """Processes reparented here that are not workers are leftovers of a dead worker: each is
    stopped with everything below it, then killed."""
    from .procs import children_map, descendants

    children = children_map()
    for pid in children.get(os.getpid(), []):
        if pid in workers:
            continue
        tree = [pid] + descendants(pid, children)
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for target in tree + [p for p in descendants(pid) if p not in tree]:
                try:
                    os.kill(target, sig)
                except OSError:
                    pass


def _handle(request, fds, workers, state, control):
    if not state["namespaced"]:  # inside a PID namespace /proc speaks host pids: the grader sweeps instead
        _kill_orphans(workers)
    _reap(workers)
    op = request.get("op")
    if op == "spawn":
        pid = os.fork()
        if pid == 0:
            _become_worker(request, fds, state)
        for fd in fds:
            os.close(fd)
        workers[pid] = None
        return {"pid": pid}
    if op == "status":
        pid = request["pid"]
        status = workers.get(pid)
        if status is None:
            try:
                done, status = os.waitpid(pid, 0 if request.get("wait") else os.WNOHANG)
                status = status if done else None
            except ChildProcessError:
                status = None
        if status is not None:
            workers.pop(pid, None)
        elif request.get("forget"):  # the grader will not ask again: drop it once reaped
            _FORGOTTEN.add(pid)
        return {"pid": pid, "status": status}
    if op == "ping":
        return {"pong": True}
    return {"error": f"unknown op {op!r}"}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
