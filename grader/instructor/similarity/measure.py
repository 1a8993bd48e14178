"""Measuring what pairs share. Every function is compared only with the same function of the
other submissions: the pairs that share a fingerprint are found per function through an
inverted index (a sparse submission x fingerprint matrix times its transpose), and only those
pairs are measured, as tokens each side has inside shared passages (:mod:`.fingerprint`).

A fingerprint found in more than ``max(COMMON_MIN, COMMON_FRACTION * students)`` submissions
is common code (the obvious way to write a line, like MOSS's ``-m``) and does not count
between students; it still counts against references, so that a public solution many copied
still shows.

Each submission's *written* code is the part of what its graded functions run not in a
template; the percent of a side is its shared tokens over its written tokens, and a student
pair's score is both sides' shared tokens over both sides' written tokens (it lies between the
two percents). A match with a reference scores the percent of the student's written code found
in it. A function is named as *shared* when the matched passages cover at least
``FUNCTION_SHARE`` of that function's written code on one side, or ``FUNCTION_TOKENS`` tokens.
A pair that shares fewer than ``MIN_TOKENS`` tokens on either side (a line or two: a high
percent of almost nothing) ranks after every pair that shares more and joins no cluster."""
import functools
import math
from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

from .fingerprint import overlap_tokens
from .read import Code

COMMON_MIN, COMMON_FRACTION = 10, 0.10  # a fingerprint in more submissions than this is common code
FUNCTION_SHARE, FUNCTION_TOKENS = 0.5, 150  # when a function is named as shared by a pair
MIN_TOKENS = 100  # a pair sharing fewer tokens (on either side) ranks after every pair that shares more


@dataclass
class Match:
    """Two codes that share something; its figures are read once ``tokens`` is complete."""

    a: Code
    b: Code
    tokens: Dict[str, Tuple[int, int]]  # per function: (tokens of a, tokens of b)
    reference: bool = False

    @functools.cached_property
    def tokens_a(self) -> int:
        return sum(t[0] for t in self.tokens.values())

    @functools.cached_property
    def tokens_b(self) -> int:
        return sum(t[1] for t in self.tokens.values())

    @functools.cached_property
    def percent_a(self) -> float:
        return 100.0 * self.tokens_a / self.a.written if self.a.written else 0.0

    @functools.cached_property
    def percent_b(self) -> float:
        return 100.0 * self.tokens_b / self.b.written if self.b.written else 0.0

    @functools.cached_property
    def score(self) -> float:
        """Percent: the student's for a reference match; both sides' together for a pair."""
        if self.reference:
            return self.percent_a
        written = self.a.written + self.b.written
        return 100.0 * (self.tokens_a + self.tokens_b) / written if written else 0.0

    @functools.cached_property
    def shared(self) -> List[str]:
        """The functions named as shared, most shared first."""
        named = []
        for function, (ta, tb) in self.tokens.items():
            wa, wb = self.a.written_in(function), self.b.written_in(function)
            if (min(ta, tb) >= FUNCTION_TOKENS or (wa and ta >= FUNCTION_SHARE * wa)
                    or (wb and tb >= FUNCTION_SHARE * wb)):
                named.append(function)
        return sorted(named, key=lambda f: -sum(self.tokens[f]))

    @functools.cached_property
    def counts(self) -> bool:
        """Whether both sides share at least ``MIN_TOKENS``: a pair that shares a few tokens
        (a line or two) may score a high percent of very little code, and ranks after every
        pair that shares more, whatever its percent; it joins no cluster."""
        return min(self.tokens_a, self.tokens_b) >= MIN_TOKENS

    def sort_key(self):
        return (not self.counts, -round(self.score, 6), -max(self.tokens_a, self.tokens_b), self.a.id, self.b.id)


def common_limit(students: int) -> int:
    return max(COMMON_MIN, math.ceil(COMMON_FRACTION * students))


Pairs = Dict[Tuple[int, int], Match]  # (index of a, index of b) -> their match


