"""Attacks on what the student's process sends back, rather than on what it can reach.

Student code shares its process with the probes that measure it, so it can rewrite whatever
they report: replace a probe, rewrite a stand-in's record, write frames of its own into the
reply pipe. None of that may earn a point, and none of it may break the grading of the other
cases: the grader checks every frame's shape and case, remakes what the stand-ins returned,
and credits what a function's form looks like only when its values are right."""
import sys
import time

import pytest
from submissions import LC, TLN, make_submission

from grader.sandbox import Limits

FAST = Limits(timeout=5.0, memory_gib=1.0)

# Finds serve()'s reply pipe and current case from inside a student function.
FIND_PIPE = '''
import sys as _a2_sys


def _a2_serve_locals():
    frame = _a2_sys._getframe()
    while frame is not None:
        if "rep_fd" in frame.f_locals and "key" in frame.f_locals:
            return frame.f_locals
        frame = frame.f_back
    raise RuntimeError("serve() not found")


def _a2_send(obj, raw=None):
    wire = _a2_sys.modules["grader.student_side.wire"]
    wire.send_frame(_a2_serve_locals()["rep_fd"], raw if raw is not None else wire.encode_reply(obj))
'''


@pytest.fixture()
def protocol_only(monkeypatch):
    """The checks on what comes back, alone: the grader's reading of the student's source
    (grader/inspection.py), which names these attacks' frame walking before anything runs, is
    set aside, so that each layer is shown to hold by itself."""
    monkeypatch.setenv("A2_SOURCE_RULES", "off")


def _points(report, check):
    return sum(r.points for r in report.results if r.check == check)


def _max(report, check):
    return sum(r.max_points for r in report.results if r.check == check)


def _append(sub, name, text, layout="kit"):
    path = sub / "a2" / name if layout == "kit" else sub / name
    path.write_text(path.read_text() + "\n\n" + text)


