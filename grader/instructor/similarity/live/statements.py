"""A function's statements as the analysis sees them: each reachable one (branches under a
constant false condition and code after ``return``/``raise``/``break``/``continue`` left out)
with its enclosing statement and loop, what it evaluates itself and the names it binds or
changes."""
import ast
from dataclasses import dataclass
from typing import Dict, List, Optional, Set

from .constant import constant_value, truth_of
from .names import Scan, bound_names, mutated_roots, scan_nodes


_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(eq=False)
class Stmt:
    node: ast.AST
    parent: Optional["Stmt"]
    loop: Optional["Stmt"]  # the nearest enclosing loop
    scan: Scan  # of what the statement itself evaluates (a compound one: its header)
    binds: Set[str]  # names it binds
    changed: Set[str]  # roots of the objects its targets change (``a[i] = ...``, ``a.b = ...``)
    reads: Set[str] = None
    writes: Set[str] = None
    essential: bool = False
    local: Set[str] = None


def _header(node) -> List:
    """The expressions a compound statement evaluates itself."""
    if isinstance(node, ast.If) or isinstance(node, ast.While):
        return [node.test]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.iter]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in node.items]
    if isinstance(node, ast.ExceptHandler):
        return [node.type]
    if isinstance(node, getattr(ast, "Match", ())):
        return [node.subject]
    return []


def _empty_loop(iterable) -> bool:
    """``range(0)``, ``[]``, ``()``: a loop over it never runs its body."""
    if isinstance(iterable, (ast.List, ast.Tuple)):
        return not iterable.elts
    return (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range"
            and len(iterable.args) == 1 and constant_value(iterable.args[0]) == 0)


def _blocks(node, names=None) -> List[List]:
    """The statement lists inside a compound statement, branches that never run left out."""
    if isinstance(node, (ast.If, ast.While)):
        truth = truth_of(node.test, names)
        return [[] if truth is False else node.body, [] if truth is True and isinstance(node, ast.If) else node.orelse]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [[] if _empty_loop(node.iter) else node.body, node.orelse]
    if isinstance(node, (ast.With, ast.AsyncWith, ast.ExceptHandler)):
        return [node.body]
    if isinstance(node, ast.Try) or isinstance(node, getattr(ast, "TryStar", ())):
        return [node.body, node.handlers, node.orelse, node.finalbody]
    if isinstance(node, getattr(ast, "Match", ())):
        return [case.body for case in node.cases]
    return []


def flatten(body: List, names: Dict[str, object]) -> List[Stmt]:
    """Every reachable statement of ``body`` with what it evaluates and binds (``names``: the
    constants its conditions may read)."""
    found: List[Stmt] = []

    def visit(block, parent, loop):
        for node in block:
            stmt = _describe(node, parent, loop)
            found.append(stmt)
            inner_loop = stmt if isinstance(node, _LOOPS) else loop
            for inner in _blocks(node, names):
                visit(inner, stmt, inner_loop)
            if isinstance(node, _TERMINATORS):
                break  # what follows in this block never runs

    visit(body, None, None)
    return found


def _describe(node, parent, loop) -> Stmt:
    if isinstance(node, SCOPES):  # a nested def or class: binds its name, reads what it uses
        return Stmt(node, parent, loop, scan_nodes([node]), {node.name}, set())
    compound = bool(_blocks(node, {})) or isinstance(node, ast.ExceptHandler)
    scan = scan_nodes(_header(node) if compound else [node])
    binds, changed = set(), set()
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        if not (isinstance(node, ast.AnnAssign) and node.value is None):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                binds |= bound_names(target)
                changed |= mutated_roots(target)
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        binds |= bound_names(node.target)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                binds |= bound_names(item.optional_vars)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        binds.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        binds |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return Stmt(node, parent, loop, scan, binds, changed)


def parameters(fn) -> Set[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return set(names)


def all_statements(body):
    for node in body:
        yield node
        for inner in blocks_all(node):
            yield from all_statements(inner)


_COMPOUND = {ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try, ast.ExceptHandler}
_COMPOUND |= {getattr(ast, name) for name in ("TryStar", "Match") if hasattr(ast, name)}


def blocks_all(node):
    """Every statement list inside a compound statement (none inside a def or a class)."""
    if type(node) not in _COMPOUND:
        return []
    if hasattr(node, "cases"):
        return [c.body for c in node.cases]
    return [b for field in ("body", "orelse", "finalbody", "handlers") for b in [getattr(node, field, None)]
            if isinstance(b, list)]
