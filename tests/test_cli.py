"""python -m grader: exit codes, the printed table, Gradescope JSON, fixtures and the notebook API."""
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from processes import alive, processes_with
from submissions import LC, make_submission

REPO = Path(__file__).resolve().parents[1]


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_check_on_the_solution_exits_0_and_writes_gradescope_json(tmp_path):
    out = tmp_path / "results.json"
    done = run("check", "--assignment", "a2", "--only", "svm_loss_naive", "nn_predict", "--json", str(out))
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
    """A rebuild on this machine matches the stored fixtures: bit for bit where this CPU rounds
    as the one that built them, within the tolerance table where its kernels round differently."""
    from grader.instructor import fixtures_build

    found = fixtures_build.verify()
    assert found.problems == [], "\n".join(found.problems)
    assert found.compared > 400  # every stored tensor and float was looked at


def _fixture_tensors(fixtures, dtype):
    """(dict, key, path as verify names it) of every stored tensor of ``dtype`` held in a dict."""
    found = []

    def walk(obj, path):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
        for key, value in sorted(items, key=lambda kv: str(kv[0])):
            where = f"{path}['{key}']" if isinstance(obj, dict) else f"{path}[{key}]"
            if isinstance(value, torch.Tensor):
                if isinstance(obj, dict) and value.dtype == dtype and value.numel() > 1:
                    found.append((obj, key, where))
            else:
                walk(value, where)

    for check in sorted(fixtures):
        walk(fixtures[check], check)
    return found


def _rebuilt(edit):
    """A copy of the stored fixtures, as a rebuild elsewhere could give them, edited by ``edit``."""
    import copy

    from grader.fixtures import load

    fresh = copy.deepcopy(load())
    edit(fresh)
    return fresh


def _last_bits(fresh):
    """Another CPU's rounding: one float64 and one float32 entry moved by one or two ulps."""
    for dtype, steps in ((torch.float64, 2), (torch.float32, 1)):
        holder, key, _ = _fixture_tensors(fresh, dtype)[-1]
        for _ in range(steps):
            holder[key] = torch.nextafter(holder[key], torch.full_like(holder[key], float("inf")))


def test_fixtures_verify_accepts_and_names_last_bit_rounding(monkeypatch, capsys):
    from grader.fixtures import load
    from grader.instructor import commands, fixtures_build

    found = fixtures_build.compare_fixtures(load(), _rebuilt(_last_bits))
    assert found.problems == []
    named = sorted(_fixture_tensors(load(), dtype)[-1][2] for dtype in (torch.float64, torch.float32))
    assert len(found.rounded) == 2
    for path, line in zip(named, sorted(found.rounded)):
        assert line.startswith(f"{path}: float rounding, within tolerance"), line

    monkeypatch.setattr(fixtures_build, "compute", lambda cases, assignment=None: _rebuilt(_last_bits))
    assert commands.cmd_fixtures(SimpleNamespace(action="verify", assignment="a2")) == 0
    out = capsys.readouterr().out
    assert "2 of " in out and "not bit-identical" in out and "match a rebuild within the tolerance table" in out


def _scaled(fresh):
    holder, key, _ = _fixture_tensors(fresh, torch.float64)[-1]
    holder[key] = holder[key] * (1 + 1e-5)


def _label(fresh):
    holder, key, _ = _fixture_tensors(fresh, torch.int64)[-1]
    holder[key] = holder[key].flip(0) + 1


def _reshaped(fresh):
    holder, key, _ = _fixture_tensors(fresh, torch.float32)[-1]
    holder[key] = holder[key].reshape(-1)[:-1]


def _retyped(fresh):
    holder, key, _ = _fixture_tensors(fresh, torch.float64)[-1]
    holder[key] = holder[key].float()


def _nan(fresh):
    holder, key, _ = _fixture_tensors(fresh, torch.float64)[-1]
    holder[key] = holder[key].clone()
    holder[key].view(-1)[0] = float("nan")


def _dropped(fresh):
    check = sorted(fresh)[0]
    del fresh[check][sorted(fresh[check])[0]]


@pytest.mark.parametrize("edit, words", [(_scaled, "values are not close"), (_label, "must match exactly"),
                                         (_reshaped, "shape"), (_retyped, "dtype"), (_nan, "inf or nan"),
                                         (_dropped, "keys")])
