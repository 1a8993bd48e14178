"""a3/fully_connected_networks.py: every layer's forward and backward, the two models' losses
and the update rules, each against an independent oracle (torch autograd of a re-implementation,
torch.optim's update rules), plus dropout's statistics and the contracts the template states
(caches, regularization conventions, dtype and device, inputs left alone, seeds)."""
import copy

import pytest
import torch
import torch.nn.functional as F

from a3 import fully_connected_networks as fcn
from conftest import needs_cuda
from helpers import compute_numeric_gradient

F64 = torch.float64


def _rand(*shape, seed=0, scale=1.0, dtype=F64):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=gen, dtype=dtype)


def _leaf(t):
    return t.detach().clone().requires_grad_(True)


def _vjp(fn, inputs, dout):
    """Gradients of sum(fn(*inputs) * dout) with respect to every input, by autograd."""
    leaves = [_leaf(t) for t in inputs]
    out = fn(*leaves)
    return torch.autograd.grad((out * dout).sum(), leaves)


# ---------------------------------------------------------------- Linear, ReLU, Linear_ReLU

LINEAR_SHAPES = [(4, (6,), 5), (3, (2, 3), 4), (2, (2, 3, 4), 7), (1, (5,), 1), (6, (1, 1, 3), 2)]


@pytest.mark.parametrize("N, dims, M", LINEAR_SHAPES)
def test_linear_forward_and_backward_equal_autograd(N, dims, M):
    """x of any number of dimensions is read as rows; dx keeps x's shape, dw and db are summed."""
    D = 1
    for d in dims:
        D *= d
    x, w, b = _rand(N, *dims, seed=1), _rand(D, M, seed=2), _rand(M, seed=3)
    out, cache = fcn.Linear.forward(x, w, b)
    expected = x.reshape(N, D) @ w + b
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    assert cache[0] is x and cache[1] is w and cache[2] is b and len(cache) == 3
    dout = _rand(N, M, seed=4)
    dx, dw, db = fcn.Linear.backward(dout, cache)
    ref = _vjp(lambda x_, w_, b_: x_.reshape(N, -1) @ w_ + b_, (x, w, b), dout)
    for got, want, name in zip((dx, dw, db), ref, ("dx", "dw", "db")):
        assert got.shape == want.shape, name
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_relu_forward_and_backward_equal_autograd_and_leave_x_alone(shape):
    x = _rand(*shape, seed=5)
    x_before = x.clone()
    out, cache = fcn.ReLU.forward(x)
    torch.testing.assert_close(out, torch.relu(x), rtol=0, atol=0)
    assert cache is x and torch.equal(x, x_before), "ReLU.forward must not change its input"
    dout = _rand(*shape, seed=6)
    dx = fcn.ReLU.backward(dout, cache)
    (ref,) = _vjp(torch.relu, (x,), dout)
    torch.testing.assert_close(dx, ref, rtol=0, atol=0)


def test_relu_backward_masks_on_the_input_not_on_dout():
    """Where x > 0 but dout < 0 the gradient still flows; where x < 0 and dout > 0 it does not."""
    x = torch.tensor([2.0, -3.0, 0.5, -0.5], dtype=F64)
    dout = torch.tensor([-1.0, 4.0, 2.0, -2.0], dtype=F64)
    _, cache = fcn.ReLU.forward(x)
    assert fcn.ReLU.backward(dout, cache).tolist() == [-1.0, 0.0, 2.0, 0.0]


@pytest.mark.parametrize("N, dims, M", LINEAR_SHAPES[:3])
def test_linear_relu_equals_autograd_and_keeps_both_caches(N, dims, M):
    D = 1
    for d in dims:
        D *= d
    x, w, b = _rand(N, *dims, seed=7), _rand(D, M, seed=8), _rand(M, seed=9)
    out, cache = fcn.Linear_ReLU.forward(x, w, b)
    torch.testing.assert_close(out, torch.relu(x.reshape(N, D) @ w + b), rtol=1e-12, atol=1e-12)
    fc_cache, relu_cache = cache
    assert fc_cache[0] is x and relu_cache.shape == (N, M)
    dout = _rand(N, M, seed=10)
    ref = _vjp(lambda x_, w_, b_: torch.relu(x_.reshape(N, -1) @ w_ + b_), (x, w, b), dout)
    for got, want in zip(fcn.Linear_ReLU.backward(dout, cache), ref):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- update rules

