"""Grading a folder of submissions: one entry per student (a folder or a zip), graded in
parallel from one warm zygote, each result written atomically as soon as it is known, and a
killed batch resumed by content hash.

Outputs in OUT: ``results/<id>.json`` (Gradescope's results.json schema, with our metadata in
``extra_data``), ``feedback/<id>.md``, and, rebuilt from all results at the end,
``grades.csv`` and ``report.html`` with its plots.
"""
import concurrent.futures
import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

from ..assignment import REGISTRY, Assignment, resolve
from ..cases import select
from ..catalogue import all_cases
from ..files import write_atomic
from ..inert import inert_text
from ..launch import turned_off
from ..paths import ROOT
from ..protection import warning
from ..runner import NeedsNewerPython, grade, precompute_inputs
from ..sandbox import Limits, ZygoteHolder
from ..submission import MAX_DEPTH, SubmissionError, prepare
from .entries import Entry, batch_assignment, discover
from .feedback import feedback_markdown

log = logging.getLogger(__name__)

HASH_LIMIT = 256 << 20  # bytes of a submission read for its content hash
MAX_FILES = 20000  # files in a folder entry (a zip holds at most 2000 members)


def in_shard(entry_id: str, shard: Optional[Tuple[int, int]]) -> bool:
    """Deterministic split by a hash of the id, stable when submissions are added."""
    if shard is None:
        return True
    k, n = shard
    return int(hashlib.sha256(entry_id.encode()).hexdigest(), 16) % n == k - 1


def parse_shard(text: Optional[str]) -> Optional[Tuple[int, int]]:
    if not text:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N (e.g. 2/8), not {text!r}")
    return int(match[1]), int(match[2])


def _files(folder: Path) -> List[Path]:
    """The regular files under ``folder``, sorted by their names' bytes, walked without
    recursion and without following links; SubmissionError for a tree deeper than MAX_DEPTH."""
    found, todo = [], [(folder, 0)]
    while todo:
        here, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise SubmissionError(f"it holds folders nested more than {MAX_DEPTH} deep "
                                  f"({inert_text(str(here.relative_to(folder))[:200])}...): hand in the two files "
                                  "(and the checkpoints) without such folders")
        with os.scandir(here) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    todo.append((Path(entry.path), depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path))
                    if len(found) > MAX_FILES:
                        raise SubmissionError(f"it holds more than {MAX_FILES} files: hand in the two files (and "
                                              "the checkpoints) without the rest")
    return sorted(found, key=lambda p: os.fsencode(p))


def content_hash(path: Path) -> str:
    """SHA-256 of a submission's files (names and bytes), so a changed submission is regraded.
    Names are hashed as bytes: a name that is not UTF-8 (an LMS download unzipped on another
    system) is hashed like any other."""
    digest, budget = hashlib.sha256(), HASH_LIMIT
    files = [path] if path.is_file() else _files(path)
    for file in files:
        digest.update(os.fsencode(file.relative_to(path) if path.is_dir() else file.name) + b"\0")
        with open(file, "rb") as f:
            while budget > 0 and (chunk := f.read(min(1 << 20, budget))):
                digest.update(chunk)
                budget -= len(chunk)
    return digest.hexdigest()


# What a grade depends on besides the submission, as (folder, pattern): every file of the grader
# that runs in either process (runner, tracer, reply format, sandbox, student side, catalogue,
# judges, instructor code), its fixtures, the course helpers a worker runs, and the solution
# from which hidden answers are made.
GRADING_FILES = (("grader", "*.py"), ("grader/assignments", "*"), ("helpers", "*.py"))


def grading_files(unit: Assignment):
    """GRADING_FILES and the assignment's solution folder."""
    return GRADING_FILES + ((unit.student_dir, "*.py"),)


