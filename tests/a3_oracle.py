"""An independent oracle for Assignment 3 part 1 (fully_connected_networks.py), for the tests.

It needs no grader: every check imports a student file with the course's two helper modules
stood in by a tiny shim (``a3_helper.softmax_loss`` written here, ``eecs598.Solver`` a recorder
that trains nothing) and compares each function with what the template asks, computed here with
torch autograd (layers' and nets' gradients), the update formulas (optimizers) or statistics
(dropout). Each ``check_*`` raises ``OracleMismatch`` naming what differs; ``problems(module)``
runs them all and returns {function: message} for those that fail.

Conventions the template leaves open are accepted both ways, as real students write them:
FullyConnectedNet's L2 term with or without the 0.5 its banner asks for (its notebook check only
compares gradients with the loss's own centred differences), ReLU's gradient at exactly 0 (no
input here is exactly 0), optimizers that update ``w`` in place (the given ``sgd`` does).
"""
import importlib.util
import itertools
import math
import sys
import types
from pathlib import Path

import torch

from grader.tolerance import tolerance_for

FILE = "fully_connected_networks.py"


class OracleMismatch(AssertionError):
    pass


# ---------------------------------------------------------------------------------------------
# The shim: the course's a3_helper and eecs598 as the student file imports them
# ---------------------------------------------------------------------------------------------

def softmax_loss(x, y):
    """Mean cross-entropy of scores x (N, C) for labels y, and its gradient with respect to x."""
    shifted = x - x.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    n = x.shape[0]
    rows = torch.arange(n, device=x.device)
    y = y.to(x.device)
    loss = -log_probs[rows, y].sum() / n
    dx = log_probs.exp()
    dx[rows, y] -= 1
    return loss, dx / n


def svm_loss(x, y):
    """Multiclass hinge loss of scores x for labels y, and its gradient."""
    n = x.shape[0]
    rows = torch.arange(n, device=x.device)
    correct = x[rows, y].unsqueeze(1)
    margins = (x - correct + 1.0).clamp(min=0)
    margins[rows, y] = 0
    loss = margins.sum() / n
    positive = (margins > 0).to(x.dtype)
    dx = positive.clone()
    dx[rows, y] -= positive.sum(dim=1)
    return loss, dx / n


SOLVER_KWARGS = {"update_rule", "optim_config", "lr_decay", "batch_size", "num_epochs", "num_train_samples",
                 "num_val_samples", "device", "checkpoint_name", "print_every", "print_acc_every", "verbose"}


class RecordingSolver:
    """The course's Solver interface, recording what it was given; it trains nothing."""

    def __init__(self, model, data, **kwargs):
        extra = set(kwargs) - SOLVER_KWARGS
        if extra:
            raise ValueError("Unrecognized arguments %s" % ", ".join(sorted(extra)))
        self.model, self.data, self.kwargs = model, data, kwargs
        self.device = kwargs.get("device", "cpu")
        self.update_rule = kwargs.get("update_rule", RecordingSolver.sgd)
        self.optim_config = kwargs.get("optim_config", {})
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        self.trained = False

    @staticmethod
    def sgd(w, dw, config=None):
        config = {} if config is None else config
        config.setdefault("learning_rate", 1e-2)
        w -= config["learning_rate"] * dw
        return w, config

    def train(self, *args, **kwargs):
        self.trained = True


def _shim_modules():
    helper = types.ModuleType("a3_helper")
    helper.softmax_loss, helper.svm_loss = softmax_loss, svm_loss
    helper.hello_helper = lambda: print("Hello from a3_helper.py!")
    course = types.ModuleType("eecs598")
    course.Solver = RecordingSolver
    course.reset_seed = lambda seed=0: torch.manual_seed(seed)
    return {"a3_helper": helper, "eecs598": course}


_loaded = itertools.count()


