"""Timing helpers for the benchmarks: alternate the contenders round by round (so load on a
shared machine hits both alike) and report medians and their ratio."""
import statistics
import time


def alternate(contenders, rounds=15, inner=1, warmup=2):
    """{name: median seconds per call} for zero-argument callables, run turn by turn.

    ``inner`` (a number, or a dict by name) is how many calls make one timed sample."""
    inner = inner if isinstance(inner, dict) else {name: inner for name in contenders}
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(inner[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / inner[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title, medians, baseline, subject):
    print(title)
    for name, seconds in medians.items():
        print(f"  {name:<40} median {seconds * 1e3:9.3f} ms")
    print(f"  ratio {subject} / {baseline}: {medians[subject] / medians[baseline]:.3f}")
