"""Reference fixtures for the public cases: inputs and expected values computed from the
solution, stored as small files so that public grading never needs the solution.

``python -m grader fixtures build`` rewrites them; ``python -m grader fixtures verify``
rebuilds them in memory and checks they are identical bit for bit.
"""
import functools
import json
from pathlib import Path
from typing import Dict, List

import torch

from .cases import Case, all_cases
from .reference import load_reference

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
MANIFEST = FIXTURE_DIR / "manifest.json"


def _shapes(obj, path="") -> Dict[str, str]:
    if isinstance(obj, torch.Tensor):
        return {path or "value": f"{str(obj.dtype).replace('torch.', '')}{list(obj.shape)}"}
    if isinstance(obj, dict):
        return {k: v for key, item in obj.items() for k, v in _shapes(item, f"{path}.{key}" if path else str(key)).items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, item in enumerate(obj) for k, v in _shapes(item, f"{path}[{i}]").items()}
    return {}


def compute(cases: List[Case]) -> Dict[str, Dict[str, dict]]:
    """{check: {case name: {"payload", "expected"}}} from the solution."""
    ref = load_reference()
    out: Dict[str, Dict[str, dict]] = {}
    for case in cases:
        if case.needs_fixture:
            payload = case.build()
            out.setdefault(case.check, {})[case.name] = {"payload": payload, "expected": case.expect(ref, payload)}
    return out


def build() -> List[Path]:
    """Write one file per graded function and the manifest; returns the files written."""
    FIXTURE_DIR.mkdir(exist_ok=True)
    cases = all_cases()
    data = compute(cases)
    written, manifest = [], {"torch_version": torch.__version__, "functions": {}}
    for old in FIXTURE_DIR.glob("*.pt"):
        old.unlink()
    for check, entries in data.items():
        path = FIXTURE_DIR / f"{check}.pt"
        torch.save(entries, path)
        written.append(path)
        manifest["functions"][check] = {
            name: {"meta": next(c.meta for c in cases if c.check == check and c.name == name),
                   "inputs": _shapes(entry["payload"].get("args", entry["payload"])),
                   "expected": _shapes(entry["expected"])}
            for name, entry in entries.items()}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    written.append(MANIFEST)
    load.cache_clear()
    return written


@functools.lru_cache(maxsize=1)
def load() -> Dict[str, Dict[str, dict]]:
    out = {}
    for path in sorted(FIXTURE_DIR.glob("*.pt")):
        out[path.stem] = torch.load(path, weights_only=True)
    return out


def _identical(a, b, path, problems) -> None:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        same = (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype
                and a.shape == b.shape and torch.equal(a, b))
        if not same:
            problems.append(f"{path}: differs")
    elif isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            problems.append(f"{path}: keys {sorted(a)} vs {sorted(b)}")
        for key in set(a) & set(b):
            _identical(a[key], b[key], f"{path}['{key}']", problems)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            problems.append(f"{path}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _identical(x, y, f"{path}[{i}]", problems)
    elif a != b:
        problems.append(f"{path}: {a!r} vs {b!r}")


def verify() -> List[str]:
    """Differences between the stored fixtures and a fresh rebuild (empty when identical)."""
    stored = load()
    fresh = compute(all_cases())
    problems: List[str] = []
    for check in sorted(set(stored) | set(fresh)):
        if check not in stored:
            problems.append(f"{check}: no fixture file (run `python -m grader fixtures build`)")
        elif check not in fresh:
            problems.append(f"{check}: a fixture file for a function with no public case")
        else:
            _identical(stored[check], fresh[check], check, problems)
    return problems
