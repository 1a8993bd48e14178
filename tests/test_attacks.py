"""The attack corpus (tests/attacks.py) against the grading sandbox, in every way the grader is
run: as root (namespaces, Landlock, seccomp, workers as nobody), as an unprivileged user (inside
a user namespace), under a Docker-like seccomp profile that refuses namespaces (as nobody, and
as root with Docker's default capabilities), in a simulated Gradescope autograder, and from the
kit installed as a wheel. Plus: every module the handout ships, called on graded-function-shaped
inputs, never returns a graded answer; and each ``--without LAYER`` says so in one line.

In every mode one batch grades every attack (one submission each, the rest of the file being
the solution), two correct submissions, a slow correct "victim" graded at the same time as a
submission that signals every process it may, with hidden cases and ``--jobs 2``. Then, one
test each: no attack scores on the function it replaces or reports a leak, correct submissions
keep full marks, nothing reached the test's TCP/UDP/unix listeners, no file outside the
workers' scratch folders was created or changed, nothing was unpickled by the grader, and no
process is left. Holes found are ``xfail(strict=True)`` with the reason (see KNOWN_HOLES).
"""
import copy
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch

import attacks
import unprivileged as up
from attacks import ATTACKS
from submissions import REPO, make_submission

SECRET_NAME = "A2_GRADER_SECRET"
GOOD = ("good0", "good1", "00_victim")
KILLER = "00_killer"  # sorts first with the victim: with --jobs 2 both start at once
SYMLINK = "atk_symlink_solution"
RUN_TIMEOUT = 400
# These tests show what the confinement holds by itself: the grader's reading of the student's
# source (which names most of these attacks' tools before anything runs) is set aside.
SANDBOX_ALONE = {"A2_SOURCE_RULES": "off"}
CALLED_BY = {"nn_forward_pass": ("nn_forward_backward",)}  # graded functions that run another one unreplaced


