"""grader/student_side: the course package shim, the tracer's GPU questions answered on the
CPU, stand-ins that answer only from their tables, and the static call graph the grader uses
to skip cases after a hang."""
import importlib
import importlib.util
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
        if name == "eecs598" or name.startswith("eecs598.") or name in ("a2_helpers", "a3_helper"):
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
        course.a4_helpers  # noqa: B018 - no assignment of this kit has it


COURSE_A3_IMPORTS = {
    "w22": "import torch\nfrom a3_helper import softmax_loss\nfrom eecs598 import Solver\n",
    "f20": "import torch\nimport random\nfrom a3_helper import svm_loss, softmax_loss\nfrom eecs598 import Solver\n",
}


@pytest.mark.parametrize("term", sorted(COURSE_A3_IMPORTS))
def test_a3_course_layout_file_loads_with_a3_helper_and_eecs598_solver(term, tmp_path, monkeypatch):
    """A fully_connected_networks.py with the course's imports (both terms) loads beside the
    kit's a3_helper and eecs598, gets the kit's softmax_loss and Solver, and works."""
    from pathlib import Path

    import helpers.losses
    import helpers.solver

    for name in list(sys.modules):
        if name in ("eecs598", "a2_helpers", "a3_helper") or name.startswith("eecs598."):
            monkeypatch.delitem(sys.modules, name)
    eecs598.install()
    import a3_helper
    from eecs598 import Solver
    from eecs598.solver import Solver as SolverAgain
    from eecs598.submit import make_a3_submission

    assert Solver is SolverAgain is helpers.solver.Solver and callable(make_a3_submission)
    assert a3_helper.softmax_loss is helpers.losses.softmax_loss and a3_helper.svm_loss is helpers.losses.svm_loss
    for name in eecs598.A3_HELPER:
        assert callable(getattr(a3_helper, name)), name

    kit = (Path(__file__).resolve().parents[1] / "a3" / "fully_connected_networks.py").read_text()
    kit_imports = "import torch\n\nfrom helpers.losses import softmax_loss\nfrom helpers.solver import Solver\n"
    assert kit_imports in kit
    path = tmp_path / "fully_connected_networks.py"
    path.write_text(kit.replace(kit_imports, COURSE_A3_IMPORTS[term]))
    spec = importlib.util.spec_from_file_location("fully_connected_networks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.softmax_loss is helpers.losses.softmax_loss and module.Solver is helpers.solver.Solver
    X, y = torch.randn(5, 3, 2, dtype=torch.float64), torch.tensor([0, 1, 2, 1, 0])
    loss, grads = module.FullyConnectedNet([4], input_dim=6, num_classes=3, dtype=torch.float64).loss(X, y)
    assert torch.isfinite(loss) and set(grads) == {"W1", "b1", "W2", "b2"}
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    assert isinstance(module.create_solver_instance(data, torch.float64, "cpu"), helpers.solver.Solver)


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
    assert outcome.trace["cuda_named"] and not outcome.trace["cuda_crashes"]
    assert "device='cuda'" in outcome.trace["device_breaks"][0]  # still against the rules
    moved = _trace(lambda W, X, y: X.mm(W).cuda().argmax(1), W, X, y)
    assert moved.ok and ".cuda()" in moved.trace["device_breaks"][0]


# The template's rule: tensors follow the inputs' device. (source of f(W, X, y), broken?)
DEVICE_RULE_CODE = [
    ("torch.zeros(3, device='cuda')", True),
    ("torch.tensor(0, device='cuda')", True),
    ("torch.zeros(3, device='cuda:0')", True),
    ("torch.zeros(3, device=torch.device('cuda'))", True),
    ("torch.zeros(3, device='cpu')", True),  # written out, even where it is the inputs' device
    ("torch.zeros(3, device=torch.device('cpu'))", True),
    ("X.new_zeros(3, device='cuda')", True),
    ("torch.zeros_like(W, device='cuda')", True),
    ("X.cuda()", True),
    ("X.to('cuda')", True),
    ("X.to(torch.device('cuda'), dtype=X.dtype)", True),
    ("(X > 0).type(torch.cuda.FloatTensor)", True),  # crashes without a GPU: given the CPU's type
    ("(X > 0).type('torch.cuda.DoubleTensor')", True),
    ("(X > 0).type(torch.DoubleTensor) * X", True),  # a CPU tensor type: on a GPU, a move to the CPU
    ("X.cpu()", True),  # returned: used as a tensor
    ("X.to('cpu')", True),
    ("X.cpu().mm(W)", True),
    ("X.cpu().numpy()", True),
    ("torch.zeros(3, device=X.device)", False),
    ("torch.zeros(3).to(X.device)", False),
    ("torch.zeros(3).to(device=X.device)", False),
    ("y.to(dtype=torch.long, device=X.device)", False),
    ("torch.zeros(3, dtype=torch.int64).to(W.dtype)", False),
    ("torch.zeros(3).to(X)", False),
    ("torch.zeros(3).type_as(X)", False),
    ("X.to(X.device, X.dtype)", False),
    ("X.sum().cpu().item()", False),
    ("X.cpu().tolist()", False),
    ("(X > 0).type(torch.DoubleTensor).tolist()", False),
    ("X.sum().detach().cpu().item()", False),
    ("float(X.sum().cpu())", False),
    ("(X > 0).type(X.dtype)", False),
    ("torch.zeros_like(W)", False),
    ("X.new_zeros(3)", False),
]


@pytest.mark.parametrize("expression,broken", DEVICE_RULE_CODE, ids=[c[0] for c in DEVICE_RULE_CODE])
def test_the_tracer_finds_every_device_named_or_moved_to(tmp_path, expression, broken):
    path = tmp_path / "student.py"
    path.write_text(f"import torch\n\n\ndef f(W, X, y):\n    return {expression}\n")
    namespace = {"__name__": "student"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    outcome = call_captured(namespace["f"], W, X, y, trace=True, trace_dtype=torch.float64, trace_device=CPU,
                            files=(str(path),))
    assert outcome.ok, outcome.error
    assert bool(outcome.trace["device_breaks"]) == broken, outcome.trace["device_breaks"]
    if broken:
        assert outcome.trace["device_breaks"][0].startswith("line 5: "), outcome.trace["device_breaks"]


def test_a_device_read_from_the_inputs_may_be_kept_in_a_variable(tmp_path):
    """device = X.device, then .to(device) / device=device, follows the inputs; a device made
    at module level (torch.device("cuda" if ... else "cpu")) is written out, whatever it holds."""
    source = ("import torch\n\nDEVICE = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n\n\n"
              "def kept(W, X, y):\n    device = X.device\n    ones = torch.ones(3, device=device)\n"
              "    return ones.to(device) + y.to(device).sum()\n\n\n"
              "def module_level(W, X, y):\n    return torch.ones(3, device=DEVICE)\n")
    path = tmp_path / "student.py"
    path.write_text(source)
    namespace = {"__name__": "student"}
    exec(compile(source, str(path), "exec"), namespace)
    kept = call_captured(namespace["kept"], W, X, y, trace=True, trace_dtype=torch.float64, trace_device=CPU,
                         files=(str(path),))
    assert kept.ok and kept.trace["device_breaks"] == []
    named = call_captured(namespace["module_level"], W, X, y, trace=True, trace_dtype=torch.float64,
                          trace_device=CPU, files=(str(path),))
    assert named.ok and named.trace["device_breaks"][0].startswith("line 13: torch.ones(..., device=torch.device(")


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


# ------------------------------------------------------------------ what a worker may read

def test_landlock_allows_package_folders_whole_but_around_the_kit(tmp_path, monkeypatch):
    from grader.student_side import zygote

    lib = tmp_path / "lib"
    site = lib / "python3.11" / "site-packages"
    for name in ("a2", "grader", "torch", "numpy"):
        (site / name).mkdir(parents=True)
    (site / "six.py").write_text("")
    (lib / "python3.11" / "os.py").write_text("")
    clean = tmp_path / "clean" / "lib" / "python3" / "dist-packages" / "torch"
    clean.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", sys.path + [str(site), str(clean.parent)])

    readable = zygote._readable(str(tmp_path / "helpers"))

    def allowed(path):
        return any(str(path) == p or str(path).startswith(p + "/") for p in readable)

    assert not allowed(site / "a2") and not allowed(site / "grader") and not allowed(site / "a2" / "x.py")
    assert allowed(site / "torch") and allowed(site / "numpy") and allowed(site / "six.py")
    assert str(clean.parent) in readable  # a package folder without the kit: one rule for all of it
    assert not allowed(zygote._KIT_ROOT + "/a2/two_layer_net.py")
    assert len(readable) < 60, readable  # folders as wholes, not one rule per file


def test_allowing_around_an_excluded_path_descends_only_where_needed(tmp_path):
    from grader.student_side import zygote

    (tmp_path / "a" / "b" / "secret").mkdir(parents=True)
    (tmp_path / "a" / "b" / "fine").mkdir()
    (tmp_path / "a" / "c").mkdir()
    (tmp_path / "a" / "f.txt").write_text("")
    paths = set()
    zygote._allow_around(str(tmp_path / "a"), {str(tmp_path / "a" / "b" / "secret")}, paths)
    assert paths == {str(tmp_path / "a" / "b" / "fine"), str(tmp_path / "a" / "c"), str(tmp_path / "a" / "f.txt")}


def test_a_wheel_install_keeps_its_package_folder_readable_but_not_the_kit(tmp_path, monkeypatch):
    from grader.student_side import zygote

    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for name in ("a2", "grader", "torch"):
        (site / name).mkdir(parents=True)
    monkeypatch.setattr(sys, "path", sys.path + [str(site)])
    monkeypatch.setattr(zygote, "_KIT_ROOT", str(site))  # where a wheel puts the kit

    readable = zygote._readable(str(tmp_path / "helpers"))
    assert str(site / "torch") in readable
    assert not any(str(site / "a2").startswith(p + "/") or str(site / "a2") == p for p in readable)
    assert not any(str(site / "grader").startswith(p + "/") or str(site / "grader") == p for p in readable)


# ------------------------------------------------------------------ code that may name the GPU

GPU_NAMING = '''
import torch
DEVICE = "cuda"
GPU = torch.device("cuda")
SETTINGS = {"device": "cuda:0"}

def plain(W, X):
    """Never call .cuda() or .to("cuda") here."""
    return X.mm(W)

def by_method(W, X):
    return X.cuda().mm(W)

def by_string(W, X):
    return torch.zeros(3, device="cuda") + X.sum()

def by_global(W, X):
    return torch.zeros(3, device=DEVICE)

def by_device_object(W, X):
    return torch.zeros(3, device=GPU)

def by_settings(W, X):
    return torch.zeros(3, **SETTINGS)

def by_default(W, X, device="cuda"):
    return torch.zeros(3, device=device)

def by_helper(W, X):
    return by_global(W, X)

def by_lambda(W, X):
    make = lambda: torch.ones(2, device="cuda")
    return make()

def recursive(W, X, n=2):
    return recursive(W, X, n - 1) if n else X

class Net:
    def __init__(self, device="cuda"):
        self.device = device

def by_class(W, X):
    return Net()
'''


def test_only_code_that_may_name_the_gpu_gets_the_cpu_stand_in(tmp_path):
    from grader.student_side.capture import may_name_the_gpu

    path = tmp_path / "student.py"
    path.write_text(GPU_NAMING)
    namespace = {"__name__": "student"}
    exec(compile(GPU_NAMING, str(path), "exec"), namespace)
    files = [str(path)]
    assert not may_name_the_gpu(namespace["plain"], files)  # the word in a docstring only
    assert not may_name_the_gpu(namespace["recursive"], files)
    for name in ("by_method", "by_string", "by_global", "by_device_object", "by_settings", "by_default",
                 "by_helper", "by_lambda", "by_class"):
        assert may_name_the_gpu(namespace[name], files), name
    assert may_name_the_gpu(torch.zeros, files)  # not read through: counts as naming it
    assert may_name_the_gpu(lambda W, X: X, files)  # not the student's file


def test_a_loss_that_hard_codes_the_gpu_still_runs_on_the_cpu_without_tracing(tmp_path):
    from grader.student_side.probes import Context

    path = tmp_path / "student.py"
    path.write_text(GPU_NAMING)
    namespace = {"__name__": "student"}
    exec(compile(GPU_NAMING, str(path), "exec"), namespace)
    ctx = Context({}, {}, [str(path)], "cpu")
    X = torch.ones(2, 3)
    outcome = ctx.call(namespace["by_global"], None, X, trace=False)
    assert outcome.ok and outcome.value.device.type == "cpu" and outcome.trace["cuda_named"]
    outcome = ctx.call(namespace["plain"], torch.ones(3, 1), X, trace=False)
    assert outcome.ok and "cuda_named" not in outcome.trace


def test_what_a_function_reaches_is_read_again_once_its_stand_ins_are_gone(tmp_path):
    """Read while a stand-in replaces the helper that names the GPU, by_helper names nothing;
    once the stand-in is gone it does again (a real submission's numeric gradient cases crashed
    on 'no NVIDIA driver' after an earlier case had read it under a stand-in)."""
    import types

    from grader.student_side.probes import Context
    from grader.student_side.standins import Substitutes

    path = tmp_path / "student.py"
    path.write_text(GPU_NAMING)
    module = types.ModuleType("student")
    exec(compile(GPU_NAMING, str(path), "exec"), module.__dict__)
    ctx = Context({}, {}, [str(path)], "cpu")
    X = torch.ones(2, 3)
    with Substitutes([module], {"by_global": lambda W, X: torch.zeros(3)}):
        assert ctx.call(module.by_helper, None, X, trace=False).ok
        assert not ctx.may_name_the_gpu(module.by_helper)
    assert ctx.may_name_the_gpu(module.by_helper)
    outcome = ctx.call(module.by_helper, None, X, trace=False)
    assert outcome.ok and outcome.value.device.type == "cpu"


def test_requests_carry_tensors_exactly_and_keep_shared_objects_shared():
    from grader.student_side.wire import decode_request, encode_request

    base = torch.randn(6, 5, dtype=torch.float64)
    W = torch.randn(3, 4, requires_grad=True)
    params = {"W1": W, "b": torch.arange(4), "view": base[:, 1:3], "flag": torch.tensor([True, False]),
              "half": torch.randn(2, 2).to(torch.bfloat16), "empty": torch.empty(0, 3), "scalar": torch.tensor(2.5)}
    payload = {"params": params, "again": W, "args": [base, (1, "x")], "transposed": base.t()}
    got = decode_request(encode_request(payload))
    for name, tensor in params.items():
        copy = got["params"][name]
        assert copy.dtype == tensor.dtype and copy.shape == tensor.shape and torch.equal(copy, tensor.detach()), name
    assert got["params"]["W1"].requires_grad and got["params"]["W1"].is_leaf
    assert got["again"] is got["params"]["W1"]  # one object stays one object
    assert torch.equal(got["transposed"], base.t()) and got["args"][1] == (1, "x")
    got["args"][0][0, 0] = 99.0  # writable, and the grader's copy untouched
    assert base[0, 0] != 99.0


NEWER_PYTHON_ONLY = [  # refused by 3.10 and 3.11, read by 3.12 (PEP 701)
    'x = 1\ny = f"{\n    x}"\n',
    'd = {"a": 1}\nx = f"{d["a"]}"\n',
    'x = f"{"\\n".join(["a", "b"])}"\n',
    'x = 1\nprint(rf"""{x # one\n}""", f\'{"a" + "b"}\')\n',
    'x = [f"{"}"}", "{", \'"\']\n',
]
ALWAYS_WRONG = [
    'def broken(:\n    pass\n', 'x = "unterminated\n', 'x = f"{}"\n',
    'y = f"{1}"\ndef broken(:\n    pass\n',  # an f-string elsewhere is no excuse
    'x = f"{d["a"]}"\ndef broken(:\n    pass\n',
]


@pytest.mark.parametrize("source", NEWER_PYTHON_ONLY + ALWAYS_WRONG)
def test_syntax_errors_that_a_newer_python_may_accept_are_told_apart(tmp_path, source):
    from grader.student_side.capture import describe_error, needs_newer_python

    path = tmp_path / "student.py"
    path.write_text(source)
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        error = exc
    else:
        assert sys.version_info >= (3, 12) and source in NEWER_PYTHON_ONLY
        return
    expected = "3.12" if source in NEWER_PYTHON_ONLY and sys.version_info < (3, 12) else ""
    assert needs_newer_python(error) == expected, (source, error.msg)
    described = describe_error(error, (str(path),))
    assert described.get("needs_python", "") == expected and described["type"] == "SyntaxError"
    assert "line" in described["traceback"] and "importlib" not in described["traceback"]
