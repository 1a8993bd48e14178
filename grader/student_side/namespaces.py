"""Linux namespaces for the zygote and its workers, where the kernel lets us make them.

The zygote (at start) becomes PID 1 of new PID, network and IPC namespaces: workers cannot
address the grader's processes, have no network but a loopback that is down, and share no
System V IPC with the host. As root that needs nothing more; without root it happens inside a
new user namespace, which most kernels allow to unprivileged users (Ubuntu 24.04's AppArmor
policy and Docker's default seccomp profile do not: then nothing here applies and the other
layers, Landlock and seccomp, carry the confinement).

Each worker then gets its own mount namespace in which the whole filesystem is read-only and
the places that hold what student code must not see (the repository with the solution and
the instructor's code, the grading folders of other submissions, the batch's inputs and
outputs, homes, /tmp, /run) are covered by empty tmpfs mounts; only what the worker needs is
mounted back (the Python installation, the helpers, its own copy of the submission, and its
scratch folder, the one writable place).
"""
import ctypes
import errno
import os
from typing import Dict, Iterable, List, Optional

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MOUNT_ATTR_RDONLY, AT_FDCWD, AT_RECURSIVE = 0x1, -100, 0x8000
O_PATH = getattr(os, "O_PATH", 0o10000000)

# Covered in every worker's view when namespaces are available (what is needed is mounted back).
ALWAYS_HIDDEN = ("/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/mnt", "/media", "/srv", "/opt", "/run")
# The system's own top-level folders stay in view (read-only); every other top-level folder
# (/work, /data, /scratch, /farm: where other copies of a kit and its solutions may lie) is
# covered too, whatever its name.
SYSTEM_FOLDERS = frozenset({"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys",
                            "usr", "var"})


def covered_folders() -> tuple:
    """ALWAYS_HIDDEN and every top-level folder that is not the system's own."""
    try:
        names = sorted(os.listdir("/"))
    except OSError:
        names = []
    others = tuple(f"/{n}" for n in names if n not in SYSTEM_FOLDERS and not os.path.islink(f"/{n}")
                   and os.path.isdir(f"/{n}") and f"/{n}" not in ALWAYS_HIDDEN)
    return ALWAYS_HIDDEN + others


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter(flags: int = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) -> Optional[str]:
    """Unshare ``flags`` (inside a new user namespace when not root). Returns None on success
    or the reason it failed. The caller must fork for a new PID namespace to take effect."""
    libc, uid, gid = _libc(), os.geteuid(), os.getegid()
    if uid != 0:
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        return f"unshare refused ({errno.errorcode.get(err, err)}: {os.strerror(err)})"
    if uid != 0:
        try:  # keep our own identity inside: files look as they do outside
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError as exc:
            return f"the user namespace could not be set up ({exc})"
    return None


def can_make_mount_namespace() -> bool:
    """Whether a worker will be able to make its own mount namespace (tried in a child)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _libc().unshare(CLONE_NEWNS) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mount_flags(path: str) -> int:
    """The flags a bind remount of ``path`` must keep (the kernel refuses to drop locked ones)."""
    flags = os.statvfs(path).f_flag
    return ((MS_NOSUID if flags & os.ST_NOSUID else 0) | (MS_NODEV if flags & os.ST_NODEV else 0)
            | (MS_NOEXEC if flags & os.ST_NOEXEC else 0))


def _read_only_everywhere(libc) -> None:
    """Every mount of this namespace read-only (one call on kernels >= 5.12)."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)
    setattr_ = getattr(libc, "mount_setattr", None)
    if setattr_ is not None and setattr_(AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)) == 0:
        return
    with open("/proc/self/mountinfo") as f:  # older kernels: one remount per mount point
        points = [line.split()[4] for line in f]
    for point in points:
        target = os.fsencode(point.replace("\\040", " "))
        try:
            libc.mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _mount_flags(point), None)
        except OSError:
            pass


def isolate_files(hidden: Iterable[str], kept: Iterable[str], writable: Iterable[str]) -> List[str]:
    """In a new mount namespace: everything read-only, each ``hidden`` folder covered by an
    empty tmpfs, each ``kept`` path (a folder or file, perhaps under a hidden one) visible
    again, and the ``writable`` folders writable. Returns the hidden folders that were covered.
    Raises OSError when the namespace cannot be made."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "making mounts private")
    writable = [os.path.realpath(p) for p in writable if os.path.exists(p)]
    kept = [os.path.realpath(p) for p in kept if os.path.exists(p)] + writable
    handles: Dict[str, int] = {path: os.open(path, O_PATH | os.O_CLOEXEC) for path in kept}
    hidden = [os.path.realpath(p) for p in hidden if os.path.isdir(p)]
    covered = []
    old_umask = os.umask(0o022)
    try:
        _read_only_everywhere(libc)
        # Outer paths first, so that a kept path under a hidden one is mounted on the tmpfs.
        for path, action in sorted([(p, "hide") for p in hidden] + [(p, "keep") for p in kept],
                                   key=lambda item: (item[0].count("/"), item[1] == "keep")):
            if action == "hide":
                if os.path.isdir(path):
                    _check(libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", MS_NOSUID | MS_NODEV,
                                      b"mode=0755,size=64k"), f"covering {path}")
                    covered.append(path)
            elif not os.path.exists(path) or any(_inside(path, h) for h in covered):
                _mount_back(libc, path, handles[path], path in writable)
        for path in covered:  # nothing may be written on the covers either
            libc.mount(None, os.fsencode(path), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    finally:
        os.umask(old_umask)
        for fd in handles.values():
            os.close(fd)
    return covered


def _mount_back(libc, path: str, fd: int, writable: bool) -> None:
    """Bind the original ``path`` (held open as ``fd``) onto its place in a covering tmpfs."""
    if not os.path.exists(path):
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(path)
        else:
            open(path, "w").close()
    source = os.fsencode(f"/proc/self/fd/{fd}")
    _check(libc.mount(source, os.fsencode(path), None, MS_BIND | MS_REC, None), f"mounting {path} back")
    flags = MS_REMOUNT | MS_BIND | _mount_flags(path) | (0 if writable else MS_RDONLY)
    _check(libc.mount(None, os.fsencode(path), None, flags, None), f"remounting {path}")


def hide_proc() -> bool:
    """Replace /proc by one showing only this PID namespace, or by an empty tmpfs where the
    kernel refuses a new proc (a container that masks parts of its /proc)."""
    libc = _libc()
    if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
        return True
    return libc.mount(b"tmpfs", b"/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"mode=0555,size=4k") == 0


def drop_capabilities() -> bool:
    """Give up every capability (in whatever user namespace this process is): after the
    namespaces are set up, a worker needs none."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    libc = _libc()
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; fails harmlessly without CAP_SETPCAP
    return libc.capset(ctypes.byref(header), ctypes.byref(data)) == 0
