"""Batch grading throughput: 200 submissions (a mix of correct and buggy variants) with
``--jobs 2``, next to a baseline that starts one fresh interpreter per submission
(``python -m grader check SUB --hidden``, two at a time), in the same run.

Also measured: the same sample graded with every confinement layer on and with all of them off
(``--without namespaces,landlock,seccomp``), so that the cost of the layers can be stated; a
leaner baseline (a fresh interpreter per submission that grades it
in-process, with no sandbox at all: one torch import per submission instead of check's two);
the in-process grading time of a submission (every probe and judge called directly, no
sandbox), so that the batch's per-submission overhead can be stated; and the memory of the
zygote and of each worker (unique and proportional set sizes, as forked workers share most
pages with the zygote).

With ``--assignment a3`` the class is Assignment 3's: the course-faithful corpus's styles
(``tests/a3_course_corpus.py``), half of them as written, half with one of its seeded bugs; the
batch and its fresh-interpreter baseline are measured (the leaner baseline and the per-submission
figures are A2's only). ``--assignment a2 a3`` measures both classes in one run, one after the
other, each next to its own baseline.

With ``--cpu`` only the per-submission cost is measured, as CPU time rather than wall time (for
a machine loaded by other work, where wall clocks say little): the grader process's time plus
the zygote's and its reaped workers' (read from ``/proc/<pid>/stat`` before the zygote is
closed), for a batch of SAMPLE submissions minus a batch of one, over SAMPLE - 1; one job, one
thread, hidden cases, every layer on; and, for A2, the process time of in-process grading of
the same submissions (medians of ROUNDS rounds).

Usage: python bench/bench_batch.py [N] [BASELINE_SAMPLE] [--assignment a2 [a3]]
       python bench/bench_batch.py --cpu [SAMPLE] [--assignment a2 | a3]
       python bench/bench_batch.py --in-process SUBMISSION   (one leaner-baseline run)
"""
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from grader.instructor.batch import run_batch  # noqa: E402
from submissions import LC, TLN, make_submission  # noqa: E402

BUGS = [
    [],
    [(LC, "    dW /= num_train\n", "")],
    [(TLN, "dhidden = dscores.mm(W2.t()) * (h1 > 0)", "dhidden = dscores.mm(W2.t())")],
    [(LC, "y_pred = X.mm(W).argmax(dim=1)", "y_pred = X.mm(W).argmax(dim=0)")],
    [(TLN, "grads[\"b2\"] = dscores.sum(dim=0)", "grads[\"b2\"] = dscores.mean(dim=0)")],
]


