"""Where a wrong loss or gradient of A2 goes wrong, when no known mistake explains it: the
student's function is also called on probe inputs that separate the terms (the case's first rows
with its ``reg`` and with ``reg = 0``: the data term alone; one sample: the sum over samples and
the division by N), and its results there are compared with the probes' expected values (made
with the case's answer). What differs between the student's result with ``reg`` and with ``reg = 0``
is the student's regularization part, compared with the expected one. Nothing here computes an
answer: it only compares the student's results with the answer's.

The loss cases' judges hand :func:`place_loss_terms` to the engine's ``judge_values`` (its
``place``); A2's recipes make the probe inputs with :func:`probe_inputs`.
"""
import math
from typing import Dict, List

import torch

from ....compare import matches
from ....localise import as_tensor as _tensor

FEW_ROWS = 4  # the probes take the case's first rows: cheap, even for the loops of the naive losses
FEW = f"first {FEW_ROWS} samples"
REG0 = f"first {FEW_ROWS} samples, reg = 0"
ONE = "one sample, reg = 0"


def probe_inputs(args, reg_index=3):
    """The probe calls of a loss case with inputs ``args`` ([W or params, X, y, reg]): the first
    rows with the case's reg and with reg = 0, and the first row alone with reg = 0."""
    first, X, y = args[0], args[1], args[2]
    return [(FEW, [first, X[:FEW_ROWS].clone(), y[:FEW_ROWS].clone(), args[reg_index]]),
            (REG0, [first, X[:FEW_ROWS].clone(), y[:FEW_ROWS].clone(), 0.0]),
            (ONE, [first, X[:1].clone(), y[:1].clone(), 0.0])]


def _as_desc(value: torch.Tensor, device_type: str) -> dict:
    return {"kind": "tensor", "value": value, "dtype": "float64", "device": device_type}


def _close(got, want, device_type) -> bool:
    return got is not None and want is not None and matches(
        _as_desc(got.reshape(want.shape) if got.numel() == want.numel() else got, device_type), want,
        dtype=torch.float64, device_type=device_type)


def _where(got: torch.Tensor, want: torch.Tensor, name: str, device_type: str) -> str:
    """Which rows and columns of a 2-D output differ (a gradient's columns are the classes or
    hidden units, its rows the features)."""
    if got is None or want is None or got.shape != want.shape or want.dim() != 2:
        return ""
    tol = 1e-7 * want.abs() + 1e-9 * max(1.0, float(want.abs().max()))
    bad = (got - want).abs() > tol
    cols = [int(c) for c in bad.any(dim=0).nonzero().flatten()]
    rows = [int(r) for r in bad.any(dim=1).nonzero().flatten()]
    if not cols:
        return ""
    col_word = "columns (classes)" if name == "dW" or name.endswith("W2']") else (
        "columns (hidden units)" if name.endswith("W1']") else "columns")
    row_word = "rows (features)" if name in ("dW", "grads['W1']") else (
        "rows (hidden units)" if name.endswith("W2']") else "rows")
    if len(cols) == want.shape[1] and len(rows) == want.shape[0]:
        return f" (every entry of {name} differs)"
    def show(ix):
        return f"{ix[:8]}{'...' if len(ix) > 8 else ''}"
    return f" ({name} differs in {col_word} {show(cols)}, {row_word} {show(rows)})"


def _pattern(mine: torch.Tensor, right: torch.Tensor, name: str, answer: Dict[str, torch.Tensor], device_type: str) -> str:
    """A shape of the wrong data term that says what went wrong: a loss of log C (every class
    scored alike: the scores were lost before the softmax), or a gradient whose columns (classes)
    are all the same (summed or averaged over the classes)."""
    if right.dim() == 0:
        grads = [t for t in answer.values() if isinstance(t, torch.Tensor) and t.dim() == 2]
        classes = grads[-1].shape[1] if grads else 0  # dW is (D, C); a net's last weight (H, C)
        if classes > 1 and _close(mine, torch.tensor(math.log(classes), dtype=torch.float64), device_type):
            return (f" (your data loss is log C = log {classes}, the loss of scores that are all equal: the scores "
                    "are lost before the softmax; subtract each row's largest score, scores.max(dim=1, "
                    "keepdim=True).values, not an elementwise max such as score.max(score))")
        return ""
    if mine.dim() == 2 and mine.shape == right.shape and mine.shape[1] > 1 \
            and torch.equal(mine, mine[:, :1].expand_as(mine)) and not torch.equal(right, right[:, :1].expand_as(right)):
        return (f" (every column of your {name} is the same: its data term is not computed class by class; it "
                "looks summed or averaged over the classes)")
    return ""


