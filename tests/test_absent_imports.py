"""grader/student_side/absent.py: a student file's top-level import of a module this machine
does not have (an editor's stray ``from cv2 import ...``) loads a placeholder instead of
failing the whole file; the course folder imported as a package (``from A3.a3_helper import
softmax_loss``) loads the course helpers. Checked on the placeholders themselves and through
the sandbox, on files of both assignments in both layouts."""
import collections
import importlib.util
import sys
from pathlib import Path

import pytest

from grader.sandbox import _valid_absent
from grader.student_side import absent, eecs598

ROOT = Path(__file__).resolve().parents[1]
# Modules no machine has: what an editor left behind on the student's machine.
STRAY = ("a2kit_absent_vision", "a2kit_absent_graphs")
STRAY_LINES = (f"from {STRAY[0]} import moments, LOCAL_OPTIM\n"
               f"import {STRAY[1]}.algorithms as graphs\n"
               f"import {STRAY[0]}\n")
KIT = ("grader", "a2", "a3", "helpers")


def test_the_stray_modules_really_are_absent():
    for name in STRAY:
        assert importlib.util.find_spec(name) is None, name


def _a3_course(stray="", edit=None) -> str:
    """The kit's A3 solution with the course's imports (and ``stray`` lines before them)."""
    source = (ROOT / "a3" / "fully_connected_networks.py").read_text()
    source = source.replace("import torch\n\nfrom helpers.losses import softmax_loss\nfrom helpers.solver import Solver\n",
                            stray + "import torch\n\nfrom a3_helper import softmax_loss\nfrom eecs598 import Solver\n")
    assert "from a3_helper import softmax_loss" in source
    if edit:
        assert edit[0] in source
        source = source.replace(edit[0], edit[1])
    return source


def _line_of(source: str, text: str) -> int:
    return source[:source.index(text)].count("\n") + 1


def _points(report):
    by = collections.defaultdict(float)
    for r in report.results:
        by[r.check] += r.points
    return by


def _failed(report):
    return [(r.check, r.name, r.message[:300]) for r in report.results if r.status not in ("passed", "not graded")]


# ------------------------------------------------------------------ the placeholders themselves

@pytest.fixture()
def loaded(tmp_path, monkeypatch):
    """Load a file of ``tmp_path`` as the student process does: course helpers installed,
    folder on sys.path, absent imports prepared, then taken out again."""
    for name in list(sys.modules):
        if name.split(".")[0] in eecs598.COURSE_HELPERS:
            monkeypatch.delitem(sys.modules, name)
    eecs598.install()
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(source, name="student_file"):
        (tmp_path / f"{name}.py").write_text(source)
        prepared = absent.prepare(str(tmp_path), [name], KIT)
        try:
            spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            prepared.finish()
        return module, prepared
    return load


def test_a_stray_import_loads_and_any_use_raises_naming_the_module_and_line(loaded):
    module, prepared = loaded("import torch\n" + STRAY_LINES + "def fine(x):\n    return x + 1\n")
    assert module.fine(1) == 2
    assert [(a.module, a.name, a.line) for a in prepared.absent] == [("student_file", STRAY[0], 2),
                                                                      ("student_file", STRAY[1], 3)]
    uses = [lambda: module.moments(1), lambda: module.LOCAL_OPTIM + 1, lambda: 1 + module.LOCAL_OPTIM,
            lambda: bool(module.moments), lambda: list(module.moments), lambda: module.moments.shape,
            lambda: module.moments[0], lambda: float(module.LOCAL_OPTIM), lambda: getattr(module, STRAY[0]).imread,
            lambda: module.graphs.shortest_path, lambda: setattr(module.moments, "x", 1)]
    for use in uses:
        with pytest.raises(ModuleNotFoundError, match=rf"{STRAY[0] if use is not uses[9] else STRAY[1]} is not "
                                                      r"installed on the grading machine: student_file\.py imports "
                                                      rf"it at line {2 if use is not uses[9] else 3}"):
            use()


