"""grader/student_side/confine.py: Landlock and seccomp confinement of a grading worker.

Confinement cannot be undone, so it is never applied to the pytest process: each scenario runs
once in a child Python (``subprocess``) that confines itself, tries a list of things and prints
one JSON object with what happened. The tests then assert on that object, one fact each.
The docker_like tool is also checked here, in a forked child and as a command wrapper.
"""
import errno
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.student_side.confine import _REFUSED_SYSCALLS, landlock_abi

REPO = Path(__file__).resolve().parent.parent
DOCKER_LIKE = REPO / "tests" / "docker_like.py"
ABI = landlock_abi()

needs_landlock = pytest.mark.skipif(ABI == 0, reason="Landlock is unavailable on this kernel")


def needs_abi(version):
    return pytest.mark.skipif(ABI < version,
                              reason=f"needs Landlock ABI {version}, the kernel has {ABI}")


# What every child program starts with: ``attempt`` runs one action and records its outcome
# under a name; ``done`` prints all the outcomes as the last line of stdout.
PRELUDE = textwrap.dedent("""
    import json, os, sys
    ARGS = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    RESULTS = {}

    def attempt(name, action):
        try:
            RESULTS[name] = {"ok": True, "value": action()}
        except OSError as exc:
            RESULTS[name] = {"ok": False, "errno": exc.errno, "error": type(exc).__name__}

    def done():
        print(json.dumps(RESULTS))
""")


def run_child(body, args=None, env=None, timeout=120):
    """Run PRELUDE + body in a fresh Python from the repository root; return its results."""
    code = PRELUDE + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args or {})], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def refused(outcome, code):
    """The action raised OSError with this errno."""
    return not outcome["ok"] and outcome["errno"] == code


# ---------------------------------------------------------------------------------------------
# landlock_abi

def test_landlock_abi_is_a_non_negative_int():
    assert isinstance(ABI, int) and ABI >= 0


def test_landlock_abi_does_not_confine_the_caller():
    """Asking for the version creates no ruleset: this process still reads what it could."""
    landlock_abi()
    assert Path("/proc/self/status").read_text()


# ---------------------------------------------------------------------------------------------
# Landlock with torch imported before restricting, as the worker does it

LANDLOCK_CHILD = """
    import socket, sysconfig
    import torch
    from grader.student_side.confine import apply_landlock

    def read(path):
        with open(path) as f:
            return f.read()

    def write(path):
        with open(path, "w") as f:
            f.write("x")

    def connect():
        socket.create_connection(("127.0.0.1", ARGS["port"]), timeout=5).close()

    def bind():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))

    # Like the grader: torch is imported in a parent, and a forked copy confines itself. The
    # copy has a single thread (import torch starts one more), and Landlock restricts only
    # the calling thread and what it creates later.
    worker = os.fork()
    if worker != 0:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(worker, 0)[1]))
    RESULTS["threads"] = len(os.listdir("/proc/self/task"))
    a, b, c = ARGS["a"], ARGS["b"], ARGS["c"]
    attempt("connect_before", connect)
    attempt("signal_before", lambda: os.kill(os.getppid(), 0))
    paths = sysconfig.get_paths()
    RESULTS["abi"] = apply_landlock(
        read=[paths["stdlib"], paths["purelib"], paths["platlib"], a, c + "/allowed.txt",
              c + "/does-not-exist"],
        write=[b])
    attempt("read_a", lambda: read(a + "/data.txt"))
    attempt("list_a", lambda: sorted(os.listdir(a)))
    attempt("write_b", lambda: write(b + "/out.txt"))
    attempt("read_back_b", lambda: read(b + "/out.txt"))
    attempt("mkdir_b", lambda: os.mkdir(b + "/sub"))
    attempt("remove_b", lambda: os.unlink(b + "/out.txt"))
    attempt("read_c", lambda: read(c + "/secret.txt"))
    attempt("read_c_allowed_file", lambda: read(c + "/allowed.txt"))
    attempt("list_c", lambda: os.listdir(c))
    attempt("write_a_new", lambda: write(a + "/new.txt"))
    attempt("write_a_existing", lambda: write(a + "/data.txt"))
    attempt("list_root", lambda: os.listdir("/"))
    attempt("read_etc_passwd", lambda: read("/etc/passwd"))
    attempt("connect_after", connect)
    attempt("bind_after", bind)
    attempt("signal_after", lambda: os.kill(os.getppid(), 0))
    attempt("torch", lambda: float(torch.ones(3) @ torch.ones(3)))
    done()
    sys.stdout.flush()
    os._exit(0)
"""


