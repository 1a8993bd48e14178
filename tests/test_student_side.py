"""grader/student_side: the course package shim, the tracer's GPU questions answered on the
CPU, stand-ins that answer only from their tables, and the static call graph the grader uses
to skip cases after a hang."""
import importlib
import sys

import pytest
import torch

import cuda_snippets
from cuda_snippets import SNIPPETS, inputs
from grader.student_side import eecs598
from grader.student_side.capture import call_captured
from grader.student_side.standins import NoAnswer, Substitutes, Table

CPU = torch.device("cpu")


def test_the_course_package_resolves_every_name_it_offers(monkeypatch):
    for name in list(sys.modules):
        if name == "eecs598" or name.startswith("eecs598.") or name == "a2_helpers":
            monkeypatch.delitem(sys.modules, name)
    eecs598.install()
    import a2_helpers  # the Fall 2020 layout's top-level helpers
    import eecs598 as course
    from eecs598.a2_helpers import get_toy_data
    from eecs598.grad import rel_error

    for sub, table in eecs598.LAYOUT.items():
        module = importlib.import_module(f"eecs598.{sub}")
        for name in table:
            assert callable(getattr(module, name)), (sub, name)
    assert callable(course.reset_seed) and a2_helpers.get_toy_data is get_toy_data
    X, y, params = get_toy_data()
    assert X.shape == (5, 4) and set(params) == {"W1", "b1", "W2", "b2"}
    assert rel_error(torch.ones(3), torch.ones(3)) == 0
    with pytest.raises(AttributeError, match="offers"):
        course.Solver  # noqa: B018 - not part of Assignment 2


def _trace(fn, *args):
    return call_captured(fn, *args, trace=True, trace_dtype=torch.float64, trace_device=CPU, files=(__file__,))


W, X, y = inputs()


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_the_tracer_knows_which_code_would_crash_on_cuda_inputs(name):
    fn, crashes = SNIPPETS[name]
    outcome = call_captured(fn, W, X, y, trace=True, trace_dtype=torch.float64, trace_device=CPU,
                            files=(cuda_snippets.__file__,))
    assert outcome.ok
    assert bool(outcome.trace["cuda_crashes"]) == crashes, outcome.trace["cuda_crashes"]
    if crashes and name == "onehot_zeros_then_subtract":
        first = outcome.trace["cuda_crashes"][0]
        assert first.startswith("line ") and "torch.zeros(...) at line" in first


@pytest.mark.cuda
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_the_snippets_really_crash_or_not_on_cuda(name):
    """What the tracer predicts on the CPU is what CUDA does."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    fn, crashes = SNIPPETS[name]
    try:
        fn(*inputs("cuda"))
        torch.cuda.synchronize()
        crashed = False
    except (RuntimeError, TypeError):
        crashed = True
    assert crashed == crashes


def test_code_that_names_the_gpu_gets_the_cpu_when_graded_there():
    def hard_coded(W, X, y):
        onehot = torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype, device="cuda")
        onehot[torch.arange(X.shape[0]), y] = 1
        return X.mm(W) - onehot

    outcome = _trace(hard_coded, W, X, y)
    assert outcome.ok and outcome.value.device.type == "cpu"
    assert outcome.trace["cuda_named"] and not outcome.trace["cuda_crashes"] and not outcome.trace["device_moves"]
    moved = _trace(lambda W, X, y: X.mm(W).cuda().argmax(1), W, X, y)
    assert moved.ok and moved.trace["device_moves"] == ["Tensor.cuda"]  # still against the rules


def test_stand_ins_answer_only_from_their_tables():
    table = Table([(X, "answer")], "nn_forward_pass")
    assert table.lookup(X.clone()) == "answer"
    with pytest.raises(NoAnswer, match="only knows this case's own inputs"):
        table.lookup(X + 1)


def test_substitutes_are_put_back_even_when_the_call_fails():
    import types

    module = types.ModuleType("m")
    module.f = "mine"
    with pytest.raises(RuntimeError):
        with Substitutes([module], {"f": "stand-in", "g": "new"}):
            assert module.f == "stand-in" and module.g == "new"
            raise RuntimeError
    assert module.f == "mine" and not hasattr(module, "g")


def test_call_graph_follows_calls_and_functions_passed_along(tmp_path):
    from grader.runner import call_graph, reachable

    (tmp_path / "a.py").write_text(
        "def forward(p, X):\n    return X\n\n"
        "def backward(p, X, y=None):\n    s = forward(p, X)\n    return s\n\n"
        "def train(p, loss_func):\n    return loss_func(p, 1)\n\n"
        "class Net:\n    def train(self):\n        return train(self.p, backward)\n")
    (tmp_path / "b.py").write_text("def broken(:\n")
    graph = call_graph([tmp_path / "a.py", tmp_path / "b.py"])
    assert reachable(graph, ["Net"]) == {"Net", "train", "backward", "forward"}
    assert reachable(graph, ["Net"], cut=("train",)) == {"Net", "backward", "forward"}
    assert reachable(graph, ["forward"]) == {"forward"}
