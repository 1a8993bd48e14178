"""Conditions known without running: the value of an expression made of literals and of
names bound once to one (``DEBUG = False``), so that ``if False:``, ``while 0 > 1:`` and
``x and False`` are seen as never running."""
import ast
from typing import Optional


def truth_of(node, names=None) -> Optional[bool]:
    """The truth of a condition made of constants only (literals, or ``names`` bound once to
    one: ``DEBUG = False``), else None."""
    value = constant_value(node, names or {})
    if value is UNKNOWN:
        return None
    try:
        return bool(value)
    except Exception:  # noqa: BLE001
        return None


UNKNOWN = object()


def constant_value(node, names=None):
    import operator

    names = names or {}
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id, UNKNOWN)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
        value = constant_value(node.operand, names)
        if value is UNKNOWN:
            return value
        try:
            return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[type(node.op)](value)
        except Exception:  # noqa: BLE001
            return UNKNOWN
    if isinstance(node, ast.BoolOp):
        values = [constant_value(v, names) for v in node.values]
        decided = [v for v in values if v is not UNKNOWN]
        if isinstance(node.op, ast.And) and any(not v for v in decided):
            return False  # ``x and False`` is false whatever x
        if isinstance(node.op, ast.Or) and any(decided):
            return True
        if len(decided) < len(values):
            return UNKNOWN
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        ops = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
               ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not}
        left = constant_value(node.left, names)
        result = True
        for op, right in zip(node.ops, node.comparators):
            right = constant_value(right, names)
            if left is UNKNOWN or right is UNKNOWN or type(op) not in ops:
                return UNKNOWN
            try:
                result = result and ops[type(op)](left, right)
            except Exception:  # noqa: BLE001
                return UNKNOWN
            left = right
        return result
    return UNKNOWN