@pytest.fixture(scope="module")
def landlocked(tmp_path_factory):
    """Outcomes of LANDLOCK_CHILD, with a TCP listener of ours for it to try to reach."""
    if ABI == 0:
        pytest.skip("Landlock is unavailable on this kernel")
    root = tmp_path_factory.mktemp("landlock")
    a, b, c = root / "a", root / "b", root / "c"
    for folder in (a, b, c):
        folder.mkdir()
    (a / "data.txt").write_text("from A")
    (c / "secret.txt").write_text("from C")
    (c / "allowed.txt").write_text("allowed file in C")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        return run_child(LANDLOCK_CHILD, {"a": str(a), "b": str(b), "c": str(c), "port": port})


@needs_landlock
def test_landlock_applies_the_kernel_abi_to_a_single_threaded_process(landlocked):
    assert landlocked["abi"] == ABI
    assert landlocked["threads"] == 1


@needs_landlock
def test_landlock_reads_and_lists_a_read_folder(landlocked):
    assert landlocked["read_a"] == {"ok": True, "value": "from A"}
    assert landlocked["list_a"]["value"] == ["data.txt"]


@needs_landlock
def test_landlock_writes_creates_and_removes_in_a_write_folder(landlocked):
    assert landlocked["write_b"]["ok"]
    assert landlocked["read_back_b"] == {"ok": True, "value": "x"}
    assert landlocked["mkdir_b"]["ok"]
    assert landlocked["remove_b"]["ok"]


@needs_landlock
def test_landlock_refuses_reading_an_unlisted_folder(landlocked):
    assert refused(landlocked["read_c"], errno.EACCES)
    assert refused(landlocked["list_c"], errno.EACCES)
    assert refused(landlocked["read_etc_passwd"], errno.EACCES)


@needs_landlock
def test_landlock_allows_a_single_listed_file_and_skips_missing_paths(landlocked):
    """c/allowed.txt is listed as a file (file rights only, or the kernel says EINVAL) next to a
    path that does not exist; its unlisted neighbour stays unreadable (previous test)."""
    assert landlocked["read_c_allowed_file"] == {"ok": True, "value": "allowed file in C"}


@needs_landlock
def test_landlock_refuses_writing_in_a_read_folder(landlocked):
    assert refused(landlocked["write_a_new"], errno.EACCES)
    assert refused(landlocked["write_a_existing"], errno.EACCES)


@needs_landlock
def test_landlock_refuses_listing_the_root(landlocked):
    assert refused(landlocked["list_root"], errno.EACCES)


@needs_abi(4)
def test_landlock_refuses_tcp_connect_and_bind(landlocked):
    assert landlocked["connect_before"]["ok"], "the listener should be reachable before"
    assert refused(landlocked["connect_after"], errno.EACCES)
    assert refused(landlocked["bind_after"], errno.EACCES)


@needs_abi(6)
def test_landlock_refuses_signalling_the_parent(landlocked):
    assert landlocked["signal_before"]["ok"]
    assert refused(landlocked["signal_after"], errno.EPERM)


@needs_landlock
def test_landlock_keeps_torch_imported_before_working(landlocked):
    assert landlocked["torch"] == {"ok": True, "value": 3.0}


# ---------------------------------------------------------------------------------------------
# Landlock, then import torch

TORCH_AFTER_CHILD = """
    import importlib.util, sysconfig
    from grader.student_side.confine import apply_landlock

    site_packages = os.path.dirname(os.path.dirname(importlib.util.find_spec("torch").origin))
    RESULTS["abi"] = apply_landlock(
        read=[sysconfig.get_paths()["stdlib"], site_packages, "/usr/lib", "/dev/urandom",
              "/proc/cpuinfo"],
        write=[ARGS["scratch"]])

    def use_torch():
        import torch
        return float(torch.ones(3) @ torch.ones(3))

    attempt("torch", use_torch)
    done()
"""