def _hole(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


# (mode, attack) -> why it is a hole (each one confirmed by running the test with --runxfail).
# The environment, links to the solution, answers held in a worker, the process limit of
# workers that change user, capabilities and leftover process chains were closed.
KNOWN_HOLES: Dict[tuple, str] = {
    ("root_docker_caps", "fork_bomb"): (
        "a worker that must keep uid 0 (a root grader without namespaces whose Python lies where an unprivileged "
        "user cannot reach it, as here under /root) is bound by no process limit: the kernel does not apply "
        "RLIMIT_NPROC to root. Install Python where the worker's user can read it (Gradescope's /usr and "
        "/autograder/venv are), and workers run as that user under the limit"),
}
# mode -> why a process is left after the batch
LEFTOVER_HOLES: Dict[str, str] = {}


# ------------------------------------------------------------------------------ the runs

@dataclass
class Mode:
    name: str
    why_not: Optional[str]  # a skip reason
    prefix: List[str]
    python: Optional[str]  # None: the world-readable venv
    user: int  # who runs the grader
    namespaces: bool  # expected in sandbox.json
    docker: bool = False  # under tests/docker_like.py


@dataclass
class Listeners:
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    unix_path: str

    def received(self) -> List[str]:
        got = []
        for s in (self.tcp, self.unix):
            s.setblocking(False)
            try:
                while True:
                    conn, _ = s.accept()
                    conn.settimeout(1)
                    try:
                        got.append(f"{s.family.name} connection: {conn.recv(100)!r}")
                    except OSError:
                        got.append(f"{s.family.name} connection")
                    conn.close()
            except (BlockingIOError, OSError):
                pass
        self.udp.setblocking(False)
        try:
            while True:
                got.append(f"UDP datagram: {self.udp.recv(100)!r}")
        except (BlockingIOError, OSError):
            pass
        return got

    def close(self):
        for s in (self.tcp, self.udp, self.unix):
            s.close()


def open_listeners(folder: Path) -> Listeners:
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    path = str(folder / "listener.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(path)
    unix.listen(8)
    os.chmod(path, 0o777)  # only the sandbox, not file permissions, keeps a worker out
    return Listeners(tcp, udp, unix, path)


def ancestry(pid: int) -> List[int]:
    """``pid`` and every process above it."""
    chain = []
    while pid > 1:
        chain.append(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return chain


def processes_carrying(marker: str) -> Dict[int, str]:
    """Live processes whose environment holds ``marker`` (everything a grading run started
    inherits the planted secret), with their command lines or names."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace")[:120] or "?"
        except (OSError, IndexError):
            continue
    return found


def stop_everything(marker: str, seconds: float = 40.0) -> None:
    """Freeze then kill every process carrying ``marker``, until none is left: a process that
    keeps starting new copies of itself is stopped where it stands."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pids = set(processes_carrying(marker))
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        time.sleep(0.05)


def tampered(folders, skip=()) -> List[str]:
    """Files under ``folders`` named like a write attack's, or holding its marker."""
    found = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip and d not in (".git", ".venv")]
            for name in files:
                path = os.path.join(root, name)
                if name.startswith(attacks.FILE_PREFIX):
                    found.append(path)
                    continue
                try:
                    if os.path.getsize(path) < 20 << 20 and attacks.TAMPER.encode() in open(path, "rb").read():
                        found.append(path)
                except OSError:
                    pass
    return found


@dataclass
class BatchRun:
    mode: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    scores: Dict[str, Dict[str, tuple]] = field(default_factory=dict)  # id -> function -> (points, max)
    outputs: Dict[str, List[str]] = field(default_factory=dict)  # id -> case outputs
    layers: dict = field(default_factory=dict)
    network: List[str] = field(default_factory=list)
    leftovers: Dict[int, str] = field(default_factory=dict)
    rabbits: List[int] = field(default_factory=list)
    tampered: List[str] = field(default_factory=list)
    marker: bool = False
    canary: bool = True
    goods_unchanged: bool = True
    sitecustomize: bool = False
    report_html: str = ""
    grades: Dict[str, dict] = field(default_factory=dict)
    times: Dict[str, float] = field(default_factory=dict)  # id -> seconds its grading took
    errors: Dict[str, str] = field(default_factory=dict)  # id -> why it could not be graded
    retried: List[str] = field(default_factory=list)  # graded again after a grader error (see _retry)
    temp_left: List[str] = field(default_factory=list)  # what the grader left in its temporary folder
    written: Dict[str, str] = field(default_factory=dict)  # output file -> its text (feedback, grades, report)

    def attacked(self, sub: str, functions) -> Dict[str, tuple]:
        return {f: self.scores.get(sub, {}).get(f) for f in functions}

    def leaks(self, sub: str) -> List[str]:
        return attacks.reports(self.outputs.get(sub, []))["leaks"]

    def said(self, sub: str) -> List[str]:
        return attacks.reports(self.outputs.get(sub, []))["nothing"][:3]


def _collect(run: BatchRun, out: Path) -> None:
    for path in sorted((out / "results").glob("*.json")):
        result = json.loads(path.read_text())
        extra = result.get("extra_data", {})
        run.scores[path.stem] = {k: tuple(v) for k, v in extra.get("function_scores", {}).items()}
        run.outputs[path.stem] = [t.get("output", "") for t in result.get("tests", [])] + [result.get("output", "")]
        run.times[path.stem] = result.get("execution_time", 0.0)
        run.errors[path.stem] = extra.get("error") or ""


# ast.parse in two threads at once sometimes raises this under Debian 12's /usr/bin/python3 (3.11.2;
# never seen with the repository venv's 3.11.7; cf. python/cpython#106905): the batch's two threads
# both parse submissions (runner.call_graph), so now and then an entry becomes an "internal error"
# row. Such entries are graded once more, alone, and the runs say which (BatchRun.retried); nothing
# else is retried.
AST_RACE = "AST constructor recursion depth mismatch"


def _retry(run: BatchRun) -> List[str]:
    return sorted(sub for sub, error in run.errors.items() if AST_RACE in error and sub not in run.retried)


def _snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_batch(mode: Mode, base: Path, python: str, prefix: List[str]) -> BatchRun:
    """Grade the whole corpus in one batch under ``mode``; returns everything observed."""
    owner = mode.user
    home = base / "home"
    home.mkdir()
    os.chown(home, owner, owner)
    decoy = base / "decoy"
    decoy.mkdir()
    decoy.chmod(0o777)
    canary = decoy / "canary.txt"
    canary.write_text("canary\n")
    canary.chmod(0o666)
    subs, out = base / "subs", base / "out"
    secret = secrets.token_hex(12)
    listeners = open_listeners(decoy)
    config = attacks.default_config(
        secret=secret, tcp_port=listeners.tcp.getsockname()[1], udp_port=listeners.udp.getsockname()[1],
        unix_path=listeners.unix_path, marker=str(home / "unpickled_marker"), canary=str(canary),
        write_folders=[str(subs), str(out), str(decoy)], spare=ancestry(os.getpid()), guesses=[str(REPO)])
    for name in ATTACKS:
        if name != "signal_killer":
            attacks.materialize(subs / f"atk_{name}", attacks.single(name), config)
    attacks.materialize(subs / KILLER, attacks.single("signal_killer"), config)
    attacks.slow_victim(subs / "00_victim")
    make_submission(subs / "good0")
    make_submission(subs / "good1", layout="course")
    attacks.symlink_solution(subs / SYMLINK, str(REPO / "a2" / "two_layer_net.py"))
    for path in [subs] + list(subs.rglob("*")):  # only the sandbox keeps workers out, not permissions
        if not path.is_symlink():
            path.chmod(0o777 if path.is_dir() else 0o666)
    out.mkdir()
    out.chmod(0o777)
    os.chown(out, owner, owner)
    goods = {g: _snapshot(subs / g) for g in ("good0", "good1")}
    site = up.site_packages()
    had_sitecustomize = (site / "sitecustomize.py").exists()
    temp = base / "tmp"  # the grader's temporary folder, where its grading folders go
    temp.mkdir()
    os.chown(temp, owner, owner)
    env = {**os.environ, SECRET_NAME: secret, "HOME": str(home), "TMPDIR": str(temp), **SANDBOX_ALONE}
    env.pop("A2_SANDBOX_WITHOUT", None)

    reports = []

    def grade(folder: Path, into: Path):
        reports.append(base / f"leftovers{len(reports)}.json")
        command = up.reaper(reports[-1]) + prefix + [
            python, "-m", "grader", "batch", str(folder), "--out", str(into), "--hidden", "--jobs", "2",
            "--feedback-hidden", "full"]
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)

    start = time.monotonic()
    done = grade(subs, out)
    run = BatchRun(mode.name, done.returncode, done.stdout, done.stderr, 0.0)
    _collect(run, out)
    for attempt in range(2):  # see _retry
        again = _retry(run)
        if not again:
            break
        folder, into = base / f"retry{attempt}", base / f"out_retry{attempt}"
        folder.mkdir()
        for sub in again:
            shutil.copytree(subs / sub, folder / sub, symlinks=True)
        into.mkdir()
        os.chown(into, owner, owner)
        grade(folder, into)
        run.retried += again
        _collect(run, into)
    run.seconds = round(time.monotonic() - start, 1)
    for report in reports:  # what the reaper found under the grader a second after it exited
        if report.exists():
            run.leftovers.update({int(k): v for k, v in json.loads(report.read_text()).items()})
        else:
            run.leftovers[-1] = f"the reaper wrote no {report.name}"
    run.leftovers.update(processes_carrying(secret))  # anything that got out from under the reaper
    run.rabbits = sorted(pid for pid, text in run.leftovers.items() if "A2_RABBIT" in text)
    stop_everything(secret)
    run.network = listeners.received()
    listeners.close()
    if (out / "grades.csv").exists():
        with open(out / "grades.csv") as f:
            run.grades = {row["submission"]: row for row in csv.DictReader(f)}
    if (out / "sandbox.json").exists():
        run.layers = json.loads((out / "sandbox.json").read_text())
    run.report_html = (out / "report.html").read_text() if (out / "report.html").exists() else ""
    run.temp_left = sorted(p.name for p in temp.iterdir() if p.name.startswith("a2-grading-"))
    for path in [out / "grades.csv", out / "report.html", *sorted((out / "feedback").glob("*.md"))]:
        if path.exists():
            run.written[path.name] = path.read_text(errors="backslashreplace")
    run.marker = (home / "unpickled_marker").exists()
    run.canary = canary.exists() and canary.read_text() == "canary\n"
    run.goods_unchanged = all(_snapshot(subs / g) == goods[g] for g in goods)
    run.sitecustomize = (site / "sitecustomize.py").exists() and not had_sitecustomize
    run.tampered = tampered([REPO, subs, out, decoy, home], skip={str(REPO / ".venv")})
    run.tampered += [str(p) for p in site.glob(attacks.FILE_PREFIX + "*")]
    return run


def _modes() -> Dict[str, Mode]:
    """The four ways the grader runs. ``python=None``: the world-readable venv (built on first
    use); ``docker``: under tests/docker_like.py (namespaces refused, as in Docker)."""
    root = None if os.geteuid() == 0 else "the grader runs as root in this mode"
    nobody = up.why_not_as_nobody()
    landlock = up.why_no_landlock()
    return {
        "root": Mode("root", root, [], sys.executable, 0, True),
        "nobody_userns": Mode("nobody_userns", nobody or up.why_no_user_namespaces(up.as_nobody()), up.as_nobody(),
                              None, up.NOBODY, True),
        "nobody_docker": Mode("nobody_docker", nobody or landlock, up.as_nobody(), None, up.NOBODY, False, docker=True),
        "root_docker_caps": Mode("root_docker_caps", root or landlock, up.docker_capabilities(), sys.executable, 0,
                                 False, docker=True),
    }


MODES = _modes()
ATTACK_NAMES = [n for n in ATTACKS if n != "signal_killer"] + ["signal_killer", "symlink_solution"]


@pytest.fixture(scope="module")
def world_python():
    """A world-readable venv made from /usr/bin/python3 (for runs as nobody)."""
    reason = up.why_not_as_nobody()
    if reason:
        pytest.skip(reason)
    folder = up.world_tmpdir("a2-attack-venv-")
    python = up.make_world_venv(folder / "venv")
    yield str(python)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def batch(request):
    """batch(mode) -> the BatchRun of that mode (run once per module, on first use)."""
    runs, folders = {}, []

    def get(name: str) -> BatchRun:
        mode = MODES[name]
        if mode.why_not:
            pytest.skip(f"{name}: {mode.why_not}")
        if name not in runs:
            python = mode.python or request.getfixturevalue("world_python")
            prefix = mode.prefix + (up.docker_like(python) if mode.docker else [])
            base = up.world_tmpdir(f"a2-attacks-{name}-")
            folders.append(base)
            try:
                runs[name] = run_batch(mode, base, python, prefix)
            except Exception as exc:  # noqa: BLE001 - every test of this mode says so, none reruns it
                runs[name] = exc
            run = runs[name]
            if isinstance(run, BatchRun):
                slow = sorted(run.times.items(), key=lambda kv: -kv[1])[:6]
                print(f"\n[{name}] batch of {len(run.scores)} submissions in {run.seconds} s; slowest {slow}"
                      + (f"; graded again after the AST race: {run.retried}" if run.retried else ""))
        if isinstance(runs[name], Exception):
            raise runs[name]
        return runs[name]

    yield get
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _attack_params():
    params = []
    for mode in MODES:
        for name in ATTACK_NAMES:
            marks = [pytest.mark.slow]
            if (mode, name) in KNOWN_HOLES:
                marks.append(_hole(KNOWN_HOLES[(mode, name)]))
            params.append(pytest.param(mode, name, marks=marks, id=f"{mode}-{name}"))
    return params


def _functions(name: str):
    return attacks.SYMLINK_FUNCTIONS if name == "symlink_solution" else (ATTACKS[name].target,)


def _sub(name: str) -> str:
    return {"signal_killer": KILLER, "symlink_solution": SYMLINK}.get(name, f"atk_{name}")


# ------------------------------------------------------------------------------ the matrix

def test_the_docker_prefix_gives_exactly_dockers_capabilities():
    """Mode root_docker_caps runs the grader as root with setpriv --bounding-set (Docker's 14
    capabilities) --inh-caps -all --ambient-caps -all: for uid 0, execve makes the permitted and
    effective sets the bounding set, so the grader holds Docker's set exactly (0xa80425fb)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    assert up.effective_caps(up.docker_capabilities()) == up.DOCKER_CAPS_MASK == 0xA80425FB


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_the_batch_ran_with_the_expected_layers(batch, mode):
    run = batch(mode)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.scores) == len(ATTACK_NAMES) + len(GOOD), sorted(run.scores)
    assert run.layers.get("namespaces") is MODES[mode].namespaces, run.layers
    assert run.layers.get("landlock", 0) >= 6 and run.layers.get("seccomp") is True, run.layers
    warned = [line for line in run.stderr.splitlines() if line.startswith("warning: student code runs without")]
    assert len(warned) == (0 if MODES[mode].namespaces else 1), run.stderr[-2000:]


@pytest.mark.parametrize("mode,attack", _attack_params())
def test_attack_gets_nothing(batch, mode, attack):
    """The attack scores 0 on the function(s) it replaces, and reports no leak; a submission
    whose file is a link out of it is refused, saying so."""
    run = batch(mode)
    sub = _sub(attack)
    if attack == "symlink_solution":
        assert "is a link" in run.errors.get(sub, "") and not run.scores.get(sub), (run.errors.get(sub), run.scores.get(sub))
        return
    scores = run.attacked(sub, _functions(attack))
    assert all(s is not None for s in scores.values()), f"{sub} was not graded: {run.grades.get(sub)}"
    assert all(points == 0 for points, _ in scores.values()), f"{attacks_describe(attack)}\nscored {scores}"
    assert not run.leaks(sub), f"{attacks_describe(attack)}\nleaked: {run.leaks(sub)}"


def attacks_describe(attack: str) -> str:
    return "symlink_solution: two_layer_net.py is a link to the solution" if attack == "symlink_solution" \
        else attacks.describe(attack)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_correct_submissions_keep_full_marks(batch, mode):
    """good0 (kit layout), good1 (course layout) and the victim, graded while the killer
    signalled every process it could, lose nothing; nor does any attack lose points beyond the
    function it replaces (the rest of each file is the solution)."""
    run = batch(mode)
    # The killer and the victim sort first, so the batch's two threads start them together; the
    # killer signals for 5 s, the victim takes seconds (it sleeps in svm_loss_naive).
    assert run.times[KILLER] >= 4 and run.times["00_victim"] >= 2.5, run.times
    said = " ".join(run.said(KILLER))
    refused = re.search(r"up to (\d+) processes refused a signal", said)
    assert refused, said
    if MODES[mode].namespaces:  # its PID namespace holds the zygote (pid 1, not scanned) and the other workers
        assert int(refused[1]) >= 1, f"the killer saw no other worker: {said}"
    for sub in GOOD:
        got = run.scores[sub]
        assert all(points == most for points, most in got.values()), (sub, got, run.outputs[sub][:5])
    for name in ATTACK_NAMES:
        if name in ("symlink_solution", "rabbit", "fork_bomb", "scratch_fill", "scratch_undeletable"):
            continue  # a stub file / processes of its own / the case running when its scratch is found full may cost it more
        spared = set(_functions(name)) | {d for f in _functions(name) for d in CALLED_BY.get(f, ())}
        others = {f: s for f, s in run.scores[_sub(name)].items() if f not in spared}
        assert all(points == most for points, most in others.values()), (name, others)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_nothing_reached_the_network(batch, mode):
    run = batch(mode)
    assert run.network == []


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_no_file_outside_scratch_was_touched(batch, mode):
    """No file of the repository, site-packages, the batch's submissions and output folders or
    the test's world-writable decoy folder was created, appended to or removed."""
    run = batch(mode)
    assert run.tampered == []
    assert run.canary and run.goods_unchanged and not run.sitecustomize


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_returned_objects_are_never_unpickled(batch, mode):
    assert not batch(mode).marker


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_report_html_escapes_student_text(batch, mode):
    report = batch(mode).report_html
    assert report and "<script>alert(" not in report and "<img src=x" not in report


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_outputs_show_escape_sequences_without_obeying_them(batch, mode):
    """terminal_escapes's message is in its feedback and the report, escaped: no control
    character reaches grades.csv, report.html or any feedback file."""
    run = batch(mode)
    feedback = run.written.get("atk_terminal_escapes.md", "")
    assert "\\x1b[2J\\x1b[H" in feedback and "\\u202e" in feedback, feedback[-2000:]
    for name, text in run.written.items():
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", text), name


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_nothing_is_left_in_the_temporary_folder(batch, mode):
    """scratch_undeletable's folders (2000 deep, without permissions, a name that is not UTF-8)
    and scratch_fill's gigabyte are gone with the grader: no grading folder is left."""
    assert batch(mode).temp_left == []


def _leftover_params():
    params = []
    for mode in MODES:
        marks = [pytest.mark.slow]
        if mode in LEFTOVER_HOLES:
            marks.append(_hole(LEFTOVER_HOLES[mode]))
        params.append(pytest.param(mode, marks=marks, id=mode))
    return params


@pytest.mark.parametrize("mode", _leftover_params())
def test_no_process_is_left(batch, mode):
    """A second after the batch: nothing that carries the batch's environment is alive (the
    grader, its zygote, workers, the fork bomb's sleeps, the rabbit)."""
    run = batch(mode)
    assert run.leftovers == {} and run.rabbits == []


# ------------------------------------------------------------------------------ positive control

# (The grader's environment and the capabilities are not among them: they are taken away whatever
# layers are on, so these attacks find nothing even then.)
CONTROL = ("import_reference", "import_mistakes", "solution_on_sys_path", "solution_via_module_files", "walk_disk",
           "fixtures", "read_other_submissions", "escape_via_subprocess", "proc_snoop", "network",
           "write_everywhere")


@pytest.mark.slow
def test_the_attacks_work_when_the_sandbox_is_off():
    """With every layer turned off (``--without`` each) the same attacks succeed: each one that
    steals scores on its function, each other one reports its leak, and the TCP listener hears
    from a worker. So the matrix's "got nothing" is the sandbox's doing, not the attacks' failing.
    The write attack is pointed at the test's decoy folder only (it removes the canary and
    leaves its marker there, which the matrix's check finds); signals, ptrace, fork bombs and
    rabbits are left out: unconfined they would act on this machine."""
    if os.geteuid() != 0:
        pytest.skip("the control runs as root (workers then keep root: nothing else stops them)")
    base = up.world_tmpdir("a2-attacks-control-")
    try:
        listeners = open_listeners(base)
        secret = secrets.token_hex(12)
        decoy = base / "decoy"
        decoy.mkdir()
        (decoy / "canary.txt").write_text("canary\n")
        (decoy / "results.json").write_text("{}")
        config = attacks.default_config(secret=secret, tcp_port=listeners.tcp.getsockname()[1],
                                        udp_port=listeners.udp.getsockname()[1], unix_path=listeners.unix_path,
                                        guesses=[str(REPO)], write_folders=[str(decoy)], only_write_folders=True,
                                        canary=str(decoy / "canary.txt"))
        for name in CONTROL:
            attacks.materialize(base / "subs" / f"atk_{name}", attacks.single(name), config)
        make_submission(base / "subs" / "good0")
        out = base / "out"
        command = [sys.executable, "-m", "grader", "batch", str(base / "subs"), "--out", str(out), "--hidden",
                   "--jobs", "2", "--feedback-hidden", "full", "--without", "namespaces", "--without", "landlock",
                   "--without", "seccomp"]
        env = {**os.environ, SECRET_NAME: secret, **SANDBOX_ALONE}
        done = subprocess.run(up.reaper(base / "left.json") + command, cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        run = BatchRun("control", 0, done.stdout, done.stderr, 0.0)
        _collect(run, out)
        heard = listeners.received()
        listeners.close()
        written = tampered([decoy])
        canary = (decoy / "canary.txt").exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    missed = []
    for name in CONTROL:
        sub, function = f"atk_{name}", ATTACKS[name].target
        points = run.scores[sub][function][0]
        # The fixtures hold the public cases' answers only (a handout carries them): that steal
        # is caught by the hidden cases themselves, as hard-coding.
        caught = name == "fixtures" and any("look hard-coded" in o for o in run.outputs.get(sub, []))
        if ATTACKS[name].steals and points == 0 and not caught:
            missed.append(f"{name} scored 0: {run.said(sub)}")
        elif not ATTACKS[name].steals and not run.leaks(sub):
            missed.append(f"{name} reported no leak: {run.said(sub)}")
    assert missed == []
    assert any("A2ATTACK-TCP" in h for h in heard), heard
    assert written and not canary, "the write checks would not see a write"
    assert all(points == most for points, most in run.scores["good0"].values())


# ------------------------------------------------------------------------------ --without

@pytest.fixture(scope="module")
def without_runs():
    """``check --only svm_get_search_params`` with each layer turned off, and with none, run side by side."""
    runs = {}
    for layer in (None, "namespaces", "landlock", "seccomp"):
        extra = ["--without", layer] if layer else []
        runs[layer] = subprocess.Popen([sys.executable, "-m", "grader", "check", "--only", "svm_get_search_params"]
                                       + extra, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return {layer: (p.wait(timeout=RUN_TIMEOUT), p.stdout.read(), p.stderr.read()) for layer, p in runs.items()}


@pytest.mark.parametrize("layer,named", [("namespaces", "namespaces (turned off)"), ("landlock", "Landlock (turned off)"),
                                         ("seccomp", "seccomp (turned off)")])
def test_without_a_layer_check_prints_one_warning_naming_it(without_runs, layer, named):
    code, out, err = without_runs[layer]
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning: student code runs without")]
    assert len(warned) == 1, err
    assert named in warned[0]
    others = [n for n in ("namespaces (", "Landlock (", "seccomp (") if not named.startswith(n)]
    assert not any(o in warned[0].split(";")[0] for o in others), warned[0]


def test_with_every_layer_check_prints_no_warning(without_runs):
    code, out, err = without_runs[None]
    if os.geteuid() != 0:
        pytest.skip("without root some layer may be missing here")
    assert code == 0 and "warning:" not in err, err


# ------------------------------------------------------------------------------ payloads

def _tensors(obj, path="", depth=0):
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif depth < 6 and isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{path}[{k!r}]", depth + 1)
    elif depth < 6 and isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{path}[{i}]", depth + 1)


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    if tuple(a.shape) != tuple(b.shape) or a.numel() < 2:
        return False
    if a.is_floating_point() != b.is_floating_point():
        return False
    if not a.is_floating_point():
        return bool(torch.equal(a, b)) and a.unique().numel() > 1
    a, b = a.double(), b.double()
    return bool(torch.allclose(a, b, rtol=1e-6, atol=1e-9)) and a.std() > 0


def test_a_payload_answers_no_hidden_case():
    """A worker holds only the payload of the case it runs, but even so: no tensor of any
    case's payload equals a hidden case's expected value (hidden inputs are salted with the
    submission's content, here a made-up one)."""
    from grader.cases import HIDDEN, select
    from grader.catalogue import all_cases
    from grader.fixtures import load
    from grader.runner import case_inputs

    cases = [c for c in select(all_cases(), None, hidden=True) if c.probe]
    inputs = {c.id: case_inputs(c, load(), salt="a made-up submission") for c in cases}
    answers = [(key, t) for key, got in inputs.items() if key in {c.id for c in cases if c.visibility == HIDDEN}
               and isinstance(got.answer, dict) and "expected" in got.answer for _, t in _tensors(got.answer["expected"])]
    assert len(answers) > 20
    matches = [(case, key) for case, got in inputs.items() for _, t in _tensors(got.payload)
               for key, answer in answers if key != case and _same_values(t, answer)]
    assert matches == []


# ------------------------------------------------------------------------------ hidden cases replayed

@pytest.mark.slow
def test_hidden_cases_cannot_be_replayed_from_a_previous_run(tmp_path, grade_with):
    """Round one gets inputs out through the messages of public cases (that channel stays open:
    student code may raise what it likes); round two answers from a table of round one's hidden
    inputs, complete and exact. Hidden inputs are salted with the submission's content, so round
    two, being other files, meets other inputs and passes no hidden case."""
    import base64
    import io

    import oracles

    target = "svm_loss_vectorized"
    carriers = ["softmax_loss_naive", "softmax_loss_vectorized", "predict_linear_classifier",
                "nn_forward_pass", "nn_forward_backward", "sample_batch"]  # graded after the target
    plan = {f: "exfiltrate_hidden" for f in [target] + carriers}
    first = attacks.materialize(tmp_path / "round1", plan, attacks.default_config(exfil_target=target))
    report = grade_with(first, hidden=True)
    visible = report.to_gradescope(hidden_level="status")  # what the student sees on Gradescope
    chunks = {}
    for test in visible["tests"]:
        match = re.search(r"A2EXFIL (\d+)/(\d+) (\S+)", test["output"])
        if match:
            chunks.setdefault(int(match[2]), {})[int(match[1])] = match[3]
    assert chunks, "round one put nothing into the public messages"  # the channel is there
    # Whatever got out, the strongest attacker knows round one's hidden inputs exactly:
    from grader.catalogue import all_cases
    from grader.fixtures import load
    from grader.runner import case_inputs, content_salt
    from grader.submission import prepare

    prepared = prepare(first)
    try:
        salt = content_salt(prepared.code_dir)
    finally:
        prepared.cleanup()
    hidden = [c for c in all_cases() if c.function == target and c.visibility == "hidden"]
    stolen = [case_inputs(c, load(), salt).payload["args"] for c in hidden]
    hidden_count = len(hidden)
    assert hidden_count == 3
    # Outside the grader: answers by torch autograd (tests/oracles.py), public ones from the
    # handout's own fixtures.
    table = [{"args": args, "answer": oracles.svm_autograd(*args)} for args in stolen]
    public = torch.load(REPO / "grader" / "assignments" / "a2" / "fixtures" / f"{target}.pt", weights_only=True)
    table += [{"args": case["payload"]["args"], "answer": tuple(case["key"]["expected"])} for case in public.values()
              if "args" in case["payload"] and "expected" in case["key"]]
    buffer = io.BytesIO()
    torch.save(table, buffer)
    config = attacks.default_config(table=base64.b64encode(buffer.getvalue()).decode())
    second = attacks.materialize(tmp_path / "round2", {target: "lookup_table"}, config)
    report = grade_with(second, functions=[target], hidden=True)
    hidden_cases = [r for r in report.results if r.visibility == "hidden"]
    assert len(hidden_cases) == hidden_count
    # round two is other files, so other hidden inputs: the stolen table answers none of them
    assert not any(r.status == "passed" for r in hidden_cases), [(r.name, r.status) for r in hidden_cases]


# ------------------------------------------------------------------------------ Gradescope

GRADESCOPE_PLAN = {"nn_forward_pass": "solution_via_module_files", "svm_loss_vectorized": "fixtures",
                   "nn_forward_backward": "import_reference", "predict_linear_classifier": "walk_disk"}


@pytest.fixture(scope="module")
def gradescope(world_python):
    """The Gradescope bundle in a simulated /autograder (world-traversable, as on Gradescope),
    hardened by its harden.sh; run_autograder(submission) runs it as root under docker_like
    (no namespaces: Landlock, seccomp and the unprivileged user carry it) with
    A2_WORKER_USER=nobody and the world-readable Python, and returns results.json."""
    reason = up.why_no_landlock()
    if reason:
        pytest.skip(reason)
    base = up.world_tmpdir("a2-gradescope-")
    bundle = base / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", str(bundle)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = base / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root)
    up.world_readable(root)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": world_python, "A2_WORKER_USER": "nobody",
           **SANDBOX_ALONE}
    env.pop("PYTHONPATH", None)
    subprocess.run(["bash", str(root / "harden.sh")], env=env, check=True)

    def run(make, name):
        shutil.rmtree(root / "submission", ignore_errors=True)
        shutil.rmtree(root / "results", ignore_errors=True)
        make(root / "submission")
        command = up.reaper(base / f"left_{name}.json") + up.docker_like(world_python) + ["bash", str(root / "run_autograder")]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads((root / "results" / "results.json").read_text())
        left = json.loads((base / f"left_{name}.json").read_text())
        return result, done.stderr, left

    yield root, run
    shutil.rmtree(base, ignore_errors=True)


def _by_function(result) -> Dict[str, tuple]:
    scores = {}
    for test in result["tests"]:
        got, most = scores.get(test["tags"][0], (0.0, 0.0))
        scores[test["tags"][0]] = (got + test["score"], most + test["max_score"])
    return scores


@pytest.mark.slow
def test_gradescope_autograder_keeps_source_away_from_an_attack(gradescope):
    """One course-layout submission reads source/a2/two_layer_net.py (found through
    grader.__file__ and a guess of /autograder/source), source/grader/assignments/a2/fixtures, imports the
    instructor's reference and walks the disk, each in place of one function. It gets nothing,
    its other functions keep full marks, and nothing is left running."""
    root, run = gradescope
    assert not os.stat(root / "source" / "a2" / "two_layer_net.py").st_mode & 0o077, "harden.sh did not run"
    config = attacks.default_config(guesses=[str(root / "source"), str(root)])
    result, stderr, left = run(lambda folder: attacks.materialize(folder, GRADESCOPE_PLAN, config, layout="course"),
                               "attacks")
    assert "warning: student code runs without namespaces" in stderr
    scores = _by_function(result)
    assert {f: scores[f][0] for f in GRADESCOPE_PLAN} == {f: 0 for f in GRADESCOPE_PLAN}, scores
    spared = set(GRADESCOPE_PLAN) | set(CALLED_BY["nn_forward_pass"])
    assert all(got == most for f, (got, most) in scores.items() if f not in spared), scores
    texts = [t["output"] for t in result["tests"]] + [result.get("output", "")]
    assert attacks.reports(texts)["leaks"] == []
    assert len(attacks.reports(texts)["nothing"]) >= len(GRADESCOPE_PLAN)
    assert left == {}


@pytest.mark.slow
def test_gradescope_autograder_does_not_follow_a_link_to_the_solution(gradescope):
    """submission/two_layer_net.py -> ../source/a2/two_layer_net.py (a path every student can
    guess; Gradescope keeps links of GitHub and Bitbucket submissions) is refused, saying why."""
    root, run = gradescope
    result, _, _ = run(lambda folder: attacks.symlink_solution(folder, "../source/a2/two_layer_net.py", "course"),
                       "symlink")
    assert result["score"] == 0 and result["tests"] == [], result
    assert "is a link" in result["output"], result["output"]


# ------------------------------------------------------------------------------ the wheel

WHEEL_ATTACKS = ("solution_on_sys_path", "solution_via_module_files", "import_reference", "import_mistakes",
                 "walk_disk", "fixtures", "escape_via_subprocess")


@pytest.mark.slow
def test_kit_installed_from_its_wheel_keeps_the_solution_out_of_reach():
    """The kit as pip installs it: a wheel built from this source, installed with --no-deps
    into a fresh world-readable venv (torch and the rest through a .pth to the repository
    venv's site-packages; the kit itself only from the wheel), run from another folder, as root.
    The attacks that look for the solution on sys.path, in site-packages/a2,
    site-packages/grader/instructor and its fixtures, or on disk, get nothing."""
    if os.geteuid() != 0:
        pytest.skip("the grader runs as root here")
    reason = up.why_not_as_nobody()
    if reason:
        pytest.skip(reason)
    base = up.world_tmpdir("a2-wheel-")
    try:
        source = base / "src"  # the repository's tracked layout, so the build writes nothing into it
        for name in ("a2", "grader", "helpers"):
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(REPO / name, source / name)
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                               str(base / "dist"), str(source)], capture_output=True, text=True, cwd=base)
        assert done.returncode == 0, done.stderr[-2000:]
        wheel = next((base / "dist").glob("a2kit-*.whl"))
        python = up.make_world_venv(base / "venv")
        env = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}, **SANDBOX_ALONE}
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                              capture_output=True, text=True, cwd=base, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        up.world_readable(base / "venv")
        where = json.loads(subprocess.run(
            [str(python), "-c", "import json, sys, a2, grader, grader.assignments.a2.instructor.reference as r; "
             "print(json.dumps({'a2': a2.__file__, 'grader': grader.__file__, 'path': sys.path, "
             "'solution': r.has_solution()}))"], capture_output=True, text=True, cwd=base, env=env, check=True).stdout)
        site = str(base / "venv")
        assert where["a2"].startswith(site) and where["grader"].startswith(site), where
        assert str(REPO) not in where["path"] and "" not in where["path"][1:], where["path"]
        assert where["solution"], "the wheel should carry the solution (hidden cases need it)"
        config = attacks.default_config(guesses=[site, str(REPO)])
        subs = base / "subs"
        for name in WHEEL_ATTACKS:
            attacks.materialize(subs / f"atk_{name}", attacks.single(name), config)
        make_submission(subs / "good0")
        out = base / "out"
        command = up.reaper(base / "left.json") + [str(python), "-m", "grader", "batch", str(subs), "--out", str(out),
                                                   "--hidden", "--jobs", "2", "--feedback-hidden", "full"]
        done = subprocess.run(command, cwd=base, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        run = BatchRun("wheel", 0, done.stdout, done.stderr, 0.0)
        _collect(run, out)
        left = json.loads((base / "left.json").read_text())
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert all(points == most for points, most in run.scores["good0"].values()), run.scores["good0"]
    for name in WHEEL_ATTACKS:
        sub, function = f"atk_{name}", ATTACKS[name].target
        assert run.scores[sub][function][0] == 0 and not run.leaks(sub), (name, run.scores[sub], run.leaks(sub))
    assert left == {}


# ------------------------------------------------------------------------------ the handout's own code

# Starting these runs the grader itself (a zygote: a second interpreter importing torch, seconds
# each): the attack matrix above exercises them; the scan leaves them out to stay fast.
SCAN_SKIP = {"grader.runner.grade", "grader.api.check", "grader.check", "grader.cli.main", "grader.cli.cmd_check",
             "grader.launch.start", "grader.launch.start_early", "grader.launch.take", "grader.sandbox.Zygote",
             "grader.sandbox.ZygoteHolder", "grader.sandbox.Sandbox", "grader.sandbox.Worker"}

SCAN_CHILD = r'''
import copy, importlib, inspect, itertools, json, os, pkgutil, resource, signal, sys, time, traceback
import torch

spec = json.loads(sys.argv[1])
data = torch.load(spec["data"], weights_only=False)
pool, answers = data["pool"], data["answers"]
import grader, helpers
names = []
for package in (grader, helpers):
    names.append(package.__name__)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        names.append(info.name)
# what a handout leaves out: the engine's instructor side and every assignment's
names = [n for n in names if "instructor" not in n.split(".") and n != "grader.__main__"] + spec["include"]
modules = {}
for name in names:
    try:
        modules[name] = importlib.import_module(name)
    except BaseException as exc:
        modules[name] = None
# Nothing the scanned code does may leave this process: read anything, write only the scratch
# folder, no signals out of this domain, no sockets, no ptrace, no namespaces.
from grader.student_side.confine import apply_landlock, apply_seccomp
os.chdir(spec["scratch"])
os.environ["HOME"] = os.environ["TMPDIR"] = os.environ["MPLCONFIGDIR"] = spec["scratch"]
apply_landlock(["/"], [spec["scratch"], "/dev/null"])
apply_seccomp()
resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 24, 1 << 24))

callables = []
for name, module in modules.items():
    if module is None:
        continue
    for attr, obj in sorted(vars(module).items()):
        if getattr(obj, "__module__", None) != name or not callable(obj):
            continue
        qual = name + "." + attr
        if qual in spec["skip"]:
            continue
        callables.append((qual, obj))

GRADED = [("W", "X", "y", "reg"), ("params", "Xn", "yn", "reg"), ("params", "Xn"), ("W", "X"),
          # Assignment 3: a layer's forward and backward, an update rule, dropout
          ("x3", "w3", "b3"), ("dout3", "cache_lin"), ("w3", "dw3"), ("x3", "dp"),
          ("w3", "dw3", "cfg_momentum"), ("w3", "dw3", "cfg_rmsprop"), ("w3", "dw3", "cfg_adam")]
BY_NAME = {"W": ["W"], "X": ["X", "Xn"], "y": ["y", "yn"], "reg": ["reg"], "params": ["params"], "net": ["params"],
           "state": ["params"], "W1": ["W1"], "b1": ["b1"], "W2": ["W2"], "b2": ["b2"], "X_batch": ["X", "Xn"],
           "y_batch": ["y", "yn"], "X_train": ["X"], "y_train": ["y"], "X_val": ["Xn"], "y_val": ["yn"],
           "N": ["N"], "D": ["D"], "C": ["C"], "H": ["H"], "num_train": ["N"], "batch_size": ["B"],
           "dtype": ["dtype"], "device": ["device"], "args": ["t0", "t1", "t2", "t3"], "data": ["data"],
           "data_dict": ["data"], "learning_rate": ["lr"], "lr": ["lr"], "input_size": ["D"], "hidden_size": ["H"],
           "output_size": ["C"], "std": ["std"], "num_iters": ["iters"], "seed": ["seed"],
           "x": ["x3"], "w": ["w3"], "b": ["b3"], "dout": ["dout3", "dout_x"], "cache": ["cache_lin", "cache_relu", "cache_drop"],
           "dw": ["dw3"], "dropout_param": ["dp"], "hidden_dims": ["hidden_dims"], "input_dim": ["D"],
           "hidden_dim": ["H"], "num_classes": ["C"], "weight_scale": ["std"],
           "config": ["cfg_momentum", "cfg_rmsprop", "cfg_adam"]}
values = dict(pool)
values.update({"t%d" % i: tuple(pool[k] for k in g) for i, g in enumerate(GRADED)})


def combos(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return [((), {})]
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in params if p.default is p.empty]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())
    out = []
    if not required:
        out.append(((), {}))
    choices = [BY_NAME.get(p.name) for p in required]
    if required and all(choices):
        for pick in itertools.islice(itertools.product(*choices), 12):
            out.append((tuple(values[k] for k in pick), {}))
    for g in GRADED:
        if len(g) == len(required) or (varargs and len(g) >= len(required)) or len(required) <= len(g) <= len(params):
            out.append((tuple(values[k] for k in g), {}))
    if len(required) == 1:
        out += [((values["t%d" % i],), {}) for i in range(len(GRADED))]
    if len(required) == 2:
        out += [((values["t%d" % i], values["t%d" % i]), {}) for i in range(len(GRADED))]
    return out[:40]


def leaves(obj, depth=0):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (bool, int)) or obj is None or isinstance(obj, str):
        return
    elif isinstance(obj, float):
        yield torch.tensor(obj, dtype=torch.float64)
    elif depth < 4 and isinstance(obj, dict):
        for v in list(obj.values())[:200]:
            yield from leaves(v, depth + 1)
    elif depth < 4 and isinstance(obj, (list, tuple)):
        for v in list(obj)[:200]:
            yield from leaves(v, depth + 1)


def matches(result):
    found = []
    for t in leaves(result):
        try:
            t = t.detach().cpu()
        except Exception:
            continue
        for name, answer in answers.items():
            if tuple(t.shape) != tuple(answer.shape) or t.is_floating_point() != answer.is_floating_point():
                continue
            try:
                same = torch.equal(t, answer) if not answer.is_floating_point() else \
                    torch.allclose(t.double(), answer.double(), rtol=1e-5, atol=1e-8)
            except Exception:
                same = False
            if same:
                found.append(name)
    return found


def alarm(*_):
    raise TimeoutError("took too long")


for heavy in ("torchvision", "sklearn.datasets", "matplotlib.pyplot"):  # imported once, not in every fork
    try:
        importlib.import_module(heavy)
    except BaseException:
        pass


signal.signal(signal.SIGALRM, alarm)


def scan(qual, obj, write):
    calls = 0
    targets = [(qual, obj)]
    if inspect.isclass(obj):
        instances = []
        for args, kwargs in combos(obj)[:8]:
            try:
                signal.alarm(1)
                instances.append(obj(*args, **kwargs))
                calls += 1
            except BaseException:
                pass
            finally:
                signal.alarm(0)
            if len(instances) >= 3:
                break
        targets = []
        for attr, member in sorted(vars(obj).items()):
            if attr.startswith("__") and attr != "__call__":
                continue
            if isinstance(member, (staticmethod, classmethod)):
                targets.append((qual + "." + attr, getattr(obj, attr)))
            elif callable(member) or isinstance(member, property):
                for i, instance in enumerate(instances):
                    try:
                        bound = getattr(instance, attr)
                    except BaseException:
                        continue
                    if isinstance(member, property):
                        found = matches(bound)
                        if found:
                            write({"callable": qual + "." + attr, "matches": found})
                        continue
                    targets.append(("%s.%s[%d]" % (qual, attr, i), bound))
    for name, fn in targets:
        for args, kwargs in combos(fn):
            calls += 1
            try:
                signal.alarm(1)
                args = copy.deepcopy(args)  # a call that changes its inputs in place changes no other call's
                result = fn(*args, **kwargs)
            except BaseException:
                continue
            finally:
                signal.alarm(0)
            found = matches(result)
            if found:
                write({"callable": name, "matches": sorted(set(found)), "args": len(args)})
    write({"callable": qual, "calls": calls})


summary = {"callables": len(callables), "calls": 0, "matches": [], "died": [], "slow": []}
groups = {}
for qual, obj in callables:  # one forked process per module; a call that ends it costs only itself
    groups.setdefault(qual.rsplit(".", 1)[0], []).append((qual, obj))
for module, todo in groups.items():
    while todo:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            out = os.fdopen(write_end, "w")
            try:
                for qual, obj in todo:
                    started = time.monotonic()
                    out.write(json.dumps({"start": qual}) + "\n")
                    out.flush()
                    scan(qual, obj, lambda record: (out.write(json.dumps(record) + "\n"), out.flush()))
                    out.write(json.dumps({"done": qual, "seconds": time.monotonic() - started}) + "\n")
                    out.flush()
            finally:
                os._exit(0)
        os.close(write_end)
        import threading
        timer = threading.Timer(60, os.kill, (pid, signal.SIGKILL))  # a call that ignores its alarm
        timer.start()
        with os.fdopen(read_end) as f:
            lines = f.read().splitlines()  # until the process ends (or is killed below)
        os.waitpid(pid, 0)
        timer.cancel()
        finished, current = set(), None
        for line in lines:
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
            elif "done" in record:
                finished.add(record["done"])
                summary["slow"].append((round(record["seconds"], 2), record["done"]))
            elif "matches" in record:
                summary["matches"].append(record)
            else:
                summary["calls"] += record["calls"]
        if current and current not in finished:
            summary["died"].append(current)
            finished.add(current)
        todo = [(q, o) for q, o in todo if q not in finished]
summary["slow"] = sorted(summary.get("slow", []), reverse=True)[:8]
print(json.dumps(summary))
'''


def _scan_inputs():
    from grader.assignments.a2.instructor.reference import load_reference

    ref = load_reference()
    g = torch.Generator().manual_seed(598)
    N, D, C, H, Dn = 17, 9, 7, 6, 5
    W = 0.3 * torch.randn(D, C, generator=g, dtype=torch.float64)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=g)
    params = {"W1": 0.3 * torch.randn(Dn, H, generator=g, dtype=torch.float64),
              "b1": 0.3 * torch.randn(H, generator=g, dtype=torch.float64),
              "W2": 0.3 * torch.randn(H, C, generator=g, dtype=torch.float64),
              "b2": 0.3 * torch.randn(C, generator=g, dtype=torch.float64)}
    Xn = torch.randn(N, Dn, generator=g, dtype=torch.float64)
    yn = torch.randint(C, (N,), generator=g)
    reg = 0.37
    pool = {"W": W, "X": X, "y": y, "reg": reg, "params": params, "Xn": Xn, "yn": yn, **params, "N": N, "D": D,
            "C": C, "H": H, "B": 5, "dtype": torch.float64, "device": "cpu", "lr": 0.1, "std": 0.1, "iters": 3,
            "seed": 0, "data": {"X_train": X, "y_train": y, "X_val": X[:8], "y_val": y[:8]}}
    answers = {}
    for kind in ("svm", "softmax"):
        for how in ("naive", "vectorized"):
            loss, dW = getattr(ref.lc, f"{kind}_loss_{how}")(W.clone(), X.clone(), y.clone(), reg)
            answers[f"{kind}_loss_{how}: loss"], answers[f"{kind}_loss_{how}: dW"] = loss, dW
    answers["predict_linear_classifier"] = ref.lc.predict_linear_classifier(W.clone(), X.clone())
    scores, hidden = ref.tln.nn_forward_pass({k: v.clone() for k, v in params.items()}, Xn.clone())
    answers["nn_forward_pass: scores"], answers["nn_forward_pass: hidden"] = scores, hidden
    loss, grads = ref.tln.nn_forward_backward({k: v.clone() for k, v in params.items()}, Xn.clone(), yn.clone(), reg)
    answers["nn_forward_backward: loss"] = loss
    answers.update({f"nn_forward_backward: grads[{k}]": v for k, v in grads.items()})
    pool3, answers3 = _a3_scan_inputs(g)
    pool.update(pool3)
    answers.update(answers3)
    answers = {k: v.detach().clone() for k, v in answers.items()}
    return {"pool": pool, "answers": answers}


