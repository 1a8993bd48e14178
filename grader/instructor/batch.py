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

from ..cases import select
from ..catalogue import all_cases
from ..files import write_atomic
from ..protection import warning
from ..runner import NeedsNewerPython, grade, precompute_inputs
from ..sandbox import Limits, ZygoteHolder
from ..submission import SubmissionError, prepare
from .entries import Entry, discover
from .feedback import feedback_markdown

log = logging.getLogger(__name__)

HASH_LIMIT = 256 << 20  # bytes of a submission read for its content hash


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


def content_hash(path: Path) -> str:
    """SHA-256 of a submission's files (names and bytes), so a changed submission is regraded."""
    digest, budget = hashlib.sha256(), HASH_LIMIT
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
        with open(file, "rb") as f:
            while budget > 0 and (chunk := f.read(min(1 << 20, budget))):
                digest.update(chunk)
                budget -= len(chunk)
    return digest.hexdigest()


GRADING_CODE = ("cases.py", "judges.py", "compare.py", "tolerance.py", "catalogue", "student_side/probes.py",
                "student_side/standins.py", "instructor/hidden.py", "instructor/recipes.py", "instructor/mistakes.py")


def fingerprint(hidden: bool, device: str) -> str:
    """What else a result depends on: the grader's cases, fixtures and judging code, and the options."""
    from ..fixtures import MANIFEST

    grader = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"hidden={hidden};device={device}".encode())
    digest.update(MANIFEST.read_bytes() if MANIFEST.exists() else b"")
    for name in GRADING_CODE:
        for path in sorted((grader / name).rglob("*.py")) if (grader / name).is_dir() else [grader / name]:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def error_result(entry: Entry, message: str, chash: str, fp: str) -> dict:
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
                feedback_hidden, data_dir) -> dict:
    """Grade one entry and write its feedback; returns its result; never raises."""
    try:
        try:
            prepared = prepare(entry.path)
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
            "id": entry.id, "content_hash": chash, "fingerprint": fp, "error": None,
            "max_score": report.max_score, "function_scores": report.function_scores(),
            "cases": [{"check": r.check, "name": r.name, "visibility": r.visibility, "status": r.status,
                       "reason": r.reason, "diagnosis": r.diagnosis, "points": r.points,
                       "max_points": r.max_points, "message": r.message[:400]} for r in report.results],
            "notes": list(report.notes),
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
              similarity: bool = False) -> dict:
    """Grade every entry of ``submissions`` into ``out``; returns counts."""
    from ..runner import check_device, hidden_available
    from .report import write_outputs

    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    check_device(device)
    if hidden:
        hidden_available()
    if out == submissions or submissions in out.parents:
        raise SubmissionError(f"--out {out} must not lie inside the submissions folder")
    entries = [e for e in discover(submissions) if in_shard(e.id, shard)]
    (out / "results").mkdir(parents=True, exist_ok=True)
    fp = fingerprint(hidden, device)
    hashes = {e.id: content_hash(e.path) for e in entries}
    todo = [e for e in entries if force or not existing(out, e, hashes[e.id], fp)]
    skipped = len(entries) - len(todo)
    limits = dataclasses.replace(limits or Limits())
    if not limits.threads:
        limits.threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    inputs = precompute_inputs(select(all_cases(), None, hidden))
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
                                   feedback_hidden=feedback_hidden, data_dir=data_dir): e for e in todo}
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

        run_similarity(submissions, out, entries=entries)
    return summary
