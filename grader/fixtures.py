"""The public cases' fixtures: for each case, its payload (inputs and stand-in tables) and its
key (expected values, known mistakes' results), made from the solution by the instructor's
side (``python -m grader fixtures build``) and stored as small files, so that public grading
never needs the solution. In a student handout these files are all there is."""
import functools
from pathlib import Path
from typing import Dict

import torch

FIXTURE_DIR = Path(__file__).resolve().parent / "assignments" / "a2" / "fixtures"
MANIFEST = FIXTURE_DIR / "manifest.json"


@functools.lru_cache(maxsize=1)
def load() -> Dict[str, Dict[str, dict]]:
    """{check: {case name: {"payload", "key"}}}."""
    out = {}
    for path in sorted(FIXTURE_DIR.glob("*.pt")):
        out[path.stem] = torch.load(path, weights_only=True)
    return out
