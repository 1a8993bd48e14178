"""`python -m grader check --assignment NAME` on the repository's solution, end to end
(interpreter start included), public and with ``--hidden``, next to a bare
`python -c "import torch"` in the same run. Goal: the public check under 10 s.

Usage: python bench/bench_check.py [--assignment a2 [a3]] [--rounds N]
(default: a2; with several assignments every command alternates with the others, round by round)."""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(assignments):
    out = {'python -c "import torch"': [sys.executable, "-c", "import torch"]}
    for name in assignments:
        check = [sys.executable, "-m", "grader", "check", "--assignment", name]
        out[f"python -m grader check --assignment {name}"] = check
        out[f"python -m grader check --assignment {name} --hidden"] = check + ["--hidden"]
    return out


def main(assignments=("a2",), rounds: int = 5):
    todo = commands(assignments)
    samples = {name: [] for name in todo}
    loads = [os.getloadavg()]
    for _ in range(rounds):
        for name, command in todo.items():
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True)
            samples[name].append(time.perf_counter() - start)
            if done.returncode not in (0,):  # timed, but said: the solution must keep every point
                lost = [l for l in done.stdout.decode().splitlines() if l.startswith("- [FAIL")]
                print(f"{name} exited {done.returncode}: " + " | ".join(lost[:3])[:600])
        loads.append(os.getloadavg())
    base = statistics.median(samples['python -c "import torch"'])
    print(f"End to end, median of {rounds} runs each, alternating "
          f"(1-minute load average {min(l[0] for l in loads):.2f} to {max(l[0] for l in loads):.2f})")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<52} {median:6.2f} s   ({median / base:4.2f}x the bare import; "
              f"{min(values):.2f} to {max(values):.2f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", nargs="+", choices=["a2", "a3"], default=["a2"])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.assignment, args.rounds)
