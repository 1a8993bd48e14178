"""Dead code: which statements of a function can affect what it returns, raises or changes
outside itself (a backward slice on names, flow-insensitive), and which are left out of the
compared text. See the package's docstring for what goes."""
import ast
from dataclasses import dataclass
from typing import Dict, List, Set, Tuple

from .constant import UNKNOWN, constant_value, truth_of
from .names import bound_names, target_names, walk
from .statements import SCOPES, Stmt, all_statements, flatten, parameters


def _decide(stmt: Stmt, params: Set[str], local: Set[str], declared: Set[str], effectful) -> None:
    """What ``stmt`` writes, and whether it must stay whatever reads it: it returns, raises,
    yields, calls something opaque or a helper that changes things, or changes what the caller
    or the module sees (a parameter's object, a module-level name, a declared global)."""
    node, scan = stmt.node, stmt.scan
    outside = params | declared
    changes = scan.writes(local)
    stmt.reads = scan.reads
    stmt.writes = stmt.binds | stmt.changed | changes
    seen = changes | stmt.changed
    stmt.essential = (
        scan.opaque or scan.special or isinstance(node, ast.Return) or bool(seen & outside)
        or (isinstance(node, ast.Raise) and node.exc is not None)  # a bare raise re-raises: no change
        or bool(seen - local) or bool(stmt.binds & declared)
        or (isinstance(node, ast.AugAssign) and bool(bound_names(node.target) & outside))  # W -= ... in place
        or (not isinstance(node, SCOPES) and any(effectful(name) for name in scan.calls - local)))


def _constants_of(fn, constants: Dict[str, object]) -> Dict[str, object]:
    """Names whose value ``fn`` knows: bound once in it to a literal (and nowhere else in it),
    or a module-level constant it does not bind."""
    params = parameters(fn)
    bound: Dict[str, int] = {}
    found = {}
    for node in all_statements(fn.body):
        kind = type(node)
        if kind in (ast.Expr, ast.Return, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert, ast.Delete,
                    ast.If, ast.While, ast.Try):
            continue  # binds nothing itself
        targets = []
        if kind is ast.Assign:
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                value = constant_value(node.value)
                if value is not UNKNOWN:
                    found[targets[0].id] = value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        names = set().union(*(target_names(t) for t in targets)) if targets else set()
        if isinstance(node, SCOPES):
            names = {node.name}
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            names = {(a.asname or a.name).split(".")[0] for a in node.names} if hasattr(node.names[0], "name") \
                else set(node.names)
        for name in names:
            bound[name] = bound.get(name, 0) + 1
    known = {n: v for n, v in constants.items() if n not in bound and n not in params}
    known.update({n: v for n, v in found.items() if bound.get(n) == 1 and n not in params})
    return known


def _statements(fn, effectful, names: Dict[str, object]) -> List[Stmt]:
    """Every reachable statement of ``fn``, decided (each carries the function's locals);
    ``names``: the constants it knows (:func:`_constants_of`)."""
    stmts = flatten(fn.body, names)
    params = parameters(fn)
    declared = set().union(*(s.node.names for s in stmts if isinstance(s.node, (ast.Global, ast.Nonlocal))))
    local = (params | set().union(*(s.binds | s.scan.named for s in stmts))) - declared
    for s in stmts:
        _decide(s, params, local, declared, effectful)
        s.local = local
    return stmts


def live_statements(fn, effectful=lambda name: False, constants=None) -> Tuple[List[ast.AST], Set[str]]:
    """(the statements of ``fn``'s body that are left out, outermost only; the names its kept
    statements read that it does not bind itself). ``constants``: the module's, by name."""
    return analyse(fn, effectful, constants)[:2]


def analyse(fn, effectful, constants) -> Tuple[List, Set[str], List[Stmt]]:
    """:func:`live_statements`, and every reachable statement of ``fn`` decided (whether it is
    essential: :meth:`.reach.Reader.effectful` reads it). ``effectful(name)``: whether calling
    the module-level ``name`` changes something."""
    names = _constants_of(fn, constants or {})
    stmts = _statements(fn, effectful, names)
    local = stmts[0].local if stmts else set()
    if any(s.scan.opaque for s in stmts):
        kept = set(map(id, stmts))  # locals() and the like read every name: keep what runs
    else:
        kept = _mark(stmts)
    reachable = {id(s.node) for s in stmts}
    left_out = [s.node for s in stmts if id(s) not in kept]
    left_out += [n for n in all_statements(fn.body) if id(n) not in reachable]
    free = set().union(*(s.reads for s in stmts if id(s) in kept)) - local if kept else set()
    inner = []  # a kept nested function (or a kept class's methods) is pruned the same way
    for s in stmts:
        if id(s) in kept and isinstance(s.node, SCOPES):
            for fn_ in [s.node] if not isinstance(s.node, ast.ClassDef) else s.node.body:
                if isinstance(fn_, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner += live_statements(fn_, effectful, constants)[0]
    headers = _empty_headers([s.node for s in stmts if id(s) in kept], names)
    return _outermost(left_out) + inner + headers, free, stmts


@dataclass(frozen=True)
class Span:
    """A stretch of a file left out of the compared text (positions as the AST gives them)."""

    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


def _empty_headers(kept: List, names: Dict[str, object]) -> List[Span]:
    """The headers that decide nothing, so that wrapping every statement in one adds nothing to
    compare: ``if True:`` (without else) and ``if False: ... else:`` before the branch that
    runs, ``with ...:`` (a context changes no result the report compares), ``for _ in
    range(1):``, and ``try:`` whose handlers all went (``except: raise`` re-raises what would
    propagate anyway; ``except: pass`` holds nothing)."""
    found = []
    ids = set(map(id, kept))
    for node in kept:
        rest = None
        if isinstance(node, ast.If):
            truth = truth_of(node.test, names)
            rest = node.body if truth is True and not node.orelse else node.orelse if truth is False else None
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            rest = node.body
        elif isinstance(node, ast.For) and not node.orelse and isinstance(node.iter, ast.Call) and \
                isinstance(node.iter.func, ast.Name) and node.iter.func.id == "range" and \
                len(node.iter.args) == 1 and constant_value(node.iter.args[0]) == 1:
            rest = node.body
        elif isinstance(node, ast.Try) and not any(id(h) in ids for h in node.handlers) and \
                not any(id(x) in ids for x in node.finalbody):
            rest = node.body
        if rest:
            found.append(Span(node.lineno, node.col_offset, rest[0].lineno, rest[0].col_offset))
    return found


def _mark(stmts: List[Stmt]) -> Set[int]:
    writers: Dict[str, List[Stmt]] = {}
    for s in stmts:
        for name in s.writes:
            writers.setdefault(name, []).append(s)
    kept: Set[int] = set()
    needed: Set[str] = set()
    work: List[Stmt] = [s for s in stmts if s.essential]

    def keep(s):
        while s is not None and id(s) not in kept:
            kept.add(id(s))
            for name in s.reads - needed:
                needed.add(name)
                work.extend(writers.get(name, ()))
            s = s.parent

    jumps = [s for s in stmts if isinstance(s.node, (ast.Break, ast.Continue))]
    while work:
        while work:
            keep(work.pop())
        # a break or continue matters once its loop stays
        work = [s for s in jumps if id(s) not in kept and s.loop is not None and id(s.loop) in kept]
    return kept


def _outermost(nodes: List) -> List:
    """The nodes that no other node of the list contains."""
    inside = set()
    for node in nodes:
        for child in walk(node):
            if child is not node:
                inside.add(id(child))
    return [n for n in nodes if id(n) not in inside]
