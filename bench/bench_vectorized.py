"""Naive (loops) vs vectorized loss + gradient at N 500, D 3073, C 10, float32, CPU.
Goal: vectorized at least 50x faster, for the SVM and for softmax."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from a2 import linear_classifier as lc  # noqa: E402
from common import alternate  # noqa: E402


def main():
    g = torch.Generator().manual_seed(0)
    W = 1e-4 * torch.randn(3073, 10, generator=g)
    X = torch.randn(500, 3073, generator=g)
    y = torch.randint(10, (500,), generator=g)
    print("Loss + gradient, N 500, D 3073, C 10, float32, CPU")
    for kind in ("svm", "softmax"):
        naive = getattr(lc, f"{kind}_loss_naive")
        vectorized = getattr(lc, f"{kind}_loss_vectorized")
        medians = alternate({"naive": lambda: naive(W, X, y, 5e-6), "vectorized": lambda: vectorized(W, X, y, 5e-6)},
                            rounds=9, inner={"naive": 1, "vectorized": 20}, warmup=1)
        print(f"  {kind:8} naive {medians['naive'] * 1e3:9.2f} ms   vectorized {medians['vectorized'] * 1e3:7.3f} ms"
              f"   speed-up {medians['naive'] / medians['vectorized']:7.1f}x")


if __name__ == "__main__":
    main()
