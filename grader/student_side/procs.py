"""Process trees read from /proc: who is whose child, and who is still alive.

Used by the zygote (to kill orphans reparented to it) and by the grader (to tear down a
worker's whole tree). Linux only; elsewhere the maps are empty and teardown falls back to
process groups.
"""
import os
from typing import Dict, List, Optional


def children_map() -> Dict[int, List[int]]:
    """{parent pid: [child pids]} of every process this process can see."""
    children: Dict[int, List[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return children
    for entry in entries:
        if not entry.isdigit():
            continue
        ppid = _parent(entry)
        if ppid is not None:
            children.setdefault(ppid, []).append(int(entry))
    return children


def _parent(entry: str) -> Optional[int]:
    """The parent pid in /proc/<entry>/stat, read as bytes with plain system calls (a batch
    reads every process's twice per submission; and a process named with invalid UTF-8 must not
    drop out of sight), or None when the process is gone or unreadable."""
    try:
        fd = os.open(f"/proc/{entry}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        return int(os.read(fd, 4096).rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
    finally:
        os.close(fd)


def descendants(pid: int, children: Optional[Dict[int, List[int]]] = None) -> List[int]:
    """Every process below ``pid``."""
    children, found, todo = children if children is not None else children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running or stopped: not gone and not a zombie."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return False
    try:  # bytes: a process may name itself with anything, invalid UTF-8 included
        return os.read(fd, 4096).rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False
    finally:
        os.close(fd)


def tasks_of_user(uid: int) -> int:
    """Processes and threads of user ``uid`` now, as RLIMIT_NPROC counts them: every one of
    that user on the machine, whoever started it (other gradings' workers among them)."""
    wanted, total = str(uid), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [wanted]:
            total += int(fields.get("Threads", "1").strip() or 1)
    return total
