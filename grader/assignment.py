"""Assignments as units: what the engine needs to know of one assignment, and the registry that
finds them.

Each assignment lives in ``grader/assignments/<name>/``: its ``__init__.py`` holds its
:class:`Assignment` description (``ASSIGNMENT``), and beside it its public cases
(``catalogue/``), the probes and stand-ins only it needs (``student_side/``), its fixtures
(``fixtures/``) and, in the instructor's copy only, its recipes, hidden cases and mistakes
(``instructor/``). The engine (everything else under ``grader/``) reads an assignment through
this description and never names one of its student functions.

The registry is found on disk: every folder of ``grader/assignments/`` with an ``__init__.py``
is a unit, so adding an assignment is adding its folder. What the engine reads of a unit:

- ``__init__.py``: ``ASSIGNMENT = Assignment(name=<the folder's name>, ...)``;
- ``catalogue/__init__.py``: ``public_cases()``, the public cases in assignment order;
- ``student_side/probes.py``: its ``@probe`` functions (the zygote imports it before any student
  code runs: a worker cannot read the kit's files);
- ``fixtures/``: the public cases' ``<function>.pt`` and ``manifest.json`` (``python -m grader
  fixtures build --assignment NAME``);
- ``instructor/`` (left out of a handout): ``recipes.py`` with ``make(case, salt="")``,
  ``hidden.py`` with ``CASES``, ``reference.py`` with ``load_reference()`` and
  ``ReferenceUnavailable``; ``course_given.py`` with ``COURSE_TEMPLATES`` where the similarity
  report should know the course's templates.
"""
import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple

UNITS_PACKAGE = "grader.assignments"
UNITS_DIR = Path(__file__).resolve().parent / "assignments"


class AssignmentError(ValueError):
    """No assignment, or more than one, fits what was asked; the message says what to do."""


@dataclass(frozen=True, eq=False)
class Assignment:
    """One assignment, as the engine sees it."""

    name: str  # "a2": the folder of its unit, and what --assignment takes
    title: str  # for people, in headings and reports: "Assignment 2"
    student_dir: str  # the kit's folder of student files ("a2"); a kit-layout submission holds it
    code_files: Tuple[str, ...]  # the student's files, in the order they load
    # The graded names in assignment order, each with the file stem it lives in (a name that is
    # not a file's, like "checkpoints", grades something other than code).
    functions: Mapping[str, str]
    package: str  # the unit's package: "grader.assignments.a2"
    checkpoints: Tuple[str, ...] = ()  # best-model files a submission may carry
    # Graded names that are not functions of the student's: the student code each one runs.
    entry_points: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    # Functions whose outputs are a loss and its gradients (the rule against autograd).
    loss_functions: FrozenSet[str] = frozenset()
    # Probes, besides "call", whose cases judge a function's values against expected ones.
    value_probes: FrozenSet[str] = frozenset()
    # Functions whose template computes some outputs itself: {function: the output that is the
    # student's work}; only that output shown computed credits the function's form cases.
    given_outputs_need: Mapping[str, str] = field(default_factory=dict)
    notebooks: Tuple[str, ...] = ()  # the notebooks of ``notebooks/`` that belong to it (a release of it alone)
    # Modules the student process offers other assignments that compute this one's answers
    # (A3's loss helpers return A2's losses and score gradients): not importable while it is graded.
    withheld: Tuple[str, ...] = ()

    @property
    def modules(self) -> Tuple[str, ...]:
        """The student's modules (the code files' stems)."""
        return tuple(Path(name).stem for name in self.code_files)

    @property
    def unit_dir(self) -> Path:
        return UNITS_DIR / self.name

    @property
    def fixture_dir(self) -> Path:
        return self.unit_dir / "fixtures"

    @property
    def instructor_dir(self) -> Path:
        return self.unit_dir / "instructor"

    @property
    def student_side_module(self) -> str:
        """The module whose ``@probe`` functions the student process registers."""
        return f"{self.package}.student_side.probes"

    def worker_spec(self) -> dict:
        """What the student process needs to load this assignment's files and probes (plain
        data: it travels to the zygote in a spawn request)."""
        return {"name": self.name, "package": self.student_dir, "modules": list(self.modules),
                "probes": self.student_side_module, "withheld": list(self.withheld), "title": self.title}

    def unit(self, name: str):
        """``<package>.<name>`` imported (a module of the unit's public side)."""
        return importlib.import_module(f"{self.package}.{name}")

    def holds(self, folder: Path) -> bool:
        """Whether ``folder`` holds all of this assignment's code files."""
        return all((Path(folder) / name).is_file() for name in self.code_files)

    def __repr__(self) -> str:
        return f"Assignment({self.name!r})"


