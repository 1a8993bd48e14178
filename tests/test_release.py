"""grader/instructor/release.py: the student handout holds no solution, no hidden case and no
instructor code, installs in a fresh environment, grades stubs as 'not implemented yet', and
full marks once solved."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from grader.instructor.release import ReleaseError, release
from grader.instructor.stubs import solution_lines

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return release(tmp_path_factory.mktemp("rel") / "handout")


@pytest.fixture(scope="module")
def a3_handout(tmp_path_factory):
    """``release --assignment a3``: Assignment 3 alone."""
    return release(tmp_path_factory.mktemp("rel3") / "handout", assignment="a3")


def _tree_text(root: Path):
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".md", ".ipynb", ".toml", ".json"):
            yield path, path.read_text()


def test_handout_has_the_expected_layout(handout):
    for rel in ("a2/linear_classifier.py", "a2/two_layer_net.py", "a3/__init__.py", "a3/fully_connected_networks.py",
                "helpers/data.py", "helpers/losses.py", "grader/cli.py",
                "grader/student_side/serve.py", "grader/assignments/a2/fixtures/manifest.json",
                "notebooks/linear_classifier.ipynb",
                "README.md", "pyproject.toml"):
        assert (handout / rel).is_file(), rel
    assert not (handout / "tests").exists() and not (handout / "bench").exists()
    assert not (handout / "grader" / "instructor").exists()
    # nor any assignment's instructor side
    assert not [p for p in (handout / "grader").rglob("*") if p.name == "instructor"]


def test_a3_handout_holds_a3_alone(a3_handout):
    """Its folder as stubs, its unit without instructor/, its notebook, the engine's shipped side,
    its own README; nothing of A2 (folder, unit, notebooks, README)."""
    for rel in ("a3/__init__.py", "a3/fully_connected_networks.py", "helpers/solver.py", "grader/cli.py",
                "grader/student_side/serve.py", "grader/assignments/a3/fixtures/manifest.json",
                "grader/assignments/a3/fixtures/Linear.forward.pt", "grader/assignments/a3/student_side/probes.py",
                "notebooks/fully_connected_networks.ipynb", "README.md", "pyproject.toml"):
        assert (a3_handout / rel).is_file(), rel
    assert sorted(p.name for p in (a3_handout / "notebooks").iterdir()) == ["fully_connected_networks.ipynb"]
    assert not (a3_handout / "a2").exists() and not (a3_handout / "grader" / "assignments" / "a2").exists()
    assert not [p for p in (a3_handout / "grader").rglob("*") if p.name == "instructor"]
    readme = (a3_handout / "README.md").read_text()
    assert readme.startswith("# Assignment 3") and "make_a3_submission" in readme and "Linear.forward" in readme
    assert "a2/" not in readme and "make_a2_submission" not in readme
    stub = (a3_handout / "a3" / "fully_connected_networks.py").read_text()
    assert stub.count("NotImplementedError") >= 15 and "def adam(" in stub


def test_a_handout_of_every_assignment_has_each_readme_once(handout):
    readme = (handout / "README.md").read_text()
    assert readme.count("make_a2_submission") >= 1 and readme.count("make_a3_submission") >= 1
    titles = [line for line in readme.splitlines() if line.startswith("## Assignment")]
    assert len(titles) == 2 and readme.startswith("# ") and readme.count("\n# ") == 0


@pytest.mark.parametrize("which", ["handout", "a3_handout"])
def test_handout_contains_no_solution_line_no_hidden_case_and_no_derivation(which, request):
    handout = request.getfixturevalue(which)
    shipped = [p for folder in ("grader", "helpers", "notebooks") for p in (REPO / folder).rglob("*.py")
               if "instructor" not in p.parts]
    non_solution = "\n".join(p.read_text() for p in shipped)
    secrets = set()
    for rel in ("a2/linear_classifier.py", "a2/two_layer_net.py", "a3/fully_connected_networks.py"):
        secrets |= {line for line in solution_lines((REPO / rel).read_text())
                    if line not in non_solution}  # lines the kit's own code happens to share are not secrets
    hidden_names = set()
    for unit in ("a2", "a3"):
        hidden_text = (REPO / "grader" / "assignments" / unit / "instructor" / "hidden.py").read_text()
        hidden_names |= set(re.findall(r'"(hidden[: ][^"]+)"', hidden_text))
    assert len(secrets) > 100 and len(hidden_names) >= 20
    for path, text in _tree_text(handout):
        lines = {l.strip() for l in text.splitlines()}
        assert not (lines & secrets), (path, sorted(lines & secrets)[:3])
        assert not any(name in text for name in hidden_names), path
        markers = [l for l in text.splitlines() if re.match(r"\s*# (BEGIN|END) SOLUTION", l)]
        assert not markers, path
        # the derived gradients of the two-layer net are the exercise: nowhere in the handout
        assert "h^\\top \\delta" not in text and "hidden.T @ dscores" not in text, path
    for notebook in (handout / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(str(notebook), as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        assert not [c for c in nb.cells if "instructor" in c.metadata.get("tags", [])]
        assert any("Exercise" in c.source for c in nb.cells if c.cell_type == "markdown")


def test_release_refuses_a_non_empty_folder_and_the_repository(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("keep me")
    with pytest.raises(ReleaseError, match="not empty"):
        release(tmp_path / "x")
    assert (tmp_path / "x" / "f").read_text() == "keep me"
    with pytest.raises(ReleaseError, match="inside this repository"):
        release(REPO / "handout")


@pytest.fixture(scope="module")
def venv(tmp_path_factory, handout):
    """A fresh virtual environment for the handout: the installed dependencies are reachable
    (a .pth to this environment's site-packages, whose own .pth files, the kit's editable
    install among them, are not processed), the repository is not."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([str(python), "-c", "import grader"], cwd=root, capture_output=True, text=True)
    assert probe.returncode != 0, "the repository's grader must not be importable from the fresh environment"
    return python


