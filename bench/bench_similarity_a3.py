"""The similarity check on synthetic Assignment 3 classes (``python -m grader similarity SUBS
--assignment a3``), compared method by method, timed in-process (``run_similarity``), median of
a few runs per N.

Each synthetic submission is the course's template of one term (Fall 2020 or Winter 2022) with
every TODO region filled by a body drawn at random from the course-faithful corpus
(``tests/a3_course_corpus.py``: 2 to 9 ways per region, the paired regions drawn together), then
varied as ``bench/bench_similarity.py`` varies A2's (a random half of some equivalent rewrites,
a few guards with random constants that never fire): passages are shared by anything from one
submission to most of them. Every 25th submission copies an earlier one (variables renamed,
comments rewritten). The kit's solution is given as
``--reference``.

Usage: python bench/bench_similarity_a3.py [ROUNDS] [N ...]
"""
import ast
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import a3_course_corpus as corpus  # noqa: E402
from grader.instructor import similarity  # noqa: E402
from grader.instructor.similarity import run_similarity  # noqa: E402
from bench_similarity import cpu_seconds, noisy  # noqa: E402
from test_similarity_a3 import disguise  # noqa: E402

FILE = corpus.FILE


def random_style(rng: random.Random, k: int) -> corpus.Style:
    choices = {}
    for key in corpus._s():
        region = corpus.PAIRS.get(key, (key,))[0]
        choices[key] = rng.choice(sorted(corpus.REGIONS[region]))
    return corpus._style(f"random{k}", rng.choice(("f20", "w22")), "drawn at random", choices)


def varied(body: str, rng: random.Random) -> str:
    """``body`` varied as A2's bench varies its bodies (unchanged where that would not parse)."""
    text = noisy(body, rng)
    try:
        ast.parse(text)
    except SyntaxError:
        return body
    return text


def make_class(root: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    made = []
    for i in range(n):
        if i % 25 == 24 and made:
            text = disguise(rng.choice(made))
        else:
            real = corpus._body
            corpus._body = lambda region, variant: varied(real(region, variant), rng)
            try:
                text = corpus.render_file(random_style(rng, i))
            finally:
                corpus._body = real
            made.append(text)
        folder = root / f"student{i:03d}"
        folder.mkdir(parents=True)
        (folder / FILE).write_text(text)


def timed(subs: Path, out: Path, rounds: int):
    """(median wall seconds, fastest, median CPU seconds, summary)."""
    times, cpus = [], []
    for r in range(rounds):
        start, cpu = time.perf_counter(), cpu_seconds()
        summary = run_similarity(subs, out / str(r), references=[ROOT / "a3"], assignment="a3")
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(times), min(times), statistics.median(cpus), summary


def main(rounds: int = 3, sizes=(100, 200)):
    print(f"run_similarity --assignment a3 on synthetic classes, median of {rounds} runs, kit solution as "
          f"--reference (noise {similarity.NOISE}); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench-similarity-a3-") as tmp:
        tmp = Path(tmp)
        for n in sizes:
            subs = tmp / f"class{n}"
            make_class(subs, n)
            median, fastest, cpu, summary = timed(subs, tmp / f"out{n}", rounds)
            print(f"  N={n:4d} ({n * (n - 1) // 2:6d} pairs): median {median:6.2f} s (fastest {fastest:6.2f} s, "
                  f"CPU {cpu:6.2f} s), "
                  f"{1e3 * median / n:5.1f} ms/submission")
            print(f"         {summary.split(': ', 1)[1].split('. Wrote')[0]}")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 3, tuple(args[1:]) or (100, 200))
