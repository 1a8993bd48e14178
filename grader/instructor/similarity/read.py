"""Reading the submissions: each entry's code files, parsed (:mod:`.live`), what each compared
function runs with the template's lines blanked (:mod:`.extract`), fingerprinted once
(:mod:`.fingerprint`). A function that is missing, or a file that does not parse, gives nothing
for that function (the entry gets a note), never an error; an entry that cannot be read at all
is :class:`Broken`. Many entries are read in forked processes."""
import functools
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...inert import shown_name
from ...submission import MAX_TOTAL_BYTES, SubmissionError, prepare
from ..entries import Entry
from .extract import compared_text
from .fingerprint import EMPTY, fingerprint
from .live import Reader, read_module
from .source import read_source
from .template import Template

log = logging.getLogger(__name__)


@dataclass
class Body:
    """One compared function of one submission."""

    text: str  # what the function runs, as compared (its kept statements, then what it reaches)
    line: int  # where it starts in its file
    fp: object  # copydetect.CodeFingerprint, template fingerprints removed


@dataclass
class Code:
    """One submission's or reference's compared functions, with notes on what could not be read."""

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
class Broken:
    """An entry that could not be read at all, and why."""

    id: str
    kind: str
    origin: str
    why: str


def read_code(entry: Entry, kind: str, template: Template, cache: dict):
    """A :class:`Code` for ``entry``, or a :class:`Broken` saying why there is none. ``cache``:
    (function, its pieces) -> (text, fingerprint), shared by the entries one process reads."""
    if entry.error:  # e.g. its name maps to a student id another entry maps to
        return Broken(entry.id, kind, shown_name(entry.path), entry.error)
    try:
        prepared = prepare(entry.path, code_limit=MAX_TOTAL_BYTES,  # grading refuses more; a copy is a copy
                           assignment=template.assignment)
    except SubmissionError as exc:
        return Broken(entry.id, kind, shown_name(entry.path), str(exc))
    except Exception as exc:  # noqa: BLE001 - one entry never stops the comparison
        return Broken(entry.id, kind, shown_name(entry.path), f"cannot read it: {type(exc).__name__}: {exc}")
    code = Code(entry.id, kind, shown_name(entry.path))
    try:
        modules = _parse(prepared.code_dir, template.code_files, code.notes)
        reader = Reader(modules, set(template.file_of), siblings=template.code_files)
        for name in modules:
            _read_functions(code, reader, name, template, cache)
    finally:
        prepared.cleanup()
    return code


def _parse(folder, code_files, notes: List[str]) -> dict:
    """{file name: :class:`.live.Module`} of the ``code_files`` in ``folder`` that can be read
    and parsed; a note in ``notes`` for each other one."""
    modules = {}
    for name in code_files:
        text, why = read_source(folder / name)
        if text is None:
            notes.append(why)
            continue
        try:
            modules[name] = read_module(name, text)
        except SyntaxError as exc:
            notes.append(f"{name} does not parse (line {exc.lineno}: {exc.msg}): its functions are not compared")
        except Exception as exc:  # noqa: BLE001 - ValueError (null bytes), RecursionError, MemoryError, ...
            notes.append(f"{name} cannot be parsed ({type(exc).__name__}): its functions are not compared")
    return modules


def _read_functions(code: Code, reader: Reader, name: str, template: Template, cache: dict) -> None:
    """The compared functions of file ``name`` into ``code.bodies``; notes for those missing."""
    wanted = [f for f, file in template.file_of.items() if file == name]
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
                text, mine = compared_text(function, pieces, template.given)
                fp = fingerprint(mine, template.hashes) if mine.strip() else EMPTY
                found = cache[key] = (text, fp)
        except Exception as exc:  # noqa: BLE001 - hostile code must not stop the run
            code.notes.append(f"{function} cannot be read ({type(exc).__name__})")
            continue
        code.bodies[function] = Body(found[0], pieces[0].line, found[1])
    if missing and len(missing) < len(wanted):
        code.notes.append(f"no {', '.join(missing)} in {name}")
    elif missing:
        code.notes.append(f"none of the graded functions in {name}")


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

        from ...sandbox import work_root

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
