"""Student files from the solution source: every ``# BEGIN SOLUTION`` ... ``# END SOLUTION``
region becomes a TODO comment and ``raise NotImplementedError``; everything else (signatures,
docstrings, given code) is kept as written.

A region opens with ``# BEGIN SOLUTION: what to implement``; the text after the colon becomes
the TODO line. Regions cannot nest and must close at the indentation they opened with.
"""
import ast
import re
from dataclasses import dataclass
from typing import List, Optional

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::[ \t]*(?P<todo>.*?))?[ \t]*$")
END = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION[ \t]*$")


class StubError(ValueError):
    """The solution markers are malformed; the message names the file and line."""


@dataclass(frozen=True)
class Region:
    begin: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    indent: str
    todo: str
    function: str  # qualified name of the enclosing function ("Linear.forward"), or "<module>"


def _enclosing_functions(tree: ast.AST):
    """(first line, last line, qualified name) of every function, outermost first."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def find_regions(source: str, filename: str = "<source>") -> List[Region]:
    """The solution regions of ``source``, validated."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise StubError(f"{filename}:{exc.lineno}: the solution does not parse: {exc.msg}") from exc
    spans = _enclosing_functions(tree)
    regions: List[Region] = []
    open_at: Optional[int] = None
    lines = source.splitlines()
    indent = todo = ""
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_at is not None:
                raise StubError(f"{filename}:{number}: BEGIN SOLUTION inside the region opened at line {open_at}")
            open_at, indent, todo = number, begin["indent"], (begin["todo"] or "").strip()
        elif end:
            if open_at is None:
                raise StubError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            if end["indent"] != indent:
                raise StubError(f"{filename}:{number}: END SOLUTION is not indented like its BEGIN at line {open_at}")
            inside = [s for lo, hi, s in spans if lo <= open_at <= hi]
            regions.append(Region(open_at, number, indent, todo or "implement this part", inside[-1] if inside else "<module>"))
            open_at = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise StubError(f"{filename}:{number}: a solution marker must stand alone on its line as '# BEGIN SOLUTION: ...' or '# END SOLUTION'")
    if open_at is not None:
        raise StubError(f"{filename}:{open_at}: BEGIN SOLUTION is never closed")
    return regions


def make_stub(source: str, filename: str = "<source>") -> str:
    """The student version of ``source``."""
    regions = find_regions(source, filename)
    lines = source.splitlines(keepends=True)
    out, position = [], 0
    for region in regions:
        out.extend(lines[position:region.begin - 1])
        name = region.function if region.function != "<module>" else filename  # "Linear.forward", not "forward"
        message = f"{name}: {region.todo}".replace("\\", "\\\\").replace('"', '\\"')
        out.append(f"{region.indent}# TODO: {region.todo}\n")
        out.append(f'{region.indent}raise NotImplementedError("{message}")\n')
        position = region.end
    out.extend(lines[position:])
    stub = "".join(out)
    try:
        ast.parse(stub, filename=filename)
    except SyntaxError as exc:  # a region that ends mid-statement
        raise StubError(f"{filename}:{exc.lineno}: the generated stub does not parse: {exc.msg}") from exc
    return stub


def solution_lines(source: str, filename: str = "<source>") -> List[str]:
    """The code lines (stripped, no blanks or comments) that appear only inside regions: the
    lines a handout must never contain."""
    regions = find_regions(source, filename)
    lines = source.splitlines()
    inside = set()
    for region in regions:
        inside.update(range(region.begin, region.end - 1))  # 0-based indexes of the region body
    given = {lines[i].strip() for i in range(len(lines)) if i not in inside}
    body = [lines[i].strip() for i in sorted(inside)]
    return [s for s in body if s and not s.startswith("#") and s not in given]
