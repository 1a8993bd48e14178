"""Verdicts on student values, in the manner of ``torch.testing.assert_close``.

Attributes come first (type, shape, dtype, device), values after, and every message names the
place (``grads['W1']``), how many elements differ, the greatest absolute and relative
differences with their index, and what was allowed.
"""
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import torch

from .student_side.wire import type_name
from .tolerance import tolerance_for


@dataclass(frozen=True)
class Problem:
    path: str
    kind: str  # type | length | keys | shape | dtype | device | values | nonfinite, or dtype_note (not a failure)
    message: str


def _index(flat_index: int, shape) -> tuple:
    index = []
    for size in reversed(shape):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def _fmt(index: tuple) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")" if len(index) != 1 else f"({index[0]},)"


def close_values(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float,
                 path: str) -> Optional[Problem]:
    """Element-wise closeness of two same-shape tensors; ``expected`` is the reference."""
    if not expected.is_floating_point():
        if torch.equal(actual, expected.to(actual.dtype)):
            return None
        wrong = (actual != expected.to(actual.dtype)).flatten()
        first = _index(int(wrong.nonzero()[0]), actual.shape) if actual.dim() else ()
        where = f"first at index {_fmt(first)}: got {actual[first].item()}, expected {expected[first].item()}" if first else \
            f"got {actual.item()}, expected {expected.item()}"
        return Problem(path, "values", f"{path}: {int(wrong.sum())} / {wrong.numel()} values differ ({where}); "
                                       "these must match exactly")
    a = actual.to(torch.float64)
    e = expected.to(torch.float64)
    finite_e = torch.isfinite(e)
    bad = ~torch.isfinite(a) & finite_e
    if bad.any():
        first = _index(int(bad.flatten().nonzero()[0]), a.shape) if a.dim() else ()
        where = f" (first at index {_fmt(first)})" if first else ""
        return Problem(path, "nonfinite", f"{path}: {int(bad.sum())} of {a.numel()} values are inf or nan where "
                                          f"the reference is finite{where}")
    scale = max(1.0, float(e[finite_e].abs().max())) if finite_e.any() else 1.0
    allowed = atol * scale + rtol * e.abs()
    diff = (a - e).abs()
    mismatch = diff > allowed
    if not mismatch.any():
        return None
    rel = diff / e.abs().clamp(min=1e-300)
    i_abs = int(diff.flatten().argmax())
    i_rel = int(torch.where(mismatch, rel, torch.zeros_like(rel)).flatten().argmax())
    n, total = int(mismatch.sum()), mismatch.numel()
    at = (lambda i: f" at index {_fmt(_index(i, a.shape))}") if a.dim() else (lambda i: "")
    lines = [
        f"{path}: values are not close.",
        f"Mismatched elements: {n} / {total} ({100.0 * n / total:.1f}%)",
        f"Greatest absolute difference: {diff.flatten()[i_abs].item():.6g}{at(i_abs)} "
        f"(up to {atol * scale:.3g} allowed)",
        f"Greatest relative difference: {rel.flatten()[i_rel].item():.6g}{at(i_rel)} (up to {rtol:g} allowed)",
    ]
    if a.numel() == 1:
        lines.insert(1, f"Got {a.item():.10g}, expected {e.item():.10g}")
    return Problem(path, "values", "\n".join(lines))


def compare(desc: Any, expected: Any, path: str, *, dtype: torch.dtype, device_type: str,
            names: Optional[Sequence[str]] = None, strict_dtype: bool = True, wider_dtype: bool = False) -> List[Problem]:
    """Problems of the student's value ``desc`` (a :mod:`grader.student_side.wire` description)
    against ``expected`` (tensors, numbers, tuples and dicts of them). ``dtype`` is the dtype
    floating results must have (the inputs'); ``names`` label the items of a tuple. Without
    ``strict_dtype``, a floating result of another dtype is judged on its values (at the looser
    dtype's tolerance) and its dtype is only a ``dtype_note``. With ``wider_dtype``, so is a
    floating result of a more precise dtype than the inputs' (``loss.double()`` of a float32
    net), judged at the inputs' dtype's tolerance; a less precise one stays a problem (float32
    results for float64 inputs are right only to float32's precision)."""
    opts = {"dtype": dtype, "device_type": device_type, "strict_dtype": strict_dtype, "wider_dtype": wider_dtype}
    if isinstance(expected, tuple):
        if desc.get("kind") != "seq":
            return [Problem(path, "type", f"{path}: expected a tuple of {len(expected)} values, got {type_name(desc)}")]
        if desc["length"] != len(expected):
            return [Problem(path, "length", f"{path}: expected a tuple of {len(expected)} values, got {desc['length']}")]
        problems = []
        for i, (item, exp) in enumerate(zip(desc["items"], expected)):
            label = names[i] if names and i < len(names) else f"{path}[{i}]"
            problems += compare(item, exp, label, **opts)
        return problems
    if isinstance(expected, dict):
        if desc.get("kind") != "map":
            return [Problem(path, "type", f"{path}: expected a dict with keys {sorted(expected)}, got {type_name(desc)}")]
        missing = sorted(set(expected) - set(desc["items"]))
        extra = sorted(set(desc["items"]) - set(expected))
        if missing or extra:
            parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
            return [Problem(path, "keys", f"{path}: keys differ: {', '.join(parts)}")]
        problems = []
        for key in expected:
            problems += compare(desc["items"][key], expected[key], f"{path}['{key}']", **opts)
        return problems
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        expected = torch.tensor(expected, dtype=torch.float64)
    if isinstance(expected, torch.Tensor):
        return _compare_tensor(desc, expected, path, **opts)
    raise TypeError(f"grader bug: cannot compare against {type(expected).__name__}")


