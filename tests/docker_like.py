"""Run a command under a seccomp filter like Docker's default profile for a container without
CAP_SYS_ADMIN, as far as namespaces go:

    python tests/docker_like.py COMMAND [ARGS...]

``unshare``, ``setns``, ``mount``, ``umount2`` and ``pivot_root`` fail with EPERM, ``clone`` with
any CLONE_NEW* flag fails with EPERM and ``clone3`` fails with ENOSYS (so the C library falls
back to ``clone``); everything else is allowed. The tests use it to check that the grader falls
back correctly where namespaces cannot be made. ``install()`` applies the same filter to the
calling process, for a test's forked child.
"""
import errno
import logging
import os
import sys

import pyseccomp

log = logging.getLogger(__name__)

REFUSED = ("unshare", "setns", "mount", "umount2", "pivot_root")

CLONE_NEW_FLAGS = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)


def install():
    """Load the filter on the calling process and everything it starts afterwards."""
    eperm = pyseccomp.ERRNO(errno.EPERM)
    seccomp_filter = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in REFUSED:
        seccomp_filter.add_rule(eperm, name)
    for flag in CLONE_NEW_FLAGS:
        # clone() takes its flags in argument 0 on x86_64 and aarch64.
        seccomp_filter.add_rule(eperm, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    seccomp_filter.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    seccomp_filter.load()
    log.debug("docker-like seccomp filter loaded")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(f"usage: {argv[0]} COMMAND [ARGS...]\n")
        return 2
    install()
    os.execvp(argv[1], argv[1:])
    return 127  # not reached: execvp raises on failure


if __name__ == "__main__":
    sys.exit(main(sys.argv))
