"""What a graded function runs, as the similarity report compares it: the function's statements
that can affect its result, then every module-level definition it reaches through names
(helpers, lambdas, tables, classes, the module-level statements that change them), each with
its own statements that can affect a result.

A statement is left out when it cannot affect what the function returns, raises or changes
outside itself: ``pass``, a docstring or any other expression without a call that changes
something, a ``print`` or other call whose result is dropped (unless it is an in-place method,
``name_()`` or ``append``-like, on a variable that counts), ``assert``, ``del``, ``global``,
an assignment to a name that nothing kept reads (through chains: ``a = 1; b = a`` with ``b``
unused goes), code after ``return``/``raise``/``break``/``continue`` in its block, the body of
``if``/``while`` under a constant false condition (``if False:``, ``if 0 > 1:``, ``if DEBUG:``
with ``DEBUG = False`` bound once in the module or the function, ``x and False``), of ``for _
in range(0):``, and a loop,
``if``, ``with`` or ``try`` whose statements all go; so are the headers that decide nothing
(``if True:``, ``with ...:``, ``for _ in range(1):``, a ``try:`` whose handlers all went, a
bare ``raise`` re-raising). What is kept keeps its text, so the report shows the student's
own lines (left out: blank lines and long comment lines).

This is a backward slice on names, flow-insensitive (a name read anywhere counts), so it never
drops a statement that a kept one needs; it does not see through code that is live but does
nothing (``x = x + 0``, ``loss = loss + 0 * junk`` with junk computed for it, a guard that never
fires but could): that dilutes a comparison as before.
"""
import ast
import collections
import textwrap
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..assignment import REGISTRY

# Method names that change their receiver (besides torch's in-place ``name_``).
MUTATORS = frozenset({"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault",
                      "add", "discard", "sort", "reverse", "backward", "step", "zero_grad", "load_state_dict",
                      "register_buffer", "register_parameter", "requires_grad_"})
OPAQUE = frozenset({"locals", "vars", "eval", "exec", "globals", "setattr", "delattr", "__import__", "compile"})
LONG_COMMENT = 200  # comment-only lines longer than this are left out of the compared text
# modules whose names resolve across an assignment's files (every assignment's student modules)
SIBLINGS = tuple(m for a in REGISTRY.values() for m in a.modules)


@dataclass(frozen=True)
class Piece:
    """One part of what a graded function runs: the function itself first, then what it reaches."""

    name: str  # the function's or the definition's name
    text: str  # its kept statements, dedented
    line: int  # where it starts in its file
    file: str = ""


# --------------------------------------------------------------------------------------------
# Names


