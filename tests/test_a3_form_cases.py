"""A3's form cases on the engine's machinery, as A2's are: the backward passes' numeric checks
(``layer_numeric``) run on inputs made fresh and salted with the submission when hidden cases are
graded, and earn their points only where the backward's value cases show the output they check
computed. The attack: a backward that answers the published fixtures' inputs with the published
answers and computes nothing."""
import shutil
from pathlib import Path

import torch

from grader.assignment import get
from grader.catalogue import all_cases, public_cases
from grader.fixtures import load
from grader.results import CaseResult
from grader.runner import case_inputs, content_salt, credit_form_with_values
from grader.sandbox import Limits

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "a3" / "fully_connected_networks.py"
FAST = Limits(timeout=10.0, memory_gib=1.0)


def _submission(root: Path, extra: str = "") -> Path:
    (root / "a3").mkdir(parents=True)
    shutil.copy(SOLUTION, root / "a3" / "fully_connected_networks.py")
    if extra:
        path = root / "a3" / "fully_connected_networks.py"
        path.write_text(path.read_text() + "\n\n" + extra)
    return root


def _numeric_cases(assignment):
    return [c for c in public_cases(assignment) if c.fresh]


def test_each_assignment_names_its_fresh_form_cases():
    a2 = {(c.probe, c.output) for c in _numeric_cases("a2")}
    assert {p for p, _ in a2} == {"numeric_grad", "loop_scaling"}
    assert ("numeric_grad", "dW") in a2 and ("numeric_grad", "grads['W1']") in a2
    a3 = {(c.function, c.probe, c.output) for c in _numeric_cases("a3")}
    assert a3 == {("Linear.backward", "layer_numeric", "dx"), ("Linear.backward", "layer_numeric", "dw"),
                  ("Linear.backward", "layer_numeric", "db"), ("ReLU.backward", "layer_numeric", "dx")}
    assert all(c.form and c.visibility == "public" for name in ("a2", "a3") for c in _numeric_cases(name))


def test_a3_numeric_checks_are_salted_with_the_submission_under_hidden(tmp_path):
    """The same files get the same fresh inputs, other files other ones; without a salt (no
    --hidden) the published inputs are used. A3's value cases stay on their fixtures."""
    one = _submission(tmp_path / "one")
    same = _submission(tmp_path / "same")
    other = _submission(tmp_path / "other", "# a comment makes other files")
    salts = [content_salt(root / "a3", "a3") for root in (one, same, other)]
    assert salts[0] == salts[1] != salts[2]
    fixtures = load("a3")
    checks = [c for c in public_cases("a3") if c.probe == "layer_numeric"]
    assert len(checks) == 4
    for case in checks:
        published = fixtures[case.function][case.name]["payload"]
        a, b, c = (case_inputs(case, fixtures, salt, "a3").payload for salt in salts)
        assert torch.equal(a["dout"], b["dout"]) and a["coords"] == b["coords"], case.id
        assert not torch.equal(a["dout"], c["dout"]), case.id
        assert not torch.equal(a["dout"], published["dout"]), case.id
        plain = case_inputs(case, fixtures, "", "a3").payload
        assert torch.equal(plain["dout"], published["dout"]), case.id
    value = next(c for c in public_cases("a3") if c.function == "Linear.backward" and c.probe == "layer_call")
    assert not value.fresh
    salted = case_inputs(value, fixtures, salts[2], "a3").payload
    assert torch.equal(salted["args"][0], fixtures[value.function][value.name]["payload"]["args"][0])


def test_a2_form_cases_are_salted_as_before():
    fixtures = load("a2")
    for case in _numeric_cases("a2"):
        got = case_inputs(case, fixtures, "a submission", "a2").payload
        published = fixtures[case.function][case.name]["payload"]
        field = "variants" if case.probe == "loop_scaling" else "args"
        assert repr(got[field]) != repr(published[field]), case.id
    value = next(c for c in public_cases("a2") if c.function == "svm_loss_vectorized" and c.probe == "call")
    assert not value.fresh


