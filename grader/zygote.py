"""The warm process that forks student workers: ``python -m grader.zygote FD``.

It imports torch and the probe code once, then waits on its control socket (FD) for spawn
requests. It holds no expected values and no solution, so a forked worker inherits neither.
Each worker gets its own session and process group, becomes a subreaper (orphans it leaves
stay its descendants, so they can be found and killed), sets its resource limits and, when
the grader runs as root, drops to an unprivileged user before loading student code.
"""
import json
import os
import resource
import signal
import socket
import sys

PR_SET_CHILD_SUBREAPER = 36
_FORGOTTEN = set()  # workers whose status nobody will ask for
CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _enter_pid_namespace() -> bool:
    """Become PID 1 of a new PID namespace (needs root): this process forks, the child goes on
    as the zygote, and this one waits and passes on its exit status. Inside the namespace,
    workers cannot signal the grader at all, and the kernel ignores SIGKILL from a worker to
    its PID 1. Returns whether it worked (in the child), or never returns (in the relay)."""
    try:
        if os.geteuid() != 0 or _libc().unshare(CLONE_NEWPID) != 0:
            return False
    except (OSError, AttributeError):
        return False
    child = os.fork()
    if child == 0:
        return True
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _confine_files(protect, writable) -> list:
    """In a new mount namespace, make each path of ``protect`` read-only, then ``writable``
    (the worker's own scratch folder) writable again. Best effort: returns what was done."""
    libc, done = _libc(), []
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return done
    for path in protect:
        target = os.fsencode(path)
        if (os.path.isdir(path) and libc.mount(target, target, None, MS_BIND | MS_REC, None) == 0
                and libc.mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) == 0):
            done.append(path)
    if done and writable:  # a bind inside a read-only bind starts read-only: remount it writable
        target = os.fsencode(writable)
        if libc.mount(target, target, None, MS_BIND, None) == 0:
            libc.mount(None, target, None, MS_REMOUNT | MS_BIND, None)
    return done


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


def _become_worker(spec, fds) -> None:
    """In the forked child: isolate, limit, then serve requests. Never returns."""
    req_fd, rep_fd, out_fd = fds
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        _set_subreaper()
        if spec.get("protect") and os.geteuid() == 0:
            _confine_files(spec["protect"], spec["scratch"])
        os.chdir(spec["scratch"])
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if spec.get("file_bytes"):
            resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_bytes"], spec["file_bytes"]))
        if spec.get("memory_bytes") and spec.get("device", "cpu") == "cpu":
            # Address space on top of what the warm interpreter already maps.
            limit = _vm_size() + spec["memory_bytes"]
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if spec.get("uid") is not None:
            os.setgroups([])
            os.setgid(spec["gid"])
            os.setuid(spec["uid"])
            os.environ["HOME"] = spec["scratch"]
        import torch

        # All cores, or the job's share of them (jobs sharing the cores must not oversubscribe them).
        torch.set_num_threads(spec.get("threads") or os.cpu_count() or 1)
        from grader.wire import encode_reply, send_frame
        from grader.worker import serve

        send_frame(rep_fd, encode_reply({"pid": _host_pid()}))  # before any student code runs
        serve(spec["folder"], spec.get("device", "cpu"), req_fd, rep_fd)
        code = 0
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        sys.stdout.flush() if sys.stdout else None
    os._exit(code)


def _warm_up() -> None:
    """Do once what each worker would otherwise do on its own first use: torch's lazily set-up
    kernels, the tracer, checkpoints and reply encoding. No student code, no solution."""
    import io

    import torch
    from grader.capture import call_captured
    from grader.wire import describe, encode_reply

    def work(X, W, y):
        rows = torch.arange(X.shape[0])
        scores = X.mm(W) + torch.zeros(W.shape[1], dtype=X.dtype)
        scores = scores - scores.max(dim=1, keepdim=True).values
        probs = scores.exp() / scores.exp().sum(dim=1, keepdim=True)
        probs[rows, y] -= 1
        hidden = (scores > 0) * scores.clamp(min=0)
        grad = X.t().mm(probs) / X.shape[0] + 2 * 0.1 * W
        return probs.log().sum(), grad, hidden.argmax(dim=1), torch.randn(3, dtype=X.dtype), torch.zeros_like(W)

    for dtype in (torch.float32, torch.float64):
        X, W = torch.randn(6, 4, dtype=dtype), torch.randn(4, 3, dtype=dtype)
        y = torch.randint(3, (6,))
        outcome = call_captured(work, X, W, y, trace=True, count_lines=(__file__,), trace_dtype=dtype,
                                trace_device=torch.device("cpu"))
        encode_reply({"value": describe(outcome.value), "trace": outcome.trace})
        W.requires_grad_()
        torch.autograd.grad(torch.nn.functional.cross_entropy(X.mm(W), y), [W])
    buffer = io.BytesIO()
    torch.save({"W": W.detach()}, buffer)
    buffer.seek(0)
    torch.load(buffer, map_location="cpu", weights_only=True)


def _preload(fd) -> int:
    """Case inputs from the grader (a trusted file descriptor): {key: pickled (probe, payload)}."""
    import pickle

    import grader.worker

    with os.fdopen(fd, "rb") as f:
        table = pickle.load(f)
    grader.worker.PRELOADED.update({key: pickle.loads(blob) for key, blob in table.items()})
    return len(table)


def main(argv) -> int:
    namespaced = _enter_pid_namespace()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1, a handled signal would still arrive
    control = socket.socket(fileno=int(argv[0]))
    import torch  # noqa: F401 - the point of this process: import once, fork many times
    import grader.probes  # noqa: F401
    import grader.worker  # noqa: F401
    for name in ("statistics", "itertools", "random", "abc", "typing", "math", "collections"):
        __import__(name)  # what the course files import, once for every worker
    # One thread here: an OpenMP thread pool does not survive fork (a worker's first parallel
    # region would hang), so the zygote never starts one; each worker sets its own count.
    torch.set_num_threads(1)
    _warm_up()

    _set_subreaper()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    workers = {}
    control.sendall(json.dumps({"ready": True, "namespaced": namespaced}).encode() + b"\n")
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
            reply = _handle(request, fds, workers, namespaced)
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
    """Processes reparented here that are not workers are leftovers of a dead worker."""
    from grader.sandbox import _children_map

    for pid in _children_map().get(os.getpid(), []):
        if pid not in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _handle(request, fds, workers, namespaced=False):
    if not namespaced:  # inside a PID namespace /proc speaks host pids: the grader sweeps instead
        _kill_orphans(workers)
    _reap(workers)
    op = request.get("op")
    if op == "spawn":
        pid = os.fork()
        if pid == 0:
            _become_worker(request, fds)
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
    if op == "preload":
        if not fds:
            return {"error": "preload needs a file descriptor"}
        for fd in fds[1:]:
            os.close(fd)
        return {"preloaded": _preload(fds[0])}
    if op == "ping":
        return {"pong": True}
    return {"error": f"unknown op {op!r}"}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
