"""Reading the student's code in the grader's process (nothing of it is run here): what the
rules forbid that the tracer in the student's process cannot be trusted to see.

The tracer runs inside the student's process, so code that knows how it works can switch it
off (``sys.settrace(None)``, ``torch._C.DisableTorchFunction()``), run work where it does not
look (``exec`` of a string, another thread, ``torch.ops.aten``), or iterate in builtins that
run no line of the student's files (``sum(map(f, range(N)))``). None of that can hide from
the source itself, read here:

- **reaching around the checks** (``tamper``): switching tracing off, running code from
  strings, threads, the operators underneath torch's functions, frames, the garbage
  collector's object lists, the grader's own modules. Every case of a function whose code
  reaches it fails, naming it: the rules of code that does this cannot be checked.
- **gradients by autograd** (``autograd``): deriving the gradients by hand is the exercise;
  a loss function that reaches autograd gets nothing for its gradient outputs (its loss is
  judged as usual).
- **iteration in builtins** (``iteration``): ``map``, ``filter``, ``functools.reduce``,
  ``itertools``, ``Tensor.apply_``, and ``sum``/``min``/``max``/``any``/``all``/``sorted`` of
  one iterable: loops that run in C; they break the no-loop rule of the vectorized functions.

What a function reaches is read from the source: the names its body uses, the student's
functions those name, and so on (the stand-ins a case puts in place cut that walk), and
everything the files run at module level. A method is read on its own, as the runner's call
graph reads it (``Linear.forward`` is a node of its own): what one method holds is charged to
it and to what runs it, not to the other methods of its class; the class's own code (its
bases, decorators, class attributes) counts for every method; a class named whole
(``Net(...)``) reaches all of them.
"""
import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Set, Tuple, Union

