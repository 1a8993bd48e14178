"""What expressions and assignment targets read, call, bind and change: the facts about names
every other part of the live-code analysis is built from. One walk per statement, since this
runs over every statement of every submission."""
import ast
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

# Method names that change their receiver (besides torch's in-place ``name_``).
MUTATORS = frozenset({"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault",
                      "add", "discard", "sort", "reverse", "backward", "step", "zero_grad", "load_state_dict",
                      "register_buffer", "register_parameter", "requires_grad_"})
OPAQUE = frozenset({"locals", "vars", "eval", "exec", "globals", "setattr", "delattr", "__import__", "compile"})


def _root(node) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def target_names(target) -> Set[str]:
    """Names a target binds or changes (``a``, ``a[i]``, ``a.b``, ``(a, *b)``)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(target_names(t) for t in target.elts)) if target.elts else set()
    root = _root(target)
    return {root} if root else set()


_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def walk(node):
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
class Scan:
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


def scan_nodes(nodes: Iterable) -> Scan:
    """What the expressions ``nodes`` read, change and call, in one walk."""
    found = Scan(set(), set(), set(), [], False, False)
    for node in nodes:
        if node is None:
            continue
        for n in walk(node):
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
                        found.changes.append((None, target_names(kw.value)))
            elif kind is ast.NamedExpr:
                found.named |= target_names(n.target)
            elif kind in (ast.Yield, ast.YieldFrom, ast.Await):
                found.special = True
    return found


def reads(nodes: Iterable) -> Set[str]:
    return scan_nodes(nodes).reads


def bound_names(target) -> Set[str]:
    """Names a target rebinds (not ``a[i]`` or ``a.b``, which change an object)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(bound_names(t) for t in target.elts)) if target.elts else set()
    return bound_names(target.value) if isinstance(target, ast.Starred) else set()


def mutated_roots(target) -> Set[str]:
    """Roots of the parts of a target that change an object (``a[i]``, ``a.b``), not rebind."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(mutated_roots(t) for t in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return mutated_roots(target.value)
    return target_names(target) if isinstance(target, (ast.Attribute, ast.Subscript)) else set()
