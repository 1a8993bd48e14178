"""grader/batch.py, report.py, feedback.py, gradescope.py: batch grading that nothing breaks."""
import csv
import json
import os
import re
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
from hostile_corpus import BREAKERS, BREAKS_ITSELF, ESCAPES, HOSTILE, SCRATCH
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
    (tmp_path / "kim_12_A2.zip").write_bytes(b"")
    (tmp_path / ".DS_Store").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert [(e.id, e.error) for e in discover(tmp_path)] == [("jane", None), ("kim_12", None)]
    odd = tmp_path / "odd name;rm_A2.zip"
    odd.write_bytes(b"")
    assert student_id(odd) == "odd_name_rm"


def test_entries_mapping_to_one_student_id_are_both_errors(tmp_path):
    """janedoe_12345678.zip and janedoe_12345678_A2.zip (or a folder of that name) are never
    resolved by guessing: no entry takes the student id, each is an error naming both."""
    for name in ("janedoe_12345678.zip", "janedoe_12345678_A2.zip", "kim.zip"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "janedoe_12345678").mkdir()
    entries = discover(tmp_path)
    ids = [e.id for e in entries]
    assert "janedoe_12345678" not in ids and "kim" in ids and len(set(ids)) == 4
    clashing = [e for e in entries if e.error]
    assert len(clashing) == 3 and {e.student for e in clashing} == {"janedoe_12345678"}
    for e in clashing:
        assert all(name in e.error for name in ("janedoe_12345678.zip", "janedoe_12345678_A2.zip"))
        assert "None is graded" in e.error and "keep one entry per student" in e.error


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
    temp = tmp_path / "tmp"  # the grader's temporary folder: a killed run's grading folder is left here
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = len(list((out / "results").glob("*.json")))
    assert 2 <= partial < 6
    assert [p.name[:11] for p in temp.iterdir()] == ["a2-grading-"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert f"{6 - partial} graded now, {partial} already graded" in done.stdout
    first = (out / "grades.csv").read_text()
    again = subprocess.run(command + ["--force"], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert "6 graded now" in again.stdout
    assert (out / "grades.csv").read_text() == first
    assert not list((out / "results").glob(".*.part"))
    assert not list(temp.iterdir()), "the killed run's grading folder was left behind"


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
        assert {"setup.sh", "fetch_data.sh", "run_autograder", "source/grader/cli.py",
                "source/a2/two_layer_net.py"} <= set(names)
        assert any(n.startswith("source/grader/assignments/a2/fixtures/") for n in names)
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
        if case == "good":  # no CIFAR-10 in this simulated image: said at the top, details for the staff only
            assert result["output"].startswith("NOT GRADED: 15 points were left out of this score"), result["output"]
            seen = [t for t in result["tests"] if t["visibility"] != "hidden"]
            best = [t for t in seen if t["tags"] == ["best_models"]]
            assert len(best) == 3 and all("CIFAR-10 is not on the grading machine" in t["output"] for t in best)
            assert not any(str(root / "data") in t["output"] or "On a machine with internet" in t["output"]
                           for t in seen)
            staff = [t for t in result["tests"] if t["visibility"] == "hidden" and t["tags"] == ["setup"]]
            assert len(staff) == 1 and str(root / "data") in staff[0]["output"] and staff[0]["max_score"] == 0
        if case == "empty":
            assert "could not be graded" in result["output"]


@pytest.mark.parametrize("failures, rc", [(2, 0), (3, 1)])
def test_gradescope_image_build_retries_cifar10_and_fails_without_it(tmp_path, failures, rc):
    """setup.sh fails the image build when CIFAR-10 cannot be downloaded (after retries), rather
    than grade every submission out of 85 without a word."""
    from grader.instructor.gradescope import FETCH_DATA_SH, SETUP_SH

    assert "bash /autograder/fetch_data.sh" in SETUP_SH and "set -e" in SETUP_SH and "|| echo" not in SETUP_SH
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "fetch_data.sh").write_text(FETCH_DATA_SH)
    calls = tmp_path / "calls"
    fake = tmp_path / "python"  # a download that fails the first ``failures`` times
    fake.write_text(f"#!/usr/bin/env bash\necho \"$*\" >> {calls}\n"
                    f"[ $(wc -l < {calls}) -gt {failures} ] || exit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": str(fake), "A2_FETCH_TRIES": "3",
           "A2_FETCH_PAUSE": "0"}
    done = subprocess.run(["bash", str(root / "fetch_data.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == rc, done.stderr
    tried = calls.read_text().splitlines()
    assert len(tried) == 3 and all(t == f"-m helpers.data cifar10 --root {root}/data" for t in tried)
    assert "try 1 of 3" in done.stderr and "try 2 of 3" in done.stderr
    assert ("the autograder image is not built" in done.stderr) == bool(rc)


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


def _cells(path):
    with open(path, newline="") as f:
        return [cell for row in csv.reader(f) for cell in row]


def test_no_entry_stops_the_batch_and_nothing_is_left_behind(tmp_path):
    """The batch corpus (hostile_corpus.BREAKERS and SCRATCH): names that are not UTF-8, deep
    trees, an 8 MB source file, formula names, colliding ids, a scratch folder filled, made
    undeletable or deep, escape sequences in a message. Every entry gets a row saying why;
    the good ones keep full marks; every output is written and inert; no grading folder is
    left in the temporary folder; the similarity report reads every entry."""
    from grader.sandbox import work_root

    subs, work = tmp_path / "subs", tmp_path / "work"
    make_submission(subs / "good0")
    make_submission(subs / "good1", layout="course")
    ids = [breaker(subs, work) for breaker in BREAKERS]
    for name, edits in SCRATCH.items():
        make_submission(subs / name, edits)
    out = tmp_path / "out"
    summary = run_batch(subs, out, jobs=2, limits=FAST, progress_stream=open(os.devnull, "w"), similarity=True)
    grades = _grades(out)
    assert summary["total"] == len(grades) == 2 + len(ids) + 2 + len(SCRATCH)  # one colliding id is two rows
    assert grades["good0"]["score"] == grades["good1"]["score"] == grades["latin1"]["score"] == "58"
    errors = {row["submission"]: row["error"] for row in grades.values()}
    assert "ren\\xe9e" in errors["ren_e"] and "no linear_classifier.py" in errors["ren_e"]
    assert "not\\xff\\xfes" in errors["falseutf8"]
    assert "nested more than 32 deep" in errors["deepfolder"] and "more than 32 folders deep" in errors["deepzip"]
    assert "larger than 512 KiB" in errors["huge"]
    # Colliding ids: no row takes the id; both entries are rows naming each other.
    assert "janedoe_12345678" not in grades
    clashing = [s for s in grades if s.startswith("janedoe_12345678")]
    assert len(clashing) == 2 and all("janedoe_12345678 and janedoe_12345678_A2.zip." in errors[s] for s in clashing)
    # Scratch: filled, undeletable, deep. The worker is stopped (the case it was running fails,
    # saying why) and a fresh one grades the rest.
    for name, why in (("scratch_filler", "more than 256 MiB"), ("scratch_deep", "folders nested more than 32 deep")):
        assert float(grades[name]["predict_linear_classifier"]) == 0 and float(grades[name]["nn_predict"]) == 2
        assert f"its scratch folder held {why}" in (out / "feedback" / f"{name}.md").read_text()
    assert grades["scratch_undeletable"]["score"] == "58"
    assert os.listdir(work_root()) == [".lock"], "a grading folder was left behind"
    # Outputs are written and inert: no control character, no formula.
    assert (out / "report.html").exists() and (out / "similarity.html").exists()
    for path in [out / "grades.csv", out / "report.html", out / "similarity.csv", out / "similarity.html",
                 *(out / "feedback").iterdir(), *(out / "results").iterdir()]:
        text = path.read_text()
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text, path
    assert "\\x1b[2J" in (out / "feedback" / "escape_sequences.md").read_text()
    for path in (out / "grades.csv", out / "similarity.csv"):
        formulas = [c for c in _cells(path) if c[:1] in ("=", "+", "-", "@") and not c.lstrip("+-").replace(".", "").isdigit()]
        assert not formulas, formulas
    assert "'@SUM_1_" in _cells(out / "grades.csv") and any(c.startswith("'=1+2.zip") for c in _cells(out / "grades.csv"))
    similarity = (out / "similarity.csv").read_text()
    assert "ren\\xe9e" in similarity and "janedoe_12345678_A2.zip" in similarity


def test_check_shows_escape_sequences_without_obeying_them(tmp_path):
    """An exception's message cannot clear the instructor's screen or draw a fake summary."""
    make_submission(tmp_path / "s", SCRATCH["escape_sequences"])
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(tmp_path / "s"), "--only",
                           "predict_linear_classifier"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout and "\u202e" not in done.stdout
    assert "\\x1b[2J\\x1b[H" in done.stdout and "\\u202e" in done.stdout


@pytest.mark.parametrize("changed", ["grader/runner.py", "grader/student_side/capture.py", "grader/student_side/wire.py",
                                     "grader/sandbox.py", "grader/student_side/confine.py", "grader/instructor/report.py",
                                     "grader/assignments/a2/catalogue/net.py", "grader/assignments/a2/fixtures/nn_predict.pt", "helpers/data.py",
                                     "a2/two_layer_net.py"])
def test_the_resume_fingerprint_covers_everything_a_grade_depends_on(tmp_path, monkeypatch, changed):
    """A kit update (runner, tracer, reply format, sandbox, instructor code, fixtures, helpers)
    or a fix to the solution that hidden keys are made from regrades on resume."""
    from grader.instructor import batch

    for folder in ("grader", "helpers", "a2"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(batch, "ROOT", tmp_path)
    before = batch.fingerprint(True, "cpu")
    assert batch.fingerprint(True, "cpu") == before  # stable
    with open(tmp_path / changed, "ab") as f:
        f.write(b"\n")
    assert batch.fingerprint(True, "cpu") != before, changed


def test_the_resume_fingerprint_covers_the_options():
    from grader.instructor.batch import fingerprint

    base = dict(feedback_hidden="status", timeout=30.0, budget=60.0, memory_gib=4.0, data_dir="", data=[])
    first = fingerprint(True, "cpu", **base)
    for key, value in (("feedback_hidden", "full"), ("timeout", 5.0), ("budget", 90.0), ("memory_gib", 1.0),
                       ("data", [("test_batch", 31035704, 1)])):
        assert fingerprint(True, "cpu", **{**base, key: value}) != first, key
    assert fingerprint(False, "cpu", **base) != first


def test_the_resume_fingerprint_sees_the_md5_check_turned_off(tmp_path, monkeypatch):
    """A2_DATA_VERIFY=0 can turn "not graded" (files that are not the release) into grades: a
    resumed batch grades again."""
    from grader.instructor.batch import _data_state

    monkeypatch.delenv("A2_DATA_VERIFY", raising=False)
    checked = _data_state(tmp_path)
    monkeypatch.setenv("A2_DATA_VERIFY", "0")
    assert _data_state(tmp_path) != checked


def test_the_report_names_the_mistake_the_judge_recorded_not_words_cut_from_the_message():
    """A named mistake is read from the causes the judge recorded (its label whole, dots and all);
    a hint that is text alone still shows its first words."""
    from grader.instructor.report import case_table

    label = "regularization written reg * sum(W.T @ W)"
    named = {"check": "f", "name": "a", "status": "failed", "reason": "values", "max_points": 1.0,
             "diagnosis": f"Likely cause (dW): {label}: use reg * sum(W * W).", "causes": [[label, ["dW"]]]}
    hinted = {"check": "f", "name": "b", "status": "failed", "reason": "values", "max_points": 1.0,
              "diagnosis": "Likely cause: y is used before the given line."}
    results = {"s1": {"score": 0, "extra_data": {"cases": [named, hinted]}}}
    table = {row["name"]: row for row in case_table(results)}
    assert dict(table["a"]["causes"]) == {label: 1}
    assert dict(table["b"]["causes"]) == {"y is used before the given line": 1}


def _results_schema(result):
    """Gradescope's results.json: the top level and every test's fields."""
    assert {"score", "execution_time", "tests", "output"} <= set(result)
    for t in result["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(t), t
        assert t["visibility"] in ("visible", "hidden", "after_published", "after_due_date")
        assert t["status"] in ("passed", "failed") and 0 <= t["score"] <= t["max_score"]


def test_gradescope_bundle_of_a3_grades_a3_submissions(tmp_path):
    """gradescope-bundle --assignment a3: the solution in the course layout and in the kit's at full
    marks with hidden cases, the stub at 0 saying what is not implemented, and a seeded bug losing
    points only where it lives, named."""
    from a3_course_corpus import MUTANTS, course_submission
    from grader.instructor.stubs import make_stub

    bundle = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", str(bundle), "--assignment", "a3"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        zf.extractall(root)
    assert {"setup.sh", "fetch_data.sh", "run_autograder", "source/a3/fully_connected_networks.py",
            "source/grader/assignments/a3/fixtures/manifest.json",
            "source/grader/assignments/a3/instructor/hidden.py"} <= names
    assert not any(n.startswith("source/a2/") for n in names)  # A2's solution is not A3's autograder's business
    assert "--assignment a3" in (root / "run_autograder").read_text()
    (root / "run_autograder").chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    solution = (REPO / "a3" / "fully_connected_networks.py").read_text()
    mutant = next(m for m in MUTANTS if m.label.startswith("Linear.backward: db averaged"))
    style, edits = next(iter(mutant.edits.items()))

    def grade(write):
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir()
        write(root / "submission")
        run = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        result = json.loads((root / "results" / "results.json").read_text())
        _results_schema(result)
        return result

    def per_function(result):
        out = {}
        for t in result["tests"]:
            if t["tags"] and t["tags"][0] != "setup":
                score, top = out.get(t["tags"][0], (0.0, 0.0))
                out[t["tags"][0]] = (score + t["score"], top + t["max_score"])
        return out

    full = grade(lambda s: (s / "fully_connected_networks.py").write_text(solution))
    top = sum(t["max_score"] for t in full["tests"])
    assert full["score"] == top > 120, full["output"]  # hidden cases in: 138.5 less the 7 needing CIFAR-10
    assert any(t["visibility"] == "after_published" for t in full["tests"])
    assert full["output"].startswith("NOT GRADED: 7 points were left out of this score"), full["output"]
    assert {"Linear.forward", "FullyConnectedNet.loss", "adam", "Dropout.backward"} <= set(per_function(full))

    kit = grade(lambda s: ((s / "a3").mkdir(), (s / "a3" / "fully_connected_networks.py").write_text(solution)))
    assert kit["score"] == top

    stub = grade(lambda s: (s / "fully_connected_networks.py").write_text(
        make_stub(solution, "fully_connected_networks.py")))
    assert stub["score"] == 0
    failed = [t for t in stub["tests"] if t["status"] == "failed" and t["visibility"] == "visible"]
    assert len(failed) >= 30 and all("not implemented yet" in t["output"] for t in failed if t["max_score"] > 0)

    buggy = grade(lambda s: shutil.copytree(course_submission(tmp_path / "corpus", style, edits), s,
                                            dirs_exist_ok=True))
    scores = per_function(buggy)
    lost = {f for f, (score, most) in scores.items() if score < most}
    assert lost == {"Linear.backward"}, scores
    seen = [t for t in buggy["tests"] if t["tags"] == ["Linear.backward"] and t["status"] == "failed"
            and t["visibility"] == "visible"]
    assert seen and any("db averaged instead of summed" in t["output"] for t in seen), [t["output"] for t in seen]


def test_a3_batch_writes_a3_columns_a_report_naming_the_mistakes_and_feedback(tmp_path):
    """A batch of A3 submissions (recognised from their files): grades.csv has A3's graded names
    as columns, inert; report.html names the class's common mistakes; each student's feedback
    names the bug, and a hidden case's expected values stay hidden."""
    from a3_course_corpus import MUTANTS, course_submission
    from grader.assignment import get
    from grader.instructor.stubs import make_stub

    subs = tmp_path / "subs"
    solution = (REPO / "a3" / "fully_connected_networks.py").read_text()
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "fully_connected_networks.py").write_text(solution)
    (subs / "carol" / "a3").mkdir(parents=True)
    (subs / "carol" / "a3" / "fully_connected_networks.py").write_text(make_stub(solution, "fully_connected_networks.py"))
    bugs = {"db averaged instead of summed": ("Linear.backward: db averaged", "Linear.backward"),
            "mask taken from dout instead of x": ("ReLU.backward: mask taken from dout", "ReLU.backward")}
    students = {}
    for k, (named, (label, function)) in enumerate(bugs.items()):
        mutant = next(m for m in MUTANTS if m.label.startswith(label))
        assert mutant.function == function
        for j, (style, edits) in enumerate(mutant.edits.items()):
            shutil.copytree(course_submission(tmp_path / "corpus" / f"{k}{j}", style, edits), subs / f"bug{k}{j}")
            students[f"bug{k}{j}"] = (named, function)
    out = tmp_path / "out"
    summary = run_batch(subs, out, jobs=2, hidden=True, limits=Limits(timeout=20.0, memory_gib=2.0))
    assert summary["total"] == 6 and summary["errors"] == 0
    functions = list(get("a3").functions)
    with open(out / "grades.csv") as f:
        header = next(csv.reader(f))
    assert header == ["submission", "score", "max_score", *functions, "error"]
    assert all(re.fullmatch(r"[A-Za-z_][\w.]*", name) for name in header)  # dotted names, nothing a sheet evaluates
    grades = _grades(out)
    assert grades["alice"]["score"] == grades["alice"]["max_score"] and float(grades["alice"]["score"]) > 120
    assert grades["carol"]["score"] == "0" and not grades["carol"]["error"]
    for student, (named, function) in students.items():
        row = grades[student]
        lost = [f for f in functions if row[f] != grades["alice"][f]]
        assert lost == [function], (student, lost)
        feedback = (out / "feedback" / f"{student}.md").read_text()
        assert named in feedback and "Hidden case: failed" in feedback, student
        for hidden in feedback.split("Hidden case: failed")[1:]:
            assert "expected" not in hidden.split("###")[0], student
    assert "not implemented yet" in (out / "feedback" / "carol.md").read_text()
    report = (out / "report.html").read_text()
    assert "Assignment 3" in report and "most common diagnosed mistake" in report
    for named in bugs:  # what the class got wrong, with how many made the mistake
        assert f"{named} (2)" in report, named