def _torch_steps(optimizer_cls, w0, grads, **options):
    """What torch.optim does from w0 with these successive gradients."""
    w = w0.clone().requires_grad_(True)
    opt = optimizer_cls([w], **options)
    out = []
    for g in grads:
        opt.zero_grad()
        w.grad = g.clone()
        opt.step()
        out.append(w.detach().clone())
    return out


def _our_steps(rule, w0, grads, config):
    w, out = w0.clone(), []
    for g in grads:
        w_before, g_before = w.clone(), g.clone()
        next_w, config = rule(w, g, config)
        assert torch.equal(w, w_before) and torch.equal(g, g_before), "the rule changed w or dw in place"
        out.append(next_w)
        w = next_w
    return out, config


RULES = {
    # ours: config -> torch.optim equivalent (same maths: the course's velocity is -lr times torch's)
    "sgd_momentum": (fcn.sgd_momentum, {"learning_rate": 3e-2, "momentum": 0.8},
                     torch.optim.SGD, {"lr": 3e-2, "momentum": 0.8}),
    "rmsprop": (fcn.rmsprop, {"learning_rate": 1e-2, "decay_rate": 0.95, "epsilon": 1e-8},
                torch.optim.RMSprop, {"lr": 1e-2, "alpha": 0.95, "eps": 1e-8}),
    "adam": (fcn.adam, {"learning_rate": 1e-2, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-8},
             torch.optim.Adam, {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-8}),
}


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)])
def test_update_rules_equal_torch_optim_over_several_steps(name, shape):
    rule, config, optimizer_cls, options = RULES[name]
    w0 = _rand(*shape, seed=11)
    grads = [_rand(*shape, seed=12 + k, scale=10.0 ** (k - 1)) for k in range(4)]
    ours, _ = _our_steps(rule, w0, grads, dict(config))
    theirs = _torch_steps(optimizer_cls, w0, grads, **options)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=f"{name}, step {step + 1}")


def test_update_rules_fill_the_course_defaults_and_keep_their_state():
    w, dw = _rand(3, 2, seed=20), _rand(3, 2, seed=21)
    _, c = fcn.sgd_momentum(w, dw)
    assert (c["learning_rate"], c["momentum"]) == (1e-2, 0.9) and c["velocity"].shape == w.shape
    _, c = fcn.rmsprop(w, dw)
    assert (c["learning_rate"], c["decay_rate"], c["epsilon"]) == (1e-2, 0.99, 1e-8)
    torch.testing.assert_close(c["cache"], 0.01 * dw * dw, rtol=1e-12, atol=0)
    _, c = fcn.adam(w, dw)
    assert (c["learning_rate"], c["beta1"], c["beta2"], c["epsilon"]) == (1e-3, 0.9, 0.999, 1e-8)
    assert c["t"] == 1, "Adam increments t before its first use"
    _, c = fcn.adam(w, dw, c)
    assert c["t"] == 2
    _, c = fcn.sgd(w.clone(), dw)
    assert c["learning_rate"] == 1e-2


def test_adam_first_step_is_bias_corrected():
    """With t incremented first, the first step moves each weight by about learning_rate."""
    w, dw = _rand(50, seed=22), _rand(50, seed=23)
    next_w, _ = fcn.adam(w, dw, {"learning_rate": 1e-3})
    torch.testing.assert_close((w - next_w).abs(), torch.full_like(w, 1e-3), rtol=1e-5, atol=0)


def test_momentum_moves_against_the_gradient_and_builds_up():
    w, dw = torch.zeros(2, dtype=F64), torch.tensor([1.0, -1.0], dtype=F64)
    w1, c = fcn.sgd_momentum(w, dw, {"learning_rate": 0.1, "momentum": 0.9})
    assert w1.tolist() == pytest.approx([-0.1, 0.1])
    w2, _ = fcn.sgd_momentum(w1, dw, c)
    assert (w2 - w1).tolist() == pytest.approx([-0.19, 0.19])


