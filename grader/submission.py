"""Finding a submission's files: the kit layout (a folder holding the assignment's folder,
``a2/``), the course layout (the code files at the top of a folder), or a zip of either (the
kit's submission zip, or an LMS download), extracted with limits; which assignment they are is
recognised from the files (see :func:`grader.assignment.recognise`) unless it is given. The code (and the checkpoints) are copied to a private folder
for grading, so the student process never touches the originals; a file that is a link, or
lies behind one, to anything outside the submission is refused. What the grader reads of a
submission is bounded before it reads it: source files (it compiles them to see what they
call), checkpoints (it loads them), folder depth, and a zip's members."""
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import List, Optional

from .assignment import REGISTRY, Assignment, AssignmentError, locate, matching, recognise, resolve
from .files import remove_tree
from .inert import shown_name
from .paths import ROOT

MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 1 << 30  # uncompressed, all members together
MAX_RATIO = 200  # uncompressed / compressed, per member larger than 1 MiB
MAX_DEPTH = 32  # folders nested in a submission (a zip's members, a folder entry's tree)
# Largest source file graded: about twenty times the template's files. Compiling Python costs
# the grader about 400 times the file's size in memory (an 8 MB file took 3.3 GB), so this
# bounds what one submission's files cost the grader's own process (about 200 MB, 0.5 s).
MAX_CODE_BYTES = 512 << 10
MAX_CHECKPOINT_BYTES = 64 << 20  # a checkpoint's file, and what it unpacks to when loaded


class SubmissionError(ValueError):
    """The submission cannot be graded as given; the message says why and what to do."""


@dataclass
class Prepared:
    """A submission ready to grade."""

    origin: str
    layout: str  # "kit" or "course"
    code_dir: Path  # a private copy of the code files
    checkpoint_dirs: List[Path]
    _temps: List[Path] = field(default_factory=list)
    # Where the two files lie inside the submission as handed in ("a2", "" or "janedoe/a2"):
    # messages name the student's own files there, never the private copy.
    shown_dir: str = ""
    assignment: Optional[Assignment] = None  # whose files these are

    def shown(self, text: str) -> str:
        """``text`` with the private copy's paths written as the student's own files."""
        prefix = f"{self.shown_dir}/" if self.shown_dir else ""
        for private in dict.fromkeys((str(self.code_dir), os.path.realpath(self.code_dir))):
            text = text.replace(private + os.sep, prefix)
        return text

    def cleanup(self) -> None:
        for temp in self._temps:
            remove_tree(temp)


