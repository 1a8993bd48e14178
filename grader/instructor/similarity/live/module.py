"""Reading a module: one parsed file with its top-level bindings, the module-level statements
that change them and the names it imports from its sibling files; and the text of a
definition with the statements left out blanked."""
import ast
import textwrap
from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

from .constant import UNKNOWN, constant_value
from .names import scan_nodes, target_names
from .statements import SCOPES, blocks_all

LONG_COMMENT = 200  # comment-only lines longer than this are left out of the compared text


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


@dataclass
class Module:
    """One parsed file: its top-level bindings and what changes them."""

    name: str  # file name
    tree: ast.Module
    lines: List[str]
    defs: Dict[str, List]  # name -> module-level statements that bind or change it, in order
    imports: Tuple[Tuple[str, str, str], ...]  # every ``from M import x as y``, in order: (y, "M.py", x)
    constants: Dict[str, object]  # names bound once at module level to a literal (DEBUG = False)


def _module_statements(body):
    """Module-level statements, into if/try/with/for blocks (not into functions or classes)."""
    for node in body:
        if isinstance(node, ast.If) and _is_main_guard(node):
            continue
        yield node
        if not isinstance(node, SCOPES):
            for inner in blocks_all(node):
                yield from _module_statements(inner)


def _is_main_guard(node) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__")


def read_module(name: str, source: str) -> Module:
    """Parse ``source``; raises SyntaxError and the like."""
    tree = ast.parse(source)
    defs: Dict[str, List] = {}
    imports = []
    for node in _module_statements(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module:
            imports += [(alias.asname or alias.name, node.module.split(".")[-1] + ".py", alias.name)
                        for alias in node.names]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, SCOPES):
            names = {node.name}
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = set().union(*(target_names(t) for t in targets))
        elif isinstance(node, (ast.Expr,)):
            names = scan_nodes([node.value]).writes(set(defs))
        elif blocks_all(node):
            continue  # a block: its statements are visited one by one
        else:
            continue
        for n in names:
            defs.setdefault(n, []).append(node)
    constants = {}
    for n, nodes in defs.items():
        value = constant_value(nodes[0].value) if len(nodes) == 1 and isinstance(nodes[0], ast.Assign) and \
            len(nodes[0].targets) == 1 and isinstance(nodes[0].targets[0], ast.Name) else UNKNOWN
        if value is not UNKNOWN:
            constants[n] = value
    if constants and "global" in source:  # a function may change them
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                for n in node.names:
                    constants.pop(n, None)
    return Module(name, tree, source.splitlines(keepends=True), defs, tuple(imports), constants)
