"""How A3 part 1 is graded: the solution at full marks (public and hidden cases), each known
mistake seeded into a copy of the solution costs points on its own function only and is named,
a bug in a layer is not charged again in the networks graded with stand-in layers, and the
handout's stub earns nothing, each case saying "not implemented".

The cases run here in one process (the probes on the student module loaded beside them, then
the judges), which is what the sandbox does with more walls around it; a last test grades the
solution through the command line."""
import collections
import importlib.util
import itertools
from pathlib import Path

import pytest
import torch

from grader.assignments.a3.catalogue.cases import CASES as PUBLIC_CASES
from grader.assignments.a3.instructor.hidden import CASES as HIDDEN_CASES
from grader.assignments.a3.instructor.recipes import make
from grader.cases import FROM_OTHER_CASES
from grader.instructor.stubs import make_stub
from grader.sandbox import Reply
from grader.student_side.probes import PROBES, Context

import grader.assignments.a3.student_side.probes  # noqa: F401  (registers A3's probes)

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "a3" / "fully_connected_networks.py"
VALUE_PROBES = {"call", "layer_call", "net_loss", "optimizer", "dropout_forward", "dropout_backward", "net_init"}
_count = itertools.count()


def _load(path: Path):
    from grader.student_side import eecs598

    eecs598.install()  # the course layout's a3_helper and eecs598, as the student process has them
    spec = importlib.util.spec_from_file_location(f"_a3_graded_{next(_count)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade(path: Path, hidden=False, salt="", data_dir=None):
    """[(case, verdict)] of A3's cases on the file at ``path``, with CIFAR-10 looked for in
    ``data_dir`` (default: the file's folder, where it is not)."""
    data_dir = str(data_dir or path.parent)
    ctx = Context({"fully_connected_networks": _load(path)}, {}, [str(path)], "cpu")
    cases = list(PUBLIC_CASES) + (list(HIDDEN_CASES) if hidden else [])
    seen, out = collections.defaultdict(list), []
    for case in sorted(cases, key=lambda c: c.probe in FROM_OTHER_CASES):
        if case.probe in FROM_OTHER_CASES:
            verdict = case.judge(case, seen[case.function], None, None, "cpu")
        elif case.probe is None:
            verdict = case.judge(case, {"checkpoint_dirs": [path.parent], "data_dir": data_dir}, None, None, "cpu")
        else:
            payload, key = make(case, salt)
            reply = Reply(data=PROBES[case.probe](ctx, payload))
            if case.probe in VALUE_PROBES:
                seen[case.function].append(reply)
            if case.needs_data:  # as the runner hands it to the judge
                payload = {**payload, "data_dir": data_dir}
            verdict = case.judge(case, payload, reply, key, "cpu")
        out.append((case, verdict))
    return out


def points(results):
    by = collections.defaultdict(float)
    for case, verdict in results:
        by[case.function] += case.points if verdict.passed else 0.0
    return by


def graded_points(results):
    """The points of the cases that are graded here (not the ones that need CIFAR-10)."""
    return sum(c.points for c, v in results if v.status != "not graded")


@pytest.fixture(scope="module")
def solution_results():
    return grade(SOLUTION)


def test_the_solution_earns_every_graded_point(solution_results):
    failed = [(c.id, v.message[:200]) for c, v in solution_results if v.status not in ("passed", "not graded")]
    assert not failed
    assert sum(points(solution_results).values()) == graded_points(solution_results) > 85


def test_points_add_up_to_about_a_hundred():
    assert sum(c.points for c in PUBLIC_CASES) == 100
    assert {c.function for c in PUBLIC_CASES} >= {
        "Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward", "TwoLayerNet.__init__",
        "TwoLayerNet.loss", "FullyConnectedNet.__init__", "FullyConnectedNet.loss", "sgd_momentum", "rmsprop",
        "adam", "Dropout.forward", "Dropout.backward", "create_solver_instance"}


@pytest.mark.parametrize("salt", ["", "one submission", "another submission"])
def test_the_solution_passes_the_hidden_cases_whatever_the_salt(salt):
    results = grade(SOLUTION, hidden=True, salt=salt)
    failed = [(c.id, v.message[:200]) for c, v in results if v.status not in ("passed", "not graded")]
    assert not failed
    assert any(c.visibility == "hidden" for c, _ in results)


def test_hidden_inputs_change_with_the_salt():
    case = next(c for c in HIDDEN_CASES if c.function == "Linear.backward")
    one, _ = make(case, "a")
    two, _ = make(case, "b")
    assert not torch.equal(one["args"][0], two["args"][0])


# (what is changed in the solution, the function that must lose points, words of the named mistake)
MUTANTS = [
    ("dx = dout.mm(w.t()).reshape(x.shape)", "dx = dout.mm(w.t())", "Linear.backward", "dx not shaped like x"),
    ("db = dout.sum(dim=0)", "db = dout.mean(dim=0)", "Linear.backward", "db averaged instead of summed"),
    ("out = rows.mm(w) + b", "out = rows.mm(w)", "Linear.forward", "bias left out"),
    ("dx = dout * (x > 0)", "dx = dout * (dout > 0)", "ReLU.backward", "mask taken from dout instead of x"),
    ([("grads['b1'] = db1\n", "grads['b1'] = db1 + 2 * self.reg * self.params['b1']\n"),
      ("grads['b2'] = db2\n", "grads['b2'] = db2 + 2 * self.reg * self.params['b2']\n"),
      ("loss = loss + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())",
       "loss = loss + self.reg * sum((v * v).sum() for v in self.params.values())")], None,
     "TwoLayerNet.loss", "regularization of the biases"),
    ("loss = loss + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())",
     "loss = loss + 0.5 * self.reg * ((W1 * W1).sum() + (W2 * W2).sum())", "TwoLayerNet.loss",
     "regularization with a factor 1/2"),
    ("grads[f'W{last}'] = dW + self.reg * self.params[f'W{last}']", "grads[f'W{last}'] = dW",
     "FullyConnectedNet.loss", "the last layer's weights not regularized in their gradient"),
    ("mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))", "mask = torch.zeros_like(x).masked_fill(keep, 1.0)",
     "Dropout.forward", "scaling missing"),
    ("            out = x\n            # END SOLUTION", "            out = x * (1 - p)\n            # END SOLUTION",
     "Dropout.forward", "scaled at test time"),
    ("keep = torch.rand_like(x) >= p  # each unit survives with probability 1 - p\n"
     "            mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))\n            out = x * mask",
     "out = torch.dropout(x, p, True)\n            mask = out / x", "Dropout.forward", "write the dropout yourself"),
    ("dx = dout * mask", "dx = dout * (torch.rand_like(dout) >= dropout_param['p']) / (1 - dropout_param['p'])",
     "Dropout.backward", "mask not reused"),
    ("m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)", "m_hat = m\n    v_hat = v", "adam",
     "no bias correction"),
    ("t = config['t'] + 1", "t = config['t']", "adam", "t not incremented before it is used"),
    ([("m = beta1 * config['m'] + (1 - beta1) * dw", "m = beta1 * config['m'] + (1 - beta1) * w"),
      ("v = beta2 * config['v'] + (1 - beta2) * dw * dw", "v = beta2 * config['v'] + (1 - beta2) * w * w")], None,
     "adam", "the weights in place of the gradient"),
    ("next_w = w - config['learning_rate'] * dw / (cache.sqrt() + config['epsilon'])",
     "next_w = w - config['learning_rate'] * dw / (cache + config['epsilon'])", "rmsprop", "no square root"),
    ("v = config['momentum'] * v - config['learning_rate'] * dw", "v = config['momentum'] * v + config['learning_rate'] * dw",
     "sgd_momentum", "momentum with the wrong sign"),
    ("self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)",
     "self.params['b1'] = weight_scale * torch.randn(hidden_dim, dtype=dtype, device=device)",
     "TwoLayerNet.__init__", "must be initialized to zeros"),
]


def _mutant(tmp_path, old, new=None):
    """The solution with ``old`` replaced by ``new`` (or each (old, new) pair of a list)."""
    source = SOLUTION.read_text()
    for before, after in (old if new is None else [(old, new)]):
        assert source.count(before) == 1, before
        source = source.replace(before, after)
    path = tmp_path / "fully_connected_networks.py"
    path.write_text(source)
    return path


@pytest.mark.parametrize("old,new,function,named", MUTANTS, ids=[f"{m[2]}: {m[3]}" for m in MUTANTS])
def test_each_mistake_costs_its_own_function_only_and_is_named(tmp_path, solution_results, old, new, function, named):
    results = grade(_mutant(tmp_path, old, new))
    right, got = points(solution_results), points(results)
    lost = {check for check in right if got[check] < right[check]}
    assert lost == {function}
    text = " ".join(v.message + " " + v.diagnosis for c, v in results if c.function == function and not v.passed)
    assert named in text


@pytest.mark.parametrize("rule", ["adam", "rmsprop"])
def test_an_epsilon_written_as_a_number_is_named_not_taken_for_hard_coding(tmp_path, solution_results, rule):
    """1e-7 in place of config['epsilon'] passes the public cases (the default 1e-8 is close) and
    fails the hidden one, which sets epsilon: a known mistake there, so the public cases are
    not taken for hard-coded answers."""
    old = {"adam": "(v_hat.sqrt() + config['epsilon'])", "rmsprop": "(cache.sqrt() + config['epsilon'])"}[rule]
    results = grade(_mutant(tmp_path, old, old.replace("config['epsilon']", "1e-7")), hidden=True)
    lost = [(c, v) for c, v in results if c.function == rule and not v.passed]
    assert lost and all(c.visibility == "hidden" or rule == "rmsprop" for c, _ in lost), [c.name for c, _ in lost]
    assert all("epsilon not read from config" in v.diagnosis for _, v in lost), [v.message for _, v in lost]
    assert not any("hard-coded" in v.message for _, v in lost)
    assert all(v.passed or v.status == "not graded" for c, v in results if c.function != rule)


def test_a_layer_bug_is_not_charged_again_in_the_networks(tmp_path, solution_results):
    """Linear.backward with db averaged and ReLU.backward masking on dout: the networks, graded with
    stand-in layers, keep every point (and so does Linear_ReLU's given code, which has no points)."""
    source = SOLUTION.read_text().replace("db = dout.sum(dim=0)", "db = dout.mean(dim=0)").replace(
        "dx = dout * (x > 0)", "dx = dout * (dout > 0)")
    path = tmp_path / "fully_connected_networks.py"
    path.write_text(source)
    got, right = points(grade(path)), points(solution_results)
    for check in ("TwoLayerNet.loss", "FullyConnectedNet.loss", "TwoLayerNet.__init__", "FullyConnectedNet.__init__"):
        assert got[check] == right[check], check
    assert got["Linear.backward"] < right["Linear.backward"] and got["ReLU.backward"] < right["ReLU.backward"]


def test_linear_relu_is_given_code_worth_nothing_with_a_note_when_changed(tmp_path, solution_results):
    path = _mutant(tmp_path, "        a, fc_cache = Linear.forward(x, w, b)",
                   "        a = x.reshape(x.shape[0], -1).mm(w) + b\n        fc_cache = (x, w, b)")
    results = grade(path)
    assert points(results) == points(solution_results)
    verdict = next(v for c, v in results if c.function == "Linear_ReLU")
    assert verdict.passed and "no longer hands its work to Linear.forward" in " ".join(verdict.warnings)
    assert all(c.points == 0 for c in PUBLIC_CASES if c.function == "Linear_ReLU")


def test_a_broken_constructor_costs_the_constructor_only(tmp_path, solution_results):
    """The networks' loss cases build the network with the student's constructor and fall back on
    a bare object; create_solver_instance's given TwoLayerNet(...) is a stand-in."""
    path = _mutant(tmp_path, [
        ("        self.params['W1'] = weight_scale * torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)\n",
         "        raise NotImplementedError('init')\n"),
        ("        sizes = [input_dim, *hidden_dims, num_classes]\n", "        raise NotImplementedError('init')\n")])
    got, right = points(grade(path)), points(solution_results)
    assert {c for c in right if got[c] < right[c]} == {"TwoLayerNet.__init__", "FullyConnectedNet.__init__"}


def test_a_network_that_skips_a_layer_is_told_where_the_chain_breaks(tmp_path):
    path = _mutant(tmp_path, "                hidden, dropout_cache = Dropout.forward(hidden, self.dropout_param)",
                   "                dropout_cache = None")
    results = grade(path)
    dropout_case = next(v for c, v in results if c.function == "FullyConnectedNet.loss" and "dropout 0.3" in c.name
                        and "without y" not in c.name)
    assert not dropout_case.passed and "the dropout is skipped" in dropout_case.diagnosis


def test_fully_connected_net_without_the_half_keeps_its_points_with_a_note(tmp_path, solution_results):
    source = SOLUTION.read_text().replace("loss = loss + 0.5 * self.reg * (W * W).sum()",
                                          "loss = loss + self.reg * (W * W).sum()")
    source = source.replace("grads[f'W{last}'] = dW + self.reg * self.params[f'W{last}']",
                            "grads[f'W{last}'] = dW + 2 * self.reg * self.params[f'W{last}']")
    source = source.replace("grads[f'W{layer}'] = dW + self.reg * self.params[f'W{layer}']",
                            "grads[f'W{layer}'] = dW + 2 * self.reg * self.params[f'W{layer}']")
    path = tmp_path / "fully_connected_networks.py"
    path.write_text(source)
    results = grade(path)
    assert points(results) == points(solution_results)
    assert any("TwoLayerNet's convention" in w for c, v in results for w in v.warnings)


def test_the_stub_earns_nothing_and_says_not_implemented(tmp_path):
    path = tmp_path / "fully_connected_networks.py"
    path.write_text(make_stub(SOLUTION.read_text(), "fully_connected_networks.py"))
    results = grade(path)
    assert sum(points(results).values()) == 0
    for case, verdict in results:
        if verdict.status == "not graded" or case.points == 0:  # Linear_ReLU is given code, worth nothing
            continue
        assert verdict.status == "failed" and "not implemented" in verdict.message, (case.id, verdict.message)


def test_a_hard_coded_device_breaks_the_device_rule_only(tmp_path, solution_results):
    path = _mutant(tmp_path, "keep = torch.rand_like(x) >= p", "keep = torch.rand(x.shape, device='cpu') >= p")
    results = grade(path)
    failed = {c.id for c, v in results if not v.passed and v.status != "not graded"}
    assert failed == {"Dropout.forward: rule: tensors follow the inputs' device"}


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """A data folder holding CIFAR-10 in the genuine format (small and learnable: see
    ``tests/cifar_files.py``), read through the kit's torchvision loader as the grader reads the
    real one; ``A2_DATA_VERIFY=0`` lets it past the release's MD5 sums."""
    from cifar_files import write_cifar10

    root = tmp_path / "data"
    write_cifar10(root)
    monkeypatch.setenv("A2_DATA_VERIFY", "0")
    return root


def test_with_cifar_the_searches_are_trained_as_the_notebook_trains_them(tmp_path, cifar_root):
    results = dict((c.function, v) for c, v in grade(SOLUTION, data_dir=cifar_root) if c.function.startswith("get_"))
    assert results["get_three_layer_network_params"].passed, results["get_three_layer_network_params"].message
    assert results["get_five_layer_network_params"].passed, results["get_five_layer_network_params"].message
    path = _mutant(tmp_path, "    weight_scale = 1e-1\n    learning_rate = 1e-1\n",
                   "    weight_scale = 1e-1\n    learning_rate = 1e-7\n")
    slow = dict((c.function, v) for c, v in grade(path, data_dir=cifar_root) if c.function.startswith("get_"))
    assert not slow["get_three_layer_network_params"].passed and "not 100%" in slow[
        "get_three_layer_network_params"].message
    assert slow["get_five_layer_network_params"].passed


def test_the_searches_validation_rows_steer_nothing_judged(cifar_root):
    """The searches are trained on a few validation rows, not the notebook's 10,000: the Solver's
    batches and training accuracy, the one judged, are the same whatever the validation set."""
    from grader.assignments.a3.instructor import evaluate
    from grader.assignments.a3.instructor.reference import load_reference
    from helpers.solver import Solver

    data = evaluate._cifar(str(cifar_root))

    def history(rows):
        small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50], "X_val": data["X_val"][:rows],
                 "y_val": data["y_val"][:rows]}
        torch.manual_seed(0)
        model = load_reference().FullyConnectedNet([100] * 4, weight_scale=1e-1, dtype=torch.float32)
        solver = Solver(model, small, num_epochs=20, batch_size=25, optim_config={"learning_rate": 2e-1},
                        verbose=False)
        solver.train()
        return solver.train_acc_history, solver.loss_history

    assert data["X_val"].shape[0] > 3
    assert history(data["X_val"].shape[0]) == history(3)


