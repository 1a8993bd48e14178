"""What a graded function runs, as the similarity report compares it: statements that cannot
affect a result are left out (and only those: the pruned code computes what the original
computes), and the module-level code a function reaches comes with it."""
import ast
import sys
import textwrap
import types
from pathlib import Path

import pytest
import torch

from course_corpus import STYLE_LIST, render
from grader.instructor.similarity.live import Reader, live_statements, read_module
from grader.instructor.similarity import COMPARED, FILE_OF
from test_similarity import with_dead_statements

REPO = Path(__file__).resolve().parents[1]
LC, TLN = "linear_classifier.py", "two_layer_net.py"


def kept(source, function="f", other=None):
    """The compared text of ``function`` in ``source`` (pieces joined by '|')."""
    modules = {LC: read_module(LC, textwrap.dedent(source))}
    if other is not None:
        modules[TLN] = read_module(TLN, textwrap.dedent(other))
    pieces = Reader(modules, set(COMPARED)).pieces(LC, function)
    return "|".join(f"{p.name}:{p.text}" for p in pieces) if pieces is not None else None


def test_dead_statements_are_left_out():
    assert kept('''
        def f(W, X):
            """Docstring."""
            pass
            a = X.sum()
            unused = a * 2          # read by nothing kept
            chain = unused + 1      # nor this
            print("debug", a)
            assert a is not None
            X.shape
            if False:
                a = 0
            while 0 > 1:
                a = 1
            for _ in range(3):
                tmp = 5
            result = W + a
            return result
            a = 7                   # after return
        ''') == "f:a = X.sum()\nresult = W + a\nreturn result\n"


def test_what_a_result_needs_stays():
    source = '''
        def f(W, X, y, params, grads):
            dW = torch.zeros_like(W)
            history = []
            for i in range(X.shape[0]):
                if y[i] == 0:
                    continue
                dW[:, y[i]] += X[i]     # changes dW, which is returned
                history.append(i)       # changes history, which is returned
                if i > 10:
                    break
            dW.add_(W)                  # in place
            params["W1"] -= grads["W1"]  # the caller's dict
            W -= 1                      # the caller's tensor, in place
            stats = {}
            stats.update(a=1)           # nothing reads stats
            global COUNT
            COUNT = 3                   # the module sees it
            return dW, history
        '''
    text = kept(source)
    for line in ("continue", "dW[:, y[i]] += X[i]", "history.append(i)", "break", "dW.add_(W)",
                 'params["W1"] -= grads["W1"]', "W -= 1", "COUNT = 3", "if y[i] == 0:", "if i > 10:"):
        assert line in text, line
    assert "stats" not in text


def test_locals_keeps_everything():
    assert "unused = 1" in kept('''
        def f(W):
            unused = 1
            return locals()["W"]
        ''')


def test_wrappers_of_every_kind_hand_over_to_the_helper():
    helper = textwrap.dedent('''
        def _impl(W, X):
            s = X.mm(W)
            return s.argmax(dim=1)
        ''')
    expected = "f:|_impl:s = X.mm(W)\nreturn s.argmax(dim=1)\n"
    assert kept(helper + "def f(W, X):\n    return _impl(W, X)\n") == expected
    assert kept(helper + "f = _impl\n") == expected
    assert kept(helper + "f = lambda W, X: _impl(W, X)\n") == expected
    # the helper in the other file
    assert kept("from two_layer_net import _impl\ndef f(W, X):\n    return _impl(W, X)\n", other=helper) == expected
    # a helper that is not only glue keeps the function's own code
    assert kept(helper + "def f(W, X):\n    return _impl(W, X) + 1\n").startswith("f:return _impl(W, X) + 1\n|_impl:")


def test_reached_definitions_come_with_the_function():
    text = kept('''
        import torch
        SCALE = 2.0
        TABLE = {}
        TABLE["relu"] = lambda x: x * (x > 0)
        UNUSED = [1] * 1000

        class Net:
            def forward(self, x):
                junk = 1
                return x * SCALE

        def f(X):
            return TABLE["relu"](Net().forward(X))
        ''')
    assert text.startswith('f:return TABLE["relu"](Net().forward(X))\n')
    for piece in ("Net:class Net:", "return x * SCALE", "SCALE:SCALE = 2.0", "TABLE:TABLE = {}",
                  'TABLE["relu"] = lambda x: x * (x > 0)'):
        assert piece in text, piece
    assert "UNUSED" not in text and "junk" not in text