def safe_extract(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target``, refusing anything unsafe before writing a byte."""
    label = shown_name(archive.name)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{label} is not a readable zip file ({exc})") from exc
    except UnicodeDecodeError as exc:  # a name flagged as UTF-8 that is not
        raise SubmissionError(f"{label} holds a file name marked as UTF-8 that is not UTF-8 "
                              f"({shown_name(exc.object)}): zip the files again with an ordinary zip tool") from exc
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"{label} holds {len(members)} entries (at most {MAX_MEMBERS})")
        total = 0
        for info in members:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if len(name.parts) > MAX_DEPTH + 1:
                raise SubmissionError(f"{label}: {info.filename[:200]!r} lies more than {MAX_DEPTH} folders "
                                      "deep: hand in the two files (and the checkpoints) without such folders")
            if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
                raise SubmissionError(f"{label}: refusing the path {info.filename!r} (absolute or with '..')")
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the tool stored no file type
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise SubmissionError(f"{label}: refusing {info.filename!r}, a link or special file")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{label} unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB")
            if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SubmissionError(f"{label}: {info.filename!r} is compressed more than {MAX_RATIO}:1 "
                                      "(a zip bomb?)")
        for info in members:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or not name.parts or name.parts[0] == "__MACOSX":
                continue
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with zf.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > info.file_size:  # the header lied about the size
                        raise SubmissionError(f"{label}: {info.filename!r} is larger than it declares")
                    out.write(chunk)


def _find_code(folder: Path, unit: Assignment) -> Optional[tuple]:
    """(code folder, layout) of ``unit``'s files inside ``folder``: ./<its folder>/, ./, or one
    level down (a zip's top folder)."""
    return locate(folder, unit)


def prepare(submission=None, code_limit: int = MAX_CODE_BYTES, assignment=None) -> Prepared:
    """Resolve ``submission`` (None: this repository's own solution of ``assignment``) and copy
    its code privately. ``assignment``: whose files to look for (a name or an Assignment); None:
    recognised from the files (this repository: the kit's default assignment). ``code_limit``:
    the largest source file accepted (grading compiles the files in the grader's process; the
    similarity report, which bounds its own parsing, reads whatever a zip may hold)."""
    temps: List[Path] = []
    source = Path(submission) if submission is not None else ROOT
    try:
        unit = resolve(assignment) if assignment is not None or submission is None else None
    except AssignmentError as exc:
        raise SubmissionError(str(exc)) from None
    if not source.exists():
        what = (f"a folder holding {unit.student_dir}/, a folder holding {' and '.join(unit.code_files)}"
                if unit else "a submission's folder")
        raise SubmissionError(f"{shown_name(source)} does not exist: give {what}, or a submission zip")
    folder = source
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise SubmissionError(f"{shown_name(source)} is a file but not a .zip: give a folder or a submission zip")
        from .sandbox import work_root

        folder = Path(tempfile.mkdtemp(prefix="unzip-", dir=work_root()))
        temps.append(folder)
        try:
            safe_extract(source, folder)
        except SubmissionError:
            remove_tree(folder)
            raise
    try:
        unit = unit or _recognised(folder, shown_name(source))
    except AssignmentError as exc:
        for temp in temps:
            remove_tree(temp)
        raise SubmissionError(str(exc)) from None
    found = _find_code(folder, unit)
    if found is None:
        for temp in temps:
            remove_tree(temp)
        raise SubmissionError(f"no {' and '.join(unit.code_files)} in {shown_name(source)} (looked in "
                              f"./{unit.student_dir}/ and ./): give the folder that holds {unit.student_dir}/, or the "
                              f"folder or zip with the {_count(unit.code_files)}")
    code, layout = found
    from .sandbox import work_root

    root = Path(os.path.realpath(folder))
    try:
        for name in unit.code_files:
            _own_file(code / name, root)
        private = Path(tempfile.mkdtemp(prefix="code-", dir=work_root()))
        private.chmod(0o755)
        temps.append(private)
        for name in unit.code_files:
            if _copy_bounded(code / name, private / name, code_limit) > code_limit:
                raise SubmissionError(f"{name} is larger than {code_limit >> 10} KiB (the template's is about "
                                      "30 KiB), more than the grader reads: hand in the file without what was "
                                      "pasted into it (data, outputs, copies)")
            (private / name).chmod(0o644)
    except SubmissionError:
        for temp in temps:
            remove_tree(temp)
        raise
    base = code.parent if layout == "kit" else code
    checkpoints = private / "checkpoints"
    checkpoints.mkdir()
    for name in unit.checkpoints:  # copied too: the grader reads only what lies in the submission itself
        found_at = next((d / name for d in (base, code, base / "notebooks") if (d / name).is_file()), None)
        if found_at is not None and _is_own(found_at, root):
            # One byte over the limit is enough for the judge to say the file is too large.
            _copy_bounded(found_at, checkpoints / name, MAX_CHECKPOINT_BYTES)
    return Prepared(str(source), layout, private, [checkpoints], temps, _shown_dir(code, folder), unit)


def _recognised(folder: Path, label: str) -> Assignment:
    """The assignment whose files ``folder`` holds; where the kit grades one assignment only, that
    one even when its files are missing (the message then names them)."""
    if len(REGISTRY) == 1 and not matching(folder):
        return resolve(None)
    return recognise(folder, label)


def _count(files) -> str:
    return "file" if len(files) == 1 else ("two files" if len(files) == 2 else f"{len(files)} files")


def _shown_dir(code: Path, folder: Path) -> str:
    """The code folder as the submission names it: "a2", "" (the files at the top), "janedoe"."""
    relative = code.relative_to(folder).as_posix()
    return "" if relative == "." else relative


def _copy_bounded(source: Path, target: Path, limit: int) -> int:
    """Copy at most ``limit + 1`` bytes of ``source`` (not following a link); returns how many."""
    copied = 0
    nofollow = lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)  # noqa: E731
    with open(source, "rb", opener=nofollow) as src, open(target, "wb") as out:
        while copied <= limit and (chunk := src.read(min(1 << 20, limit + 1 - copied))):
            out.write(chunk)
            copied += len(chunk)
    return copied


def _is_own(path: Path, root: Path) -> bool:
    """Whether ``path`` is a regular file of the submission itself: not a link, nor reached
    through one, to anything outside it."""
    real = os.path.realpath(path)
    return not path.is_symlink() and (real == str(root) or real.startswith(str(root) + os.sep)) \
        and os.path.isfile(real)


def _own_file(path: Path, root: Path) -> None:
    if not _is_own(path, root):
        raise SubmissionError(f"{shown_name(path)} is a link (or lies behind one) to "
                              f"{shown_name(os.path.realpath(path))}, outside the "
                              "submission: hand in the file itself")
