"""What every assignment's known mistakes share: running the written-out mistakes of a case's
function on its inputs, and keeping their results apart from their sources.

Instructor side. Each assignment's mistakes (``grader/assignments/<name>/instructor/mistakes.py``)
are ``(label, explanation, variant)`` entries; ``variant(expected, args)`` returns what a
submission with that mistake would return, in float64, from the expected (correct) result and
the case's inputs.
"""
from typing import Callable, Dict, List, Tuple

import torch

Mistake = Tuple[str, str, Callable]


def results(catalogue: Dict[str, List[Mistake]], check: str, expected, args, extra: List[Mistake] = (),
            probes=()) -> list:
    """[(label, explanation, result, probe results)] of every mistake of ``catalogue[check]``
    (and ``extra``) that applies to these inputs. ``probes``: (label, expected, args) of the
    case's probe calls; each mistake's result on them (by label) tells it from another whose
    result on the case's own inputs is the same (one max for the whole matrix and no shift at
    all both overflow there)."""
    out = []
    for label, explanation, variant in list(catalogue.get(check, [])) + list(extra):
        try:
            result = variant(expected, args)
            # consulted only where the result is not finite: kept only then
            on_probes = {name: detached(variant(value, a)) for name, value, a in probes} if _nonfinite(result) else {}
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        out.append((label, explanation, detached(result), on_probes))
    return out


def _nonfinite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.is_floating_point() and not bool(torch.isfinite(value).all())
    if isinstance(value, (tuple, list)):
        return any(_nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    return False


def detached(value):
    """A result's tensors detached and copied (what is stored must not change with its source)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(detached(v) for v in value)
    if isinstance(value, dict):
        return {k: detached(v) for k, v in value.items()}
    return value