def test_sgd_is_given_and_updates_in_place():
    w, dw = _rand(4, seed=24), _rand(4, seed=25)
    expected = w - 0.5 * dw
    out, _ = fcn.sgd(w, dw, {"learning_rate": 0.5})
    assert out is w
    torch.testing.assert_close(w, expected)


# ---------------------------------------------------------------- dropout

@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_drops_with_probability_p_and_keeps_the_mean(p):
    x = torch.ones(400, 500, dtype=F64)
    out, (param, mask) = fcn.Dropout.forward(x, {"mode": "train", "p": p, "seed": 3})
    dropped = (out == 0).double().mean().item()
    assert abs(dropped - p) < 0.01, f"dropped {dropped:.3f} of the units, p={p} is the DROP probability"
    kept = out[out != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    assert abs(out.mean().item() - 1.0) < 0.03, "inverted dropout keeps the expected value"
    torch.testing.assert_close(out, x * mask)
    assert param["mode"] == "train"


def test_dropout_with_p_zero_is_the_identity_and_test_mode_too():
    x = _rand(30, 7, seed=30)
    out, (_, mask) = fcn.Dropout.forward(x, {"mode": "train", "p": 0.0})
    torch.testing.assert_close(out, x, rtol=0, atol=0)
    for p in (0.0, 0.5, 0.9):
        out, (_, mask) = fcn.Dropout.forward(x, {"mode": "test", "p": p})
        torch.testing.assert_close(out, x, rtol=0, atol=0)
        assert mask is None
        dout = _rand(30, 7, seed=31)
        torch.testing.assert_close(fcn.Dropout.backward(dout, ({"mode": "test", "p": p}, None)), dout)


def test_dropout_backward_uses_the_forward_mask_and_equals_autograd():
    x, dout = _rand(20, 6, seed=32), _rand(20, 6, seed=33)
    param = {"mode": "train", "p": 0.4, "seed": 7}
    out, cache = fcn.Dropout.forward(x, param)
    dx = fcn.Dropout.backward(dout, cache)
    torch.testing.assert_close(dx, dout * cache[1], rtol=0, atol=0)
    assert torch.equal(dx == 0, out == 0)
    # autograd through the same seeded forward
    (ref,) = _vjp(lambda x_: fcn.Dropout.forward(x_, param)[0], (x,), dout)
    torch.testing.assert_close(dx, ref, rtol=1e-12, atol=0)


def test_dropout_seed_reproduces_the_mask_and_no_seed_varies_it():
    x = torch.ones(50, 40)
    a, _ = fcn.Dropout.forward(x, {"mode": "train", "p": 0.5, "seed": 11})
    b, _ = fcn.Dropout.forward(x, {"mode": "train", "p": 0.5, "seed": 11})
    assert torch.equal(a, b)
    c, _ = fcn.Dropout.forward(x, {"mode": "train", "p": 0.5})
    d, _ = fcn.Dropout.forward(x, {"mode": "train", "p": 0.5})
    assert not torch.equal(c, d)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_dropout_follows_the_input_dtype(dtype):
    x = torch.ones(8, 3, dtype=dtype)
    out, (_, mask) = fcn.Dropout.forward(x, {"mode": "train", "p": 0.3, "seed": 0})
    assert out.dtype == dtype and mask.dtype == dtype


# ---------------------------------------------------------------- the models

def _reference_scores(params, X, num_layers):
    h = X.reshape(X.shape[0], -1)
    for layer in range(1, num_layers):
        h = torch.relu(h @ params[f"W{layer}"] + params[f"b{layer}"])
    return h @ params[f"W{num_layers}"] + params[f"b{num_layers}"]


def _reference_loss(params, X, y, num_layers, reg, half):
    """Cross-entropy plus L2 on the weights, by autograd of an independent re-implementation."""
    leaves = {k: _leaf(v) for k, v in params.items()}
    scores = _reference_scores(leaves, X, num_layers)
    factor = 0.5 if half else 1.0
    loss = F.cross_entropy(scores, y) + factor * reg * sum(
        (leaves[f"W{layer}"] ** 2).sum() for layer in range(1, num_layers + 1))
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads))