def _a3_scan_inputs(g):
    """Assignment 3's inputs (a layer's x, w, b, dout and the solution's caches, an update rule's
    w and dw, a seeded dropout_param) and the solution's answers on them."""
    import contextlib
    import io

    from grader.assignments.a3.instructor.reference import load_reference

    with contextlib.redirect_stdout(io.StringIO()):
        fcn = load_reference()
    x = torch.randn(4, 3, 2, generator=g, dtype=torch.float64)
    w = 0.3 * torch.randn(6, 5, generator=g, dtype=torch.float64)
    b = 0.3 * torch.randn(5, generator=g, dtype=torch.float64)
    dout = torch.randn(4, 5, generator=g, dtype=torch.float64)
    dw = torch.randn(6, 5, generator=g, dtype=torch.float64)
    dout_x = torch.randn(4, 3, 2, generator=g, dtype=torch.float64)  # a gradient of x's shape
    dp = {"mode": "train", "p": 0.3, "seed": 7}
    c = lambda t: t.clone()  # noqa: E731 (each call gets its own copy)
    out, cache_lin = fcn.Linear.forward(c(x), c(w), c(b))
    dx, dw_, db = fcn.Linear.backward(c(dout), tuple(map(c, cache_lin)))
    relu, cache_relu = fcn.ReLU.forward(c(x))
    drop, cache_drop = fcn.Dropout.forward(c(x), dict(dp))
    answers = {"Linear.forward: out": out, "Linear.backward: dx": dx, "Linear.backward: dw": dw_,
               "Linear.backward: db": db, "ReLU.forward: out": relu,
               "ReLU.backward: dx": fcn.ReLU.backward(c(dout_x), c(cache_relu)),
               "Dropout.forward (train): out": drop,
               "Dropout.backward: dx": fcn.Dropout.backward(c(dout_x), cache_drop)}
    # (with config=None, momentum's first step from a zero velocity is plain SGD's: no answer
    # of its own; the rules are asked with state in config instead)
    state = {"cfg_momentum": ("sgd_momentum", {"learning_rate": 0.05, "velocity": 0.1 * c(dw)}),
             "cfg_rmsprop": ("rmsprop", {"learning_rate": 0.05, "cache": dw * dw + 0.5}),
             "cfg_adam": ("adam", {"learning_rate": 0.05, "m": 0.1 * c(dw), "v": dw * dw + 0.5, "t": 3})}
    for rule in ("rmsprop", "adam"):
        answers[f"{rule}: next_w"] = getattr(fcn, rule)(c(w), c(dw))[0]
    for key, (rule, config) in state.items():
        answers[f"{rule} with state in config: next_w"] = getattr(fcn, rule)(c(w), c(dw), copy.deepcopy(config))[0]
    pool = {"x3": x, "w3": w, "b3": b, "dout3": dout, "dout_x": dout_x, "dw3": dw, "dp": dp, "cache_lin": cache_lin,
            "cache_relu": cache_relu, "cache_drop": cache_drop, "hidden_dims": [5, 4],
            **{key: config for key, (_, config) in state.items()}}
    return pool, answers


