"""Fingerprints: copydetect's winnowing (the algorithm of MOSS) over code tokenized by Pygments,
names, strings and comments normalized away, so that renaming variables or rewriting comments
changes nothing. Every function's text is fingerprinted once, the templates' fingerprints
removed. The unit of every figure is copydetect's *token*: a character of the normalized token
stream (a name is one), counted inside matched passages of at least ``NOISE`` of them
(:func:`overlap_tokens`, the figures of copydetect's ``compare_files``)."""
import io
from types import SimpleNamespace
from typing import List, Tuple

NOISE = 25  # shortest match that counts, in normalized characters (copydetect's default)
GUARANTEE = 25  # every match this long is found; equal to NOISE: every k-gram is a fingerprint


def fingerprint(text: str, boilerplate: frozenset):
    """copydetect's fingerprint of ``text`` with the ``boilerplate`` hashes (the templates')
    removed. (Not through copydetect's own ``boilerplate`` argument: copydetect 0.5 removes it
    with ``np.intersect1d(..., assume_unique=True)`` on hashes that may repeat, which also drops
    repeated passages that are not boilerplate.)"""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    fp = CodeFingerprint("function.py", NOISE, GUARANTEE - NOISE + 1, fp=io.StringIO(text), language="python")
    kept = {}
    for value, where in fp.hash_idx.items():
        value = int(value)
        if value not in boilerplate:
            kept[value] = [int(i) for i in where]
    fp.hash_idx, fp.hashes = kept, set(kept)
    fp.token_coverage = int(get_token_coverage(kept, NOISE, len(fp.filtered_code)))
    return fp


EMPTY = SimpleNamespace(k=NOISE, hashes=set(), hash_idx={}, filtered_code="", offsets=None, token_coverage=0)


def every_hash(name: str, source: str) -> set:
    """Every fingerprint of ``source`` (each k-gram: window 1), as ints."""
    from copydetect import CodeFingerprint

    fp = CodeFingerprint(name, NOISE, 1, fp=io.StringIO(source), language="python")
    return {int(h) for h in fp.hashes}


def _covered(positions: List[int], k: int) -> int:
    """Characters covered by the k-grams starting at ``positions``: the total length of
    copydetect's ``get_copied_slices``, in plain Python (faster on the few positions a pair
    shares, and it runs for every pair that shares anything)."""
    total, end = 0, -1
    for p in sorted(positions):
        total += k if p >= end else p + k - end
        end = p + k
    return total


def overlap_tokens(fa, fb, hashes_a: set, hashes_b: set) -> Tuple[int, int]:
    """Tokens of each side inside passages the two share (through ``hashes_a & hashes_b``);
    the figures of copydetect's ``compare_files``."""
    shared = hashes_a & hashes_b
    if not shared:
        return 0, 0
    ia, ib = fa.hash_idx, fb.hash_idx
    return (_covered([p for h in shared for p in ia[h]], NOISE), _covered([p for h in shared for p in ib[h]], NOISE))

