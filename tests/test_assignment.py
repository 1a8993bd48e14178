"""The registry of assignments: each is found by name, and recognised from the files handed in."""
import pytest

from grader.assignment import REGISTRY, AssignmentError, get, recognise
from grader.paths import ROOT


def _write(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("# student code\n")


def test_a2_is_registered_with_its_files_and_functions():
    a2 = get("a2")
    assert REGISTRY["a2"] is a2
    assert a2.code_files == ("linear_classifier.py", "two_layer_net.py")
    assert a2.modules == ("linear_classifier", "two_layer_net")
    assert list(a2.functions)[0] == "svm_loss_naive" and "TwoLayerNet" in a2.functions
    assert a2.package == "grader.assignments.a2"


def test_unknown_name_is_a_clear_error_naming_the_known_ones():
    with pytest.raises(AssignmentError, match=r"unknown assignment 'a9'.*a2"):
        get("a9")


def test_this_repository_is_recognised_as_a2():
    assert recognise(ROOT) is get("a2")


def test_kit_and_course_layouts_are_both_recognised(tmp_path):
    _write(tmp_path / "kit" / "a2", get("a2").code_files)
    _write(tmp_path / "course", get("a2").code_files)
    _write(tmp_path / "zip" / "janedoe", get("a2").code_files)  # one level down, as a zip's top folder
    for name in ("kit", "course", "zip"):
        assert recognise(tmp_path / name) is get("a2")


def test_a_folder_with_no_assignment_says_what_was_looked_for(tmp_path):
    _write(tmp_path, ["linear_classifier.py"])  # one file of two
    with pytest.raises(AssignmentError, match=r"no assignment.*linear_classifier.py and two_layer_net.py"):
        recognise(tmp_path, "sub")
