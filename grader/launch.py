"""Starting the zygote's interpreter, without importing torch here.

``python -m grader check`` (and ``batch``, ``gradescope-run``) start it first thing, so that
the command's own interpreter and the zygote import torch at the same time instead of one
after the other; the first :class:`grader.sandbox.Zygote` then adopts it. A zygote started
early and never adopted (the command failed on its arguments, say) exits on its own when the
command's end closes its control socket.
"""
import os
import socket
import subprocess
import sys

from .paths import ROOT
from .protection import LAYERS

_early = None

# What of the grader's environment the zygote (and so every worker) gets: what Python, the
# locale, the thread pools and CUDA need, nothing else (the grader's environment may hold
# secrets, and a forked worker's memory holds the environment its interpreter started with).
PASSED_ON = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "A2_SANDBOX_WITHOUT",
             "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES",
             "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "PYTORCH_CUDA_ALLOC_CONF")


def zygote_environment() -> dict:
    env = {k: v for k, v in os.environ.items() if k in PASSED_ON or k.startswith("LC_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def start():
    """Start ``python -m grader.student_side.zygote``; returns (process, control socket)."""
    parent, child = socket.socketpair()
    env = zygote_environment()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.student_side.zygote", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, env=env, cwd=str(ROOT),
        )
    finally:
        child.close()
    return process, parent


def start_early() -> None:
    global _early
    if _early is None:
        _early = start()


def take():
    """The zygote started early and not yet adopted, or a fresh one."""
    global _early
    early, _early = _early, None
    if early is not None and early[0].poll() is None:
        return early
    if early is not None:
        early[1].close()
    return start()


# The one name under which the confinement layers turned off (``--without``) reach the zygote,
# and so every worker: through the environment the zygote starts with (see zygote_environment).
WITHOUT = "A2_SANDBOX_WITHOUT"


def turn_off(layers) -> None:
    """Record ``layers`` (names of LAYERS) as turned off for the zygotes started from now on;
    the one place that writes it (the batch fingerprint reads it back with :func:`turned_off`)."""
    if layers:
        os.environ[WITHOUT] = ",".join(layers)


def turned_off() -> str:
    return os.environ.get(WITHOUT, "")


def layers_turned_off(argv) -> list:
    """The layers ``--without`` names in ``argv`` (read before argparse runs: the zygote starts
    first thing, and learns of them through its environment)."""
    found = []
    for i, arg in enumerate(argv):
        if arg == "--without" and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif arg.startswith("--without="):
            found.append(arg.split("=", 1)[1])
    return [name for name in found if name in LAYERS]
