"""Where a wrong result goes wrong, when no known mistake explains it: what every assignment
shares (a float64 result right only to float32's precision). What an assignment can place
beyond that, from further calls on probe inputs that separate the terms of its results, it
hands to ``judges.judge_values`` as ``place`` (A2's loss terms:
``grader/assignments/a2/catalogue/localise.py``). Nothing here computes an answer: it only
compares the student's results with the answer's.
"""
from typing import Dict, List, Optional

import torch


def as_tensor(desc) -> Optional[torch.Tensor]:
    """A leaf of a reply's description (a number or a tensor) as a float64 tensor; None for anything else."""
    if not isinstance(desc, dict):
        return None
    if desc.get("kind") == "number" and isinstance(desc.get("value"), (int, float)):
        return torch.tensor(float(desc["value"]), dtype=torch.float64)
    if desc.get("kind") == "tensor" and isinstance(desc.get("value"), torch.Tensor):
        return desc["value"].detach().to(torch.float64)
    return None


def float32_precision(paths: List[str], got: Dict[str, dict], expected: Dict[str, torch.Tensor],
                      device_type: str) -> List[str]:
    """Outputs right only to float32's precision: a float32 accumulator in a float64 result."""
    lines = []
    for path in paths:
        mine, right = as_tensor(got.get(path)), expected.get(path)
        if mine is None or right is None or not right.is_floating_point() or mine.numel() != right.numel():
            continue
        mine, right = mine.reshape(right.shape), right.to(torch.float64)
        if not torch.isfinite(mine).all() or not torch.isfinite(right).all():
            continue
        scale = max(1.0, float(right.abs().max())) if right.numel() else 1.0
        # float32 rounding, summed over a few dozen steps: about 1e-6 relative, never more than 1e-5
        if bool(((mine - right).abs() <= 1e-5 * right.abs() + 1e-6 * scale).all()):
            lines.append(f"Where it goes wrong ({path}): its values are right only to float32's precision (about 7 "
                         "digits): something in it was kept in float32, such as an accumulator made with "
                         "torch.zeros(...) or torch.tensor(0.) without dtype=; make it with the inputs' dtype "
                         "(dtype=X.dtype, or start from 0.0).")
    return lines
