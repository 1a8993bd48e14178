"""The solution, loaded by path under private module names, for hidden cases and fixtures.

Only the grader process loads it; student processes never do. In a student handout the
files in ``a2/`` are stubs without solution markers, and :func:`load_reference` says so.
"""
import functools
import importlib
import sys
import types
from pathlib import Path

from ....paths import ROOT
from ....instructor.stubs import BEGIN
SOLUTION_DIR = ROOT / "a2"
PACKAGE = "_a2_reference"


class ReferenceUnavailable(RuntimeError):
    """The solution is not in this copy of the kit (a student handout)."""


def has_solution(folder: Path = SOLUTION_DIR) -> bool:
    files = [folder / "linear_classifier.py", folder / "two_layer_net.py"]
    return all(f.is_file() and any(BEGIN.match(line) for line in f.read_text().splitlines()) for f in files)


@functools.lru_cache(maxsize=1)
def load_reference():
    """A namespace with the solution's ``lc`` (linear_classifier) and ``tln`` (two_layer_net)."""
    if not has_solution():
        raise ReferenceUnavailable(
            f"the solution is not in {SOLUTION_DIR} (this looks like a student handout): hidden cases "
            "and fixture rebuilding need the instructor's repository")
    package = types.ModuleType(PACKAGE)
    package.__path__ = [str(SOLUTION_DIR)]
    sys.modules[PACKAGE] = package
    lc = importlib.import_module(f"{PACKAGE}.linear_classifier")
    tln = importlib.import_module(f"{PACKAGE}.two_layer_net")
    return types.SimpleNamespace(lc=lc, tln=tln)
