"""Hostile submissions, as edits to the solution: each breaks one function in a way that must
cost only its own cases. Materialize one with submissions.make_submission(root, edits)."""
from submissions import LC, TLN

PREDICT = "    y_pred = X.mm(W).argmax(dim=1)"


def _in_predict(code: str):
    return [(LC, PREDICT, code + "\n" + PREDICT)]


# The ones that break their own function (the others must simply do no harm).
BREAKS_ITSELF = {"segfault", "endless_loop", "ignores_sigterm", "memory_blowup", "os_exit", "exit_at_import"}

HOSTILE = {
    "segfault": _in_predict("    import ctypes\n    ctypes.string_at(0)"),
    "endless_loop": _in_predict("    while True:\n        pass"),
    "ignores_sigterm": _in_predict("    import signal, time\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                   "    while True:\n        time.sleep(1)"),
    "memory_blowup": _in_predict("    hog = [bytearray(10 ** 8) for _ in range(1000)]"),
    "os_exit": _in_predict("    import os\n    os._exit(0)"),
    "kills_parent": _in_predict("    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)"),
    "output_flood": _in_predict("    import sys\n    for _ in range(400):\n        sys.stdout.write('spam' * 100000)"),
    "leaves_processes": _in_predict("    import subprocess, threading\n"
                                    "    for _ in range(20):\n        subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
                                    "    threading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()"),
    "writes_everywhere": _in_predict("    import glob\n"
                                     "    for pattern in ('/tmp/pytest-of-*/*/*/*/*.json', '/tmp/pytest-of-*/*/*/*/*/*.py',\n"
                                     "                    '/tmp/pytest-of-*/*/*/*/*.csv', '/tmp/a2-grading-*/*/*.py'):\n"
                                     "        for path in glob.glob(pattern)[:500]:\n"
                                     "            try:\n                open(path, 'a').write('# tampered')\n"
                                     "            except OSError:\n                pass"),
    "exit_at_import": [(TLN, "def hello_two_layer_net():", "raise SystemExit(1)\n\n\ndef hello_two_layer_net():")],
}


# ------------------------------------------------------------------ entries that once stopped a batch
# Each writes one entry into a folder of submissions ``subs`` (what a student, or an LMS
# download, can hand in; ``work`` is room for what it builds the entry from) and returns its id. A batch holding all of them grades every other
# entry, gives each of these a row, leaves nothing behind and writes every output.

import io  # noqa: E402
import os  # noqa: E402
import zipfile  # noqa: E402

from submissions import make_submission  # noqa: E402

ESCAPES = "\x1b[2J\x1b[H\x1b]0;owned\x07Score: 100.00 / 100.00\r\u202e"  # clear screen, home, title, a fake summary


def _zip_folder(folder, archive, extra=()):
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, arcname=str(path.relative_to(folder)))
        for info, data in extra:
            zf.writestr(info, data)


def non_utf8_file_in_folder(subs, work):
    """An LMS download unzipped on another system: a Latin-1 file name beside the code."""
    make_submission(subs / "latin1")
    (subs / "latin1" / os.fsdecode(b"r\xe9sum\xe9.txt")).write_text("notes")
    return "latin1"


def non_utf8_entry_without_code(subs, work):
    (subs / os.fsdecode(b"ren\xe9e")).mkdir()
    return "ren_e"


def zip_with_a_false_utf8_name(subs, work):
    make_submission(work / "falseutf8")
    archive = subs / "falseutf8_A2.zip"
    info = zipfile.ZipInfo("a2/not\u00e9s.txt")  # written with the UTF-8 flag...
    _zip_folder(work / "falseutf8", archive, [(info, "x")])
    archive.write_bytes(archive.read_bytes().replace("not\u00e9s".encode(), b"not\xff\xfes"))  # ...then not UTF-8
    return "falseutf8"


def deep_folder(subs, work):
    make_submission(subs / "deepfolder")
    deep = subs / "deepfolder" / "/".join(["d"] * 200)
    os.makedirs(deep)
    return "deepfolder"


def deep_zip(subs, work):
    make_submission(work / "deepzip")
    _zip_folder(work / "deepzip", subs / "deepzip_A2.zip", [("/".join(["d"] * 1500) + "/x", "x")])
    return "deepzip"


def huge_source(subs, work):
    """A source file of 8 MB (valid Python): the grader would compile it in its own process."""
    make_submission(subs / "huge")
    path = subs / "huge" / "a2" / "two_layer_net.py"
    path.write_text(path.read_text() + "".join(f"PAD_{i} = [{i}, {i}, {i}]\n" for i in range(400_000)))
    return "huge"


def checkpoint_bomb(subs, work):
    """nn_best_model.pt of 130 KB that unpacks to 128 MiB when torch.load reads it."""
    make_submission(subs / "bomb")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        with zf.open("archive/data/0", "w", force_zip64=True) as f:
            for _ in range(128):
                f.write(bytes(1 << 20))
    (subs / "bomb" / "nn_best_model.pt").write_bytes(buffer.getvalue())
    return "bomb"


def formula_names(subs, work):
    """An entry whose name and error text start spreadsheet formulas."""
    make_submission(subs / "@SUM_1_")
    (subs / "=1+2.zip").write_bytes(b"not a zip")
    return "@SUM_1_"


def colliding_ids(subs, work):
    """Two entries that map to one student id: the copier's and the victim's."""
    make_submission(work / "victim")
    _zip_folder(work / "victim", subs / "janedoe_12345678_A2.zip")
    make_submission(subs / "janedoe_12345678", [(LC, PREDICT, "    y_pred = X.mm(W).argmax(dim=0)")])
    return "janedoe_12345678"


# Student code that attacks what the grader writes or spends, graded like any submission.
SCRATCH = {
    # 768 MiB allocated at once (however slow the disk), then still running when the scratch folder is looked at.
    "scratch_filler": _in_predict("    import os, time\n    for i in range(12):\n        with open(f'fill{i}', 'wb') as f:\n"
                                  "            os.posix_fallocate(f.fileno(), 0, 64 << 20)\n    time.sleep(1)"),
    "scratch_undeletable": _in_predict("    import os\n    os.makedirs('a/b/c')\n    open('a/b/c/f', 'w').write('x')\n"
                                       "    os.chmod('a/b/c', 0)\n    os.chmod('a/b', 0o500)\n    os.chmod('a', 0)"),
    "scratch_deep": _in_predict("    import os\n    for _ in range(2000):\n        os.mkdir('d')\n        os.chdir('d')"),
    "escape_sequences": _in_predict(f"    raise ValueError({ESCAPES!r})"),
}


BREAKERS = (non_utf8_file_in_folder, non_utf8_entry_without_code, zip_with_a_false_utf8_name, deep_folder, deep_zip,
            huge_source, formula_names, colliding_ids)