TAMPER = {
    # tracing switched off, or frames read and rewritten
    "settrace", "setprofile", "gettrace", "getprofile", "_getframe", "currentframe", "f_back", "f_locals",
    "f_globals", "f_trace", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
    # torch's function-mode layer switched off or reached around
    "DisableTorchFunction", "DisableTorchFunctionSubclass", "_DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl", "__torch_function__", "__torch_dispatch__", "TorchFunctionMode",
    "TorchDispatchMode", "overrides", "_C", "ops", "_ops", "compile",
    # torch's reference implementations and decompositions: its own ops rebuilt in Python from
    # others (``torch._refs.nn.functional.relu`` is a ``where``), reaching around what is checked
    "_refs", "_decomp", "_prims", "_prims_common",
    # code from strings, the import machinery, the interpreter's own objects
    "exec", "eval", "__import__", "importlib", "__builtins__", "builtins", "__code__", "__globals__",
    "__closure__", "co_code", "__subclasses__", "get_objects", "get_referrers", "get_referents", "gc", "ctypes",
    "modules",
    "__bases__", "__mro__", "pickle", "marshal", "FunctionType", "CodeType", "runpy",
    # attributes read by a name built at run time, frames reached through inspect
    "__dict__", "vars", "globals", "locals", "inspect", "f_trace_lines", "f_trace_opcodes",
    # work on another thread or process, where the tracer does not look
    "threading", "_thread", "multiprocessing", "concurrent", "asyncio", "Thread", "start_new_thread",
    "ThreadPoolExecutor", "ProcessPoolExecutor", "subprocess", "fork", "system", "popen", "Popen", "execv",
    "execve", "spawnv", "posix_spawn",
    # code compiled out of the tracer's sight (loops inside run in C++ or machine code)
    "jit", "_dynamo", "fx", "cpp_extension", "load_inline", "numba", "njit", "cffi",
    # operators of one's own, or torch's replaced (torch.library: what runs inside a custom op is
    # out of the tracer's sight, and a kernel registered for aten::equal rewrites the checks)
    "library", "Library", "custom_op", "_library", "_custom_ops", "_custom_op", "register_kernel", "register_fake",
    "register_autograd", "CustomOpDef", "impl_abstract",
    # the optimizers are the exercise (A3's update rules): torch's own do the work
    "optim",
    # objects reached by a dotted name in a string ("torch.library.custom_op"), or a class
    # passed off as another module's
    "locate", "resolve_name", "get_type_hints", "Formatter", "BaseConfigurator", "run_path", "run_module",
    "import_module", "__module__", "get_annotations",
}
AUTOGRAD = {
    "autograd", "backward", "requires_grad_", "functorch", "vjp", "jvp", "jacrev", "jacfwd", "jacobian",
    "hessian", "enable_grad", "set_grad_enabled", "grad_fn",
    # a gradient measured by differences of the loss is not derived either
    "compute_numeric_gradient", "grad_check_sparse",
    # nor one read off complex numbers (the complex-step derivative: Im f(W + ih) / h)
    "imag", "complex", "cfloat", "cdouble", "chalf", "complex32", "complex64", "complex128", "view_as_complex",
    "view_as_real", "polar", "fft",
    # forward mode, and torch's own derivative kernels (the softmax's backward, say)
    "_functorch", "eager_transforms", "make_dual", "unpack_dual", "forward_ad", "dual_level",
    "_log_softmax_backward_data", "_softmax_backward_data",
}
# torch.func's transforms that do not differentiate (vmap vectorises a function over a batch
# dimension): torch.func.vmap is not autograd; every other use of torch.func is.
NOT_GRADIENT = {"vmap", "functional_call", "stack_module_state"}
# Words flagged as plain names too (a local variable may be called ``ops`` or ``backward``; these
# are builtins, or what ``from ... import`` brings in, and no one's variable names).
NAME_WORDS = {
    "exec", "eval", "compile", "__import__", "__builtins__", "_getframe", "settrace", "setprofile", "currentframe",
    "DisableTorchFunction", "DisableTorchFunctionSubclass", "_DisableTorchFunctionSubclass", "TorchFunctionMode",
    "TorchDispatchMode", "start_new_thread", "Thread", "ThreadPoolExecutor", "ProcessPoolExecutor", "get_objects",
    "autograd", "functorch", "vjp", "jvp", "jacrev", "jacfwd", "enable_grad", "set_grad_enabled",
    "compute_numeric_gradient", "grad_check_sparse", "FunctionType", "CodeType", "njit", "complex",
    "custom_op", "Library", "make_dual",
}
# Builtins that read a namespace by name (vars(torch)["_" + "C"]): flagged where used, unless the
# code binds the name itself (a variable called vars).
NAMESPACE_READERS = {"vars", "globals", "locals"}
STRING_WORDS = {"settrace", "setprofile", "DisableTorchFunction", "DisableTorchFunctionSubclass", "autograd",
                "requires_grad_", "get_objects", "get_referrers", "exec", "eval", "importlib", "functorch",
                "compute_numeric_gradient", "jacfwd", "jvp", "vjp", "jacrev", "hessian", "jacobian", "make_dual",
                "eager_transforms", "library", "Library", "custom_op", "optim"}
# Modules whose attributes student code has no business rewriting (``torch.sum = ...``).
REWRITTEN = ("torch", "sys", "builtins", "__builtins__", "math", "operator", "F")
ITERATING_CALLS = {"map", "filter", "reduce", "accumulate", "starmap", "apply_", "map_", "map2_", "vectorize",
                   "frompyfunc", "apply_along_axis", "itertools", "functools"}
ONE_ITERABLE = {"sum", "min", "max", "any", "all", "sorted"}
# math's and statistics' reductions of one iterable (math.fsum(values), statistics.fmean(values))
MODULE_REDUCTIONS = {"fsum", "prod", "fmean", "mean", "median", "geometric_mean", "harmonic_mean", "stdev", "pstdev",
                     "variance", "pvariance", "sumprod", "dist"}
DYNAMIC_ATTRIBUTE = {"getattr", "setattr", "delattr", "__getattribute__", "__getattr__", "attrgetter",
                     "methodcaller"}

MODULE = "<module>"
_DOTTED = re.compile(r"^\w+(?:[.:]\w+)+$")  # "torch.library.custom_op", "0.library.x", "torch.optim.adam:adam"

@dataclass(frozen=True)
class Finding:
    kind: str  # "tamper", "autograd" or "iteration"
    what: str  # as written: "sys.settrace", "torch.autograd.grad", "map(...)"
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.what} ({self.file} line {self.line})"


def _turns_off(call) -> bool:
    """``.requires_grad_(False)`` or ``.requires_grad_(requires_grad=False)``."""
    values = list(call.args[:1]) + [k.value for k in call.keywords if k.arg == "requires_grad"]
    return len(values) == 1 and isinstance(values[0], ast.Constant) and values[0].value is False


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "(...)")
    return ".".join(reversed(parts)) or type(node).__name__


