"""`python -m grader check` on the solution, end to end (interpreter start included), next to
a bare `python -c "import torch"` in the same run. Goal: the public check under 10 s."""
import subprocess
import sys
import time
from pathlib import Path
import statistics

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    'python -c "import torch"': [sys.executable, "-c", "import torch"],
    "python -m grader check": [sys.executable, "-m", "grader", "check"],
    "python -m grader check --hidden": [sys.executable, "-m", "grader", "check", "--hidden"],
}


def main(rounds: int = 5):
    samples = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True)
            samples[name].append(time.perf_counter() - start)
            if done.returncode not in (0,):
                sys.exit(f"{name} exited {done.returncode}:\n{done.stdout.decode()[-2000:]}")
    base = statistics.median(samples['python -c "import torch"'])
    print(f"End to end, median of {rounds} runs each, alternating")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<36} {median:6.2f} s   ({median / base:4.2f}x the bare import)")


if __name__ == "__main__":
    main()
