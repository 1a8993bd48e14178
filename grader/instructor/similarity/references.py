"""References (``--reference DIR``, repeatable): code nobody should hand in, compared with every
student, never with each other; their matches are listed apart from the student pairs."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ...submission import SubmissionError
from ..entries import Entry, discover
from .scope import Scope, SimilarityError, scope_of


def _holds_code(folder: Path, scope: Scope) -> bool:
    return any(all((place / name).is_file() for name in scope.code_files)
               for place in (folder / scope.kit_folder, folder))


def reference_entries(folders: Sequence, scope: Optional[Scope] = None) -> List[Entry]:
    """One entry per reference: a folder holding ``scope``'s code files (at its top or in its
    kit folder, ``a2/``) or a zip is one, named after it; any other folder is read as a
    submissions folder, one entry per folder or zip in it, named ``FOLDER/ENTRY``. ``scope``:
    default Assignment 2's."""
    scope = scope or scope_of()
    entries: List[Entry] = []
    seen: Dict[str, int] = {}
    for folder in map(Path, folders):
        if not folder.exists():
            raise SimilarityError(f"--reference {folder} does not exist")
        name = folder.resolve().name or "reference"
        if folder.is_file() or _holds_code(folder, scope):
            found = [Entry(name, folder)]
        else:
            try:
                found = [Entry(f"{name}/{e.id}", e.path) for e in discover(folder)]
            except SubmissionError as exc:
                raise SimilarityError(f"--reference {folder}: {exc}") from exc
            if not found:
                raise SimilarityError(f"--reference {folder} holds neither {' and '.join(scope.code_files)} nor "
                                      "any submission folder or zip")
        for entry in found:
            seen[entry.id] = seen.get(entry.id, 0) + 1
            entries.append(entry if seen[entry.id] == 1 else Entry(f"{entry.id}-{seen[entry.id]}", entry.path))
    return entries
