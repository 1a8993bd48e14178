"""A student file's top-level imports that this machine cannot satisfy, made loadable.

The course ran in Colab, where an editor's stray ``from cv2 import moments`` or ``import
networkx`` at the top of a file costs nothing; here it would stop the whole file from loading,
and every function in it would score 0 for a line that computes nothing. So before the files
load, their top-level imports are read (:func:`prepare`), and each absolute import of a module
that is really absent here (no spec on this process's path, not in the standard library, not
one of the kit's packages or the course's helpers) is handled in one of two ways:

- an absent package that only prefixes the course's helpers or the student's own files
  (``from A3.a3_helper import softmax_loss``: the student's Colab folder was a package ``A3``)
  becomes that folder: its helpers are the kit's (as ``a3_helper`` is), its other modules load
  from the submission's folder;
- any other absent module gets a placeholder: an empty module whose every use raises
  ModuleNotFoundError naming the module, the file and the line that imports it. A name
  imported from it (``from cv2 import moments``) is bound to an object that raises the same
  on any use. The file loads, functions that never use the module are graded as usual, and the
  load reports it (a note in the report).

Whatever was installed stays in ``sys.modules`` only while the files load: an import done
later (inside a student's function, or by a library trying an optional module) finds the
module absent, as it is. The student's module keeps what its own import statements bound.
"""
import ast
import importlib.util
import os
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .eecs598 import COURSE_HELPERS


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class AbsentModule(types.ModuleType):
    """A module that is not installed here. Only what the import machinery reads (dunder
    names: ``__spec__``, ``__path__``...) behaves as on any module; every other attribute
    raises ModuleNotFoundError saying which file imports it, at which line."""

    def __getattr__(self, name):
        if _dunder(name):
            raise AttributeError(name)
        raise ModuleNotFoundError(f"{self.__dict__['__absent__']} (it used {self.__name__}.{name})",
                                  name=self.__name__)


def _fail(self, *args, **kwargs):
    raise ModuleNotFoundError(object.__getattribute__(self, "_why"))


class Unavailable:
    """What ``from cv2 import moments`` binds when cv2 is absent: any use of it (a call, an
    attribute, an operator, a conversion, iteration) raises ModuleNotFoundError. Identity,
    equality, hashing and repr stay plain, so that it can sit in a module's globals."""

    __slots__ = ("_what", "_why")

    def __init__(self, what: str, why: str):
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_why", why)

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_what')}: not installed on the grading machine>"

    def __getattr__(self, name):
        if _dunder(name):
            raise AttributeError(name)
        _fail(self)


for _name in ("call", "setattr", "delattr", "getitem", "setitem", "delitem", "iter", "len", "contains", "bool",
              "index", "int", "float", "complex", "enter", "exit", "lt", "le", "gt", "ge", "neg", "pos", "abs",
              "invert", "round", "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "divmod",
              "and", "or", "xor", "lshift", "rshift", "radd", "rsub", "rmul", "rmatmul", "rtruediv", "rfloordiv",
              "rmod", "rpow", "rdivmod", "rand", "ror", "rxor", "rlshift", "rrshift", "await", "next"):
    setattr(Unavailable, f"__{_name}__", _fail)


@dataclass(frozen=True)
class Absent:
    """One absent module a file imports: reported to the grader, which notes it."""
    module: str  # the student's module (file name without .py)
    name: str  # the absent top-level module
    line: int  # the first line that imports it


@dataclass
class Prepared:
    """What :func:`prepare` installed, to take out again once the files are loaded."""
    tops: Tuple[str, ...] = ()
    absent: List[Absent] = field(default_factory=list)

    def finish(self) -> None:
        """Take every module installed for loading (and any loaded beneath one) out of sys.modules."""
        for name in list(sys.modules):
            if name.split(".")[0] in self.tops:
                sys.modules.pop(name, None)


def top_level_imports(source) -> List[Tuple[int, str, Optional[Tuple[str, ...]]]]:
    """The absolute imports among a module's top-level statements: (line, dotted name, the
    names a ``from`` import binds, or None for a plain ``import``). Imports in functions, in
    ``try`` blocks (which handle a missing module themselves) or under ``if`` are not read."""
    try:
        tree = ast.parse(source)
    except Exception:  # noqa: BLE001 - a file that does not parse fails to load, and says why
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, tuple(alias.name for alias in node.names)))
    return found


_FROM = re.compile(rb"^from[ \t]+([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_. \t]*(?:[ \t]import\b|\\$)", re.M)
_IMPORT = re.compile(rb"^import[ \t]+([^\n#;]*)", re.M)
_NAME = re.compile(rb"[ \t(\\]*([A-Za-z_][A-Za-z0-9_]*)")