def load(path):
    """Import one student file (a path to fully_connected_networks.py or its folder) with the shim."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE
    saved = {name: sys.modules.get(name) for name in ("a3_helper", "eecs598")}
    sys.modules.update(_shim_modules())
    try:
        name = f"a3_student_{next(_loaded)}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------

def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(gen, *shape, dtype=torch.float64, device="cpu", scale=1.0, shift=0.0):
    return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64) + shift).to(dtype=dtype, device=device)


def _fail(what):
    raise OracleMismatch(what)


def close(what, got, expected, dtype=None):
    """got (a tensor or number) within the tolerance table of expected (float64 reference)."""
    if not isinstance(got, torch.Tensor):
        if not isinstance(got, (int, float)):
            _fail(f"{what}: got {type(got).__name__}, expected a tensor")
        got = torch.tensor(float(got), dtype=torch.float64)
    if not isinstance(expected, torch.Tensor):
        expected = torch.tensor(float(expected), dtype=torch.float64)
    if tuple(got.shape) != tuple(expected.shape):
        _fail(f"{what}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    rtol, atol = tolerance_for(dtype or got.dtype, got.device.type)
    a, e = got.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    if not torch.isfinite(a).all():
        _fail(f"{what}: not finite")
    scale = max(1.0, e.abs().max().item() if e.numel() else 1.0)
    bad = (a - e).abs() > atol * scale + rtol * e.abs()
    if bad.any():
        worst = (a - e).abs().max().item()
        _fail(f"{what}: {int(bad.sum())} of {bad.numel()} entries differ (largest difference {worst:.3g})")


def same_kind(what, got, like):
    if not isinstance(got, torch.Tensor):
        _fail(f"{what}: got {type(got).__name__}, expected a tensor")
    if got.dtype != like.dtype:
        _fail(f"{what}: dtype {got.dtype}, expected {like.dtype} (the inputs' dtype)")
    if got.device != like.device:
        _fail(f"{what}: on {got.device}, expected {like.device} (the inputs' device)")


def unchanged(what, tensor, copy):
    if not torch.equal(tensor, copy):
        _fail(f"{what} was changed in place (the template asks for no in-place change of an input)")


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------

def _linear_inputs(dtype, device, seed=1):
    gen = _gen(seed)
    x = _randn(gen, 4, 3, 2, dtype=dtype, device=device)
    w = _randn(gen, 6, 5, dtype=dtype, device=device)
    b = _randn(gen, 5, dtype=dtype, device=device)
    dout = _randn(gen, 4, 5, dtype=dtype, device=device)
    return x, w, b, dout


def check_linear_forward(m, dtype=torch.float64, device="cpu"):
    x, w, b, _ = _linear_inputs(dtype, device)
    copies = [t.clone() for t in (x, w, b)]
    out, cache = m.Linear.forward(x, w, b)
    same_kind("Linear.forward out", out, x)
    ref = x.double().reshape(4, -1) @ w.double() + b.double()
    close("Linear.forward out", out, ref, dtype)
    for name, t, c in zip("xwb", (x, w, b), copies):
        unchanged(f"Linear.forward's {name}", t, c)


def _autograd(fn, inputs, dout):
    leaves = [t.detach().double().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    out.backward(dout.double())
    return [t.grad for t in leaves]


def check_linear_backward(m, dtype=torch.float64, device="cpu"):
    x, w, b, dout = _linear_inputs(dtype, device, seed=2)
    _, cache = m.Linear.forward(x, w, b)
    dout_copy = dout.clone()
    grads = m.Linear.backward(dout, cache)
    if not isinstance(grads, tuple) or len(grads) != 3:
        _fail("Linear.backward: expected (dx, dw, db)")
    ref = _autograd(lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b, (x, w, b), dout)
    for name, got, want, like in zip(("dx", "dw", "db"), grads, ref, (x, w, b)):
        same_kind(f"Linear.backward {name}", got, like)
        close(f"Linear.backward {name}", got, want, dtype)
    unchanged("Linear.backward's dout", dout, dout_copy)


def check_relu_forward(m, dtype=torch.float64, device="cpu"):
    x = _randn(_gen(3), 5, 7, dtype=dtype, device=device)
    copy = x.clone()
    out, cache = m.ReLU.forward(x)
    same_kind("ReLU.forward out", out, x)
    close("ReLU.forward out", out, x.double().clamp(min=0), dtype)
    unchanged("ReLU.forward's x", x, copy)


def check_relu_backward(m, dtype=torch.float64, device="cpu"):
    gen = _gen(4)
    x = _randn(gen, 5, 7, dtype=dtype, device=device)
    dout = _randn(gen, 5, 7, dtype=dtype, device=device)
    _, cache = m.ReLU.forward(x)
    copies = (x.clone(), dout.clone())
    dx = m.ReLU.backward(dout, cache)
    same_kind("ReLU.backward dx", dx, x)
    (want,) = _autograd(lambda x: x.clamp(min=0), (x,), dout)
    close("ReLU.backward dx", dx, want, dtype)
    unchanged("ReLU.backward's dout", dout, copies[1])
    unchanged("ReLU.backward's cached x", x, copies[0])


def check_linear_relu(m, dtype=torch.float64, device="cpu"):
    x, w, b, dout = _linear_inputs(dtype, device, seed=5)
    out, cache = m.Linear_ReLU.forward(x, w, b)
    ref = (x.double().reshape(4, -1) @ w.double() + b.double()).clamp(min=0)
    close("Linear_ReLU.forward out", out, ref, dtype)
    grads = m.Linear_ReLU.backward(dout, cache)
    want = _autograd(lambda x, w, b: (x.reshape(x.shape[0], -1) @ w + b).clamp(min=0), (x, w, b), dout)
    for name, got, ref_grad in zip(("dx", "dw", "db"), grads, want):
        close(f"Linear_ReLU.backward {name}", got, ref_grad, dtype)


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------

def _check_params(what, params, shapes, weight_scale, dtype, device):
    if not isinstance(params, dict) or set(params) != set(shapes):
        _fail(f"{what}: params keys {sorted(params) if isinstance(params, dict) else params}, "
              f"expected {sorted(shapes)}")
    for key, shape in shapes.items():
        value = params[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            _fail(f"{what}: {key} should be a tensor of shape {shape}")
        if value.dtype != dtype or value.device.type != torch.device(device).type:
            _fail(f"{what}: {key} is {value.dtype} on {value.device}, expected {dtype} on {device}")
        if key.startswith("b"):
            if not torch.all(value == 0):
                _fail(f"{what}: {key} should start at zero")
        else:
            std, mean = value.double().std().item(), value.double().mean().item()
            if abs(std - weight_scale) > weight_scale / 10 or abs(mean) > weight_scale / 5:
                _fail(f"{what}: {key} has mean {mean:.3g} and std {std:.3g}, expected 0 and {weight_scale:g}")


def check_two_layer_init(m, dtype=torch.float64, device="cpu"):
    torch.manual_seed(0)
    net = m.TwoLayerNet(input_dim=40, hidden_dim=60, num_classes=30, weight_scale=2e-2, reg=0.3,
                        dtype=dtype, device=device)
    _check_params("TwoLayerNet.__init__", net.params, {"W1": (40, 60), "b1": (60,), "W2": (60, 30), "b2": (30,)},
                  2e-2, dtype, device)
    if net.reg != 0.3:
        _fail("TwoLayerNet.__init__: self.reg is not the reg given")


def _net_inputs(dims, dtype, device, seed, n=6):
    gen = _gen(seed)
    params = {}
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{i}"] = _randn(gen, a, b, dtype=dtype, device=device, scale=0.4)
        params[f"b{i}"] = _randn(gen, b, dtype=dtype, device=device, scale=0.1)
    X = _randn(gen, n, dims[0], dtype=dtype, device=device)
    y = torch.randint(dims[-1], (n,), generator=gen).to(device)
    return params, X, y


def _reference_scores(params, X, layers):
    h = X.reshape(X.shape[0], -1)
    for i in range(1, layers + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < layers:
            h = h.clamp(min=0)
    return h


def _reference_loss(params, X, y, layers, reg, half):
    leaves = {k: v.detach().double().requires_grad_(True) for k, v in params.items()}
    scores = _reference_scores(leaves, X.double(), layers)
    data = torch.nn.functional.cross_entropy(scores, y.to(scores.device))
    l2 = sum((leaves[f"W{i}"] ** 2).sum() for i in range(1, layers + 1))
    loss = data + (0.5 if half else 1.0) * reg * l2
    loss.backward()
    return scores.detach(), data.item(), l2.item(), loss.item(), {k: v.grad for k, v in leaves.items()}


def _check_net_loss(what, net, params, X, y, layers, reg, dtype, allow_half):
    net.params = {k: v.clone() for k, v in params.items()}
    net.reg = reg
    copies = {k: v.clone() for k, v in params.items()}
    scores = net.loss(X)
    ref_scores, data, l2, _, _ = _reference_loss(params, X, y, layers, reg, False)
    same_kind(f"{what} scores", scores, X)
    close(f"{what} scores (y=None)", scores, ref_scores, dtype)
    out = net.loss(X, y)
    if not isinstance(out, tuple) or len(out) != 2:
        _fail(f"{what}: with y, expected (loss, grads)")
    loss, grads = out
    loss_value = float(loss)
    half = False
    if reg and allow_half and l2 > 0:
        factor = (loss_value - data) / (reg * l2)
        half = abs(factor - 0.5) < abs(factor - 1.0)
    _, _, _, ref_loss, ref_grads = _reference_loss(params, X, y, layers, reg, half)
    close(f"{what} loss (reg={reg:g})", loss if isinstance(loss, torch.Tensor) else loss_value,
          torch.tensor(ref_loss, dtype=torch.float64), dtype)
    if not isinstance(grads, dict) or set(grads) != set(params):
        _fail(f"{what}: grads keys {sorted(grads) if isinstance(grads, dict) else grads}, expected {sorted(params)}")
    for key in sorted(params):
        same_kind(f"{what} grads[{key}]", grads[key], params[key])
        close(f"{what} grads[{key}] (reg={reg:g})", grads[key], ref_grads[key], dtype)
    for key, copy in copies.items():
        if not torch.equal(net.params[key], copy):
            _fail(f"{what}: self.params[{key!r}] changed during loss")
    return half


def check_two_layer_loss(m, dtype=torch.float64, device="cpu"):
    params, X, y = _net_inputs((5, 7, 4), dtype, device, seed=6)
    net = m.TwoLayerNet(input_dim=5, hidden_dim=7, num_classes=4, dtype=dtype, device=device)
    for reg in (0.0, 0.7):
        _check_net_loss("TwoLayerNet.loss", net, params, X, y, 2, reg, dtype, allow_half=False)


def check_fc_init(m, dtype=torch.float64, device="cpu"):
    torch.manual_seed(0)
    net = m.FullyConnectedNet([50, 40, 30], input_dim=45, num_classes=20, reg=0.2, weight_scale=3e-2,
                              dtype=dtype, device=device)
    shapes = {"W1": (45, 50), "b1": (50,), "W2": (50, 40), "b2": (40,), "W3": (40, 30), "b3": (30,),
              "W4": (30, 20), "b4": (20,)}
    _check_params("FullyConnectedNet.__init__", net.params, shapes, 3e-2, dtype, device)
    if net.num_layers != 4:
        _fail("FullyConnectedNet.__init__: num_layers is not 1 + len(hidden_dims)")


def check_fc_loss(m, dtype=torch.float64, device="cpu"):
    """No dropout: scores, loss and grads against autograd, at depths 2, 3 and 4, reg 0 and 0.9;
    the L2 term either reg * sum(W * W) or with the banner's 0.5, the same at every depth."""
    seen = set()
    for depth, seed in ((2, 7), (3, 8), (4, 9)):
        hidden = [6, 7, 5][: depth - 1]
        dims = (5, *hidden, 4)
        params, X, y = _net_inputs(dims, dtype, device, seed)
        net = m.FullyConnectedNet(hidden, input_dim=5, num_classes=4, dtype=dtype, device=device)
        for reg in (0.0, 0.9):
            half = _check_net_loss(f"FullyConnectedNet.loss ({depth} layers)", net, params, X, y, depth, reg,
                                   dtype, allow_half=True)
            if reg:
                seen.add(half)
    if len(seen) > 1:
        _fail("FullyConnectedNet.loss: the 0.5 of the L2 term depends on the depth")