def test_a_placeholder_reaches_nothing_and_answers_only_what_the_import_machinery_asks(loaded):
    module, _ = loaded(STRAY_LINES)
    placeholder = getattr(module, STRAY[0])
    # Dunder names behave as on any module (hasattr, getattr with a default, the import machinery).
    assert getattr(placeholder, "__wrapped__", None) is None and not hasattr(module.moments, "__wrapped__")
    assert placeholder.__spec__ is None and not hasattr(placeholder, "__file__")
    # Nothing is in it but what the file's own import statements bound.
    names = {k for k in vars(placeholder) if not (k.startswith("__") and k.endswith("__"))}
    assert names == {"moments", "LOCAL_OPTIM"}
    assert "not installed" in repr(module.moments) and module.moments == module.moments
    # And it lives in sys.modules only while the file loads: a later import finds it absent.
    for name in STRAY:
        assert not any(k.split(".")[0] == name for k in sys.modules)
        with pytest.raises(ModuleNotFoundError, match="No module named"):
            importlib.import_module(name)


def test_no_placeholder_for_an_installed_module_the_standard_library_the_kit_or_the_students_own_file(
        loaded, tmp_path, monkeypatch):
    (tmp_path / "own_helpers.py").write_text("VALUE = 3\n")
    source = ("import torch\nimport json\nfrom own_helpers import VALUE\nimport eecs598\nfrom a3_helper import softmax_loss\n"
              "def answer():\n    return VALUE\n")
    module, prepared = loaded(source)
    assert prepared.absent == [] and prepared.tops == () and module.answer() == 3
    assert module.torch is sys.modules["torch"] and module.json is sys.modules["json"]
    # Even where this process could not find them (a worker that may not read the kit's folders),
    # the kit's packages and the standard library's names never get one; their import fails as it did.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    for name in KIT + ("tkinter", "turtle", "json"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        (tmp_path / "kit_import.py").write_text(f"import {name}\n")
        prepared = absent.prepare(str(tmp_path), ["kit_import"], KIT)
        assert prepared.absent == [] and prepared.tops == () and name not in sys.modules, name


def test_the_course_folder_imported_as_a_package_loads_the_course_helpers(loaded, tmp_path):
    """``from A3.a3_helper import softmax_loss``: the student's Colab folder was the package A3."""
    import helpers.losses
    import helpers.solver

    (tmp_path / "linear_classifier.py").write_text("def sample_batch():\n    return 'own'\n")
    module, prepared = loaded("from A3.a3_helper import softmax_loss, svm_loss\nimport A3.eecs598\n"
                              "from A3.eecs598.solver import Solver\nfrom A3 import a3_helper as h\n"
                              "from A3.linear_classifier import sample_batch\n")
    assert prepared.absent == [] and prepared.tops == ("A3",)
    assert module.softmax_loss is helpers.losses.softmax_loss and module.svm_loss is helpers.losses.svm_loss
    assert module.Solver is helpers.solver.Solver and module.A3.eecs598.Solver is helpers.solver.Solver
    assert module.h.softmax_loss is helpers.losses.softmax_loss and module.sample_batch() == "own"
    assert not any(k.split(".")[0] == "A3" for k in sys.modules)


def test_a_package_prefix_that_names_anything_else_is_a_placeholder(loaded):
    module, prepared = loaded("import A3\nfrom A3.a3_helper import softmax_loss\n")
    assert [(a.name, a.line) for a in prepared.absent] == [("A3", 1)]
    with pytest.raises(ModuleNotFoundError, match="A3 is not installed"):
        module.A3.anything  # noqa: B018


def test_the_grader_keeps_only_well_formed_absent_reports():
    """The hello can be forged: entries are kept only where each field is what it says."""
    modules = ("fully_connected_networks",)
    forged = [["fully_connected_networks", "cv2", 9], ["other", "cv2", 1], ["fully_connected_networks", "\x1b[2J", 1],
              ["fully_connected_networks", "cv2", "9"], ["fully_connected_networks", "cv2", True],
              ["fully_connected_networks", "a" * 200, 1], "cv2", ["fully_connected_networks", "cv2", 0]]
    assert _valid_absent(forged, modules) == [("fully_connected_networks", "cv2", 9)]
    assert _valid_absent({"x": 1}, modules) == [] and len(_valid_absent([forged[0]] * 50, modules)) == 20


# ------------------------------------------------------------------ through the sandbox

@pytest.fixture(scope="module")
def a3_clean(tmp_path_factory, zygote):
    from grader.runner import grade

    folder = tmp_path_factory.mktemp("clean")
    (folder / "fully_connected_networks.py").write_text(_a3_course())
    return grade(folder, hidden=True, zygote=zygote, assignment="a3")


