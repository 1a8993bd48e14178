"""Clusters: the connected components (three or more submissions) of the pairs scoring
``CLUSTER_SCORE`` or more. A copy of the whole work scores near 100%, one copied function among
several written alone about 30%, independent work under 5% in the tests' class (the bench's
synthetic classes of 500: only the planted copies reach 30%)."""
from typing import Dict, Iterable, List

from .measure import Match

CLUSTER_SCORE = 0.30  # pairs scoring this or more join clusters


def clusters(matches: Iterable[Match], threshold: float = CLUSTER_SCORE) -> List[List[str]]:
    """Connected components of three or more submissions, linked by pairs scoring ``threshold``
    (a fraction) or more; largest first."""
    parent: Dict[str, str] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for match in matches:
        if match.counts and match.score >= 100 * threshold:
            parent[find(match.a.id)] = find(match.b.id)
    groups: Dict[str, List[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 3), key=lambda g: (-len(g), g))