def _compare_tensor(desc, expected: torch.Tensor, path: str, *, dtype, device_type, strict_dtype,
                    wider_dtype=False) -> List[Problem]:
    kind = desc.get("kind")
    if kind == "number" and expected.dim() == 0 and expected.is_floating_point():
        actual = torch.tensor(float(desc["value"]), dtype=torch.float64)
        rtol, atol = tolerance_for(dtype, device_type)
        problem = close_values(actual, expected, rtol, atol, path)
        return [problem] if problem else []
    if kind != "tensor":
        want = "a scalar tensor (or a Python number)" if expected.dim() == 0 else f"a tensor of shape {tuple(expected.shape)}"
        got = type_name(desc)
        if kind == "other":
            got += f" ({desc['repr'][:80]})"
        return [Problem(path, "type", f"{path}: expected {want}, got {got}")]
    actual = desc["value"]
    if expected.dim() == 0 and actual.numel() == 1 and actual.dim() > 0:
        actual = actual.reshape(())  # a loss of shape (1,) is still one number
    if tuple(actual.shape) != tuple(expected.shape):
        return [Problem(path, "shape", f"{path}: shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")]
    notes = []
    want_dtype = dtype if expected.is_floating_point() else expected.dtype
    if actual.dtype != want_dtype:
        text = f"{path}: dtype {desc['dtype']}, expected {str(want_dtype).replace('torch.', '')}"
        floating = expected.is_floating_point() and actual.is_floating_point()
        wider = (wider_dtype and floating and want_dtype.is_floating_point
                 and torch.finfo(actual.dtype).eps < torch.finfo(want_dtype).eps)
        if wider:
            notes.append(Problem(path, "dtype_note", f"{path} is {desc['dtype']} for {_name(want_dtype)} inputs "
                                 "(results should follow the inputs' dtype: a cast such as .double() at the end does "
                                 f"not); its values were judged at {_name(want_dtype)}'s tolerance: the dtype costs "
                                 "no points"))
        elif strict_dtype or not floating:
            why = " (results follow the inputs' dtype)" if expected.is_floating_point() else ""
            if floating and desc["device"].split(":")[0] == device_type and _close_in_either(
                    actual, expected, want_dtype, device_type, path):
                why = " (results follow the inputs' dtype; the values are right)"
            return [Problem(path, "dtype", text + why)]
        else:
            notes.append(Problem(path, "dtype_note", text + " (results should follow the inputs' dtype; the values "
                                 "were judged as they are)"))
    got_device = desc["device"].split(":")[0]
    if got_device != device_type:
        return [Problem(path, "device", f"{path}: on device {desc['device']}, expected {device_type} "
                                        "(results stay on the inputs' device)")]
    looser = max((actual.dtype, want_dtype), key=lambda d: torch.finfo(d).eps) if notes else actual.dtype
    rtol, atol = tolerance_for(looser, device_type)
    problem = close_values(actual, expected, rtol, atol, path)
    return notes + ([problem] if problem else [])


def _name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _close_in_either(actual, expected, want_dtype, device_type, path) -> bool:
    """Whether a result in another floating dtype has the right values (at the looser tolerance)."""
    looser = max((actual.dtype, want_dtype), key=lambda d: torch.finfo(d).eps)
    return close_values(actual, expected, *tolerance_for(looser, device_type), path) is None


def matches(desc: Any, expected: Any, *, dtype, device_type, names=None) -> bool:
    """Whether ``desc`` passes against ``expected`` (used to test known mistakes' results)."""
    try:
        found = compare(desc, expected, "x", dtype=dtype, device_type=device_type, names=names, strict_dtype=False)
    except TypeError:
        return False
    return all(p.kind == "dtype_note" for p in found)
