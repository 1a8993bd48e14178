"""The Assignment 3 course corpus (tests/a3_course_corpus.py), checked without the grader: every
style renders in the course layout, imports through a shim of the course's helper modules, and
agrees function by function with an independent oracle (tests/a3_oracle.py: torch autograd for
the layers and nets, the update formulas for the optimizers, statistics for dropout); the corpus
holds the variety it claims; and every seeded mistake really changes the function it names."""
import ast
import contextlib
import io
import re

import pytest
import torch

import a3_oracle as oracle
from a3_course_corpus import (FILE, MUTANTS, PAIRS, REGIONS, STYLE_LIST, STYLES, apply_edits, course_submission,
                              function_span, render)
from conftest import needs_cuda


def _quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def _load(tmp_path, style, edits=()):
    return _quiet(oracle.load, course_submission(tmp_path, style, edits))


@pytest.fixture(scope="module")
def sources():
    return {name: render(name)[FILE] for name in STYLES}


# ------------------------------------------------------------------ the corpus itself

def test_corpus_is_big_and_spans_both_templates_and_both_l2_conventions():
    assert len(STYLE_LIST) >= 15
    assert len({s.name for s in STYLE_LIST}) == len(STYLE_LIST)
    assert sum(s.term == "f20" for s in STYLE_LIST) >= 5 and sum(s.term == "w22" for s in STYLE_LIST) >= 5
    assert sum(s.half for s in STYLE_LIST) >= 3 and sum(not s.half for s in STYLE_LIST) >= 3


def test_every_style_is_different_and_every_body_is_used():
    choices = [tuple(sorted(s.regions().items())) for s in STYLE_LIST]
    assert len(set(choices)) == len(choices), "two styles choose exactly the same bodies"
    used = {(region, variant) for s in STYLE_LIST for region, variant in s.regions().items()}
    unused = [(r, v) for r, bodies in REGIONS.items() for v in bodies if (r, v) not in used]
    assert not unused, f"bodies no style uses: {unused}"
    for pair, (first, second) in PAIRS.items():
        assert set(REGIONS[first]) == set(REGIONS[second]), f"{pair}: the paired regions' variants differ"


# The least number of distinct bodies the styles use, per region (the real files show more).
LEAST_DISTINCT = {"linear_forward": 7, "linear_backward": 7, "relu_forward": 8, "relu_backward": 5, "tln_init": 5,
                  "tln_forward": 4, "fc_init": 6, "fc_forward": 7, "create_solver": 6, "momentum": 5, "rmsprop": 5,
                  "adam": 5, "dropout_train": 7, "dropout_test": 2, "three_layer": 3, "five_layer": 3}


@pytest.mark.parametrize("region,least", sorted(LEAST_DISTINCT.items()))
def test_corpus_holds_distinct_bodies_per_region(sources, region, least):
    bodies = {region_body(text, region) for text in sources.values()}
    assert len(bodies) >= least, f"{region}: {len(bodies)} distinct bodies, expected at least {least}"


def region_body(source, region):
    """The text between a region's banner and its END banner, for the region's n-th TODO."""
    order = [r for r in _todo_order()]
    index = order.index(region)
    blocks = re.findall(r"# Replace the \"pass\" statement below with your code\n(.*?)\n\s*#+\n\s*#\s+END OF YOUR CODE",
                        source, flags=re.S)
    assert len(blocks) == len(order), f"{len(blocks)} TODO regions, expected {len(order)}"
    return re.sub(r"\s+", " ", blocks[index]).strip()


def _todo_order():
    from a3_course_corpus import SKELETON
    return re.findall(r"@@todo (\w+) \|", SKELETON)


