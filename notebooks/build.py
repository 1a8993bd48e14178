"""Build the notebooks from their readable sources: ``python notebooks/build.py`` writes
``notebooks/*.ipynb`` from ``notebooks/src/*.py``; ``--check`` exits 1 if they are out of date.

Sources use the percent format: ``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown
cell whose lines carry a ``# `` prefix, and ``# %magic`` lines become IPython magics. A cell
header ending in ``instructor`` (``# %% [markdown] instructor``) is tagged ``instructor``: the
instructor's notebook keeps it (a worked derivation, say), the student handout leaves it out.
"""
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
MAGIC = re.compile(r"^# (%(?!%).*)$")
INSTRUCTOR_TAG = "instructor"


def cells(source: str):
    """(kind, text, instructor only) of each cell of a percent-format source."""
    blocks, kind, lines, private = [], None, [], False
    for line in source.splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                blocks.append((kind, lines, private))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
            private = line.rstrip().endswith("instructor")
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        blocks.append((kind, lines, private))
    out = []
    for kind, lines, private in blocks:
        if kind == "markdown":
            lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines]
        else:
            lines = [MAGIC.sub(r"\1", l) for l in lines]
        text = "\n".join(lines).strip("\n")
        if text:
            out.append((kind, text, private))
    return out


def notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, (kind, text, private) in enumerate(cells(source)):
        cell = nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        cell["id"] = f"cell-{i}"
        if private:
            cell.metadata["tags"] = [INSTRUCTOR_TAG]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(source_path: Path) -> str:
    return nbformat.writes(notebook(source_path.read_text()))


def main(argv=None) -> int:
    check = "--check" in (argv or sys.argv[1:])
    stale = []
    for source in sorted((HERE / "src").glob("*.py")):
        target = HERE / f"{source.stem}.ipynb"
        text = render(source)
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
        else:
            target.write_text(text)
            print(f"wrote {target}")
    if stale:
        print(f"out of date: {', '.join(stale)} (run python notebooks/build.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
