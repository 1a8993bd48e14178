"""Confinement that a forked grading worker applies to itself before it loads student code.

Two independent kernel mechanisms, each optional, each making the other less important:

* Landlock (``apply_landlock``) limits which files the process may read, write or execute,
  refuses every TCP bind and connect, and (on newer kernels) stops the process from sending
  signals to, or reaching the abstract unix sockets of, processes outside its own domain.
* seccomp (``apply_seccomp``) makes a list of dangerous system calls fail with EPERM: sockets,
  ptrace and cross-process memory access, namespaces and mounts, kernel modules, io_uring and
  the like.

Both restrictions are inherited by every thread and process the worker creates afterwards and
cannot be lifted again. Both are best effort: where the kernel (or libseccomp) lacks the
feature the function logs why and reports that nothing was applied, so the caller decides
whether to carry on without it.

This module ships inside the student handout: it imports only the standard library (and
``pyseccomp``, lazily) and nothing else from ``grader``.
"""
import ctypes
import errno
import logging
import os
import stat
import struct
import sys

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Landlock constants (include/uapi/linux/landlock.h). The syscall numbers are the same on
# x86_64 and aarch64 (and every architecture using the generic syscall table).

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446

_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

_PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights, by bit.
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13        # ABI 2: link or rename a file into another directory
_FS_TRUNCATE = 1 << 14     # ABI 3
_FS_IOCTL_DEV = 1 << 15    # ABI 5: ioctl on character and block devices

# Network access rights (ABI 4).
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1

# Scopes (ABI 6): interactions refused with processes outside the Landlock domain.
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

# The only rights that make sense on a single file; directory rights on a file are EINVAL.
_FILE_ONLY_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV

# What a ``read`` path grants: read and execute files, list directories.
_READ_RIGHTS = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

# What a ``write`` path grants: everything a read path does, plus writing, creating, removing,
# renaming and truncating. Creating device nodes is left out on purpose: nothing needs it.
_WRITE_RIGHTS = (_READ_RIGHTS | _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE
                 | _FS_MAKE_DIR | _FS_MAKE_REG | _FS_MAKE_SOCK | _FS_MAKE_FIFO | _FS_MAKE_SYM
                 | _FS_REFER | _FS_TRUNCATE | _FS_IOCTL_DEV)


def _handled_fs_rights(abi):
    """Every filesystem right the given ABI knows: handling a right means refusing it unless a
    rule allows it, so handling all of them is what makes "nothing else" true."""
    rights = (1 << 13) - 1          # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _handled_net_rights(abi):
    """TCP bind and connect from ABI 4; with no rule for them every one is refused."""
    return _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0


def _scoped(abi):
    """From ABI 6, keep signals and abstract unix sockets inside the domain."""
    return _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0


def _ruleset_attr(abi):
    """``struct landlock_ruleset_attr`` cut to the size this ABI knows, as the kernel's
    documentation asks: a kernel refuses (E2BIG) a struct with fields it does not know set."""
    packed = struct.pack("=QQQ", _handled_fs_rights(abi), _handled_net_rights(abi), _scoped(abi))
    if abi >= 6:
        return packed            # handled_access_fs, handled_access_net, scoped
    if abi >= 4:
        return packed[:16]       # handled_access_fs, handled_access_net
    return packed[:8]            # handled_access_fs


# ---------------------------------------------------------------------------------------------
# Raw system calls. Python has no wrappers for Landlock, so we go through libc's syscall(2).

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _syscall(number, *args):
    """syscall(2) with every argument passed as a full machine word (a plain int would be
    passed as a 32-bit C int, leaving the top half of the register undefined). Raises OSError
    on failure."""
    libc_syscall = _libc().syscall
    libc_syscall.restype = ctypes.c_long
    result = libc_syscall(ctypes.c_long(number), *[ctypes.c_long(arg) for arg in args])
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


# ---------------------------------------------------------------------------------------------
# Landlock

def landlock_abi():
    """The kernel's Landlock ABI version, 0 when Landlock cannot be used (not Linux, a kernel
    without it, Landlock disabled at boot, or any other error)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return _syscall(_SYS_LANDLOCK_CREATE_RULESET, 0, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    except (OSError, AttributeError) as exc:   # AttributeError: a libc without syscall()
        log.info("Landlock unavailable: %s", exc)
        return 0


def _create_ruleset(abi):
    """A new ruleset's file descriptor."""
    packed = _ruleset_attr(abi)
    attr = ctypes.create_string_buffer(packed, len(packed))
    return _syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), len(packed), 0)


def _open_path(path):
    """An O_PATH descriptor for the path, or None when it does not exist (skipped)."""
    try:
        return os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        log.debug("Landlock: skipping %s, it does not exist", path)
        return None


def _add_path_rule(ruleset_fd, path, rights, handled):
    """Allow ``rights`` beneath ``path``. A single file only gets the file rights among them:
    the kernel refuses directory rights on a file."""
    fd = _open_path(path)
    if fd is None:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_ONLY_RIGHTS
        rights &= handled
        # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
        packed = struct.pack("=Qi", rights, fd)
        attr = ctypes.create_string_buffer(packed, len(packed))
        try:
            _syscall(_SYS_LANDLOCK_ADD_RULE, ruleset_fd, _LANDLOCK_RULE_PATH_BENEATH,
                     ctypes.addressof(attr), 0)
        except OSError as exc:
            raise OSError(exc.errno, f"Landlock refused a rule for {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)


def _set_no_new_privs():
    """Required before landlock_restrict_self (and seccomp) for an unprivileged process, and
    what we want anyway: no set-uid program may regain privileges."""
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(code)}")