def test_with_cifar_the_checkpoints_are_evaluated(tmp_path, cifar_root):
    from grader.assignments.a3.catalogue.cases import CASES
    from grader.assignments.a3.instructor.reference import load_reference

    ref = load_reference()
    torch.manual_seed(0)
    net = ref.FullyConnectedNet([100] * 4, weight_scale=1e-1, dtype=torch.float32)
    net.save(str(tmp_path / "best_overfit_five_layer_net.pth"))  # untrained: far from 100% on the samples
    cases = [c for c in CASES if c.function == "best_models"]
    verdicts = {c.params["file"]: c.judge(c, {"checkpoint_dirs": [tmp_path], "data_dir": str(cifar_root)}, None,
                                          None, "cpu") for c in cases}
    assert verdicts["best_two_layer_net.pth"].status == "failed" and "not submitted" in verdicts[
        "best_two_layer_net.pth"].message
    five = verdicts["best_overfit_five_layer_net.pth"]
    assert five.status == "failed" and "below the notebook's target of 100%" in five.message


# ------------------------------------------------------------------ through the sandbox, as `check` grades

def _runner_points(report):
    by = collections.defaultdict(float)
    for r in report.results:
        by[r.check] += r.points
    return by


@pytest.fixture(scope="module")
def runner_solution():
    from grader.runner import grade as run_grade

    return run_grade(None, hidden=True, assignment="a3")


