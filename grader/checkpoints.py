"""Loading a submitted checkpoint in the grader's process, safely: what it unpacks to is bounded
before ``torch.load`` allocates it (a zip record can inflate a thousandfold, and a pickle can
build structures far larger than itself), and only tensors and plain containers are unpickled
(``weights_only``: no code of the student's runs here). Every assignment's best-model cases
load their files through :func:`load_checkpoint`."""
import zipfile
from pathlib import Path
from typing import Any, Optional, Tuple

import torch

from .submission import MAX_CHECKPOINT_BYTES

MAX_PICKLE_BYTES = 1 << 20  # a checkpoint's object structure (a few dozen tensors' is a few KiB)


def checkpoint_problem(path: Path, name: str) -> Optional[str]:
    """Why the grader will not load ``path``, or None."""
    limit = f"{MAX_CHECKPOINT_BYTES >> 20} MiB"
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        return f"{name} is larger than {limit} (these nets' checkpoints take a few MiB): save only the weights"
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError):
        return (f"{name} is not in torch.save's format (a zip archive, torch 1.6 or newer): save it again with "
                "torch.save")
    if sum(m.file_size for m in members) > MAX_CHECKPOINT_BYTES:
        return f"{name} unpacks to more than {limit} when loaded: save only the weights with torch.save"
    if any(m.filename.endswith(".pkl") and m.file_size > MAX_PICKLE_BYTES for m in members):
        return f"{name} holds an object structure larger than {MAX_PICKLE_BYTES >> 20} MiB: save only the weights"
    return None


def load_checkpoint(path: Path, name: str) -> Tuple[Any, Optional[str]]:
    """(what ``path`` holds, None), or (None, why it was not loaded: too large, not in
    torch.save's format, or not loadable with ``weights_only``)."""
    problem = checkpoint_problem(path, name)
    if problem:
        return None, problem
    try:
        return torch.load(path, map_location="cpu", weights_only=True), None
    except Exception as exc:  # noqa: BLE001 - a student file
        return None, f"{name} does not load with torch.load: {str(exc)[:300]}"
