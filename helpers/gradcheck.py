"""Numeric gradients by centred differences, and the relative error used to compare them."""
import random
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch


def compute_numeric_gradient(f: Callable, x: torch.Tensor, dLdf: Optional[torch.Tensor] = None,
                             h: float = 1e-7) -> torch.Tensor:
    """Numeric gradient of ``L = sum(dLdf * f(x))`` with respect to ``x``.

    ``f`` reads ``x`` (usually through a closure); each element of ``x`` is nudged by +-h in
    place and restored afterwards, even if ``f`` raises. Use float64 for meaningful results.
    """
    if not x.is_contiguous():
        raise ValueError("compute_numeric_gradient needs a contiguous x: pass x.contiguous()")
    flat_x = x.view(-1)
    grad = torch.zeros_like(x)
    flat_grad = grad.view(-1)
    y = f(x)
    if dLdf is None:
        dLdf = torch.ones_like(y) if torch.is_tensor(y) else torch.tensor(1.0, dtype=x.dtype)
    dLdf = torch.as_tensor(dLdf, dtype=x.dtype, device=x.device).reshape(-1)
    for i in range(flat_x.numel()):
        orig = flat_x[i].item()
        try:
            flat_x[i] = orig + h
            yph = torch.as_tensor(f(x)).clone()
            flat_x[i] = orig - h
            ymh = torch.as_tensor(f(x)).clone()
        finally:
            flat_x[i] = orig
        dydx = (yph - ymh).reshape(-1).to(dLdf) / (2 * h)
        flat_grad[i] = dLdf.dot(dydx).item()
    return grad


@dataclass(frozen=True)
class SparseCheck:
    """One coordinate of a sparse gradient check."""

    index: Tuple[int, ...]
    numeric: float
    analytic: float
    rel_error: float

    def __str__(self):
        return (f"numerical: {self.numeric:f} analytic: {self.analytic:f}, "
                f"relative error: {self.rel_error:e}")


def grad_check_sparse(f: Callable, x: torch.Tensor, analytic_grad: torch.Tensor,
                      num_checks: int = 10, h: float = 1e-7, verbose: bool = True,
                      seed: int = 0) -> List[SparseCheck]:
    """Compare ``analytic_grad`` with centred differences of scalar ``f`` at random entries.

    Entries are drawn from ``random.Random(seed)`` (the global generators are left alone).
    Prints one line per entry when ``verbose`` (as the course notebooks expect) and returns
    the checks, so that code can assert on ``max(c.rel_error for c in checks)``.
    """
    rng = random.Random(seed)
    checks = []
    for _ in range(num_checks):
        ix = tuple(rng.randrange(m) for m in x.shape)
        oldval = x[ix].item()
        try:
            x[ix] = oldval + h
            fxph = float(f(x))
            x[ix] = oldval - h
            fxmh = float(f(x))
        finally:
            x[ix] = oldval
        numeric = (fxph - fxmh) / (2 * h)
        analytic = float(analytic_grad[ix])
        err = abs(numeric - analytic) / (abs(numeric) + abs(analytic) + 1e-12)
        checks.append(SparseCheck(ix, numeric, analytic, err))
        if verbose:
            print(checks[-1])
    return checks


def rel_error(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-10) -> float:
    """``max|x - y| / max(|x| + |y|)``, the denominator clamped below by ``eps``."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    top = (x - y).abs().max().item()
    bot = (x.abs() + y.abs()).clamp(min=eps).max().item()
    return top / bot
