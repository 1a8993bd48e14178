"""The templates, whose code never counts: the kit's student template (the stubs the handout
makes from the kit's solution with :func:`grader.instructor.stubs.make_stub`) and any other
given code (the course's Fall 2020 and Winter 2022 templates, in the assignment's unit:
``instructor/course_given.py``, ``COURSE_TEMPLATES``). A :class:`Template` holds every fingerprint of them
(removed from every submission's as boilerplate) and the given text of each definition (blanked
out of a submission's version of it: :mod:`.extract`), with what is compared."""
import ast
import textwrap
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

from ...assignment import get
from ...mode import instructor_module
from ...paths import ROOT
from ..stubs import StubError, make_stub
from .extract import shape
from .fingerprint import every_hash
from .scope import Scope, SimilarityError, scope_of
from .source import is_docstring, segment


@dataclass(frozen=True)
class Template:
    """What every submission is read against."""

    hashes: frozenset  # every fingerprint (each k-gram) of the template files
    given: Dict[str, Tuple[str, ...]]  # a definition's name -> its text in each template that has it
    file_of: Dict[str, str]  # the compared functions, each with its file name (:class:`.scope.Scope`)
    code_files: Tuple[str, ...]  # the files read of each submission
    assignment: Optional[str] = None  # whose files each submission is read for


def _body_text(lines, node) -> str:
    body = node.body[1:] if len(node.body) > 1 and is_docstring(node.body[0]) else node.body
    return segment(lines, body[0], body[-1])


def _given_texts(source: str) -> Dict[str, str]:
    """The top-level definitions of a template: a function's body without its docstring, a
    class whole (as :class:`.live.Reader` shows what a function reaches), and each method of a
    class as ``Class.method``, its body without its docstring (a graded method's piece)."""
    lines = source.splitlines(keepends=True)
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            found[node.name] = _body_text(lines, node)
        elif isinstance(node, ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = textwrap.dedent("".join(lines[first - 1:node.end_lineno]))
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.body:
                    found[f"{node.name}.{item.name}"] = _body_text(lines, item)
    return found


def template_sources(scope: Optional[Scope] = None) -> Mapping[str, Mapping[str, str]]:
    """{template: {file name: source}}: ``scope``'s templates; when it gives none, the kit's
    student template, made from the solution in its kit folder as the handout makes it, and
    the course's terms of the assignment's given code, where its unit holds them (those of their
    files that ``scope`` reads)."""
    scope = scope or scope_of()
    if scope.templates is not None:
        return scope.templates
    unit = get(scope.assignment)
    given = instructor_module("course_given", unit.name) if (unit.instructor_dir / "course_given.py").is_file() \
        else None
    course_templates = given.COURSE_TEMPLATES if given else {}
    kit = {}
    for name in scope.code_files:
        path = ROOT / scope.kit_folder / name
        try:
            kit[name] = make_stub(path.read_text(), name)
        except (OSError, StubError) as exc:
            raise SimilarityError(f"cannot make the student template from {path}: {exc}") from exc
    course = {term: {name: source for name, source in files.items() if name in scope.code_files}
              for term, files in course_templates.items()}
    return {"kit": kit, **{term: files for term, files in course.items() if files}}


def load_template(scope: Optional[Scope] = None) -> Template:
    """Every template's fingerprints, and the given text of each of its definitions, for
    ``scope`` (default: the kit's first assignment's)."""
    scope = scope or scope_of()
    hashes, given, shapes = set(), {}, {}
    for files in template_sources(scope).values():
        for name, source in files.items():
            hashes.update(every_hash(name, source))
            for definition, text in _given_texts(source).items():
                seen = tuple(x for x in map(shape, text.splitlines()) if x)  # what the alignment sees
                if seen not in shapes.setdefault(definition, set()):
                    shapes[definition].add(seen)
                    given[definition] = given.get(definition, ()) + (text,)
    return Template(frozenset(hashes), given, dict(scope.file_of), scope.code_files, scope.assignment)
