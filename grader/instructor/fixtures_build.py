"""Writing and verifying the public cases' fixtures: ``python -m grader fixtures build``
rewrites them from the solution; ``python -m grader fixtures verify`` rebuilds them in memory
and compares: integers, booleans, shapes, dtypes and structure exactly, floats within the
tolerance table (MKL rounds float kernels differently per CPU, in the last bits, so a rebuild
on another machine is rarely bit-identical; such entries are named, not refused)."""
import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import torch

from ..assignment import resolve
from ..cases import FROM_OTHER_CASES, PUBLIC, Case
from ..catalogue import public_cases
from ..compare import close_values
from ..fixtures import fixture_dir, load, manifest as manifest_path
from ..mode import instructor_module
from ..tolerance import tolerance_for


def _shapes(obj, path="") -> Dict[str, str]:
    if isinstance(obj, torch.Tensor):
        return {path or "value": f"{str(obj.dtype).replace('torch.', '')}{list(obj.shape)}"}
    if isinstance(obj, dict):
        return {k: v for key, item in obj.items() for k, v in _shapes(item, f"{path}.{key}" if path else str(key)).items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, item in enumerate(obj) for k, v in _shapes(item, f"{path}[{i}]").items()}
    return {}


def compute(cases: List[Case], assignment=None) -> Dict[str, Dict[str, dict]]:
    """{check: {case name: {"payload", "key"}}} of the public cases that run in a student process
    (``cases``: of ``assignment``, whose recipes make them)."""
    recipes = instructor_module("recipes", resolve(assignment).name)
    out: Dict[str, Dict[str, dict]] = {}
    for case in cases:
        if case.visibility == PUBLIC and case.probe is not None and case.probe not in FROM_OTHER_CASES:
            payload, answer = recipes.make(case)
            out.setdefault(case.function, {})[case.name] = {"payload": payload, "key": answer}
    return out


def build(assignment=None) -> List[Path]:
    """Write one file per graded function of ``assignment`` (None: the kit's default one) and the
    manifest into its unit's ``fixtures/``; returns the files written."""
    FIXTURE_DIR, MANIFEST = fixture_dir(assignment), manifest_path(assignment)
    FIXTURE_DIR.mkdir(exist_ok=True)
    cases = public_cases(assignment)
    data = compute(cases, assignment)
    written, manifest = [], {"torch_version": torch.__version__, "functions": {}}
    for old in FIXTURE_DIR.glob("*.pt"):
        old.unlink()
    for check, entries in data.items():
        path = FIXTURE_DIR / f"{check}.pt"
        torch.save(entries, path)
        written.append(path)
        manifest["functions"][check] = {
            name: {"recipe": next(c.recipe for c in cases if c.function == check and c.name == name),
                   "params": next(c.params for c in cases if c.function == check and c.name == name),
                   "payload": _shapes(entry["payload"]), "key": _shapes(entry["key"].get("expected", {}))}
            for name, entry in entries.items()}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    written.append(MANIFEST)
    load.cache_clear()
    return written


@dataclass
class Verification:
    """What a rebuild found: ``problems`` fail it (beyond the tolerance table, or structure:
    entries missing, shapes, dtypes, integers, non-finite values); ``rounded`` names the float
    entries that are not bit-identical but within the table (another CPU's kernels round
    differently in the last bits)."""
    problems: List[str] = field(default_factory=list)
    rounded: List[str] = field(default_factory=list)
    compared: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if not a.is_floating_point():
        return torch.equal(a, b)
    nan_a, nan_b = torch.isnan(a), torch.isnan(b)
    return torch.equal(nan_a, nan_b) and torch.equal(a.masked_fill(nan_a, 0), b.masked_fill(nan_b, 0))


