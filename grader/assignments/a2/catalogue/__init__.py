"""A2's public cases (they ship in the student handout with their fixtures)."""
from typing import List

from ....cases import Case


def public_cases() -> List[Case]:
    from .linear import CASES as linear
    from .models import CASES as models
    from .net import CASES as net

    return linear + net + models