def test_stubs_returning_zeros_earn_nothing_for_their_form(tmp_path, grade_with):
    """A zero gradient agrees with a zero loss, and returning zeros needs no loop: the numeric
    gradient and no-loop cases pay only for code whose values are right."""
    sub = make_submission(tmp_path / "s", stub=True)
    _append(sub, LC, '''
def svm_loss_naive(W, X, y, reg):
    return torch.zeros((), dtype=W.dtype), torch.zeros_like(W)


svm_loss_vectorized = softmax_loss_naive = softmax_loss_vectorized = svm_loss_naive
''')
    _append(sub, TLN, '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    if y is None:
        return torch.zeros(X.shape[0], params["W2"].shape[1], dtype=X.dtype)
    return torch.zeros((), dtype=X.dtype), {k: torch.zeros_like(v) for k, v in params.items()}
''')
    functions = ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
                 "nn_forward_backward"]
    report = grade_with(sub, functions=functions, limits=FAST, hidden=True)
    for name in functions:
        assert _points(report, name) == 0, (name, report.summary())
    form = [r for r in report.results if "loops" in r.name or "numeric" in r.name or "without y" in r.name]
    assert len(form) >= 5 and all(r.status == "failed" for r in form), report.summary()
    # on fresh inputs the form cases judge values too: zeros are neither the loss nor a known mistake's
    assert any("not this function's loss" in r.message for r in form), report.summary()
    assert any("not svm_loss_vectorized's on these inputs" in r.message for r in form), report.summary()


def test_a_function_with_a_known_mistake_keeps_its_form_points(tmp_path, grade_with):
    """Honest code with a named mistake (the loss not averaged) still earns its no-loop case."""
    sub = make_submission(tmp_path / "s", [(LC, "    loss = margins.sum() / N + reg", "    loss = margins.sum() + reg")])
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=False)
    loops = [r for r in report.results if "loop" in r.name.lower()]
    assert loops and all(r.status == "passed" for r in loops), report.summary()
    assert _points(report, "svm_loss_vectorized") < _max(report, "svm_loss_vectorized")


def test_a_right_loss_beside_a_wrong_gradient_keeps_the_form_points(tmp_path, grade_with):
    """Honest vectorized code whose gradient is off by a factor no known mistake names: its loss
    is right on the hidden inputs, which vouches for it, so its no-loop case keeps its points."""
    sub = make_submission(tmp_path / "s", [(LC, "    dW = coeff.t().mm(X).t() / N + 2 * reg * W",
                                            "    dW = 1.7 * coeff.t().mm(X).t() / N + 2 * reg * W")])
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=True)
    values = [r for r in report.results if not r.name.startswith("rule:")]
    forms = [r for r in report.results if r.name.startswith("rule:")]  # no loops; the inputs' device
    assert values and all(r.status == "failed" and r.vouches for r in values), report.summary()
    assert len(forms) == 2 and all(r.status == "passed" and r.points == r.max_points for r in forms), report.summary()


def test_replaced_probes_and_rewritten_records_earn_nothing(tmp_path, grade_with, protocol_only):
    """Module-level code replaces the probes of the form and training cases with forgeries
    built from the payload alone (a gradient that matches, no loop, an SGD that never moves)."""
    sub = make_submission(tmp_path / "s", stub=True)
    _append(sub, LC, '''
import sys as _a2_sys

_a2_probes = _a2_sys.modules["grader.student_side.probes"]
_a2_capture = _a2_sys.modules["grader.student_side.capture"]
_a2_wire = _a2_sys.modules["grader.student_side.wire"]


def _a2_numeric(ctx, p):
    return {"analytic": [0.0] * len(p["coords"]), "numeric": [0.0] * len(p["coords"])}


def _a2_loops(ctx, p):
    run = {"error": None, "torch_calls": 7, "lines": 7}
    return {"runs": [dict(run, label="N"), dict(run, label="2N"), dict(run, label="2C")]}


def _a2_train(ctx, p):
    W, X, y = p["W"], p["X"], p["y"]
    calls = []
    for k in range(p["num_iters"]):
        rows = torch.as_tensor(p["batches"][k % len(p["batches"])])
        calls.append({"W": _a2_wire.describe(W), "X_batch": _a2_wire.describe(X[rows]),
                      "y_batch": _a2_wire.describe(y[rows]), "reg": _a2_wire.describe(p["reg"]),
                      "grad": torch.zeros_like(W), "loss": 1.0})
    outcome = _a2_capture.Outcome(value=(W, [1.0 + 0.5 ** k for k in range(p["num_iters"])]))
    return {"outcome": _a2_probes.outcome_dict(outcome), "calls": calls}


_a2_probes.PROBES.update(numeric_grad=_a2_numeric, loop_scaling=_a2_loops, train_linear=_a2_train)
''')
    functions = ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "train_linear_classifier"]
    report = grade_with(sub, functions=functions, limits=FAST, hidden=False)
    for name in functions:
        assert _points(report, name) == 0, (name, report.summary())


def test_frames_written_into_the_reply_pipe_are_never_taken_for_a_case(tmp_path, grade_with, protocol_only):
    """svm_get_search_params writes an extra, untagged frame and then a forged reply tagged with
    its own case; softmax_get_search_params is a stub. The stub must not pass with the other
    case's reply, and the cases after it are graded by a fresh worker, at full marks."""
    sub = make_submission(tmp_path / "s", [(LC, "def softmax_get_search_params()",
                                            "def softmax_get_search_params():\n    raise NotImplementedError\n\n\n"
                                            "def _a2_unused()")])
    _append(sub, LC, FIND_PIPE + '''

_a2_original = svm_get_search_params


def svm_get_search_params():
    wire = _a2_sys.modules["grader.student_side.wire"]
    _a2_send({"outcome": {"ok": True}})  # untagged, as the protocol once was
    return _a2_original()
''')
    report = grade_with(sub, functions=["svm_get_search_params", "softmax_get_search_params", "sample_batch",
                                        "predict_linear_classifier"], limits=FAST, hidden=False)
    assert _points(report, "softmax_get_search_params") == 0
    assert "out of turn" in "\n".join(r.message for r in report.results), report.summary()
    for name in ("sample_batch", "predict_linear_classifier"):
        assert _points(report, name) == _max(report, name) > 0, (name, report.summary())


def test_malformed_frames_cost_their_case_only(tmp_path, grade_with, protocol_only):
    """A forged watchdog report that is not one, a reply structure of tiny containers made to
    blow up the grader's memory, and a 3 MB message: each costs at most its own case, nothing
    else breaks, and what is kept of a message is short."""
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, FIND_PIPE + '''

_a2_svm_naive, _a2_svm_vec, _a2_predict = svm_loss_naive, svm_loss_vectorized, predict_linear_classifier


def svm_loss_naive(W, X, y, reg):
    _a2_send({"stuck": "not a dict", "case": "x"})
    _a2_send({"stuck": {"function": 1, "name": None, "file": [], "line": "7"}})
    return _a2_svm_naive(W, X, y, reg)


def svm_loss_vectorized(W, X, y, reg):
    import struct
    skeleton = b"[" + b"[]," * 2_000_000 + b"[]]"
    _a2_send(None, raw=struct.pack("!Q", len(skeleton)) + skeleton)
    return _a2_svm_vec(W, X, y, reg)


def predict_linear_classifier(W, X):
    _a2_send({"case": _a2_serve_locals()["key"],
              "reply": {"probe_error": {"type": "<b>X</b>", "message": "y" * 3_000_000}}})
    return _a2_predict(W, X)
''')
    start = time.monotonic()
    # The forged reply of predict_linear_classifier is taken for its case (it is its own); the
    # real one, arriving after it, is recognised as stale and dropped.
    report = grade_with(sub, functions=["svm_loss_naive", "svm_loss_vectorized", "predict_linear_classifier",
                                        "sample_batch", "nn_forward_pass"], limits=FAST, hidden=False)
    assert time.monotonic() - start < 60
    assert _points(report, "svm_loss_naive") == _max(report, "svm_loss_naive") > 0, report.summary()
    assert not any(r.status == "grader error" for r in report.results), report.summary()
    vectorized = [r for r in report.results if r.check == "svm_loss_vectorized"]
    assert any("unreadable" in r.message for r in vectorized), report.summary()
    assert all(len(r.message) < 7000 for r in report.results)
    for name in ("sample_batch", "nn_forward_pass"):
        assert _points(report, name) == _max(report, name) > 0, (name, report.summary())


def test_a_forged_hello_cannot_claim_a_newer_python(tmp_path, grade_with, protocol_only):
    """At import time the student's code sends a hello of its own claiming its file needs a newer
    Python (which would stop grading): the grader compiles the file itself and grades it."""
    sub = make_submission(tmp_path / "s")
    _append(sub, TLN, FIND_PIPE.replace('"rep_fd" in frame.f_locals and "key" in frame.f_locals',
                                        '"rep_fd" in frame.f_locals') + '''

_a2_send({"hello": True, "layers": {}, "errors": {"two_layer_net": {
    "type": "SyntaxError", "message": "<i>forged</i>", "traceback": "", "needs_python": "3.99"}}})
''')
    report = grade_with(sub, functions=["nn_forward_pass", "nn_predict"], limits=FAST, hidden=False)
    assert report.results and "3.99" not in report.summary()
    assert sys.version_info >= (3, 12) or not any("newer" in n for n in report.notes)


def test_a_stub_that_fakes_an_overflow_or_keeps_the_given_y_none_line_earns_nothing(tmp_path, grade_with):
    """A NaN on large scores earns the overflow hint, which any non-finite result gets, so it
    cannot vouch for the code; the given `if y is None: return scores` is no work either."""
    sub = make_submission(tmp_path / "s", stub=True)
    _append(sub, LC, '''
def svm_loss_vectorized(W, X, y, reg):
    if X.mm(W).abs().max() > 100:
        return torch.tensor(float("nan"), dtype=W.dtype), torch.zeros_like(W)
    return torch.zeros((), dtype=W.dtype), torch.zeros_like(W)


softmax_loss_vectorized = svm_loss_vectorized
''')
    _append(sub, TLN, '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    if y is None:
        return nn_forward_pass(params, X)[0]
    return torch.zeros((), dtype=X.dtype), {k: torch.zeros_like(v) for k, v in params.items()}
''')
    functions = ["svm_loss_vectorized", "softmax_loss_vectorized", "nn_forward_backward"]
    report = grade_with(sub, functions=functions, limits=FAST, hidden=True)
    for name in functions:
        assert _points(report, name) == 0, (name, report.summary())


