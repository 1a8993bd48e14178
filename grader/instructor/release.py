"""The student handout, generated from this repository: ``python -m grader release OUT``.

It holds each assignment's folder (``a2/``) with stubs made from the solution markers,
``helpers/``, the student-side grader (``grader/`` without ``grader/instructor/`` and without any
assignment's ``grader/assignments/<name>/instructor/``: the public cases with their fixtures, the
sandbox and the student-process runtime; no hidden case, no solution, no mistake formulas, no
batch, Gradescope or release code), the notebooks without their instructor-only cells and with
outputs cleared, a student README and the packaging. ``--assignment`` releases one assignment
(its folder, unit and notebooks only).

The student README is each released assignment's own, ``grader/assignments/<name>/instructor/
handout_README.md`` (how to install, work, check and submit it); a handout of several
assignments puts theirs one after the other, under one heading.
"""
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..assignment import REGISTRY, resolve
from ..paths import ROOT
from .stubs import make_stub

INSTRUCTOR_TAG = "instructor"  # notebook cells tagged so stay in the instructor's copy


README_NAME = "handout_README.md"  # in each assignment's instructor/: its student README


class ReleaseError(ValueError):
    """The handout cannot be written as asked."""


def _demote(markdown: str) -> str:
    """Every heading one level down (lines in code fences left alone)."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        lines.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def student_readme(units) -> str:
    """The handout's README.md: the released assignment's own, or, for several, each of theirs
    one heading level down under one title."""
    texts = []
    for unit in units:
        path = unit.instructor_dir / README_NAME
        if not path.is_file():
            raise ReleaseError(f"{unit.name} has no student README: write {path.relative_to(ROOT)}")
        texts.append(path.read_text())
    if len(texts) == 1:
        return texts[0]
    titles = ", ".join(u.title for u in units)
    demoted = [_demote(text) for text in texts]
    return f"# {titles}\n\nThis folder holds {len(units)} assignments; each section below is one.\n\n" \
        + "\n\n".join(demoted) + "\n"


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


def left_out(units) -> tuple:
    """What of ``grader/`` a handout of ``units`` leaves out: the engine's instructor side, every
    assignment's instructor side, and the units of the assignments not released."""
    released = {u.name for u in units}
    return ("grader/instructor",) + tuple(
        f"grader/assignments/{a.name}/instructor" if a.name in released else f"grader/assignments/{a.name}"
        for a in REGISTRY.values())


def release(out, force: bool = False, assignment=None) -> Path:
    """Write the handout of ``assignment`` (None: every assignment) to ``out`` (built in a
    temporary folder, then moved into place)."""
    units = [resolve(assignment)] if assignment is not None else list(REGISTRY.values())
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents:
        raise ReleaseError(f"{out} is inside this repository: write the handout somewhere else")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} exists and is not empty: choose another folder or pass --force")
    staging = Path(tempfile.mkdtemp(prefix=".handout-", dir=out.parent if out.parent.exists() else None))
    try:
        for unit in units:
            folder = unit.student_dir
            (staging / folder).mkdir()
            shutil.copyfile(ROOT / folder / "__init__.py", staging / folder / "__init__.py")
            for name in unit.code_files:
                (staging / folder / name).write_text(make_stub((ROOT / folder / name).read_text(), name))
        _copy_package("helpers", staging)
        _copy_package("grader", staging, leave_out=left_out(units))
        (staging / "notebooks").mkdir()
        for name in dict.fromkeys(n for u in units for n in u.notebooks):  # each released assignment's own
            if not (ROOT / "notebooks" / name).is_file():
                raise ReleaseError(f"notebooks/{name} is missing: build it with python notebooks/build.py")
            student_notebook(ROOT / "notebooks" / name, staging / "notebooks" / name)
        shutil.copyfile(ROOT / "pyproject.toml", staging / "pyproject.toml")
        (staging / "README.md").write_text(student_readme(units))
        (staging / ".gitignore").write_text((ROOT / ".gitignore").read_text())
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