def _directional(f, tensor, direction, h=1e-6):
    """Centred difference of f along ``direction`` at ``tensor`` (changed in place, then restored)."""
    old = tensor.clone()
    tensor.add_(h * direction)
    plus = float(f())
    tensor.copy_(old - h * direction)
    minus = float(f())
    tensor.copy_(old)
    return (plus - minus) / (2 * h)


def check_fc_dropout(m, dtype=torch.float64, device="cpu"):
    """With dropout (seeded): the net really drops (its training loss differs from the same net's
    without dropout), test-time scores are the plain forward pass, and every gradient agrees with
    centred differences of the submission's own loss along random directions (so the backward
    reuses the forward's masks and scaling)."""
    params, X, y = _net_inputs((5, 6, 7, 4), torch.float64, device, seed=10)
    plain = m.FullyConnectedNet([6, 7], input_dim=5, num_classes=4, dtype=torch.float64, device=device)
    plain.params = {k: v.clone() for k, v in params.items()}
    plain_loss = float(plain.loss(X, y)[0])
    gen = _gen(23)
    for p in (0.3, 0.6):
        net = m.FullyConnectedNet([6, 7], input_dim=5, num_classes=4, dropout=p, seed=3, dtype=torch.float64,
                                  device=device)
        net.params = {k: v.clone() for k, v in params.items()}
        loss, grads = net.loss(X, y)
        if abs(float(loss) - plain_loss) < 1e-12:
            _fail(f"FullyConnectedNet.loss (dropout={p}): the training loss is the loss without dropout "
                  f"(dropout never applied)")
        close(f"FullyConnectedNet.loss (dropout={p}) test-time scores", net.loss(X),
              _reference_scores(params, X, 3), torch.float64)
        for key in sorted(params):
            direction = _randn(gen, *params[key].shape, device=device)
            numeric = _directional(lambda: net.loss(X, y)[0], net.params[key], direction)
            analytic = (grads[key].double() * direction).sum().item()
            if abs(analytic - numeric) > 1e-6 * max(1.0, abs(numeric)):
                _fail(f"FullyConnectedNet.loss (dropout={p}) grads[{key}] disagree with the centred differences "
                      f"of the loss ({analytic:.6g} along a random direction, the loss changes at {numeric:.6g})")


