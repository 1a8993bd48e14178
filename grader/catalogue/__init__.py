"""The catalogue of cases: the public ones here (they ship in the student handout with their
fixtures), the hidden ones with the instructor (``grader.instructor.hidden``), when present."""
from typing import List

from ..cases import Case


def public_cases() -> List[Case]:
    from .linear import CASES as linear
    from .models import CASES as models
    from .net import CASES as net

    return linear + net + models


def hidden_cases() -> List[Case]:
    """The hidden cases, or none in a student handout."""
    try:
        from ..instructor.hidden import CASES
    except ImportError:
        return []
    return CASES


def all_cases() -> List[Case]:
    return public_cases() + hidden_cases()
