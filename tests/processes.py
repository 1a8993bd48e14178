"""Finding live processes by what they run or carry in their environment (tests only)."""
import os


def alive(pid: int) -> bool:
    """Running, or stopped: not gone and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
