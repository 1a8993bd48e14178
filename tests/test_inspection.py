"""Source inspection (grader/inspection.py) reads a class's methods one by one: what one method
holds is charged to it and to what runs it, never to the other methods of its class; the class's
own code counts for all of them; A2, whose graded functions are top-level and whose classes are
reached whole, reads as it did when the source was read per class."""
import re
from pathlib import Path

import pytest

from grader.assignment import get
from grader.inspection import Inspection, inspect_sources

import course_corpus as a2_corpus
import a3_course_corpus as a3_corpus

REPO = Path(__file__).resolve().parents[1]
A3_SOLUTION = (REPO / "a3" / "fully_connected_networks.py").read_text()
A3 = get("a3")


def _edit(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


def _found(source: str, check: str, kinds, cut=()):
    """What A3's case of ``check`` is charged with, read from its entry points as the runner reads it."""
    inspection = inspect_sources({"fully_connected_networks.py": source})
    return inspection.found(A3.entry_points.get(check, (check,)), cut, kinds=kinds)


def test_the_solution_holds_nothing_any_method_is_charged_with():
    # (autograd's words are read too: ``ReLU.backward(...)`` is one; A3's cases judge autograd at run time)
    for check in A3.functions:
        assert _found(A3_SOLUTION, check, ("tamper",)) == [], check


def test_a_loop_in_relu_backward_costs_relu_backward_not_relu_forward():
    looped = _edit(A3_SOLUTION, "dx = dout * (x > 0)",
                   "dx = torch.stack(list(map(lambda r: r[0] * (r[1] > 0), zip(dout, x))))")
    assert [f.what for f in _found(looped, "ReLU.backward", ("iteration",))] == ["map(...)"]
    assert _found(looped, "ReLU.forward", ("iteration",)) == []
    assert _found(looped, "Linear.forward", ("iteration",)) == []


def test_autograd_in_linear_backward_costs_linear_backward_not_linear_forward():
    source = _edit(A3_SOLUTION, "dx = dout.mm(w.t()).reshape(x.shape)",
                   "dx = torch.autograd.grad((x.reshape(x.shape[0], -1).mm(w) * dout).sum(), x)[0]")
    found = _found(source, "Linear.backward", ("autograd",))
    assert found and all("autograd" in f.what for f in found)
    assert _found(source, "Linear.forward", ("autograd",)) == []
    assert _found(source, "ReLU.backward", ("autograd",)) == []


def test_a_method_that_runs_another_is_charged_with_what_that_one_holds():
    """Linear_ReLU.backward runs Linear.backward; Linear_ReLU.forward runs only the forwards."""
    source = _edit(A3_SOLUTION, "dx = dout.mm(w.t()).reshape(x.shape)",
                   "dx = torch.autograd.grad((x.reshape(x.shape[0], -1).mm(w) * dout).sum(), x)[0]")
    inspection = inspect_sources({"fully_connected_networks.py": source})
    assert inspection.found(["Linear_ReLU.backward"], kinds=("autograd",))
    assert inspection.found(["Linear_ReLU.forward"], kinds=("autograd",)) == []
    # the class named whole (its case's entry point) may run any of its methods
    assert inspection.found(["Linear_ReLU"], kinds=("autograd",))


def test_a_stand_in_class_cuts_its_methods():
    """The networks' cases replace Linear by a stand-in: a loop in Linear.backward is not theirs."""
    source = _edit(A3_SOLUTION, "db = dout.sum(dim=0)", "db = torch.stack(list(map(torch.sum, dout.t())))")
    standins = ("Linear", "ReLU", "Linear_ReLU", "Dropout", "softmax_loss")
    for check in ("TwoLayerNet.loss", "FullyConnectedNet.loss"):
        assert _found(source, check, ("iteration",), standins) == _found(A3_SOLUTION, check, ("iteration",), standins)
        # without the stand-ins it runs Linear.backward
        added = set(_found(source, check, ("iteration",))) - set(_found(A3_SOLUTION, check, ("iteration",)))
        assert [f.what for f in added] == ["map(...)"], check


def test_self_calls_reach_the_sibling_they_name():
    source = A3_SOLUTION + '''

class Doubled(object):
    @staticmethod
    def helper(x):
        return sum(map(float, x))

    def forward(self, x):
        return self.helper(x)

    def backward(self, dout):
        return dout
'''
    inspection = inspect_sources({"fully_connected_networks.py": source})
    assert inspection.found(["Doubled.forward"], kinds=("iteration",))
    assert inspection.found(["Doubled.backward"], kinds=("iteration",)) == []


def test_code_at_class_level_counts_for_every_method():
    source = _edit(A3_SOLUTION, "class ReLU(object):\n", "class ReLU(object):\n    _off = sys.settrace(None)\n")
    source = "import sys\n" + source
    for check in ("ReLU.forward", "ReLU.backward"):
        assert [f.what for f in _found(source, check, ("tamper",))] == ["sys.settrace"], check
    assert _found(source, "Linear.forward", ("tamper",)) == []


def test_a_method_bound_at_class_level_stands_for_its_class():
    """``forward = staticmethod(_forward)`` is no method definition: the class is read whole."""
    source = A3_SOLUTION + '''

def _looping(x):
    return sum(map(float, x))


class Bound(object):
    forward = staticmethod(_looping)

    @staticmethod
    def backward(dout, cache):
        return dout
'''
    inspection = inspect_sources({"fully_connected_networks.py": source})
    assert inspection.found(["Bound.forward"], kinds=("iteration",))
    assert inspection.found(["Bound.backward"], kinds=("iteration",))  # the class's own code names _looping


@pytest.mark.parametrize("style", sorted(a3_corpus.STYLES))
def test_the_a3_course_corpus_holds_nothing_charged(style):
    sources = a3_corpus.render(style)
    inspection = inspect_sources(sources)
    for check in A3.functions:
        found = inspection.found(A3.entry_points.get(check, (check,)), kinds=("tamper",))
        assert found == [], (style, check, found)


def _class_level(inspection: Inspection) -> Inspection:
    """The same reading with the method nodes taken out: the source read per class, as it was."""
    return Inspection({k: v for k, v in inspection.uses.items() if "." not in k},
                      {k: v for k, v in inspection.findings.items() if "." not in k})


A2_EDITS = [
    # a loop and autograd in given classes' methods, all at once: the classes are reached whole
    ("linear_classifier.py", r"(\n    def predict\(self[^\n]*:\n)", r"\1        sum(map(int, [1]))\n"),
    ("two_layer_net.py", r"(\n    def loss\(self[^\n]*:\n)", r"\1        torch.autograd.grad\n"),
]


@pytest.mark.parametrize("style", ["solution"] + sorted(a2_corpus.STYLES))
def test_a2_reads_as_it_did_per_class(style):
    if style == "solution":
        sources = {name: (REPO / "a2" / name).read_text() for name in ("linear_classifier.py", "two_layer_net.py")}
    else:
        sources = a2_corpus.render(style)
    for file, pattern, insert in A2_EDITS:
        sources[file], done = re.subn(pattern, insert, sources[file], count=1)
        assert done or style != "solution", pattern
    unit = get("a2")
    inspection = inspect_sources(sources)
    before = _class_level(inspection)
    kinds = ("tamper", "autograd", "iteration")
    for check in unit.functions:
        start = unit.entry_points.get(check, (check,))
        assert inspection.found(start, kinds=kinds) == before.found(start, kinds=kinds), (style, check)
        for cut in (("LinearClassifier",), ("TwoLayerNet",)):
            assert inspection.found(start, cut, kinds) == before.found(start, cut, kinds), (style, check, cut)
