"""grader/files.py and grader/inert.py: removing whatever a submission left, and writing only
inert text."""
import os
import tempfile

import pytest

from grader.files import disk_usage, remove_tree, write_atomic
from grader.inert import csv_cell, inert_text, shown_name


def _hostile_tree(top):
    """Folders 3000 deep (paths far past PATH_MAX), folders without permissions, a name that is not UTF-8."""
    os.mkdir(top)
    here = os.open(top, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=here)
        below = os.open("d", os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = below
    with open(os.open(b"caf\xe9", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=here), "w") as f:
        f.write("x")
    os.close(here)
    os.makedirs(os.path.join(top, "a", "b", "c"))
    with open(os.path.join(top, "a", "b", "c", "f"), "w") as f:
        f.write("x" * 10000)
    for path, mode in (("a/b/c", 0), ("a/b", 0o500), ("a", 0)):
        os.chmod(os.path.join(top, path), mode)


def test_remove_tree_removes_any_depth_names_and_permissions(tmp_path):
    top = str(tmp_path / "scratch")
    _hostile_tree(top)
    assert remove_tree(top) and not os.path.lexists(top)
    assert remove_tree(top)  # gone already: nothing to do


def test_remove_tree_follows_no_link_out_of_the_tree(tmp_path):
    """Links to folders and files outside are removed as links: what they point at keeps its
    contents and its permissions."""
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "f").write_text("x")
    (outside / "keep").chmod(0o500)
    top = tmp_path / "scratch"
    (top / "a").mkdir(parents=True)
    (top / "a" / "to_folder").symlink_to(outside / "keep")
    (top / "to_file").symlink_to(outside / "keep" / "f")
    assert remove_tree(top) and not top.exists()
    assert (outside / "keep" / "f").read_text() == "x" and (outside / "keep").stat().st_mode & 0o777 == 0o500
    (outside / "keep").chmod(0o700)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_remove_tree_as_the_tree_owner_fixes_permissions_first(tmp_path):
    """Without root's override, folders made unreadable and unwritable by their owner (the
    grader's own user, where workers run as it) are made the owner's again, then removed."""
    room = tempfile.mkdtemp()  # pytest's own folders are root's alone
    os.chmod(room, 0o777)
    top = os.path.join(room, "scratch")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            os.setgid(65534)
            os.setuid(65534)
            _hostile_tree(top)
            os._exit(0 if remove_tree(top) and not os.path.lexists(top) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    try:
        assert os.waitstatus_to_exitcode(status) == 0
        assert not os.path.lexists(top)
    finally:
        remove_tree(room)


def test_disk_usage_stops_early_on_what_it_should_not_walk(tmp_path):
    top = tmp_path / "s"
    (top / "x").mkdir(parents=True)
    (top / "x" / "f").write_bytes(b"x" * 100_000)
    used, entries, why = disk_usage(top, 100, 8)
    assert used >= 100_000 and entries == 2 and why == ""
    (top / "x" / "/".join("d" * 10)).mkdir(parents=True)
    assert "nested more than 8 deep" in disk_usage(top, 100, 8)[2]
    assert "more than 5 files" in disk_usage(top, 5, 100)[2]


def test_inert_text_shows_control_characters_instead_of_obeying_them():
    text = inert_text("a\x1b[2J\rb\tc\nd\x07\u202e\x9b" + os.fsdecode(b"\xff"))
    assert text == "a\\x1b[2J\\x0db\tc\nd\\x07\\u202e\\x9b\\udcff"
    assert shown_name(os.fsdecode(b"ren\xe9e")) == "ren\\xe9e" and shown_name("Ren\u00e9e") == "Ren\u00e9e"


@pytest.mark.parametrize("cell,shown", [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\r=1", "\\x0d=1"), ("-1.5", "-1.5"), ("+3e4", "+3e4"), ("58", "58"), ("jane", "jane"), (4.5, 4.5),
])
def test_csv_cells_never_start_a_formula(cell, shown):
    assert csv_cell(cell) == shown


def test_write_atomic_writes_a_name_that_is_not_utf8_escaped(tmp_path):
    write_atomic(tmp_path / "f.txt", "entry " + os.fsdecode(b"ren\xe9e"))
    assert (tmp_path / "f.txt").read_text() == "entry ren\\udce9e"


def test_disk_usage_walks_on_past_a_folder_removed_while_it_walks(tmp_path, monkeypatch):
    """The worker runs on while its scratch is measured: a folder listed and then removed (a
    temporary folder of torch's, say) is skipped, not taken for one the grader cannot open.
    A folder that exists and cannot be opened still stops the walk."""
    import grader.files as files

    top = tmp_path / "s"
    (top / "gone").mkdir(parents=True)
    (top / "kept").mkdir()
    (top / "kept" / "f").write_bytes(b"x" * 10_000)
    real_open = os.open

    def vanishing(path, flags, *args, dir_fd=None, **kwargs):
        if path == "gone" and dir_fd is not None:
            os.rmdir(os.path.join(top, "gone"))
        return real_open(path, flags, *args, dir_fd=dir_fd, **kwargs)

    monkeypatch.setattr(files.os, "open", vanishing)
    used, _, why = disk_usage(top, 100, 8)
    assert why == "" and used >= 10_000
    monkeypatch.setattr(files.os, "open", real_open)
    (top / "locked").mkdir(mode=0o000)
    if os.geteuid() != 0:  # root opens any folder
        assert "cannot open" in disk_usage(top, 100, 8)[2]
