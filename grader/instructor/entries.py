"""A folder of submissions: one entry per student (a folder in either layout, or a zip), named
by a student id made from the entry's name. Batch grading and the similarity report read
folders of submissions the same way, and find the one assignment a folder holds
(:func:`batch_assignment`).

Two entries that map to the same student id (``janedoe_12345678.zip`` and
``janedoe_12345678_A2.zip``) are never told apart by guessing: whichever sorted first would take
the student's row, and a copier could take another student's row. Both are listed as errors,
naming each other, and neither is graded until one of them is removed or renamed."""
import hashlib
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional

from ..assignment import REGISTRY, Assignment, matching, resolve
from ..inert import inert_text, shown_name
from ..submission import SubmissionError

SUFFIX = re.compile(r"(_A\d+)?\.zip$", re.IGNORECASE)  # the kit's zips end in _A2.zip, _A3.zip, ...


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path
    error: Optional[str] = None  # why it is not graded at all (its id is shared with another entry)
    student: str = ""  # the student id its name maps to ("": its id)


def student_id(path: Path) -> str:
    name = SUFFIX.sub("", path.name) if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name) or "unnamed"


def _own_id(path: Path, taken) -> str:
    """An id for an entry whose student id is shared: its whole name, made unique by a digest
    of its name's bytes when that is taken (by a student id too: once the other entry is gone,
    the one kept gets the student id, and no stale result stands in its place)."""
    name = re.sub(r"[^A-Za-z0-9_.@-]", "_", path.name)
    if name not in taken:
        return name
    return f"{name}~{hashlib.sha256(os.fsencode(path.name)).hexdigest()[:8]}"


def discover(folder: Path) -> List[Entry]:
    """One entry per folder or zip in ``folder`` (hidden files ignored), sorted by id. Entries
    that map to the same student id are errors that name each other (see the module's note)."""
    if not folder.is_dir():
        raise SubmissionError(f"{shown_name(folder)} is not a folder of submissions")
    groups: Dict[str, List[Path]] = {}
    for path in sorted(folder.iterdir(), key=lambda p: os.fsencode(p.name)):
        if path.name.startswith(".") or not (path.is_dir() or path.suffix.lower() == ".zip"):
            continue
        groups.setdefault(student_id(path), []).append(path)
    taken = set(groups)  # an entry's own id never takes a student id, its own group's included
    entries = []
    for sid, paths in groups.items():
        if len(paths) == 1:
            entries.append(Entry(sid, paths[0]))
            continue
        names = " and ".join(shown_name(p.name) for p in paths)
        none = "Neither" if len(paths) == 2 else "None"
        why = (f"{len(paths)} entries map to the student id {sid}: {names}. {none} is graded (the grader does not "
               "guess whose is whose): keep one entry per student, removing or renaming the others, and run the "
               "batch again")
        for path in paths:
            own = _own_id(path, taken)
            taken.add(own)
            entries.append(Entry(own, path, why, sid))
    return sorted(entries, key=lambda e: e.id)


def entry_kinds(path: Path) -> List[str]:
    """The assignments whose files an entry holds (a folder in either layout, or a zip, whose
    member names are read, nothing extracted); none when it cannot be read."""
    try:
        if path.is_dir():
            return [a.name for a in matching(path)]
        with zipfile.ZipFile(path) as zf:
            names = [PurePosixPath(n.replace("\\", "/")) for n in zf.namelist()]
    except (OSError, ValueError, RuntimeError, zipfile.BadZipFile):
        return []
    found = []
    for unit in REGISTRY.values():
        folders = [{str(n.parent) for n in names if n.name == f} for f in unit.code_files]
        if folders and set.intersection(*folders):  # all its files, side by side
            found.append(unit.name)
    return found


def batch_assignment(submissions: Path, entries: List[Entry], assignment=None) -> Assignment:
    """The one assignment a batch folder holds: ``assignment`` when given; else the one its
    entries' files are of (entries of none are graded, and fail saying what is missing). A
    folder mixing assignments is refused, naming the entries of each kind."""
    if assignment is not None:
        return resolve(assignment)
    kinds: dict = {}
    for entry in entries:
        found = [] if entry.error else entry_kinds(entry.path)
        if len(found) == 1:
            kinds.setdefault(found[0], []).append(entry.id)
    if len(kinds) > 1:
        listed = "; ".join(f"{name}: {', '.join(ids[:10])}" + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                           for name, ids in sorted(kinds.items()))
        raise SubmissionError(f"{inert_text(str(submissions))} mixes submissions of several assignments ({listed}): "
                              "a batch folder holds one assignment; put each assignment's entries in a folder of "
                              "their own (or grade one kind with --assignment, the others then failing)")
    return resolve(next(iter(kinds), None))
