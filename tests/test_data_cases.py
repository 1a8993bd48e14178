"""The cases graded on CIFAR-10, graded for real: A3's overfitting searches and best models, and
A2's best models, through ``python -m grader check --data-dir`` on a small CIFAR-10 folder in
the genuine on-disk format (``tests/cifar_files.py``: the kit's torchvision loader reads it as
it reads the release; ``A2_DATA_VERIFY=0`` lets it past the release's MD5 sums). The kit's
solution earns every one of them; a search left at the template's values, one that does not
overfit, a checkpoint missing, untrained or not a network lose theirs, each saying why; with
the MD5 check on, the same files are "not graded", with the reason for whoever runs the grader.
Checkpoints are loaded bounded and with ``weights_only``."""
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cifar_files import write_cifar10

REPO = Path(__file__).resolve().parents[1]
A3_DATA_CASES = {"get_three_layer_network_params", "get_five_layer_network_params", "best_models"}


def check(*args, verify=False, cwd=REPO, timeout=600):
    """``python -m grader check ARGS --json results.json`` -> (process, {test name: test})."""
    out = Path(args[args.index("--data-dir") + 1]).parent / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("A2_DATA_VERIFY", "A2_DATA_DIR")}
    if not verify:
        env["A2_DATA_VERIFY"] = "0"
    done = subprocess.run([sys.executable, "-m", "grader", "check", *args, "--json", str(out)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]} if out.is_file() else {}
    out.unlink(missing_ok=True)
    return done, tests


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar") / "data"
    write_cifar10(root)
    return root


def _cifar(root, **options):
    import helpers

    return helpers.preprocess_cifar10(show_examples=False, root=root, download=False, verify=False, **options)


# ------------------------------------------------------------------ A3


def _a3_solution():
    from grader.assignments.a3.instructor.reference import load_reference

    return load_reference()


@pytest.fixture(scope="module")
def a3_checkpoints(data_root, tmp_path_factory):
    """The notebook's two checkpoints, trained by the kit's solution and Solver on the data:
    the two-layer net on the training split, the five-layer net overfitting 50 samples."""
    from helpers.solver import Solver

    ref, data = _a3_solution(), _cifar(data_root)
    folder = tmp_path_factory.mktemp("a3_checkpoints")
    torch.manual_seed(0)
    two = ref.TwoLayerNet(hidden_dim=50, weight_scale=1e-2, reg=1e-3)
    Solver(two, data, update_rule=ref.adam, optim_config={"learning_rate": 1e-3}, num_epochs=10, batch_size=40,
           verbose=False).train()
    two.save(str(folder / "best_two_layer_net.pth"))
    torch.manual_seed(0)
    five = ref.FullyConnectedNet([100] * 4, weight_scale=1e-1, dtype=torch.float32)
    small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50], "X_val": data["X_val"],
             "y_val": data["y_val"]}
    # the parameters after the last epoch (overfit for several epochs by then), not the best on validation
    Solver(five, small, optim_config={"learning_rate": 2e-1}, num_epochs=20, batch_size=25, verbose=False).train(
        return_best_params=False)
    five.save(str(folder / "best_overfit_five_layer_net.pth"))
    return folder


def _a3_submission(root: Path, checkpoints: Path, edits=(), files=None) -> Path:
    source = (REPO / "a3" / "fully_connected_networks.py").read_text()
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    (root / "a3").mkdir(parents=True)
    (root / "a3" / "fully_connected_networks.py").write_text(source)
    for name in files if files is not None else ("best_two_layer_net.pth", "best_overfit_five_layer_net.pth"):
        shutil.copy(checkpoints / name, root / name)
    return root


def _data_tests(tests):
    return {name: t for name, t in tests.items() if t["tags"][0] in A3_DATA_CASES}


def test_the_a3_solution_earns_the_cifar10_cases(tmp_path, data_root, a3_checkpoints):
    sub = _a3_submission(tmp_path / "sub", a3_checkpoints)
    done, tests = check("--assignment", "a3", "--hidden", "--data-dir", str(data_root), str(sub))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = _data_tests(tests)
    assert len(data) == 4 and all(t["status"] == "passed" and t["score"] == t["max_score"] > 0
                                  for t in data.values()), data
    assert "validation accuracy" in tests["best_models: best_two_layer_net.pth (needs CIFAR-10)"]["output"]
    assert all(t["status"] == "passed" for t in tests.values()), [n for n, t in tests.items() if t["status"] != "passed"]


# (what is changed, the case that loses its points, words of its message)
A3_BROKEN = [
    (("    weight_scale = 1e-1\n    learning_rate = 1e-1\n", "    weight_scale = 1e-1\n    learning_rate = 1e-7\n"),
     "get_three_layer_network_params", "training accuracy on the 50 samples within 20 epochs, not 100%"),
    (("    learning_rate = 2e-1\n    weight_scale = 1e-1\n", "    learning_rate = 2e-3\n    weight_scale = 1e-5\n"),
     "get_five_layer_network_params", "template's starting values"),
]


