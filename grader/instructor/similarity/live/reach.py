"""Reachability: what a graded function runs, as pieces. Its own kept statements first, then
every module-level definition it reaches through names, in either file (helpers, lambdas,
tables, classes, and the module-level statements that change them), each pruned the same way;
the other graded functions are compared on their own and are not followed.

A graded name may be a method, ``Class.method`` (Assignment 3's ``Linear.forward``,
``FullyConnectedNet.loss``): its piece is that method's kept statements, and what it reaches is
followed as for a function, plus, member by member, what it reads of classes that hold graded
methods: ``Linear.forward(...)`` or ``self.helper(...)`` (``cls.`` in a class method) reaches
that one member of the class (a method, or a class-level table), never the whole class, and
never a graded method (compared on its own). A class with graded methods reached by its bare
name (``Linear()``) is followed whole but without its graded methods. Attributes set on
``self`` at run time (``self.params``) are data, not code: nothing to follow. A class with no
graded method is followed whole, as before."""
import ast
import collections
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from .dead_code import Span, analyse
from .module import Module, kept_text
from ..source import is_docstring
from .names import reads, target_names
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
        # class -> its graded methods ("Linear" -> {"forward", "backward"}), from the dotted names
        self._graded_members: Dict[str, Set[str]] = {}
        for name in graded:
            if "." in name:
                cls, member = name.split(".", 1)
                self._graded_members.setdefault(cls, set()).add(member)
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

    def _piece(self, module: Module, node, name: str, owner: Optional[str] = None) -> Tuple[Piece, Set[str]]:
        """A definition's kept text and the names it reaches: the free names it reads, and
        ``Class.member`` for what it reads of a class with graded methods (``owner``: the class
        whose method ``node`` is, when it is one: ``self.member`` reads that class's)."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            left_out, free = self.live(module, node)
            # a decorator may put other code in its place; a default argument may hand it a helper
            free = free | reads(node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d])
            body = node.body
            text = kept_text(module.lines, body[0].lineno, body[-1].end_lineno, left_out)
            if self._graded_members:
                free = self._members_reached(module, node, left_out, free, owner)
            return Piece(name, text, body[0].lineno, module.name), free
        if isinstance(node, ast.ClassDef):
            left_out, free = [], set()
            graded = self._graded_members.get(name, set())
            if is_docstring(node.body[0]):
                left_out.append(node.body[0])  # words, not code (a template's words differ)
            for item in node.body:
                if graded and self._binds(item) & graded:  # a graded method: compared on its own
                    first = min([item.lineno] + [d.lineno for d in getattr(item, "decorator_list", ())])
                    left_out.append(Span(first, 0, item.end_lineno, item.end_col_offset))
                elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    gone, names = self.live(module, item)
                    left_out += gone
                    names = names - {"self", "cls"}
                    if self._graded_members:
                        names = self._members_reached(module, item, gone, names, None)
                    free |= names
            free |= reads(node.bases + node.decorator_list)
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            text = kept_text(module.lines, first, node.end_lineno, left_out)
            return Piece(name, text, first, module.name), free
        text = kept_text(module.lines, node.lineno, node.end_lineno, [])
        return Piece(name, text, node.lineno, module.name), reads([node])

    def _members_reached(self, module: Module, fn, left_out, free: Set[str], owner: Optional[str]) -> Set[str]:
        """``free`` with each class that holds graded methods, where ``fn``'s kept statements
        only read attributes of it (``Linear.forward``), replaced by ``Class.member`` for each
        member read; ``self.member`` (``cls.member``) of a method of class ``owner`` added as
        ``owner.member``."""
        split = {n for n in free if n in self._graded_members and self._is_class(module, n)}
        me = None
        if owner is not None and fn.args.args and not any(
                isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
            me = fn.args.args[0].arg  # self, or cls in a class method
        if not split and me is None:
            return free
        gone = set(map(id, left_out))
        members, bare = set(), set()
        stack = [x for x in fn.body if id(x) not in gone]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in split:
                    members.add(f"{node.value.id}.{node.attr}")
                    continue
                if node.value.id == me:
                    members.add(f"{owner}.{node.attr}")
                    continue
            if isinstance(node, ast.Name) and node.id in split:
                bare.add(node.id)
            stack.extend(x for x in ast.iter_child_nodes(node) if id(x) not in gone)
        return (free - split) | bare | members

    @staticmethod
    def _binds(item) -> Set[str]:
        """The names a statement of a class body binds (a def, a class, an assignment)."""
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {item.name}
        if isinstance(item, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            return set().union(*(target_names(t) for t in targets))
        return set()

    def _is_class(self, module: Module, name: str) -> bool:
        where = self._resolve(module, name)
        return where is not None and isinstance(self._binding(*where), ast.ClassDef)

    def _members(self, module: Module, dotted: str):
        """(module, class name, [statements of the class body that bind the member]) of
        ``Class.member`` read in ``module``, or None: a method (the last one defined wins, as in
        Python) or a class-level assignment."""
        cls_name, member = dotted.split(".", 1)
        where = self._resolve(module, cls_name)
        if where is None:
            return None
        cls = self._binding(*where)
        if not isinstance(cls, ast.ClassDef):
            return None
        found = []
        for item in cls.body:
            if member in self._binds(item):
                found = found + [item] if isinstance(item, ast.AugAssign) else [item]
        return (where[0], where[1], found) if found else None

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
        owner = None
        if "." in function:  # a method: Class.method
            member = self._members(module, function)
            if member is None or member[0] is not module or isinstance(member[2][-1], ast.ClassDef) or \
                    not getattr(member[2][-1], "body", True):
                return None
            node, owner = member[2][-1], member[1]  # a def, or `forward = staticmethod(_impl)`
        else:
            node = self._binding(module, function)
            if node is None or not getattr(node, "body", True) or (isinstance(node, ast.ClassDef)):
                return None
            method = self._method_of(module, node)
            if method is not None:  # f = SomeClass.f: what runs is that method
                module, node = method
        own, free = self._piece(module, node, function, owner)
        if self._forwards(module, node):  # only glue: the helper it calls is what it runs
            own = Piece(function, "", own.line, own.file)
        found, seen = [own], {(file, function)}
        queue = collections.deque((module, n) for n in sorted(free))
        while queue:
            at, name = queue.popleft()
            if "." in name:  # a member of a class: Class.method, Class.table
                members = self._members(at, name)
                if members is None:
                    continue
                mod, cls_name, nodes = members
                name, owner = f"{cls_name}.{name.split('.', 1)[1]}", cls_name
            else:
                where = self._resolve(at, name)
                if where is None:
                    continue
                mod, name = where
                nodes, owner = mod.defs[name], None
            if (mod.name, name) in seen or name in self.graded:
                continue
            seen.add((mod.name, name))
            for node in nodes:
                piece, names = self._piece(mod, node, name, owner)
                if piece.text:
                    found.append(piece)
                queue.extend((mod, n) for n in sorted(names))
        return found
