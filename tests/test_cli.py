"""python -m grader: exit codes, the printed table, Gradescope JSON, fixtures and the notebook API."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from processes import alive, processes_with
from submissions import LC, make_submission

REPO = Path(__file__).resolve().parents[1]


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_check_on_the_solution_exits_0_and_writes_gradescope_json(tmp_path):
    out = tmp_path / "results.json"
    done = run("check", "--only", "svm_loss_naive", "nn_predict", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 6.00 / 6.00" in done.stdout
    data = json.loads(out.read_text())
    assert data["score"] == 6 and isinstance(data["execution_time"], float)
    test = data["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
    assert test["tags"] == ["svm_loss_naive"] and test["status"] == "passed" and test["visibility"] == "visible"


def test_check_exits_1_when_a_case_fails(tmp_path):
    sub = make_submission(tmp_path / "s", [(LC, "    dW /= num_train\n", "")])
    done = run("check", str(sub), "--only", "svm_loss_naive")
    assert done.returncode == 1
    assert "FAIL svm_loss_naive" in done.stdout and "Likely cause" in done.stdout


def _children_running(parent: int, marker: str) -> list:
    """Live processes started by ``parent`` whose command line holds ``marker``."""
    found = []
    for pid in processes_with(marker, "cmdline"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(pid)
        except (OSError, ValueError):
            continue
    return found


def test_a_zygote_started_early_ends_with_a_failed_command(tmp_path):
    """check starts the zygote before its own torch import; when the command stops at its
    arguments, that zygote goes away by itself. (The zygote does not inherit the command's
    environment: it is found as the command's child running grader.student_side.zygote.)"""
    import time

    command = subprocess.Popen([sys.executable, "-m", "grader", "check", str(tmp_path / "missing")], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    zygotes = set()
    while command.poll() is None:
        zygotes.update(_children_running(command.pid, "grader.student_side.zygote"))
        time.sleep(0.05)
    assert command.returncode == 2 and "does not exist" in command.stdout.read()
    assert zygotes
    end = time.monotonic() + 30
    while any(alive(pid) for pid in zygotes) and time.monotonic() < end:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in zygotes)


@pytest.mark.parametrize("args,words", [
    (["check", "/no/such/folder"], "does not exist"),
    (["check", "--only", "nn_magic"], "unknown function(s) nn_magic"),
    (["check", "--bogus"], "unrecognized arguments"),
])
def test_usage_errors_exit_2_without_a_traceback(args, words):
    done = run(*args)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr


def test_cuda_request_without_a_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    done = run("check", "--device", "cuda", "--only", "nn_predict")
    assert done.returncode == 2 and "sees no CUDA device" in done.stderr


def test_fixtures_rebuild_bit_for_bit():
    from grader.instructor import fixtures_build

    assert fixtures_build.verify() == []


def test_points_add_up_to_100():
    from grader.catalogue import all_cases

    assert sum(c.points for c in all_cases()) == 100


def test_notebook_api_renders_html_and_text():
    import grader

    report = grader.check("nn_forward_pass")
    assert report.score == report.max_score == 3
    html = report._repr_html_()
    assert "<table>" in html and "nn_forward_pass" in html
    assert "nn_forward_pass" in str(report) and "Score: 3.00 / 3.00" in str(report)


@pytest.mark.cuda
def test_cuda_grading_on_a_gpu():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    import grader

    report = grader.check(["nn_forward_backward", "softmax_loss_vectorized"], device="cuda", hidden=True)
    assert report.score == report.max_score, report.summary()


BROKEN = "import sys; sys.modules['grader.instructor.{0}'] = None; from grader.cli import main; sys.exit(main({1!r}))"


@pytest.mark.parametrize("module,argv", [("hidden", ["points"]), ("commands", ["points"]),
                                         ("reference", ["check", "--only", "nn_predict", "--hidden"])])
def test_an_instructor_side_that_is_here_but_broken_stops_loudly(module, argv):
    """An ImportError inside the instructor's code (a missing dependency, a bug) is not taken
    for a student handout: no hidden case is dropped silently; the command says what broke."""
    done = subprocess.run([sys.executable, "-c", BROKEN.format(module, argv)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"grader.instructor.{module} does not import" in done.stderr and "Traceback" not in done.stderr


def test_a_broken_evaluation_is_not_taken_for_a_handout(monkeypatch, tmp_path):
    """The best-model evaluation that does not import fails loudly instead of grading shapes only."""
    from grader.catalogue import models
    from grader.mode import InstructorSideBroken

    monkeypatch.setitem(sys.modules, "grader.instructor.evaluate", None)
    with pytest.raises(InstructorSideBroken, match="grader.instructor.evaluate does not import"):
        models.judge_best("svm")(None, {"checkpoint_dirs": [tmp_path], "data_dir": str(tmp_path)}, None, None, "cpu")


def test_a_handout_is_recognised_by_its_missing_instructor_folder(monkeypatch, tmp_path):
    from grader import catalogue, mode

    monkeypatch.setattr(mode, "INSTRUCTOR_DIR", tmp_path / "absent")
    assert mode.instructor_module("hidden") is None and catalogue.hidden_cases() == []


def test_check_survives_a_scratch_folder_left_deep_and_locked_and_leaves_nothing(tmp_path):
    """A submission that leaves folders 2000 deep and without permissions in its scratch folder
    costs its own case; check still reports (exit 1) and its grading folder is gone."""
    from hostile_corpus import _in_predict

    make_submission(tmp_path / "s", _in_predict(
        "    import os\n    os.makedirs('a/b/c')\n    os.chmod('a/b/c', 0)\n    os.chmod('a/b', 0o500)\n"
        "    os.chmod('a', 0)\n    for _ in range(2000):\n        os.mkdir('d')\n        os.chdir('d')"))
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(tmp_path / "s"), "--only",
                           "predict_linear_classifier", "nn_predict"], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TMPDIR": str(temp)})
    assert done.returncode == 1, done.stderr[-2000:]
    assert "its scratch folder held folders nested more than 32 deep" in done.stdout and "Traceback" not in done.stderr
    assert list(temp.iterdir()) == []
