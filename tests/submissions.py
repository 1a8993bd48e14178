"""Submissions for the grader's tests, made from the solution by exact text edits (each edit
must find its text, so a change to the solution cannot silently turn a test into a no-op)."""
import shutil
from pathlib import Path

from grader.instructor.stubs import make_stub

REPO = Path(__file__).resolve().parents[1]
FILES = ("linear_classifier.py", "two_layer_net.py")
LC, TLN = FILES


def solution_source(name):
    return (REPO / "a2" / name).read_text()


def edited(name, edits):
    source = solution_source(name)
    for old, new in edits:
        assert old in source, f"edit target not found in {name}: {old!r}"
        source = source.replace(old, new, 1)
    return source


def make_submission(root: Path, edits=(), layout="kit", stub=False, extra=None) -> Path:
    """A submission folder. ``edits``: (file, old, new) triples; ``layout``: "kit" (a2/ package,
    relative import) or "course" (two files at the top, ``from linear_classifier import``)."""
    root.mkdir(parents=True, exist_ok=True)
    code = root / "a2" if layout == "kit" else root
    code.mkdir(exist_ok=True)
    for name in FILES:
        source = edited(name, [(old, new) for f, old, new in edits if f == name])
        if stub:
            source = make_stub(source, name)
        if layout == "course":
            source = source.replace("from .linear_classifier import sample_batch",
                                    "from linear_classifier import sample_batch")
        (code / name).write_text(source)
    if layout == "kit":
        (code / "__init__.py").write_text("")
    for name, text in (extra or {}).items():
        (code / name).write_text(text)
    return root