def fingerprint(hidden: bool, device: str, assignment=None, **options) -> str:
    """What else a result depends on: the files of GRADING_FILES (names and bytes), the Python
    and torch versions, the sandbox layers turned off, and the options (``options``: limits,
    feedback level, data folder and what CIFAR-10 files it holds). A resumed batch regrades
    every entry whose fingerprint differs."""
    import torch

    unit = resolve(assignment)
    state = {"hidden": hidden, "device": device, "python": sys.version, "torch": torch.__version__,
             "without": turned_off(), **options}
    if len(REGISTRY) > 1:  # (a kit of one assignment keeps the fingerprints it always had)
        state["assignment"] = unit.name
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    for folder, pattern in grading_files(unit):
        base = ROOT / folder
        for path in sorted(p for p in base.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            digest.update(os.fsencode(path.relative_to(ROOT)) + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _data_state(data_dir) -> list:
    """What the best-model evaluation would find in the data folder: CIFAR-10's files, their
    sizes and times (a download between two runs changes "not graded" into a grade), and whether
    they are checked against the release's MD5 sums."""
    from helpers.data import CIFAR10_FOLDER, default_data_dir, verify_by_default

    folder = Path(data_dir or default_data_dir()) / CIFAR10_FOLDER
    unverified = [] if verify_by_default() else [("A2_DATA_VERIFY", 0, 0)]
    try:
        return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())][:100] + unverified
    except OSError:
        return unverified


def error_result(entry: Entry, message: str, chash: str, fp: str) -> dict:
    message = inert_text(message)
    return {"score": 0.0, "execution_time": 0.0, "tests": [], "output": f"Not graded: {message}",
            "extra_data": {"id": entry.id, "content_hash": chash, "fingerprint": fp, "error": message,
                           "function_scores": {}, "max_score": 0.0, "cases": []}}


