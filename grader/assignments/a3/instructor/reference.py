"""Assignment 3's solution, loaded by path under a private module name, for its hidden cases and
fixtures. Only the grader process loads it; in a student handout ``a3/`` holds the stub and
:func:`load_reference` says so."""
import functools
import importlib.util
import sys

from ....instructor.stubs import BEGIN
from ....paths import ROOT

SOLUTION = ROOT / "a3" / "fully_connected_networks.py"
NAME = "_a3_reference_fully_connected_networks"


class ReferenceUnavailable(RuntimeError):
    """The solution is not in this copy of the kit (a student handout)."""


def has_solution() -> bool:
    return SOLUTION.is_file() and any(BEGIN.match(line) for line in SOLUTION.read_text().splitlines())


@functools.lru_cache(maxsize=1)
def load_reference():
    """The solution's module (``Linear``, ``TwoLayerNet``, ``adam``, ...)."""
    if not has_solution():
        raise ReferenceUnavailable(
            f"the solution is not in {SOLUTION.parent} (this looks like a student handout): hidden cases "
            "and fixture rebuilding need the instructor's repository")
    spec = importlib.util.spec_from_file_location(NAME, SOLUTION)
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module