def _root(node) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target) -> Set[str]:
    """Names a target binds or changes (``a``, ``a[i]``, ``a.b``, ``(a, *b)``)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(t) for t in target.elts)) if target.elts else set()
    root = _root(target)
    return {root} if root else set()


_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _walk(node):
    """Every node under ``node``, itself included (``ast.walk``, in any order, without the
    ``ctx`` markers and the generators: this runs over every statement of every submission).
    It goes into nested functions and lambdas too: the names they use count as read where they
    are defined, which is what a closure does."""
    stack = [node]
    fields_of = _CHILD_FIELDS
    while stack:
        current = stack.pop()
        yield current
        kind = type(current)
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = tuple(f for f in kind._fields if f != "ctx")
        for name in fields:
            value = getattr(current, name, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)




@dataclass
class _Scan:
    reads: Set[str]  # names loaded
    calls: Set[str]  # names called (``f(...)``)
    named: Set[str]  # names bound by ``:=``
    changes: List[Tuple[Optional[str], Set[str]]]  # in-place calls: (receiver's root, arguments' roots)
    opaque: bool  # locals(), eval() and the like
    special: bool  # yield or await

    def writes(self, local: Set[str]) -> Set[str]:
        """Names the in-place calls change: the receiver, or (``random.shuffle(x)``,
        ``torch.nn.init.normal_(W)``: a module's function) its arguments too."""
        found = set(self.named)
        for receiver, args in self.changes:
            if receiver:
                found.add(receiver)
            if receiver not in local:
                found |= args
        return found


def _scan(nodes: Iterable) -> _Scan:
    """What the expressions ``nodes`` read, change and call, in one walk."""
    found = _Scan(set(), set(), set(), [], False, False)
    for node in nodes:
        if node is None:
            continue
        for n in _walk(node):
            kind = type(n)
            if kind is ast.Name:
                if type(n.ctx) is ast.Load:
                    found.reads.add(n.id)
            elif kind is ast.Call:
                func = n.func
                if type(func) is ast.Name:
                    found.calls.add(func.id)
                    found.opaque |= func.id in OPAQUE
                elif type(func) is ast.Attribute:
                    attr = func.attr
                    if attr in MUTATORS or (attr.endswith("_") and not attr.startswith("__")):
                        found.changes.append((_root(func.value), {r for a in n.args if (r := _root(a))}))
                for kw in n.keywords:
                    if kw.arg == "out":
                        found.changes.append((None, _target_names(kw.value)))
            elif kind is ast.NamedExpr:
                found.named |= _target_names(n.target)
            elif kind in (ast.Yield, ast.YieldFrom, ast.Await):
                found.special = True
    return found


def _reads(nodes: Iterable) -> Set[str]:
    return _scan(nodes).reads


# --------------------------------------------------------------------------------------------
# Statements


_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _truth(node, names=None) -> Optional[bool]:
    """The truth of a condition made of constants only (literals, or ``names`` bound once to
    one: ``DEBUG = False``), else None."""
    value = _constant(node, names or {})
    if value is _UNKNOWN:
        return None
    try:
        return bool(value)
    except Exception:  # noqa: BLE001
        return None


_UNKNOWN = object()


def _constant(node, names=None):
    import operator

    names = names or {}
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id, _UNKNOWN)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
        value = _constant(node.operand, names)
        if value is _UNKNOWN:
            return value
        try:
            return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[type(node.op)](value)
        except Exception:  # noqa: BLE001
            return _UNKNOWN
    if isinstance(node, ast.BoolOp):
        values = [_constant(v, names) for v in node.values]
        decided = [v for v in values if v is not _UNKNOWN]
        if isinstance(node.op, ast.And) and any(not v for v in decided):
            return False  # ``x and False`` is false whatever x
        if isinstance(node.op, ast.Or) and any(decided):
            return True
        if len(decided) < len(values):
            return _UNKNOWN
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        ops = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
               ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not}
        left = _constant(node.left, names)
        result = True
        for op, right in zip(node.ops, node.comparators):
            right = _constant(right, names)
            if left is _UNKNOWN or right is _UNKNOWN or type(op) not in ops:
                return _UNKNOWN
            try:
                result = result and ops[type(op)](left, right)
            except Exception:  # noqa: BLE001
                return _UNKNOWN
            left = right
        return result
    return _UNKNOWN


@dataclass(eq=False)
class _Stmt:
    node: ast.AST
    parent: Optional["_Stmt"]
    loop: Optional["_Stmt"]  # the nearest enclosing loop
    scan: _Scan  # of what the statement itself evaluates (a compound one: its header)
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
            and len(iterable.args) == 1 and _constant(iterable.args[0]) == 0)


def _blocks(node, names=None) -> List[List]:
    """The statement lists inside a compound statement, branches that never run left out."""
    if isinstance(node, (ast.If, ast.While)):
        truth = _truth(node.test, names)
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


def _flatten(body: List, names: Dict[str, object]) -> List[_Stmt]:
    """Every reachable statement of ``body`` with what it evaluates and binds (``names``: the
    constants its conditions may read)."""
    found: List[_Stmt] = []

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


