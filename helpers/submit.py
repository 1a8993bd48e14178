"""The submission zip of an assignment: its source files, its notebooks and its best
checkpoints, each checked before it goes in.

- Assignment 2 (``make_a2_submission``): linear_classifier.py, two_layer_net.py, their two
  notebooks, and svm_best_model.pt, softmax_best_model.pt, nn_best_model.pt.
- Assignment 3, part 1 (``make_a3_submission``): fully_connected_networks.py, its notebook,
  best_two_layer_net.pth and best_overfit_five_layer_net.pth (the course's A3 zip also holds
  part 2's convolutional networks, which this kit does not have yet).
"""
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

A3_SOURCE_FILES = ("fully_connected_networks.py",)
A3_NOTEBOOKS = ("fully_connected_networks.ipynb",)
# A3's checkpoints are the models' save(): a dict whose 'params' holds these tensors.
A3_CHECKPOINTS = {
    "best_two_layer_net.pth": {"W1", "b1", "W2", "b2"},
    "best_overfit_five_layer_net.pth": {f"{kind}{layer}" for kind in "Wb" for layer in range(1, 6)},
}
A3_SEARCH_DIRS = (".", "a3", "notebooks")
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


class SubmissionError(ValueError):
    """A file for the submission is missing or broken; the message names it."""


def _find(root: Path, name: str, extra=(), search_dirs=SEARCH_DIRS) -> Path:
    folders = [root / d for d in search_dirs] + [Path(e) for e in extra]
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


def _load(path: Path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise SubmissionError(f"{path} does not load with torch.load: {exc}") from exc


def _check_tensors(path: Path, state, keys: set, what: str = "") -> None:
    if not isinstance(state, dict) or set(state) != keys or not all(torch.is_tensor(v) for v in state.values()):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise SubmissionError(f"{path} should hold {what}exactly the tensors {sorted(keys)}, found {found}")


def _check_checkpoint(path: Path, keys: set) -> None:
    _check_tensors(path, _load(path), keys)


def _check_model_checkpoint(path: Path, keys: set) -> None:
    """A3's checkpoints: what ``TwoLayerNet.save`` / ``FullyConnectedNet.save`` write."""
    state = _load(path)
    if not isinstance(state, dict) or "params" not in state or "reg" not in state:
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise SubmissionError(f"{path} should be a model's save() (a dict with 'reg' and 'params'), found {found}")
    _check_tensors(path, state["params"], keys, "in 'params' ")


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
    return _make_submission(assignment_path, uniquename, umid, "A2", SOURCE_FILES, NOTEBOOKS,
                            CHECKPOINTS, _check_checkpoint, SEARCH_DIRS, checkpoint_dir, out_dir)


def make_a3_submission(assignment_path, uniquename: Optional[str] = None,
                       umid: Optional[str] = None, *, checkpoint_dir=None, out_dir=None) -> Path:
    """Check and zip Assignment 3 (part 1) into ``{uniquename}_{umid}_A3.zip`` in
    ``assignment_path`` (or ``out_dir``).

    As :func:`make_a2_submission`, with fully_connected_networks.py (in ``assignment_path`` or
    its ``a3/``), fully_connected_networks.ipynb, and the checkpoints best_two_layer_net.pth
    and best_overfit_five_layer_net.pth, each the ``save()`` of its model (W1..W2 and W1..W5
    with their biases in ``params``). Returns the zip's path.
    """
    return _make_submission(assignment_path, uniquename, umid, "A3", A3_SOURCE_FILES, A3_NOTEBOOKS,
                            A3_CHECKPOINTS, _check_model_checkpoint, A3_SEARCH_DIRS, checkpoint_dir, out_dir)


def _make_submission(assignment_path, uniquename, umid, tag, sources, notebooks, checkpoints,
                     check_checkpoint, search_dirs, checkpoint_dir, out_dir) -> Path:
    root = Path(assignment_path)
    if not root.is_dir():
        raise SubmissionError(f"{root} is not a folder: pass the folder that holds your assignment")
    uniquename = _ask(uniquename, "Enter your uniquename (e.g. janedoe): ")
    umid = _ask(umid, "Enter your umid (e.g. 12345678): ")

    members = {}
    for name in sources:
        members[name] = _find(root, name, search_dirs=search_dirs)
        _check_source(members[name])
    for name in notebooks:
        members[name] = _find(root, name, search_dirs=search_dirs)
        _check_notebook(members[name])
    extra = [checkpoint_dir] if checkpoint_dir else []
    for name, keys in checkpoints.items():
        members[name] = _find(root, name, extra, search_dirs=search_dirs)
        check_checkpoint(members[name], keys)

    folder = Path(out_dir) if out_dir else root
    target = folder / f"{uniquename}_{umid}_{tag}.zip"
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
