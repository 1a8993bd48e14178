"""grader/stubs.py: are the student files generated from the solution complete and clean?"""
import ast
import importlib.util
import inspect
from pathlib import Path

import pytest

from grader.instructor.stubs import StubError, find_regions, make_stub, solution_lines

A2 = Path(__file__).resolve().parents[1] / "a2"
FILES = ["linear_classifier.py", "two_layer_net.py"]
A3 = Path(__file__).resolve().parents[1] / "a3"
A3_FILES = ["fully_connected_networks.py"]


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stub_package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout") / "a2stub"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name in FILES:
        (folder / name).write_text(make_stub((A2 / name).read_text(), name))
    import sys

    sys.path.insert(0, str(folder.parent))
    try:
        import a2stub.linear_classifier as lc
        import a2stub.two_layer_net as tln
        yield folder, lc, tln
    finally:
        sys.path.remove(str(folder.parent))
        for key in [k for k in sys.modules if k.startswith("a2stub")]:
            del sys.modules[key]


def _signatures(module):
    out = {}
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            out[name] = str(inspect.signature(obj))
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member):
                    out[f"{name}.{attr}"] = str(inspect.signature(member))
    return out


def test_stubs_import_and_keep_every_signature_and_docstring(stub_package):
    import a2.linear_classifier as lc
    import a2.two_layer_net as tln

    _, stub_lc, stub_tln = stub_package
    for solution, stub in [(lc, stub_lc), (tln, stub_tln)]:
        assert _signatures(solution) == _signatures(stub)
        for name, obj in vars(solution).items():
            if inspect.isfunction(obj) and obj.__module__ == solution.__name__:
                assert inspect.getdoc(obj) == inspect.getdoc(getattr(stub, name)), name


def test_every_student_region_raises_not_implemented(stub_package):
    import torch

    _, lc, tln = stub_package
    W, X, y = torch.zeros(3, 2), torch.ones(4, 3), torch.tensor([0, 1, 0, 1])
    params = {"W1": torch.zeros(3, 2), "b1": torch.zeros(2), "W2": torch.zeros(2, 2), "b2": torch.zeros(2)}
    calls = [
        lambda: lc.svm_loss_naive(W, X, y, 0.1), lambda: lc.svm_loss_vectorized(W, X, y, 0.1),
        lambda: lc.softmax_loss_naive(W, X, y, 0.1), lambda: lc.softmax_loss_vectorized(W, X, y, 0.1),
        lambda: lc.sample_batch(X, y, 4, 2), lambda: lc.predict_linear_classifier(W, X),
        lc.svm_get_search_params, lc.softmax_get_search_params,
        lambda: lc.train_linear_classifier(lambda *a: (torch.tensor(0.0), W), W, X, y, num_iters=1),
        lambda: lc.test_one_param_set(lc.LinearSVM(), {}, 0.1, 0.1),
        lambda: tln.nn_forward_pass(params, X), lambda: tln.nn_forward_backward(params, X, y),
        lambda: tln.nn_predict(params, lambda p, x: x, X), tln.nn_get_search_params,
        lambda: tln.find_best_net({}, tln.nn_get_search_params),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError):
            call()


def test_stubs_contain_no_solution_line():
    for name in FILES + A3_FILES:
        source = ((A2 if name in FILES else A3) / name).read_text()
        stub = make_stub(source, name)
        secret = solution_lines(source, name)
        assert len(secret) > 5
        stub_lines = {line.strip() for line in stub.splitlines()}
        leaked = [line for line in secret if line in stub_lines]
        assert not leaked, leaked
        assert "BEGIN SOLUTION" not in stub and "END SOLUTION" not in stub


def test_regions_name_their_function_and_todo():
    regions = find_regions((A2 / "two_layer_net.py").read_text())
    assert {r.function for r in regions} >= {"nn_forward_pass", "nn_forward_backward", "find_best_net"}
    stub = make_stub((A2 / "two_layer_net.py").read_text())
    assert 'raise NotImplementedError("nn_forward_pass: compute hidden (after ReLU) and scores")' in stub


@pytest.mark.parametrize("source,message", [
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n", "never closed"),
    ("def f():\n    # END SOLUTION\n    return 1\n", "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", "inside the region"),
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n# END SOLUTION\n", "not indented like"),
    ("def f():\n    x = 1  # BEGIN SOLUTION\n", "stand alone"),
])
def test_malformed_markers_are_named_with_their_line(source, message):
    with pytest.raises(StubError, match=message):
        make_stub(source, "bad.py")


