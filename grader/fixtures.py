"""The public cases' fixtures: for each case, its payload (inputs and stand-in tables) and its
answer key (expected values, known mistakes' results; stored as its "key"), made from the solution by the instructor's
side (``python -m grader fixtures build``) and stored as small files in the assignment's unit
(``grader/assignments/<name>/fixtures/``), so that public grading never needs the solution. In a
student handout these files are all there is."""
import functools
from pathlib import Path
from typing import Dict

import torch

from .assignment import resolve


def fixture_dir(assignment=None) -> Path:
    return resolve(assignment).fixture_dir


def manifest(assignment=None) -> Path:
    return fixture_dir(assignment) / "manifest.json"


def load(assignment=None) -> Dict[str, Dict[str, dict]]:
    """{function: {case name: {"payload", "key": the answer}}} of ``assignment`` (None: the kit's default one)."""
    return _load(resolve(assignment).name)


@functools.lru_cache(maxsize=None)
def _load(name: str) -> Dict[str, Dict[str, dict]]:
    out = {}
    for path in sorted(fixture_dir(name).glob("*.pt")):
        out[path.stem] = torch.load(path, weights_only=True)
    return out


load.cache_clear = _load.cache_clear  # what callers that rebuild the fixtures call