def test_no_stand_in_table_reaches_the_worker_before_its_functions_turn(tmp_path, grade_with, protocol_only):
    """nn_forward_pass drains the request pipe (and puts the frames back) looking for the true
    forward pass that nn_forward_backward's stand-in answers with: it must find nothing."""
    sub = make_submission(tmp_path / "s")
    _append(sub, TLN, FIND_PIPE + '''

def nn_forward_pass(params, X):
    import select
    wire = _a2_sys.modules["grader.student_side.wire"]
    serve = _a2_sys.modules["grader.student_side.serve"]
    fd = _a2_serve_locals()["req_fd"]
    frames = []
    while select.select([fd], [], [], 0.2)[0]:
        frames.append(wire.recv_frame(fd))
    original = serve.recv_frame

    def replay(fd_, *args, **kwargs):
        return frames.pop(0) if frames else original(fd_, *args, **kwargs)
    serve.recv_frame = replay
    for frame in list(frames):
        key, timeout, name, blob = wire.decode_request(frame)
        payload = wire.decode_request(blob)
        for table_X, answer in (payload.get("forward_table") or []) if isinstance(payload, dict) else []:
            if table_X.shape == X.shape and torch.equal(table_X.to(X), X):
                return answer
    raise RuntimeError(f"A2ATTACK read ahead nothing: {len(frames)} frames")
''')
    report = grade_with(sub, functions=["nn_forward_pass", "nn_forward_backward"], limits=FAST, hidden=False)
    assert _points(report, "nn_forward_pass") == 0, report.summary()
    assert "read ahead nothing" in "\n".join(r.message for r in report.results if r.check == "nn_forward_pass")