# ---------------------------------------------------------------------------------------------
# Solver set-up and search parameters
# ---------------------------------------------------------------------------------------------

def check_create_solver(m, dtype=torch.float32, device="cpu"):
    """An untrained Solver over a TwoLayerNet on (dtype, device) and the data given. Run on the
    device asked and on PyTorch's "meta" device (tensors without storage), which shows, without a
    GPU, whether the Solver follows the device argument or falls back on its default, the CPU."""
    for where in (device, "meta"):
        gen = _gen(11)
        data = {"X_train": _randn(gen, 20, 3 * 32 * 32, dtype=dtype, device=where),
                "y_train": torch.randint(10, (20,), generator=gen).to(where),
                "X_val": _randn(gen, 10, 3 * 32 * 32, dtype=dtype, device=where),
                "y_val": torch.randint(10, (10,), generator=gen).to(where)}
        solver = m.create_solver_instance(data_dict=data, dtype=dtype, device=where)
        if not isinstance(solver, RecordingSolver):
            _fail(f"create_solver_instance: returned {type(solver).__name__}, expected a Solver")
        if not isinstance(solver.model, m.TwoLayerNet):
            _fail("create_solver_instance: the Solver's model is not a TwoLayerNet")
        if solver.data is not data:
            _fail("create_solver_instance: the Solver was not given data_dict")
        if torch.device(solver.device).type != torch.device(where).type:
            _fail(f"create_solver_instance: the Solver runs on {solver.device!r}, not on the device given ({where!r})")
        for key, value in solver.model.params.items():
            if value.dtype != dtype or value.device.type != torch.device(where).type:
                _fail(f"create_solver_instance: the model's {key} is {value.dtype} on {value.device}, "
                      f"expected {dtype} on {where}")
        if not callable(solver.update_rule):
            _fail("create_solver_instance: update_rule is not a function")
        if solver.trained:
            _fail("create_solver_instance: the Solver was trained here (the notebook trains it)")


