"""Who shares student-written code: ``python -m grader similarity SUBMISSIONS --out DIR
[--reference DIR ...]``, and ``batch --similarity`` after grading.

What is compared. Every graded function (the lower-case keys of :data:`grader.cases.FUNCTIONS`
that live in ``linear_classifier.py`` or ``two_layer_net.py``) is compared only with the same
function of the other submissions, as what it runs (:mod:`grader.instructor.live_code`): its
body's statements that can affect its result (dead assignments, ``pass``, prints, unreachable
code and ``if False:`` blocks left out, so that padding with them does not dilute a copy), then
every module-level definition it reaches through names, in either file (helpers, lambdas,
tables, classes, and the module-level statements that change them; the other graded functions
are compared on their own), so that moving a body into helpers hides nothing. Whatever a
template holds (the kit's stubs made from ``a2/`` by :func:`grader.instructor.stubs.make_stub`,
and the course's given code of Fall 2020 and Winter 2022 from
:mod:`grader.instructor.course_given`: signatures, docstrings, given code, TODO lines) never
counts, twice over: the lines a piece keeps from a template's version of the same definition
(aligned line by line, names and comments ignored) are blanked before fingerprinting, so that
no fingerprint straddles given code and a student's line; and every fingerprint of the
template files is removed as boilerplate. A function that is missing, or a file that does not
parse, gives nothing for that function (the entry gets a note), never an error. Files of any
size a submission may hold are read: one over ``LARGE`` has its comment lines dropped first,
and only one with more than ``MAX_LINES`` lines of code left is not compared (a note says so).

How. Fingerprints come from copydetect (the winnowing algorithm of MOSS; code tokenized by
Pygments with names, strings and comments normalized away, so renaming variables or rewriting
comments changes nothing). Every function body is fingerprinted once; the pairs that share a
fingerprint are found per function through an inverted index (a sparse submission x
fingerprint matrix times its transpose), and only those pairs are measured: the tokens each
side has inside shared passages, the figures of copydetect's ``compare_files`` (which draws
the highlighted side-by-side views). A fingerprint found in more than
``max(COMMON_MIN, COMMON_FRACTION * students)`` submissions is common code (the obvious way to
write a line, like MOSS's ``-m``) and does not count between students; it still counts
against references, so that a public solution many copied still shows.

Measures. ``tokens``: characters of the normalized token stream (copydetect's unit: a name
is one character) inside matched passages of at least ``NOISE`` such characters. Each
submission's *written* code is the part of what its graded functions run not in a template; the
percent of a side is its shared tokens over its written tokens, and a student pair's score is
both sides' shared tokens over both sides' written tokens (it lies between the two percents).
A match with a reference scores the percent of the student's written code found in it.
A function is named as *shared* when the matched passages cover at least ``FUNCTION_SHARE``
of that function's written code on one side, or ``FUNCTION_TOKENS`` tokens. Clusters are the
connected components (three or more submissions) of the pairs scoring ``CLUSTER_SCORE`` (30%)
or more: a copy of the whole work scores near 100%, one copied function among several
written alone about 30%, independent work under 5% in the tests' class (the bench's
synthetic classes of 500: only the planted copies reach 30%). A pair that shares fewer than
``MIN_TOKENS`` tokens on either side (a line or two: a high percent of almost nothing) ranks
after every pair that shares more and joins no cluster; the report shows the token counts
beside every percent.

References (``--reference DIR``, repeatable): code nobody should hand in. A folder that holds
the two files itself (at its top or in ``a2/``), or a zip, is one reference named after it;
any other folder is read like a submissions folder, one reference per entry, named
``FOLDER/ENTRY``. References are compared with every student, never with each other, and
their matches are listed apart from the student pairs.

Outputs in OUT: ``similarity.html`` (pairs ranked by score, the functions they share,
clusters, reference matches, side-by-side views of the top pairs with the matched passages
highlighted, the entries that could not be read), ``similarity_histogram.png`` (every
pair's score, counts on a log scale so that outliers stand out) and ``similarity.csv`` (one
row per student pair, one per student x reference pair, one per entry that could not be
read).
"""
import ast
import difflib
import functools
import html
import io
import itertools
import keyword
import logging
import math
import re
import textwrap
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..assignment import resolve
from ..files import write_atomic
from ..inert import InertWriter, shown_name
from ..mode import instructor_module
from ..paths import ROOT
from ..submission import MAX_TOTAL_BYTES, SubmissionError, prepare
from .entries import Entry, discover
from .live_code import Piece, Reader, read_module
from .stubs import StubError, make_stub