def _candidates(source: bytes) -> set:
    """The top-level names a file's unindented import lines name: a cheap look first, so that
    a file whose imports are all here is never parsed (parsing costs a worker about 13 ms)."""
    names = {m.group(1) for m in _FROM.finditer(source)}
    for m in _IMPORT.finditer(source):
        for part in m.group(1).split(b","):
            name = _NAME.match(part)
            if name:
                names.add(name.group(1))
    return {n.decode() for n in names}


def _is_absent(top: str, protected) -> bool:
    """Whether ``top`` cannot be imported here: never true of a module already imported, one of
    the standard library's, a protected name (the kit's packages, the course helpers) or
    anything a finder of this process's path finds (the student's own folder included)."""
    if top in sys.modules or top in protected or top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return False
    try:
        return importlib.util.find_spec(top) is None
    except Exception:  # noqa: BLE001 - a finder that breaks: leave the import to fail as it would
        return False


def _in_folder(folder: str, name: str) -> bool:
    return os.path.isfile(os.path.join(folder, f"{name}.py")) or os.path.isdir(os.path.join(folder, name))


def _course_module(name: str) -> bool:
    return name.split(".")[0] in COURSE_HELPERS


def _is_folder_alias(folder: str, top: str, imports) -> bool:
    """Whether every import of ``top`` names a course helper or a file of the submission's
    folder beneath it (``A3.a3_helper``, ``from A3 import a3_helper``, ``A2.linear_classifier``)."""
    for _, _, dotted, names in imports:
        rest = dotted.split(".")[1:]
        if rest:
            if not (_course_module(rest[0]) or _in_folder(folder, rest[0])):
                return False
        elif not names or not all(_course_module(n) or _in_folder(folder, n) for n in names):
            return False
    return True


def _install_folder_alias(folder: str, top: str) -> None:
    package = types.ModuleType(top, f"The submission's folder, imported as the package {top}.")
    package.__path__ = [folder]
    sys.modules[top] = package
    for name, module in list(sys.modules.items()):
        if _course_module(name):
            sys.modules[f"{top}.{name}"] = module
            if "." not in name:
                setattr(package, name, module)


def _install_placeholder(top: str, imports) -> None:
    first_module, first_line = imports[0][0], imports[0][1]
    why = (f"{top} is not installed on the grading machine: {first_module}.py imports it at line {first_line}; "
           "a graded function that uses it fails")
    modules: Dict[str, AbsentModule] = {}

    def module(dotted: str) -> AbsentModule:
        if dotted not in modules:
            made = AbsentModule(dotted, f"{top} is not installed on the grading machine.")
            made.__dict__["__absent__"] = why
            modules[dotted] = sys.modules[dotted] = made
            parent, _, child = dotted.rpartition(".")
            if parent:
                holder = module(parent)
                holder.__dict__.setdefault("__path__", [])
                holder.__dict__[child] = made
        return modules[dotted]

    for _, _, dotted, names in imports:
        made = module(dotted)
        for name in names or ():
            if name != "*" and name not in made.__dict__:
                made.__dict__[name] = Unavailable(f"{dotted}.{name}", f"{why} (it used {name}, from {dotted})")


def prepare(folder: str, modules, protected) -> Prepared:
    """Read the top-level imports of the submission's ``modules`` (file names without .py, in
    ``folder``, which is already on sys.path) and install what the absent ones need to load.
    ``protected``: top-level names never treated as absent (the kit's own packages)."""
    protected = set(protected) | set(COURSE_HELPERS) | {"__future__", "__main__"}
    by_top: Dict[str, list] = {}
    for module in modules:
        try:
            with open(os.path.join(folder, f"{module}.py"), "rb") as f:
                source = f.read()
        except OSError:
            continue  # a missing file is reported when it fails to load
        if not any(_is_absent(name, protected) for name in _candidates(source)):
            continue
        for line, dotted, names in top_level_imports(source):
            by_top.setdefault(dotted.split(".")[0], []).append((module, line, dotted, names))
    prepared = Prepared()
    tops = []
    for top, imports in by_top.items():
        if not _is_absent(top, protected):
            continue
        tops.append(top)
        if _is_folder_alias(folder, top, imports):
            _install_folder_alias(folder, top)
            continue
        _install_placeholder(top, imports)
        reported = set()
        for module, line, _, _ in imports:
            if module not in reported:
                reported.add(module)
                prepared.absent.append(Absent(module, top, line))
    prepared.tops = tuple(tops)
    return prepared
