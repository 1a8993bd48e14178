"""What the grader writes stays inert, whatever a student wrote: text from a submission (an
exception's message, a file or entry name) reaches terminals, Markdown, HTML, JSON and
spreadsheets. Control characters are shown, not obeyed (an escape sequence cannot clear the
instructor's screen or draw a fake summary), names that are not valid UTF-8 are shown with
their bytes escaped, and a CSV cell cannot start a spreadsheet formula."""
import csv
import os
import re

# C0 controls but tab and newline, DEL, C1 controls; the Unicode controls that reorder or hide
# text on screen (bidirectional overrides and isolates, zero-width characters, the BOM); lone
# surrogates (what Python makes of bytes that are not UTF-8 in a file name).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def _escape(match: "re.Match") -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert_text(text) -> str:
    """``text`` with every control character written out as an escape (``\\x1b``, ``\\u202e``):
    safe on a terminal, in Markdown, HTML and JSON, and writable as UTF-8. Newlines and tabs stay."""
    return _UNSAFE.sub(_escape, str(text))


def shown_name(path) -> str:
    """A file or entry name as people can read it: bytes that are not UTF-8 as ``\\xNN``."""
    raw = os.fsencode(path) if not isinstance(path, bytes) else path
    return inert_text(raw.decode("utf-8", errors="backslashreplace"))


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet shows as text: one that would start a formula (``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return) gets a leading apostrophe; numbers stay numbers."""
    if not isinstance(value, str):
        return value
    text = inert_text(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class InertWriter:
    """``csv.writer`` whose every cell goes through :func:`csv_cell`."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)
