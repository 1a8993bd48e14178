"""The catalogue of cases: the public ones here (they ship in the student handout with their
fixtures), the hidden ones with the instructor (``grader.instructor.hidden``), when present."""
from typing import List

from ..cases import Case
from ..mode import instructor_module


def public_cases() -> List[Case]:
    from ..assignments.a2.catalogue.linear import CASES as linear
    from ..assignments.a2.catalogue.models import CASES as models
    from ..assignments.a2.catalogue.net import CASES as net

    return linear + net + models


def hidden_cases() -> List[Case]:
    """The hidden cases, or none in a student handout (InstructorSideBroken when the
    instructor's side is here but does not import)."""
    hidden = instructor_module("hidden", "a2")
    return hidden.CASES if hidden else []


def all_cases() -> List[Case]:
    return public_cases() + hidden_cases()
