"""grader/stubs.py: are the student files generated from the solution complete and clean?"""
import ast
import importlib.util
import inspect
from pathlib import Path

import pytest

from grader.instructor.stubs import StubError, find_regions, make_stub, solution_lines

A2 = Path(__file__).resolve().parents[1] / "a2"
FILES = ["linear_classifier.py", "two_layer_net.py"]


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
    for name in FILES:
        source = (A2 / name).read_text()
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