def test_fixtures_verify_refuses_a_real_change(edit, words, monkeypatch, capsys):
    from grader.fixtures import load
    from grader.instructor import commands, fixtures_build

    found = fixtures_build.compare_fixtures(load(), _rebuilt(edit))
    assert len(found.problems) == 1 and words in found.problems[0], found.problems
    monkeypatch.setattr(fixtures_build, "compute", lambda cases, assignment=None: _rebuilt(edit))
    assert commands.cmd_fixtures(SimpleNamespace(action="verify")) == 1
    assert words in capsys.readouterr().out


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


def test_missing_cifar10_is_said_once_and_not_in_student_feedback(tmp_path):
    """Without CIFAR-10 each best-model case says so in a line; where the data is expected and
    how to get it is one note for whoever runs the grader, kept out of the student's feedback."""
    from grader.instructor.feedback import feedback_markdown
    from grader.runner import grade

    nodata = tmp_path / "nodata"
    done = run("check", "--assignment", "a2", "--only", "best_models", "--data-dir", str(nodata))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("CIFAR-10 is not on the grading machine") == 3
    assert done.stdout.count("On a machine with internet") == 1 and done.stdout.count(str(nodata)) >= 1
    report = grade(None, functions=["best_models"], data_dir=nodata)
    assert len(report.setup_notes) == 1 and str(nodata) in report.setup_notes[0]
    feedback = feedback_markdown("s1", report)
    assert "CIFAR-10 is not on the grading machine" in feedback and str(nodata) not in feedback
    assert "On a machine with internet" not in feedback


def test_fixtures_verify_judges_python_numbers_by_the_dtype_they_came_from():
    """A float32 result's .item() (a loss history) may move by float32's rounding on another CPU;
    a number float32 cannot hold keeps float64's row."""
    from grader.instructor import fixtures_build

    f32 = torch.tensor([0.5123], dtype=torch.float32)
    moved = f32.clone()
    for _ in range(100):  # a float32 training's drift: about 3e-6
        moved = torch.nextafter(moved, torch.ones_like(moved))
    stored = {"f": {"case": {"loss_history": [f32.item()], "acc": 0.1}}}
    drifted = {"f": {"case": {"loss_history": [moved.item()], "acc": 0.1}}}
    found = fixtures_build.compare_fixtures(stored, drifted)
    assert found.problems == [] and len(found.rounded) == 1 and "['loss_history'][0]" in found.rounded[0]
    changed = {"f": {"case": {"loss_history": [f32.item()], "acc": 0.1 + 3e-6}}}
    found = fixtures_build.compare_fixtures(stored, changed)
    assert len(found.problems) == 1 and "['acc']: 0.1 stored" in found.problems[0]


BROKEN = "import sys; sys.modules['{0}'] = None; from grader.cli import main; sys.exit(main({1!r}))"


@pytest.mark.parametrize("module,argv", [("grader.assignments.a2.instructor.hidden", ["points"]),
                                         ("grader.instructor.commands", ["points"]),
                                         ("grader.assignments.a2.instructor.reference",
                                          ["check", "--only", "nn_predict", "--hidden"])])
def test_an_instructor_side_that_is_here_but_broken_stops_loudly(module, argv):
    """An ImportError inside the instructor's code (a missing dependency, a bug) is not taken
    for a student handout: no hidden case is dropped silently; the command says what broke."""
    done = subprocess.run([sys.executable, "-c", BROKEN.format(module, argv)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"{module} does not import" in done.stderr and "Traceback" not in done.stderr


def test_a_broken_evaluation_is_not_taken_for_a_handout(monkeypatch, tmp_path):
    """The best-model evaluation that does not import fails loudly instead of grading shapes only."""
    from grader.assignments.a2.catalogue import models
    from grader.mode import InstructorSideBroken

    monkeypatch.setitem(sys.modules, "grader.assignments.a2.instructor.evaluate", None)
    with pytest.raises(InstructorSideBroken, match="grader.assignments.a2.instructor.evaluate does not import"):
        models.judge_best("svm")(None, {"checkpoint_dirs": [tmp_path], "data_dir": str(tmp_path)}, None, None, "cpu")


def test_a_handout_is_recognised_by_its_missing_instructor_folder(monkeypatch, tmp_path):
    from grader import catalogue, mode

    monkeypatch.setattr(mode, "INSTRUCTOR_DIR", tmp_path / "absent")
    monkeypatch.setattr(mode, "UNITS_DIR", tmp_path / "absent")
    assert mode.instructor_module("commands") is None and mode.instructor_module("hidden", "a2") is None
    assert catalogue.hidden_cases() == []


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