def test_headers_that_decide_nothing_are_left_out():
    text = kept('''
        def f(X):
            if True:
                a = X + 1
            if False:
                b = 0
            else:
                a = a * 2
            return a
        ''')
    assert text.startswith("f:")
    assert [x.strip() for x in text[2:].splitlines()] == ["a = X + 1", "a = a * 2", "return a"]


def course_and_kit_sources():
    sources = [("kit", {name: (REPO / "a2" / name).read_text() for name in (LC, TLN)})]
    return sources + [(style.name, render(style.name)) for style in STYLE_LIST]


@pytest.mark.parametrize("name, files", course_and_kit_sources(), ids=lambda x: x if isinstance(x, str) else "")
def test_dead_statements_change_nothing_compared(name, files):
    """A dead statement after every statement of every function leaves what is compared as it
    was, for the kit's solution and every style of the course corpus."""
    def texts(sources):
        modules = {n: read_module(n, t) for n, t in sources.items()}
        reader = Reader(modules, set(COMPARED))
        return {f: [(p.name, p.text) for p in reader.pieces(FILE_OF[f], f) or []] for f in COMPARED}

    assert texts({n: with_dead_statements(t) for n, t in files.items()}) == texts(files)


def pruned(source: str) -> str:
    """``source`` with every left-out statement of its top-level functions replaced by ``pass``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        left_out, _ = live_statements(fn)
        for node in left_out:
            if not isinstance(node, ast.stmt):
                continue  # a header span: it stays in running code
            for n in range(node.lineno, node.end_lineno + 1):
                text = lines[n - 1]
                start = node.col_offset if n == node.lineno else 0
                end = node.end_col_offset if n == node.end_lineno else len(text.rstrip("\r\n"))
                filler = "pass".ljust(end - start) if n == node.lineno else " " * (end - start)
                lines[n - 1] = text[:start] + filler + text[end:]
    result = "".join(lines)
    ast.parse(result)
    return result


def load(name, source, extra=None):
    module = types.ModuleType(name)
    module.__dict__.update(extra or {})
    exec(compile(source, name, "exec"), module.__dict__)  # noqa: S102 - the kit's and the corpus's own code
    return module


@pytest.fixture
def stub_modules(monkeypatch):
    """The course's helper packages, which two corpus styles import (unused by the functions)."""
    for name in ("eecs598", "eecs598.a2_helpers", "a2_helpers"):
        stub = types.ModuleType(name)
        def anything(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return lambda *a, **k: None

        stub.__getattr__ = anything
        monkeypatch.setitem(sys.modules, name, stub)


@pytest.mark.parametrize("name, files", course_and_kit_sources(), ids=lambda x: x if isinstance(x, str) else "")
def test_pruned_code_computes_what_the_original_computes(name, files, stub_modules, monkeypatch):
    """Left out means cannot affect a result: each loss, gradient, forward pass and prediction
    of the pruned files equals the original's, for the kit's solution and every corpus style."""
    g = torch.Generator().manual_seed(0)
    N, D, H, C = 6, 5, 4, 3
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=g)
    W = 0.1 * torch.randn(D, C, generator=g, dtype=torch.float64)
    f64 = torch.float64
    params = {"W1": 0.1 * torch.randn(D, H, generator=g, dtype=f64), "b1": torch.zeros(H, dtype=f64),
              "W2": 0.1 * torch.randn(H, C, generator=g, dtype=f64), "b2": torch.zeros(C, dtype=f64)}
    results = []
    for version in (lambda t: t, pruned):
        source_lc = version(files[LC].replace("from .", "from "))
        lc = load("linear_classifier", source_lc)
        monkeypatch.setitem(sys.modules, "linear_classifier", lc)
        tln = load("two_layer_net", version(files[TLN].replace("from .", "from ")))
        out = []
        for f in ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized"):
            out.append(getattr(lc, f)(W.clone(), X.clone(), y.clone(), 0.1))
        out.append(lc.predict_linear_classifier(W, X))
        torch.manual_seed(1)
        out.append(lc.sample_batch(X, y, N, 4))
        torch.manual_seed(2)
        out.append(lc.train_linear_classifier(lc.svm_loss_vectorized, W.clone(), X, y, 1e-3, 0.1, 3, 4))
        out.append(tln.nn_forward_pass(params, X))
        out.append(tln.nn_forward_backward(params, X, y, 0.1))
        out.append(tln.nn_predict(params, tln.nn_forward_backward, X))
        results.append(out)
    torch.testing.assert_close(results[1], results[0], rtol=0, atol=0)