DEMO_LEAK = "grader.assignments.a2.instructor.mistakes"  # scanned too: it must be flagged (see test_the_scan_would_catch_a_leak)
DEMO_LEAK_A3 = "a3.fully_connected_networks"  # A3's solution, scanned too: its layers and rules must be flagged


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """What calling every function and class of the handout's modules (all of grader/ but
    grader/instructor/, and helpers/), plus DEMO_LEAK, on graded-function-shaped inputs gave:
    every output compared with the solution's answers on the same inputs (computed here, with
    grader.assignments.a2.instructor.reference.load_reference()). The scan runs in a child that confines itself
    (Landlock: read anything, write its scratch folder; seccomp), one forked process per module."""
    if up.why_no_landlock():
        pytest.skip("the scan confines itself with Landlock: " + up.why_no_landlock())
    folder = tmp_path_factory.mktemp("scan")
    data = folder / "inputs.pt"
    torch.save(_scan_inputs(), data)
    scratch = folder / "scratch"
    scratch.mkdir()
    spec = {"data": str(data), "include": [DEMO_LEAK, DEMO_LEAK_A3], "skip": sorted(SCAN_SKIP), "scratch": str(scratch)}
    done = subprocess.run([sys.executable, "-c", SCAN_CHILD, json.dumps(spec)], cwd=REPO, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_no_function_the_handout_ships_returns_a_graded_answer(scan):
    shipped = [m for m in scan["matches"] if not m["callable"].startswith((DEMO_LEAK + ".", DEMO_LEAK_A3 + "."))]
    print(f"\nscanned {scan['callables']} callables with {scan['calls']} calls; ended early: {scan['died']}; "
          f"slowest {scan['slow']}")
    assert scan["callables"] > 150 and scan["calls"] > 1000
    assert shipped == []


@pytest.mark.slow
def test_the_scan_would_catch_a_leak(scan):
    """grader.assignments.a2.instructor.mistakes, scanned alongside, is flagged: two_layer_variant with its
    defaults is nn_forward_backward (loss and every gradient)."""
    flagged = {m["callable"]: m["matches"] for m in scan["matches"] if m["callable"].startswith(DEMO_LEAK + ".")}
    assert "grader.assignments.a2.instructor.mistakes.two_layer_variant" in flagged, flagged
    assert {"nn_forward_backward: loss", "nn_forward_backward: grads[W1]", "nn_forward_backward: grads[b2]"} <= set(
        flagged["grader.assignments.a2.instructor.mistakes.two_layer_variant"])
    # and A3's: its solution's layers, update rules and dropout, each on its own inputs
    flagged = {}
    for m in scan["matches"]:
        if m["callable"].startswith(DEMO_LEAK_A3 + "."):
            flagged.setdefault(m["callable"].rsplit("[", 1)[0], set()).update(m["matches"])
    expected = {"Linear.forward": {"Linear.forward: out"},
                "Linear.backward": {"Linear.backward: dx", "Linear.backward: dw", "Linear.backward: db"},
                "ReLU.forward": {"ReLU.forward: out"}, "ReLU.backward": {"ReLU.backward: dx"},
                "Dropout.forward": {"Dropout.forward (train): out"}, "Dropout.backward": {"Dropout.backward: dx"},
                "sgd_momentum": {"sgd_momentum with state in config: next_w"},
                "rmsprop": {"rmsprop: next_w", "rmsprop with state in config: next_w"},
                "adam": {"adam: next_w", "adam with state in config: next_w"}}
    for name, answers in expected.items():
        assert answers <= flagged.get(f"{DEMO_LEAK_A3}.{name}", set()), (name, sorted(flagged))


# ------------------------------------------------------------------------------ --device cuda

CONFINED_CHILD = r'''
import json, os, socket, sys
from grader.student_side import confine, zygote
import helpers

device, uid, scratch, folder, sock, secret = sys.argv[1:7]
helpers_dir = os.path.dirname(os.path.realpath(helpers.__file__))
confine.seccomp_available()  # the zygote imports pyseccomp before it forks (grader.protection's report)
state = {"namespaced": False, "mounts": False, "landlock": confine.landlock_abi(), "off": set(),
         "readable": zygote._readable(helpers_dir), "kept": zygote._kept_paths(helpers_dir),
         "tasks": zygote._tasks_of_user()}
spec = {"device": device, "scratch": scratch, "folder": folder, "file_bytes": 1 << 24, "memory_bytes": 0,
        "uid": int(uid), "gid": int(uid)}
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    out = {"applied": zygote._confine(spec, state)}

    def attempt(name, action):
        try:
            action()
            out[name] = True
        except Exception as exc:
            out[name] = "%s %s" % (type(exc).__name__, getattr(exc, "errno", ""))

    def unix():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(sock)
        s.sendall(b"A2ATTACK-UNIX")
        s.close()

    def environ():
        if secret.encode() not in open("/proc/%d/environ" % os.getppid(), "rb").read():
            raise OSError("no secret there")

    attempt("connect to a unix socket outside scratch", unix)
    attempt("write /dev/shm", lambda: open("/dev/shm/a2attack_probe_%d" % os.getpid(), "w").write("x"))
    attempt("read the parent's /proc environ", environ)
    attempt("read another process's /proc cmdline", lambda: open("/proc/1/cmdline", "rb").read())
    os.write(w, json.dumps(out).encode())
    os._exit(0)
os.close(w)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
print(data.decode())
'''

@pytest.mark.slow
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_worker_confinement_for_each_device(world_python, device):
    """The confinement a worker applies to itself (zygote._confine, the same function, with the
    state the zygote computes), as it is without namespaces (Docker) for a worker running as
    nobody, then four things student code must not do. Without a GPU, the CUDA worker's
    confinement is applied on the CPU: only the layers are checked, not CUDA itself."""
    if up.why_no_landlock():
        pytest.skip(up.why_no_landlock())
    base = up.world_tmpdir("a2-device-")
    scratch, folder = base / "scratch", base / "code"
    scratch.mkdir()
    folder.mkdir()
    os.chown(scratch, up.NOBODY, up.NOBODY)
    listeners = open_listeners(base)
    secret = secrets.token_hex(8)
    try:
        done = subprocess.run([world_python, "-c", CONFINED_CHILD, device, str(up.NOBODY), str(scratch), str(folder),
                               listeners.unix_path, secret], cwd=REPO, capture_output=True, text=True, timeout=120,
                              env={**os.environ, SECRET_NAME: secret})
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        heard = listeners.received()
    finally:
        listeners.close()
        for path in Path("/dev/shm").glob(attacks.FILE_PREFIX + "*"):
            path.unlink()
        shutil.rmtree(base, ignore_errors=True)
    applied = result.pop("applied")
    assert applied["landlock"] and applied["seccomp"] and applied["user"] == up.NOBODY, applied
    allowed = [what for what, outcome in result.items() if outcome is True]
    # The CUDA driver reads /proc, so a CUDA worker (where there is no PID namespace to narrow
    # /proc down) can read other processes' command lines, as any user can; not their
    # environment (Landlock keeps /proc entries of processes outside its domain out of reach).
    known = ["read another process's /proc cmdline"] if device == "cuda" else []
    assert allowed == known and heard == [], f"{device} worker could: {allowed}; the listener heard {heard}"