def test_an_a3_course_file_with_stray_imports_keeps_full_marks(tmp_path, grade_with, a3_clean):
    source = _a3_course(STRAY_LINES)
    (tmp_path / "fully_connected_networks.py").write_text(source)
    report = grade_with(tmp_path, assignment="a3")
    assert not _failed(a3_clean) and not _failed(report)
    assert _points(report) == _points(a3_clean) and report.score == a3_clean.score > 0
    line = _line_of(source, f"from {STRAY[0]}")
    notes = [n for n in report.notes if "which the grader does not have" in n]
    assert notes == [f"fully_connected_networks.py imports {STRAY[0]} (line {line}), which the grader does not have: "
                     f"loaded without it; a graded function that uses {STRAY[0]} fails",
                     f"fully_connected_networks.py imports {STRAY[1]} (line {line + 1}), which the grader does not "
                     f"have: loaded without it; a graded function that uses {STRAY[1]} fails"]


def test_a_graded_function_that_uses_the_absent_module_fails_alone_with_a_clear_message(tmp_path, grade_with, a3_clean):
    source = _a3_course(STRAY_LINES, ("def adam(w, dw, config=None):\n", "def adam(w, dw, config=None):\n    moments(dw)\n"))
    (tmp_path / "fully_connected_networks.py").write_text(source)
    report = grade_with(tmp_path, assignment="a3")
    got, right = _points(report), _points(a3_clean)
    assert {c for c in right if got[c] < right[c]} == {"adam"} and got["adam"] == 0
    line = _line_of(source, f"from {STRAY[0]}")
    for r in report.results:
        if r.check == "adam" and r.max_points:
            assert (f"{STRAY[0]} is not installed on the grading machine: fully_connected_networks.py imports it at "
                    f"line {line}") in r.message, r.message


def test_the_course_folder_as_a_package_grades_at_full_marks(tmp_path, grade_with, a3_clean):
    source = _a3_course().replace("from a3_helper import softmax_loss\nfrom eecs598 import Solver\n",
                                  "from A3.a3_helper import softmax_loss\nfrom A3.eecs598 import Solver\n")
    (tmp_path / "fully_connected_networks.py").write_text(source)
    report = grade_with(tmp_path, assignment="a3")
    assert not _failed(report) and _points(report) == _points(a3_clean)
    assert not [n for n in report.notes if "does not have" in n or "could not be loaded" in n]


def test_an_a3_kit_layout_file_with_stray_imports_keeps_full_marks(tmp_path, grade_with, a3_clean):
    source = (ROOT / "a3" / "fully_connected_networks.py").read_text().replace("import torch\n", STRAY_LINES + "import torch\n", 1)
    (tmp_path / "a3").mkdir()
    (tmp_path / "a3" / "fully_connected_networks.py").write_text(source)
    report = grade_with(tmp_path, assignment="a3")
    assert not _failed(report) and _points(report) == _points(a3_clean)
    assert sum(f"imports {STRAY[0]} (line" in n for n in report.notes) == 1


def test_a2_course_files_with_stray_imports_keep_full_marks(tmp_path, grade_with):
    clean, stray = tmp_path / "clean", tmp_path / "stray"
    for folder, extra in ((clean, ""), (stray, STRAY_LINES)):
        folder.mkdir()
        for name in ("linear_classifier", "two_layer_net"):
            source = (ROOT / "a2" / f"{name}.py").read_text().replace("from .linear_classifier", "from linear_classifier")
            (folder / f"{name}.py").write_text(source.replace("import torch\n", extra + "import torch\n", 1))
    before, after = grade_with(clean, assignment="a2"), grade_with(stray, assignment="a2")
    assert not _failed(before) and not _failed(after)
    assert _points(after) == _points(before) and after.score == before.score > 0
    for name in ("linear_classifier", "two_layer_net"):
        assert sum(n.startswith(f"{name}.py imports {STRAY[0]} (line") for n in after.notes) == 1, after.notes


def test_the_quick_look_finds_every_top_level_import_form_and_skips_prose():
    """Files whose imports are all here are never parsed; so the quick look must see every
    form of a top-level import, and a docstring's prose ("from one step to the next") must not
    send a file to the parser."""
    source = (b'"""The layers.\nfrom one step to the next\nimport the data first\n"""\nimport a.b as c, d\n'
              b'import e \\\n  , f\nfrom g.h import (i,\n  j)\nfrom k \\\n  import m\nfrom A3.a3_helper import n\n'
              b"def fn():\n    import indented\n")
    assert absent._candidates(source) == {"the", "a", "d", "e", "g", "k", "A3"}
    assert {top.split(".")[0] for _, top, _ in absent.top_level_imports(source)} <= absent._candidates(source) | {"f"}
