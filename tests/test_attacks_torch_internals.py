"""Attacks through torch's own machinery and the kit's other assignment: custom operators
(``torch.library``: what runs inside one is out of the tracer's sight, and a kernel registered
for an aten operator rewrites the checks), forward-mode differentiation reached through
``torch._functorch`` by a name in a string, torch's own derivative kernels
(``_log_softmax_backward_data``), ReLU under names of torch's internals (``_add_relu``,
``rnn_relu_cell``), A3's update rules handed to ``torch.optim``, and A2's losses taken from
A3's helpers. Each costs the function it lives in, named; correct code around it keeps its
points."""
import pytest
from submissions import LC, TLN, make_submission

from grader.sandbox import Limits

FAST = Limits(timeout=10.0, memory_gib=1.5)
A3_FILE = "fully_connected_networks.py"


def _fn(report, function):
    got = [r for r in report.results if r.check == function]
    return sum(r.points for r in got), sum(r.max_points for r in got), "\n".join(r.details() for r in got)


def _a3(tmp_path, old, new, prelude=""):
    from a3_attacks import SOLUTION

    text = SOLUTION.read_text()
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    if prelude:
        text = text.replace("\n\ndef hello_fully_connected_networks", prelude + "\n\ndef hello_fully_connected_networks",
                            1)
    folder = tmp_path / "a3sub" / "a3"
    folder.mkdir(parents=True)
    (folder / A3_FILE).write_text(text)
    return folder.parent


CUSTOM_OP = '''
@torch.library.custom_op("a2atk::mine", mutates_args=())
def _a2_mine(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.relu(x)
'''

A2_ATTACKS = {
    # what, (file, old, new, prelude), function, words in its messages
    "ReLU inside a custom operator": (
        (TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)", "hidden = _a2_mine(X.mm(W1) + b1)", CUSTOM_OP),
        "nn_forward_pass", "library"),
    "ReLU as torch._add_relu": (
        (TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)", "hidden = torch._add_relu(X.mm(W1), b1.expand(X.shape[0], -1))",
         ""),
        "nn_forward_pass", "_add_relu"),
    "forward mode through torch._functorch, named in a string": (
        (LC, "    dscores = log_probs.exp()  # (N, C) probabilities\n    dscores[rows, y] -= 1\n"
             "    dW = dscores.t().mm(X).t() / N + 2 * reg * W  # (D, C)",
         "    def _f(Wt):\n        s = torch.einsum('nd,cd->nc', X, Wt)\n"
         "        s = s - s.max(dim=1, keepdim=True).values\n"
         "        lp = s - s.exp().sum(dim=1, keepdim=True).log()\n"
         "        return -lp.gather(1, y[:, None]).sum() / N + reg * torch.sum(Wt * Wt)\n"
         "    dW = getattr(_a2_et, 'jacfwd')(_f)(W.t().contiguous()).t()",
         "from torch._functorch import eager_transforms as _a2_et\n"),
        "softmax_loss_vectorized", "functorch"),
    "torch's own softmax derivative kernel": (
        (LC, "    dscores = log_probs.exp()  # (N, C) probabilities\n    dscores[rows, y] -= 1\n",
         "    g = torch.zeros_like(log_probs)\n    g[rows, y] = -1.0\n"
         "    dscores = torch._log_softmax_backward_data(g, log_probs, 1, log_probs.dtype)\n", ""),
        "softmax_loss_vectorized", "_log_softmax_backward_data"),
}


@pytest.mark.parametrize("attack", sorted(A2_ATTACKS))
def test_torch_internals_cost_the_function_they_live_in(tmp_path, grade_with, attack):
    (file, old, new, prelude), function, words = A2_ATTACKS[attack]
    sub = make_submission(tmp_path / "s", [(file, old, new)])
    if prelude:
        path = sub / "a2" / file
        path.write_text(path.read_text() + "\n\n" + prelude)
    other = "svm_loss_vectorized" if file == LC else "nn_predict"
    report = grade_with(sub, functions=[function, other], limits=FAST, hidden=True)
    points, most, text = _fn(report, function)
    assert points <= 0.5 * most, f"{attack}: {function} kept {points} of {most}\n{text}"
    assert words in text, text
    points, most, text = _fn(report, other)
    assert points == most > 0, text