def test_a_broken_a3_submission_loses_the_cifar10_cases_saying_why(tmp_path, data_root, a3_checkpoints):
    """Searches that do not overfit (one left at the template's values), the two-layer net's
    checkpoint missing and the five-layer one untrained: each of the four cases fails, saying
    why, and nothing else does."""
    ref = _a3_solution()
    torch.manual_seed(0)
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    ref.FullyConnectedNet([100] * 4, weight_scale=1e-1, dtype=torch.float32).save(
        str(untrained / "best_overfit_five_layer_net.pth"))
    sub = _a3_submission(tmp_path / "sub", untrained, [edit for edit, _, _ in A3_BROKEN],
                         files=("best_overfit_five_layer_net.pth",))
    done, tests = check("--assignment", "a3", "--data-dir", str(data_root), str(sub))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    failed = {name: t["output"] for name, t in tests.items() if t["status"] != "passed"}
    assert set(failed) == set(_data_tests(tests)), failed
    by_check = {name.split(":")[0]: output for name, output in failed.items() if not name.startswith("best_models")}
    for _, check_name, words in A3_BROKEN:
        assert words in by_check[check_name], by_check[check_name]
    assert "not submitted" in failed["best_models: best_two_layer_net.pth (needs CIFAR-10)"]
    five = failed["best_models: best_overfit_five_layer_net.pth (needs CIFAR-10)"]
    assert "training accuracy" in five and "below the notebook's target of 100%" in five


def test_with_the_md5_check_on_the_cifar10_cases_are_not_graded(tmp_path, data_root, a3_checkpoints):
    """The same files are not the release: with the MD5 check (the default) they are refused,
    and the cases that need them are "not graded" (left out of the maximum), never failed; why
    is said once, for whoever runs the grader."""
    sub = _a3_submission(tmp_path / "sub", a3_checkpoints)
    done, tests = check("--assignment", "a3", "--only", "get_three_layer_network_params", "best_models",
                        "--data-dir", str(data_root), str(sub), verify=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    graded = [t for t in tests.values() if t["tags"] != ["setup"]]
    assert len(graded) == 3 and all(t["output"].startswith("not graded:") and t["max_score"] == 0 for t in graded)
    assert "incomplete or corrupted" in tests["autograder set-up (course staff only)"]["output"]
    assert done.stdout.count("incomplete or corrupted") == 1


def _best_models_judge(name):
    from grader.assignments.a3.catalogue.cases import CASES

    case = next(c for c in CASES if c.function == "best_models" and c.params["file"] == name)
    return lambda folder, data_root: case.judge(case, {"checkpoint_dirs": [folder], "data_dir": str(data_root)},
                                                None, None, "cpu")


class NotWeights:  # an object torch.load with weights_only refuses to build
    def __reduce__(self):
        return (print, ("built",))


def test_a3_checkpoints_are_loaded_bounded_and_as_weights_only(tmp_path, data_root, monkeypatch):
    from hostile_corpus import checkpoint_bomb

    monkeypatch.setenv("A2_DATA_VERIFY", "0")
    judge = _best_models_judge("best_two_layer_net.pth")
    name = "best_two_layer_net.pth"
    checkpoint_bomb(tmp_path, tmp_path)  # 130 KB that unpacks to 128 MiB
    bomb = tmp_path / "bomb"
    (bomb / "nn_best_model.pt").rename(bomb / name)
    verdicts = {"bomb": judge(bomb, data_root)}
    for label, write in [
        ("legacy", lambda p: torch.save({"params": {}}, p, _use_new_zipfile_serialization=False)),
        ("object", lambda p: torch.save({"params": NotWeights()}, p)),
        ("big", lambda p: p.write_bytes(bytes((64 << 20) + 1))),
        ("shapes", lambda p: torch.save({"reg": 0.0, "params": {"W1": torch.zeros(3072, 20), "b1": torch.zeros(20),
                                                               "W2": torch.zeros(30, 10), "b2": torch.zeros(10)}}, p)),
        ("depth", lambda p: torch.save({"params": {f"{k}{i}": torch.zeros(1) for i in (1, 2, 3) for k in "Wb"}}, p)),
    ]:
        (tmp_path / label).mkdir()
        write(tmp_path / label / name)
        verdicts[label] = judge(tmp_path / label, data_root)
    expected = {"bomb": "unpacks to more than 64 MiB", "legacy": "not in torch.save's format",
                "object": "does not load with torch.load", "big": "larger than 64 MiB",
                "shapes": "W2 has shape (30, 10)", "depth": "2 linear layers"}
    for label, words in expected.items():
        assert verdicts[label].status == "failed" and words in verdicts[label].message, (label, verdicts[label])


def test_in_a_handout_a3_checkpoints_are_checked_not_evaluated(tmp_path, data_root, a3_checkpoints, monkeypatch):
    """Without the instructor's side (a student's own check) a checkpoint is loaded and checked
    to be the network the notebook saves; its accuracy is the course staff's to evaluate."""
    from grader import mode

    monkeypatch.setattr(mode, "INSTRUCTOR_DIR", tmp_path / "absent")
    monkeypatch.setattr(mode, "UNITS_DIR", tmp_path / "absent")
    judge = _best_models_judge("best_overfit_five_layer_net.pth")
    found = judge(a3_checkpoints, data_root)
    assert found.status == "not graded" and "loads and is the network the notebook saves" in found.message
    missing = judge(tmp_path, data_root)
    assert missing.status == "not graded" and "was not found" in missing.message
    (tmp_path / "wrong").mkdir()
    torch.save({"W": torch.zeros(3073, 10)}, tmp_path / "wrong" / "best_overfit_five_layer_net.pth")
    assert judge(tmp_path / "wrong", data_root).status == "failed"


# ------------------------------------------------------------------ A2


@pytest.fixture(scope="module")
def a2_checkpoints(data_root, tmp_path_factory):
    """The three best models, trained by the kit's A2 solution on the data."""
    from grader.assignments.a2.instructor.reference import load_reference

    ref = load_reference()
    lc, tln = ref.lc, ref.tln
    folder = tmp_path_factory.mktemp("a2_checkpoints")
    linear = _cifar(data_root, bias_trick=True)
    for kind, cls in (("svm", lc.LinearSVM), ("softmax", lc.Softmax)):
        torch.manual_seed(0)
        model = cls()
        model.train(linear["X_train"], linear["y_train"], learning_rate=1e-2, reg=1e-4, num_iters=200,
                    batch_size=40)
        model.save(str(folder / f"{kind}_best_model.pt"))
    data = _cifar(data_root)
    net = tln.TwoLayerNet(3072, 50, 10, std=1e-2)
    net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], learning_rate=1e-1, num_iters=200,
              batch_size=40)
    net.save(str(folder / "nn_best_model.pt"))
    return folder


