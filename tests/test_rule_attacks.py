"""Attacks by code that knows how the rules are checked: gradients by autograd, and rules
switched off from inside the student's process (tracing turned off, work run from strings, on
other threads or through torch's operators underneath its functions, loops run by builtins, a
loop over the feature dimension, the no-loop case recognised by its published shapes). Each
attack keeps a correct submission around it and changes one function: that function loses
the points of the rule it breaks, named; the rest of the submission keeps full marks."""
import pytest
from submissions import LC, TLN, make_submission

from grader.sandbox import Limits

FAST = Limits(timeout=5.0, memory_gib=1.0)


def _append(sub, name, text):
    path = sub / "a2" / name
    path.write_text(path.read_text() + "\n\n" + text)


def _results(report, check):
    return [r for r in report.results if r.check == check]


def _points(report, check):
    return sum(r.points for r in _results(report, check))


def _max(report, check):
    return sum(r.max_points for r in _results(report, check))


def _text(report, check):
    return "\n".join(r.message for r in _results(report, check))


# ------------------------------------------------------------------ gradients by autograd

AUTOGRAD_LINEAR = '''
def _a2_autograd_loss(loss_of):
    def loss_and_grad(W, X, y, reg):
        Wc = W.detach().clone().requires_grad_(True)
        loss = loss_of(Wc, X, y, reg)
        grad, = torch.autograd.grad(loss, Wc)
        return loss.detach(), grad


    return loss_and_grad


def _a2_svm(W, X, y, reg):
    N = X.shape[0]
    scores = X.mm(W)
    correct = scores[torch.arange(N), y].unsqueeze(1)
    margins = (scores - correct + 1).clamp(min=0)
    margins = margins * (1 - torch.nn.functional.one_hot(y, W.shape[1]).to(W.dtype))
    return margins.sum() / N + reg * torch.sum(W * W)


def _a2_softmax(W, X, y, reg):
    scores = X.mm(W)
    return torch.nn.functional.cross_entropy(scores, y) + reg * torch.sum(W * W)


svm_loss_vectorized = _a2_autograd_loss(_a2_svm)
softmax_loss_naive = _a2_autograd_loss(_a2_softmax)
'''

BACKWARD_NET = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    scores, _ = nn_forward_pass(params, X)
    if y is None:
        return scores
    copies = {k: v.detach().clone() for k, v in params.items()}
    for v in copies.values():
        v.requires_grad = True
    hidden = (X.mm(copies["W1"]) + copies["b1"]).clamp(min=0)
    scores = hidden.mm(copies["W2"]) + copies["b2"]
    loss = torch.nn.functional.cross_entropy(scores, y) + reg * (torch.sum(copies["W1"] ** 2)
                                                                 + torch.sum(copies["W2"] ** 2))
    loss.backward()
    return loss.detach(), {k: v.grad for k, v in copies.items()}
'''


def test_gradients_by_autograd_earn_nothing_for_the_gradient(tmp_path, grade_with):
    """torch.autograd.grad on a requires_grad copy, and .backward(): the values are right, the
    exercise (deriving the gradient) is not done. The gradient outputs earn nothing, named; the
    loss keeps what a loss earns alone (the no-loop rule, the given y=None line)."""
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, AUTOGRAD_LINEAR)
    _append(sub, TLN, BACKWARD_NET)
    functions = ["svm_loss_vectorized", "softmax_loss_naive", "nn_forward_backward", "svm_loss_naive"]
    report = grade_with(sub, functions=functions, limits=FAST, hidden=True)
    for name in ("svm_loss_vectorized", "softmax_loss_naive", "nn_forward_backward"):
        scored = [r for r in _results(report, name) if r.points]
        assert all("loops" in r.name or "without y" in r.name or "device" in r.name for r in scored), \
            (name, report.summary())
        assert "derived by hand" in _text(report, name), report.summary()
    # what the computed loss vouches for: the no-loop rule (1.5), the given y=None line (1) and
    # the device rule (0.5) of the functions that have them
    assert _points(report, "svm_loss_vectorized") == 1.5 + 0.5
    assert _points(report, "nn_forward_backward") == 1 + 0.5
    assert _points(report, "svm_loss_naive") == _max(report, "svm_loss_naive") > 0


COMPLEX_STEP = '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    D, C = W.shape
    h = 1e-30
    s = X.mm(W)
    s = s - s.max(dim=1, keepdim=True).values
    eye = torch.eye(C, dtype=W.dtype, device=W.device)
    pert = X.t()[:, None, :, None] * eye[None, :, None, :]
    sk = s[None, None] + 1j * h * pert
    lse = torch.log(torch.exp(sk).sum(-1))
    picked = torch.gather(sk, 3, y.view(1, 1, N, 1).expand(D, C, N, 1)).squeeze(-1)
    data = (lse - picked).mean(-1)
    return data.real[0, 0] + reg * torch.sum(W * W), data.imag / h + 2 * reg * W
'''


@pytest.mark.parametrize("source_rules", ["on", "off"])
def test_a_gradient_by_the_complex_step_earns_nothing_for_the_gradient(tmp_path, grade_with, monkeypatch,
                                                                      source_rules):
    """Im L(W + ih E_dc) / h for every entry at once (a batch of D*C perturbed losses, no loop)
    is the exact gradient, measured, not derived: named from the source (1j, .imag) and at run
    time (a complex tensor made), it costs the gradient outputs as autograd does."""
    monkeypatch.setenv("A2_SOURCE_RULES", source_rules)
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, COMPLEX_STEP)
    report = grade_with(sub, functions=["softmax_loss_vectorized"], limits=FAST, hidden=True)
    values = [r for r in _results(report, "softmax_loss_vectorized") if "loops" not in r.name and r.max_points]
    assert values and not any(r.points for r in values if "rule" not in r.name), report.summary()
    assert "complex" in _text(report, "softmax_loss_vectorized"), report.summary()


def test_gradients_by_autograd_are_seen_at_run_time_too():
    """The tracer names autograd where the source hides it from a reading of the names."""
    import torch

    from grader.student_side.capture import call_captured

    def hidden_autograd(W, X):
        engine = getattr(torch, "".join(["auto", "grad"]))
        Wc = W.detach().clone()
        Wc.requires_grad = True
        grad, = engine.grad((X.mm(Wc) ** 2).sum(), Wc)
        return grad

    outcome = call_captured(hidden_autograd, torch.ones(3, 2), torch.ones(4, 3), trace=True)
    assert outcome.ok and outcome.trace.get("autograd"), outcome.trace


# ------------------------------------------------------------------ rules switched off

NAIVE_SVM_LOOP = '''
    N, C = X.shape[0], W.shape[1]
    loss, dW = torch.zeros((), dtype=W.dtype), torch.zeros_like(W)
    for i in range(N):
        scores = X[i].matmul(W)
        for j in range(C):
            margin = scores[j] - scores[y[i]] + 1
            if j != y[i] and margin > 0:
                loss = loss + margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * torch.sum(W * W), dW / N + 2 * reg * W
'''