def test_a2_cannot_take_its_losses_from_a3s_helpers(tmp_path, grade_with):
    """helpers.losses (the course's a3_helper) returns A2's losses and score gradients: while
    A2 is graded it is not importable, in either layout, and the message says why."""
    for layout, line in (("course", "from a3_helper import softmax_loss as _a2_sm"),
                         ("kit", "from helpers.losses import softmax_loss as _a2_sm")):
        sub = make_submission(tmp_path / layout, [(
            LC, "    dscores = log_probs.exp()  # (N, C) probabilities\n    dscores[rows, y] -= 1\n",
            f"    {line}\n    dscores = _a2_sm(X.mm(W), y)[1] * N\n")], layout=layout)
        report = grade_with(sub, functions=["softmax_loss_vectorized", "svm_loss_vectorized"], limits=FAST)
        points, most, text = _fn(report, "softmax_loss_vectorized")
        assert points <= 0.5 * most, f"{layout}: kept {points} of {most}\n{text}"
        assert "not available while Assignment 2 is graded" in text, text
        points, most, _ = _fn(report, "svm_loss_vectorized")
        assert points == most > 0


def test_a3_update_rule_handed_to_torch_optim_earns_nothing(tmp_path, grade_with):
    old = "    next_w = w - config['learning_rate'] * m_hat / (v_hat.sqrt() + config['epsilon'])\n"
    new = ("    import torch.optim._functional as _a3_opt\n    next_w = w.clone()\n"
           "    _a3_opt.adam([next_w], [dw], [config['m'].clone()], [config['v'].clone()], [], "
           "[torch.tensor(float(t))], amsgrad=False, beta1=beta1, beta2=beta2, lr=config['learning_rate'], "
           "weight_decay=0, eps=config['epsilon'], maximize=False)\n")
    report = grade_with(_a3(tmp_path, old, new), functions=["adam", "rmsprop"], limits=FAST)
    points, most, text = _fn(report, "adam")
    assert points == 0 < most and "optim" in text, text
    points, most, _ = _fn(report, "rmsprop")
    assert points == most > 0


def test_a3_kernel_registered_for_an_aten_operator_is_reaching_around_the_checks(tmp_path, grade_with):
    """A kernel for aten::equal would blind the worker's check that the inputs are left alone."""
    prelude = ('\n_a3_lib = torch.library.Library("aten", "IMPL")\n'
               '_a3_lib.impl("equal", lambda a, b: True, "CPU")\n')
    old = "        out = x.clamp(min=0)\n"
    report = grade_with(_a3(tmp_path, old, old, prelude), functions=["ReLU.forward"], limits=FAST)
    points, most, text = _fn(report, "ReLU.forward")
    assert points == 0 < most and "Library" in text, text


def test_forward_mode_and_derivative_kernels_are_seen_at_run_time_too():
    """Where the source hides the names, the tracer sees the work: torch calls inside a
    differentiating functorch transform (not vmap's), and torch's derivative kernels."""
    import torch
    from torch._functorch import eager_transforms

    from grader.student_side.capture import call_captured

    def forward_mode(W, X):
        return getattr(eager_transforms, "".join(["j", "vp"]))(lambda w: (X.mm(w) ** 2).sum(), (W,),
                                                              (torch.ones_like(W),))[1]

    def kernel(W, X):
        lp = torch.log_softmax(X.mm(W), dim=1)
        return torch._log_softmax_backward_data(torch.ones_like(lp), lp, 1, lp.dtype)

    def vectorised(W, X):
        return torch.vmap(lambda row: row * 2)(X.mm(W))

    W, X = torch.ones(3, 2, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64)
    for function in (forward_mode, kernel):
        outcome = call_captured(function, W, X, trace=True)
        assert outcome.ok and outcome.trace.get("autograd"), (function.__name__, outcome.trace)
    outcome = call_captured(vectorised, W, X, trace=True)
    assert outcome.ok and not outcome.trace.get("autograd"), outcome.trace


def test_every_torch_name_with_relu_in_it_breaks_the_relu_rule():
    from grader.judges import rule_findings

    for name in ("torch._add_relu", "torch.rnn_relu_cell", "torch._prelu_kernel", "torch.ops.aten.relu.default"):
        violations, _ = rule_findings({"names": [name]}, [], ("no_relu",))
        assert violations and name in violations[0], name
    violations, _ = rule_findings({"names": ["torch.clamp", "torch.where", "torch.maximum"]}, [], ("no_relu",))
    assert not violations


def test_the_finite_difference_watch_leaves_a_vmap_alone():
    """Inside torch.vmap the operands are batched tensors: comparing them with the watched
    weights would make the student's honest vmap raise (nonzero cannot be batched)."""
    import torch

    from grader.student_side.capture import call_captured

    def per_sample(W, X):
        return torch.vmap(lambda x: W + x.sum() * torch.eye(3, 2, dtype=W.dtype))(X)

    W, X = torch.ones(3, 2, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64)
    outcome = call_captured(per_sample, W, X, trace=True, watch=[W])
    assert outcome.ok and not outcome.trace.get("finite_differences"), outcome