def test_the_sandbox_grades_the_solution_at_full_marks_with_hidden_cases(runner_solution):
    failed = [(r.check, r.name, r.message[:200]) for r in runner_solution.results
              if r.status not in ("passed", "not graded")]
    assert not failed
    assert any(r.visibility == "hidden" for r in runner_solution.results)
    assert sum(r.points for r in runner_solution.results) == sum(
        r.max_points for r in runner_solution.results if r.status != "not graded")


def test_the_sandbox_grades_a_course_layout_folder(tmp_path):
    """A folder holding fully_connected_networks.py written for the course (a3_helper, eecs598)."""
    from grader.runner import grade as run_grade

    source = SOLUTION.read_text().replace("from helpers.losses import softmax_loss", "from a3_helper import softmax_loss")
    source = source.replace("from helpers.solver import Solver", "from eecs598 import Solver")
    (tmp_path / "fully_connected_networks.py").write_text(source)
    report = run_grade(tmp_path)
    assert {r.check for r in report.results} >= {"Linear.forward", "FullyConnectedNet.loss", "adam"}  # recognised as A3
    failed = [(r.check, r.name, r.message[:200]) for r in report.results if r.status not in ("passed", "not graded")]
    assert not failed and sum(r.points for r in report.results) > 85


def test_the_sandbox_charges_a_mistake_to_its_function_only(tmp_path, runner_solution):
    from grader.runner import grade as run_grade

    path = _mutant(tmp_path, "db = dout.sum(dim=0)", "db = dout.mean(dim=0)")
    report = run_grade(path.parent, hidden=True, assignment="a3")
    got, right = _runner_points(report), _runner_points(runner_solution)
    assert {c for c in right if got[c] < right[c]} == {"Linear.backward"}
    assert any("db averaged instead of summed" in r.diagnosis for r in report.results if r.check == "Linear.backward")