def _check_search(name, m):
    out = getattr(m, name)()
    if not isinstance(out, tuple) or len(out) != 2:
        _fail(f"{name}: expected (weight_scale, learning_rate)")
    for what, value in zip(("weight_scale", "learning_rate"), out):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            _fail(f"{name}: {what} should be a positive number, got {value!r}")


def check_three_layer_params(m, dtype=None, device=None):
    _check_search("get_three_layer_network_params", m)


def check_five_layer_params(m, dtype=None, device=None):
    _check_search("get_five_layer_network_params", m)


# ---------------------------------------------------------------------------------------------
# Optimizers: the update rule alone, first step (empty state) and later steps
# ---------------------------------------------------------------------------------------------

def _opt_inputs(dtype, device, seed):
    gen = _gen(seed)
    w = _randn(gen, 4, 5, dtype=dtype, device=device)
    dw = _randn(gen, 4, 5, dtype=dtype, device=device)
    dw.view(-1)[::3] *= 1e-4  # small gradients: epsilon's place and the square root show there
    return w, dw


def _step(fn, name, w, dw, config):
    result = fn(w.clone(), dw, config)
    if not isinstance(result, tuple) or len(result) != 2:
        _fail(f"{name}: expected (next_w, config)")
    next_w, config = result
    if not isinstance(config, dict):
        _fail(f"{name}: the returned config is not a dict")
    same_kind(f"{name} next_w", next_w, w)
    return next_w, config


