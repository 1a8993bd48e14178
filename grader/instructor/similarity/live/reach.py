"""Reachability: what a graded function runs, as pieces. Its own kept statements first, then
every module-level definition it reaches through names, in either file (helpers, lambdas,
tables, classes, and the module-level statements that change them), each pruned the same way;
the other graded functions are compared on their own and are not followed."""
import ast
import collections
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from .dead_code import analyse
from .module import Module, kept_text
from .names import reads
from .statements import SCOPES


@dataclass(frozen=True)
class Piece:
    """One part of what a graded function runs: the function itself first, then what it reaches."""

    name: str  # the function's or the definition's name
    text: str  # its kept statements, dedented
    line: int  # where it starts in its file
    file: str = ""


class Reader:
    """Pieces of what each graded function runs, over the files of one submission (``modules``,
    by file name). ``graded``: the functions compared on their own, never followed into.
    ``siblings``: the file names whose ``from M import x`` resolve (default: ``modules``'):
    an import from another sibling that is not read resolves to nothing."""

    def __init__(self, modules: Dict[str, Module], graded: Set[str], siblings: Optional[Iterable[str]] = None):
        self.modules = modules
        self.graded = graded
        files = set(modules if siblings is None else siblings)
        # local name -> (file, its name there), per module; the last import of a name wins
        self._imported = {m.name: {local: (file, there) for local, file, there in m.imports if file in files}
                          for m in modules.values()}
        self._effect: Dict[Tuple[str, str], bool] = {}
        self._live: Dict[int, tuple] = {}

    def live(self, module: Module, fn):
        """:func:`live_statements` of ``fn`` (a function of ``module``), once."""
        return self._analysis(module, fn)[:2]

    def _analysis(self, module: Module, fn):
        found = self._live.get(id(fn))
        if found is None:
            found = self._live[id(fn)] = analyse(fn, lambda n: self.effectful(module, n), module.constants)
        return found

    def _resolve(self, module: Module, name: str):
        """(module, name) where ``name`` used in ``module`` is defined at module level, or None."""
        for _ in range(4):
            if name in module.defs:
                return module, name
            imported = self._imported[module.name]
            if name in imported:
                other, there = imported[name]
                if other not in self.modules:
                    return None
                module, name = self.modules[other], there
                continue
            return None
        return None

    def effectful(self, module: Module, name: str) -> bool:
        """Whether calling the module-level function ``name`` can change something (beyond
        returning a value): then a call whose result is dropped stays."""
        where = self._resolve(module, name)
        if where is None:
            return False
        module, name = where
        key = (module.name, name)
        if key in self._effect:
            return self._effect[key]
        self._effect[key] = True  # while it is worked out (recursion): assume it does
        node = self._binding(module, name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stmts = self._analysis(module, node)[2]
            self._effect[key] = any(s.essential and not isinstance(s.node, ast.Return) for s in stmts)
        else:  # a lambda, a class, a table: calling it changes nothing by itself
            self._effect[key] = False
        return self._effect[key]

    @staticmethod
    def _binding(module: Module, name: str):
        """The module-level statement that last binds ``name`` (not one that only changes it)."""
        found = None
        for node in module.defs.get(name, ()):
            if isinstance(node, SCOPES) or (isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                    isinstance(t, ast.Name) and t.id == name
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
                found = node
        return found

    def _piece(self, module: Module, node, name: str) -> Tuple[Piece, Set[str]]:
        """A definition's kept text and the free names it reads."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            left_out, free = self.live(module, node)
            # a decorator may put other code in its place; a default argument may hand it a helper
            free = free | reads(node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d])
            body = node.body
            text = kept_text(module.lines, body[0].lineno, body[-1].end_lineno, left_out)
            return Piece(name, text, body[0].lineno, module.name), free
        if isinstance(node, ast.ClassDef):
            left_out, free = [], set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    gone, names = self.live(module, item)
                    left_out += gone
                    free |= names - {"self", "cls"}
            free |= reads(node.bases + node.decorator_list)
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            text = kept_text(module.lines, first, node.end_lineno, left_out)
            return Piece(name, text, first, module.name), free
        text = kept_text(module.lines, node.lineno, node.end_lineno, [])
        return Piece(name, text, node.lineno, module.name), reads([node])

    def _method_of(self, module: Module, node):
        """(module, method) when ``node`` binds a name to a class's function (``f = Cls.f``)."""
        value = getattr(node, "value", None)
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)):
            return None
        where = self._resolve(module, value.value.id)
        if where is None:
            return None
        cls = self._binding(*where)
        if not isinstance(cls, ast.ClassDef):
            return None
        found = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == value.attr]
        return (where[0], found[-1]) if found else None

    def _forwards(self, module: Module, node) -> bool:
        """Whether ``node`` only hands its arguments to a module-level helper: ``def f(a, b):
        return helper(a, b)``, ``f = helper``, ``f = lambda a, b: helper(a, b)``."""
        def plain(x):
            return isinstance(x, (ast.Name, ast.Constant)) or (isinstance(x, ast.Starred) and plain(x.value))

        def forwarding(call):
            return (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and self._resolve(module, call.func.id) is not None
                    and all(plain(a) for a in call.args) and all(plain(k.value) for k in call.keywords))

        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            left_out, _ = self.live(module, node)
            gone = set(map(id, left_out))
            kept = [x for x in node.body if id(x) not in gone]
            return len(kept) == 1 and isinstance(kept[0], ast.Return) and forwarding(kept[0].value)
        value = getattr(node, "value", None)
        if isinstance(value, ast.Name):
            return self._resolve(module, value.id) is not None
        return isinstance(value, ast.Lambda) and forwarding(value.body)

    def pieces(self, file: str, function: str) -> Optional[List[Piece]]:
        """What ``function`` of ``file`` runs: its own piece first (None when the file does not
        define it), then the definitions it reaches, in the order it reaches them."""
        module = self.modules[file]
        node = self._binding(module, function)
        if node is None or not getattr(node, "body", True) or (isinstance(node, ast.ClassDef)):
            return None
        method = self._method_of(module, node)
        if method is not None:  # f = SomeClass.f: what runs is that method
            module, node = method
        own, free = self._piece(module, node, function)
        if self._forwards(module, node):  # only glue: the helper it calls is what it runs
            own = Piece(function, "", own.line, own.file)
        found, seen = [own], {(file, function)}
        queue = collections.deque((module, n) for n in sorted(free))
        while queue:
            where = self._resolve(*queue.popleft())
            if where is None:
                continue
            mod, name = where
            if (mod.name, name) in seen or name in self.graded:
                continue
            seen.add((mod.name, name))
            for node in mod.defs[name]:
                piece, names = self._piece(mod, node, name)
                if piece.text:
                    found.append(piece)
                queue.extend((mod, n) for n in sorted(names))
        return found