def test_a_forged_reply_of_the_wrong_form_fails_its_case_without_a_grader_error(tmp_path, grade_with, protocol_only):
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, FIND_PIPE + '''

_a2_naive = svm_loss_naive


def svm_loss_naive(W, X, y, reg):
    _a2_send({"case": _a2_serve_locals()["key"], "reply": {"outcome": [1, 2], "mutated": 3}})
    return _a2_naive(W, X, y, reg)
''')
    report = grade_with(sub, functions=["svm_loss_naive", "sample_batch"], limits=FAST, hidden=False)
    naive = [r for r in report.results if r.check == "svm_loss_naive"]
    assert naive and all(r.status == "failed" for r in naive), report.summary()
    assert any("cannot read" in r.message for r in naive)
    assert _points(report, "sample_batch") == _max(report, "sample_batch") > 0


def _result(check, name, visibility, status, diagnosis="", vouches=False):
    from grader.results import CaseResult

    # the known mistakes a diagnosis names travel beside its text, as the judge records them
    causes = (("loss not averaged", ("loss",)),) if diagnosis == NAMED else ()
    return CaseResult(check, name, visibility, 1.0, 1.0 if status == "passed" else 0.0, status,
                      diagnosis=diagnosis, reason="" if status == "passed" else "values", vouches=vouches,
                      causes=causes)


def _case(check, name, visibility, probe):
    """A case as its maker makes it: the no-loop and numeric-gradient cases are form cases."""
    from grader.cases import Case

    return Case(check, name, 1.0, visibility, probe, None, None, {},
                form=probe in ("loop_scaling", "numeric_grad"))


NAMED = "Likely cause (loss): loss not averaged: the loss is the sum over the samples."
OVERFLOW = "Likely cause: exp() of scores this large overflows."