def test_given_code_is_kept_verbatim():
    source = (A2 / "linear_classifier.py").read_text()
    stub = make_stub(source)
    assert "margin = scores[j] - correct_class_score + 1  # note delta = 1" in stub
    ast.parse(stub)


# ---------------------------------------------------------------- Assignment 3

@pytest.fixture(scope="module")
def a3_stub(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout3")
    for name in A3_FILES:
        (folder / name).write_text(make_stub((A3 / name).read_text(), name))
    return _load(folder / "fully_connected_networks.py", "a3stub_fully_connected_networks")


def _members(module):
    """Every function and method defined in the module, with its docstring."""
    out = {}
    for name, obj in vars(module).items():
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            out[name] = obj
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            out[name] = obj
            for attr, member in vars(obj).items():
                if isinstance(member, staticmethod):
                    member = member.__func__
                if inspect.isfunction(member):
                    out[f"{name}.{attr}"] = member
    return out


def test_a3_stub_keeps_every_signature_and_docstring(a3_stub):
    import a3.fully_connected_networks as solution

    ours, stub = _members(solution), _members(a3_stub)
    assert set(ours) == set(stub) and len(ours) > 25
    for name, obj in ours.items():
        assert inspect.getdoc(obj) == inspect.getdoc(stub[name]), name
        if callable(obj) and not inspect.isclass(obj):
            assert inspect.signature(obj) == inspect.signature(stub[name]), name


def test_a3_stub_raises_not_implemented_in_every_region_and_keeps_the_given_code(a3_stub, monkeypatch):
    import torch

    m = a3_stub
    x, w, b = torch.ones(2, 3), torch.ones(3, 4), torch.zeros(4)
    calls = {
        "Linear.forward": lambda: m.Linear.forward(x, w, b),
        "Linear.backward": lambda: m.Linear.backward(torch.ones(2, 4), (x, w, b)),
        "ReLU.forward": lambda: m.ReLU.forward(x),
        "ReLU.backward": lambda: m.ReLU.backward(x, x),
        "TwoLayerNet.__init__": lambda: m.TwoLayerNet(input_dim=3),
        "FullyConnectedNet.__init__": lambda: m.FullyConnectedNet([2], input_dim=3),
        # its given first line builds a TwoLayerNet, whose own TODO would raise first
        "create_solver_instance": lambda: (monkeypatch.setattr(m, "TwoLayerNet", lambda **_: None),
                                           m.create_solver_instance({}, torch.float32, "cpu")),
        "get_three_layer_network_params": m.get_three_layer_network_params,
        "get_five_layer_network_params": m.get_five_layer_network_params,
        "sgd_momentum": lambda: m.sgd_momentum(w, w),
        "rmsprop": lambda: m.rmsprop(w, w),
        "adam": lambda: m.adam(w, w),
        "Dropout.forward": lambda: m.Dropout.forward(x, {"mode": "train", "p": 0.5}),
        "Dropout.backward": lambda: m.Dropout.backward(x, ({"mode": "train", "p": 0.5}, x)),
    }
    for name, call in calls.items():
        with pytest.raises(NotImplementedError, match=name.replace(".", r"\.")):
            call()
    with pytest.raises(NotImplementedError, match="Dropout.forward: the test-time"):
        m.Dropout.forward(x, {"mode": "test", "p": 0.5})
    # the template's given code works as it is
    w_copy = w.clone()
    assert m.sgd(w_copy, torch.ones_like(w), {"learning_rate": 0.5})[0].eq(0.5).all()
    assert torch.equal(m.Dropout.backward(x, ({"mode": "test"}, None)), x)
    assert "Hello" in _capture(m.hello_fully_connected_networks)


def _capture(fn):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn()
    return out.getvalue()


def test_a3_models_in_the_stub_stop_at_their_first_region(a3_stub):
    """The model methods raise at the first TODO they reach, naming it."""
    import torch

    m = a3_stub
    model = object.__new__(m.FullyConnectedNet)
    model.params, model.num_layers, model.dtype, model.reg = {}, 2, torch.float32, 0.0
    model.use_dropout, model.dropout_param = False, {}
    with pytest.raises(NotImplementedError, match="FullyConnectedNet.loss: forward pass"):
        model.loss(torch.ones(2, 3))
    two = object.__new__(m.TwoLayerNet)
    two.params, two.reg = {}, 0.0
    with pytest.raises(NotImplementedError, match="TwoLayerNet.loss: forward pass"):
        two.loss(torch.ones(2, 3))