def check_sgd_momentum(m, dtype=torch.float64, device="cpu"):
    w, dw = _opt_inputs(dtype, device, 12)
    lr, mu = 1e-2, 0.8
    next_w, config = _step(m.sgd_momentum, "sgd_momentum", w, dw, {"learning_rate": lr, "momentum": mu})
    v = -lr * dw.double()
    close("sgd_momentum next_w (first step)", next_w, w.double() + v, dtype)
    close("sgd_momentum config['velocity'] (first step)", config.get("velocity"), v, dtype)
    w2, dw2 = _opt_inputs(dtype, device, 13)
    next_w, config = _step(m.sgd_momentum, "sgd_momentum", w2, dw2, config)
    v = mu * v - lr * dw2.double()
    close("sgd_momentum next_w (second step)", next_w, w2.double() + v, dtype)
    close("sgd_momentum config['velocity'] (second step)", config.get("velocity"), v, dtype)


def check_rmsprop(m, dtype=torch.float64, device="cpu"):
    w, dw = _opt_inputs(dtype, device, 14)
    lr, rho = 1e-2, 0.9
    for eps in (1e-8, 1e-4):
        config = {"learning_rate": lr, "decay_rate": rho, "epsilon": eps}
        cache = torch.zeros_like(w, dtype=torch.float64)
        current = w
        for step, seed in enumerate((15, 16), start=1):
            _, dw = _opt_inputs(dtype, device, seed + int(eps * 1e5))
            next_w, config = _step(m.rmsprop, "rmsprop", current, dw, config)
            cache = rho * cache + (1 - rho) * dw.double() ** 2
            want = current.double() - lr * dw.double() / (cache.sqrt() + eps)
            close(f"rmsprop next_w (step {step}, epsilon={eps:g})", next_w, want, dtype)
            close(f"rmsprop config['cache'] (step {step})", config.get("cache"), cache, dtype)
            current = next_w


def check_adam(m, dtype=torch.float64, device="cpu"):
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    w, dw = _opt_inputs(dtype, device, 17)
    gen = _gen(18)
    m0 = _randn(gen, 4, 5, dtype=dtype, device=device, scale=0.3)
    v0 = _randn(gen, 4, 5, dtype=dtype, device=device, scale=0.3).abs()
    starts = [({"learning_rate": lr}, torch.zeros(4, 5, dtype=torch.float64), torch.zeros(4, 5, dtype=torch.float64), 0),
              ({"learning_rate": lr, "m": m0.clone(), "v": v0.clone(), "t": 5}, m0.double().cpu(), v0.double().cpu(), 5)]
    for config, mm, vv, t in starts:
        current = w
        for step, seed in enumerate((19, 20), start=1):
            _, dw = _opt_inputs(dtype, device, seed)
            next_w, config = _step(m.adam, "adam", current, dw, config)
            g = dw.double().cpu()
            t += 1
            mm = b1 * mm + (1 - b1) * g
            vv = b2 * vv + (1 - b2) * g * g
            want = current.double().cpu() - lr * (mm / (1 - b1 ** t)) / ((vv / (1 - b2 ** t)).sqrt() + eps)
            close(f"adam next_w (t={t})", next_w, want, dtype)
            close(f"adam config['m'] (t={t})", config.get("m"), mm, dtype)
            close(f"adam config['v'] (t={t})", config.get("v"), vv, dtype)
            if config.get("t") != t:
                _fail(f"adam: config['t'] is {config.get('t')!r} after the step, expected {t}")
            current = next_w


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------