class _Reader(ast.NodeVisitor):
    def __init__(self, file: str, aliases: Dict[str, Tuple[str, str]] = None):
        self.file = file
        self.findings: List[Finding] = []
        self.names: Set[str] = set()
        # names that module-level imports bound to a flagged module or name ({name: (kind, import)})
        self.aliases = aliases or {}
        self.checked: Set[int] = set()  # getattr & co. called with a constant name: read there
        self.called: Set[int] = set()  # names in a call's function position
        self.stored: Set[str] = set()  # names bound here (arguments, assignments)
        self.bare: List[Tuple[str, ast.AST]] = []  # looping builtins named without a call (add_all = sum)
        # Reading a module-level assignment's value: calls there run at import, a lambda's later.
        self.import_time = False
        self.lambdas = 0

    def add(self, kind, what, node):
        self.findings.append(Finding(kind, what, self.file, getattr(node, "lineno", 0)))

    def finish(self) -> List[Finding]:
        """The findings, with the looping builtins named without a call (``add_all = sum``,
        ``_s=sum`` as a default, ``map`` handed to a helper) where this code does not rebind
        the name itself (``max = scores.max()``)."""
        for name, node in self.bare:
            if name in self.stored:
                continue
            if name in NAMESPACE_READERS:
                self.add("tamper", f"{name} (reads attributes by a name that may be built at run time)", node)
            else:
                self.add("iteration", f"{name} passed around (it loops in C when called)", node)
        self.bare = []
        return self.findings

    def visit_Lambda(self, node):
        self.lambdas += 1
        self.generic_visit(node)
        self.lambdas -= 1

    def visit_arg(self, node):
        self.stored.add(node.arg)
        self.generic_visit(node)

    def word(self, word, what, node):
        if word.startswith("_fused"):  # torch's fused optimizer kernels (_fused_adam_, _fused_sgd_)
            self.add("tamper", what, node)
        elif word in TAMPER:
            self.add("tamper", what, node)
        elif word in AUTOGRAD:
            self.add("autograd", what, node)

    def visit_Name(self, node):
        self.names.add(node.id)
        if isinstance(node.ctx, ast.Store):
            self.stored.add(node.id)
        elif id(node) not in self.called and node.id in ONE_ITERABLE | {"map", "filter"}:
            self.bare.append((node.id, node))
        if node.id in DYNAMIC_ATTRIBUTE and id(node) not in self.checked:
            self.add("tamper", f"{node.id} passed around (its attribute names cannot be read)", node)
        if node.id in self.aliases and id(node) not in self.checked:
            kind, imported = self.aliases[node.id]
            self.add(kind, f"{node.id} ({imported})", node)
        elif node.id in NAMESPACE_READERS:  # the builtin, unless this code binds the name itself
            self.bare.append((node.id, node))
        elif node.id in NAME_WORDS:  # a plain name: a builtin, or what a from-import brought in
            self.word(node.id, node.id, node)

    def visit_Attribute(self, node):
        self.names.add(node.attr)
        if node.attr == "requires_grad_" and id(node) in self.checked:
            self.generic_visit(node)
            return
        if isinstance(node.ctx, ast.Load) and id(node) not in self.called and node.attr in ITERATING_CALLS \
                and node.attr not in ("itertools", "functools"):
            self.bare.append((node.attr, node))  # functools.reduce handed to partial, say
        if node.attr in DYNAMIC_ATTRIBUTE and id(node) not in self.checked:
            self.add("tamper", f"{_dotted(node)} passed around (its attribute names cannot be read)", node)
        what = _dotted(node)
        if node.attr in NOT_GRADIENT and (_dotted(node.value) == "torch.func" or (
                isinstance(node.value, ast.Name) and self.aliases.get(node.value.id, ("", ""))[1].endswith(
                    ("import torch.func", "from torch import func")))):
            self.checked.add(id(node.value))  # torch.func.vmap: vectorisation, not a gradient
        if node.attr == "func" and isinstance(node.value, ast.Name) and node.value.id == "torch":
            if id(node) not in self.checked:
                self.add("autograd", what, node)
        elif node.attr == "requires_grad" and isinstance(node.ctx, ast.Store):
            self.add("autograd", f"{what} = ...", node)
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and what.split(".")[0] in REWRITTEN:
            self.add("tamper", f"{what} = ... (rewrites a module the checks rely on)", node)
        elif node.attr not in ("compile", "eval", "exec") or _dotted(node.value) == "torch":
            self.word(node.attr, what, node)  # (net.eval() is a method, not the builtin)
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            for part in alias.name.split("."):
                self.word(part, f"import {alias.name}", node)
            if alias.name in ("torch.func",) and alias.asname:  # (torch.func.<name> is read where it is used)
                self.add("autograd", f"import {alias.name}", node)
            self.names.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for part in module.split("."):
            self.word(part, f"from {module} import ...", node)
        for alias in node.names:
            self.word(alias.name, f"from {module} import {alias.name}", node)
            if module == "torch" and alias.name == "func":
                self.add("autograd", "from torch import func", node)
            if module in ("torch.func", "functorch") and alias.name not in NOT_GRADIENT | {"*"}:
                self.add("autograd", f"from {module} import {alias.name}", node)
            self.names.add(alias.asname or alias.name)

    def visit_Constant(self, node):
        # A string names what getattr or a dict lookup reaches: the words no one's dictionary
        # key is ("backward" may well be one), those with a leading underscore and a few more.
        value = node.value
        if isinstance(value, complex):
            self.add("autograd", f"{value!r} (a complex number: the complex-step derivative)", node)
        if isinstance(value, str) and value.isidentifier() and (value.startswith("_") or value in STRING_WORDS):
            self.word(value, repr(value), node)
        elif isinstance(value, str) and len(value) < 200 and _DOTTED.match(value):
            # a dotted path some library turns into the object ("torch.library.custom_op",
            # "torch.optim.adam:adam", a string annotation): each name along it is read
            for part in re.split(r"[.:]", value):
                if part.isidentifier() and (part in TAMPER or part in AUTOGRAD or part.startswith("_fused")):
                    self.word(part if not part.startswith("_fused") else "_fused", repr(value), node)
                    break

    def visit_keyword(self, node):
        if node.arg == "requires_grad" and not (isinstance(node.value, ast.Constant) and node.value.value is False):
            self.add("autograd", "requires_grad=...", node)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = node.func.id if isinstance(node.func, ast.Name) else \
            node.func.attr if isinstance(node.func, ast.Attribute) else ""
        self.called.add(id(node.func))
        if name == "requires_grad_" and _turns_off(node):
            self.checked.add(id(node.func))  # .requires_grad_(False) computes no gradient
        runs_now = self.import_time and not self.lambdas  # a module-level value's call runs at import
        if name in DYNAMIC_ATTRIBUTE:
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                self.checked.add(id(node.func))
                if name in ("setattr", "delattr") and _dotted(node.args[0]).split(".")[0] in REWRITTEN:
                    self.add("tamper", f"{name}({_dotted(node.args[0])}, ...) rewrites a module the checks rely on",
                             node)
            else:
                self.checked.add(id(node.func))
                self.add("tamper", f"{name}(...) with a name computed at run time", node)
        if runs_now:
            pass
        elif name in ITERATING_CALLS:
            self.add("iteration", f"{_dotted(node.func)}(...)", node)
        elif (isinstance(node.func, ast.Name) and name in ONE_ITERABLE or isinstance(node.func, ast.Attribute)
              and name in MODULE_REDUCTIONS and _dotted(node.func.value) in ("math", "statistics")) \
                and len(node.args) == 1 \
                and not isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set, ast.Starred)):
            self.add("iteration", f"{name}(...) of one iterable", node)
        self.generic_visit(node)


