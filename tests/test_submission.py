"""grader/submission.py: layouts, zips, and refusing unsafe archives before writing anything."""
import stat
import zipfile

import pytest

from grader.submission import SubmissionError, prepare, safe_extract
from submissions import LC, TLN, make_submission


def test_kit_and_course_layouts_are_found_and_copied_privately(tmp_path):
    kit = prepare(make_submission(tmp_path / "kit"))
    course = prepare(make_submission(tmp_path / "course", layout="course"))
    try:
        assert kit.layout == "kit" and course.layout == "course"
        assert (kit.code_dir / "two_layer_net.py").read_text() != (course.code_dir / "two_layer_net.py").read_text()
        assert tmp_path not in kit.code_dir.parents  # a private copy
    finally:
        kit.cleanup()
        course.cleanup()
    assert not kit.code_dir.exists()


def test_zip_with_a_top_folder_is_found(tmp_path):
    make_submission(tmp_path / "jane", layout="course")
    archive = tmp_path / "jane.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in (tmp_path / "jane").iterdir():
            zf.write(p, arcname=f"jane_A2/{p.name}")
    prepared = prepare(archive)
    assert prepared.layout == "course" and prepared.shown_dir == "jane_A2"
    prepared.cleanup()


@pytest.mark.parametrize("given,message", [
    ("missing", "does not exist"),
    ("notes.txt", "not a .zip"),
    # an empty folder: what each assignment's files are, and where they were looked for
    ("empty", r"files of no assignment this kit grades \(looked for a2: linear_classifier.py and two_layer_net.py "
              r"\(in ./a2/ or ./\); a3: fully_connected_networks.py \(in ./a3/ or ./\)\)"),
    ("broken.zip", "not a readable zip"),
])
def test_bad_submissions_get_clear_errors(tmp_path, given, message):
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SubmissionError, match=message):
        prepare(tmp_path / given)


def _zip_with(path, name, data=b"x", mode=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)


@pytest.mark.parametrize("name,data,mode,message", [
    ("../escape.py", b"x", None, "absolute or with '..'"),
    ("/etc/evil.py", b"x", None, "absolute or with '..'"),
    ("link.py", b"/etc/passwd", stat.S_IFLNK | 0o777, "a link or special file"),
    ("bomb.py", b"0" * (50 << 20), None, "compressed more than"),
])
def test_unsafe_archives_are_refused_before_writing(tmp_path, name, data, mode, message):
    archive = tmp_path / "a.zip"
    _zip_with(archive, name, data, mode)
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(SubmissionError, match=message):
        safe_extract(archive, target)
    assert not any(target.iterdir())
    assert not (tmp_path / "escape.py").exists()


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    import grader.submission as sub

    monkeypatch.setattr(sub, "MAX_MEMBERS", 3)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(4):
            zf.writestr(f"f{i}.py", "x")
    with pytest.raises(SubmissionError, match="holds 4 entries"):
        safe_extract(archive, tmp_path)


def test_messages_name_the_students_own_files_not_the_private_copy(tmp_path, grade_with):
    """A traceback or a load error names the file as handed in (a2/two_layer_net.py, or
    jane_A2/linear_classifier.py inside a zip), never the grader's temporary copy."""
    crash = (TLN, "    scores = hidden.mm(W2) + b2  # (N, C)\n", "    scores = hidden.mm(W2) + b2  # (N, C)\n    1 / 0\n")
    kit = grade_with(make_submission(tmp_path / "kit", [crash]), functions=["nn_forward_pass"], hidden=False)
    failed = [r for r in kit.results if r.status == "failed" and "device" not in r.name]  # value cases: tracebacks
    assert failed and all('File "a2/two_layer_net.py", line' in r.message and "1 / 0" in r.message for r in failed)

    # a file that fails to load (an import the grader lacks loads past it: its error comes at the use)
    make_submission(tmp_path / "jane", [(LC, "import torch\n", "import torch\nVERSION = 1 / 0\n")],
                    layout="course")
    archive = tmp_path / "jane.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in (tmp_path / "jane").iterdir():
            zf.write(p, arcname=f"jane_A2/{p.name}")
    course = grade_with(archive, functions=["svm_loss_naive"], hidden=False)
    texts = [r.message for r in course.results] + list(course.notes)
    assert any('File "jane_A2/linear_classifier.py", line' in t for t in texts), texts
    for report in (kit, course):
        shown = str({k: v for k, v in report.to_dict().items() if k != "submission"})
        assert "code-" not in shown and "a2-grading-" not in shown and str(tmp_path) not in shown


def test_a_source_file_over_the_limit_is_refused_before_the_grader_compiles_it(tmp_path):
    from grader.submission import MAX_CODE_BYTES

    root = make_submission(tmp_path / "s")
    path = root / "a2" / "linear_classifier.py"
    path.write_text(path.read_text() + "x = 1\n" * (MAX_CODE_BYTES // 6))
    with pytest.raises(SubmissionError, match=r"linear_classifier.py is larger than 512 KiB"):
        prepare(root)


def test_zip_members_nested_too_deep_and_false_utf8_names_are_refused_naming_them(tmp_path):
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as zf:
        zf.writestr("/".join(["d"] * 40) + "/x.py", "x")
    with pytest.raises(SubmissionError, match="more than 32 folders deep"):
        safe_extract(deep, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    false = tmp_path / "false.zip"
    with zipfile.ZipFile(false, "w") as zf:
        zf.writestr(zipfile.ZipInfo("not\u00e9s.txt"), "x")
    false.write_bytes(false.read_bytes().replace("not\u00e9s".encode(), b"not\xff\xfes"))
    with pytest.raises(SubmissionError, match=r"not UTF-8 \(b?'?not\\xff\\xfes"):
        prepare(false)


def test_checkpoints_are_bounded_before_torch_load(tmp_path, monkeypatch):
    """A checkpoint that unpacks to more than the limit, one in the legacy format (whose
    storages are allocated at the size the file declares) and one larger than the limit fail
    their case, naming the reason, without being loaded; an ordinary one loads."""
    import torch

    from grader import mode
    from grader.assignments.a2.catalogue import models
    from grader.checkpoints import checkpoint_problem
    from hostile_corpus import checkpoint_bomb

    checkpoint_bomb(tmp_path, tmp_path)
    bomb = tmp_path / "bomb" / "nn_best_model.pt"
    assert bomb.stat().st_size < 1 << 20
    assert "unpacks to more than 64 MiB" in checkpoint_problem(bomb, bomb.name)
    legacy, fine, big = tmp_path / "legacy.pt", tmp_path / "fine.pt", tmp_path / "big.pt"
    state = {"W": torch.zeros(3073, 10)}
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    torch.save(state, fine)
    big.write_bytes(bytes((64 << 20) + 1))
    assert "not in torch.save's format" in checkpoint_problem(legacy, "svm_best_model.pt")
    assert checkpoint_problem(fine, "svm_best_model.pt") is None
    assert "larger than 64 MiB" in checkpoint_problem(big, "svm_best_model.pt")
    # As the judge meets it (in a handout, where no data decides first).
    monkeypatch.setattr(mode, "INSTRUCTOR_DIR", tmp_path / "no-instructor")
    monkeypatch.setattr(mode, "UNITS_DIR", tmp_path / "no-instructor")
    judge = models.judge_best("nn")
    verdict = judge(None, {"checkpoint_dirs": [bomb.parent], "data_dir": str(tmp_path)}, None, None, "cpu")
    assert verdict.status == "failed" and "unpacks to more than" in verdict.message