def check_dropout_forward(m, dtype=torch.float64, device="cpu"):
    x = _randn(_gen(21), 300, 400, dtype=dtype, device=device, shift=10.0)
    copy = x.clone()
    for p in (0.25, 0.7):
        out, cache = m.Dropout.forward(x, {"mode": "train", "p": p, "seed": 5})
        same_kind(f"Dropout.forward (p={p}) out", out, x)
        dropped = (out == 0).double().mean().item()
        if abs(dropped - p) > 0.02:
            _fail(f"Dropout.forward (p={p}): {dropped:.1%} of outputs dropped, expected {p:.0%} "
                  f"(p is the probability of dropping)")
        kept = out != 0
        close(f"Dropout.forward (p={p}) kept outputs", out[kept], x[kept].double() / (1 - p), dtype)
        if not torch.equal(out, m.Dropout.forward(x, {"mode": "train", "p": p, "seed": 5})[0]):
            _fail(f"Dropout.forward (p={p}): the same seed gave a different mask")
        test_out, _ = m.Dropout.forward(x, {"mode": "test", "p": p})
        same_kind(f"Dropout.forward (p={p}, test) out", test_out, x)
        close(f"Dropout.forward (p={p}, test mode)", test_out, x.double(), dtype)
    unchanged("Dropout.forward's x", x, copy)


def check_dropout_backward(m, dtype=torch.float64, device="cpu"):
    gen = _gen(22)
    x = _randn(gen, 50, 60, dtype=dtype, device=device, shift=10.0)
    dout = _randn(gen, 50, 60, dtype=dtype, device=device)
    for p in (0.2, 0.6):
        out, cache = m.Dropout.forward(x, {"mode": "train", "p": p, "seed": 7})
        copy = dout.clone()
        dx = m.Dropout.backward(dout, cache)
        same_kind(f"Dropout.backward (p={p}) dx", dx, x)
        # out = x * keep / (1 - p): the gradient is dout * out / x, with the forward's own mask
        close(f"Dropout.backward (p={p}) dx", dx, dout.double() * out.double() / x.double(), dtype)
        unchanged("Dropout.backward's dout", dout, copy)
        _, cache = m.Dropout.forward(x, {"mode": "test", "p": p})
        close(f"Dropout.backward (p={p}, test mode) dx", m.Dropout.backward(dout, cache), dout.double(), dtype)


# ---------------------------------------------------------------------------------------------

# graded function -> its check; float dtypes each check runs with
CHECKS = {
    "Linear.forward": check_linear_forward,
    "Linear.backward": check_linear_backward,
    "ReLU.forward": check_relu_forward,
    "ReLU.backward": check_relu_backward,
    "Linear_ReLU": check_linear_relu,
    "TwoLayerNet.__init__": check_two_layer_init,
    "TwoLayerNet.loss": check_two_layer_loss,
    "FullyConnectedNet.__init__": check_fc_init,
    "FullyConnectedNet.loss": check_fc_loss,
    "FullyConnectedNet.loss (dropout)": check_fc_dropout,
    "create_solver_instance": check_create_solver,
    "get_three_layer_network_params": check_three_layer_params,
    "get_five_layer_network_params": check_five_layer_params,
    "sgd_momentum": check_sgd_momentum,
    "rmsprop": check_rmsprop,
    "adam": check_adam,
    "Dropout.forward": check_dropout_forward,
    "Dropout.backward": check_dropout_backward,
}
SINGLE_DTYPE = {"FullyConnectedNet.loss (dropout)", "create_solver_instance", "get_three_layer_network_params",
                "get_five_layer_network_params"}


def run_check(name, module, device="cpu"):
    """None when the function agrees with the oracle, else the first mismatch (or error) as text."""
    check = CHECKS[name]
    dtypes = (None,) if name in SINGLE_DTYPE else (torch.float64, torch.float32)
    for dtype in dtypes:
        try:
            torch.manual_seed(0)
            if dtype is None:
                check(module, device=device)
            else:
                check(module, dtype=dtype, device=device)
        except OracleMismatch as error:
            return f"[{dtype}] {error}" if dtype else str(error)
        except Exception as error:  # student code raising is a mismatch too
            return f"[{dtype}] raised {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    return None


def problems(module, device="cpu", names=None):
    out = {}
    for name in names or CHECKS:
        found = run_check(name, module, device)
        if found:
            out[name] = found
    return out
