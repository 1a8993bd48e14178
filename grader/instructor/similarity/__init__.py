"""Who shares student-written code: ``python -m grader similarity SUBMISSIONS --out DIR
[--reference DIR ...]``, and ``batch --similarity`` after grading (:func:`run_similarity`).

What is compared. Every graded function, and every graded method (``Class.method``, as
Assignment 3 grades ``Linear.forward`` or ``FullyConnectedNet.loss``), is compared only with the
same function or method of the other submissions, as what it runs: its statements that can affect its result, then every
module-level definition it reaches in the code files (:mod:`.live`: padding with dead code
dilutes nothing, moving a body into helpers hides nothing). Whatever a template holds never
counts, twice over: the lines a function keeps from a template's version are blanked before
fingerprinting (:mod:`.extract`), and every fingerprint of the templates is removed as
boilerplate (:mod:`.template`). Files of any size are read (:mod:`.source`); a missing
function or a file that does not parse gives a note, never an error (:mod:`.read`).

How. Fingerprints are copydetect's (MOSS's winnowing over normalized tokens:
:mod:`.fingerprint`); the pairs that share one are found per function through an inverted
index and measured as the tokens each side has in shared passages, common code left out between
students (:mod:`.measure`); pairs scoring 30% or more link clusters (:mod:`.cluster`).
References (``--reference``) are compared with every student, never with each other
(:mod:`.references`).

Outputs in OUT, inert whatever the student wrote: ``similarity.html`` (:mod:`.html_out`),
``similarity_histogram.png`` (:mod:`.plot`) and ``similarity.csv`` (:mod:`.csv_out`).

What is compared is a parameter (:mod:`.scope`): the graded ``functions`` (name -> file stem),
the ``code_files``, the ``templates`` (name -> {file name: source}); each one left out is the
``assignment``'s (``batch --similarity`` passes the assignment graded; without one, the
assignment is recognised from the entries' files, as ``batch`` does).
"""
from pathlib import Path
from typing import List, Mapping, Optional, Sequence

from ...files import write_atomic
from ..entries import Entry, discover
from .cluster import CLUSTER_SCORE, clusters
from .csv_out import CSV_HEADER, similarity_csv
from .fingerprint import NOISE, overlap_tokens
from .html_out import similarity_html
from .measure import COMMON_FRACTION, COMMON_MIN, MIN_TOKENS, Match, common_limit, compare
from .plot import histogram
from .read import Broken, Code, read_all, read_code
from .references import reference_entries
from .scope import Scope, SimilarityError, compared_functions, scope_of
from .source import LARGE, function_bodies
from .template import Template, load_template, template_sources

# The kit's first assignment's compared functions (Assignment 2's), each with its file name.
FILE_OF = scope_of().file_of
COMPARED = tuple(FILE_OF)

__all__ = ["CLUSTER_SCORE", "COMMON_FRACTION", "COMMON_MIN", "COMPARED", "CSV_HEADER", "FILE_OF", "LARGE",
           "MIN_TOKENS", "NOISE", "Broken", "Code", "Match", "Scope", "SimilarityError", "Template", "clusters",
           "common_limit", "compare", "compared_functions", "function_bodies", "load_template", "overlap_tokens",
           "read_all", "read_code", "reference_entries", "run_similarity", "scope_of", "similarity_csv",
           "similarity_html", "template_sources"]