def compare(students: List[Code], references: List[Code], functions: Iterable[str]):
    """(student pairs, reference matches, common fingerprints per function) over the compared
    ``functions``: only the pairs that share something, each with its tokens per function."""
    limit = common_limit(len(students))
    pairs: Pairs = {}
    ref_matches: Pairs = {}
    commons: Dict[str, set] = {}
    for function in functions:
        docs = _fingerprints(students, function)
        if not docs:
            continue
        index = _Index(docs)
        commons[function] = _student_pairs(function, docs, index, limit, students, pairs)
        refs = _fingerprints(references, function)
        if refs:
            _reference_matches(function, docs, refs, index, students, references, ref_matches)
    return pairs, ref_matches, commons


def _fingerprints(codes: List[Code], function: str) -> list:
    """(index in ``codes``, fingerprint) of the codes whose ``function`` has any."""
    return [(i, c.bodies[function].fp) for i, c in enumerate(codes)
            if function in c.bodies and c.bodies[function].fp.hashes]


class _Index:
    """The submissions' fingerprints of one function as a sparse submission x fingerprint
    matrix: ``column`` numbers the fingerprints, ``df`` counts the submissions holding each."""

    def __init__(self, docs: list):
        import numpy as np
        from scipy import sparse

        column: Dict[int, int] = {}
        rows, cols = [], []
        for row, (_, fp) in enumerate(docs):
            for value in fp.hashes:
                cols.append(column.setdefault(value, len(column)))
            rows.extend([row] * len(fp.hashes))
        rows_a, cols_a = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        self.column = column
        self.df = np.bincount(cols_a, minlength=len(column))
        self.matrix = sparse.csr_matrix((np.ones(len(cols_a), dtype=np.int32), (rows_a, cols_a)),
                                        shape=(len(docs), len(column)))


def _student_pairs(function: str, docs: list, index: _Index, limit: int, students: List[Code], pairs: Pairs) -> set:
    """The tokens of ``function`` every two students share into ``pairs``, common code left out;
    returns the common fingerprints."""
    import numpy as np
    from scipy import sparse

    is_common = index.df > limit
    common = {value for value, col in index.column.items() if is_common[col]}
    private = [fp.hashes - common if common else fp.hashes for _, fp in docs]
    kept = index.matrix[:, np.flatnonzero((index.df >= 2) & ~is_common)]
    together = sparse.triu(kept @ kept.T, k=1).tocoo()
    for x, y in zip(together.row.tolist(), together.col.tolist()):
        ta, tb = overlap_tokens(docs[x][1], docs[y][1], private[x], private[y])
        if ta or tb:
            i, j = docs[x][0], docs[y][0]
            match = pairs.get((i, j))
            if match is None:
                match = pairs[(i, j)] = Match(students[i], students[j], {})
            match.tokens[function] = (ta, tb)
    return common


def _reference_matches(function: str, docs: list, refs: list, index: _Index, students: List[Code],
                       references: List[Code], ref_matches: Pairs) -> None:
    """The tokens of ``function`` each student shares with each reference into
    ``ref_matches``, common code included."""
    import numpy as np
    from scipy import sparse

    rrows, rcols = [], []
    for row, (_, fp) in enumerate(refs):
        for value in fp.hashes:
            col = index.column.get(value)
            if col is not None:
                rrows.append(row)
                rcols.append(col)
    if not rcols:
        return
    rmatrix = sparse.csr_matrix((np.ones(len(rcols), dtype=np.int32), (rrows, rcols)),
                                shape=(len(refs), len(index.column)))
    against = (index.matrix @ rmatrix.T).tocoo()
    for x, y in zip(against.row.tolist(), against.col.tolist()):
        ta, tb = overlap_tokens(docs[x][1], refs[y][1], docs[x][1].hashes, refs[y][1].hashes)
        if ta or tb:
            i, r = docs[x][0], refs[y][0]
            match = ref_matches.get((i, r))
            if match is None:
                match = ref_matches[(i, r)] = Match(students[i], references[r], {}, reference=True)
            match.tokens[function] = (ta, tb)