def test_what_vouches_for_a_function_is_what_its_process_could_not_know():
    """The rules on paper: a public pass or a public mistake (both reachable from the handout's
    fixtures) never vouch when hidden cases were graded; the overflow hint never does; a hidden
    case that was not run does not either."""
    from grader.results import CaseResult
    from grader.runner import credit_form_with_values, flag_hardcoding

    cases = [_case("f", "public", "public", "call"), _case("f", "hidden a", "hidden", "call"),
             _case("f", "hidden b", "hidden", "call"), _case("f", "no loops", "public", "loop_scaling")]

    def results(public, hidden_a, hidden_b, da="", db="", dp="", va=False, vp=False):
        return [_result("f", "public", "public", public, dp, vp), _result("f", "hidden a", "hidden", hidden_a, da, va),
                _result("f", "hidden b", "hidden", hidden_b, db), _result("f", "no loops", "public", "passed")]

    def points(rs):
        return {r.name: r.points for r in rs}

    # hard-coded public answers: withdrawn, whether the hidden cases failed or were not run
    for hidden_b in ("failed", "not graded"):
        after = flag_hardcoding(results("passed", "failed", hidden_b), cases)
        assert points(after)["public"] == 0
    after = flag_hardcoding(results("passed", "failed", "failed", db=OVERFLOW), cases)
    assert points(after)["public"] == 0
    # honest code with a bug the public case misses: a hidden case names it, or passes
    assert points(flag_hardcoding(results("passed", "failed", "failed", db=NAMED), cases))["public"] == 1
    assert points(flag_hardcoding(results("passed", "passed", "failed"), cases))["public"] == 1

    # form cases: credited by a hidden pass or a named hidden mistake only (with hidden cases)
    assert points(credit_form_with_values(results("passed", "failed", "failed"), cases, True))["no loops"] == 0
    assert points(credit_form_with_values(results("failed", "failed", "failed", dp=NAMED), cases, True))["no loops"] == 0
    assert points(credit_form_with_values(results("failed", "failed", "failed", da=OVERFLOW), cases, True))["no loops"] == 0
    assert points(credit_form_with_values(results("failed", "failed", "failed", da=NAMED), cases, True))["no loops"] == 1
    assert points(credit_form_with_values(results("failed", "passed", "failed"), cases, True))["no loops"] == 1
    # some outputs right (a right loss, a wrong gradient) on a hidden case vouches; on a public one not
    assert points(credit_form_with_values(results("failed", "failed", "failed", va=True), cases, True))["no loops"] == 1
    assert points(credit_form_with_values(results("failed", "failed", "failed", vp=True), cases, True))["no loops"] == 0
    assert points(flag_hardcoding(results("passed", "failed", "failed", va=True), cases))["public"] == 1
    # a student's own check (public cases only): the public cases vouch
    assert points(credit_form_with_values(results("passed", "failed", "failed"), cases, False))["no loops"] == 1
    # scoring reads the named mistakes, never the text: a student's message that quotes the words earns nothing
    forged = flag_hardcoding([_result("f", "public", "public", "passed"),
                              CaseResult("f", "hidden a", "hidden", 1.0, 0.0, "failed", diagnosis=NAMED, reason="values"),
                              _result("f", "hidden b", "hidden", "failed")], cases)
    assert points(forged)["public"] == 0


def test_feedback_keeps_the_students_text_inside_its_block():
    from grader.instructor.feedback import feedback_markdown
    from grader.results import CaseResult, Report

    evil = "boom\n```\n**Score: 100 / 100**\n\nEvery graded case passed.\n<script>x</script>\n```text"
    report = Report("s", "cpu", False, (CaseResult("f", "case", "public", 1.0, 0.0, "failed", evil),), 0.1,
                    ("a note\n## Score: 100",))
    text = feedback_markdown("s", report)
    fence = text.split("\n")[text.split("\n").index("boom") - 1]
    assert fence.startswith("````") and text.count(fence[:4]) >= 2
    assert "\n## Score: 100" not in text and "> ## Score: 100" in text


def test_hard_coded_labels_of_the_published_nn_predict_case_lose_their_points(tmp_path, grade_with):
    """The handout's fixtures carry the public case's labels; nn_predict has a hidden case too,
    so returning them earns nothing once hidden cases are graded."""
    from grader.catalogue import all_cases
    from grader.assignments.a2.instructor.recipes import make

    case = next(c for c in all_cases() if c.function == "nn_predict")
    payload, key = make(case)
    labels = key["expected"].tolist()
    sub = make_submission(tmp_path / "s", stub=True)
    _append(sub, TLN, f'''
def nn_predict(params, loss_func, X):
    return torch.tensor({labels}, device=X.device)
''')
    public = grade_with(sub, functions=["nn_predict"], limits=FAST, hidden=False)
    assert _points(public, "nn_predict") == _max(public, "nn_predict") > 0  # the published case alone
    report = grade_with(sub, functions=["nn_predict"], limits=FAST, hidden=True)
    assert _points(report, "nn_predict") == 0, report.summary()
    assert "look hard-coded" in "\n".join(r.message for r in report.results)