@dataclass(frozen=True)
class Inspection:
    """What each top-level function or class, and each method of a top-level class
    ("Class.method"), reaches and holds; MODULE for module-level code."""

    uses: Dict[str, Set[str]]
    findings: Dict[str, Tuple[Finding, ...]]

    def reach(self, start: Iterable[str], cut: Sequence[str] = ()) -> Set[str]:
        """Definitions that running ``start`` may run, not going through ``cut`` (a stand-in
        class cuts its methods too). A method its class does not define as such
        (``forward = staticmethod(f)``, inherited) stands for its class whole. A name that is not a
        definition of its own (``loss = helper``) may be anything module-level code made it: it
        reaches what module-level code names."""
        def cut_off(name):
            return name in cut or name.split(".")[0] in cut

        todo = []
        for name in start:
            if name not in self.uses and "." in name and name.split(".")[0] in self.uses:
                name = name.split(".")[0]
            if name in self.uses:
                todo.append(name)
            elif not cut_off(name):
                todo.extend(self.uses.get(MODULE, ()))
        seen: Set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or cut_off(name) or name not in self.uses or name == MODULE:
                continue
            seen.add(name)
            todo.extend(self.uses[name])
        return seen

    def found(self, start: Iterable[str], cut: Sequence[str] = (), kinds=("tamper", "autograd", "iteration")
              ) -> List[Finding]:
        """What the code reachable from ``start`` holds (module-level code's tampering and
        autograd count for every function: it runs before any of them)."""
        out = [f for f in self.findings.get(MODULE, ()) if f.kind != "iteration"]
        for name in sorted(self.reach(start, cut)):
            out.extend(self.findings.get(name, ()))
        return [f for f in dict.fromkeys(out) if f.kind in kinds]