class Progress:
    """graded / total, rate and time left, on one line of stderr (a line every 10 s when not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.start = self.last = time.monotonic()
        self.lock = threading.Lock()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def step(self) -> None:
        with self.lock:
            self.done += 1
            now = time.monotonic()
            if not self.tty and now - self.last < 10 and self.done < self.total:
                return
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            left = (self.total - self.done) / rate if rate else 0
            width = 30
            bar = "#" * int(width * self.done / max(self.total, 1))
            line = (f"[{bar:<{width}}] {self.done}/{self.total} graded, {rate:.2f}/s, "
                    f"{int(left) // 60}:{int(left) % 60:02d} left")
            self.stream.write(("\r" + line) if self.tty else line + "\n")
            if self.tty and self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def grade_entry(entry: Entry, out: Path, chash: str, *, hidden, device, limits, zygotes, inputs, fp, protect,
                feedback_hidden, data_dir, assignment=None) -> dict:
    """Grade one entry (of ``assignment``: the batch's) and write its feedback; returns its
    result; never raises."""
    if entry.error:
        return error_result(entry, entry.error, chash, fp)
    try:
        try:
            prepared = prepare(entry.path, assignment=resolve(assignment))
        except SubmissionError as exc:
            return error_result(entry, str(exc), chash, fp)
        try:
            report = grade(entry.path, hidden=hidden, device=device, limits=limits, zygote=zygotes,
                           prepared=prepared, protect=protect, inputs=inputs, data_dir=data_dir)
        except NeedsNewerPython as exc:
            return error_result(entry, str(exc), chash, fp)
        finally:
            prepared.cleanup()
        result = report.to_gradescope(hidden_level=feedback_hidden)
        result["extra_data"] = {
            "id": entry.id, "assignment": report.assignment, "content_hash": chash, "fingerprint": fp, "error": None,
            "max_score": report.max_score, "function_scores": report.function_scores(),
            "cases": [{"check": r.check, "name": r.name, "visibility": r.visibility, "status": r.status,
                       "reason": r.reason, "diagnosis": r.diagnosis,
                       "causes": [[label, list(paths)] for label, paths in r.causes], "points": r.points,
                       "max_points": r.max_points, "message": r.message[:400]} for r in report.results],
            "notes": list(report.notes), "setup_notes": list(report.setup_notes),
        }
        write_atomic(out / "feedback" / f"{entry.id}.md", feedback_markdown(entry.id, report, feedback_hidden))
        return result
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
        log.exception("grading %s failed", entry.id)
        return error_result(entry, f"internal error while grading: {type(exc).__name__}: {exc}", chash, fp)


def result_json(result: dict) -> str:
    """A result as JSON: a line per field (those of ``extra_data`` too) and per item of a list
    (each test, each case). Written by the C encoder: ``json.dumps(indent=...)`` runs the
    pure-Python one, a millisecond or so per submission."""
    def block(value, pad: str) -> str:
        if isinstance(value, dict) and value:
            fields = (f"{pad} {json.dumps(str(k))}: {block(v, pad + ' ')}" for k, v in value.items())
            return "{\n" + ",\n".join(fields) + f"\n{pad}}}"
        if isinstance(value, list) and value:
            return "[\n" + ",\n".join(f"{pad} {json.dumps(item)}" for item in value) + f"\n{pad}]"
        return json.dumps(value)
    return block(result, "")


def existing(out: Path, entry: Entry, chash: str, fp: str) -> bool:
    path = out / "results" / f"{entry.id}.json"
    try:
        extra = json.loads(path.read_text()).get("extra_data", {})
    except (OSError, ValueError):
        return False
    return extra.get("content_hash") == chash and extra.get("fingerprint") == fp


def run_batch(submissions, out, *, jobs: int = 2, hidden: bool = False, device: str = "cpu",
              limits: Optional[Limits] = None, force: bool = False, shard=None,
              feedback_hidden: str = "status", data_dir=None, progress_stream=sys.stderr,
              similarity: bool = False, assignment=None) -> dict:
    """Grade every entry of ``submissions`` (submissions of one assignment: ``assignment``, or
    the one their files are of) into ``out``; returns counts."""
    from ..runner import check_device, hidden_available
    from .report import write_outputs

    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    check_device(device)
    if assignment is not None:
        assignment = resolve(assignment)
    if out == submissions or submissions in out.parents:
        raise SubmissionError(f"--out {out} must not lie inside the submissions folder")
    found = discover(submissions)
    unit = batch_assignment(submissions, found, assignment)  # the whole folder's: shards agree on it
    if hidden:
        hidden_available(unit)
    # Entries whose names map to one student id land in the same shard (the student id decides).
    entries = [e for e in found if in_shard(e.student or e.id, shard)]
    (out / "results").mkdir(parents=True, exist_ok=True)
    limits = dataclasses.replace(limits or Limits())
    if not limits.threads:
        limits.threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    fp = fingerprint(hidden, device, unit, feedback_hidden=feedback_hidden, timeout=limits.timeout, budget=limits.budget,
                     memory_gib=limits.memory_gib, load_timeout=limits.load_timeout, data_dir=str(data_dir or ""),
                     data=_data_state(data_dir))
    hashes = {}
    for i, e in enumerate(entries):
        try:
            hashes[e.id] = content_hash(e.path)
        except (SubmissionError, OSError) as exc:  # this entry cannot be read: a row saying why
            message = str(exc) if isinstance(exc, SubmissionError) else f"it cannot be read ({exc})"
            entries[i] = e = dataclasses.replace(e, error=e.error or message)
            hashes[e.id] = ""
    todo = [e for e in entries if force or not existing(out, e, hashes[e.id], fp)]
    skipped = len(entries) - len(todo)
    inputs = precompute_inputs(select(all_cases(unit), None, hidden, unit), unit)
    zygotes = ZygoteHolder()
    line = warning(zygotes.layers())
    if line:
        print(line, file=progress_stream)
    write_atomic(out / "sandbox.json", json.dumps(zygotes.layers(), indent=1))
    progress = Progress(len(todo), progress_stream)
    protect = (submissions, out)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_entry, e, out, hashes[e.id], hidden=hidden, device=device, limits=limits,
                                   zygotes=zygotes, inputs=inputs, fp=fp, protect=protect,
                                   feedback_hidden=feedback_hidden, data_dir=data_dir, assignment=unit): e
                       for e in todo}
            for future in concurrent.futures.as_completed(futures):
                entry = futures[future]
                write_atomic(out / "results" / f"{entry.id}.json", result_json(future.result()))
                progress.step()
    finally:
        zygotes.close()
    summary = write_outputs(out, [e.id for e in entries])
    summary.update({"graded": len(todo), "skipped": skipped, "total": len(entries)})
    if similarity:
        from .similarity import run_similarity

        run_similarity(submissions, out, entries=entries, assignment=unit)
    return summary
