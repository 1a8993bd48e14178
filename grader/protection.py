"""What confines student code on this machine, said in one line when something is missing.

The zygote finds out at start which layers the kernel allows (see
``grader.student_side.zygote``): namespaces (PID, network, IPC, and a mount namespace per
worker that hides the solution and everything else a worker does not need), Landlock (which
files a worker may read and write, no TCP, no signals out of its domain) and seccomp (no
sockets, no ptrace, no new namespaces). ``check``, ``batch`` and ``gradescope-run`` print
:func:`warning` when a layer is missing, and the batch report shows it.
"""
import os
from typing import Any, Dict, List, Optional

LAYERS = ("namespaces", "landlock", "seccomp")


def missing(layers: Dict[str, Any]) -> List[str]:
    """The layers that are not active, each with why."""
    out = []
    off = set(layers.get("off", []))
    if not layers.get("namespaces"):
        why = "turned off" if "namespaces" in off else layers.get("namespace_problem") or "not available"
        out.append(f"namespaces ({why})")
    if not layers.get("landlock"):
        out.append("Landlock (" + ("turned off" if "landlock" in off else "not in this kernel") + ")")
    if not layers.get("seccomp"):
        out.append("seccomp (" + ("turned off" if "seccomp" in off else "libseccomp or pyseccomp missing") + ")")
    return out


def still_protected(layers: Dict[str, Any]) -> List[str]:
    """What is still protected, and by which layer, when some layer is missing."""
    files = "namespaces" if layers.get("namespaces") else "Landlock" if layers.get("landlock") else None
    if files is None and os.geteuid() == 0:
        files = "file permissions (workers run as an unprivileged user)"
    network = [name for name, on in (("a network namespace", layers.get("namespaces")),
                                      ("Landlock", (layers.get("landlock") or 0) >= 4),
                                      ("seccomp", layers.get("seccomp"))) if on]
    signals = [name for name, on in (("a PID namespace", layers.get("namespaces")),
                                     ("Landlock", (layers.get("landlock") or 0) >= 6)) if on]
    parts = [f"files: {files or 'NOT protected (student code can read whatever this user can)'}",
             f"network: {' and '.join(network) or 'NOT protected'}",
             f"other processes: {' and '.join(signals) or 'only by separate users and process groups'}"]
    return parts


def warning(layers: Dict[str, Any]) -> Optional[str]:
    """One line naming what is missing and what still protects what, or None when all is on."""
    gone = missing(layers)
    if not gone:
        return None
    return ("warning: student code runs without " + ", ".join(gone) + "; still protected: "
            + "; ".join(still_protected(layers)) + " (see docs/isolation.md, 'What holds where')")