def _warn_if_threaded():
    """landlock_restrict_self only restricts the calling thread (and what it creates later):
    threads that already exist stay free. The worker is meant to confine itself right after
    fork, while it has a single thread."""
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return
    if threads > 1:
        log.warning("Landlock: %d threads already run; only the calling one is restricted",
                    threads)


def apply_landlock(read, write, *, abi=None):
    """Restrict this process, and the processes it creates later, to reading and executing
    beneath ``read`` and to full file access beneath ``write``; every other file, every TCP bind
    and connect, and (ABI 6) signals and abstract unix sockets outside the domain are refused.

    ``abi`` caps the ABI used (the kernel's by default). Paths that do not exist are skipped.
    Returns the ABI applied, 0 when Landlock is unavailable (nothing applied). Raises OSError
    when the kernel refuses a step after the ruleset was created; the process is then not
    restricted, and the caller should not run untrusted code in it.
    """
    for paths in (read, write):
        if isinstance(paths, (str, bytes, os.PathLike)):
            raise TypeError("read and write are collections of paths, not a single path")
    kernel_abi = landlock_abi()
    abi = kernel_abi if abi is None else min(abi, kernel_abi)
    if abi <= 0:
        return 0
    _warn_if_threaded()
    handled = _handled_fs_rights(abi)
    try:
        ruleset_fd = _create_ruleset(abi)
    except OSError as exc:
        raise OSError(exc.errno, f"Landlock refused to create a ruleset: {exc.strerror}") from exc
    try:
        for path in read:
            _add_path_rule(ruleset_fd, path, _READ_RIGHTS, handled)
        for path in write:
            _add_path_rule(ruleset_fd, path, _WRITE_RIGHTS, handled)
        _set_no_new_privs()
        try:
            _syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, 0)
        except OSError as exc:
            raise OSError(exc.errno, f"landlock_restrict_self failed: {exc.strerror}") from exc
    finally:
        os.close(ruleset_fd)
    log.debug("Landlock ABI %d applied", abi)
    return abi


# ---------------------------------------------------------------------------------------------
# seccomp

# System calls that always fail with EPERM. Grouped by why.
_REFUSED_SYSCALLS = (
    # Reading or writing another process.
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    # Namespaces, mounts and changing root: the ways out of a sandbox.
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "mount_setattr", "fsopen", "fsmount", "move_mount", "open_tree",
    # Large kernel attack surface that no grading code needs.
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    # Opening files by handle goes around path-based checks (Landlock).
    "open_by_handle_at", "name_to_handle_at",
    # Kernel modules and replacing the kernel.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    # io_uring performs operations without going through the system calls filtered here.
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # Whole-machine administration.
    "acct", "swapon", "swapoff", "reboot",
)

# clone() flags that create namespaces; clone() takes its flags in argument 0 on x86_64 and
# aarch64. CLONE_NEWTIME shares its bit with the exit-signal byte, but no signal number reaches
# 0x80, so refusing it leaves plain fork() and threads alone.
_CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWTIME": 0x00000080,
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

_AF_UNIX = 1


def _add_rule(seccomp_filter, action, name, *args):
    """Add one rule, skipping a system call this architecture (or libseccomp) does not know."""
    try:
        seccomp_filter.add_rule(action, name, *args)
    except OSError as exc:
        log.debug("seccomp: no rule for %s here (%s)", name, exc)


def seccomp_available():
    """Whether :func:`apply_seccomp` can load a filter here (pyseccomp and libseccomp present)."""
    try:
        import pyseccomp  # pylint: disable=import-outside-toplevel

        pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    except (ImportError, RuntimeError, OSError):
        return False
    return True


def apply_seccomp(*, allow_unix_sockets=False):
    """Install a seccomp filter on this process and its future children: the system calls in
    ``_REFUSED_SYSCALLS``, ``socket`` (apart from AF_UNIX when ``allow_unix_sockets``) and
    ``clone`` with a namespace flag fail with EPERM; ``clone3`` fails with ENOSYS because its
    flags are in memory that seccomp cannot read, and C libraries then fall back to ``clone``.
    Everything else is allowed; nothing is ever killed.

    Returns True when the filter is loaded, False when pyseccomp or libseccomp is missing.
    Raises OSError when the kernel refuses the filter.
    """
    try:
        import pyseccomp  # pylint: disable=import-outside-toplevel
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: no libseccomp
        log.warning("seccomp unavailable: %s", exc)
        return False

    eperm = pyseccomp.ERRNO(errno.EPERM)
    seccomp_filter = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    # Apply to every thread of the process, not only the calling one, so threads started
    # before confinement (a BLAS pool, say) cannot be used to get around the filter.
    seccomp_filter.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)

    for name in _REFUSED_SYSCALLS:
        _add_rule(seccomp_filter, eperm, name)
    if allow_unix_sockets:
        _add_rule(seccomp_filter, eperm, "socket", pyseccomp.Arg(0, pyseccomp.NE, _AF_UNIX))
    else:
        _add_rule(seccomp_filter, eperm, "socket")
    for flag in _CLONE_NAMESPACE_FLAGS.values():
        _add_rule(seccomp_filter, eperm, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    _add_rule(seccomp_filter, pyseccomp.ERRNO(errno.ENOSYS), "clone3")

    # libseccomp sets PR_SET_NO_NEW_PRIVS itself before loading (its CTL_NNP default).
    seccomp_filter.load()
    log.debug("seccomp filter loaded")
    return True