def _published_linear_backward():
    """(dout, outputs or None, coords, which, gradient) of every published Linear.backward case:
    what a handout carries, answers included."""
    table = []
    for entry in load("a3")["Linear.backward"].values():
        payload, key = entry["payload"], entry["key"]
        if "args" in payload:  # a value case: its expected (dx, dw, db)
            table.append((payload["args"][0].tolist(), [t.tolist() for t in key["expected"]], None, None, None))
        else:  # a numeric check: the reference gradient at its entries
            table.append((payload["dout"].tolist(), None, payload["coords"], payload["which"], key["gradient"]))
    return table


RECALLING_BACKWARD = '''
_A3_PUBLISHED = {table!r}


def _a3_recall(dout, cache):
    x, w, b = cache
    grads = [torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b)]
    for known, outputs, coords, which, gradient in _A3_PUBLISHED:
        known = torch.tensor(known, dtype=torch.float64)
        if known.shape != dout.shape or not torch.allclose(known, dout.double()):
            continue
        if outputs is not None:
            return tuple(torch.tensor(o, dtype=dout.dtype) for o in outputs)
        for ix, g in zip(coords, gradient):
            grads[which][tuple(ix)] = g
    return tuple(grads)


Linear.backward = staticmethod(_a3_recall)
'''


def test_a_backward_that_recalls_the_published_answers_earns_nothing(tmp_path, grade_with):
    """Linear.backward answers the published inputs (value cases and numeric checks) from the
    handout's fixtures and returns zeros elsewhere. Without hidden cases it cannot be told from
    honest code (the handout holds the answers); with them its numeric checks meet fresh inputs
    and every case of the function earns nothing, while the rest keeps its points."""
    sub = _submission(tmp_path / "s", RECALLING_BACKWARD.format(table=_published_linear_backward()))
    public = grade_with(sub, functions=["Linear.backward"], limits=FAST, hidden=False, assignment="a3")
    numeric = [r for r in public.results if "centred differences" in r.name]
    assert len(numeric) == 3 and all(r.status == "passed" for r in numeric), public.summary()  # the attack is real
    report = grade_with(sub, functions=["Linear.backward", "Linear.forward"], limits=FAST, hidden=True,
                        assignment="a3")
    backward = [r for r in report.results if r.check == "Linear.backward"]
    assert backward and all(r.points == 0 for r in backward), report.summary()
    numeric = [r for r in backward if "centred differences" in r.name]
    assert len(numeric) == 3 and all(r.status == "failed" for r in numeric), report.summary()
    forward = [r for r in report.results if r.check == "Linear.forward"]
    assert forward and all(r.status == "passed" for r in forward), report.summary()


def _result(case, status="passed", computed=()):
    return CaseResult(case.function, case.name, case.visibility, case.points, case.points if status == "passed" else 0.0,
                      status, computed=computed)


def test_a_layer_numeric_check_is_credited_only_for_its_own_output_shown_computed():
    """The dx check keeps its points where a hidden value case shows dx computed, and loses them
    where the value cases show only dw and db (dx right only on inputs it could know)."""
    cases = [c for c in all_cases(get("a3")) if c.function == "Linear.backward"]
    values = [c for c in cases if c.probe == "layer_call" and c.visibility == "hidden"]
    numeric = {c.output: c for c in cases if c.probe == "layer_numeric"}
    for computed, kept in ((("dx", "dw", "db"), {"dx", "dw", "db"}), (("dw", "db"), {"dw", "db"})):
        results = [_result(c, "failed", computed) for c in values] + [_result(c) for c in numeric.values()]
        out = credit_form_with_values(results, cases, hidden=True, assignment="a3")
        credited = {c.output for c in numeric.values()
                    if next(r for r in out if r.name == c.name).status == "passed"}
        assert credited == kept
        if "dx" not in kept:
            lost = next(r for r in out if r.name == numeric["dx"].name)
            assert lost.points == 0 and "shows dx computed" in lost.message, lost.message