def _bound(target) -> Set[str]:
    """Names a target rebinds (not ``a[i]`` or ``a.b``, which change an object)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound(t) for t in target.elts)) if target.elts else set()
    return _bound(target.value) if isinstance(target, ast.Starred) else set()


def _mutated(target) -> Set[str]:
    """Roots of the parts of a target that change an object (``a[i]``, ``a.b``), not rebind."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_mutated(t) for t in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _mutated(target.value)
    return _target_names(target) if isinstance(target, (ast.Attribute, ast.Subscript)) else set()


def _describe(node, parent, loop) -> _Stmt:
    if isinstance(node, _SCOPES):  # a nested def or class: binds its name, reads what it uses
        return _Stmt(node, parent, loop, _scan([node]), {node.name}, set())
    compound = bool(_blocks(node, {})) or isinstance(node, ast.ExceptHandler)
    scan = _scan(_header(node) if compound else [node])
    binds, changed = set(), set()
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        if not (isinstance(node, ast.AnnAssign) and node.value is None):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                binds |= _bound(target)
                changed |= _mutated(target)
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        binds |= _bound(node.target)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                binds |= _bound(item.optional_vars)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        binds.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        binds |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return _Stmt(node, parent, loop, scan, binds, changed)


def _decide(stmt: _Stmt, params: Set[str], local: Set[str], declared: Set[str], effectful) -> None:
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
        or (isinstance(node, ast.AugAssign) and bool(_bound(node.target) & outside))  # W -= ... in place
        or (not isinstance(node, _SCOPES) and any(effectful(name) for name in scan.calls - local)))


