"""What one comparison reads: the graded functions compared (each with the file it lives in),
the code files read of each submission, the templates whose code never counts, and the folder
of the kit's layout. Each entry point takes them as parameters; one left out is the
assignment's (:func:`scope_of`: the CLI and ``batch --similarity`` pass the assignment graded)."""
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Tuple

from ...assignment import resolve


class SimilarityError(ValueError):
    """The comparison cannot run as asked; the message says why."""


@dataclass(frozen=True)
class Scope:
    file_of: Dict[str, str]  # compared function -> its file name, in assignment order
    code_files: Tuple[str, ...]  # the files read of each submission ("linear_classifier.py", ...)
    templates: Optional[Mapping[str, Mapping[str, str]]]  # name -> {file name: source}; None: the assignment's
    kit_folder: str  # the kit layout's folder ("a2"): the stubs are made from it, a reference may hold it
    title: str  # names the report ("Assignment 2")
    assignment: str = "a2"  # the assignment compared (its templates, when none are given)

    @property
    def compared(self) -> Tuple[str, ...]:
        return tuple(self.file_of)


def compared_functions(functions: Mapping[str, str], code_files: Iterable[str]) -> Dict[str, str]:
    """``{function: file name}`` of the graded ``functions`` (name -> file stem, as
    :data:`grader.cases.FUNCTIONS`) that are compared: those in one of ``code_files``, functions
    and methods (``Class.method``: each compared on its own), not classes (an undotted name with
    a capital: a class is compared through the functions and methods that use it)."""
    code_files = tuple(code_files)
    return {name: f"{stem}.py" for name, stem in functions.items()
            if f"{stem}.py" in code_files and ("." in name or not name[:1].isupper())}


def scope_of(functions: Optional[Mapping[str, str]] = None, code_files: Optional[Iterable[str]] = None,
             templates: Optional[Mapping[str, Mapping[str, str]]] = None, *, kit_folder: Optional[str] = None,
             title: Optional[str] = None, assignment=None) -> Scope:
    """The :class:`Scope` of these arguments, the assignment's value for each one left out
    (``assignment``: a name or an Assignment; None, the kit's first): its graded functions and
    code files, the kit's stubs made from its folder with the course's given code as templates
    (made when first read: :func:`.template.template_sources`)."""
    unit = resolve(assignment)
    functions = unit.functions if functions is None else functions
    code_files = tuple(unit.code_files if code_files is None else code_files)
    return Scope(compared_functions(functions, code_files), code_files,
                 None if templates is None else {k: dict(v) for k, v in templates.items()},
                 unit.student_dir if kit_folder is None else kit_folder, unit.title if title is None else title,
                 unit.name)
