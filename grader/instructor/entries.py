"""A folder of submissions: one entry per student (a folder in either layout, or a zip), named
by a student id made from the entry's name. Batch grading and the similarity report read
folders of submissions the same way."""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List

from ..submission import SubmissionError

SUFFIX = re.compile(r"(_A2)?\.zip$", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path


def student_id(path: Path) -> str:
    name = SUFFIX.sub("", path.name) if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name) or "unnamed"


def discover(folder: Path) -> List[Entry]:
    """One entry per folder or zip in ``folder`` (hidden files ignored), sorted by id; a name
    used twice gets a numbered suffix."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder} is not a folder of submissions")
    entries, seen = [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path.is_dir() or path.suffix.lower() == ".zip"):
            continue
        base = student_id(path)
        seen[base] = seen.get(base, 0) + 1
        entries.append(Entry(base if seen[base] == 1 else f"{base}-{seen[base]}", path))
    return entries