# ------------------------------------------------------------------ the course-faithful corpus

from a3_course_corpus import MUTANTS as CORPUS_MUTANTS, STYLES, course_submission  # noqa: E402

# Seeded changes of the corpus that a careful reader of the course does not charge here:
# epsilon under RMSProp's square root changes a step by parts in a billion (the course's own check
# passes it), and a Solver left on its default CPU device is right on a CPU grader (a note says
# what it does on the GPU the course runs it on; with --device cuda the case fails).
NOT_CHARGED = {"rmsprop: epsilon inside the square root",
               "create_solver_instance: the Solver not given the device (its default is the CPU)",
               # the template states no dtype for out: right values in a more precise dtype keep the
               # points, with a note (docs/grading.md)
               "Linear.forward: inputs cast to float64 (x.double()), so float32 inputs give float64 outputs"}


def _corpus_file(tmp_path, style, edits=()):
    return course_submission(tmp_path, style, edits) / "fully_connected_networks.py"


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_corpus_style_earns_every_graded_point(tmp_path, style, solution_results):
    results = grade(_corpus_file(tmp_path, style))
    failed = [(c.id, v.message[:200]) for c, v in results if v.status not in ("passed", "not graded")]
    assert not failed
    assert points(results) == points(solution_results)


@pytest.mark.parametrize("mutant", CORPUS_MUTANTS, ids=[m.label for m in CORPUS_MUTANTS])
def test_every_corpus_mistake_costs_its_own_function(tmp_path, mutant, solution_results):
    style = next(iter(mutant.edits))
    got, right = points(grade(_corpus_file(tmp_path, style, mutant.edits[style]))), points(solution_results)
    lost = {check for check in right if got[check] < right[check]}
    assert lost == (set() if mutant.label in NOT_CHARGED else {mutant.function})


