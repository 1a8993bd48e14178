"""Whether this copy of the kit is the instructor's or a student handout, decided by what is on
disk (``grader/instructor/``, which the handout leaves out), never by catching ImportError: an
instructor module that fails to import for any other reason (a missing dependency, a bug)
would otherwise silently drop every hidden case, or grade the best models on shapes only."""
import importlib
from pathlib import Path

INSTRUCTOR_DIR = Path(__file__).resolve().parent / "instructor"


class InstructorSideBroken(RuntimeError):
    """``grader/instructor/`` is here but one of its modules does not import."""


def instructor_present() -> bool:
    """Whether the instructor's side of the grader is in this copy (not a student handout)."""
    return INSTRUCTOR_DIR.is_dir()


def instructor_module(name: str):
    """``grader.instructor.<name>``, or None in a student handout; InstructorSideBroken, with
    the cause, when the instructor's side is here and the module does not import."""
    if not instructor_present():
        return None
    try:
        return importlib.import_module(f"grader.instructor.{name}")
    except Exception as exc:  # noqa: BLE001 - whatever it is, it must not pass for a handout
        raise InstructorSideBroken(
            f"the instructor's side of the grader ({INSTRUCTOR_DIR}) is here, but grader.instructor.{name} does not "
            f"import: {type(exc).__name__}: {exc}. Hidden cases and the best-model evaluation cannot be graded "
            "without it: fix the error (or, in a student handout, leave grader/instructor/ out)") from exc