def test_wrappers_that_change_nothing_are_left_out():
    text = kept('''
        def f(X):
            try:
                a = X + 1
            except Exception:
                raise
            with torch.no_grad():
                a = a * 2
            for _ in range(1):
                a = a - 1
            try:
                a = a / 2
            except ValueError:
                pass
            try:
                b = a.item()
            except ValueError:
                b = 0.0                 # a fallback that can run: stays
            return a, b
        ''')
    assert [x.strip() for x in text[2:].splitlines()] == [
        "a = X + 1", "a = a * 2", "a = a - 1", "a = a / 2", "try:", "b = a.item()", "except ValueError:",
        "b = 0.0                 # a fallback that can run: stays", "return a, b"]


def test_branches_guarded_by_known_constants_are_left_out():
    """``if DEBUG:`` with a module-level ``DEBUG = False``, a local flag bound once to False,
    ``x and False``, ``for _ in range(0)``: their bodies never run, live names or not."""
    text = kept('''
        DEBUG = False
        def f(X, verbose):
            quiet = False
            a = X + 1
            if DEBUG:
                a = a * 0
            if quiet and a.sum() > 0:
                a = a - 5
            if a.sum() > 0 and False:
                a = a + 1
            for _ in range(0):
                a = a / 3
            if verbose:                 # a parameter: the caller decides
                a = a * 2
            return a
        ''')
    assert [x.strip() for x in text[2:].splitlines()] == [
        "a = X + 1", "if verbose:                 # a parameter: the caller decides", "a = a * 2", "return a"]
    # a flag bound twice, or a module constant the function rebinds, is not known
    assert "a = a * 0" in kept('''
        DEBUG = False
        def f(X):
            DEBUG = X.sum() > 0
            a = X + 1
            if DEBUG:
                a = a * 0
            return a
        ''')


def test_helpers_handed_over_by_decorators_or_default_arguments_are_reached():
    helper = "def _impl(W, X):\n    s = X.mm(W)\n    return s.argmax(dim=1)\n"
    assert "_impl:s = X.mm(W)" in kept(helper + "def f(W, X, _run=_impl):\n    return _run(W, X)\n")
    assert "_impl:s = X.mm(W)" in kept(helper + "def _use(g):\n    return lambda *a: _impl(*a)\n"
                                       "@_use\ndef f(W, X):\n    pass\n")


def test_any_assignments_files_reach_each_other():
    """Names imported from a sibling file resolve whatever the files are called (another
    assignment's too); only the files the reader holds, or the ``siblings`` it is told of, are
    siblings: an import from one that is not read reaches nothing."""
    layers = "from .helpers_fc import _affine\ndef forward(x, w):\n    out = _affine(x, w)\n    return out\n"
    helpers = "def _affine(x, w):\n    return x.mm(w)\n"
    modules = {"layers.py": read_module("layers.py", layers), "helpers_fc.py": read_module("helpers_fc.py", helpers)}
    pieces = Reader(modules, {"forward"}).pieces("layers.py", "forward")
    assert [(p.name, p.file, p.text) for p in pieces] == [
        ("forward", "layers.py", "out = _affine(x, w)\nreturn out\n"), ("_affine", "helpers_fc.py", "return x.mm(w)\n")]
    alone = {"layers.py": modules["layers.py"]}
    assert [p.name for p in Reader(alone, {"forward"}, siblings=["layers.py", "helpers_fc.py"]).pieces(
        "layers.py", "forward")] == ["forward"]