def _params(fn) -> Set[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return set(names)


def _constants_of(fn, constants: Dict[str, object]) -> Dict[str, object]:
    """Names whose value ``fn`` knows: bound once in it to a literal (and nowhere else in it),
    or a module-level constant it does not bind."""
    params = _params(fn)
    bound: Dict[str, int] = {}
    found = {}
    for node in _all_statements(fn.body):
        kind = type(node)
        if kind in (ast.Expr, ast.Return, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert, ast.Delete,
                    ast.If, ast.While, ast.Try):
            continue  # binds nothing itself
        targets = []
        if kind is ast.Assign:
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                value = _constant(node.value)
                if value is not _UNKNOWN:
                    found[targets[0].id] = value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        names = set().union(*(_target_names(t) for t in targets)) if targets else set()
        if isinstance(node, _SCOPES):
            names = {node.name}
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            names = {(a.asname or a.name).split(".")[0] for a in node.names} if hasattr(node.names[0], "name") \
                else set(node.names)
        for name in names:
            bound[name] = bound.get(name, 0) + 1
    known = {n: v for n, v in constants.items() if n not in bound and n not in params}
    known.update({n: v for n, v in found.items() if bound.get(n) == 1 and n not in params})
    return known


def _statements(fn, effectful, names: Dict[str, object]) -> List[_Stmt]:
    """Every reachable statement of ``fn``, decided (each carries the function's locals);
    ``names``: the constants it knows (:func:`_constants_of`)."""
    stmts = _flatten(fn.body, names)
    params = _params(fn)
    declared = set().union(*(s.node.names for s in stmts if isinstance(s.node, (ast.Global, ast.Nonlocal))))
    local = (params | set().union(*(s.binds | s.scan.named for s in stmts))) - declared
    for s in stmts:
        _decide(s, params, local, declared, effectful)
        s.local = local
    return stmts


def live_statements(fn, effectful=lambda name: False, constants=None) -> Tuple[List[ast.AST], Set[str]]:
    """(the statements of ``fn``'s body that are left out, outermost only; the names its kept
    statements read that it does not bind itself). ``constants``: the module's, by name."""
    return _live(fn, effectful, constants)[:2]


def _live(fn, effectful, constants) -> Tuple[List, Set[str], List[_Stmt]]:
    names = _constants_of(fn, constants or {})
    stmts = _statements(fn, effectful, names)
    local = stmts[0].local if stmts else set()
    if any(s.scan.opaque for s in stmts):
        kept = set(map(id, stmts))  # locals() and the like read every name: keep what runs
    else:
        kept = _mark(stmts)
    reachable = {id(s.node) for s in stmts}
    left_out = [s.node for s in stmts if id(s) not in kept]
    left_out += [n for n in _all_statements(fn.body) if id(n) not in reachable]
    free = set().union(*(s.reads for s in stmts if id(s) in kept)) - local if kept else set()
    inner = []  # a kept nested function (or a kept class's methods) is pruned the same way
    for s in stmts:
        if id(s) in kept and isinstance(s.node, _SCOPES):
            for fn_ in [s.node] if not isinstance(s.node, ast.ClassDef) else s.node.body:
                if isinstance(fn_, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner += live_statements(fn_, effectful, constants)[0]
    return _outermost(left_out) + inner + _empty_headers([s.node for s in stmts if id(s) in kept], names), free, stmts


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
            truth = _truth(node.test, names)
            rest = node.body if truth is True and not node.orelse else node.orelse if truth is False else None
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            rest = node.body
        elif isinstance(node, ast.For) and not node.orelse and isinstance(node.iter, ast.Call) and \
                isinstance(node.iter.func, ast.Name) and node.iter.func.id == "range" and \
                len(node.iter.args) == 1 and _constant(node.iter.args[0]) == 1:
            rest = node.body
        elif isinstance(node, ast.Try) and not any(id(h) in ids for h in node.handlers) and \
                not any(id(x) in ids for x in node.finalbody):
            rest = node.body
        if rest:
            found.append(Span(node.lineno, node.col_offset, rest[0].lineno, rest[0].col_offset))
    return found


def _all_statements(body):
    for node in body:
        yield node
        for inner in _blocks_all(node):
            yield from _all_statements(inner)


_COMPOUND = {ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try, ast.ExceptHandler}
_COMPOUND |= {getattr(ast, name) for name in ("TryStar", "Match") if hasattr(ast, name)}


def _blocks_all(node):
    """Every statement list inside a compound statement (none inside a def or a class)."""
    if type(node) not in _COMPOUND:
        return []
    if hasattr(node, "cases"):
        return [c.body for c in node.cases]
    return [b for field in ("body", "orelse", "finalbody", "handlers") for b in [getattr(node, field, None)]
            if isinstance(b, list)]


def _mark(stmts: List[_Stmt]) -> Set[int]:
    writers: Dict[str, List[_Stmt]] = {}
    for s in stmts:
        for name in s.writes:
            writers.setdefault(name, []).append(s)
    kept: Set[int] = set()
    needed: Set[str] = set()
    work: List[_Stmt] = [s for s in stmts if s.essential]

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
        for child in _walk(node):
            if child is not node:
                inside.add(id(child))
    return [n for n in nodes if id(n) not in inside]


# --------------------------------------------------------------------------------------------
# Text


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8", errors="replace")[:byte_col].decode("utf-8", errors="replace"))


def kept_text(lines: List[str], first: int, last: int, left_out: Iterable) -> str:
    """Lines ``first`` .. ``last`` (1-based) of the file with the ``left_out`` statements blanked,
    then without the lines left empty and the long comment lines, dedented."""
    chunk = {n: lines[n - 1].rstrip("\r\n") for n in range(first, last + 1) if n - 1 < len(lines)}
    touched = set()
    for node in left_out:
        for n in range(node.lineno, node.end_lineno + 1):
            if n not in chunk:
                continue
            touched.add(n)
            text = chunk[n]
            start = _char_col(text, node.col_offset) if n == node.lineno else 0
            end = _char_col(text, node.end_col_offset) if n == node.end_lineno else len(text)
            chunk[n] = text[:start] + " " * (end - start) + text[end:]
    # a left-out statement's comment goes with it
    kept = [text for n, text in sorted(chunk.items())
            if text.strip() and not (n in touched and text.lstrip().startswith("#"))
            and not (len(text) > LONG_COMMENT and text.lstrip().startswith("#"))]
    return textwrap.dedent("\n".join(kept) + "\n") if kept else ""


# --------------------------------------------------------------------------------------------
# Modules


@dataclass
class Module:
    """One parsed file: its top-level bindings and what changes them."""

    name: str  # file name
    tree: ast.Module
    lines: List[str]
    defs: Dict[str, List]  # name -> module-level statements that bind or change it, in order
    imported: Dict[str, Tuple[str, str]]  # local name -> (sibling module, its name there)
    constants: Dict[str, object]  # names bound once at module level to a literal (DEBUG = False)


def _module_statements(body):
    """Module-level statements, into if/try/with/for blocks (not into functions or classes)."""
    for node in body:
        if isinstance(node, ast.If) and _is_main_guard(node):
            continue
        yield node
        if not isinstance(node, _SCOPES):
            for inner in _blocks_all(node):
                yield from _module_statements(inner)


def _is_main_guard(node) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__")


def read_module(name: str, source: str) -> Module:
    """Parse ``source``; raises SyntaxError and the like."""
    tree = ast.parse(source)
    defs: Dict[str, List] = {}
    imported = {}
    for node in _module_statements(tree.body):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] in SIBLINGS:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module.split(".")[-1] + ".py", alias.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, _SCOPES):
            names = {node.name}
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = set().union(*(_target_names(t) for t in targets))
        elif isinstance(node, (ast.Expr,)):
            names = _scan([node.value]).writes(set(defs))
        elif _blocks_all(node):
            continue  # a block: its statements are visited one by one
        else:
            continue
        for n in names:
            defs.setdefault(n, []).append(node)
    constants = {}
    for n, nodes in defs.items():
        value = _constant(nodes[0].value) if len(nodes) == 1 and isinstance(nodes[0], ast.Assign) and \
            len(nodes[0].targets) == 1 and isinstance(nodes[0].targets[0], ast.Name) else _UNKNOWN
        if value is not _UNKNOWN:
            constants[n] = value
    if constants and "global" in source:  # a function may change them
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                for n in node.names:
                    constants.pop(n, None)
    return Module(name, tree, source.splitlines(keepends=True), defs, imported, constants)