def _randomize(model, seed):
    """Biases away from zero too, so that their gradients are checked for real."""
    for k, (name, value) in enumerate(sorted(model.params.items())):
        model.params[name] = _rand(*value.shape, seed=seed + k, scale=0.3, dtype=value.dtype)


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("x_shape", [(6, 12), (5, 3, 2, 2)])
def test_two_layer_net_loss_equals_autograd_without_a_half(reg, x_shape):
    model = fcn.TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=4, reg=reg, dtype=F64)
    _randomize(model, 40)
    X, y = _rand(*x_shape, seed=41), torch.tensor([0, 3, 1, 2, 2, 1][:x_shape[0]])
    params_before = copy.deepcopy(model.params)
    X_before = X.clone()
    loss, grads = model.loss(X, y)
    ref_loss, ref_grads = _reference_loss(model.params, X, y, 2, reg, half=False)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-12)
    assert set(grads) == set(model.params)
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], rtol=1e-9, atol=1e-12, msg=name)
    torch.testing.assert_close(model.loss(X), _reference_scores(model.params, X, 2))
    assert torch.equal(X, X_before) and all(torch.equal(model.params[k], params_before[k]) for k in params_before)


def test_two_layer_net_initializes_as_the_template_says():
    torch.manual_seed(0)
    model = fcn.TwoLayerNet(input_dim=300, hidden_dim=200, num_classes=10, weight_scale=0.05, dtype=F64)
    assert {k: tuple(v.shape) for k, v in model.params.items()} == {
        "W1": (300, 200), "b1": (200,), "W2": (200, 10), "b2": (10,)}
    assert all(v.dtype == F64 for v in model.params.values())
    assert model.params["b1"].abs().sum() == 0 and model.params["b2"].abs().sum() == 0
    assert abs(model.params["W1"].std().item() - 0.05) < 0.002
    assert abs(model.params["W1"].mean().item()) < 0.002
    default = fcn.TwoLayerNet()
    assert default.params["W1"].shape == (3072, 100) and default.params["W1"].dtype == torch.float32
    assert default.reg == 0.0


@pytest.mark.parametrize("hidden_dims", [[], [6], [6, 5], [4, 5, 3]])
@pytest.mark.parametrize("reg", [0.0, 1.3])
def test_fully_connected_net_loss_equals_autograd_with_a_half(hidden_dims, reg):
    """Any depth: 1 (no hidden layer), 2, 3 and 4 layers; the template's 0.5 * reg * sum(W * W)."""
    model = fcn.FullyConnectedNet(hidden_dims, input_dim=12, num_classes=3, reg=reg, dtype=F64)
    L = len(hidden_dims) + 1
    assert model.num_layers == L and set(model.params) == {f"{k}{l}" for k in "Wb" for l in range(1, L + 1)}
    _randomize(model, 50)
    X, y = _rand(7, 3, 4, seed=51), torch.tensor([0, 1, 2, 2, 1, 0, 1])
    X_before, params_before = X.clone(), copy.deepcopy(model.params)
    loss, grads = model.loss(X, y)
    ref_loss, ref_grads = _reference_loss(model.params, X, y, L, reg, half=True)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-12)
    assert set(grads) == set(model.params)
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], rtol=1e-9, atol=1e-12, msg=name)
    torch.testing.assert_close(model.loss(X), _reference_scores(model.params, X, L))
    assert torch.equal(X, X_before) and all(torch.equal(model.params[k], params_before[k]) for k in params_before)


def test_regularization_conventions_differ_as_the_template_says():
    """TwoLayerNet: reg * sum(W * W); FullyConnectedNet: 0.5 * reg * sum(W * W); biases never."""
    X, y = _rand(4, 5, seed=60), torch.tensor([0, 1, 1, 0])
    two = fcn.TwoLayerNet(input_dim=5, hidden_dim=3, num_classes=2, dtype=F64)
    deep = fcn.FullyConnectedNet([3], input_dim=5, num_classes=2, dtype=F64)
    for model in (two, deep):
        _randomize(model, 61)
    penalty = sum((two.params[w] ** 2).sum() for w in ("W1", "W2"))
    base_two, base_deep = two.loss(X, y)[0], deep.loss(X, y)[0]
    two.reg = deep.reg = 0.4
    torch.testing.assert_close(two.loss(X, y)[0] - base_two, 0.4 * penalty)
    torch.testing.assert_close(deep.loss(X, y)[0] - base_deep, 0.2 * penalty)
    _, grads = deep.loss(X, y)
    deep.reg = 0.0
    _, grads0 = deep.loss(X, y)
    torch.testing.assert_close(grads["b1"], grads0["b1"])
    torch.testing.assert_close(grads["W1"] - grads0["W1"], 0.4 * deep.params["W1"])