E = re.escape
# (what, regex, at least this many styles)
VARIETY = [
    ("Linear by .view(N, -1)", r"x\.view\((x\.shape\[0\]|N), -1\)", 4),
    ("Linear by .reshape(N, -1)", r"x\.reshape\((x\.shape\[0\]|N), -1\)", 6),
    ("Linear by torch.flatten(start_dim=1)", r"flatten\(.*start_dim=1\)", 2),
    ("x.reshape(N, D) with D = w.shape[0]", E("x.reshape(N, D)"), 2),
    ("products by .mm", E(".mm("), 8),
    ("products by torch.mm", E("torch.mm("), 2),
    ("products by @", r"\w @ \w", 6),
    ("products by matmul", r"\.matmul\(|torch\.matmul\(", 3),
    ("dx by reshape_as", E(".reshape_as(x)"), 2),
    ("dx by .contiguous().view", E(".contiguous().view(x.shape)"), 2),
    ("ReLU by clamp", r"clamp\((x, )?min=0\)|clamp_min\(0\)", 6),
    ("ReLU by clone and index", E("out = x.clone()"), 3),
    ("ReLU by a mask product", E("out = x * (x > 0)"), 2),
    ("ReLU by torch.where", E("torch.where(x > 0, x, torch.zeros_like(x))"), 2),
    ("ReLU by torch.maximum with a 0-dim CPU zero", E("torch.maximum(torch.tensor(0.0), x)"), 2),
    ("ReLU backward by a bool-mask product", E("dx = dout * (x > 0)\n"), 3),
    ("ReLU backward by clone and index", E("dx = dout.clone()"), 4),
    ("ReLU backward by a float mask", E("(x > 0).float()"), 2),
    ("weights by torch.normal", E("torch.normal("), 5),
    ("weights made on the CPU, then .type(dtype).to(device)", E(".type(dtype).to(device)"), 2),
    ("Linear()/ReLU() instances in a net", r"= Linear\(\)|lin, relu, drop = Linear\(\), ReLU\(\), Dropout\(\)", 3),
    ("softmax written by hand in TwoLayerNet", E("probs = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)"), 2),
    ("caches in a list popped backwards", E("caches.pop()"), 5),
    ("caches in dicts keyed by layer", E("fc_caches[i] = Linear_ReLU.forward"), 3),
    ("(fc_cache, dropout_cache) tuples", E("cache = (fc_cache, drop_cache)"), 2),
    ("FullyConnectedNet's L2 with the banner's 0.5", r"0\.5 \* self\.reg", 3),
    ("FullyConnectedNet's L2 without 0.5 (2 * reg * W)", r"2 \* self\.reg \* self\.params\[f?['\"]W", 5),
    ("hidden_dims[0] and hidden_dims[-1] written out", E("hidden_dims[-1]"), 2),
    ("f-string keys", r"f['\"]W\{", 8),
    ("'W%d' % i keys", E("'W%d' % i"), 2),
    ("'W' + str(i) keys", E("'W' + str("), 2),
    ("update_rule=Solver.sgd", E("update_rule=Solver.sgd"), 2),
    ("update_rule=adam", E("update_rule=adam"), 2),
    ("model.reg set before the Solver", E("model.reg = 1e-4"), 2),
    ("num_train_samples", E("num_train_samples="), 2),
    ("a pass left after the search values", r"# Experiment with this!\n\s+pass\n", 4),
    ("optimizer updating w in place", r"w \+= v|next_w -= ", 3),
    ("momentum from the old velocity", E("next_w = w - config['learning_rate'] * dw + config['momentum'] * v"), 2),
    ("adam with locals written back", E("config['t'] = t"), 3),
    ("adam incrementing t after m and v", E('config["t"] += 1'), 2),
    ("dropout mask scaled in the forward", r"\) / \(1 - p\)\n\s+out = x \* mask", 6),
    ("dropout mask unscaled, scaling in both passes", r"out = x \* mask / \(1(\.0)? - p\)", 4),
    ("dropout mask made on the CPU and moved to x's device", E(".to(x.device)"), 2),
    ("dropout keep mask by rand_like < 1 - p", E("torch.rand_like(x) < (1 - p)"), 3),
    ("dropout mask by >= p", E(">= p"), 2),
    ("test-time dropout through a ones mask", E("mask = torch.ones_like(x)"), 2),
    ("stray standard-library imports", r"^(import enum|from functools import cache|from os\.path import relpath)$", 3),
    ("the 2-space template's svm_loss import", E("from a3_helper import svm_loss, softmax_loss"), 5),
    ("the given Solver model line edited", E("model = TwoLayerNet(hidden_dim=400, dtype=dtype, device=device)"), 1),
    ("the given return of sgd_momentum edited", E("return w, config"), 1),
    ("`@ staticmethod` spaced out", E("@ staticmethod"), 1),
    ("the given code run through black", E('device="cpu",\n    ):'), 1),
    ("a type hint added to the given TwoLayerNet.loss", E("def loss(self, X: torch.Tensor, y=None):"), 1),
]


@pytest.mark.parametrize("what,pattern,least", VARIETY, ids=[v[0] for v in VARIETY])
def test_corpus_has_the_variety_it_claims(sources, what, pattern, least):
    found = sum(bool(re.search(pattern, text, flags=re.M)) for text in sources.values())
    assert found >= least, f"{found} styles with {what}, expected at least {least}"


