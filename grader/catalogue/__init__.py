"""The catalogue of an assignment's cases: the public ones in its unit's ``catalogue/`` (they
ship in the student handout with their fixtures), the hidden ones in its ``instructor/hidden.py``,
when the instructor's side is here. Helpers every assignment's cases share are in
:mod:`grader.catalogue.common`."""
from typing import List

from ..assignment import resolve
from ..cases import Case
from ..mode import instructor_module


def public_cases(assignment=None) -> List[Case]:
    """The public cases of ``assignment`` (a name or an Assignment; None: the kit's default one)."""
    return list(resolve(assignment).unit("catalogue").public_cases())


def hidden_cases(assignment=None) -> List[Case]:
    """The hidden cases, or none in a student handout (InstructorSideBroken when the
    instructor's side is here but does not import)."""
    hidden = instructor_module("hidden", resolve(assignment).name)
    return hidden.CASES if hidden else []


def all_cases(assignment=None) -> List[Case]:
    return public_cases(assignment) + hidden_cases(assignment)