def _a2_submission(root: Path, checkpoints: Path, files) -> Path:
    shutil.copytree(REPO / "a2", root / "a2", ignore=shutil.ignore_patterns("__pycache__"))
    for name in files:
        shutil.copy(checkpoints / name, root / name)
    return root


def test_the_a2_solution_earns_the_best_model_cases(tmp_path, data_root, a2_checkpoints):
    files = ("svm_best_model.pt", "softmax_best_model.pt", "nn_best_model.pt")
    sub = _a2_submission(tmp_path / "sub", a2_checkpoints, files)
    done, tests = check("--assignment", "a2", "--only", "best_models", "--data-dir", str(data_root), str(sub))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(tests) == 3 and all(t["status"] == "passed" and t["score"] == t["max_score"] == 5
                                   for t in tests.values()), tests
    assert all("test accuracy" in t["output"] for t in tests.values())


def test_a2_best_models_untrained_or_missing_lose_their_points(tmp_path, data_root, a2_checkpoints):
    (tmp_path / "zero").mkdir()
    torch.save({"W": torch.zeros(3073, 10)}, tmp_path / "zero" / "svm_best_model.pt")  # every score 0: class 0
    sub = _a2_submission(tmp_path / "sub", a2_checkpoints, ("softmax_best_model.pt",))
    shutil.copy(tmp_path / "zero" / "svm_best_model.pt", sub / "svm_best_model.pt")
    done, tests = check("--assignment", "a2", "--only", "best_models", "--data-dir", str(data_root), str(sub))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    status = {name.split(":")[1].strip().split(" ")[0]: t for name, t in tests.items()}
    assert status["svm_best_model.pt"]["status"] == "failed" and "below the target of 35%" in status[
        "svm_best_model.pt"]["output"]
    assert status["softmax_best_model.pt"]["status"] == "passed"
    assert status["nn_best_model.pt"]["status"] == "failed" and "not submitted" in status["nn_best_model.pt"]["output"]


def test_the_files_are_the_genuine_format(data_root):
    """What the tests write is what the release holds: Python 2 str keys, uint8 rows of 3072."""
    folder = data_root / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == ["batches.meta", "data_batch_1", "data_batch_2",
                                                         "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
    with open(folder / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype.name == "uint8" and batch[b"data"].shape == (40, 3072) and len(batch[b"labels"]) == 40
    with open(folder / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="latin1")["label_names"][0] == "airplane"
