"""grader/batch.py, report.py, feedback.py, gradescope.py: batch grading that nothing breaks."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.instructor.batch import in_shard, parse_shard, run_batch
from grader.instructor.entries import discover, student_id
from grader.sandbox import Limits
from hostile_corpus import BREAKS_ITSELF, HOSTILE
from submissions import LC, REPO, TLN, make_submission

FAST = Limits(timeout=3.0, memory_gib=1.0)
FUNCTIONS = ["predict_linear_classifier", "nn_predict"]


# Valid on Python 3.12 (PEP 701: a line break inside an f-string's braces), refused by 3.10 and 3.11.
PEP701_FSTRING = 'def describe(x):\n    return f"value: {\n        x}"\n\n\ndef hello_two_layer_net():'


def _grades(out):
    with open(out / "grades.csv") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def test_ids_and_discovery(tmp_path):
    (tmp_path / "jane").mkdir()
    (tmp_path / "jane_A2.zip").write_bytes(b"")
    (tmp_path / "kim_12_A2.zip").write_bytes(b"")
    (tmp_path / ".DS_Store").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert [e.id for e in discover(tmp_path)] == ["jane", "jane-2", "kim_12"]
    odd = tmp_path / "odd name;rm_A2.zip"
    odd.write_bytes(b"")
    assert student_id(odd) == "odd_name_rm"


def test_shards_partition_the_ids():
    ids = [f"student{i}" for i in range(50)]
    parts = [[i for i in ids if in_shard(i, (k, 3))] for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(ids) and all(parts)
    with pytest.raises(ValueError):
        parse_shard("4/3")


def test_mixed_batch_writes_every_output(tmp_path):
    subs = tmp_path / "subs"
    make_submission(subs / "alice")
    make_submission(subs / "bob", [(LC, "    dW /= num_train\n", "")], layout="course")
    make_submission(subs / "carol", stub=True)
    make_submission(tmp_path / "dave", layout="course")
    with zipfile.ZipFile(subs / "dave_A2.zip", "w") as zf:
        for path in (tmp_path / "dave").iterdir():
            zf.write(path, arcname=path.name)
    (subs / "eve.zip").write_bytes(b"not a zip")
    make_submission(subs / "frank", [(TLN, "def hello_two_layer_net():", PEP701_FSTRING)], layout="course")
    out = tmp_path / "out"
    summary = run_batch(subs, out, jobs=2, hidden=True, limits=FAST, progress_stream=sys.stderr)
    newer = sys.version_info >= (3, 12)
    assert summary["total"] == 6 and summary["errors"] == (1 if newer else 2)
    grades = _grades(out)
    if newer:  # Python 3.12 accepts the f-string: graded like any correct submission
        assert grades["frank"]["score"] == "85"
    else:  # no verdict from an interpreter that cannot read the file: a row saying why
        assert "Python 3.12 or newer" in grades["frank"]["error"] and "two_layer_net.py" in grades["frank"]["error"]
    assert grades["alice"]["score"] == grades["dave"]["score"] == grades["alice"]["max_score"] == "85"
    # dW not averaged: every value case lost, the device rule's kept (the code follows the inputs' device)
    assert float(grades["bob"]["svm_loss_naive"]) == 0.5 and float(grades["bob"]["score"]) < 85
    assert grades["carol"]["score"] == "0"
    assert "not a readable zip" in grades["eve"]["error"]
    result = json.loads((out / "results" / "bob.json").read_text())
    assert {"score", "execution_time", "tests"} <= set(result)
    assert all({"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(t) for t in result["tests"])
    feedback = (out / "feedback" / "bob.md").read_text()
    assert "not averaged" in feedback and "Hidden case: failed" in feedback
    assert "expected" not in feedback.split("Hidden case")[1][:200]
    report = (out / "report.html").read_text()
    assert "score_histogram.png" in report and "pass_rates.png" in report and "eve" in report
    assert (out / "score_histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert "not averaged over N" in report  # the most common diagnosed mistake of that case


def test_hostile_submissions_change_no_other_grade(tmp_path):
    subs = tmp_path / "subs"
    for name, edits in HOSTILE.items():
        make_submission(subs / f"h_{name}", edits)
    for i in range(3):
        make_submission(subs / f"good{i}")
    before = {p: p.read_bytes() for p in REPO.rglob("*.py") if ".venv" not in p.parts}
    out = tmp_path / "out"
    start = time.monotonic()
    run_batch(subs, out, jobs=2, limits=FAST, progress_stream=open(os.devnull, "w"))
    grades = _grades(out)
    assert all(grades[f"good{i}"]["score"] == grades[f"good{i}"]["max_score"] == "58" for i in range(3)), grades
    for name in BREAKS_ITSELF:
        assert float(grades[f"h_{name}"]["score"]) < 58, name
    assert float(grades["h_output_flood"]["score"]) == 58  # flooding costs nothing but time
    for path in (subs / "good0" / "a2").glob("*.py"):
        assert "tampered" not in path.read_text()
    assert time.monotonic() - start < 300
    after = {p: p.read_bytes() for p in REPO.rglob("*.py") if ".venv" not in p.parts}
    assert before == after, "a submission changed the repository's files"
    assert "tampered" not in (out / "grades.csv").read_text()
    stray = subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, text=True).stdout.split()
    assert not stray


def test_killed_batch_resumes_and_regrading_gives_the_same_scores(tmp_path):
    subs = tmp_path / "subs"
    for i in range(6):
        edits = [] if i % 2 else [(TLN, "y_pred = loss_func(params, X).argmax(dim=1)", "y_pred = loss_func(params, X).argmax(dim=0)")]
        make_submission(subs / f"s{i}", edits)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--jobs", "1", "--timeout", "5"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = len(list((out / "results").glob("*.json")))
    assert 2 <= partial < 6
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{6 - partial} graded now, {partial} already graded" in done.stdout
    first = (out / "grades.csv").read_text()
    again = subprocess.run(command + ["--force"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "6 graded now" in again.stdout
    assert (out / "grades.csv").read_text() == first
    assert not list((out / "results").glob(".*.part"))


def test_changed_submission_is_regraded_on_resume(tmp_path):
    subs = tmp_path / "subs"
    make_submission(subs / "s")
    out = tmp_path / "out"
    run_batch(subs, out, jobs=1, limits=FAST, progress_stream=open(os.devnull, "w"))
    make_submission(subs / "s", [(LC, "    dW /= num_train\n", "")])
    summary = run_batch(subs, out, jobs=1, limits=FAST, progress_stream=open(os.devnull, "w"))
    assert summary["graded"] == 1 and float(_grades(out)["s"]["svm_loss_naive"]) == 0.5  # the device rule's case


def test_shards_merge_into_the_unsharded_result(tmp_path):
    subs = tmp_path / "subs"
    for i in range(5):
        make_submission(subs / f"s{i}", [] if i % 2 else [(LC, "    dW /= num_train\n", "")])
    quiet = open(os.devnull, "w")
    whole = tmp_path / "whole"
    run_batch(subs, whole, jobs=2, limits=FAST, progress_stream=quiet)
    for k in (1, 2):
        run_batch(subs, tmp_path / f"part{k}", jobs=2, limits=FAST, shard=(k, 2), progress_stream=quiet)
    done = subprocess.run([sys.executable, "-m", "grader", "merge", str(tmp_path / "part1"), str(tmp_path / "part2"),
                           "--out", str(tmp_path / "merged")], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "merged" / "grades.csv").read_text() == (whole / "grades.csv").read_text()


def test_gradescope_bundle_runs_in_a_simulated_autograder(tmp_path):
    bundle = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", str(bundle)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "source/grader/cli.py", "source/a2/two_layer_net.py"} <= set(names)
        assert any(n.startswith("source/grader/fixtures/") for n in names)
        zf.extractall(root)
    (root / "run_autograder").chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    for case, edits, expect in (("good", [], 85.0), ("buggy", [(LC, "    dW /= num_train\n", "")], None), ("empty", None, 0.0)):
        shutil.rmtree(root / "submission", ignore_errors=True)
        if edits is None:
            (root / "submission").mkdir()
        else:
            make_submission(root / "submission", edits, layout="course")
        run = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        result = json.loads((root / "results" / "results.json").read_text())
        if expect is not None:
            assert result["score"] == expect, (case, result.get("output"))
        else:
            assert 0 < result["score"] < 85
            hidden = [t for t in result["tests"] if t["visibility"] == "after_published"]
            assert hidden and all(t["output"].startswith("hidden case:") for t in hidden)
        if case == "empty":
            assert "could not be graded" in result["output"]


def _result(cases):
    return {"score": 0, "extra_data": {"cases": [
        {"check": check, "name": name, "status": status, "reason": "" if status == "passed" else reason,
         "diagnosis": "", "max_points": 1.0, "message": message, "visibility": "public", "points": 0}
        for check, name, status, reason, message in cases]}}


def test_report_flags_cases_that_may_be_broken():
    """A case nobody passes, or one that fails alone where its function's other cases pass, is
    flagged "check this case" with its most common message; ordinary cases are not."""
    from grader.instructor.report import case_table, report_html

    results = {}
    for i in range(6):
        results[f"s{i}"] = _result([
            ("f", "ordinary", "failed" if i == 0 else "passed", "values", "f is wrong"),
            ("f", "broken", "failed" if i % 2 else "passed", "values", "values differ at 3"),  # alone, 3 times
            ("g", "impossible", "failed", "values", "g differs"),
            ("g", "fine", "passed", "", ""),
            ("h", "stub", "failed", "not implemented", "not implemented yet"),
        ])
    table = {row["name"]: row for row in case_table(results)}
    assert table["broken"]["flag"].startswith("it alone fails 3 submissions")
    assert table["impossible"]["flag"] == "almost nobody passes it"
    assert table["ordinary"]["flag"] == "" and table["fine"]["flag"] == ""
    assert table["stub"]["flag"] == ""  # nobody tried h: no grading problem in sight
    page = report_html(results, list(table.values()), [])
    assert page.count("check this case") == 2 and "values differ at 3 (3)" in page
