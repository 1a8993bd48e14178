"""Running the grader as another user, or with fewer privileges, for the attack tests.

Nothing here changes the machine: it builds world-readable virtual environments in temporary
folders, says why a setup is impossible (as a skip reason), and builds command prefixes:

* ``as_nobody()``: ``setpriv`` to uid/gid 65534 with no supplementary groups;
* ``docker_like(python)``: ``tests/docker_like.py`` (a seccomp filter that refuses namespaces,
  like Docker's default profile);
* ``docker_capabilities()``: ``setpriv`` keeping root but only Docker's default capability set
  in the bounding set (and nothing inheritable or ambient): for uid 0, what execve gives the
  permitted and effective sets is the bounding set, so the command runs with exactly these
  capabilities (``docker_caps_mask`` checks it).
"""
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534
DOCKER_LIKE = REPO / "tests" / "docker_like.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")

# Docker's default capability set (moby's oci/caps/defaults.go).
DOCKER_CAPS = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
               "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")
CAP_BITS = {"chown": 0, "dac_override": 1, "fowner": 3, "fsetid": 4, "kill": 5, "setgid": 6, "setuid": 7,
            "setpcap": 8, "net_bind_service": 10, "net_raw": 13, "sys_chroot": 18, "mknod": 27,
            "audit_write": 29, "setfcap": 31}
DOCKER_CAPS_MASK = sum(1 << CAP_BITS[name] for name in DOCKER_CAPS)  # 0xa80425fb


def site_packages() -> Path:
    """The repository venv's site-packages (torch, pyseccomp, pytest...)."""
    return Path(sysconfig.get_paths()["purelib"])


def _others_can_read(path: Path) -> Optional[str]:
    """None when every folder above ``path`` is traversable by others and ``path`` readable,
    else the first one that is not."""
    path = path.resolve()
    for part in [path] + list(path.parents):
        try:
            mode = part.stat().st_mode
        except OSError as exc:
            return f"{part}: {exc}"
        needs = stat.S_IROTH if part == path else 0
        if stat.S_ISDIR(mode):
            needs |= stat.S_IXOTH
        if mode & needs != needs:
            return f"{part} (mode {stat.filemode(mode)})"
    return None


def why_not_as_nobody() -> Optional[str]:
    """Why the grader cannot run as nobody here (a skip reason), or None."""
    if os.geteuid() != 0:
        return "not root: cannot switch to another user"
    if not shutil.which("setpriv"):
        return "setpriv (util-linux) is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing (a world-readable interpreter is needed)"
    version = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        return f"{SYSTEM_PYTHON} is Python {version}, the repository's venv {sys.version_info[:2]}"
    for path in (REPO / "grader" / "__init__.py", REPO / "a2" / "two_layer_net.py", site_packages() / "torch",
                 DOCKER_LIKE):
        problem = _others_can_read(path)
        if problem:
            return f"not readable by other users: {problem}"
    return None


def make_world_venv(dest: Path, extra_pth: Optional[Path] = None, with_kit_pth: bool = True) -> Path:
    """A virtual environment made from /usr/bin/python3 in ``dest`` (world-readable), whose
    ``.pth`` points at the repository venv's site-packages (for torch and the rest). Returns
    its python. ``with_kit_pth=False`` leaves that .pth out (the caller adds its own)."""
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(dest)], check=True,
                   capture_output=True)
    site = Path(subprocess.run([str(dest / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    if with_kit_pth:
        (site / "a2_repo_site.pth").write_text(f"{extra_pth or site_packages()}\n")
    world_readable(dest)
    return dest / "bin" / "python"


def world_readable(path: Path) -> None:
    """chmod a+rX on ``path`` and below, and a+x on the folders above it."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = Path(root) / name
            if p.is_symlink():
                continue
            mode = p.stat().st_mode
            p.chmod(mode | stat.S_IROTH | stat.S_IRGRP | (stat.S_IXOTH | stat.S_IXGRP if p.is_dir() or mode & stat.S_IXUSR else 0))
    path.chmod(path.stat().st_mode | 0o055)


def world_tmpdir(prefix: str, owner: Optional[int] = None) -> Path:
    """A fresh folder in /tmp that others can traverse (and ``owner`` owns)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(path, uid, uid)


def as_nobody() -> List[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def docker_capabilities() -> List[str]:
    caps = ",".join(["-all"] + [f"+{c}" for c in DOCKER_CAPS])
    return ["setpriv", "--bounding-set", caps, "--inh-caps", "-all", "--ambient-caps", "-all"]


def docker_like(python) -> List[str]:
    return [str(python), str(DOCKER_LIKE)]


def effective_caps(prefix: List[str], python=sys.executable) -> int:
    """CapEff of a process started with ``prefix``."""
    out = subprocess.run(prefix + [str(python), "-c",
                                   "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return int(out, 16)


def why_no_user_namespaces(prefix: List[str]) -> Optional[str]:
    """Why ``prefix`` cannot make user, PID and network namespaces (what the kernel said), or None."""
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    done = subprocess.run(prefix + ["unshare", "--user", "--pid", "--net", "--fork", "true"], capture_output=True,
                          text=True, timeout=30)
    if done.returncode != 0:
        return f"the kernel refused unprivileged user namespaces: {done.stderr.strip() or done.returncode}"
    return None


def why_no_landlock() -> Optional[str]:
    from grader.student_side.confine import landlock_abi

    abi = landlock_abi()
    return None if abi else "the kernel has no Landlock (landlock_create_ruleset refused)"


# ------------------------------------------------------------------ a reaper around a command

def _children(pid: int) -> List[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""
    if state == "Z":
        return ""
    return cmd[:100] + (" [A2_RABBIT]" if b"A2_RABBIT=1" in env else "")


def reap_main(argv: List[str]) -> int:
    """``python tests/unprivileged.py REPORT.json COMMAND...``: run COMMAND as a child subreaper
    (every process COMMAND leaves behind becomes this one's child when its parent goes, even one
    that keeps changing its pid, session and process group). After COMMAND exits and a second
    more, every process still under this one is written to REPORT.json ({pid: command line}),
    then stopped and killed, until none is left. Exits with COMMAND's status."""
    import ctypes
    import json
    import signal
    import time

    report, command = argv[0], argv[1:]
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    child = subprocess.Popen(command)
    status = child.wait()
    me, seen = os.getpid(), {}
    end = time.monotonic() + 1.0
    while time.monotonic() < end:  # a second of looking: what teardown missed is still here
        for pid in _children(me):
            text = _describe(pid)
            if text:
                if len(seen) < 50:
                    seen.setdefault(pid, text)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.01)
    with open(report, "w") as f:
        json.dump({str(k): v for k, v in seen.items()}, f)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        pids = _children(me)
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.01)
    return status


def reaper(report: Path) -> List[str]:
    """The prefix that runs a command under ``reap_main``."""
    return [sys.executable, str(Path(__file__).resolve()), str(report)]


if __name__ == "__main__":
    sys.exit(reap_main(sys.argv[1:]))
