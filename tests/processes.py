"""Finding live processes by what they run or carry in their environment (tests only)."""
import os

from grader.student_side.procs import alive


def processes_with(marker: str, where: str = "cmdline") -> list:
    """Pids of live processes whose /proc/PID/<where> (cmdline or environ) holds ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/{where}", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return [pid for pid in found if alive(pid)]