@needs_landlock
def test_landlock_then_import_torch_works_with_site_packages_readable(tmp_path):
    """What importing torch needs here, beyond the stdlib and site-packages: the system's
    shared libraries (/usr/lib), /dev/urandom, and a writable TMPDIR (ctypes.util.find_library
    makes a temporary file while cuda-bindings load). /proc/cpuinfo only quiets a warning."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    results = run_child(TORCH_AFTER_CHILD, {"scratch": str(scratch)}, env={"TMPDIR": str(scratch)})
    assert results["abi"] == ABI
    assert results["torch"] == {"ok": True, "value": 3.0}


def test_apply_landlock_with_abi_zero_applies_nothing():
    results = run_child("""
        from grader.student_side.confine import apply_landlock
        RESULTS["abi"] = apply_landlock(read=[], write=[], abi=0)
        attempt("read_etc_passwd", lambda: len(open("/etc/passwd").read()) > 0)
        done()
    """)
    assert results["abi"] == 0
    assert results["read_etc_passwd"] == {"ok": True, "value": True}


@needs_landlock
def test_landlock_warns_when_other_threads_already_run():
    """Landlock restricts only the calling thread and its later children: a thread started
    before stays free, and apply_landlock says so."""
    results = run_child("""
        import logging, threading
        from grader.student_side.confine import apply_landlock
        messages = []
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(record.getMessage())
        logging.getLogger("grader.student_side.confine").addHandler(handler)
        release = threading.Event()
        sleeper = threading.Thread(target=release.wait)
        sleeper.start()
        RESULTS["abi"] = apply_landlock(read=[], write=[])
        release.set()
        sleeper.join()
        RESULTS["messages"] = messages
        done()
    """)
    assert results["abi"] == ABI
    assert any("2 threads already run" in message for message in results["messages"])


def test_apply_landlock_refuses_a_single_path_string():
    """A str is an iterable of one-letter "paths": refuse it before anything is applied."""
    results = run_child("""
        from grader.student_side.confine import apply_landlock
        try:
            apply_landlock(read="/usr", write=[])
        except TypeError:
            RESULTS["refused"] = True
        attempt("read_etc_passwd", lambda: len(open("/etc/passwd").read()) > 0)
        done()
    """)
    assert results == {"refused": True, "read_etc_passwd": {"ok": True, "value": True}}


# ---------------------------------------------------------------------------------------------
# seccomp

SECCOMP_CHILD = """
    import ctypes, errno, socket, subprocess, threading
    import pyseccomp
    import torch
    from grader.student_side.confine import apply_seccomp

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    CLONE_NEWUSER = 0x10000000
    SIGCHLD = 17
    PTRACE_INTERRUPT = 0x4207

    def raw(name, *args):
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
        result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
        if result == -1:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        return result

    def clone_newuser():
        # Raw clone(CLONE_NEWUSER | SIGCHLD): should be refused; if not, the copy exits at once.
        pid = raw("clone", CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return pid > 0

    def fork_and_wait():
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    def thread():
        seen = []
        worker = threading.Thread(target=seen.append, args=("ran",))
        worker.start()
        worker.join()
        return seen

    def matmul():
        # Large enough for torch to split it over its threads, which it starts now, under
        # the filter (nothing parallel ran before).
        x = torch.ones(256, 256, dtype=torch.float64)
        return [torch.get_num_threads(), float((x @ x).sum())]

    def unshare_newuser():
        if libc.unshare(CLONE_NEWUSER) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        return True

    def socketpair():
        left, right = socket.socketpair()
        left.sendall(b"hi")
        received = right.recv(2)
        left.close()
        right.close()
        return received.decode()

    # Harmless arguments (NULL pointers, bad descriptors): the kernel rejects them with
    # EFAULT, EBADF, EINVAL or the like, so only the filter answers EPERM.
    HARMLESS = {
        "mount": (0, 0, 0, 0, 0), "umount2": (0, 0), "pivot_root": (0, 0), "chroot": (0,),
        "setns": (-1, 0), "bpf": (0, 0, 0), "perf_event_open": (0, 0, -1, -1, 0),
        "io_uring_setup": (0, 0), "io_uring_enter": (-1, 0, 0, 0, 0, 0),
        "io_uring_register": (-1, 0, 0, 0), "keyctl": (0, 0, 0, 0, 0),
        "add_key": (0, 0, 0, 0, 0), "request_key": (0, 0, 0, 0),
        "open_by_handle_at": (-1, 0, 0), "name_to_handle_at": (-1, 0, 0, 0, 0),
        "process_vm_readv": (os.getppid(), 0, 0, 0, 0, 0),
        "process_vm_writev": (os.getppid(), 0, 0, 0, 0, 0), "pidfd_getfd": (-1, -1, 0),
        "fsopen": (0, 0), "fsmount": (-1, 0, 0), "move_mount": (-1, 0, -1, 0, 0),
        "open_tree": (-1, 0, 0), "mount_setattr": (-1, 0, 0, 0, 0), "swapon": (0, 0),
        "swapoff": (0,), "delete_module": (0, 0), "init_module": (0, 0, 0),
        "finit_module": (-1, 0, 0), "reboot": (0, 0, 0, 0),
        "ptrace": (PTRACE_INTERRUPT, os.getppid(), 0, 0),
    }

    torch.set_num_threads(2)
    attempt("socket_before", lambda: socket.socket().close())
    attempt("clone3_before", lambda: raw("clone3", 0, 0))
    for name, args in HARMLESS.items():
        attempt("before:" + name, lambda: raw(name, *args))

    RESULTS["loaded"] = apply_seccomp()

    for name, args in HARMLESS.items():
        attempt("after:" + name, lambda: raw(name, *args))
    attempt("socket_inet", lambda: socket.socket().close())
    attempt("socket_unix", lambda: socket.socket(socket.AF_UNIX).close())
    attempt("socketpair", socketpair)
    attempt("unshare_newuser", unshare_newuser)
    attempt("clone_newuser", clone_newuser)
    attempt("clone3", lambda: raw("clone3", 0, 0))
    attempt("fork", fork_and_wait)
    attempt("thread", thread)
    attempt("subprocess", lambda: subprocess.run(["true"], check=False).returncode)
    attempt("matmul", matmul)
    done()
"""

# The calls HARMLESS in SECCOMP_CHILD tries with bad arguments (kexec, acct, userfaultfd are
# left out: with good enough arguments they would act on the machine or create something).
PROBED = ["mount", "umount2", "pivot_root", "chroot", "setns", "bpf", "perf_event_open",
          "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key",
          "request_key", "open_by_handle_at", "name_to_handle_at", "process_vm_readv",
          "process_vm_writev", "pidfd_getfd", "fsopen", "fsmount", "move_mount", "open_tree",
          "mount_setattr", "swapon", "swapoff", "delete_module", "init_module", "finit_module",
          "reboot", "ptrace"]


@pytest.fixture(scope="module")
def seccomped():
    return run_child(SECCOMP_CHILD)


def test_seccomp_filter_loads(seccomped):
    assert seccomped["loaded"] is True


def test_seccomp_refuses_every_socket_by_default(seccomped):
    assert seccomped["socket_before"]["ok"]
    assert refused(seccomped["socket_inet"], errno.EPERM)
    assert refused(seccomped["socket_unix"], errno.EPERM)


def test_seccomp_leaves_socketpair_working(seccomped):
    """socketpair is a separate system call that only makes connected AF_UNIX pairs (the
    kernel refuses other families), so it stays allowed: the worker can still talk to itself."""
    assert seccomped["socketpair"] == {"ok": True, "value": "hi"}


def test_seccomp_refuses_unshare_and_clone_into_a_user_namespace(seccomped):
    assert refused(seccomped["unshare_newuser"], errno.EPERM)
    assert refused(seccomped["clone_newuser"], errno.EPERM)


def test_seccomp_answers_clone3_with_enosys(seccomped):
    assert refused(seccomped["clone3_before"], errno.EINVAL), "clone3(NULL, 0) is EINVAL unfiltered"
    assert refused(seccomped["clone3"], errno.ENOSYS)


@pytest.mark.parametrize("name", PROBED)
def test_seccomp_refuses_dangerous_call(seccomped, name):
    """Only EPERM after the filter counts; before it, the same call shows what the kernel
    itself says to these arguments (also EPERM for some when not root)."""
    before, after = seccomped["before:" + name], seccomped["after:" + name]
    assert refused(after, errno.EPERM), f"{name}: before {before}, after {after}"


def test_seccomp_ptrace_of_the_parent_was_possible_to_ask_before(seccomped):
    """Without the filter PTRACE_INTERRUPT on a process we do not trace is ESRCH: so the
    EPERM after it comes from the filter."""
    assert refused(seccomped["before:ptrace"], errno.ESRCH)


def test_seccomp_keeps_fork_threads_and_subprocesses_working(seccomped):
    assert seccomped["fork"] == {"ok": True, "value": 7}
    assert seccomped["thread"] == {"ok": True, "value": ["ran"]}
    assert seccomped["subprocess"] == {"ok": True, "value": 0}


def test_seccomp_keeps_torch_matmul_with_two_threads_working(seccomped):
    assert seccomped["matmul"] == {"ok": True, "value": [2, 256.0 ** 3]}


def test_seccomp_with_unix_sockets_allows_only_af_unix():
    results = run_child("""
        import ctypes, socket
        import pyseccomp
        from grader.student_side.confine import apply_seccomp
        libc = ctypes.CDLL(None, use_errno=True)
        SYS_SOCKET = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "socket")

        def raw_socket(family):
            fd = libc.syscall(ctypes.c_long(SYS_SOCKET), ctypes.c_long(family),
                              ctypes.c_long(socket.SOCK_STREAM), ctypes.c_long(0))
            if fd == -1:
                raise OSError(ctypes.get_errno(), "socket")
            os.close(fd)
            return True

        RESULTS["loaded"] = apply_seccomp(allow_unix_sockets=True)
        attempt("unix", lambda: socket.socket(socket.AF_UNIX).close())
        attempt("inet", lambda: socket.socket(socket.AF_INET).close())
        attempt("inet6", lambda: socket.socket(socket.AF_INET6).close())
        attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW).close())
        # The kernel reads the family as a 32-bit int; the filter compares all 64 bits, so
        # AF_UNIX with junk above it must be refused rather than let through as AF_UNIX.
        attempt("unix_with_high_bits", lambda: raw_socket((1 << 32) | socket.AF_UNIX))
        done()
    """)
    assert results["loaded"] is True
    assert results["unix"]["ok"]
    for family in ("inet", "inet6", "netlink", "unix_with_high_bits"):
        assert refused(results[family], errno.EPERM), family


def test_every_refused_syscall_name_is_known_here():
    """apply_seccomp skips names libseccomp does not know (other architectures); on this
    machine none should be skipped, which also catches a misspelt name."""
    pyseccomp = pytest.importorskip("pyseccomp")
    unknown = [name for name in _REFUSED_SYSCALLS + ("socket", "clone", "clone3")
               if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) < 0]
    assert not unknown


# ---------------------------------------------------------------------------------------------
# docker_like

UNSHARE_NEWUSER = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
                   "print(0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno())")


def _unshare_errno(prefix=()):
    proc = subprocess.run([*prefix, sys.executable, "-c", UNSHARE_NEWUSER], capture_output=True,
                          text=True, timeout=60, check=True)
    return int(proc.stdout.strip())


def test_docker_like_makes_unshare_fail_with_eperm():
    assert _unshare_errno([sys.executable, str(DOCKER_LIKE)]) == errno.EPERM


def test_without_docker_like_unshare_succeeds():
    code = _unshare_errno()
    if code != 0:
        pytest.skip(f"unshare(CLONE_NEWUSER) fails here anyway: {errno.errorcode.get(code, code)}")
    assert code == 0


def test_docker_like_install_in_a_forked_child():
    """install() in a forked child: namespaces refused, clone3 ENOSYS, everything else works."""
    import ctypes  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel

    import docker_like  # pylint: disable=import-outside-toplevel

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(read_end)
            libc = ctypes.CDLL(None, use_errno=True)
            docker_like.install()
            found = {}
            found["unshare"] = 0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno()
            # clone3(NULL, 0): EINVAL from the kernel, ENOSYS from the filter.
            clone3 = libc.syscall(ctypes.c_long(435), ctypes.c_long(0), ctypes.c_long(0))
            found["clone3"] = ctypes.get_errno() if clone3 == -1 else 0
            seen = []
            worker = threading.Thread(target=seen.append, args=(1,))
            worker.start()
            worker.join()
            found["thread"] = seen == [1]
            found["subprocess"] = subprocess.run(["true"], check=False).returncode
            with socket.socket():
                found["socket"] = True
            os.write(write_end, json.dumps(found).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = pipe.read()
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert json.loads(report) == {"unshare": errno.EPERM, "clone3": errno.ENOSYS, "thread": True,
                                  "subprocess": 0, "socket": True}


def test_the_mount_namespace_covers_every_top_level_folder_but_the_systems(monkeypatch):
    """Without Landlock, what the mount namespace leaves in view is all that keeps another
    world-readable checkout of the kit (in /work, /data, ...) from a worker: every top-level
    folder that is not the system's own is covered, whatever its name."""
    from grader.student_side import namespaces
    top = ["bin", "boot", "data", "dev", "etc", "lib", "lib64", "proc", "sbin", "sys", "tmp", "usr", "var",
           "work", "scratch", "lib32", "home"]
    monkeypatch.setattr(namespaces.os, "listdir", lambda path: list(top) if path == "/" else [])
    monkeypatch.setattr(namespaces.os.path, "isdir", lambda path: path.lstrip("/") in top)
    monkeypatch.setattr(namespaces.os.path, "islink", lambda path: path == "/lib64")  # merged /usr: a link
    covered = namespaces.covered_folders()
    assert {"/work", "/data", "/scratch", "/tmp", "/home"} <= set(covered)
    assert not {"/bin", "/usr", "/etc", "/proc", "/sys", "/dev", "/lib", "/lib32", "/lib64", "/var"} & set(covered)
    assert set(namespaces.ALWAYS_HIDDEN) <= set(covered)
    assert len(covered) == len(set(covered))