# The same loop over plain Python numbers: a constant number of torch calls whatever the sizes,
# so only the lines it runs show it.
NAIVE_SVM_PLAIN = '''
    Xl, Wl, yl = X.tolist(), W.tolist(), y.tolist()
    N, D, C = len(Xl), len(Wl), len(Wl[0])
    loss = 0.0
    dW = [[0.0] * C for _ in range(D)]
    for i in range(N):
        s = [sum(Xl[i][d] * Wl[d][j] for d in range(D)) for j in range(C)]
        for j in range(C):
            m = s[j] - s[yl[i]] + 1
            if j != yl[i] and m > 0:
                loss += m
                for d in range(D):
                    dW[d][j] += Xl[i][d]
                    dW[d][yl[i]] -= Xl[i][d]
    dW = torch.tensor(dW, dtype=W.dtype, device=W.device)
    return torch.tensor(loss / N, dtype=W.dtype, device=W.device) + reg * torch.sum(W * W), dW / N + 2 * reg * W
'''

# The same with plain statements only (no comprehension, no builtin that loops): the lines it
# runs in its own frame are all that shows the loop.
NAIVE_SVM_FLAT = '''
    Xl, Wl, yl = X.tolist(), W.tolist(), y.tolist()
    N, D, C = len(Xl), len(Wl), len(Wl[0])
    loss = 0.0
    dW = []
    for d in range(D):
        dW.append([0.0] * C)
    for i in range(N):
        s = [0.0] * C
        for j in range(C):
            for d in range(D):
                s[j] += Xl[i][d] * Wl[d][j]
        for j in range(C):
            m = s[j] - s[yl[i]] + 1
            if j != yl[i] and m > 0:
                loss += m
                for d in range(D):
                    dW[d][j] += Xl[i][d]
                    dW[d][yl[i]] -= Xl[i][d]
    dW = torch.tensor(dW, dtype=W.dtype, device=W.device)
    return torch.tensor(loss / N, dtype=W.dtype, device=W.device) + reg * torch.sum(W * W), dW / N + 2 * reg * W
'''