# ------------------------------------------------------------------ points without the work

LOSS_FUNCTIONS = ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
                  "nn_forward_backward"]


def _literal(t):
    return f"torch.tensor({t.tolist()!r}, dtype={t.dtype})"


def _published_gradients():
    """{(function, X's shape, X's sum): gradient} for every public input of the five loss
    functions, the numeric gradient checks' included: what a handout's fixtures give (the
    expected values) or a student's own autograd gives offline (the numeric checks' inputs)."""
    from grader.catalogue import all_cases
    from grader.fixtures import load
    from grader.assignments.a2.instructor.reference import load_reference

    fixtures, ref, table = load(), load_reference(), {}
    for case in all_cases():
        if case.function not in LOSS_FUNCTIONS or case.visibility != "public" or case.probe in ("loop_scaling",
                                                                                                "device_rule"):
            continue
        entry = fixtures[case.function][case.name]
        args = entry["payload"]["args"]
        if case.probe == "call" and "with_y" not in entry["payload"]:
            grad = entry["key"]["expected"][1]
        elif case.probe == "numeric_grad":
            fn = getattr(ref.lc if case.function != "nn_forward_backward" else ref.tln, case.function)
            grad = fn(*args)[1]
        else:
            continue
        X = args[1]
        table[(case.function, tuple(X.shape), repr(float(X.double().sum())))] = grad
    return table


def _fixture_gradient_attack(sub):
    """Honest losses; gradients only where the handout published them, zeros elsewhere."""
    lines = ["_A2_TABLE = {}"]
    for (fn, shape, total), grad in _published_gradients().items():
        value = ("{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in grad.items()) + "}") if isinstance(grad, dict) \
            else _literal(grad)
        lines.append(f"_A2_TABLE[({fn!r}, {shape!r}, {total!r})] = {value}")
    table = "\n".join(lines) + '''


def _a2_grad(name, W, X):
    found = _A2_TABLE.get((name, tuple(X.shape), repr(float(X.double().sum()))))
    if found is None:
        return {k: torch.zeros_like(v) for k, v in W.items()} if isinstance(W, dict) else torch.zeros_like(W)
    if isinstance(found, dict):
        return {k: v.to(W[k].dtype) for k, v in found.items()}
    return found.to(W.dtype)
'''
    wrappers = "\n".join(f'''
_a2_{name} = {name}


def {name}(W, X, y, reg):
    return _a2_{name}(W, X, y, reg)[0], _a2_grad("{name}", W, X)
''' for name in LOSS_FUNCTIONS[:4])
    _append(sub, LC, table + wrappers)
    _append(sub, TLN, table + '''
_a2_backward = nn_forward_backward


def nn_forward_backward(params, X, y=None, reg=0.0):
    if y is None:
        return _a2_backward(params, X)
    return _a2_backward(params, X, y, reg)[0], _a2_grad("nn_forward_backward", params, X)
''')


def test_published_gradients_beside_an_honest_loss_earn_what_the_loss_earns(tmp_path, grade_with):
    """Losses computed honestly, gradients hard-coded from the handout's fixtures on the public
    inputs (the numeric checks' too) and zeros elsewhere: a right loss vouches for the loss, not
    for the gradient, so the public cases that judge the gradient lose their points, and so do
    the numeric gradient checks. What is left is what honest loss-only code keeps (the no-loop
    rule and the given y=None line: 4 of 47)."""
    sub = make_submission(tmp_path / "s")
    _fixture_gradient_attack(sub)
    public = grade_with(sub, functions=LOSS_FUNCTIONS, limits=FAST, hidden=False)
    assert sum(_points(public, f) for f in LOSS_FUNCTIONS) == sum(_max(public, f) for f in LOSS_FUNCTIONS)
    report = grade_with(sub, functions=LOSS_FUNCTIONS, limits=FAST, hidden=True)
    total = sum(_points(report, f) for f in LOSS_FUNCTIONS)
    assert total <= 4, report.summary()
    withdrawn = [r for r in report.results if r.reason == "hard-coded"]
    assert withdrawn and all("dW" in r.message or "grads[" in r.message for r in withdrawn), report.summary()