class Reader:
    """Pieces of what each graded function runs, over the two files of one submission."""

    def __init__(self, modules: Dict[str, Module], graded: Set[str]):
        self.modules = modules
        self.graded = graded
        self._effect: Dict[Tuple[str, str], bool] = {}
        self._live: Dict[int, tuple] = {}

    def live(self, module: Module, fn):
        """:func:`live_statements` of ``fn`` (a function of ``module``), once."""
        return self._analysis(module, fn)[:2]

    def _analysis(self, module: Module, fn):
        found = self._live.get(id(fn))
        if found is None:
            found = self._live[id(fn)] = _live(fn, lambda n: self.effectful(module, n), module.constants)
        return found

    def _resolve(self, module: Module, name: str):
        """(module, name) where ``name`` used in ``module`` is defined at module level, or None."""
        for _ in range(4):
            if name in module.defs:
                return module, name
            if name in module.imported:
                other, there = module.imported[name]
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
            if isinstance(node, _SCOPES) or (isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                    isinstance(t, ast.Name) and t.id == name
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
                found = node
        return found

    def _piece(self, module: Module, node, name: str) -> Tuple[Piece, Set[str]]:
        """A definition's kept text and the free names it reads."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            left_out, free = self.live(module, node)
            # a decorator may put other code in its place; a default argument may hand it a helper
            free = free | _reads(node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d])
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
            free |= _reads(node.bases + node.decorator_list)
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            text = kept_text(module.lines, first, node.end_lineno, left_out)
            return Piece(name, text, first, module.name), free
        text = kept_text(module.lines, node.lineno, node.end_lineno, [])
        return Piece(name, text, node.lineno, module.name), _reads([node])

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