def make_corpus(root: Path, n: int, assignment: str = "a2"):
    if assignment == "a3":
        return make_a3_corpus(root, n)
    for i in range(n):
        edits = BUGS[0] if i % 2 == 0 else BUGS[1 + (i // 2) % (len(BUGS) - 1)]
        make_submission(root / f"student{i:03d}", edits, layout="kit" if i % 3 else "course")


def make_a3_corpus(root: Path, n: int):
    """Half the class correct (the corpus's styles in turn), half with one of its seeded bugs
    (the mutants in turn, each on one of the styles it is written for)."""
    import shutil

    from a3_course_corpus import MUTANTS, STYLE_LIST, course_submission

    styles = [s.name for s in STYLE_LIST]
    for i in range(n):
        if i % 2 == 0:
            style, edits = styles[(i // 2) % len(styles)], ()
        else:
            mutant = MUTANTS[(i // 2) % len(MUTANTS)]
            style, edits = next(iter(mutant.edits.items()))
        folder = course_submission(root / f"tmp{i:03d}", style, edits)
        shutil.move(str(folder), str(root / f"student{i:03d}"))
        (root / f"tmp{i:03d}").rmdir()


def batch_and_baseline(tmp: Path, n: int, sample: int, assignment: str):
    """The class graded by ``run_batch`` (two jobs, hidden cases) and a sample of it by a fresh
    ``python -m grader check --hidden`` per submission, two at a time: (batch s, baseline s)."""
    import shutil

    quiet = open(os.devnull, "w")
    subs = tmp / f"subs-{assignment}"
    make_corpus(subs, n, assignment)
    picked = sorted(subs.iterdir())[:sample]
    start = time.perf_counter()
    summary = run_batch(subs, tmp / f"out-{assignment}", jobs=2, hidden=True, progress_stream=quiet,
                        assignment=assignment)
    batch_wall = time.perf_counter() - start
    assert summary["total"] == n and summary["errors"] == 0, summary
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda p: subprocess.run(
            [sys.executable, "-m", "grader", "check", str(p), "--hidden", "--assignment", assignment], cwd=ROOT,
            env=env, capture_output=True).returncode, picked))
    baseline_wall = time.perf_counter() - start
    assert all(c in (0, 1) for c in codes), codes
    shutil.rmtree(subs)
    return batch_wall, baseline_wall


def side_by_side(assignments, n: int = 200, sample: int = 12):
    """Each assignment's batch and baseline, in one run (one after the other)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in assignments:
            load = os.getloadavg()
            batch_wall, baseline_wall = batch_and_baseline(Path(tmp), n, sample, assignment)
            rows.append((assignment, batch_wall, baseline_wall, load))
    for assignment, batch_wall, baseline_wall, load in rows:
        batch_rate, baseline_rate = n / batch_wall, sample / baseline_wall
        print(f"{assignment}: batch of {n} (half correct, half with one seeded bug), hidden cases, --jobs 2: "
              f"{batch_wall:6.1f} s  {batch_rate:5.2f} submissions/s; fresh `check --hidden` per submission "
              f"(sample of {sample}, 2 at a time): {baseline_wall:6.1f} s  {baseline_rate:5.2f} submissions/s; "
              f"ratio {batch_rate / baseline_rate:.1f}x (load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")


def in_process_seconds(submission: Path) -> float:
    """Grade every case with the probes called in this process: the work itself."""
    import importlib
    import sys as _sys

    import pickle

    from grader.cases import FROM_OTHER_CASES, select
    from grader.catalogue import all_cases
    from grader.fixtures import load
    from grader.runner import case_inputs, content_salt
    from grader.sandbox import Reply
    from grader.assignments.a2.student_side.probes import PROBES, Context
    from grader.student_side.serve import load_student
    from grader.submission import prepare

    # (the device rule's cases run nothing: they are judged from the other cases' replies)
    cases = [c for c in select(all_cases(), None, True) if c.probe and c.probe not in FROM_OTHER_CASES]
    prepared = prepare(submission)
    salt = content_salt(prepared.code_dir)
    inputs = {c.id: case_inputs(c, load(), salt) for c in cases}
    start = time.perf_counter()
    for name in ("a2", "a2.linear_classifier", "a2.two_layer_net", "linear_classifier"):
        _sys.modules.pop(name, None)
    modules, errors, files, _ = load_student(prepared.code_dir)
    ctx = Context(modules, errors, files, "cpu")
    for case in cases:
        got = inputs[case.id]
        data = PROBES[case.probe](ctx, pickle.loads(got.blob))  # as a worker gets it
        verdict = case.judge(case, got.payload, Reply(data=data), got.answer, "cpu")
        if not verdict.passed and data.get("probes_later"):
            # a failing case's probe inputs, asked for as the batch asks for them (at its end)
            data["probes"] = PROBES["call_probes"](ctx, pickle.loads(got.blob))["probes"]
            del data["probes_later"]
            case.judge(case, got.payload, Reply(data=data), got.answer, "cpu")
    seconds = time.perf_counter() - start
    _sys.path.remove(str(prepared.code_dir))
    prepared.cleanup()
    importlib.invalidate_caches()
    return seconds


class MemorySampler(threading.Thread):
    """Largest unique (USS) and proportional (PSS) memory seen per process under the grader:
    the zygote and the workers below it. As root the zygote is a grandchild (the PID-namespace
    relay sits between); otherwise a child."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.stop = {}, threading.Event()

    def run(self):
        from grader.student_side.procs import children_map

        me = os.getpid()
        while not self.stop.is_set():
            children = children_map()
            depth = {}
            todo = [(me, 0)]
            while todo:
                pid, level = todo.pop()
                for child in children.get(pid, []):
                    depth[child] = level + 1
                    todo.append((child, level + 1))
            zygote_level = 2 if os.geteuid() == 0 else 1
            for pid, level in depth.items():
                if level < zygote_level:
                    continue  # the relay
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        fields = {l.split(":")[0]: int(l.split()[1]) for l in f if l.endswith("kB\n")}
                except (OSError, ValueError, IndexError):
                    continue
                uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
                zygote = level == zygote_level
                old = self.peak.get(pid, (zygote, 0, 0))
                self.peak[pid] = (zygote, max(old[1], uss), max(old[2], fields.get("Pss", 0)))
            time.sleep(0.2)  # sparse sampling: reading smaps costs the grader time


class EntryTimer:
    """Wall time of each submission's grading inside a batch (``grade_entry``: unpack, fork,
    load, every case, judging, feedback), by id; the batch's fixed costs (starting the
    zygote, computing the inputs once, the final report) are not per submission."""

    def __init__(self):
        import grader.instructor.batch

        self.module, self.original, self.walls = grader.instructor.batch, grader.instructor.batch.grade_entry, {}

    def __enter__(self):
        def timed(entry, *args, **kwargs):
            start = time.perf_counter()
            try:
                return self.original(entry, *args, **kwargs)
            finally:
                self.walls[entry.id] = time.perf_counter() - start

        self.module.grade_entry = timed
        return self.walls

    def __exit__(self, *exc):
        self.module.grade_entry = self.original


ROUNDS = 3  # of the per-submission comparison


class ZygoteCpu:
    """CPU seconds (user + system) of every zygote closed while it is entered, its reaped
    workers' included: read from /proc just before each zygote is killed."""

    def __enter__(self):
        from grader import sandbox
        from grader.student_side.procs import children_map, descendants

        self.sandbox, self.original, self.seconds = sandbox, sandbox.Zygote.close, 0.0
        tick, me = os.sysconf("SC_CLK_TCK"), self

        def close(zygote):
            for pid in [zygote.process.pid] + list(descendants(zygote.process.pid, children_map())):
                try:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                    me.seconds += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
                except (OSError, IndexError, ValueError):
                    pass
            return me.original(zygote)

        sandbox.Zygote.close = close
        return self

    def __exit__(self, *exc):
        self.sandbox.Zygote.close = self.original


def cpu_per_submission(sample: int = 12, assignment: str = "a2"):
    """The per-submission cost as CPU time (see the module's docstring)."""
    import resource
    import shutil
    import types

    import torch

    from grader.sandbox import Limits

    torch.set_num_threads(1)
    quiet = open(os.devnull, "w")
    load = open("/proc/loadavg").read().split()[:3]

    def batch_cpu(folder: Path, out: Path) -> float:
        with ZygoteCpu() as zygotes:
            own = resource.getrusage(resource.RUSAGE_SELF)
            run_batch(folder, out, jobs=1, hidden=True, limits=Limits(threads=1), progress_stream=quiet,
                      assignment=assignment)
            after = resource.getrusage(resource.RUSAGE_SELF)
        return after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime + zygotes.seconds

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_corpus(tmp / "subs", sample, assignment)
        shutil.copytree(sorted((tmp / "subs").iterdir())[0], tmp / "one" / "student000")
        per, in_process = [], {}
        for round_ in range(ROUNDS):
            one = batch_cpu(tmp / "one", tmp / f"out-one-{round_}")
            many = batch_cpu(tmp / "subs", tmp / f"out-{round_}")
            per.append((many - one) / (sample - 1))
            if assignment == "a2":
                global time
                clock, time = time, types.SimpleNamespace(perf_counter=time.process_time)
                try:
                    for p in sorted((tmp / "subs").iterdir()):
                        in_process.setdefault(p.name, []).append(in_process_seconds(p))
                finally:
                    time = clock
    batch = statistics.median(per)
    print(f"{assignment}: CPU per submission in a batch (one job, one thread, every layer on): {batch * 1e3:.0f} ms "
          f"(rounds: {', '.join(f'{x * 1e3:.0f}' for x in per)}); load average {' '.join(load)} at the start, "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])} at the end")
    if in_process:
        work = statistics.median(statistics.median(v) for v in in_process.values())
        print(f"  in-process grading {work * 1e3:.0f} ms of CPU; overhead {(batch - work) * 1e3:.0f} ms")


def main(n: int = 200, sample: int = 12):
    import shutil

    from grader.sandbox import Limits

    quiet = open(os.devnull, "w")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_corpus(tmp / "subs", n)
        picked = sorted((tmp / "subs").iterdir())[:sample]
        for p in picked:
            shutil.copytree(p, tmp / "sample" / p.name)

        sampler = MemorySampler()
        sampler.start()
        start = time.perf_counter()
        with EntryTimer() as walls_two:
            summary = run_batch(tmp / "subs", tmp / "out", jobs=2, hidden=True, progress_stream=quiet)
        batch_wall = time.perf_counter() - start
        sampler.stop.set()
        assert summary["total"] == n and summary["errors"] == 0, summary

        start = time.perf_counter()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one core each, as the batch gives its two jobs
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(lambda p: subprocess.run(
                [sys.executable, "-m", "grader", "check", str(p), "--hidden"], cwd=ROOT, env=env,
                capture_output=True).returncode, picked))
        baseline_wall = time.perf_counter() - start
        assert all(c in (0, 1) for c in codes), codes

        # A leaner baseline: a fresh interpreter that imports torch and grades in-process, with
        # no sandbox at all (what a one-off script would do; unsafe with student code).
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(lambda p: subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--in-process", str(p)], cwd=ROOT, env=env,
                capture_output=True).returncode, picked))
        bare_wall = time.perf_counter() - start
        assert codes == [0] * len(picked), codes

        # Per-submission overhead on equal terms: one job with one thread, as in-process grading;
        # with every confinement layer, and with none (a fresh zygote reads the switch). The three
        # contenders alternate round by round; each submission's figure is its median.
        import torch

        torch.set_num_threads(1)
        walls_one, walls_bare, in_process = {}, {}, {}
        for round_ in range(ROUNDS):
            with EntryTimer() as walls:
                run_batch(tmp / "sample", tmp / f"out1-{round_}", jobs=1, hidden=True, limits=Limits(threads=1),
                          progress_stream=quiet)
            for key, value in walls.items():
                walls_one.setdefault(key, []).append(value)
            os.environ["A2_SANDBOX_WITHOUT"] = "namespaces,landlock,seccomp"
            try:
                with EntryTimer() as walls:
                    run_batch(tmp / "sample", tmp / f"out0-{round_}", jobs=1, hidden=True,
                              limits=Limits(threads=1), progress_stream=quiet)
            finally:
                del os.environ["A2_SANDBOX_WITHOUT"]
            for key, value in walls.items():
                walls_bare.setdefault(key, []).append(value)
            for p in picked:
                in_process.setdefault(p.name, []).append(in_process_seconds(p))
        walls_one = {k: statistics.median(v) for k, v in walls_one.items()}
        walls_bare = {k: statistics.median(v) for k, v in walls_bare.items()}
        in_process = {k: statistics.median(v) for k, v in in_process.items()}

    ids = [p.name for p in picked]
    batch_rate, baseline_rate = n / batch_wall, sample / baseline_wall
    work = statistics.median(in_process.values())
    one = statistics.median(walls_one[i] for i in ids)
    gap_one = statistics.median(walls_one[i] - in_process[i] for i in ids)
    two = statistics.median(walls_two[i] for i in ids)
    gap_two = statistics.median(walls_two[i] - in_process[i] for i in ids)
    layers = statistics.median(walls_one[i] - walls_bare[i] for i in ids)
    workers = [v for v in sampler.peak.values() if not v[0]]
    zygotes = [v for v in sampler.peak.values() if v[0]]
    print(f"Batch grading, {n} submissions (half correct, half with one of {len(BUGS) - 1} bugs), hidden cases, 2 cores")
    print(f"  batch --jobs 2:                 {batch_wall:7.1f} s  {batch_rate:6.2f} submissions/s")
    print(f"  baseline, fresh interpreter each (sample of {sample}, 2 at a time): "
          f"{baseline_wall:6.1f} s  {baseline_rate:6.2f} submissions/s")
    print(f"  throughput ratio batch / baseline: {batch_rate / baseline_rate:.1f}x")
    bare_rate = sample / bare_wall
    print(f"  leaner baseline, fresh interpreter grading in-process without a sandbox: {bare_wall:6.1f} s  "
          f"{bare_rate:6.2f} submissions/s; ratio {batch_rate / bare_rate:.1f}x")
    print(f"  per submission (medians over the {sample}, each the median of {ROUNDS} rounds): in-process grading {work * 1e3:.0f} ms (one thread); "
          f"in a batch with one job {one * 1e3:.0f} ms, overhead {gap_one * 1e3:.0f} ms; "
          f"with two jobs sharing the cores {two * 1e3:.0f} ms, overhead {gap_two * 1e3:.0f} ms")
    print(f"  confinement layers (namespaces, Landlock, seccomp) per submission, one job: "
          f"{layers * 1e3:.0f} ms (all on minus all off, paired median)")
    if workers:
        print(f"  memory: zygote USS {max(z[1] for z in zygotes) / 1024:.0f} MiB; per worker USS "
              f"median {statistics.median(w[1] for w in workers) / 1024:.0f} MiB, max {max(w[1] for w in workers) / 1024:.0f} MiB; "
              f"PSS max {max(w[2] for w in workers) / 1024:.0f} MiB ({len(workers)} workers seen)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cpu"]:
        args = sys.argv[2:]
        unit = args[args.index("--assignment") + 1] if "--assignment" in args else "a2"
        if unit not in ("a2", "a3"):
            sys.exit(f"--assignment takes a2 or a3 (got {unit})")
        numbers = [int(a) for a in args if a.isdigit()]
        cpu_per_submission(*(numbers[:1] or [12]), assignment=unit)
    elif sys.argv[1:2] == ["--in-process"]:
        import torch

        torch.set_num_threads(1)
        in_process_seconds(Path(sys.argv[2]))
    else:
        args = sys.argv[1:]
        picked = ["a2"]
        if "--assignment" in args:
            at = args.index("--assignment")
            picked = [a for a in args[at + 1:] if not a.isdigit()]
            args = args[:at] + args[at + 1 + len(picked):]
            unknown = sorted(set(picked) - {"a2", "a3"})
            if not picked or unknown:
                sys.exit(f"--assignment takes a2 and/or a3 (got {' '.join(picked) or 'nothing'})")
        if picked == ["a2"]:
            main(*(int(a) for a in args))
        else:
            side_by_side(picked, *(int(a) for a in args))