ATTACKS = {
    "loop in an exec'd string": (LC, "svm_loss_vectorized", '''
_A2_SOURCE = """
def _a2_loop(W, X, y, reg):
''' + NAIVE_SVM_PLAIN + '''
"""


def svm_loss_vectorized(W, X, y, reg):
    space = {"torch": torch}
    exec(_A2_SOURCE, space)
    return space["_a2_loop"](W, X, y, reg)
'''),
    "sys.settrace(None) before the loop": (LC, "svm_loss_vectorized", '''
import sys as _a2_sys


def svm_loss_vectorized(W, X, y, reg):
    _a2_sys.settrace(None)
''' + NAIVE_SVM_PLAIN),
    "the loop on another thread": (LC, "svm_loss_vectorized", '''
import threading as _a2_threading


def _a2_loop(W, X, y, reg):
''' + NAIVE_SVM_LOOP + '''

def svm_loss_vectorized(W, X, y, reg):
    out = []
    worker = _a2_threading.Thread(target=lambda: out.append(_a2_loop(W, X, y, reg)))
    worker.start()
    worker.join()
    return out[0]
'''),
    "a loop over plain numbers in builtins": (LC, "softmax_loss_vectorized", '''
import operator as _a2_operator

_a2_softmax_vec = softmax_loss_vectorized


def softmax_loss_vectorized(W, X, y, reg):
    _, dW = _a2_softmax_vec(W, X, y, reg)
    scores = X.mm(W)
    picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
    spread = scores.logsumexp(dim=1).tolist()
    data = sum(map(_a2_operator.sub, spread, picked)) / X.shape[0]
    return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "a loop over the features": (LC, "svm_loss_vectorized", '''
def svm_loss_vectorized(W, X, y, reg):
    N, D = X.shape
    scores = torch.zeros(N, W.shape[1], dtype=X.dtype, device=X.device)
    for d in range(D):
        scores = scores + X[:, d:d + 1] * W[d]
    rows = torch.arange(N, device=X.device)
    margins = (scores - scores[rows, y].unsqueeze(1) + 1).clamp(min=0)
    margins[rows, y] = 0
    coeff = (margins > 0).to(X.dtype)
    coeff[rows, y] = -coeff.sum(dim=1)
    return margins.sum() / N + reg * torch.sum(W * W), X.t().mm(coeff) / N + 2 * reg * W
'''),
    "DisableTorchFunction around torch.relu": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    with torch._C.DisableTorchFunction():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "_DisableTorchFunctionSubclass around torch.relu": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    with torch._C._DisableTorchFunctionSubclass():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "torch.ops.aten.relu": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    hidden = torch.ops.aten.relu.default(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "torch._refs' relu (torch's reference implementations, built of where)": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    from torch._refs.nn.functional import relu as act
    hidden = act(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "a loop compiled by torch.jit.script": (LC, "svm_loss_vectorized", '''
@torch.jit.script
def _a2_scores(X, W):
    out = torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype, device=X.device)
    for i in range(X.shape[0]):
        out[i] = X[i] @ W
    return out


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = _a2_scores(X, W)
    rows = torch.arange(N, device=X.device)
    margins = (scores - scores[rows, y].unsqueeze(1) + 1).clamp(min=0)
    margins[rows, y] = 0
    coeff = (margins > 0).to(X.dtype)
    coeff[rows, y] = -coeff.sum(dim=1)
    return margins.sum() / N + reg * torch.sum(W * W), X.t().mm(coeff) / N + 2 * reg * W
'''),
    "settrace reached through a getattr passed around": (LC, "svm_loss_vectorized", '''
import sys as _a2_sys


def svm_loss_vectorized(W, X, y, reg):
    look = getattr
    look(_a2_sys, "".join(["set", "tr", "ace"]))(None)
''' + NAIVE_SVM_PLAIN),
    "the gradient from the course's numeric gradient helper": (LC, "softmax_loss_naive", '''
_a2_softmax_vec = softmax_loss_vectorized


def softmax_loss_naive(W, X, y, reg):
    from eecs598.grad import compute_numeric_gradient
    loss, _ = _a2_softmax_vec(W, X, y, reg)
    dW = compute_numeric_gradient(lambda w: _a2_softmax_vec(w, X, y, reg)[0], W.clone(), h=1e-5)
    return loss, dW
'''),
    "a loop in builtins inside a function defined in an if block": (LC, "softmax_loss_vectorized", '''
import operator as _a2_operator

_a2_softmax_vec = softmax_loss_vectorized

if True:
    def softmax_loss_vectorized(W, X, y, reg):
        _, dW = _a2_softmax_vec(W, X, y, reg)
        scores = X.mm(W)
        picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
        spread = scores.logsumexp(dim=1).tolist()
        data = sum(map(_a2_operator.sub, spread, picked)) / X.shape[0]
        return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "a loop in builtins inside a module-level lambda": (LC, "softmax_loss_vectorized", '''
import operator as _a2_operator

_a2_softmax_vec = softmax_loss_vectorized
_a2_total = lambda a, b: sum(map(_a2_operator.sub, a, b))


def softmax_loss_vectorized(W, X, y, reg):
    _, dW = _a2_softmax_vec(W, X, y, reg)
    scores = X.mm(W)
    picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
    spread = scores.logsumexp(dim=1).tolist()
    data = _a2_total(spread, picked) / X.shape[0]
    return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "sum bound to a variable and called on a list": (LC, "softmax_loss_vectorized", '''
_a2_softmax_vec = softmax_loss_vectorized


def softmax_loss_vectorized(W, X, y, reg):
    _, dW = _a2_softmax_vec(W, X, y, reg)
    add_all = sum
    scores = X.mm(W)
    picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
    spread = scores.logsumexp(dim=1).tolist()
    data = (add_all(spread) - add_all(picked)) / X.shape[0]
    return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "functools.reduce handed to a module-level partial": (LC, "softmax_loss_vectorized", '''
import functools as _a2_functools
import operator as _a2_operator

_a2_softmax_vec = softmax_loss_vectorized
_a2_total = _a2_functools.partial(_a2_functools.reduce, _a2_operator.add)


def softmax_loss_vectorized(W, X, y, reg):
    _, dW = _a2_softmax_vec(W, X, y, reg)
    scores = X.mm(W)
    picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
    spread = scores.logsumexp(dim=1).tolist()
    data = (_a2_total(spread) - _a2_total(picked)) / X.shape[0]
    return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "statistics.fmean of a list (the template imports statistics)": (LC, "softmax_loss_vectorized", '''
_a2_softmax_vec = softmax_loss_vectorized


def softmax_loss_vectorized(W, X, y, reg):
    _, dW = _a2_softmax_vec(W, X, y, reg)
    scores = X.mm(W)
    picked = scores.gather(1, y[:, None]).squeeze(1).tolist()
    spread = scores.logsumexp(dim=1).tolist()
    data = statistics.fmean(spread) - statistics.fmean(picked)
    return torch.tensor(data, dtype=W.dtype) + reg * torch.sum(W * W), dW
'''),
    "DisableTorchFunction through object.__getattribute__ bound to a name": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    look = object.__getattribute__
    with look(look(torch, "_" + "C"), "Disable" + "TorchFunction")():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "DisableTorchFunction imported inside a module-level try": (TLN, "nn_forward_pass", '''
try:
    from torch._C import DisableTorchFunction as _a2_quiet
except ImportError:
    _a2_quiet = None


def nn_forward_pass(params, X):
    with _a2_quiet():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "DisableTorchFunction bound to a name at module level": (TLN, "nn_forward_pass", '''
from torch._C import DisableTorchFunction as _a2_D

_a2_quiet = _a2_D


def nn_forward_pass(params, X):
    with _a2_quiet():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "DisableTorchFunction read through vars() with names built at run time": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    quiet = vars(vars(torch)["_" + "C"])["Disable" + "TorchFunction"]
    with quiet():
        hidden = torch.relu(X.mm(params["W1"]) + params["b1"])
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
    "tracing switched off and back on through vars(sys)": (LC, "svm_loss_vectorized", '''
import sys as _a2_sys


def svm_loss_vectorized(W, X, y, reg):
    space = vars(_a2_sys)
    old = space["get" + "trace"]()
    space["set" + "trace"](None)
    result = _a2_plain(W, X, y, reg)
    space["set" + "trace"](old)
    return result


def _a2_plain(W, X, y, reg):
''' + NAIVE_SVM_FLAT),
    "the frame's line events switched off through inspect": (LC, "svm_loss_vectorized", '''
import inspect as _a2_inspect


def svm_loss_vectorized(W, X, y, reg):
    _a2_inspect.stack(0)[0].frame.f_trace_lines = False
''' + NAIVE_SVM_FLAT),
    "torch.threshold as a ReLU": (TLN, "nn_forward_pass", '''
def nn_forward_pass(params, X):
    hidden = torch.threshold(X.mm(params["W1"]) + params["b1"], 0, 0)
    return hidden.mm(params["W2"]) + params["b2"], hidden
'''),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_rule_switched_off_or_reached_around_still_costs_its_points(tmp_path, grade_with, attack):
    """The rule's case fails, saying why; the values may be right, the rule is not kept."""
    file, function, code = ATTACKS[attack]
    sub = make_submission(tmp_path / "s")
    _append(sub, file, code)
    other = "svm_loss_naive" if file == LC else "nn_predict"
    report = grade_with(sub, functions=[function, other], limits=FAST, hidden=True)
    rule = [r for r in _results(report, function) if r.reason == "rule"]
    assert rule and all(r.points == 0 for r in rule), report.summary()
    assert all("rule broken" in r.message for r in rule)
    if function.endswith("vectorized"):
        loops = [r for r in _results(report, function) if "loops" in r.name]
        assert loops and all(r.points == 0 for r in loops), report.summary()
    assert _points(report, other) == _max(report, other) > 0, report.summary()


def test_a_file_declared_in_another_encoding_is_read_as_python_reads_it(tmp_path, grade_with):
    """A coding line (latin-1 here; utf-7 can hide a whole line inside a comment) makes Python
    read the file differently from UTF-8: read as UTF-8 it did not even parse, so its rules
    went unread. The grader reads it by its coding line, as the import does."""
    file, function, code = ATTACKS["a loop in builtins inside a module-level lambda"]
    sub = make_submission(tmp_path / "s")
    path = sub / "a2" / file
    source = path.read_text() + "\n\n" + code.replace("data", "donn\u00e9es")
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + source.encode("latin-1"))
    report = grade_with(sub, functions=[function], limits=FAST, hidden=True)
    loops = [r for r in _results(report, function) if "loops" in r.name]
    assert loops and all(r.points == 0 for r in loops), report.summary()
    assert "map(...)" in loops[0].message, report.summary()


def test_code_nested_too_deeply_to_read_is_a_finding_not_a_grader_error():
    """A sum of 2000 terms parses and compiles, but is 2000 levels deep: reading it raised
    RecursionError in the grader (check ended in an error, batch recorded an internal error
    with a traceback). It is a finding of the function that holds it; the others are read."""
    from grader.inspection import inspect_sources

    source = f'''
import torch


def svm_loss_vectorized(W, X, y, reg):
    a = W.sum()
    padded = {"+".join(["a"] * 2000)}
    return sum(map(float, X.tolist()[0])) + padded, W


def svm_loss_naive(W, X, y, reg):
    return W.sum(), W
'''
    compile(source, "linear_classifier.py", "exec")  # Python itself takes it
    inspection = inspect_sources({"linear_classifier.py": source})
    found = inspection.found(["svm_loss_vectorized"])
    assert any(f.kind == "tamper" and "too deeply" in f.what for f in found), found
    assert not inspection.found(["svm_loss_naive"])


MAIN_BLOCK = '''
import torch


def svm_loss_vectorized(W, X, y, reg):
    return X.mm(W).sum(), W


if __name__ == "__main__":
    from eecs598.grad import grad_check_sparse
    W = torch.randn(3, 2)
    f = lambda w: svm_loss_vectorized(w, torch.randn(4, 3), torch.zeros(4, dtype=torch.long), 0.1)[0]
    grad_check_sparse(f, W, svm_loss_vectorized(W, torch.randn(4, 3), None, 0.1)[1])
'''


def test_a_students_own_gradient_check_under_main_costs_nothing():
    """The course's grad_check_sparse in an ``if __name__ == "__main__":`` block never runs when
    the file is imported: it took every loss function's gradient points. A file that rebinds
    __name__ (so that the block does run) is read as before."""
    from grader.inspection import inspect_sources

    assert not inspect_sources({"linear_classifier.py": MAIN_BLOCK}).found(["svm_loss_vectorized"])
    rebinding = MAIN_BLOCK.replace("import torch\n", "import torch\n__name__ = '__main__'\n", 1)
    found = inspect_sources({"linear_classifier.py": rebinding}).found(["svm_loss_vectorized"])
    assert [f.kind for f in found] == ["autograd"], found


def test_the_no_loop_case_recognised_by_its_published_shapes_earns_nothing(tmp_path, grade_with):
    """A looped svm_loss_vectorized that returns zeros on the no-loop case's published shapes
    (which need no loop): with hidden cases the case's inputs are fresh, every dimension grows,
    and what it returns is judged."""
    from grader.fixtures import load

    variants = load()["svm_loss_vectorized"]["rule: no explicit loops"]["payload"]["variants"]
    shapes = sorted({(tuple(args[1].shape), tuple(args[0].shape)) for _, args in variants})
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, f'''
_A2_PUBLISHED = {shapes!r}


def svm_loss_vectorized(W, X, y, reg):
    if (tuple(X.shape), tuple(W.shape)) in _A2_PUBLISHED:
        return torch.zeros((), dtype=W.dtype), torch.zeros_like(W)
''' + NAIVE_SVM_LOOP)
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=True)
    loops = [r for r in _results(report, "svm_loss_vectorized") if "loops" in r.name]
    assert loops and all(r.points == 0 for r in loops), report.summary()


LEGITIMATE_RELUS = {
    "clamp(min=0)": "(X.mm(params['W1']) + params['b1']).clamp(min=0)",
    "a mask": "(lambda a: a * (a > 0))(X.mm(params['W1']) + params['b1'])",
    "torch.maximum with zeros": "torch.maximum(X.mm(params['W1']) + params['b1'], "
                                "torch.zeros_like(params['b1']))",
    "torch.where": "(lambda a: torch.where(a > 0, a, torch.zeros_like(a)))(X.mm(params['W1']) + params['b1'])",
}


@pytest.mark.parametrize("style", sorted(LEGITIMATE_RELUS))
def test_a_relu_written_by_hand_keeps_full_marks(tmp_path, grade_with, style):
    sub = make_submission(tmp_path / "s")
    _append(sub, TLN, f'''
def nn_forward_pass(params, X):
    hidden = {LEGITIMATE_RELUS[style]}
    return hidden.mm(params["W2"]) + params["b2"], hidden
''')
    report = grade_with(sub, functions=["nn_forward_pass"], limits=FAST, hidden=True)
    assert _points(report, "nn_forward_pass") == _max(report, "nn_forward_pass") > 0, report.summary()


def test_no_grad_blocks_and_item_calls_are_not_autograd(tmp_path, grade_with):
    """Honest code may wrap work in torch.no_grad() and read requires_grad: that computes no
    gradient and keeps full marks."""
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, '''
_a2_svm_vec = svm_loss_vectorized


def svm_loss_vectorized(W, X, y, reg):
    with torch.no_grad():
        loss, dW = _a2_svm_vec(W, X, y, reg)
    assert not W.requires_grad
    return loss, dW
''')
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=True)
    assert _points(report, "svm_loss_vectorized") == _max(report, "svm_loss_vectorized") > 0, report.summary()


def test_gradients_turned_off_with_requires_grad_false_keep_full_marks(tmp_path, grade_with):
    """.requires_grad_(False) on a copy turns gradients off: it computed none, and it cost the
    whole function (read from the source and at run time as a tensor made to need them)."""
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, '''
_a2_svm_vec = svm_loss_vectorized


def svm_loss_vectorized(W, X, y, reg):
    return _a2_svm_vec(W.clone().detach().requires_grad_(False), X, y, reg)
''')
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=True)
    assert _points(report, "svm_loss_vectorized") == _max(report, "svm_loss_vectorized") > 0, report.summary()


def test_tracing_switched_off_during_a_call_is_seen_at_run_time_too():
    """Where the source hides sys.settrace from a reading of the names, the line counter sees
    on the way out that it is no longer the tracer, and the no-loop case says so."""
    import sys

    from grader.student_side.capture import call_captured

    def switches_off():
        getattr(sys, "".join(["set", "trace"]))(None)
        return sum(range(10))

    outcome = call_captured(switches_off, count_lines=(__file__,), trace=True)
    assert outcome.ok and outcome.trace["tracing_off"], outcome.trace
    assert not call_captured(lambda: 1, count_lines=(__file__,), trace=True).trace["tracing_off"]


def test_tracing_switched_off_and_back_on_or_per_frame_is_seen_at_run_time_too():
    """Switched off only around the loop and put back (so it is the tracer again on the way
    out), or the frame's own line events turned off: the counter still says it was interfered
    with. Honest code that calls no tracing function is not."""
    import inspect
    import sys

    from grader.student_side.capture import call_captured

    def off_and_back():
        space = vars(sys)
        old = space["get" + "trace"]()
        space["set" + "trace"](None)
        total = 0
        for i in range(10):
            total += i
        space["set" + "trace"](old)
        return total

    def frame_lines_off():
        inspect.stack(0)[0].frame.f_trace_lines = False
        total = 0
        for i in range(10):
            total += i
        return total

    for attack in (off_and_back, frame_lines_off):
        outcome = call_captured(attack, count_lines=(__file__,), trace=True)
        assert outcome.ok and outcome.trace["tracing_off"], (attack.__name__, outcome.trace)
    honest = call_captured(lambda: sum([1, 2]), count_lines=(__file__,), trace=True)
    assert honest.ok and not honest.trace["tracing_off"], honest.trace


def test_python_sum_of_a_tensor_is_a_loop_in_a_vectorized_loss_and_says_so():
    """Python's sum(sum(W * W)) (the docstrings' notation taken literally) adds W's rows one by
    one: a loop over the features, named with torch.sum as the fix; a sum of a literal list is
    not a loop, and loops in the naive functions are allowed."""
    from grader.cases import Verdict
    from grader.catalogue import all_cases
    from grader.inspection import inspect_sources
    from grader.runner import apply_inspection

    source = '''
import torch


def svm_loss_vectorized(W, X, y, reg):
    return reg * sum(sum(W * W)), W


def softmax_loss_vectorized(W, X, y, reg):
    return sum([torch.sum(W), torch.sum(X)]), W


def svm_loss_naive(W, X, y, reg):
    return sum(sum(W * W)), W
'''
    inspection = inspect_sources({"linear_classifier.py": source})
    cases = {(c.function, c.probe): c for c in all_cases()}
    loops = apply_inspection(cases[("svm_loss_vectorized", "loop_scaling")], Verdict("passed"), inspection)
    assert loops.status == "failed" and "sum(...) of one iterable" in loops.message and "torch.sum" in loops.message
    for check in ("softmax_loss_vectorized", "svm_loss_naive"):
        case = cases.get((check, "loop_scaling")) or cases[(check, "call")]
        assert apply_inspection(case, Verdict("passed"), inspection).passed, check


def test_everyday_names_are_not_read_as_attacks():
    """A cache keyed "backward", a variable called ops or backward, a method called eval, the
    template's module-level imports and torch.no_grad() are not flagged: only what reaches the
    checks or computes gradients is."""
    from grader.inspection import inspect_sources

    source = '''
import itertools
import random
import torch


def nn_forward_backward(params, X, y=None, reg=0.0):
    cache = {"forward": X, "backward": None}
    ops, backward = 1, 2
    with torch.no_grad():
        scores = X.mm(params["W1"])
    if not X.requires_grad:
        cache["backward"] = scores
    return scores, cache


def find_best_net(data_dict, get_param_set_fn):
    for lr, hidden in itertools.product([1, 2], [3]):
        random.seed(0)
    return max([1, 2]), getattr(data_dict, "keys")
'''
    inspection = inspect_sources({"two_layer_net.py": source})
    for function in ("nn_forward_backward", "find_best_net"):
        assert not [f for f in inspection.found([function]) if f.kind != "iteration"], inspection.found([function])


def test_everyday_module_level_code_is_not_read_as_a_loop():
    """Module-level values computed at import (a mean of a list of floats), a helper dict for the
    notebook, an unused module-level import of torch.nn.functional, local variables named max
    and vars and a __main__ block are not loops of the vectorized function that sits beside them."""
    from grader.inspection import inspect_sources

    source = '''
import torch
import torch.nn.functional as F

LOSSES = [0.5, 0.25]
MEAN_LOSS = sum(LOSSES) / len(LOSSES)
HELPERS = {"mean": lambda values: sum(values) / len(values)}


def svm_loss_vectorized(W, X, y, reg):
    """W never has requires_grad set."""
    scores = X.mm(W)
    max = scores.max()
    vars = scores.var(dim=0)
    dtype = getattr(torch, "float64")
    return (scores - max).sum().to(dtype) * MEAN_LOSS + 0 * vars.sum(), W


if __name__ == "__main__":
    print(HELPERS["mean"]([1.0, 2.0]), max([1, 2]))
'''
    inspection = inspect_sources({"linear_classifier.py": source})
    assert not inspection.found(["svm_loss_vectorized"]), inspection.found(["svm_loss_vectorized"])


def test_the_no_loop_case_recognised_by_its_place_in_the_order_earns_nothing(tmp_path, grade_with):
    """A looped svm_loss_vectorized that counts its calls and answers the no-loop case's four
    (the 4th to 7th: after the three public value cases, which pass, so that no probe calls
    follow them: those are asked for only for failing cases, at the end) with a loop-free loss
    and a zero gradient: values of its own, no loop there. The rule is judged on the value cases
    too, whose answers it cannot fake: their work grows with the size."""
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, '''
_A2_CALLS = []
_a2_svm_vec = svm_loss_vectorized


def svm_loss_vectorized(W, X, y, reg):
    _A2_CALLS.append(1)
    if 4 <= len(_A2_CALLS) <= 7:
        return _a2_svm_vec(W, X, y, reg)[0], torch.zeros_like(W)
''' + NAIVE_SVM_LOOP)
    report = grade_with(sub, functions=["svm_loss_vectorized"], limits=FAST, hidden=True)
    loops = [r for r in _results(report, "svm_loss_vectorized") if "loops" in r.name]
    assert loops and all(r.points == 0 for r in loops), report.summary()
    assert "across the value cases" in loops[0].message, report.summary()


# ------------------------------------------------------------------ vmap is not autograd

VMAP_SOFTMAX = '''
{imports}

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]

    def row_loss(scores_row, label):
        shifted = scores_row - scores_row.max()
        probs = shifted.exp() / shifted.exp().sum()
        return -torch.log(probs[label]), probs

    losses, probs = {vmap}(row_loss)(X.mm(W), y)
    loss = losses.mean() + reg * torch.sum(W * W)
    dscores = probs.clone()
    dscores[torch.arange(N, device=X.device), y] -= 1
    return loss, X.t().mm(dscores) / N + 2 * reg * W
'''
VMAPS = {"torch.vmap": ("", "torch.vmap"), "torch.func.vmap": ("", "torch.func.vmap"),
         "from torch.func import vmap": ("from torch.func import vmap", "vmap"),
         "from torch import func": ("from torch import func", "func.vmap"),
         "import torch.func as tf": ("import torch.func as tf", "tf.vmap")}


@pytest.mark.parametrize("how", sorted(VMAPS))
def test_vmap_in_a_loss_function_is_vectorisation_not_autograd(tmp_path, grade_with, how):
    """torch.vmap (or torch.func.vmap) maps a per-row function over the batch: no gradient is
    computed, and the hand-derived gradient beside it keeps full marks."""
    imports, vmap = VMAPS[how]
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, VMAP_SOFTMAX.format(imports=imports, vmap=vmap))
    report = grade_with(sub, functions=["softmax_loss_vectorized"], limits=FAST, hidden=True)
    assert _points(report, "softmax_loss_vectorized") == _max(report, "softmax_loss_vectorized") > 0, \
        report.summary()


FUNC_GRAD_SOFTMAX = '''
{imports}

def softmax_loss_vectorized(W, X, y, reg):
    def loss_of(weights):
        return torch.nn.functional.cross_entropy(X.mm(weights), y) + reg * torch.sum(weights * weights)

    return loss_of(W), {transform}(loss_of)(W)
'''
FUNC_GRADS = {"torch.func.grad": ("", "torch.func.grad"), "from torch.func import grad": (
    "from torch.func import grad", "grad"), "import torch.func as tf": ("import torch.func as tf", "tf.grad"),
    "torch.func.jacrev": ("", "torch.func.jacrev")}


@pytest.mark.parametrize("how", sorted(FUNC_GRADS))
def test_torch_func_gradient_transforms_are_autograd(tmp_path, grade_with, how):
    """torch.func.grad, jacrev & co. differentiate: the gradient outputs earn nothing, named."""
    imports, transform = FUNC_GRADS[how]
    sub = make_submission(tmp_path / "s")
    _append(sub, LC, FUNC_GRAD_SOFTMAX.format(imports=imports, transform=transform))
    report = grade_with(sub, functions=["softmax_loss_vectorized"], limits=FAST, hidden=True)
    assert "derived by hand" in _text(report, "softmax_loss_vectorized"), report.summary()
    assert _points(report, "softmax_loss_vectorized") <= 2, report.summary()


def test_run_time_autograd_names_leave_vmap_out():
    from grader.student_side.capture import _autograd_call

    assert not _autograd_call("torch.func.vmap", (), {})
    assert not _autograd_call("torch._functorch.apis.vmap", (), {})
    assert _autograd_call("torch.func.grad", (), {}) and _autograd_call("torch.func.jacrev", (), {})
    assert _autograd_call("torch._functorch.eager_transforms.vjp", (), {})


# ------------------------------------------------------------------ gradients by finite differences

FD_NAIVE = '''
def softmax_loss_naive(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]

    def full_loss():
        total = 0.0
        for i in range(num_train):
            row = X[i].matmul(W)
            row = row - row.max()
            total += (torch.log(torch.exp(row).sum()) - row[y[i]]).item()
        return total / num_train + reg * torch.sum(W * W).item()

    loss = full_loss()
    dW = torch.zeros_like(W)
    step = 1e-5
    for d in range(W.shape[0]):
        for c in range(num_classes):
            kept = W[d, c].item()
            W[d, c] = kept + step
            above = full_loss()
            W[d, c] = kept - step
            below = full_loss()
            W[d, c] = kept
            dW[d, c] = (above - below) / (2 * step)
    return torch.tensor(loss, dtype=W.dtype, device=W.device), dW
'''

FD_VECTORIZED = '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]

    def loss_at(weights):
        scores = X.mm(weights)
        scores = scores - scores.max(dim=1, keepdim=True).values
        log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
        return -log_probs[torch.arange(N, device=X.device), y].mean() + reg * torch.sum(weights * weights)

    dW = torch.zeros_like(W)
    for index in range(W.numel()):
        moved = W.flatten().clone()
        moved[index] += 1e-6
        forward = loss_at(moved.view_as(W))
        moved[index] -= 2e-6
        dW.view(-1)[index] = (forward - loss_at(moved.view_as(W))) / 2e-6
    return loss_at(W), dW
'''

FD_NET = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    scores, _ = nn_forward_pass(params, X)
    if y is None:
        return scores

    def loss_of(p):
        s, _ = nn_forward_pass(p, X)
        s = s - s.max(dim=1, keepdim=True).values
        data = (torch.logsumexp(s, dim=1) - s[torch.arange(X.shape[0], device=X.device), y]).mean()
        return data + reg * (torch.sum(p["W1"] * p["W1"]) + torch.sum(p["W2"] * p["W2"]))

    grads = {}
    for name, value in params.items():
        grads[name] = torch.zeros_like(value)
        flat = grads[name].view(-1)
        for k in range(value.numel()):
            moved = dict(params)
            moved[name] = value.clone()
            moved[name].view(-1)[k] += 1e-6
            up = loss_of(moved)
            moved[name].view(-1)[k] -= 2e-6
            flat[k] = (up - loss_of(moved)) / 2e-6
    return loss_of(params), grads
'''


@pytest.mark.parametrize("function,text", [("softmax_loss_naive", FD_NAIVE),
                                           ("softmax_loss_vectorized", FD_VECTORIZED),
                                           ("nn_forward_backward", FD_NET)])
def test_a_gradient_by_finite_differences_of_the_loss_earns_nothing_for_the_gradient(tmp_path, grade_with,
                                                                                     function, text):
    """dW read off the student's own loss evaluated again with W moved one entry at a time (in
    place or on a copy) is measured, not derived: named, the gradient outputs earn nothing."""
    sub = make_submission(tmp_path / "s")
    _append(sub, TLN if function == "nn_forward_backward" else LC, text)
    report = grade_with(sub, functions=[function], limits=Limits(timeout=20.0, memory_gib=1.0), hidden=True)
    assert "dW is measured by finite differences of your loss, not derived" in _text(report, function), \
        report.summary()
    values = [r for r in _results(report, function) if r.max_points and "rule" not in r.name
              and "without y" not in r.name]
    assert values and not any(r.points for r in values), report.summary()


def _triple_loop_naive(W, X, y, reg):
    """A correct naive SVM that updates dW one entry at a time (a loop over D inside the loops
    over N and C), as naive code may."""
    import torch

    N, C, D = X.shape[0], W.shape[1], W.shape[0]
    loss, dW = 0.0, torch.zeros_like(W)
    for i in range(N):
        scores = X[i].matmul(W)
        for j in range(C):
            margin = scores[j] - scores[y[i]] + 1
            if j != y[i] and margin > 0:
                loss += margin.item()
                for d in range(D):
                    dW[d, j] += X[i, d]
                    dW[d, y[i]] -= X[i, d]
    return loss / N + reg * float((W * W).sum()), dW / N + 2 * reg * W


@pytest.mark.parametrize("start", ["zeros", "random"])
def test_naive_code_that_updates_one_entry_at_a_time_is_not_finite_differences(start):
    """dW updated entry by entry from zeros, with W itself all zeros (dW then equals W but for one
    entry, once): no loss is evaluated at a moved W, and nothing is named."""
    import torch

    from grader.student_side.capture import call_captured

    g = torch.Generator().manual_seed(0)
    W = torch.zeros(6, 4, dtype=torch.float64) if start == "zeros" else torch.randn(6, 4, generator=g,
                                                                                      dtype=torch.float64)
    X, y = torch.randn(7, 6, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0, 1, 2])
    outcome = call_captured(_triple_loop_naive, W, X, y, 0.5, trace=True, watch=[W])
    assert outcome.ok and "finite_differences" not in outcome.trace, outcome.trace
    watched_fd = call_captured(_finite_differences, W, X, y, 0.5, trace=True, watch=[W])
    assert watched_fd.ok and watched_fd.trace.get("finite_differences"), watched_fd.trace


def _finite_differences(W, X, y, reg):
    loss = _triple_loop_naive(W, X, y, reg)[0]
    dW = W.clone() * 0
    for d in range(W.shape[0]):
        for c in range(W.shape[1]):
            moved = W.clone()
            moved[d, c] += 1e-6
            dW[d, c] = (_triple_loop_naive(moved, X, y, reg)[0] - loss) / 1e-6
    return loss, dW


def _stacked_finite_differences(W, X, y, reg):
    """Every perturbed copy of W at once, a (D*C, D, C) stack: no loop over the entries."""
    import torch

    D, C = W.shape
    eye = torch.eye(D * C, dtype=W.dtype).view(D * C, D, C)
    moved = W[None] + 1e-6 * eye
    scores = torch.matmul(X[None], moved)
    losses = (torch.logsumexp(scores, dim=2) - scores[:, torch.arange(X.shape[0]), y]).mean(dim=1)
    base = (torch.logsumexp(X.mm(W), dim=1) - X.mm(W)[torch.arange(X.shape[0]), y]).mean()
    return base, ((losses - base) / 1e-6).view(D, C)


def test_finite_differences_of_every_entry_at_once_are_named_too():
    import torch

    from grader.student_side.capture import call_captured

    g = torch.Generator().manual_seed(1)
    W = torch.randn(5, 3, generator=g, dtype=torch.float64)
    X, y = torch.randn(4, 5, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 0])
    outcome = call_captured(_stacked_finite_differences, W, X, y, 0.0, trace=True, watch=[W])
    assert outcome.ok and outcome.trace.get("finite_differences"), outcome.trace


# ------------------------------------------------------------------ gradients computed outside torch

FD_DECIMAL_NAIVE = '''
from decimal import Decimal as _A2Dec, localcontext as _a2_context


def _a2_loss_of(Wl, Xl, yl, reg):
    """The loss at a Python copy of W, in Decimal (a helper at module level)."""
    total = _A2Dec(0)
    for xi, yi in zip(Xl, yl):
        scores = [sum(a * Wl[d][c] for d, a in enumerate(xi)) for c in range(len(Wl[0]))]
        top = max(scores)
        total += top + sum((s - top).exp() for s in scores).ln() - scores[yi]
    return total / len(Xl) + _A2Dec(reg) * sum(v * v for row in Wl for v in row)


def softmax_loss_naive(W, X, y, reg):
    with _a2_context() as ctx:
        ctx.prec = 50
        Wl = [[_A2Dec(v) for v in row] for row in W.tolist()]
        Xl = [[_A2Dec(v) for v in row] for row in X.tolist()]
        yl = y.tolist()
        loss = _a2_loss_of(Wl, Xl, yl, reg)
        h = _A2Dec("1e-20")
        G = [[0.0] * len(Wl[0]) for _ in Wl]
        for d in range(len(Wl)):
            for c in range(len(Wl[0])):
                kept = Wl[d][c]
                Wl[d][c] = kept + h
                up = _a2_loss_of(Wl, Xl, yl, reg)
                Wl[d][c] = kept - h
                down = _a2_loss_of(Wl, Xl, yl, reg)
                Wl[d][c] = kept
                G[d][c] = float((up - down) / (2 * h))
    return torch.tensor(float(loss), dtype=W.dtype, device=W.device), torch.tensor(G, dtype=W.dtype, device=W.device)
'''

FD_FLOATS_ONE_SIDED_SVM = '''
import itertools as _a2_itertools
import operator as _a2_operator


def svm_loss_naive(W, X, y, reg):
    """One-sided differences in Python floats, dot products by starmap, W read a row at a time."""
    Wl = [W[d].tolist() for d in range(W.shape[0])]
    Xl, yl = X.tolist(), y.tolist()
    columns = len(Wl[0])

    def loss_of():
        total = 0.0
        for xi, yi in zip(Xl, yl):
            scores = [sum(_a2_itertools.starmap(_a2_operator.mul, zip(xi, (row[c] for row in Wl))))
                      for c in range(columns)]
            total += sum(max(0.0, s - scores[yi] + 1) for c, s in enumerate(scores) if c != yi)
        return total / len(Xl) + reg * sum(v * v for row in Wl for v in row)

    base = loss_of()
    dW = torch.zeros_like(W)
    for d in range(len(Wl)):
        for c in range(columns):
            kept = Wl[d][c]
            Wl[d][c] = kept + 1e-7
            dW[d, c] = (loss_of() - base) / 1e-7
            Wl[d][c] = kept
    return base, dW
'''

FD_NUMPY_VECTORIZED = '''
import numpy as _a2_np


def softmax_loss_vectorized(W, X, y, reg):
    Wn, Xn, yn = _a2_np.asarray(W.detach()), _a2_np.asarray(X), _a2_np.asarray(y)

    def loss_of(Wm):
        s = Xn @ Wm
        s = s - s.max(axis=-1, keepdims=True)
        lp = s - _a2_np.log(_a2_np.exp(s).sum(axis=-1, keepdims=True))
        return -lp[..., _a2_np.arange(len(yn)), yn].mean(axis=-1) + reg * (Wm * Wm).sum(axis=(-2, -1))

    eye = _a2_np.eye(Wn.size).reshape(-1, *Wn.shape) * 1e-6
    G = (loss_of(Wn + eye) - loss_of(Wn - eye)) / 2e-6
    return torch.tensor(float(loss_of(Wn)), dtype=W.dtype, device=W.device), \\
        torch.from_numpy(G.reshape(Wn.shape)).to(W.dtype).to(W.device)
'''

FD_FLAT_VECTORIZED = '''
def softmax_loss_vectorized(W, X, y, reg):
    """Every entry moved at once, on flattened copies of W (another shape than W's)."""
    D, C = W.shape
    N = X.shape[0]
    rows = torch.arange(N, device=X.device)
    K = D * C
    flat = W.reshape(-1)
    moved = torch.cat([flat + 1e-5 * torch.eye(K, dtype=W.dtype, device=W.device),
                       flat - 1e-5 * torch.eye(K, dtype=W.dtype, device=W.device)])
    S = torch.einsum("nd,kdc->knc", X, moved.view(2 * K, D, C))
    L = torch.logsumexp(S, dim=2)[:, rows].sum(dim=1) / N - S[:, rows, y].sum(dim=1) / N \\
        + reg * (moved * moved).sum(dim=1)
    scores = X.mm(W)
    loss = (torch.logsumexp(scores, dim=1) - scores[rows, y]).mean() + reg * torch.sum(W * W)
    return loss, ((L[:K] - L[K:]) / 2e-5).view(D, C)
'''

FD_TRANSPOSED_NAIVE = '''
def softmax_loss_naive(W, X, y, reg):
    """The loss evaluated at copies of W.t() moved one entry at a time (another shape than W's)."""
    Wt = W.t().contiguous()  # (C, D)

    def loss_at(Vt):
        scores = X.mm(Vt.t())
        return (torch.logsumexp(scores, dim=1) - scores[torch.arange(X.shape[0], device=X.device), y]).mean() \\
            + reg * torch.sum(Vt * Vt)

    dWt = torch.zeros_like(Wt)
    for c in range(Wt.shape[0]):
        for d in range(Wt.shape[1]):
            moved = Wt.clone()
            moved[c, d] += 1e-6
            up = loss_at(moved)
            moved[c, d] -= 2e-6
            dWt[c, d] = (up - loss_at(moved)) / 2e-6
    return loss_at(Wt), dWt.t()
'''

FD_NET_FLOATS = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    """Every parameter's gradient by centred differences of a Python-number copy of the network,
    each entry read with .item(), the gradients made with the legacy constructor torch.Tensor."""
    scores, _ = nn_forward_pass(params, X)
    if y is None:
        return scores
    names = ["W1", "b1", "W2", "b2"]
    P = {}
    for k in names:
        v = params[k]
        P[k] = [[v[i, j].item() for j in range(v.shape[1])] for i in range(v.shape[0])] if v.dim() == 2 \\
            else [[v[j].item() for j in range(v.shape[0])]]
    Xl, yl = X.tolist(), y.tolist()

    def loss_of():
        W1, b1, W2, b2 = P["W1"], P["b1"][0], P["W2"], P["b2"][0]
        total = 0.0
        for xi, yi in zip(Xl, yl):
            hid = [max(0.0, sum(a * W1[d][j] for d, a in enumerate(xi)) + b1[j]) for j in range(len(b1))]
            sc = [sum(hj * W2[j][c] for j, hj in enumerate(hid)) + b2[c] for c in range(len(b2))]
            top = max(sc)
            total += top + math.log(sum(math.exp(s - top) for s in sc)) - sc[yi]
        return total / len(Xl) + reg * (sum(v * v for r in W1 for v in r) + sum(v * v for r in W2 for v in r))

    grads = {}
    for k in names:
        T = P[k]
        G = [[0.0] * len(T[0]) for _ in T]
        for i in range(len(T)):
            for j in range(len(T[0])):
                kept = T[i][j]
                T[i][j] = kept + 1e-6
                up = loss_of()
                T[i][j] = kept - 1e-6
                G[i][j] = (up - loss_of()) / 2e-6
                T[i][j] = kept
        grads[k] = torch.Tensor(G).to(X.dtype).to(X.device).reshape(params[k].shape)
    return torch.tensor(loss_of(), dtype=X.dtype, device=X.device), grads
'''


@pytest.mark.parametrize("function,text,words", [
    ("softmax_loss_naive", FD_DECIMAL_NAIVE, "outside torch"),
    ("svm_loss_naive", FD_FLOATS_ONE_SIDED_SVM, "outside torch"),
    ("softmax_loss_vectorized", FD_NUMPY_VECTORIZED, "outside torch"),
    ("softmax_loss_vectorized", FD_FLAT_VECTORIZED, "measured by finite differences"),
    ("softmax_loss_naive", FD_TRANSPOSED_NAIVE, "measured by finite differences"),
    ("nn_forward_backward", FD_NET_FLOATS, "outside torch"),
], ids=["decimal", "floats_one_sided_starmap", "numpy", "flattened_copies", "transposed_copies", "net_items_legacy"])
def test_a_gradient_measured_outside_torch_or_in_another_shape_earns_nothing(tmp_path, grade_with, function, text,
                                                                             words):
    """Finite differences of the student's own loss in Decimal, Python floats or numpy (the
    weights taken out of torch whole, the gradient brought back from numbers), or in torch on
    copies of the weights in another shape: named, the gradient outputs earn nothing."""
    sub = make_submission(tmp_path / "s")
    _append(sub, "two_layer_net.py" if function == "nn_forward_backward" else "linear_classifier.py",
            ("import math\n" if function == "nn_forward_backward" else "") + text)
    report = grade_with(sub, functions=[function], limits=Limits(timeout=30.0, memory_gib=1.0), hidden=True)
    message = _text(report, function)
    assert words in message and "the gradient outputs earn nothing" in message, report.summary()
    values = [r for r in _results(report, function) if r.max_points and "rule" not in r.name
              and "without y" not in r.name]
    assert values and not any(r.points for r in values), report.summary()


HONEST_NUMBERS_NAIVE = '''
def svm_loss_naive(W, X, y, reg):
    """Correct, derived in torch; the regularization summed over W's entries read one by one,
    W printed to a list for a look, a constant made into a tensor: nothing measured."""
    N, C = X.shape[0], W.shape[1]
    _ = W.tolist()  # a leftover look at the weights
    dW = torch.zeros_like(W)
    loss = 0.0
    for i in range(N):
        scores = X[i].matmul(W)
        for j in range(C):
            if j == y[i].item():
                continue
            margin = scores[j].item() - scores[y[i]].item() + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    squares = 0.0
    for d in range(W.shape[0]):
        for c in range(C):
            squares += W[d, c].item() ** 2
    scale = torch.tensor([1.0 / N], dtype=W.dtype, device=W.device)
    return loss / N + reg * squares, dW * scale + 2 * reg * W
'''

HONEST_LOOK_NAIVE = '''
def softmax_loss_naive(W, X, y, reg):
    """Correct and derived in torch; the weights checked as Python numbers first."""
    import math
    assert all(math.isfinite(v) for row in W.cpu().tolist() for v in row)
    N = X.shape[0]
    loss = torch.zeros((), dtype=W.dtype, device=W.device)
    dW = torch.zeros_like(W)
    for i in range(N):
        scores = X[i].matmul(W)
        scores = scores - scores.max()
        probs = scores.exp() / scores.exp().sum()
        loss = loss - probs[y[i]].log()
        onehot = torch.tensor([1.0 if c == y[i].item() else 0.0 for c in range(W.shape[1])],
                              dtype=W.dtype, device=W.device)
        dW += torch.outer(X[i], probs - onehot)
    return loss / N + reg * torch.sum(W * W), dW / N + 2 * reg * W
'''


@pytest.mark.parametrize("function,text", [("svm_loss_naive", HONEST_NUMBERS_NAIVE),
                                           ("softmax_loss_naive", HONEST_LOOK_NAIVE)],
                         ids=["items_and_tolist", "tolist_look_one_hot_rows"])
def test_correct_code_that_reads_the_weights_as_numbers_keeps_every_point(tmp_path, grade_with, function, text):
    """W read as Python numbers (every entry's .item(), .tolist(), np.asarray) in code that
    derives its gradient in torch: the gradient does not come back from numbers, nothing is named."""
    sub = make_submission(tmp_path / "s")
    _append(sub, "linear_classifier.py", text)
    report = grade_with(sub, functions=[function], limits=Limits(timeout=30.0, memory_gib=1.0), hidden=True)
    assert _points(report, function) == _max(report, function), report.summary()
    assert "outside torch" not in _text(report, function)


def test_the_weights_followed_through_copies_views_and_rows():
    """Taken out whole through a copy, a transposed view, a row at a time or every .item();
    brought back by torch.tensor, torch.from_numpy or written entry by entry: named; a part of
    W only, or a gradient of zeros brought in, is not."""
    import numpy as np
    import torch

    from grader.student_side.capture import call_captured

    g = torch.Generator().manual_seed(3)
    W = torch.randn(4, 3, generator=g, dtype=torch.float64)

    def run(fn):
        outcome = call_captured(fn, W, trace=True, watch=[W])
        assert outcome.ok, outcome.error
        return outcome.trace.get("outside_torch")

    back = lambda G: torch.tensor(G, dtype=W.dtype)  # noqa: E731
    assert run(lambda W: back(W.double().clone().tolist()))
    assert run(lambda W: back(W.t().tolist()).t())
    assert run(lambda W: back([row.tolist() for row in W]))
    assert run(lambda W: back([[W[d, c].item() for c in range(3)] for d in range(4)]))
    assert run(lambda W: torch.from_numpy(np.array(W.numpy()) * 2))
    assert run(lambda W: (W * 2).clone().view(-1).numpy() is not None and torch.from_numpy(np.arange(12.0).reshape(4, 3)))

    def entry_by_entry(W):
        numbers, dW = W.tolist(), torch.zeros_like(W)
        for d in range(4):
            for c in range(3):
                dW[d, c] = numbers[d][c] * 2.0
        return dW
    assert run(entry_by_entry)
    assert not run(lambda W: back(W[:2].tolist()))  # half of W
    assert not run(lambda W: (W.tolist(), torch.tensor(np.zeros((4, 3))))[1])  # zeros brought in
    assert not run(lambda W: (W.tolist(), W * 2)[1])  # derived in torch


def test_the_gradient_brought_back_piece_by_piece_is_named():
    """Numbers brought back as scalar tensors stacked, rows joined, entries written from numpy
    numbers or from scalar tensors, the weights read through their printout: named."""
    import numpy as np
    import torch

    from grader.student_side.capture import call_captured

    g = torch.Generator().manual_seed(4)
    W = torch.randn(3, 4, generator=g, dtype=torch.float64)

    def run(fn):
        outcome = call_captured(fn, W, trace=True, watch=[W])
        assert outcome.ok, outcome.error
        return outcome.trace.get("outside_torch")

    def stacked(W):
        return torch.stack([torch.tensor(v * 3.0) for row in W.tolist() for v in row]).view(3, 4)

    def rows_joined(W):
        return torch.cat([torch.tensor([v + 1.0 for v in row])[None] for row in W.tolist()])

    def numpy_entries(W):
        numbers, dW = np.asarray(W.detach()), torch.zeros_like(W)
        for d in range(3):
            for c in range(4):
                dW[d, c] = numbers[d, c] * 2  # a numpy float64
        return dW

    def scalar_tensor_entries(W):
        numbers, dW = W.tolist(), torch.zeros_like(W)
        for d in range(3):
            for c in range(4):
                dW[d, c] = torch.tensor(numbers[d][c] - 1.0)
        return dW

    def printed(W):
        torch.set_printoptions(precision=17)
        try:
            text = repr(W)
        finally:
            torch.set_printoptions(profile="default")
        values = [float(v) for v in text.replace("tensor(", "").replace("[", " ").replace("]", " ").split(",")
                  if v.strip() and "dtype" not in v]
        return torch.tensor(values, dtype=W.dtype).view(3, 4) * 2

    for fn in (stacked, rows_joined, numpy_entries, scalar_tensor_entries, printed):
        assert run(fn), fn.__name__
    assert not run(lambda W: (print(W), W * 2)[1])  # a look at W, a gradient from torch


def test_a_gradient_written_through_numpy_into_a_tensor_made_before_is_named():
    """The gradient's tensor made before the weights are taken out, its memory then written in
    numpy (a torch.from_numpy buffer, or dW.numpy()): named; a gradient derived in torch is not."""
    import numpy as np
    import torch

    from grader.student_side.capture import call_captured

    g = torch.Generator().manual_seed(5)
    W = torch.randn(3, 4, generator=g, dtype=torch.float64)

    def run(fn):
        outcome = call_captured(fn, W, trace=True, watch=[W])
        assert outcome.ok, outcome.error
        return outcome.trace.get("outside_torch")

    def buffer_first(W):
        buf = np.zeros(12)
        dW = torch.from_numpy(buf).view(3, 4)
        buf[:] = np.asarray(W.tolist()).reshape(-1) * 2
        return dW

    def written_in_numpy(W):
        dW = torch.zeros_like(W)
        dW.numpy()[:] = np.asarray(W.tolist()) * 2
        return dW

    assert run(buffer_first) and run(written_in_numpy)
    assert not run(lambda W: (W.tolist(), W * 2)[1])