def _import_aliases(tree, file) -> Dict[str, Tuple[str, str]]:
    """{name bound by a module-level import: (kind, the import)} for imports of flagged modules
    or names (``import threading as t``, ``from torch._C import DisableTorchFunction as D``)."""
    aliases = {}
    for node in _module_statements(tree.body):  # imports inside a module-level if or try too
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            probe = _Reader(file)
            _read(probe, node)
            if probe.findings:
                kind = "tamper" if any(f.kind == "tamper" for f in probe.findings) else "autograd"
                for alias in node.names:
                    name = (alias.asname or alias.name).split(".")[0] if isinstance(node, ast.Import) \
                        else (alias.asname or alias.name)
                    if name != "torch":
                        aliases[name] = (kind, probe.findings[0].what)
    return aliases


def _read(reader: "_Reader", node) -> None:
    """``reader.visit(node)``; code nested deeper than the reader can follow (a sum of
    thousands of terms parses, and compiles, but is thousands of levels deep) is a finding of
    its own: rules that cannot be read are not taken as kept."""
    try:
        reader.visit(node)
    except RecursionError:
        reader.add("tamper", "code nested too deeply for the grader to read it", node)


def _at_import(node):
    """The nodes of a module-level value that run at import (a lambda's body runs later)."""
    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))


def _is_main_guard(node) -> bool:
    """``if __name__ == "__main__":`` (either way round)."""
    test = getattr(node, "test", None)
    if not isinstance(node, ast.If) or not isinstance(test, ast.Compare) or len(test.ops) != 1 \
            or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in sides) and \
        any(isinstance(n, ast.Constant) and n.value == "__main__" for n in sides)


def _module_statements(body, main_runs=True):
    """The module's statements, with those inside module-level compound statements (``if
    True:``, ``try:``, ``with``, loops) brought up: a function defined there is one like any
    other; the compound statement's own header is module-level code. The body of an ``if
    __name__ == "__main__":`` never runs when the grader imports the file (a student's own
    checks, the course's ``grad_check_sparse`` among them): left out unless the file rebinds
    ``__name__`` (``main_runs``)."""
    for node in body:
        if not main_runs and _is_main_guard(node):
            yield node.test
            yield from _module_statements(node.orelse, main_runs)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or \
                not isinstance(getattr(node, "body", None), list):
            yield node
            continue
        for _, value in ast.iter_fields(node):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.stmt):
                    yield from _module_statements([item], main_runs)
                elif isinstance(getattr(item, "body", None), list):  # except handlers, match cases
                    for _, part in ast.iter_fields(item):
                        if isinstance(part, ast.AST):
                            yield part
                    yield from _module_statements(item.body, main_runs)
                elif isinstance(item, ast.AST):
                    yield item


