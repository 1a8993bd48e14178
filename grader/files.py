"""Writing files so that a crash never leaves half of one behind; measuring and removing
folders whose contents a submission made (any depth, any names, any permissions)."""
import os
import stat
import tempfile
from pathlib import Path
from typing import Tuple


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: setting it later could race with other threads


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        # A name that is not UTF-8 (a lone surrogate) is written escaped rather than lost.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # as an ordinary file would be, not mkstemp's 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def disk_usage(path, max_entries: int, max_depth: int) -> Tuple[int, int, str]:
    """(bytes on disk, entries, why the walk stopped early or "") of the folder ``path``, walked
    through file descriptors (no recursion, no path longer than one name), following no link.
    It stops after ``max_entries`` entries, below ``max_depth`` levels of folders, or at a
    folder it cannot open: what made such a tree is not to be trusted with more walking."""
    total = entries = 0
    try:
        top = os.open(path, _DIR_FLAGS)
    except OSError:
        return 0, 0, ""
    stack = [(top, os.scandir(top))]
    why = ""
    try:
        while stack:
            fd, it = stack[-1]
            entry = next(it, None)
            if entry is None:
                it.close()
                os.close(fd)
                stack.pop()
                continue
            entries += 1
            if entries > max_entries:
                why = f"more than {max_entries} files and folders"
                break
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                if len(stack) >= max_depth:
                    why = f"folders nested more than {max_depth} deep"
                    break
                try:
                    sub = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:  # removed since it was listed (the worker runs on)
                    continue
                except OSError:
                    why = "a folder the grader cannot open"
                    break
                stack.append((sub, os.scandir(sub)))
    finally:
        for fd, it in stack:
            it.close()
            os.close(fd)
    return total, entries, why


def _make_own(name, dir_fd=None) -> None:
    """Give the folder ``name`` its owner's full permissions where it lacks them (what removing
    it needs), never following a link: the folder is opened as a path first, checked, and
    changed through that handle, so a folder swapped for a link on the way changes nothing."""
    try:
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        if os.fstat(fd).st_mode & 0o700 != 0o700:
            os.chmod(f"/proc/self/fd/{fd}", 0o700)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_tree(path) -> bool:
    """Remove ``path`` and everything under it, whatever a submission left there: folders of
    any depth (moved up to ``path`` one by one instead of recursing, so no path grows longer
    than one name), folders without permissions (made the owner's first), names in any
    encoding; no link is followed. Never raises; returns whether ``path`` is gone."""
    path = os.fspath(path)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return True
        _make_own(path)
        top = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    moved, pending = 0, [None]  # folders to empty: None is ``path`` itself, a name one moved into it
    try:
        while pending:
            name = pending.pop()
            try:
                if name is not None:
                    _make_own(name, top)
                fd = top if name is None else os.open(name, _DIR_FLAGS, dir_fd=top)
            except OSError:
                continue
            try:
                with os.scandir(fd) as it:
                    children = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
                for child, is_dir in children:
                    try:
                        if not is_dir:
                            os.unlink(child, dir_fd=fd)
                        elif name is None:
                            pending.append(child)
                        else:
                            while True:
                                moved += 1
                                target = f".removing-{moved}"
                                try:
                                    os.lstat(target, dir_fd=top)
                                except FileNotFoundError:
                                    break
                            _make_own(child, fd)  # moving a folder writes its '..'
                            os.rename(child, target, src_dir_fd=fd, dst_dir_fd=top)
                            pending.append(target)
                    except OSError:
                        continue
            except OSError:
                pass
            finally:
                if fd != top:
                    os.close(fd)
            if name is not None:
                try:
                    os.rmdir(name, dir_fd=top)
                except OSError:
                    pass
    finally:
        os.close(top)
    try:
        os.rmdir(path)
    except OSError:
        return not os.path.lexists(path)
    return True