NOISE = 25  # shortest match that counts, in normalized characters (copydetect's default)
GUARANTEE = 25  # every match this long is found; equal to NOISE: every k-gram is a fingerprint
COMMON_MIN, COMMON_FRACTION = 10, 0.10  # a fingerprint in more submissions than this is common code
FUNCTION_SHARE, FUNCTION_TOKENS = 0.5, 150  # when a function is named as shared by a pair
CLUSTER_SCORE = 0.30  # pairs scoring this or more join clusters
TABLE_ROWS = 200  # rows of each table in the HTML (the CSV has every pair)
SIDE_BY_SIDE = 20  # pairs (and reference matches) shown side by side
MIN_TOKENS = 100  # a pair sharing fewer tokens (on either side) ranks after every pair that shares more
LARGE = 1 << 20  # a file larger than this is read with its comment lines dropped first
MAX_SOURCE = MAX_TOTAL_BYTES  # bytes read of a file: what a submission may hold
MAX_PARSED = 64 << 20  # characters parsed of a file, comment lines dropped; beyond: not compared
MAX_LINES = 250_000  # lines of code parsed of a file (about 6 s and 0.7 GB); beyond: not compared

log = logging.getLogger(__name__)

# What is compared is read from the assignment's description: its graded functions (not its
# classes) that live in its code files. These tables describe the kit's default assignment, the
# one the report compares so far (run_similarity refuses another, saying so).
UNIT = resolve(None)
CODE_FILES = UNIT.code_files
FILE_OF = {name: f"{module}.py" for name, module in UNIT.functions.items()
           if f"{module}.py" in CODE_FILES and not name[:1].isupper()}
COMPARED = tuple(FILE_OF)


class SimilarityError(ValueError):
    """The comparison cannot run as asked; the message says why."""


@dataclass
class Body:
    text: str  # what the function runs, as compared (its kept statements, then what it reaches)
    line: int  # where it starts in its file
    fp: object  # copydetect.CodeFingerprint, template fingerprints removed


@dataclass
class Code:
    id: str
    kind: str  # "student" or "reference"
    origin: str
    bodies: Dict[str, Body] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @functools.cached_property
    def written(self) -> int:  # read once all bodies are in
        return sum(b.fp.token_coverage for b in self.bodies.values())

    def written_in(self, function: str) -> int:
        body = self.bodies.get(function)
        return body.fp.token_coverage if body else 0


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


@dataclass
class Broken:
    id: str
    kind: str
    origin: str
    why: str


# --------------------------------------------------------------------------------------------
# Reading code


def _fingerprint(text: str, template: frozenset):
    """copydetect's fingerprint of ``text`` with the template's removed. (Not through its
    ``boilerplate`` argument: copydetect 0.5 removes it with ``np.intersect1d(...,
    assume_unique=True)`` on hashes that may repeat, which also drops repeated passages that
    are not boilerplate.)"""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    fp = CodeFingerprint("function.py", NOISE, GUARANTEE - NOISE + 1, fp=io.StringIO(text), language="python")
    kept = {}
    for value, where in fp.hash_idx.items():
        value = int(value)
        if value not in template:
            kept[value] = [int(i) for i in where]
    fp.hash_idx, fp.hashes = kept, set(kept)
    fp.token_coverage = int(get_token_coverage(kept, NOISE, len(fp.filtered_code)))
    return fp


_EMPTY = SimpleNamespace(k=NOISE, hashes=set(), hash_idx={}, filtered_code="", offsets=None, token_coverage=0)


@dataclass(frozen=True)
class Template:
    hashes: frozenset  # every fingerprint (each k-gram) of the template files
    given: Dict[str, Tuple[str, ...]]  # a definition's name -> its text in each template that has it