def inspect_sources(sources: Dict[str, Union[str, bytes]]) -> Inspection:
    """{file name: source} -> :class:`Inspection`. Unparsable files give nothing (their cases
    fail when they are loaded). A source given as bytes is decoded as Python decodes it on
    import, by its coding line."""
    uses: Dict[str, Set[str]] = {}
    findings: Dict[str, List[Finding]] = {}
    classes: Dict[str, List["_Class"]] = {}
    for file, source in sources.items():
        try:
            tree = ast.parse(source, filename=file)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        aliases = _import_aliases(tree, file)
        module = _Reader(file, aliases)
        plain = _Reader(file)  # module-level assignments that call nothing: read for their words only
        main_runs = any(isinstance(n, ast.Name) and n.id == "__name__" and not isinstance(n.ctx, ast.Load)
                        for n in ast.walk(tree))
        for node in _module_statements(tree.body, main_runs):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # An import alone runs nothing: what uses the name it binds is flagged there.
                module.names.update(alias for alias in aliases)
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                reader = _Reader(file, aliases)
                _read(reader, node)
                uses.setdefault(node.name, set()).update(reader.names - {node.name})
                findings.setdefault(node.name, []).extend(reader.finish())
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, []).append(_read_class(node, file, aliases))
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            value = getattr(node, "value", None)
            # A value that calls nothing at import (a name, a lambda) runs nothing then: what
            # it names is flagged where it is used, through the name it is bound to.
            refers = value is not None and targets and not any(isinstance(n, ast.Call) for n in _at_import(value))
            _read(plain if refers else module, node)
            if value is not None and targets:
                # A module-level value may be code run later (a lambda, a helper bound to a
                # name, a dict of them): what it holds is the name's, as a definition's is.
                reader = _Reader(file, aliases)
                reader.import_time = True
                _read(reader, value)
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            uses.setdefault(name.id, set()).update(reader.names - {name.id})
                            findings.setdefault(name.id, []).extend(reader.finish())
        uses.setdefault(MODULE, set()).update(module.names | plain.names)
        findings.setdefault(MODULE, []).extend(module.finish() + plain.finish())
    for name, (names, found) in _method_nodes(classes).items():
        uses.setdefault(name, set()).update(names)
        findings.setdefault(name, []).extend(found)
    return Inspection(uses, {k: tuple(v) for k, v in findings.items()})


@dataclass
class _Class:
    """A top-level class read apart: each method's names and findings, and those of the class's
    own code (bases, decorators, class attributes: it runs when the class is made, before any
    method)."""

    methods: Dict[str, Tuple[Set[str], List[Finding]]]
    own_names: Set[str]
    own_findings: List[Finding]


def _read_class(node: ast.ClassDef, file: str, aliases) -> _Class:
    methods: Dict[str, Tuple[Set[str], List[Finding]]] = {}
    own = _Reader(file, aliases)
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            reader = _Reader(file, aliases)
            _read(reader, item)
            names, found = methods.get(item.name, (set(), []))  # a method defined twice: both read
            methods[item.name] = (names | reader.names, found + reader.finish())
        else:
            _read(own, item)
    for part in [*node.bases, *node.keywords, *node.decorator_list]:
        _read(own, part)
    return _Class(methods, own.names, own.finish())


def _method_nodes(classes: Dict[str, List[_Class]]) -> Dict[str, Tuple[Set[str], List[Finding]]]:
    """{"Class.method": (names, findings)}, as the runner's call graph makes its method nodes: a
    method's names with each class it names narrowed to the methods it names of that class
    (``Linear.forward(...)`` runs Linear.forward, not Linear.backward; a class named with none of
    its methods named stays whole), its own class's methods it names (``self.loss``) added, and
    the class's own code's names and findings, which count for each of its methods."""
    members = {cls: {m for c in read for m in c.methods} for cls, read in classes.items()}
    nodes: Dict[str, Tuple[Set[str], List[Finding]]] = {}
    for cls, read in classes.items():
        own_names = set().union(*(c.own_names for c in read))
        own_findings = [f for c in read for f in c.own_findings]
        for c in read:
            for method, (names, found) in c.methods.items():
                out = set(own_names)
                for name in names:
                    named = names & members[name] if name in members else set()
                    out |= {f"{name}.{a}" for a in named} or {name}
                out |= {f"{cls}.{a}" for a in names & members[cls] if a != method}
                out.discard(f"{cls}.{method}")
                got_names, got_found = nodes.get(f"{cls}.{method}", (set(), []))
                nodes[f"{cls}.{method}"] = (got_names | out, got_found + found + own_findings)
    return nodes


def inspect_files(paths: Iterable[Path]) -> Inspection:
    """The files at ``paths`` read as bytes: the parser decodes them as Python does on import,
    by each file's own coding line (a file declared latin-1 or utf-7 reads differently as UTF-8)."""
    sources = {}
    for path in paths:
        try:
            sources[Path(path).name] = Path(path).read_bytes()  # decoded by its coding line
        except OSError:
            continue
    return inspect_sources(sources)