def _tensor(stored: torch.Tensor, fresh: torch.Tensor, path: str, out: Verification) -> None:
    if stored.dtype != fresh.dtype:
        out.problems.append(f"{path}: dtype {stored.dtype} stored, {fresh.dtype} rebuilt")
    elif stored.shape != fresh.shape:
        out.problems.append(f"{path}: shape {list(stored.shape)} stored, {list(fresh.shape)} rebuilt")
    elif _same_bits(stored, fresh):
        return
    elif not stored.is_floating_point():
        differ = int((stored != fresh).sum())
        out.problems.append(f"{path}: {differ} of {stored.numel()} {str(stored.dtype).replace('torch.', '')} values "
                            "differ (integers and booleans must match exactly)")
    elif not all(torch.equal(test(stored), test(fresh)) for test in (torch.isnan, torch.isposinf, torch.isneginf)):
        out.problems.append(f"{path}: inf or nan in other places than stored")
    else:
        finite = torch.isfinite(stored)
        s, f = (t.masked_fill(~finite, 0).to(torch.float64) for t in (stored, fresh))
        rtol, atol = tolerance_for(stored.dtype, "cpu")
        problem = close_values(f, s, rtol, atol, path)
        if problem is not None:
            out.problems.append(problem.message.replace("\n", "\n    ")
                                + f"\n    (beyond the {str(stored.dtype).replace('torch.', '')} row of the tolerance table)")
        else:
            out.rounded.append(f"{path}: float rounding, within tolerance ({int((f != s).sum())} of {s.numel()} "
                               f"values differ, greatest difference {float((f - s).abs().max()):.3g})")


def _held_by_float32(x: float) -> bool:
    """Whether a float32 holds ``x`` exactly (so it is, but for a one in ten million chance,
    the ``.item()`` of a float32 result)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0] == x
    except OverflowError:
        return False


def _number(stored: float, fresh: float, path: str, out: Verification) -> None:
    if stored == fresh or (math.isnan(stored) and math.isnan(fresh)):
        return
    # A Python number has no dtype: one that came out of float32 work gets float32's row.
    dtype = torch.float32 if _held_by_float32(stored) and _held_by_float32(fresh) else torch.float64
    rtol, atol = tolerance_for(dtype, "cpu")
    if math.isfinite(stored) and math.isfinite(fresh) and \
            abs(fresh - stored) <= atol * max(1.0, abs(stored)) + rtol * abs(stored):
        out.rounded.append(f"{path}: float rounding, within tolerance ({stored!r} stored, {fresh!r} rebuilt)")
    else:
        out.problems.append(f"{path}: {stored!r} stored, {fresh!r} rebuilt")


def _compare(stored, fresh, path: str, out: Verification) -> None:
    if isinstance(stored, torch.Tensor) or isinstance(fresh, torch.Tensor):
        if isinstance(stored, torch.Tensor) and isinstance(fresh, torch.Tensor):
            out.compared += 1
            _tensor(stored, fresh, path, out)
        else:
            out.problems.append(f"{path}: {type(stored).__name__} stored, {type(fresh).__name__} rebuilt")
    elif isinstance(stored, dict) and isinstance(fresh, dict):
        if set(stored) != set(fresh):
            out.problems.append(f"{path}: keys {sorted(map(str, stored))} stored, {sorted(map(str, fresh))} rebuilt")
        for key in sorted(set(stored) & set(fresh), key=str):
            _compare(stored[key], fresh[key], f"{path}['{key}']", out)
    elif isinstance(stored, (list, tuple)) and isinstance(fresh, (list, tuple)):
        if len(stored) != len(fresh):
            out.problems.append(f"{path}: length {len(stored)} stored, {len(fresh)} rebuilt")
        for i, (a, b) in enumerate(zip(stored, fresh)):
            _compare(a, b, f"{path}[{i}]", out)
    elif type(stored) is float and type(fresh) is float:
        out.compared += 1
        _number(stored, fresh, path, out)
    elif type(stored) is not type(fresh) or stored != fresh:
        out.problems.append(f"{path}: {stored!r} stored, {fresh!r} rebuilt")


def compare_fixtures(stored: Dict[str, Dict[str, dict]], fresh: Dict[str, Dict[str, dict]]) -> Verification:
    """Stored fixtures against a rebuild: floats within the tolerance table of their dtype
    (the CPU row), everything else exactly."""
    out = Verification()
    for check in sorted(set(stored) | set(fresh)):
        if check not in stored:
            out.problems.append(f"{check}: no fixture file (run `python -m grader fixtures build`)")
        elif check not in fresh:
            out.problems.append(f"{check}: a fixture file for a function with no public case")
        else:
            _compare(stored[check], fresh[check], check, out)
    return out


def verify(assignment=None) -> Verification:
    """The stored fixtures of ``assignment`` against a fresh rebuild from the solution on this machine."""
    return compare_fixtures(load(assignment), compute(public_cases(assignment), assignment))