# ------------------------------------------------------------------ idioms and slips of real submissions

# TwoLayerNet.loss with the forward pass written out (matmuls and a clamp) and the backward pass
# through the student's layers on caches put together by hand
_BY_HAND = """\
        rows = X.reshape(X.shape[0], -1)
        pre = rows.mm(self.params['W1']) + self.params['b1']
        hidden = pre.clamp(min=0)
        scores = hidden.mm(self.params['W2']) + self.params['b2']
"""
_BY_HAND_BACKWARD = """\
        loss, dscores = softmax_loss(scores, y)
        loss = loss + self.reg * ((self.params['W1'] ** 2).sum() + (self.params['W2'] ** 2).sum())
        dhidden, dW2, db2 = Linear.backward(dscores, (hidden, self.params['W2'], self.params['b2']))
        dpre = ReLU.backward(dhidden, {relu_cache})
        _, dW1, db1 = Linear.backward(dpre, (rows, self.params['W1'], self.params['b1']))
        grads = {{'W1': dW1 + 2 * self.reg * self.params['W1'], 'b1': db1,
                  'W2': dW2 + 2 * self.reg * self.params['W2'], 'b2': db2}}
"""


def _two_layer_by_hand(tmp_path, relu_cache):
    source = SOLUTION.read_text()
    lines = source.splitlines(keepends=True)
    begin = [i for i, line in enumerate(lines) if "# BEGIN SOLUTION" in line]
    end = [i for i, line in enumerate(lines) if "# END SOLUTION" in line]
    forward = next(i for i in begin if "linear - ReLU - linear" in lines[i])
    backward = next(i for i in begin if "regularization (no 1/2)" in lines[i])
    close = lambda start: next(e for e in end if e > start)  # noqa: E731
    lines[backward + 1:close(backward)] = [_BY_HAND_BACKWARD.format(relu_cache=relu_cache)]
    lines[forward + 1:close(forward)] = [_BY_HAND]
    path = tmp_path / "fully_connected_networks.py"
    path.write_text("".join(lines))
    return path


