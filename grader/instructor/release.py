"""The student handout, generated from this repository: ``python -m grader release OUT``.

It holds ``a2/`` and ``a3/`` with stubs made from the solution markers, ``helpers/``, the student-side
grader (``grader/`` without ``grader/instructor/``: the public cases with their fixtures, the
sandbox and the student-process runtime; no hidden case, no solution, no mistake formulas, no
batch, Gradescope or release code), the notebooks without their instructor-only cells and with
outputs cleared, a student README and the packaging.
"""
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..paths import ROOT
from .stubs import make_stub

STUDENT_FILES = ("linear_classifier.py", "two_layer_net.py")
A3_STUDENT_FILES = ("fully_connected_networks.py",)
INSTRUCTOR_TAG = "instructor"  # notebook cells tagged so stay in the instructor's copy


class ReleaseError(ValueError):
    """The handout cannot be written as asked."""


def _copy_package(name: str, target: Path, leave_out=()) -> None:
    source = ROOT / name
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(ROOT)
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if any(relative.parts[:len(Path(x).parts)] == Path(x).parts for x in leave_out):
            continue
        dest = target / relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


def student_notebook(source: Path, dest: Path) -> None:
    """The notebook without instructor-only cells, outputs cleared."""
    nb = nbformat.read(str(source), as_version=4)
    nb.cells = [cell for cell in nb.cells if INSTRUCTOR_TAG not in cell.metadata.get("tags", [])]
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
        _copy_package("grader", staging, leave_out=("grader/instructor", "grader/assignments/a2/instructor"))
        (staging / "notebooks").mkdir()
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
            student_notebook(notebook, staging / "notebooks" / notebook.name)
        (staging / "a3").mkdir()
        shutil.copyfile(ROOT / "a3" / "__init__.py", staging / "a3" / "__init__.py")
        for name in A3_STUDENT_FILES:
            (staging / "a3" / name).write_text(make_stub((ROOT / "a3" / name).read_text(), name))
        shutil.copyfile(ROOT / "pyproject.toml", staging / "pyproject.toml")
        shutil.copyfile(Path(__file__).parent / "handout_README.md", staging / "README.md")
        (staging / ".gitignore").write_text((ROOT / ".gitignore").read_text())
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
