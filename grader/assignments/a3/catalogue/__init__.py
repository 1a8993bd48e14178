"""A3's public cases (they ship in the student handout with their fixtures)."""
from typing import List

from ....cases import Case


def public_cases() -> List[Case]:
    from .cases import CASES

    return list(CASES)