def test_a_two_layer_net_written_out_by_hand_keeps_its_points(tmp_path, solution_results):
    """Matmuls and a clamp in the forward pass, Linear.backward and ReLU.backward on caches made
    by hand (the pre-activation as ReLU's cache): right, whatever the layers it does not call."""
    results = grade(_two_layer_by_hand(tmp_path, "pre"))
    assert points(results) == points(solution_results)


def test_relu_backward_handed_the_relus_output_as_its_cache_is_named(tmp_path, solution_results):
    """ReLU.backward's cache is the ReLU's input; a network that hands it the ReLU's output gets
    the right gradient only from a backward that masks where x > 0 (one masking where x < 0
    masks nothing): TwoLayerNet.loss's gradient cases fail, and the message says which argument
    was wrong and what it should have been."""
    results = grade(_two_layer_by_hand(tmp_path, "hidden"))
    got, right = points(results), points(solution_results)
    assert {c for c in right if got[c] < right[c]} == {"TwoLayerNet.loss"}
    failing = [v for c, v in results if c.function == "TwoLayerNet.loss" and not v.passed]
    assert failing and all("was given as the cache the output of layer 1's ReLU" in v.diagnosis
                           and "before its ReLU" in v.diagnosis for v in failing)
    scores = [v for c, v in results if c.function == "TwoLayerNet.loss" and "without y" in c.name]
    assert scores and all(v.passed for v in scores)


