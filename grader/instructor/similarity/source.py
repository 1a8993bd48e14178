"""Reading a student's file, whatever its size or encoding, and the source text of its
top-level functions. Files of any size a submission may hold are read: one over ``LARGE`` has
its comment lines dropped first, and only one with more than ``MAX_LINES`` lines of code left
(or ``MAX_PARSED`` characters) is not compared; the reason becomes the entry's note."""
import ast
import io
import re
import textwrap
import tokenize
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from ...submission import MAX_TOTAL_BYTES

LARGE = 1 << 20  # a file larger than this is read with its comment lines dropped first
MAX_SOURCE = MAX_TOTAL_BYTES  # bytes read of a file: what a submission may hold
MAX_PARSED = 64 << 20  # characters parsed of a file, comment lines dropped; beyond: not compared
MAX_LINES = 250_000  # lines of code parsed of a file (about 6 s and 0.7 GB); beyond: not compared


def _decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def segment(lines: List[str], first: ast.stmt, last: ast.stmt) -> str:
    """Source from ``first`` to ``last`` (whole lines, blanking what precedes ``first`` on
    its line), dedented. AST columns count UTF-8 bytes."""
    chunk = lines[first.lineno - 1:last.end_lineno]
    if not chunk:
        return ""
    end = chunk[-1].encode("utf-8", errors="replace")[:last.end_col_offset]
    chunk[-1] = end.decode("utf-8", errors="replace") + "\n"
    head = chunk[0].encode("utf-8", errors="replace")
    if head[:first.col_offset].strip():
        chunk[0] = " " * first.col_offset + head[first.col_offset:].decode("utf-8", errors="replace")
    return textwrap.dedent("".join(chunk))


def function_bodies(source: str, wanted: Iterable[str]) -> Dict[str, Tuple[str, int]]:
    """``{name: (body, first line)}`` for the top-level functions of ``source`` named in
    ``wanted`` (the last definition wins, as in Python). Raises SyntaxError and the like."""
    wanted = set(wanted)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted and node.body:
            body = node.body[1:] if len(node.body) > 1 and is_docstring(node.body[0]) else node.body
            found[node.name] = (segment(lines, body[0], body[-1]), body[0].lineno)
    return found


_COMMENT_LINE = re.compile(rb"(?m)^[ \t\f]*#[^\r\n]*")
_CODE_LINE = re.compile(rb"(?m)^[ \t\f]*[^ \t\f\r\n]")


def read_source(path: Path) -> Tuple[Optional[str], str]:
    """(the file's text, "") or (None, why it is not compared). A file larger than ``LARGE``
    is read in chunks with its comment-only lines emptied (their line breaks kept, so line
    numbers hold): padding with comments costs nothing, whatever its size."""
    name = path.name
    try:
        size = path.stat().st_size
        if size <= LARGE:
            return _decode(path.read_bytes()), ""
        if size > MAX_SOURCE:
            return None, (f"{name} is larger than a submission may be ({MAX_SOURCE >> 20} MiB): "
                          "its functions are not compared")
        kept, total, lines, carry = [], 0, 0, b""
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
            except (SyntaxError, LookupError):
                encoding = "utf-8"
            chunk = head
            while chunk or carry:
                data = carry + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)
                data, carry = data[:cut], data[cut:]
                data = _COMMENT_LINE.sub(b"", data)
                total += len(data)
                lines += len(_CODE_LINE.findall(data))
                if total > MAX_PARSED or lines > MAX_LINES:
                    return None, (f"{name} holds more than {MAX_LINES:,} lines or {MAX_PARSED >> 20} MiB of code "
                                  f"besides comments ({size >> 20} MiB in all): its functions are not compared")
                kept.append(data)
                chunk = f.read(16 << 20)
        return b"".join(kept).decode(encoding, errors="replace"), ""
    except (OSError, LookupError) as exc:
        return None, f"{name} cannot be read ({exc}): its functions are not compared"

