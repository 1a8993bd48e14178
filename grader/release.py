"""The student handout, generated from this repository: ``python -m grader release OUT``.

It holds ``a2/`` with stubs made from the solution markers, ``helpers/``, the grader with its
public fixtures and without hidden cases (``# BEGIN HIDDEN`` ... ``# END HIDDEN`` regions are
removed), the notebooks with outputs cleared, a student README and the packaging.
"""
import ast
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from .stubs import make_stub

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_BEGIN = re.compile(r"^\s*# BEGIN HIDDEN\s*$")
HIDDEN_END = re.compile(r"^\s*# END HIDDEN\s*$")
STUDENT_FILES = ("linear_classifier.py", "two_layer_net.py")


class ReleaseError(ValueError):
    """The handout cannot be written as asked."""


def strip_hidden(source: str, filename: str = "<source>") -> str:
    """``source`` without its hidden-case regions (marker lines included)."""
    out, inside = [], None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        if HIDDEN_BEGIN.match(line):
            if inside:
                raise ReleaseError(f"{filename}:{number}: BEGIN HIDDEN inside the region opened at line {inside}")
            inside = number
        elif HIDDEN_END.match(line):
            if not inside:
                raise ReleaseError(f"{filename}:{number}: END HIDDEN without a BEGIN HIDDEN")
            inside = None
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{filename}:{inside}: BEGIN HIDDEN is never closed")
    text = "".join(out)
    ast.parse(text, filename=filename)
    return text


def _copy_package(name: str, target: Path, transform=None) -> None:
    for path in sorted((ROOT / name).rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        dest = target / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py" and transform:
            dest.write_text(transform(path.read_text(), str(path.relative_to(ROOT))))
        else:
            shutil.copyfile(path, dest)


def _clear_outputs(source: Path, dest: Path) -> None:
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, str(dest))


def release(out, force: bool = False) -> Path:
    """Write the handout to ``out`` (built in a temporary folder, then moved into place)."""
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents:
        raise ReleaseError(f"{out} is inside this repository: write the handout somewhere else")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} exists and is not empty: choose another folder or pass --force")
    staging = Path(tempfile.mkdtemp(prefix=".handout-", dir=out.parent if out.parent.exists() else None))
    try:
        (staging / "a2").mkdir()
        shutil.copyfile(ROOT / "a2" / "__init__.py", staging / "a2" / "__init__.py")
        for name in STUDENT_FILES:
            (staging / "a2" / name).write_text(make_stub((ROOT / "a2" / name).read_text(), name))
        _copy_package("helpers", staging)
        _copy_package("grader", staging, strip_hidden)
        (staging / "notebooks").mkdir()
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
            _clear_outputs(notebook, staging / "notebooks" / notebook.name)
        shutil.copyfile(ROOT / "pyproject.toml", staging / "pyproject.toml")
        shutil.copyfile(Path(__file__).parent / "handout_README.md", staging / "README.md")
        (staging / ".gitignore").write_text((ROOT / ".gitignore").read_text())
        (staging / "grader" / "handout_README.md").unlink(missing_ok=True)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
