"""The submission zip: the two source files, the two notebooks and the three best checkpoints."""
import ast
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

import torch

SOURCE_FILES = ("linear_classifier.py", "two_layer_net.py")
NOTEBOOKS = ("linear_classifier.ipynb", "two_layer_net.ipynb")
CHECKPOINTS = {
    "svm_best_model.pt": {"W"},
    "softmax_best_model.pt": {"W"},
    "nn_best_model.pt": {"W1", "b1", "W2", "b2"},
}
# Where each file may be: the course's single folder, or this kit's layout.
SEARCH_DIRS = (".", "a2", "notebooks")
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


class SubmissionError(ValueError):
    """A file for the submission is missing or broken; the message names it."""


def _find(root: Path, name: str, extra=()) -> Path:
    folders = [root / d for d in SEARCH_DIRS] + [Path(e) for e in extra]
    for folder in folders:
        path = folder / name
        if path.is_file():
            return path
    places = ", ".join(str(f) for f in folders)
    hint = " Save it from your notebook first." if name.endswith(".pt") else ""
    raise SubmissionError(f"{name} is missing: looked in {places}.{hint}")


def _check_source(path: Path) -> None:
    try:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise SubmissionError(f"{path} does not parse (line {exc.lineno}: {exc.msg}); fix it first") from exc
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path} is not UTF-8 text: {exc}") from exc


def _check_notebook(path: Path) -> None:
    import nbformat

    try:
        nbformat.read(str(path), as_version=4)
    except Exception as exc:
        raise SubmissionError(f"{path} is not a readable notebook: {exc}") from exc


def _check_checkpoint(path: Path, keys: set) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise SubmissionError(f"{path} does not load with torch.load: {exc}") from exc
    if not isinstance(state, dict) or set(state) != keys or not all(torch.is_tensor(v) for v in state.values()):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise SubmissionError(f"{path} should hold exactly the tensors {sorted(keys)}, found {found}")


def _ask(value: Optional[str], prompt: str) -> str:
    if value is None:
        try:
            value = input(prompt)
        except EOFError:
            raise SubmissionError(f"no value given for {prompt.strip(': ')}: pass it as an argument") from None
    value = str(value).strip()
    if not _ID.match(value):
        raise SubmissionError(f"{value!r} is not a valid id: use letters, digits, '.', '_' or '-'")
    return value


def make_a2_submission(assignment_path, uniquename: Optional[str] = None,
                       umid: Optional[str] = None, *, checkpoint_dir=None, out_dir=None) -> Path:
    """Check and zip the submission into ``{uniquename}_{umid}_A2.zip`` in ``assignment_path``
    (or ``out_dir``).

    Every file must be present (in ``assignment_path``, its ``a2/`` or its ``notebooks/``, or
    in ``checkpoint_dir``);
    sources must parse, notebooks must be readable and checkpoints must load with the
    expected tensors. The zip is written to a temporary name and renamed, so a failure
    never leaves a half-written zip. Returns the zip's path.
    """
    root = Path(assignment_path)
    if not root.is_dir():
        raise SubmissionError(f"{root} is not a folder: pass the folder that holds your assignment")
    uniquename = _ask(uniquename, "Enter your uniquename (e.g. janedoe): ")
    umid = _ask(umid, "Enter your umid (e.g. 12345678): ")

    members = {}
    for name in SOURCE_FILES:
        members[name] = _find(root, name)
        _check_source(members[name])
    for name in NOTEBOOKS:
        members[name] = _find(root, name)
        _check_notebook(members[name])
    extra = [checkpoint_dir] if checkpoint_dir else []
    for name, keys in CHECKPOINTS.items():
        members[name] = _find(root, name, extra)
        _check_checkpoint(members[name], keys)

    folder = Path(out_dir) if out_dir else root
    target = folder / f"{uniquename}_{umid}_A2.zip"
    fd, tmp = tempfile.mkstemp(suffix=".zip.part", dir=folder)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, path in members.items():
                zf.write(path, arcname=name)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
