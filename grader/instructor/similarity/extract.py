"""Which code counts: what a graded function runs (its pieces, :mod:`.live`) with every line it
keeps from a template blanked out, so that what is fingerprinted is what the student wrote, at
the positions it has in the text shown."""
import difflib
import keyword
import re
from typing import Dict, List, Mapping, Tuple

from .live import Piece

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_STRING = re.compile(r"""[rbfuRBFU]{0,2}(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def shape(line: str) -> str:
    """A line as the alignment with the template sees it: no comment (when no quote comes
    before the ``#``), no spaces, strings as S, names as V (keywords kept)."""
    head, hash_, _ = line.partition("#")
    if hash_ and "'" not in head and '"' not in head:
        line = head
    line = _WORD.sub(lambda m: m[0] if keyword.iskeyword(m[0]) else "V", _STRING.sub("S", line))
    return "".join(line.split())


def written_part(text: str, given) -> str:
    """``text`` with the lines it keeps from ``given`` (a template's text, or several: aligned
    line by line as :func:`shape` sees them, so a renamed given variable is still given)
    blanked out, every other character in place: what the student wrote, at the positions it
    has in ``text``. Without this, the k-grams that straddle given code and a student's line
    would match everyone who wrote the same few tokens at the same place."""
    lines = text.splitlines(keepends=True)
    shapes = [shape(line) for line in lines]
    for one in ([given] if isinstance(given, str) else given):
        # blank and comment lines are left out of the alignment: they only mislead it
        theirs = [x for x in map(shape, one.splitlines()) if x]
        where = [j for j, seen in enumerate(shapes) if seen]
        matcher = difflib.SequenceMatcher(None, theirs, [shapes[j] for j in where], autojunk=False)
        for tag, _, _, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for j in where[j1:j2]:
                    end = len(lines[j].rstrip("\r\n"))
                    lines[j] = " " * end + lines[j][end:]
                    shapes[j] = ""
    return "".join(lines)


_WRITTEN: Dict[tuple, str] = {}  # (definition, function, text, templates) -> its written part: one class's
# given classes and helpers repeat across submissions


def _written(name: str, function: str, text: str, templates: Mapping[str, Tuple[str, ...]], helper: bool) -> str:
    # a helper may hold what the template gives the function (its body moved there)
    given = templates.get(name, ()) + (templates.get(function, ()) if helper else ())
    key = (name, function if helper else "", text, given)
    found = _WRITTEN.get(key)
    if found is None:
        if len(_WRITTEN) > 4096:
            _WRITTEN.clear()
        found = _WRITTEN[key] = written_part(text, given)
    return found


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def compared_text(function: str, pieces: List[Piece], given: Mapping[str, Tuple[str, ...]]) -> Tuple[str, str]:
    """(the text shown for ``function``: its kept statements, then each definition it reaches
    that is not all template (a given class it uses, unchanged, is left out) under a comment
    line naming it; the same with the lines it keeps from ``given`` (a definition's name -> its
    text in each template, :attr:`.template.Template.given`) blanked)."""
    shown, mine = [], []
    for k, piece in enumerate(pieces):
        written = _written(piece.name, function, piece.text, given, k > 0)
        if k and _only_comments(written):
            continue
        head = "" if k == 0 else f"# --- {piece.name} ({piece.file}, line {piece.line}), which {function} runs\n"
        shown.append(head + piece.text)
        mine.append(head + written)
    return "".join(shown), "".join(mine)