def _check(python, handout):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python), "-m", "grader", "check"], cwd=handout, capture_output=True, text=True,
                          timeout=600, env=env)


def test_handout_check_says_not_implemented_then_full_marks(handout, venv, tmp_path):
    done = _check(venv, handout)
    assert done.returncode == 1, done.stderr
    assert "Score: 0.00 / 58.00" in done.stdout and "Score: 0.00 / 98.00" in done.stdout, done.stdout[-3000:]
    assert "grader error" not in done.stdout.lower() and "Traceback" not in done.stderr
    for function in ("svm_loss_naive", "softmax_loss_vectorized", "nn_forward_pass", "find_best_net"):
        assert f"{function}" in done.stdout
    assert done.stdout.count("not implemented yet") >= 18
    hidden = subprocess.run([str(venv), "-m", "grader", "check", "--hidden"], cwd=handout, capture_output=True, text=True)
    assert hidden.returncode == 2 and "student handout" in hidden.stderr

    solved = tmp_path / "solved"
    shutil.copytree(handout, solved)
    for name in ("linear_classifier.py", "two_layer_net.py"):
        shutil.copyfile(REPO / "a2" / name, solved / "a2" / name)
    done = _check(venv, solved)
    assert done.returncode == 1, done.stdout[-3000:]  # A3's stub is still handed out as it is
    assert "Score: 58.00 / 58.00" in done.stdout and "Score: 0.00 / 98.00" in done.stdout
    shutil.copyfile(REPO / "a3" / "fully_connected_networks.py", solved / "a3" / "fully_connected_networks.py")
    done = _check(venv, solved)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Score: 58.00 / 58.00" in done.stdout and "Score: 93.00 / 93.00" in done.stdout


def test_handout_notebooks_open_and_their_first_cells_run(handout, venv, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    kernels = tmp_path / "jupyter" / "kernels" / "handout"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "handout", "language": "python"}' % venv)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("A2_OFFLINE", "1")
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("linear_classifier.ipynb", "two_layer_net.ipynb"):
        nb = nbformat.read(str(handout / "notebooks" / name), as_version=4)
        nb.cells = nb.cells[:4]  # title, setup, data switch text, data switch
        NotebookClient(nb, timeout=300, kernel_name="handout",
                       resources={"metadata": {"path": str(handout / "notebooks")}}).execute()
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"]
        assert any("Hello from" in o.get("text", "") for o in outputs)