def test_sources_parse_and_keep_the_course_layout(sources):
    for name, text in sources.items():
        tree = ast.parse(text, filename=f"{name}/{FILE}")
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        want = {"hello_fully_connected_networks", "Linear", "ReLU", "Linear_ReLU", "TwoLayerNet", "FullyConnectedNet",
                "create_solver_instance", "get_three_layer_network_params", "get_five_layer_network_params", "sgd",
                "sgd_momentum", "rmsprop", "adam", "Dropout"}
        assert want <= defined, f"{name} lacks {want - defined}"
        assert text.count("END OF YOUR CODE") == len(_todo_order()) == 19
        assert "from eecs598 import Solver" in text
        assert "X = X.to(self.dtype)" in text and "torch.manual_seed(dropout_param['seed'])" in text
        assert "a, fc_cache = Linear.forward(x, w, b)" in text  # Linear_ReLU as given
        term = STYLES[name].term
        if term == "f20":
            assert "\n  def forward(x, w, b):" in text and "import random\n" in text
            assert "if config is None: config = {}" in text
        else:
            assert "\n    def forward(x, w, b):" in text and "from a3_helper import softmax_loss\n" in text
            assert "svm_loss" not in text and "if config is None:\n        config = {}" in text
        # CUDA-safe: nothing names a GPU; a .to() only follows the requested device or x's
        code = text.split('"""', 2)[2]  # after the module docstring's reminder
        assert not re.search(r"\.cuda\(|'cuda'|\"cuda\"", code), f"{name} names the GPU"
        for call in re.findall(r"\.to\(([^)]*)\)", code):
            assert call in ("device", "x.device", "x.dtype", "dout.dtype", "self.dtype"), f"{name}: .to({call})"


# ------------------------------------------------------------------ the shim and the oracle

def test_shim_softmax_loss_is_cross_entropy_and_its_gradient():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(5, (7,), generator=gen)
    loss, dx = oracle.softmax_loss(x.detach(), y)
    ref = torch.nn.functional.cross_entropy(x, y)
    ref.backward()
    assert torch.allclose(loss, ref.detach()) and torch.allclose(dx, x.grad)
    loss, dx = oracle.softmax_loss(1e4 * x.detach(), y)  # shifted by each row's max: no overflow
    assert torch.isfinite(loss) and torch.isfinite(dx).all()


def _stub_source(style):
    """The style's file as handed out: every TODO body replaced by ``pass`` (the search-parameter
    functions keep the template's starting values)."""
    text = render(style)[FILE]

    def stub(match):
        body = match.group(2)
        keep = "\n".join(line for line in body.split("\n") if "# Experiment with this!" in line)
        indent = re.match(r"\s*", body).group(0)
        return match.group(1) + (keep + "\n" if keep else "") + indent + "pass" + match.group(3)

    return re.sub(r"(# Replace the \"pass\" statement below with your code\n)(.*?)(\n\s*#+\n\s*#\s+END OF YOUR CODE)",
                  stub, text, flags=re.S)


def test_oracle_fails_every_function_of_the_handout(tmp_path):
    folder = tmp_path / "handout"
    folder.mkdir()
    (folder / FILE).write_text(_stub_source("w22_reshape_at_clamp"))
    module = _quiet(oracle.load, folder)
    found = _quiet(oracle.problems, module)
    passing = set(oracle.CHECKS) - set(found)
    # the template's starting search values are positive numbers: only their type is checkable offline
    assert passing == {"get_three_layer_network_params", "get_five_layer_network_params"}, found


def test_oracle_fails_every_function_of_the_released_stub_and_passes_the_kit_solution(tmp_path):
    """The stub ``release`` hands out (make_stub of the kit's a3/fully_connected_networks.py)
    computes none of the answers, the search values included (it returns none); the solution it
    is made from passes every check."""
    from grader.instructor.stubs import make_stub
    from grader.paths import ROOT

    solution = (ROOT / "a3" / FILE).read_text()
    folder = tmp_path / "stub"
    folder.mkdir()
    (folder / FILE).write_text(make_stub(solution, FILE))
    found = _quiet(oracle.problems, _quiet(oracle.load, folder))
    assert set(found) == set(oracle.CHECKS), set(oracle.CHECKS) - set(found)
    folder = tmp_path / "solution"
    folder.mkdir()
    (folder / FILE).write_text(solution)
    module = _quiet(oracle.load, folder)
    module.Solver = oracle.RecordingSolver  # the kit's file imports helpers' Solver, not the shim's eecs598
    assert _quiet(oracle.problems, module) == {}


