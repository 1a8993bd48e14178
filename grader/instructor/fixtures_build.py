"""Writing and verifying the public cases' fixtures: ``python -m grader fixtures build``
rewrites them from the solution; ``python -m grader fixtures verify`` rebuilds them in memory
and checks they are identical bit for bit."""
import json
from pathlib import Path
from typing import Dict, List

import torch

from ..cases import FROM_OTHER_CASES, PUBLIC, Case
from ..catalogue import public_cases
from ..fixtures import FIXTURE_DIR, MANIFEST, load
from . import recipes


def _shapes(obj, path="") -> Dict[str, str]:
    if isinstance(obj, torch.Tensor):
        return {path or "value": f"{str(obj.dtype).replace('torch.', '')}{list(obj.shape)}"}
    if isinstance(obj, dict):
        return {k: v for key, item in obj.items() for k, v in _shapes(item, f"{path}.{key}" if path else str(key)).items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, item in enumerate(obj) for k, v in _shapes(item, f"{path}[{i}]").items()}
    return {}


def compute(cases: List[Case]) -> Dict[str, Dict[str, dict]]:
    """{check: {case name: {"payload", "key"}}} of the public cases that run in a student process."""
    out: Dict[str, Dict[str, dict]] = {}
    for case in cases:
        if case.visibility == PUBLIC and case.probe is not None and case.probe not in FROM_OTHER_CASES:
            payload, key = recipes.make(case)
            out.setdefault(case.check, {})[case.name] = {"payload": payload, "key": key}
    return out


def build() -> List[Path]:
    """Write one file per graded function and the manifest; returns the files written."""
    FIXTURE_DIR.mkdir(exist_ok=True)
    cases = public_cases()
    data = compute(cases)
    written, manifest = [], {"torch_version": torch.__version__, "functions": {}}
    for old in FIXTURE_DIR.glob("*.pt"):
        old.unlink()
    for check, entries in data.items():
        path = FIXTURE_DIR / f"{check}.pt"
        torch.save(entries, path)
        written.append(path)
        manifest["functions"][check] = {
            name: {"recipe": next(c.recipe for c in cases if c.check == check and c.name == name),
                   "params": next(c.params for c in cases if c.check == check and c.name == name),
                   "payload": _shapes(entry["payload"]), "key": _shapes(entry["key"].get("expected", {}))}
            for name, entry in entries.items()}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    written.append(MANIFEST)
    load.cache_clear()
    return written


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
    fresh = compute(public_cases())
    problems: List[str] = []
    for check in sorted(set(stored) | set(fresh)):
        if check not in stored:
            problems.append(f"{check}: no fixture file (run `python -m grader fixtures build`)")
        elif check not in fresh:
            problems.append(f"{check}: a fixture file for a function with no public case")
        else:
            _identical(stored[check], fresh[check], check, problems)
    return problems