@functools.lru_cache(maxsize=1)
def _registry() -> Dict[str, Assignment]:
    found = {}
    for info in sorted(pkgutil.iter_modules([str(UNITS_DIR)]), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{UNITS_PACKAGE}.{info.name}")
        description = getattr(module, "ASSIGNMENT", None)
        if not isinstance(description, Assignment) or description.name != info.name:
            raise AssignmentError(f"{UNITS_PACKAGE}.{info.name} does not describe itself: its __init__.py must set "
                                  f"ASSIGNMENT = Assignment(name={info.name!r}, ...)")
        found[info.name] = description
    return found


class _Registry(Mapping):
    """{name: Assignment} of every unit under ``grader/assignments/``, read on first use."""

    def __getitem__(self, name):
        return _registry()[name]

    def __iter__(self):
        return iter(_registry())

    def __len__(self):
        return len(_registry())


REGISTRY: Mapping[str, Assignment] = _Registry()


def names() -> List[str]:
    return list(REGISTRY)


def kit_packages() -> Tuple[str, ...]:
    """The kit's top-level packages that hold a solution or the grader (what an install puts in
    site-packages and a student's process must not read): ``grader`` and every assignment's
    student folder."""
    return ("grader",) + tuple(dict.fromkeys(a.student_dir for a in REGISTRY.values()))


def get(name) -> Assignment:
    """The assignment called ``name`` (an Assignment is returned as it is); AssignmentError,
    naming the known ones, for any other name."""
    if isinstance(name, Assignment):
        return name
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise AssignmentError(f"unknown assignment {name!r}: this kit grades {', '.join(REGISTRY) or 'none'}") \
            from None


def default() -> Assignment:
    """The kit's first assignment: what the grader grades when neither the files nor an option
    say which (``grader.check()`` in this repository, the calls that predate the registry)."""
    return REGISTRY[next(iter(REGISTRY))]


def resolve(assignment: Optional[object]) -> Assignment:
    """``assignment`` (a name or an Assignment) as an Assignment; None: :func:`default`."""
    return default() if assignment is None else get(assignment)


def owning(functions) -> Optional[Assignment]:
    """The one assignment that grades every name of ``functions``; None when none or several do."""
    wanted = set(functions or ())
    found = [a for a in REGISTRY.values() if wanted and wanted <= set(a.functions)]
    return found[0] if len(found) == 1 else None


def _places(folder: Path, a: Assignment):
    """Where ``a``'s files may lie in ``folder``: (code folder, layout)."""
    yield folder / a.student_dir, "kit"
    yield folder, "course"


def locate(folder, a: Assignment) -> Optional[Tuple[Path, str]]:
    """(code folder, "kit" or "course") of ``a``'s files in ``folder``: ./<student_dir>/, ./,
    or the same one level down (a zip's top folder); None when they are not there."""
    folder = Path(folder)
    candidates = list(_places(folder, a))
    # (a name that is not UTF-8 is no problem here: it is only compared, never shown)
    subfolders = [d for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "__MACOSX"))] \
        if folder.is_dir() else []
    if len(subfolders) == 1:
        candidates += list(_places(subfolders[0], a))
    for path, layout in candidates:
        if a.holds(path):
            return path, layout
    return None


def matching(folder) -> List[Assignment]:
    """Every assignment whose files ``folder`` holds (either layout)."""
    return [a for a in REGISTRY.values() if locate(folder, a) is not None]


def recognise(folder, label: Optional[str] = None) -> Assignment:
    """The assignment whose files ``folder`` holds, in the kit's layout (``a2/``, ``a3/``) or the
    course's (a folder holding the code files). AssignmentError when it holds none, or the files
    of several (then say which with ``--assignment``)."""
    label = label or str(folder)
    found = matching(folder)
    if len(found) == 1:
        return found[0]
    if not found:
        looked = "; ".join(f"{a.name}: {' and '.join(a.code_files)} (in ./{a.student_dir}/ or ./)"
                           for a in REGISTRY.values())
        raise AssignmentError(f"{label} holds the files of no assignment this kit grades (looked for {looked})")
    raise AssignmentError(f"{label} holds the files of several assignments ({', '.join(a.name for a in found)}): "
                          "say which to grade with --assignment")