def localise(paths: List[str], got: Dict[str, dict], expected: Dict[str, torch.Tensor], probed: dict,
             probe_keys: Dict[str, Dict[str, torch.Tensor]], reg, device_type: str) -> List[str]:
    """One sentence per wrong output (``paths``) that the probes can place, in the template's
    words. ``got``/``expected``: the case's outputs by path; ``probed``: the student's results on
    the probes (leaves by path); ``probe_keys``: their expected values (leaves by path)."""
    lines = []
    net = any(path.startswith("grads[") for path in expected)  # a net's params are W1, b1, W2, b2
    for path in paths:
        name = path
        if any(label not in probe_keys or label not in probed or path not in probe_keys[label]
               for label in (FEW, REG0)):
            continue
        mine, right = _tensor(probed[FEW].get(path)), probe_keys[FEW][path]
        mine0, right0 = _tensor(probed[REG0].get(path)), probe_keys[REG0][path]
        if mine is None or mine0 is None or right is None or not torch.isfinite(mine).all():
            continue
        data_ok = _close(mine0, right0, device_type)
        if mine.shape != right.shape or mine0.shape != right0.shape:
            continue
        reg_mine, reg_right = mine - mine0, right - right0
        reg_ok = _close(reg_mine, reg_right, device_type)
        if data_ok and not reg_ok:
            part = ("the regularization term of the loss" if right.dim() == 0
                    else f"the regularization's part of {name}")
            detail = ""
            if right.dim() == 0:
                term = "reg * (sum(W1 * W1) + sum(W2 * W2))" if net else "reg * sum(W * W)"
                detail = f": yours adds {float(reg_mine):.8g}, {term} is {float(reg_right):.8g}"
            else:
                dot = float((reg_right * reg_right).sum())
                if dot > 0:
                    ratio = float((reg_mine * reg_right).sum()) / dot
                    if _close(reg_mine, ratio * reg_right, device_type):
                        weight = name.replace("grads['", "").replace("']", "") if net else "W"
                        detail = f": yours is {ratio:.6g} times 2 * reg * {weight}"
                detail += _where(reg_mine, reg_right, name, device_type)
            lines.append(f"Where it goes wrong ({path}): on the case's first {FEW_ROWS} samples with reg = 0 your "
                         f"{name} is right, so the data term is right and {part} (reg = {reg}) is wrong{detail}.")
        elif not data_ok:
            where = "" if right0.dim() == 0 else _where(mine0, right0, name, device_type)
            pattern = _pattern(mine0, right0, name, probe_keys[REG0], device_type)
            where = f"{where[:-1]}; {pattern[2:]}" if where and pattern else where + pattern
            one = ""
            if ONE in probed and ONE in probe_keys and path in probe_keys[ONE]:
                if _close(_tensor(probed[ONE].get(path)), probe_keys[ONE][path], device_type):
                    one = (" It is right for a batch of one sample, so what goes wrong is how the samples are "
                           "combined (the sum over samples, or the division by N).")
                else:
                    one = " It is wrong for a single sample too."
            reg_text = ("the regularization's part is right" if reg_ok
                        else "the regularization's part is wrong as well")
            lines.append(f"Where it goes wrong ({path}): on the case's first {FEW_ROWS} samples with reg = 0 your "
                         f"{name} is already wrong{where}, so the data term is wrong ({reg_text}).{one}")
    return lines


def place_loss_terms(paths, got, expected, probed, probe_keys, case, device_type) -> List[str]:
    """``judge_values``'s ``place`` for A2's loss cases: :func:`localise` with the case's reg."""
    return localise(paths, got, expected, probed, probe_keys, case.params.get("reg"), device_type)
