"""The catalogue of an assignment's cases: the public ones in its unit's ``catalogue/`` (they
ship in the student handout with their fixtures), the hidden ones in its ``instructor/hidden.py``,
when the instructor's side is here. Helpers every assignment's cases share are in
:mod:`grader.catalogue.common`."""
from typing import List

from ..assignment import resolve
from ..cases import Case, checked
from ..mode import instructor_module


def public_cases(assignment=None) -> List[Case]:
    """The public cases of ``assignment`` (a name or an Assignment; None: the kit's default one),
    each found to name a probe its student process holds (see :func:`grader.cases.checked`)."""
    unit = resolve(assignment)
    return checked(list(unit.unit("catalogue").public_cases()), unit)


def hidden_cases(assignment=None) -> List[Case]:
    """The hidden cases, or none in a student handout (InstructorSideBroken when the
    instructor's side is here but does not import)."""
    unit = resolve(assignment)
    hidden = instructor_module("hidden", unit.name)
    return checked(list(hidden.CASES), unit) if hidden else []


def all_cases(assignment=None) -> List[Case]:
    return public_cases(assignment) + hidden_cases(assignment)
