"""Whether this copy of the kit is the instructor's or a student handout, decided by what is on
disk (``grader/instructor/`` and each assignment's ``grader/assignments/<name>/instructor/``,
which the handout leaves out), never by catching ImportError: an instructor module that fails to
import for any other reason (a missing dependency, a bug) would otherwise silently drop every
hidden case, or grade the best models on shapes only."""
import importlib
from pathlib import Path

from .assignment import get

INSTRUCTOR_DIR = Path(__file__).resolve().parent / "instructor"
UNITS_DIR = Path(__file__).resolve().parent / "assignments"  # each unit's instructor side: <name>/instructor


class InstructorSideBroken(RuntimeError):
    """An instructor folder is here but one of its modules does not import."""


def _side(assignment):
    """(package, folder) of the engine's instructor side, or of ``assignment``'s."""
    if assignment is None:
        return "grader.instructor", INSTRUCTOR_DIR
    a = get(assignment)
    return f"{a.package}.instructor", UNITS_DIR / a.name / "instructor"


def instructor_present(assignment=None) -> bool:
    """Whether the instructor's side of the grader (of ``assignment``'s unit, when given) is in
    this copy (not a student handout)."""
    return _side(assignment)[1].is_dir()


def instructor_module(name: str, assignment=None):
    """``grader.instructor.<name>`` (or ``grader.assignments.<assignment>.instructor.<name>``),
    or None in a student handout; InstructorSideBroken, with the cause, when the instructor's
    side is here and the module does not import."""
    package, folder = _side(assignment)
    if not folder.is_dir():
        return None
    try:
        return importlib.import_module(f"{package}.{name}")
    except Exception as exc:  # noqa: BLE001 - whatever it is, it must not pass for a handout
        raise InstructorSideBroken(
            f"the instructor's side of the grader ({folder}) is here, but {package}.{name} does not "
            f"import: {type(exc).__name__}: {exc}. Hidden cases and the best-model evaluation cannot be graded "
            f"without it: fix the error (or, in a student handout, leave {_shown(folder)}/ out)") from exc


def _shown(folder: Path) -> str:
    root = INSTRUCTOR_DIR.parents[1]
    return folder.relative_to(root).as_posix() if root in folder.parents else str(folder)
