"""notebooks/: built from their sources, valid, and executed top to bottom headless (offline
data switch) against the solution with every inline check passing: Assignment 2's two
notebooks (graded inline through grader.check) and Assignment 3's fully_connected_networks
(its own inline checks: relative errors and yes/no properties printed as 'ok', and grader.check
of each part by its dotted name)."""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["linear_classifier.ipynb", "two_layer_net.ipynb"]
A3_NOTEBOOK = "fully_connected_networks.ipynb"
# What the A3 notebook asks students to write, each named where its check is.
A3_PARTS = ["Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward", "TwoLayerNet",
            "create_solver_instance", "FullyConnectedNet", "get_three_layer_network_params",
            "get_five_layer_network_params", "sgd_momentum", "rmsprop", "adam", "Dropout.forward",
            "Dropout.backward"]
A3_FAILED = ("TOO LARGE", "WRONG")  # what the notebook's check() and check_that() print on a failure


def test_notebooks_are_built_from_their_sources_and_valid():
    done = subprocess.run([sys.executable, str(REPO / "notebooks" / "build.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    for name in NOTEBOOKS:
        nb = nbformat.read(str(REPO / "notebooks" / name), as_version=4)
        nbformat.validate(nb)
        assert any("grader.check(" in c.source for c in nb.cells if c.cell_type == "code")
        assert any("$" in c.source for c in nb.cells if c.cell_type == "markdown")  # LaTeX maths


def _reports(nb):
    """(score, max) of every grader report a cell displayed."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            match = re.match(r"<Report .*: ([\d.]+)/([\d.]+)>", text)
            if match:
                found.append((float(match[1]), float(match[2])))
    return found


def test_the_a3_notebook_is_valid_and_asks_for_every_part_with_a_check():
    nb = nbformat.read(str(REPO / "notebooks" / A3_NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "$" in markdown  # LaTeX maths
    missing = [part for part in A3_PARTS if f"**`{part}`**" not in markdown and f"**`{part}`" not in markdown]
    assert not missing, missing
    assert code.count("check(") >= 20 and code.count("check_that(") >= 15
    # the grader checks every graded part inline, by the names the registry knows, right after it
    from grader.assignment import get
    graded = set(get("a3").functions) - {"best_models"}
    named = set(re.findall(r'"([\w.]+)"', " ".join(re.findall(r"grader\.check\(([^)]*)\)", code))))
    assert named - {"a3"} <= graded and graded <= named, (graded - named, named - graded)
    assert 'grader.check(assignment="a3")' in code  # the whole assignment at the end
    # every notebook marks its exercises for students (the handout test demands one)
    assert "**Exercise:**" in markdown
    assert "A3_OFFLINE" in code and "A3_OUTPUT_DIR" in code and "cifar_shape=True" in code
    for checkpoint in ("best_two_layer_net.pth", "best_overfit_five_layer_net.pth"):
        assert f'OUTPUT_DIR / "{checkpoint}"' in code


def _printed(nb):
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")


@pytest.mark.slow
def test_the_a3_notebook_runs_offline_with_every_inline_check_passing(tmp_path, monkeypatch):
    """One thread: the notebook's tensors are small, and extra threads only fight over a busy
    machine's cores (which made it ten times slower)."""
    from nbclient import NotebookClient

    out = tmp_path / "made" / "here"
    monkeypatch.setenv("A3_OFFLINE", "1")
    monkeypatch.setenv("A3_OUTPUT_DIR", str(out))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows the figures
    nb = nbformat.read(str(REPO / "notebooks" / A3_NOTEBOOK), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, [(o["ename"], o["evalue"]) for o in errors]
    text = _printed(nb)
    failed = [line for line in text.splitlines() if any(word in line for word in A3_FAILED)]
    assert not failed, failed
    passed = [line for line in text.splitlines() if line.endswith(" ok") or line.endswith(": ok")]
    assert len(passed) >= 70, len(passed)
    reports = _reports(nb)  # grader.check of each part: full marks on the solution
    # (Linear_ReLU is given, worth no points; without CIFAR-10 the searches are not graded)
    assert len(reports) >= 12 and all(score == top for score, top in reports), reports
    assert sum(top > 0 for _, top in reports) >= 10 and reports[-1][1] >= 90, reports
    assert "(Epoch 20 / 20) train acc:" in text  # the Solver's verbose lines reach the notebook
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # Solver curves, two overfitting runs, rule comparison, dropout
    for checkpoint in ("best_two_layer_net.pth", "best_overfit_five_layer_net.pth"):
        saved = torch.load(out / checkpoint, map_location="cpu", weights_only=True)
        assert set(saved["params"]) >= {"W1", "b1", "W2", "b2"}, checkpoint
    assert len(torch.load(out / "best_overfit_five_layer_net.pth", weights_only=True)["params"]) == 10
    assert (out / "yourname_00000000_A3.zip").exists()


@pytest.mark.slow
def test_both_notebooks_run_offline_in_order_with_every_check_passing(tmp_path, monkeypatch):
    """As a student would: part 1, then part 2, which ends by building the submission zip."""
    from nbclient import NotebookClient

    monkeypatch.setenv("A2_OFFLINE", "1")
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows the figures
    for name in NOTEBOOKS:
        nb = nbformat.read(str(REPO / "notebooks" / name), as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, name
        reports = _reports(nb)
        assert len(reports) >= 5 and all(score == top for score, top in reports), (name, reports)
        images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 3, name  # loss and accuracy curves, weights, search plots
    for checkpoint in ("svm_best_model.pt", "softmax_best_model.pt", "nn_best_model.pt"):
        assert (tmp_path / checkpoint).exists()
    assert (tmp_path / "yourname_00000000_A2.zip").exists()


# A student's vectorized SVM loss with a float64 mask: fine in the course's float64 notebook,
# a crash (mm of float32 and float64) on float32 data.
DOUBLE_MASK_SVM = '''
def svm_loss_double_mask(W, X, y, reg):
    scores = X.mm(W)
    correct = scores[torch.arange(X.shape[0]), y].view(-1, 1)
    margins = (scores - correct + 1).clamp(min=0)
    margins[torch.arange(X.shape[0]), y] = 0
    loss = margins.sum() / X.shape[0] + reg * torch.sum(W * W)
    mask = (margins > 0).double()
    mask[torch.arange(X.shape[0]), y] = -mask.sum(dim=1)
    return loss, X.t().mm(mask) / X.shape[0] + 2 * reg * W

W, history = lc.train_linear_classifier(svm_loss_double_mask, None, data["X_train"], data["y_train"],
                                        num_iters=20, batch_size=50)
print("trained with a float64 mask:", W.dtype, len(history))
'''


def test_notebooks_first_cells_make_the_output_folder_and_load_float64_data(tmp_path, monkeypatch):
    """A2_OUTPUT_DIR that does not exist yet is made; the linear-classifier notebook's data is
    float64 as in the course, so a student's `.double()` mask trains there."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    monkeypatch.setenv("A2_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in NOTEBOOKS:
        out = tmp_path / name / "not" / "there"
        monkeypatch.setenv("A2_OUTPUT_DIR", str(out))
        nb = nbformat.read(str(REPO / "notebooks" / name), as_version=4)
        nb.cells = nb.cells[:4]  # title, setup, data switch text, data switch
        if name == "linear_classifier.ipynb":
            nb.cells.append(new_code_cell(DOUBLE_MASK_SVM))
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], name
        assert out.is_dir(), name
        if name == "linear_classifier.ipynb":
            text = "".join(o.get("text", "") for o in outputs)
            assert all(f"{split}: " in text and re.search(rf"{split}: \(\d+, 65\) torch.float64", text)
                       for split in ("X_train", "X_val", "X_test")), text
            assert "trained with a float64 mask: torch.float64 20" in text, text
