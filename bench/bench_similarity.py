"""The similarity check (``python -m grader similarity``) on synthetic classes of N = 100 ... 500
submissions, timed in-process (``run_similarity``, everything but the interpreter start),
median of a few runs per N, with the growth from one N to the next. Goal: 500 submissions well
under a minute (grading them takes about 2 minutes on 2 cores).

Each synthetic submission picks, per graded function, one of the hand-written styles of
``tests/test_similarity.py`` or the kit's solution (or leaves the stub), then varies it: a
random half of some equivalent rewrites (``torch.sum(a)`` / ``a.sum()``, ``.t()`` / ``.T``,
``dim=1`` / ``1``, ...) and a few guards with random constants (``if len(str(X)) < 417 * 13 *
-1000: raise ValueError(5)``: they never fire, but could, so they are live code the report
compares; dead statements would be left out). So passages are shared by
anything from one submission to all of them, which is what loads the pair stage. Every 25th
submission copies an earlier one (names changed, functions reordered, comments rewritten).
The kit's solution is given as ``--reference``.

Usage: python bench/bench_similarity.py [ROUNDS] [N ...]
"""
import os
import random
import resource
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from grader.instructor import similarity  # noqa: E402
from grader.instructor.similarity import function_bodies, run_similarity  # noqa: E402
from test_similarity import FILE_OF, LC, TLN, V, disguise, replace_bodies, template, write_entry  # noqa: E402

REWRITES = [
    (r"torch\.sum\(([\w.]+ \* [\w.]+)\)", r"(\1).sum()"),
    (r"torch\.sum\((\w+)\)", r"\1.sum()"),
    (r"\.t\(\)", ".T"),
    (r"dim=(-?\d)\b", r"\1"),
    (r"2 \* reg \* (\w+)", r"reg * 2 * \1"),
    (r"torch\.zeros_like\((\w+)\)", r"\1.new_zeros(\1.shape)"),
    (r"\.double\(\)", ".float()"),
    (r"torch\.exp\((\w+)\)", r"\1.exp()"),
    (r"\bX\.shape\[0\]", "X.size(0)"),
]


def styles():
    """Per function: the hand-written bodies and the solution's."""
    solution = {}
    for name in (LC, TLN):
        found = function_bodies((ROOT / "a2" / name).read_text(), [f for f in FILE_OF if FILE_OF[f] == name])
        solution.update({f: text for f, (text, _) in found.items()})
    return {f: list(V[f].values()) + [solution[f]] for f in FILE_OF}


def noisy(text: str, rng: random.Random) -> str:
    for pattern, replacement in REWRITES:
        if rng.random() < 0.5:
            text = re.sub(pattern, replacement, text)
    lines, out = text.splitlines(keepends=True), []
    for i, line in enumerate(lines):
        previous = out[-1].rstrip() if out else ""
        if (rng.random() < 0.12 and line.strip() and not line.lstrip().startswith(("return", "else", "elif"))
                and not previous.endswith((",", "(", "[", "{", "\\")) and not line.startswith((" ", "\t"))):
            a, b = rng.randint(2, 999), rng.randint(2, 99)
            op = rng.choice("+-*")
            # a guard that never fires but can (it raises): live code, which the report compares
            out.append(f"if len(str({rng.choice(['X', 'y', 'reg', 'None'])})) < {a} {op} {b} * -1000: "
                       f"raise ValueError({i})\n")
        out.append(line)
    return "".join(out)


def make_class(root: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    pool = styles()
    made = []
    for i in range(n):
        if i % 25 == 24 and made:
            files = {name: disguise(text) for name, text in rng.choice(made).items()}
        else:
            files = {}
            for name in (LC, TLN):
                bodies = {}
                for function in (f for f in FILE_OF if FILE_OF[f] == name):
                    if rng.random() < 0.9:
                        bodies[function] = noisy(rng.choice(pool[function]), rng)
                files[name] = replace_bodies(template(name), bodies)
            made.append(files)
        layout = "kit" if i % 3 else "course"
        if layout == "course":
            files[TLN] = files[TLN].replace("from .linear_classifier import", "from linear_classifier import")
        write_entry(root / f"student{i:03d}", files, layout=layout, as_zip=(i % 7 == 3))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the forked readers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(subs: Path, out: Path, rounds: int, **kwargs):
    """(median wall seconds, fastest, median CPU seconds, summary): the machine may be shared,
    so the CPU time and the fastest run say what the work costs when it has the CPUs."""
    times, cpus = [], []
    for r in range(rounds):
        start, cpu = time.perf_counter(), cpu_seconds()
        summary = run_similarity(subs, out / str(r), references=[ROOT / "a2"], **kwargs)
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(times), min(times), statistics.median(cpus), summary


def main(rounds: int = 3, sizes=(100, 200, 300, 400, 500)):
    print(f"run_similarity on synthetic classes, median of {rounds} runs, kit solution as --reference "
          f"(noise {similarity.NOISE}, common above max({similarity.COMMON_MIN}, "
          f"{similarity.COMMON_FRACTION:.0%} of the class)); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    previous = None
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        tmp = Path(tmp)
        for n in sizes:
            subs = tmp / f"class{n}"
            make_class(subs, n)
            median, fastest, cpu, summary = timed(subs, tmp / f"out{n}", rounds)
            pairs = n * (n - 1) // 2
            growth = f"  x{median / previous[1]:.2f} for x{n / previous[0]:.2f} submissions" if previous else ""
            print(f"  N={n:4d} ({pairs:6d} pairs): median {median:6.2f} s (fastest {fastest:6.2f} s, "
                  f"CPU {cpu:6.2f} s), {1e3 * median / n:5.1f} ms/submission{growth}")
            print(f"         {summary.split(': ', 1)[1].split('. Wrote')[0]}")
            previous = (n, median)
        n = sizes[-1]
        serial, fastest, cpu, _ = timed(tmp / f"class{n}", tmp / "serial", rounds, jobs=1)
        print(f"  N={n:4d} read in this process only (jobs=1): median {serial:6.2f} s (fastest {fastest:6.2f} s, "
              f"CPU {cpu:6.2f} s); the default reads in {min(os.cpu_count() or 1, 8)} forked processes")
        print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 3, tuple(args[1:]) or (100, 200, 300, 400, 500))