def test_shim_leaves_the_course_module_names_as_it_found_them(tmp_path):
    import sys

    before = {name: sys.modules.get(name) for name in ("a3_helper", "eecs598")}
    module = _load(tmp_path, "w22_reshape_at_clamp")
    assert {name: sys.modules.get(name) for name in before} == before
    assert module.Solver is oracle.RecordingSolver and module.softmax_loss is oracle.softmax_loss


# ------------------------------------------------------------------ every style agrees with the oracle

@pytest.mark.parametrize("style", [s.name for s in STYLE_LIST])
def test_style_agrees_with_the_oracle(tmp_path, style):
    module = _load(tmp_path, style)
    found = _quiet(oracle.problems, module)
    assert not found, f"{style}: " + "\n".join(f"{k}: {v}" for k, v in found.items())


def test_fully_connected_net_l2_convention_matches_what_the_style_claims(tmp_path):
    """The oracle accepts both conventions; here each style's own convention is measured."""
    params, X, y = oracle._net_inputs((5, 6, 4), torch.float64, "cpu", seed=3)
    for style in STYLE_LIST:
        module = _load(tmp_path / style.name, style.name)
        net = module.FullyConnectedNet([6], input_dim=5, num_classes=4, reg=0.8, dtype=torch.float64)
        net.params = {k: v.clone() for k, v in params.items()}
        loss = float(_quiet(net.loss, X, y)[0])
        data = float(oracle.softmax_loss(oracle._reference_scores(params, X, 2), y)[0])
        l2 = sum(float((params[k] ** 2).sum()) for k in params if k.startswith("W"))
        factor = (loss - data) / (0.8 * l2)
        assert abs(factor - (0.5 if style.half else 1.0)) < 1e-9, (style.name, factor)


# ------------------------------------------------------------------ seeded mistakes

def _mutant_params():
    for mutant in MUTANTS:
        for style, edits in mutant.edits.items():
            yield pytest.param(mutant, style, edits, id=f"{mutant.label} / {style}")


def test_mutants_are_named_and_cover_two_styles_each():
    labels = [m.label for m in MUTANTS]
    assert len(labels) == len(set(labels)) and len(MUTANTS) >= 30
    for mutant in MUTANTS:
        assert len(mutant.edits) == 2, f"{mutant.label}: {sorted(mutant.edits)}"
        assert all(style in STYLES for style in mutant.edits), mutant.label
        assert mutant.oracle in oracle.CHECKS, mutant.label
    seen_in_real_files = [m for m in MUTANTS if m.source != "issue"]
    assert len(seen_in_real_files) >= 20


def test_mutant_edits_apply_inside_their_function_and_still_parse():
    for mutant in MUTANTS:
        for style, edits in mutant.edits.items():
            text = apply_edits(render(style), edits)[FILE]  # raises unless each edit finds its text once
            ast.parse(text)
            changed = [name for name in GRADED
                       if _span_text(render(style)[FILE], name) != _span_text(text, name)]
            assert set(changed) == {e[0] for e in edits}, f"{mutant.label} / {style} changed {changed}"


GRADED = ["Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward", "TwoLayerNet.__init__",
          "TwoLayerNet.loss", "FullyConnectedNet.__init__", "FullyConnectedNet.loss", "create_solver_instance",
          "get_three_layer_network_params", "get_five_layer_network_params", "sgd_momentum", "rmsprop", "adam",
          "Dropout.forward", "Dropout.backward"]


def _span_text(text, function):
    start, end = function_span(text, function)
    return text[start:end]


@pytest.mark.parametrize("mutant,style,edits", list(_mutant_params()))
def test_mutant_changes_the_function_it_names(tmp_path, mutant, style, edits):
    module = _load(tmp_path, style, edits)
    found = _quiet(oracle.run_check, mutant.oracle, module)
    assert found, f"{mutant.label} in {style}: the oracle's {mutant.oracle} check still passes"


# ------------------------------------------------------------------ on the GPU

@needs_cuda
@pytest.mark.parametrize("style", [s.name for s in STYLE_LIST])
def test_style_agrees_with_the_oracle_on_cuda(tmp_path, style):
    module = _load(tmp_path, style)
    found = _quiet(oracle.problems, module, device="cuda")
    assert not found, f"{style} on CUDA: " + "\n".join(f"{k}: {v}" for k, v in found.items())