def test_the_templates_starting_search_values_fail_without_cifar(tmp_path, solution_results):
    """The template's given (weight_scale, learning_rate) returned unchanged cannot overfit: that
    fails even where CIFAR-10 is missing (other values are "not graded" there)."""
    path = _mutant(tmp_path, "    weight_scale = 1e-1\n    learning_rate = 1e-1\n", "")
    results = dict((c.function, v) for c, v in grade(path) if c.function.startswith("get_"))
    three = results["get_three_layer_network_params"]
    assert three.status == "failed" and "template's starting values" in three.message
    assert results["get_five_layer_network_params"].status == "not graded"
    untouched = dict((c.function, v) for c, v in solution_results if c.function.startswith("get_"))
    assert all(v.status == "not graded" for v in untouched.values())


def test_a_forward_left_as_pass_skips_the_gradient_check_with_a_plain_message(tmp_path):
    """A course template whose TODO still holds `pass` returns None: the backward's check against
    the forward's differences says so, with no traceback of the grader's own code."""
    path = _mutant(tmp_path, "        out = rows.mm(w) + b  # (N, M)\n", "        pass\n")
    results = grade(path)
    numeric = [v for c, v in results if c.function == "Linear.backward" and "centred differences" in c.name]
    assert numeric and all(not v.passed for v in numeric)
    assert all("Linear.forward returns None as out" in v.message and "File" not in v.message for v in numeric)


def test_a_layer_output_right_in_float64_for_float32_inputs_keeps_its_points(tmp_path, solution_results):
    """Linear.forward returning out.double(): the template states no dtype for out, its values are
    right, so every point stays and a note names the dtype; with a wrong bias the same cast still
    loses Linear.forward's points (on its values, the dtype only the note)."""
    line = "        out = rows.mm(w) + b  # (N, M)"
    for name, new, right in (("double", "        out = (rows.mm(w) + b).double()", True),
                             ("wrong", "        out = (rows.mm(w) + 2 * b).double()", False)):
        path = tmp_path / name / "fully_connected_networks.py"
        path.parent.mkdir()
        path.write_text(SOLUTION.read_text().replace(line, new))
        results = grade(path)
        forward = [(c, v) for c, v in results if c.function == "Linear.forward"]
        noted = [v for c, v in forward if "float32" in c.name]
        assert noted and all(any("out is float64 for float32 inputs" in w for w in v.warnings) for v in noted)
        if right:
            assert points(results) == points(solution_results)
        else:
            lost = [(c, v) for c, v in forward if not v.passed]
            assert lost and any("float32" in c.name for c, _ in lost), [(c.name, v.message) for c, v in forward]
            assert all("values are not close" in v.message and "dtype float64, expected" not in v.message
                       for _, v in lost), [v.message for _, v in lost]
            assert {c for c, v in points(results).items() if v != points(solution_results)[c]} == {"Linear.forward"}


def test_a_public_case_without_named_outputs_is_vouched_by_a_hidden_known_mistake():
    """An update rule's judge names no outputs when it passes; a hidden case that fails the way a
    known mistake does (its next_w) shows the rule computed: the public cases keep their points."""
    from grader.results import CaseResult
    from grader.runner import flag_hardcoding

    cases = [c for c in list(PUBLIC_CASES) + list(HIDDEN_CASES) if c.function == "adam" and c.probe != "device_rule"]
    results = [CaseResult("adam", c.name, c.visibility, c.points, c.points, "passed") for c in cases
               if c.visibility == "public"]
    hidden = [CaseResult("adam", c.name, c.visibility, c.points, 0.0, "failed", "values", computed=("next_w",),
                         causes=(("epsilon not read from config", ("next_w",)),), vouches=True)
              for c in cases if c.visibility == "hidden"]
    assert results and hidden
    flagged = flag_hardcoding(results + hidden, cases, "a3")
    assert [r.points for r in flagged[:len(results)]] == [r.points for r in results]
    unexplained = [CaseResult("adam", r.name, r.visibility, r.max_points, 0.0, "failed", "values") for r in hidden]
    flagged = flag_hardcoding(results + unexplained, cases, "a3")
    assert all(r.reason == "hard-coded" and r.points == 0 for r in flagged[:len(results)])
