"""grader/compare.py and grader/tolerance.py: verdict messages in assert_close's manner."""
import torch

from grader.compare import compare, matches
from grader.tolerance import TOLERANCES, tolerance_for
from grader.student_side.wire import describe

F32, F64 = torch.float32, torch.float64


def _cmp(value, expected, dtype=F64, names=None):
    return compare(describe(value), expected, "result", dtype=dtype, device_type="cpu", names=names)


def test_identical_values_pass_and_tolerance_table_has_both_tolerances():
    x = torch.randn(4, 3, dtype=F64)
    assert _cmp(x.clone(), x) == []
    assert all(rtol > 0 and atol > 0 for rtol, atol in TOLERANCES.values())
    assert tolerance_for(torch.int64, "cpu") == (0.0, 0.0)


def test_value_message_names_place_count_index_and_allowance():
    expected = {"W1": torch.zeros(3, 2, dtype=F64), "b1": torch.zeros(2, dtype=F64)}
    got = {"W1": torch.zeros(3, 2, dtype=F64), "b1": torch.zeros(2, dtype=F64)}
    got["W1"][2, 1] = 0.5
    problems = _cmp((torch.tensor(1.0, dtype=F64), got), (torch.tensor(1.0, dtype=F64), expected), names=("loss", "grads"))
    assert len(problems) == 1
    text = problems[0].message
    assert text.startswith("grads['W1']: values are not close.")
    assert "Mismatched elements: 1 / 6 (16.7%)" in text
    assert "Greatest absolute difference: 0.5 at index (2, 1) (up to 1e-09 allowed)" in text


def test_attributes_are_checked_before_values():
    e = torch.zeros(2, 3, dtype=F64)
    assert _cmp(torch.zeros(3, 2, dtype=F64), e)[0].kind == "shape"
    assert _cmp(torch.zeros(2, 3, dtype=F32), e)[0].kind == "dtype"
    assert _cmp([1, 2], e)[0].kind == "type"
    assert "expected a tuple of 2 values" in _cmp(torch.zeros(1), (e, e))[0].message
    assert "missing ['b2']" in _cmp({"W1": e}, {"W1": e, "b2": e})[0].message


def test_float32_is_judged_against_float64_with_its_own_row():
    e = torch.randn(50, dtype=F64)
    assert _cmp(e.float(), e, dtype=F32) == []  # rounding to float32 is fine
    assert _cmp((e * 1.01).float(), e, dtype=F32)[0].kind == "values"


def test_atol_scales_with_the_largest_expected_magnitude():
    e = torch.tensor([1e4, 1e-3], dtype=F64)
    wiggle = e + torch.tensor([1e-6, 1e-6], dtype=F64)
    assert _cmp(wiggle, e) == []  # 1e-6 is tiny next to 1e4
    assert _cmp(torch.tensor([1e-3 + 1e-6], dtype=F64), torch.tensor([1e-3], dtype=F64)) != []


def test_nonfinite_where_reference_is_finite_is_its_own_problem():
    problems = _cmp(torch.tensor([1.0, float("inf")], dtype=F64), torch.tensor([1.0, 2.0], dtype=F64))
    assert problems[0].kind == "nonfinite" and "index (1,)" in problems[0].message


def test_python_number_is_accepted_for_a_scalar_and_labels_must_match_exactly():
    assert _cmp(0.25, torch.tensor(0.25, dtype=F64)) == []
    labels = torch.tensor([0, 2, 1])
    assert _cmp(labels.clone(), labels) == []
    assert "must match exactly" in _cmp(torch.tensor([0, 2, 2]), labels)[0].message
    assert _cmp(labels.int(), labels)[0].kind == "dtype"


def test_matches_is_false_for_wrong_structure():
    assert not matches(describe("text"), torch.zeros(2), dtype=F64, device_type="cpu")
    assert matches(describe(torch.zeros(2, dtype=F64)), torch.zeros(2, dtype=F64), dtype=F64, device_type="cpu")


def test_a_more_precise_result_than_the_inputs_is_a_note_with_wider_dtype_and_a_less_precise_one_is_not():
    """wider_dtype (functions whose template states no result dtype): right values in float64 for
    float32 inputs pass with a note; wrong ones still fail on their values; float32 results for
    float64 inputs stay a dtype problem (right only to float32's precision)."""
    e = torch.randn(20, dtype=F64)

    def wide(value, dtype):
        return compare(describe(value), e, "loss", dtype=dtype, device_type="cpu", wider_dtype=True)

    right = wide(e.float().double(), F32)
    assert [p.kind for p in right] == ["dtype_note"] and "loss is float64 for float32 inputs" in right[0].message
    assert [p.kind for p in wide(e * 1.01, F32)] == ["dtype_note", "values"]
    assert [p.kind for p in wide(e.float(), F64)] == ["dtype"]
    assert _cmp(e.float().double(), e, dtype=F32)[0].kind == "dtype"  # without it, as before