def test_copying_a_tensor_is_not_autograd():
    """copy.deepcopy reads a tensor's _backward_hooks: no derivative is computed."""
    import copy

    import torch

    from grader.student_side.capture import call_captured

    outcome = call_captured(lambda W: copy.deepcopy(W) * 2, torch.ones(3, 2), trace=True)
    assert outcome.ok and not outcome.trace.get("autograd"), outcome.trace


# ------------------------------------------------------------------ a later round

def test_a_forbidden_name_in_a_dotted_string_is_read_too():
    """pydoc.locate("torch.library.custom_op"), pkgutil.resolve_name("torch.optim.adam:adam"), a
    string annotation: a dotted path some library turns into the object is read name by name;
    the resolvers themselves are named; plain dotted strings (file names, dtypes) are nothing."""
    from grader.inspection import inspect_sources

    source = '''
import pydoc, pkgutil, torch
def by_locate(x):
    return pydoc.locate("torch.library.custom_op")
def by_resolve_name(x):
    return pkgutil.resolve_name("torch.optim.adam:adam")
def by_annotation(a: "torch._C.DisableTorchFunction"):
    return a
def by_formatter(x):
    return "0.library.custom_op"
def fused(w):
    return torch._fused_adam_
def honest(x):
    return ("best_two_layer_net.pth", "torch.float32", "cuda:0", "W1.grad")
'''
    found = inspect_sources({"m.py": source})
    for name in ("by_locate", "by_resolve_name", "by_annotation", "by_formatter", "fused"):
        assert [f for f in found.found([name]) if f.kind == "tamper"], name
    assert found.found(["honest"]) == []


def test_torchs_fused_optimizer_kernels_break_the_rules_at_run_time():
    from grader.judges import rule_findings

    violations, _ = rule_findings({"names": ["torch._fused_adam_"]}, [])
    assert violations and "optimizer kernels" in violations[0]


def test_following_a_tensor_made_on_the_cpu_is_a_move_to_the_cpu():
    """.to(t) and .type_as(t) with t made without device= move the inputs off their device: a
    device rule break; following the inputs themselves is not."""
    import torch

    from grader.student_side.capture import call_captured

    def anchored(X, W):
        anchor = torch.empty(0)
        return X.to(anchor).mm(W.type_as(anchor))

    def following(X, W):
        return (X.mm(W) + torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype, device=X.device)).to(X)

    X, W = torch.ones(2, 3, dtype=torch.float64), torch.ones(3, 4, dtype=torch.float64)
    kwargs = dict(trace=True, trace_dtype=torch.float64, trace_device=torch.device("cpu"))
    breaks = call_captured(anchored, X, W, **kwargs).trace.get("device_breaks")
    assert breaks and any(".to(a tensor made on the CPU)" in b for b in breaks), breaks
    assert not call_captured(following, X, W, **kwargs).trace.get("device_breaks")


def test_the_solver_resolves_a_rule_name_only_to_the_models_own_functions():
    import types

    import pytest as _pytest

    from helpers.solver import resolve_update_rule

    module = types.ModuleType("a3_student_like")
    exec("import torch\nfrom torch.library import custom_op\ndef adam(w, dw, config=None):\n    return w, config\n"
         "class Net:\n    pass\n", module.__dict__)
    import sys
    sys.modules[module.__name__] = module
    try:
        assert resolve_update_rule("adam", module.Net()) is module.adam
        with _pytest.raises(ValueError):
            resolve_update_rule("custom_op", module.Net())  # imported into the module: not its own
        fake = type("Fake", (), {"__module__": "torch.library"})()
        with _pytest.raises(ValueError):
            resolve_update_rule("custom_op", fake)  # a class passed off as torch's
    finally:
        del sys.modules[module.__name__]


def test_a3_adam_in_the_papers_efficient_form_keeps_every_point(tmp_path, grade_with):
    old = "    next_w = w - config['learning_rate'] * m_hat / (v_hat.sqrt() + config['epsilon'])\n"
    new = ("    step = config['learning_rate'] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)\n"
           "    next_w = w - step * m / (v.sqrt() + config['epsilon'])\n")
    report = grade_with(_a3(tmp_path, old, new), functions=["adam"], limits=FAST, hidden=True)
    points, most, text = _fn(report, "adam")
    assert points == most > 0, text


def test_a3_solver_that_cannot_train_loses_its_case(tmp_path, grade_with):
    report = grade_with(_a3(tmp_path, "num_epochs=20,", "num_epochs=0,"), functions=["create_solver_instance"],
                        limits=FAST)
    points, most, text = _fn(report, "create_solver_instance")
    assert points < most and "num_epochs=0" in text, text