@pytest.mark.parametrize("hidden_dims", [[5], [5, 4]])
def test_fully_connected_net_with_dropout_gradient_checks_and_tests_without_it(hidden_dims):
    model = fcn.FullyConnectedNet(hidden_dims, input_dim=8, num_classes=3, dropout=0.3, reg=0.2,
                                  seed=123, dtype=F64)
    assert model.dropout_param == {"mode": "train", "p": 0.3, "seed": 123}
    _randomize(model, 70)
    X, y = _rand(9, 8, seed=71), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    loss, grads = model.loss(X, y)
    again, _ = model.loss(X, y)
    torch.testing.assert_close(loss, again, rtol=0, atol=0)  # the seed makes the masks repeat
    for name, value in model.params.items():
        numeric = compute_numeric_gradient(lambda _: model.loss(X, y)[0], value, h=1e-6)
        torch.testing.assert_close(grads[name], numeric, rtol=1e-5, atol=1e-7, msg=name)
    scores = model.loss(X)
    assert model.dropout_param["mode"] == "test"
    torch.testing.assert_close(scores, _reference_scores(model.params, X, len(hidden_dims) + 1))
    assert fcn.FullyConnectedNet([5], input_dim=8, dropout=0.0).dropout_param == {}


def test_fully_connected_net_initialization_and_seeds():
    torch.manual_seed(3)
    a = fcn.FullyConnectedNet([50, 40], input_dim=60, num_classes=7, weight_scale=0.1, dtype=F64)
    torch.manual_seed(3)
    b = fcn.FullyConnectedNet([50, 40], input_dim=60, num_classes=7, weight_scale=0.1, dtype=F64)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert [tuple(a.params[f"W{l}"].shape) for l in (1, 2, 3)] == [(60, 50), (50, 40), (40, 7)]
    assert all(a.params[f"b{l}"].abs().sum() == 0 for l in (1, 2, 3))
    assert abs(a.params["W1"].std().item() - 0.1) < 0.01
    default = fcn.FullyConnectedNet([10])
    assert default.params["W1"].shape == (3072, 10) and default.params["W2"].shape == (10, 10)
    assert default.params["W1"].dtype == torch.float32 and not default.use_dropout


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_models_follow_their_dtype(dtype):
    X, y = _rand(4, 6, seed=80, dtype=dtype), torch.tensor([0, 1, 0, 1])
    for model in (fcn.TwoLayerNet(input_dim=6, hidden_dim=3, num_classes=2, reg=0.1, dtype=dtype),
                  fcn.FullyConnectedNet([3, 3], input_dim=6, num_classes=2, reg=0.1, dropout=0.5, dtype=dtype)):
        loss, grads = model.loss(X, y)
        assert loss.dtype == dtype and all(g.dtype == dtype for g in grads.values())
        assert model.loss(X).dtype == dtype


@needs_cuda
def test_everything_runs_on_cuda_and_stays_there():
    dev = torch.device("cuda")
    x, w, b = torch.randn(4, 2, 3, device=dev), torch.randn(6, 5, device=dev), torch.randn(5, device=dev)
    out, cache = fcn.Linear_ReLU.forward(x, w, b)
    assert all(t.device.type == "cuda" for t in (out, *fcn.Linear_ReLU.backward(torch.ones_like(out), cache)))
    out, cache = fcn.Dropout.forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    assert out.device.type == "cuda" and fcn.Dropout.backward(out, cache).device.type == "cuda"
    for rule in (fcn.sgd_momentum, fcn.rmsprop, fcn.adam):
        assert rule(w, w, None)[0].device.type == "cuda"
    y = torch.tensor([0, 1, 2, 3], device=dev)
    for model in (fcn.TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=4, device="cuda"),
                  fcn.FullyConnectedNet([5], input_dim=6, num_classes=4, dropout=0.2, device="cuda")):
        loss, grads = model.loss(x, y)
        assert loss.device.type == "cuda" and all(g.device.type == "cuda" for g in grads.values())