STUDENT_A3 = """
import sys
from pathlib import Path

import grader
import helpers
from a3 import fully_connected_networks as fcn

out = Path(sys.argv[1])
report = grader.check("Linear.backward")  # a method by its dotted name, as the notebook calls it
print("inline", report.assignment, {c.check for c in report.results}, report.score, report.max_score,
      sum(c.name.startswith("hidden") or c.visibility != "public" for c in report.results))
if sys.argv[2] == "solved":
    fcn.TwoLayerNet(hidden_dim=10).save(out / "best_two_layer_net.pth")
    fcn.FullyConnectedNet([10, 10, 10, 10]).save(out / "best_overfit_five_layer_net.pth")
    print("zip", helpers.make_a3_submission(".", "jane", "12345678", checkpoint_dir=out, out_dir=out).name)
"""


def test_a3_handout_works_for_a_student(a3_handout, venv, tmp_path):
    """In A3's handout, in a fresh environment: ``check`` says not implemented; grader.check of a
    method (public cases only); solved, full marks; make_a3_submission's zip graded by ``check``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = _check(venv, a3_handout)
    assert done.returncode == 1, done.stderr
    # (the stub's search functions fail without CIFAR-10: not implemented is known without it)
    assert "Score: 0.00 / 98.00" in done.stdout and "/ 58.00" not in done.stdout, done.stdout[-3000:]
    assert done.stdout.count("not implemented yet") >= 15 and "Traceback" not in done.stderr
    assert "grader error" not in done.stdout.lower()
    (tmp_path / "stub_out").mkdir()
    inline = subprocess.run([str(venv), "-c", STUDENT_A3, str(tmp_path / "stub_out"), "stub"], cwd=a3_handout,
                            capture_output=True, text=True, timeout=600, env=env)
    assert inline.returncode == 0, inline.stderr[-3000:]
    assert "inline a3 {'Linear.backward'} 0.0 8.0 0" in inline.stdout, inline.stdout[-2000:]
    hidden = subprocess.run([str(venv), "-m", "grader", "check", "--hidden"], cwd=a3_handout, capture_output=True,
                            text=True, env=env)
    assert hidden.returncode == 2 and "student handout" in hidden.stderr

    solved = tmp_path / "solved"
    shutil.copytree(a3_handout, solved)
    shutil.copyfile(REPO / "a3" / "fully_connected_networks.py", solved / "a3" / "fully_connected_networks.py")
    done = _check(venv, solved)
    assert done.returncode == 0 and "Score: 93.00 / 93.00" in done.stdout, done.stdout[-3000:]
    out = tmp_path / "out"
    out.mkdir()
    inline = subprocess.run([str(venv), "-c", STUDENT_A3, str(out), "solved"], cwd=solved, capture_output=True,
                            text=True, timeout=600, env=env)
    assert inline.returncode == 0, inline.stderr[-3000:]
    assert "inline a3 {'Linear.backward'} 8.0 8.0 0" in inline.stdout and "zip jane_12345678_A3.zip" in inline.stdout
    graded = subprocess.run([str(venv), "-m", "grader", "check", str(out / "jane_12345678_A3.zip")], cwd=solved,
                            capture_output=True, text=True, timeout=600, env=env)
    assert graded.returncode == 0 and "Score: 93.00 / 93.00" in graded.stdout, graded.stdout[-3000:] + graded.stderr
    # the two models are in the zip, found and loaded; their accuracy needs CIFAR-10
    assert "best_two_layer_net.pth (needs CIFAR-10)" in graded.stdout and "was not found" not in graded.stdout


@pytest.mark.parametrize("unit", ["a2", "a3"])
def test_shipped_fixtures_hold_public_cases_only(unit, handout, a3_handout):
    """The fixtures a handout ships are the public cases' inputs and expected values, case for
    case (the hidden cases' are made by recipes on the grading machine); A3's handout ships A3's."""
    import torch

    from grader.assignment import get

    public = {}
    for case in get(unit).unit("catalogue").public_cases():
        public.setdefault(case.function, set()).add(case.name)
    trees = [handout] + ([a3_handout] if unit == "a3" else [])
    for tree in trees:
        folder = tree / "grader" / "assignments" / unit / "fixtures"
        files = sorted(folder.glob("*.pt"))
        assert len(files) >= 10, folder
        for path in files:
            shipped = set(torch.load(path, map_location="cpu", weights_only=False))
            assert shipped and shipped <= public.get(path.stem, set()), (path.name, shipped - public.get(path.stem, set()))
            assert not any(name.startswith("hidden") for name in shipped), path.name