def test_a3_update_rule_by_torchs_fused_kernel_earns_nothing(tmp_path, grade_with):
    old = "    next_w = w - config['learning_rate'] * m_hat / (v_hat.sqrt() + config['epsilon'])\n"
    new = ("    next_w = w.clone()\n    _m, _v = config['m'].clone(), config['v'].clone()\n"
           "    torch._fused_adam_([next_w], [dw.clone()], [_m], [_v], [], [torch.tensor(float(t))], "
           "lr=config['learning_rate'], beta1=beta1, beta2=beta2, weight_decay=0.0, eps=config['epsilon'], "
           "amsgrad=False, maximize=False)\n")
    report = grade_with(_a3(tmp_path, old, new), functions=["adam"], limits=FAST)
    points, most, text = _fn(report, "adam")
    assert points == 0 < most and "_fused" in text, text


def test_the_tracer_switched_off_by_disable_torch_function_is_seen_at_run_time():
    """However DisableTorchFunction is reached (here by a dotted string a library resolves, which
    the source reader also names), entering it from the student's code is recorded in the
    trace, and the rule's verdict fails the case."""
    import pydoc

    import torch

    from grader.judges import rule_findings
    from grader.student_side.capture import call_captured

    def quiet_relu(x):
        off = pydoc.locate("torch._C." + "DisableTorchFunction")
        with off():
            return torch.relu(x)

    def honest(x):
        return x.clamp(min=0)

    x = torch.randn(4, 3, dtype=torch.float64)
    outcome = call_captured(quiet_relu, x, trace=True, files=(__file__,))
    assert outcome.ok and outcome.trace.get("switched_off"), outcome.trace
    assert "torch.relu" not in outcome.trace["names"]  # what it hid from the tracer
    violations, _ = rule_findings(outcome.trace, [])
    assert violations and "switches the grader's tracing off" in violations[0]
    outcome = call_captured(honest, x, trace=True, files=(__file__,))
    assert outcome.ok and not outcome.trace.get("switched_off")


# ------------------------------------------------------------------ A3: work that only looks done

def test_a3_dropout_that_drops_a_block_loses_its_case(tmp_path, grade_with):
    """Every output 0 or x / (1 - p), about p dropped, seeded: but one solid block, no unit
    dropped on its own (a run-count test)."""
    old = "            keep = torch.rand_like(x) >= p  # each unit survives with probability 1 - p\n"
    new = ("            g = torch.Generator().manual_seed(int(torch.randint(0, 10 ** 6, (1,))))\n"
           "            n = x.numel()\n"
           "            start = int(torch.randint(0, n, (1,), generator=g))\n"
           "            keep = (torch.arange(n, device=x.device) >= round(p * n)).roll(start).reshape(x.shape)\n")
    report = grade_with(_a3(tmp_path, old, new), functions=["Dropout.forward"], limits=FAST, hidden=True)
    points, most, text = _fn(report, "Dropout.forward")
    assert points < most and "not dropped one by one" in text, text


def test_a3_weights_in_a_pattern_lose_the_constructors_case(tmp_path, grade_with):
    old = "self.params['W1'] = weight_scale * torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)"
    new = ("self.params['W1'] = torch.tensor([weight_scale, -weight_scale], dtype=dtype, device=device).repeat("
           "input_dim * hidden_dim // 2 + 1)[:input_dim * hidden_dim].reshape(input_dim, hidden_dim)")
    report = grade_with(_a3(tmp_path, old, new), functions=["TwoLayerNet.__init__"], limits=FAST)
    points, most, text = _fn(report, "TwoLayerNet.__init__")
    assert points < most and "distinct values" in text, text


def test_a3_a_hyperparameter_written_as_a_number_is_named_not_taken_for_hard_coding(tmp_path, grade_with):
    old = "v = config['momentum'] * v - config['learning_rate'] * dw"
    report = grade_with(_a3(tmp_path, old, old.replace("config['momentum']", "0.9")), functions=["sgd_momentum"],
                        limits=FAST, hidden=True)
    points, most, text = _fn(report, "sgd_momentum")
    assert 0 < points < most and "hard-coded" not in text, text


def test_a3_solver_whose_rate_decays_to_nothing_loses_its_case(tmp_path, grade_with):
    report = grade_with(_a3(tmp_path, "num_epochs=20,", "num_epochs=20, lr_decay=0.0,"),
                        functions=["create_solver_instance"], limits=FAST)
    points, most, text = _fn(report, "create_solver_instance")
    assert points < most and "lr_decay=0" in text, text


def test_celu_and_its_kin_are_relu_under_another_name():
    from grader.judges import rule_findings

    for name in ("torch.celu", "torch.nn.functional.elu", "torch.selu", "torch.nn.functional.softplus"):
        violations, _ = rule_findings({"names": [name]}, [], ("no_relu",))
        assert violations, name