# ---------------------------------------------------------------- save / load, Solver, search

@pytest.mark.parametrize("make", [
    lambda: fcn.TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3, reg=0.25, dtype=F64),
    lambda: fcn.FullyConnectedNet([4, 3], input_dim=6, num_classes=3, reg=0.25, dropout=0.1, seed=2, dtype=F64),
])
def test_save_then_load_restores_parameters_in_the_asked_dtype(tmp_path, make):
    model = make()
    model.save(tmp_path / "m.pth")
    other = type(model)(**({"hidden_dims": [1]} if isinstance(model, fcn.FullyConnectedNet) else {}),
                        input_dim=2, num_classes=2)
    other.load(tmp_path / "m.pth", dtype=torch.float32, device="cpu")
    assert other.reg == 0.25 and set(other.params) == set(model.params)
    for k in model.params:
        assert other.params[k].dtype == torch.float32
        torch.testing.assert_close(other.params[k], model.params[k].float())
    if isinstance(model, fcn.FullyConnectedNet):
        assert other.num_layers == 3 and other.use_dropout and other.dropout_param["p"] == 0.1


def test_load_names_a_file_that_is_not_a_checkpoint(tmp_path):
    torch.save({"W1": torch.zeros(2)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a TwoLayerNet checkpoint"):
        fcn.TwoLayerNet(input_dim=2, hidden_dim=2, num_classes=2).load(tmp_path / "bad.pth", torch.float32, "cpu")
    with pytest.raises(ValueError, match="not a FullyConnectedNet checkpoint"):
        fcn.FullyConnectedNet([2], input_dim=2, num_classes=2).load(tmp_path / "bad.pth", torch.float32, "cpu")


def test_create_solver_instance_builds_an_untrained_solver_for_a_200_unit_net():
    from helpers import Solver

    gen = torch.Generator().manual_seed(0)
    data = {"X_train": torch.randn(40, 3, 32, 32, generator=gen), "y_train": torch.randint(10, (40,), generator=gen),
            "X_val": torch.randn(10, 3, 32, 32, generator=gen), "y_val": torch.randint(10, (10,), generator=gen)}
    solver = fcn.create_solver_instance(data, torch.float64, "cpu")
    assert isinstance(solver, Solver)
    assert isinstance(solver.model, fcn.TwoLayerNet) and solver.model.params["W1"].shape == (3072, 200)
    assert solver.model.params["W1"].dtype == torch.float64
    assert solver.loss_history == []


@pytest.mark.parametrize("fn", [fcn.get_three_layer_network_params, fcn.get_five_layer_network_params])
def test_search_params_are_a_positive_weight_scale_and_learning_rate(fn):
    weight_scale, learning_rate = fn()
    assert isinstance(weight_scale, float) and isinstance(learning_rate, float)
    assert 0 < weight_scale < 10 and 0 < learning_rate < 10


def test_hello_prints_its_file(capsys):
    fcn.hello_fully_connected_networks()
    assert "fully_connected_networks.py" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("hidden_dims, fn", [([100, 100], fcn.get_three_layer_network_params),
                                             ([100] * 4, fcn.get_five_layer_network_params)])
def test_search_params_overfit_fifty_real_images_within_twenty_epochs(hidden_dims, fn):
    """The notebook's experiment on the offline digits in CIFAR-10's shape: 100% training
    accuracy on 50 samples after 20 epochs of SGD with batches of 25 (the template's starting
    values do not get there: the test can fail)."""
    from helpers import Solver, load_digits_data

    data = load_digits_data(cifar_shape=True)
    small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50],
             "X_val": data["X_val"][:50], "y_val": data["y_val"][:50]}
    weight_scale, learning_rate = fn()
    torch.manual_seed(0)
    model = fcn.FullyConnectedNet(hidden_dims, weight_scale=weight_scale)
    solver = Solver(model, small, num_epochs=20, batch_size=25, update_rule=fcn.sgd,
                    optim_config={"learning_rate": learning_rate}, verbose=False,
                    generator=torch.Generator().manual_seed(0))
    solver.train()
    assert solver.train_acc_history[-1] == 1.0, solver.train_acc_history