def _given_texts(source: str) -> Dict[str, str]:
    """The top-level definitions of a template: a function's body without its docstring, a
    class whole (as :class:`grader.instructor.live_code.Reader` shows what a function reaches)."""
    lines = source.splitlines(keepends=True)
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            body = node.body[1:] if len(node.body) > 1 and _is_docstring(node.body[0]) else node.body
            found[node.name] = _segment(lines, body[0], body[-1])
        elif isinstance(node, ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = textwrap.dedent("".join(lines[first - 1:node.end_lineno]))
    return found


def template_sources() -> Dict[str, Dict[str, str]]:
    """{template: {file name: source}}: the kit's student template, made from the solution in
    the assignment's folder as the handout makes it, and the course's terms (the unit's
    ``instructor/course_given.py``, when it has one)."""
    kit, folder = {}, ROOT / UNIT.student_dir
    for name in CODE_FILES:
        try:
            kit[name] = make_stub((folder / name).read_text(), name)
        except (OSError, StubError) as exc:
            raise SimilarityError(f"cannot make the student template from {folder / name}: {exc}") from exc
    given = instructor_module("course_given", UNIT.name) if (UNIT.instructor_dir / "course_given.py").is_file() else None
    return {"kit": kit, **(given.COURSE_TEMPLATES if given else {})}


def load_template() -> Template:
    """Every template's fingerprints, and the given text of each of its definitions."""
    from copydetect import CodeFingerprint

    hashes, given, shapes = set(), {}, {}
    for files in template_sources().values():
        for name, source in files.items():
            fp = CodeFingerprint(name, NOISE, 1, fp=io.StringIO(source), language="python")
            hashes.update(int(h) for h in fp.hashes)
            for definition, text in _given_texts(source).items():
                shape = tuple(x for x in map(_shape, text.splitlines()) if x)  # what the alignment sees
                if shape not in shapes.setdefault(definition, set()):
                    shapes[definition].add(shape)
                    given[definition] = given.get(definition, ()) + (text,)
    return Template(frozenset(hashes), given)


_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_STRING = re.compile(r"""[rbfuRBFU]{0,2}(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def _shape(line: str) -> str:
    """A line as the alignment with the template sees it: no comment (when no quote comes
    before the ``#``), no spaces, strings as S, names as V (keywords kept)."""
    head, hash_, _ = line.partition("#")
    if hash_ and "'" not in head and '"' not in head:
        line = head
    line = _WORD.sub(lambda m: m[0] if keyword.iskeyword(m[0]) else "V", _STRING.sub("S", line))
    return "".join(line.split())


def written_part(text: str, given) -> str:
    """``text`` with the lines it keeps from ``given`` (a template's text, or several: aligned
    line by line as :func:`_shape` sees them, so a renamed given variable is still given)
    blanked out, every other character in place: what the student wrote, at the positions it
    has in ``text``. Without this, the k-grams that straddle given code and a student's line
    would match everyone who wrote the same few tokens at the same place."""
    lines = text.splitlines(keepends=True)
    shapes = [_shape(line) for line in lines]
    for one in ([given] if isinstance(given, str) else given):
        # blank and comment lines are left out of the alignment: they only mislead it
        theirs = [x for x in map(_shape, one.splitlines()) if x]
        where = [j for j, shape in enumerate(shapes) if shape]
        matcher = difflib.SequenceMatcher(None, theirs, [shapes[j] for j in where], autojunk=False)
        for tag, _, _, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for j in where[j1:j2]:
                    end = len(lines[j].rstrip("\r\n"))
                    lines[j] = " " * end + lines[j][end:]
                    shapes[j] = ""
    return "".join(lines)


def _decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _segment(lines: List[str], first: ast.stmt, last: ast.stmt) -> str:
    """Source from ``first`` to ``last`` (whole lines, blanking what precedes ``first`` on
    its line), dedented. AST columns count UTF-8 bytes."""
    chunk = lines[first.lineno - 1:last.end_lineno]
    if not chunk:
        return ""
    end = chunk[-1].encode("utf-8", errors="replace")[:last.end_col_offset]
    chunk[-1] = end.decode("utf-8", errors="replace") + "\n"
    head = chunk[0].encode("utf-8", errors="replace")
    if head[:first.col_offset].strip():
        chunk[0] = " " * first.col_offset + head[first.col_offset:].decode("utf-8", errors="replace")
    return textwrap.dedent("".join(chunk))


def function_bodies(source: str, wanted: Iterable[str]) -> Dict[str, Tuple[str, int]]:
    """``{name: (body, first line)}`` for the top-level functions of ``source`` named in
    ``wanted`` (the last definition wins, as in Python). Raises SyntaxError and the like."""
    wanted = set(wanted)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted and node.body:
            body = node.body[1:] if len(node.body) > 1 and _is_docstring(node.body[0]) else node.body
            found[node.name] = (_segment(lines, body[0], body[-1]), body[0].lineno)
    return found


_COMMENT_LINE = re.compile(rb"(?m)^[ \t\f]*#[^\r\n]*")
_CODE_LINE = re.compile(rb"(?m)^[ \t\f]*[^ \t\f\r\n]")


def read_source(path: Path) -> Tuple[Optional[str], str]:
    """(the file's text, "") or (None, why it is not compared). A file larger than ``LARGE``
    is read in chunks with its comment-only lines emptied (their line breaks kept, so line
    numbers hold): padding with comments costs nothing, whatever its size."""
    name = path.name
    try:
        size = path.stat().st_size
        if size <= LARGE:
            return _decode(path.read_bytes()), ""
        if size > MAX_SOURCE:
            return None, (f"{name} is larger than a submission may be ({MAX_SOURCE >> 20} MiB): "
                          "its functions are not compared")
        kept, total, lines, carry = [], 0, 0, b""
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
            except (SyntaxError, LookupError):
                encoding = "utf-8"
            chunk = head
            while chunk or carry:
                data = carry + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)
                data, carry = data[:cut], data[cut:]
                data = _COMMENT_LINE.sub(b"", data)
                total += len(data)
                lines += len(_CODE_LINE.findall(data))
                if total > MAX_PARSED or lines > MAX_LINES:
                    return None, (f"{name} holds more than {MAX_LINES:,} lines or {MAX_PARSED >> 20} MiB of code "
                                  f"besides comments ({size >> 20} MiB in all): its functions are not compared")
                kept.append(data)
                chunk = f.read(16 << 20)
        return b"".join(kept).decode(encoding, errors="replace"), ""
    except (OSError, LookupError) as exc:
        return None, f"{name} cannot be read ({exc}): its functions are not compared"


_WRITTEN: Dict[tuple, str] = {}  # (definition, function, text, templates) -> its written part: one class's
# given classes and helpers repeat across submissions


def _written(name: str, function: str, text: str, template: Template, helper: bool) -> str:
    # a helper may hold what the template gives the function (its body moved there)
    given = template.given.get(name, ()) + (template.given.get(function, ()) if helper else ())
    key = (name, function if helper else "", text, given)
    found = _WRITTEN.get(key)
    if found is None:
        if len(_WRITTEN) > 4096:
            _WRITTEN.clear()
        found = _WRITTEN[key] = written_part(text, given)
    return found


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _compared(function: str, pieces: List[Piece], template: Template) -> Tuple[str, str]:
    """(the text shown for ``function``: its kept statements, then each definition it reaches
    that is not all template (a given class it uses, unchanged, is left out) under a comment
    line naming it; the same with the template's lines blanked)."""
    shown, mine = [], []
    for k, piece in enumerate(pieces):
        written = _written(piece.name, function, piece.text, template, k > 0)
        if k and _only_comments(written):
            continue
        head = "" if k == 0 else f"# --- {piece.name} ({piece.file}, line {piece.line}), which {function} runs\n"
        shown.append(head + piece.text)
        mine.append(head + written)
    return "".join(shown), "".join(mine)


def read_code(entry: Entry, kind: str, template: Template, cache: dict):
    """A :class:`Code` for ``entry``, or a :class:`Broken` saying why there is none."""
    if entry.error:  # e.g. its name maps to a student id another entry maps to
        return Broken(entry.id, kind, shown_name(entry.path), entry.error)
    try:
        prepared = prepare(entry.path, code_limit=MAX_TOTAL_BYTES, assignment=UNIT)  # grading refuses more; a copy is a copy
    except SubmissionError as exc:
        return Broken(entry.id, kind, shown_name(entry.path), str(exc))
    except Exception as exc:  # noqa: BLE001 - one entry never stops the comparison
        return Broken(entry.id, kind, shown_name(entry.path), f"cannot read it: {type(exc).__name__}: {exc}")
    code = Code(entry.id, kind, shown_name(entry.path))
    try:
        modules = {}
        for name in CODE_FILES:
            text, why = read_source(prepared.code_dir / name)
            if text is None:
                code.notes.append(why)
                continue
            try:
                modules[name] = read_module(name, text)
            except SyntaxError as exc:
                code.notes.append(f"{name} does not parse (line {exc.lineno}: {exc.msg}): "
                                  "its functions are not compared")
            except Exception as exc:  # noqa: BLE001 - ValueError (null bytes), RecursionError, MemoryError, ...
                code.notes.append(f"{name} cannot be parsed ({type(exc).__name__}): its functions are not compared")
        reader = Reader(modules, set(COMPARED))
        for name in modules:
            wanted = [f for f in COMPARED if FILE_OF[f] == name]
            missing = []
            for function in wanted:
                try:
                    pieces = reader.pieces(name, function)
                    if pieces is None:
                        missing.append(function)
                        continue
                    key = (function, tuple((p.name, p.text) for p in pieces))
                    found = cache.get(key)
                    if found is None:
                        text, mine = _compared(function, pieces, template)
                        fp = _fingerprint(mine, template.hashes) if mine.strip() else _EMPTY
                        found = cache[key] = (text, fp)
                except Exception as exc:  # noqa: BLE001 - hostile code must not stop the run
                    code.notes.append(f"{function} cannot be read ({type(exc).__name__})")
                    continue
                code.bodies[function] = Body(found[0], pieces[0].line, found[1])
            if missing and len(missing) < len(wanted):
                code.notes.append(f"no {', '.join(missing)} in {name}")
            elif missing:
                code.notes.append(f"none of the graded functions in {name}")
    finally:
        prepared.cleanup()
    return code


def _read_chunk(chunk, template: Template, probe: int):
    """In a worker: the codes of ``chunk``, or None if this process hashes strings otherwise
    than its parent (fingerprints are Python's ``hash()`` of the k-grams: a forked worker
    shares the parent's seed, a spawned one would not)."""
    if hash(_PROBE) != probe:
        return None
    cache: dict = {}
    return [read_code(entry, kind, template, cache) for entry, kind in chunk]


_PROBE = "a2 similarity: same string hashes in every process"


def read_all(tasks: List[Tuple[Entry, str]], template: Template, jobs: Optional[int] = None) -> list:
    """:func:`read_code` of every (entry, kind), in order; in forked processes when there are
    enough (tokenizing is most of the time, and pure Python)."""
    import multiprocessing
    import os

    jobs = min(os.cpu_count() or 1, 8) if jobs is None else jobs
    if jobs > 1 and len(tasks) >= 40 and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        from ..sandbox import work_root

        work_root()  # made here, so that the workers (which skip atexit) share it and leave nothing

        size = max(1, min(32, len(tasks) // (4 * jobs)))
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                done = list(pool.map(_read_chunk, chunks, [template] * len(chunks), [hash(_PROBE)] * len(chunks)))
        except (OSError, RuntimeError) as exc:  # no processes here (limits, sandbox): read them in this one
            log.warning("reading submissions in one process (%s: %s)", type(exc).__name__, exc)
        else:
            if all(part is not None for part in done):
                return [code for part in done for code in part]
    cache: dict = {}
    return [read_code(entry, kind, template, cache) for entry, kind in tasks]


def _holds_code(folder: Path) -> bool:
    return any(all((place / name).is_file() for name in CODE_FILES) for place in (folder / UNIT.student_dir, folder))


def reference_entries(folders: Sequence) -> List[Entry]:
    """One entry per reference: a folder holding the two files (at its top or in ``a2/``) or
    a zip is one; any other folder is read as a submissions folder, one entry per folder or
    zip in it, named ``FOLDER/ENTRY``."""
    entries, seen = [], {}
    for folder in map(Path, folders):
        if not folder.exists():
            raise SimilarityError(f"--reference {folder} does not exist")
        name = folder.resolve().name or "reference"
        if folder.is_file() or _holds_code(folder):
            found = [Entry(name, folder)]
        else:
            try:
                found = [Entry(f"{name}/{e.id}", e.path) for e in discover(folder)]
            except SubmissionError as exc:
                raise SimilarityError(f"--reference {folder}: {exc}") from exc
            if not found:
                raise SimilarityError(f"--reference {folder} holds neither {' and '.join(CODE_FILES)} nor "
                                      "any submission folder or zip")
        for entry in found:
            seen[entry.id] = seen.get(entry.id, 0) + 1
            entries.append(entry if seen[entry.id] == 1 else Entry(f"{entry.id}-{seen[entry.id]}", entry.path))
    return entries


# --------------------------------------------------------------------------------------------
# Comparing


def common_limit(students: int) -> int:
    return max(COMMON_MIN, math.ceil(COMMON_FRACTION * students))


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


def compare(students: List[Code], references: List[Code]):
    """(student pairs, reference matches, common fingerprints per function): only the pairs
    that share something, each with its tokens per function."""
    import numpy as np
    from scipy import sparse

    limit = common_limit(len(students))
    pairs: Dict[Tuple[int, int], Match] = {}
    ref_matches: Dict[Tuple[int, int], Match] = {}
    commons: Dict[str, set] = {}
    for function in COMPARED:
        docs = [(i, c.bodies[function].fp) for i, c in enumerate(students)
                if function in c.bodies and c.bodies[function].fp.hashes]
        refs = [(r, c.bodies[function].fp) for r, c in enumerate(references)
                if function in c.bodies and c.bodies[function].fp.hashes]
        if not docs:
            continue
        column: Dict[int, int] = {}
        rows, cols = [], []
        for row, (_, fp) in enumerate(docs):
            for value in fp.hashes:
                cols.append(column.setdefault(value, len(column)))
            rows.extend([row] * len(fp.hashes))
        rows_a, cols_a = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        df = np.bincount(cols_a, minlength=len(column))
        matrix = sparse.csr_matrix((np.ones(len(cols_a), dtype=np.int32), (rows_a, cols_a)),
                                   shape=(len(docs), len(column)))
        is_common = df > limit
        common = {value for value, col in column.items() if is_common[col]}
        commons[function] = common
        private = [fp.hashes - common if common else fp.hashes for _, fp in docs]
        kept = matrix[:, np.flatnonzero((df >= 2) & ~is_common)]
        together = sparse.triu(kept @ kept.T, k=1).tocoo()
        for x, y in zip(together.row.tolist(), together.col.tolist()):
            ta, tb = overlap_tokens(docs[x][1], docs[y][1], private[x], private[y])
            if ta or tb:
                i, j = docs[x][0], docs[y][0]
                match = pairs.get((i, j))
                if match is None:
                    match = pairs[(i, j)] = Match(students[i], students[j], {})
                match.tokens[function] = (ta, tb)
        if not refs:
            continue
        rrows, rcols = [], []
        for row, (_, fp) in enumerate(refs):
            for value in fp.hashes:
                col = column.get(value)
                if col is not None:
                    rrows.append(row)
                    rcols.append(col)
        if not rcols:
            continue
        rmatrix = sparse.csr_matrix((np.ones(len(rcols), dtype=np.int32), (rrows, rcols)),
                                    shape=(len(refs), len(column)))
        against = (matrix @ rmatrix.T).tocoo()
        for x, y in zip(against.row.tolist(), against.col.tolist()):
            ta, tb = overlap_tokens(docs[x][1], refs[y][1], docs[x][1].hashes, refs[y][1].hashes)
            if ta or tb:
                i, r = docs[x][0], refs[y][0]
                match = ref_matches.get((i, r))
                if match is None:
                    match = ref_matches[(i, r)] = Match(students[i], references[r], {}, reference=True)
                match.tokens[function] = (ta, tb)
    return pairs, ref_matches, commons


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


# --------------------------------------------------------------------------------------------
# Outputs

CSV_HEADER = ["kind", "a", "b", "score", "percent_a", "percent_b", "tokens_a", "tokens_b", "written_a",
              "written_b", "shared_functions", "note"]


def similarity_csv(students: List[Code], pairs: Dict[Tuple[int, int], Match],
                   ref_matches: Dict[Tuple[int, int], Match], references: List[Code],
                   broken: List[Broken]) -> str:
    """One row per student pair and per student x reference pair (all of them, zeros
    included, highest score first), then one per entry that could not be read."""
    buffer = io.StringIO()
    writer = InertWriter(buffer, lineterminator="\n")  # no cell starts a spreadsheet formula
    writer.writerow(CSV_HEADER)

    def rows(found, kind, left, right, all_pairs):
        listed = sorted(found.values(), key=Match.sort_key)
        for m in listed:
            writer.writerow([kind, m.a.id, m.b.id, f"{m.score:.2f}", f"{m.percent_a:.2f}", f"{m.percent_b:.2f}",
                             m.tokens_a, m.tokens_b, m.a.written, m.b.written, " ".join(m.shared),
                             "" if m.counts else f"fewer than {MIN_TOKENS} tokens shared: ranked after the others"])
        for x, y in all_pairs:
            if (x, y) not in found:
                writer.writerow([kind, left[x].id, right[y].id, "0.00", "0.00", "0.00", 0, 0, left[x].written,
                                 right[y].written, "", ""])

    rows(pairs, "pair", students, students, itertools.combinations(range(len(students)), 2))
    rows(ref_matches, "reference", students, references,
         itertools.product(range(len(students)), range(len(references))))
    for b in broken:
        writer.writerow(["not compared", b.id, "", "", "", "", "", "", "", "", "", f"{b.kind}: {b.why}"])
    return buffer.getvalue()


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _histogram(out: Path, scores: List[float], ref_scores: List[float]) -> str:
    from helpers.plots import plt

    from .report import save_figure

    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = [i * 2.0 for i in range(51)]
    if scores:
        ax.hist(scores, bins=bins, color="#4c72b0", label=f"student pairs ({len(scores)})")
    if ref_scores:
        ax.hist(ref_scores, bins=bins, color="#dd8452", alpha=0.7, label=f"student x reference ({len(ref_scores)})")
    ax.axvline(CLUSTER_SCORE * 100, color="#c44e52", linestyle="--", linewidth=1,
               label=f"clusters from {CLUSTER_SCORE * 100:g}%")
    if scores or ref_scores:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set(title="Shared student-written code" + ("" if scores or ref_scores else " (no pairs)"),
           xlabel="score (% of written code shared)", ylabel="pairs (log scale)", xlim=(0, 100))
    fig.tight_layout()
    name = save_figure(fig, out / "similarity_histogram.png")
    plt.close("all")
    return name


def _highlight(text: str, mine: str, slices) -> str:
    """``text`` escaped, with the copied slices marked, except the given code blanked in
    ``mine`` (the fingerprinted text, same positions) that a slice spans or ends on."""
    marked = [False] * len(text)
    for start, end in zip(slices[0].tolist(), slices[1].tolist()) if len(slices[0]) else []:
        for i in range(max(int(start), 0), min(int(end), len(text))):
            marked[i] = True
    for i, (ours, given) in enumerate(zip(mine, text)):
        if ours.isspace() and not given.isspace():
            marked[i] = False
    parts = []
    for flag, run in itertools.groupby(range(len(text)), key=marked.__getitem__):
        run = list(run)
        chunk = html.escape(text[run[0]:run[-1] + 1])
        parts.append(f"<mark>{chunk}</mark>" if flag and text[run[0]:run[-1] + 1].strip() else chunk)
    return "".join(parts)


def _side_by_side(match: Match, anchor: str, common: Dict[str, set]) -> str:
    from copydetect.detector import compare_files

    e = html.escape
    parts = [f"<h3 id='{anchor}'>{e(match.a.id)} and {e(match.b.id)}: {match.score:.1f}% "
             f"({match.tokens_a} / {match.tokens_b} tokens)</h3>"]
    for function in sorted(match.tokens, key=lambda f: -sum(match.tokens[f])):
        ba, bb = match.a.bodies[function], match.b.bodies[function]
        drop = set() if match.reference else common.get(function, set())
        sides = [SimpleNamespace(k=b.fp.k, hashes=b.fp.hashes - drop, hash_idx=b.fp.hash_idx,
                                 filtered_code=b.fp.filtered_code, offsets=b.fp.offsets,
                                 token_coverage=b.fp.token_coverage) for b in (ba, bb)]
        _, _, (sa, sb) = compare_files(*sides)
        ta, tb = match.tokens[function]
        parts.append(f"<p><code>{e(function)}</code>: {ta} / {tb} tokens shared</p>"
                     "<table class='sbs'><tr>"
                     f"<th>{e(match.a.id)}, line {ba.line}</th><th>{e(match.b.id)}, line {bb.line}</th></tr><tr>"
                     f"<td><pre>{_highlight(ba.text, ba.fp.raw_code, sa)}</pre></td>"
                     f"<td><pre>{_highlight(bb.text, bb.fp.raw_code, sb)}</pre></td>"
                     "</tr></table>")
    return "\n".join(parts)


def _figure(percent: float, shared: int, written: int) -> str:
    return f"{percent:.1f}% <small>({shared} of {written} tokens)</small>"


def _match_rows(matches: List[Match], anchors: Dict[int, str], reference: bool) -> str:
    e = html.escape
    head = ("<tr><th>#</th><th>student</th><th>reference</th><th>% of student</th><th>% of reference</th>"
            if reference else "<tr><th>#</th><th>a</th><th>b</th><th>score</th><th>% of a</th><th>% of b</th>")
    rows = [head + "<th>shared functions (tokens a / b)</th></tr>"]
    for rank, m in enumerate(matches, start=1):
        functions = ", ".join(f"<code>{e(f)}</code> ({m.tokens[f][0]} / {m.tokens[f][1]})" for f in m.shared)
        if not m.counts:
            functions += f" <em>(fewer than {MIN_TOKENS} tokens shared: ranked after the others)</em>"
        link = f"<a href='#{anchors[id(m)]}'>{rank}</a>" if id(m) in anchors else str(rank)
        score = "" if reference else \
            f"<td>{_figure(m.score, m.tokens_a + m.tokens_b, m.a.written + m.b.written)}</td>"
        rows.append(f"<tr><td>{link}</td><td>{e(m.a.id)}</td><td>{e(m.b.id)}</td>{score}"
                    f"<td>{_figure(m.percent_a, m.tokens_a, m.a.written)}</td>"
                    f"<td>{_figure(m.percent_b, m.tokens_b, m.b.written)}</td><td>{functions}</td></tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def similarity_html(summary: str, students: List[Code], references: List[Code], ranked: List[Match],
                    ranked_refs: List[Match], groups: List[List[str]], broken: List[Broken],
                    image: str, common: Dict[str, set], limit: int) -> str:
    e = html.escape
    parts = ["<!doctype html><meta charset='utf-8'><title>Assignment 2 similarity report</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:90%;vertical-align:top}"
             "table.sbs{width:100%;table-layout:fixed}pre{white-space:pre-wrap;font-size:85%;margin:0}"
             "mark{background:#ffd27f}</style>",
             "<h1>Assignment 2 similarity report</h1>", f"<p>{e(summary)}</p>",
             "<p>Compared: what every graded function runs (its statements that can affect its result, then "
             "the helpers, lambdas, tables and classes it reaches at module level), with the same function of the "
             "other submissions. Statements that cannot affect a result (dead assignments, <code>pass</code>, "
             "prints, code after <code>return</code>, <code>if False:</code> blocks) are left out. The templates "
             "(the kit's and the course's Fall 2020 and Winter 2022: signatures, docstrings, given code) never "
             "count; names, strings and comments are normalized away (copydetect: MOSS's winnowing over Pygments "
             f"tokens). A passage counts from {NOISE} normalized characters (<em>tokens</em>: a name is one). "
             f"Passages found in more than {limit} submissions are common code and do not count between students. "
             "Score: shared tokens of both sides over the code both wrote (both figures beside it). A pair that "
             f"shares fewer than {MIN_TOKENS} tokens on either side ranks after every pair that shares more, "
             f"whatever its percent, and joins no cluster. Clusters link pairs scoring {CLUSTER_SCORE * 100:g}% or "
             "more.</p>",
             f"<img src='{e(image)}' alt='histogram of pair scores'>"]
    shown = [m for m in ranked if m.tokens_a or m.tokens_b][:TABLE_ROWS]
    shown_refs = [m for m in ranked_refs if m.tokens_a or m.tokens_b][:TABLE_ROWS]
    anchors = {id(m): f"pair-{k}" for k, m in enumerate(shown[:SIDE_BY_SIDE], start=1)}
    anchors.update({id(m): f"ref-{k}" for k, m in enumerate(shown_refs[:SIDE_BY_SIDE], start=1)})
    parts.append(f"<h2>Student pairs, most shared first</h2><p>{len(shown)} of {len(ranked)} pairs that share "
                 "anything are listed (similarity.csv has every pair).</p>")
    parts.append(_match_rows(shown, anchors, False) if shown else "<p>No pair shares student-written code.</p>")
    parts.append(f"<h2>Clusters of three or more (pairs scoring {CLUSTER_SCORE * 100:g}% or more)</h2>")
    if groups:
        parts.append("<ol>" + "".join(f"<li>{len(g)} submissions: {e(', '.join(g))}</li>" for g in groups) + "</ol>")
    else:
        parts.append("<p>None.</p>")
    parts.append(f"<h2>Common code (in more than {limit} submissions: not counted between students)</h2>")
    dropped = {f: len(v) for f, v in common.items() if v}
    if dropped:
        parts.append("<p>Fingerprints dropped, per function: " + ", ".join(
            f"<code>{e(f)}</code> {n}" for f, n in sorted(dropped.items(), key=lambda x: -x[1])) + ". Code that "
            "this many hand in is usually the obvious way to write it; if many copied one source, give that source "
            "as <code>--reference</code> (reference matches count common code).</p>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Matches with reference code</h2>")
    if not references:
        parts.append("<p>No reference given (<code>--reference DIR</code>).</p>")
    else:
        parts.append(f"<p>References: {e(', '.join(r.id for r in references))}. Ranked by the percent of the "
                     "student's written code found in the reference.</p>")
        parts.append(_match_rows(shown_refs, anchors, True) if shown_refs else "<p>No match.</p>")
    parts.append("<h2>Entries that could not be compared</h2>")
    if broken:
        parts.append("<table><tr><th>entry</th><th>kind</th><th>why</th></tr>" + "".join(
            f"<tr><td>{e(b.id)}</td><td>{e(b.kind)}</td><td>{e(b.why)}</td></tr>" for b in broken) + "</table>")
    else:
        parts.append("<p>None.</p>")
    noted = [c for c in students + references if c.notes]
    if noted:
        parts.append("<h2>Notes</h2><table><tr><th>entry</th><th>note</th></tr>" + "".join(
            f"<tr><td>{e(c.id)}</td><td>{e('; '.join(c.notes))}</td></tr>" for c in noted) + "</table>")
    parts.append("<h2>Side by side</h2>")
    for m in shown[:SIDE_BY_SIDE] + shown_refs[:SIDE_BY_SIDE]:
        parts.append(_side_by_side(m, anchors[id(m)], common))
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------


def run_similarity(submissions, out, *, references: Sequence = (), entries: Optional[List[Entry]] = None,
                   jobs: Optional[int] = None, assignment=None) -> str:
    """Compare the entries of ``submissions`` (or ``entries``, as batch discovered them) with
    each other and with ``references``; write similarity.html, similarity_histogram.png and
    similarity.csv into ``out``; return a one-paragraph summary. ``jobs``: processes that
    read and fingerprint the entries (default: the CPUs, at most 8). Raises SimilarityError when
    it cannot run (no such folder, copydetect missing, ...); a broken entry only gets a row."""
    if assignment is not None and resolve(assignment) is not UNIT:
        raise SimilarityError(f"the similarity report compares {UNIT.name}'s functions only so far, not "
                              f"{resolve(assignment).name}'s")
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
    ref_entries = reference_entries(references)
    template = load_template()
    tasks = [(e, "student") for e in entries] + [(e, "reference") for e in ref_entries]
    students, refs, broken = [], [], []
    for code in read_all(tasks, template, jobs):
        (broken if isinstance(code, Broken) else students if code.kind == "student" else refs).append(code)
    pairs, ref_matches, common = compare(students, refs)
    limit = common_limit(len(students))
    dropped = sum(len(v) for v in common.values())
    ranked = sorted(pairs.values(), key=Match.sort_key)
    ranked_refs = sorted(ref_matches.values(), key=Match.sort_key)
    groups = clusters(ranked)
    total = len(students) * (len(students) - 1) // 2
    scores = [m.score for m in ranked] + [0.0] * (total - len(ranked))
    ref_scores = [m.score for m in ranked_refs] + [0.0] * (len(students) * len(refs) - len(ranked_refs))
    high = sum(1 for m in ranked if m.counts and m.score >= CLUSTER_SCORE * 100)
    high_refs = sum(1 for m in ranked_refs if m.counts and m.score >= CLUSTER_SCORE * 100)
    summary = (f"Compared {_count(len(students), 'submission')} ({_count(total, 'pair')})"
               + (f" and {_count(len(refs), 'reference')}" if refs or references else "")
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
    out.mkdir(parents=True, exist_ok=True)
    image = _histogram(out, scores, ref_scores)
    write_atomic(out / "similarity.csv", similarity_csv(students, pairs, ref_matches, refs, broken))
    write_atomic(out / "similarity.html", similarity_html(summary, students, refs, ranked, ranked_refs, groups,
                                                           broken, image, common, limit))
    return summary