def run_similarity(submissions, out, *, references: Sequence = (), entries: Optional[List[Entry]] = None,
                   jobs: Optional[int] = None, functions: Optional[Mapping[str, str]] = None,
                   code_files: Optional[Sequence[str]] = None,
                   templates: Optional[Mapping[str, Mapping[str, str]]] = None,
                   kit_folder: Optional[str] = None, title: Optional[str] = None, assignment=None) -> str:
    """Compare the entries of ``submissions`` (or ``entries``, as batch discovered them) with
    each other and with ``references``; write similarity.html, similarity_histogram.png and
    similarity.csv into ``out``; return a one-paragraph summary. ``jobs``: processes that
    read and fingerprint the entries (default: the CPUs, at most 8). What is compared
    (:func:`.scope.scope_of`; each left out is ``assignment``'s): ``functions``, graded function
    -> file stem; ``code_files``, the files read; ``templates``, name -> {file name: source};
    ``kit_folder``, the kit layout's folder a reference may hold; ``title``, the report's.
    Raises SimilarityError when it cannot run (no such folder, copydetect missing, ...); a
    broken entry only gets a row."""
    try:
        import copydetect  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as exc:
        raise SimilarityError(f"the similarity check needs copydetect and scipy ({exc}): "
                              "pip install 'a2kit[instructor]'") from exc
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if entries is None:
        if not submissions.is_dir():
            raise SimilarityError(f"{submissions} is not a folder of submissions")
        if out == submissions or submissions in out.parents:
            raise SimilarityError(f"--out {out} must not lie inside the submissions folder")
        entries = discover(submissions)
        if assignment is None and functions is None and code_files is None:
            assignment = _recognised(submissions, entries)
    scope = scope_of(functions, code_files, templates, kit_folder=kit_folder, title=title, assignment=assignment)
    ref_entries = reference_entries(references, scope)
    template = load_template(scope)
    tasks = [(e, "student") for e in entries] + [(e, "reference") for e in ref_entries]
    students, refs, broken = [], [], []
    for code in read_all(tasks, template, jobs):
        (broken if isinstance(code, Broken) else students if code.kind == "student" else refs).append(code)
    pairs, ref_matches, common = compare(students, refs, scope.compared)
    limit = common_limit(len(students))
    ranked = sorted(pairs.values(), key=Match.sort_key)
    ranked_refs = sorted(ref_matches.values(), key=Match.sort_key)
    groups = clusters(ranked)
    summary = _summary(out, students, refs, bool(references), ranked, ranked_refs, groups, broken, common, limit)
    out.mkdir(parents=True, exist_ok=True)
    total = len(students) * (len(students) - 1) // 2
    scores = [m.score for m in ranked] + [0.0] * (total - len(ranked))
    ref_scores = [m.score for m in ranked_refs] + [0.0] * (len(students) * len(refs) - len(ranked_refs))
    image = histogram(out, scores, ref_scores)
    write_atomic(out / "similarity.csv", similarity_csv(students, pairs, ref_matches, refs, broken))
    write_atomic(out / "similarity.html", similarity_html(
        summary, students, refs, ranked, ranked_refs, groups, broken, image, common, limit,
        title=scope.title, templates=list(template_sources(scope))))
    return summary


def _recognised(submissions: Path, entries: List[Entry]):
    """The assignment whose files the entries hold, as ``batch`` recognises it (the kit's first
    when they hold none); a folder mixing assignments is refused, naming the entries."""
    from ...submission import SubmissionError
    from ..entries import batch_assignment

    try:
        return batch_assignment(submissions, entries)
    except SubmissionError as exc:
        raise SimilarityError(str(exc)) from exc


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _summary(out: Path, students: List[Code], refs: List[Code], asked_refs: bool, ranked: List[Match],
             ranked_refs: List[Match], groups: List[List[str]], broken: List[Broken], common: dict,
             limit: int) -> str:
    """The one paragraph :func:`run_similarity` returns (the CLI prints it)."""
    total = len(students) * (len(students) - 1) // 2
    dropped = sum(len(v) for v in common.values())
    high = sum(1 for m in ranked if m.counts and m.score >= CLUSTER_SCORE * 100)
    high_refs = sum(1 for m in ranked_refs if m.counts and m.score >= CLUSTER_SCORE * 100)
    return (f"Compared {_count(len(students), 'submission')} ({_count(total, 'pair')})"
            + (f" and {_count(len(refs), 'reference')}" if refs or asked_refs else "")
            + f": {_count(high, 'pair')} {'shares' if high == 1 else 'share'} {CLUSTER_SCORE * 100:g}% or more "
            "of their student-written code"
            + (f" (top: {ranked[0].a.id} and {ranked[0].b.id}, {ranked[0].score:.0f}%)" if ranked and high else "")
            + f", {_count(len(groups), 'cluster')} of three or more"
            + (f", {_count(high_refs, 'submission')} {'matches' if high_refs == 1 else 'match'} reference code "
               f"at {CLUSTER_SCORE * 100:g}% or more" if refs else "")
            + (f"; {_count(len(broken), 'entry', 'entries')} could not be read" if broken else "")
            + (f"; {_count(dropped, 'fingerprint')} found in more than {limit} submissions counted as common code"
               if dropped else "")
            + f". Wrote similarity.html, similarity_histogram.png and similarity.csv in {out}.")
