"""Assignment 3's known mistakes, written out as wrong formulas (instructor side: they compute
wrong answers of the graded functions, so they never ship). Each entry is ``(label,
explanation, variant)``: ``variant(expected, args)`` gives what code with that mistake returns,
from the right result and the case's inputs; the engine's ``mistakes.results`` runs them.

The update rules' mistakes are whole wrong rules (``OPTIMIZER_RULES``): a case runs each over
the same steps as the right one, so a mistake is named on the step where it shows."""
import math
from typing import Callable, Dict, List, Tuple

import torch

from ....instructor import mistakes as shared

Mistake = Tuple[str, str, Callable]


def results(check: str, expected, args, probes=()) -> list:
    """The engine's ``results`` over this assignment's catalogue."""
    return shared.results(CATALOGUE, check, expected, args, probes=probes)


# ------------------------------------------------------------------ layers

def _linear_backward(kind):
    def variant(expected, args):
        dout, (x, w, b) = args
        dx, dw, db = expected
        N = x.shape[0]
        if kind == "dx_flat":
            return dx.reshape(N, -1), dw, db
        if kind == "dx_transposed":
            return w.mm(dout.t()).reshape(x.shape), dw, db
        if kind == "db_mean":
            return dx, dw, dout.mean(dim=0)
        if kind == "db_rows":
            return dx, dw, dout.sum(dim=1)
        if kind == "dw_mean":
            return dx, dw / N, db
        if kind == "dw_transposed":
            return dx, dw.t(), db
        raise ValueError(kind)
    return variant


LINEAR_BACKWARD: List[Mistake] = [
    ("dx not shaped like x", "dx must have x's shape (N, d_1, ..., d_k): reshape dout @ w.T back with "
     "dx.reshape(x.shape) (or view_as(x))", _linear_backward("dx_flat")),
    ("dx reshaped from the transposed product", "w @ dout.T is dx transposed, (D, N): reshaping it to x's shape "
     "scrambles the entries; compute dout @ w.T (N, D), then reshape it to x.shape", _linear_backward("dx_transposed")),
    ("db averaged instead of summed", "the bias is added to every sample, so its gradient is the sum of dout over "
     "the samples, dout.sum(dim=0) (the loss already averages over N)", _linear_backward("db_mean")),
    ("db summed over the wrong axis", "db sums dout over the samples (dim=0), giving one entry per output (M,)",
     _linear_backward("db_rows")),
    ("dw divided by N", "dw = x_rows.T @ dout with no division: dout already carries the loss's 1/N",
     _linear_backward("dw_mean")),
    ("dw transposed", "dw has w's shape (D, M): x_rows.T @ dout", _linear_backward("dw_transposed")),
]

LINEAR_FORWARD: List[Mistake] = [
    ("bias left out", "out = x_rows @ w + b: the bias b is added to every row",
     lambda expected, args: (expected[0] - args[2],)),
]

RELU_FORWARD: List[Mistake] = [
    ("the mask returned instead of the values", "out = max(0, x) keeps the positive values themselves, not 1s",
     lambda expected, args: ((args[0] > 0).to(args[0].dtype),)),
]

RELU_BACKWARD: List[Mistake] = [
    ("mask taken from dout instead of x", "the gradient passes where the forward INPUT x (the cache) was positive: "
     "dx = dout * (x > 0); dout's own sign has nothing to do with it",
     lambda expected, args: (args[0] * (args[0] > 0).to(args[0].dtype),)),
    ("the mask returned without dout", "dx = dout * (x > 0): the upstream gradient dout must be multiplied in",
     lambda expected, args: ((args[1] > 0).to(args[0].dtype),)),
    ("negative inputs passed through", "units whose input was negative output 0, so their gradient is 0: "
     "dx = dout * (x > 0)", lambda expected, args: (args[0].clone(),)),
]


# ------------------------------------------------------------------ networks' regularization

def _weights(params):
    return [k for k in params if k.startswith("W")]


def _biases(params):
    return [k for k in params if k.startswith("b")]


def _reg_variant(own_half: bool, kind: str):
    """What the loss and grads become when the regularization is written as ``kind``, starting
    from the right result of a network whose own convention has (``own_half``) or has not the
    factor 1/2. ``args``: [params, reg]."""
    def variant(expected, args):
        params, reg = args
        loss, grads = expected
        grads = dict(grads)
        sq = {k: float((params[k].double() ** 2).sum()) for k in params}
        R = sum(sq[k] for k in _weights(params))
        factor = 0.5 if own_half else 1.0  # the right loss's R factor; its gradient is 2 * factor * reg * W
        base = loss - factor * reg * R
        base_grads = {k: grads[k] - 2 * factor * reg * params[k] if k in _weights(params) else grads[k] for k in grads}
        if kind == "half":  # 0.5 * reg * W^2, reg * W
            return base + 0.5 * reg * R, {k: base_grads[k] + reg * params[k] if k in _weights(params) else
                                          base_grads[k] for k in grads}
        if kind == "full":  # reg * W^2, 2 reg W
            return base + reg * R, {k: base_grads[k] + 2 * reg * params[k] if k in _weights(params) else
                                    base_grads[k] for k in grads}
        if kind == "grad_one":  # the loss as asked, the gradient reg * W
            return loss, {k: base_grads[k] + reg * params[k] if k in _weights(params) else base_grads[k]
                          for k in grads}
        if kind == "grad_two":  # the loss as asked, the gradient 2 reg W
            return loss, {k: base_grads[k] + 2 * reg * params[k] if k in _weights(params) else base_grads[k]
                          for k in grads}
        if kind == "none":
            return base, base_grads
        if kind == "loss_only":
            return loss, base_grads
        if kind == "grads_only":
            return base, grads
        if kind == "last_grad":  # every weight's gradient regularized but the last layer's
            last = f"W{len(_weights(params))}"
            return loss, {k: base_grads[k] if k == last else grads[k] for k in grads}
        if kind == "biases":
            B = sum(sq[k] for k in _biases(params))
            return loss + factor * reg * B, {k: grads[k] + 2 * factor * reg * params[k] if k in _biases(params) else
                                             grads[k] for k in grads}
        raise ValueError(kind)
    return variant


def net_reg_mistakes(own_half: bool) -> List[Mistake]:
    rule = ("0.5 * reg * sum(W * W) with gradient reg * W" if own_half else
            "reg * sum(W * W) with gradient 2 * reg * W (no factor 1/2)")
    out = [
        ("regularization of the biases", "only the weights are regularized: leave b1, b2, ... out of the L2 term and "
         "out of their gradients", _reg_variant(own_half, "biases")),
        ("no regularization", f"the loss adds the L2 term of every weight matrix, {rule}", _reg_variant(own_half, "none")),
        ("regularization in the loss only", f"each weight's gradient gains the L2 term's derivative: {rule}",
         _reg_variant(own_half, "loss_only")),
        ("the last layer's weights not regularized in their gradient", "every weight matrix's gradient gains the L2 "
         f"term's derivative, the last layer's too (it is outside the loop over the hidden layers): {rule}",
         _reg_variant(own_half, "last_grad")),
        ("regularization in the gradients only", f"the loss itself adds the L2 term: {rule}",
         _reg_variant(own_half, "grads_only")),
    ]
    if own_half:
        out += [("gradient 2 * reg * W with the loss's factor 1/2", "with 0.5 * reg * sum(W * W) in the loss the "
                 "gradient is reg * W, not 2 * reg * W", _reg_variant(own_half, "grad_two"))]
    else:
        out += [("regularization with a factor 1/2", "the template asks for TwoLayerNet's L2 term without the factor "
                 "1/2: loss += reg * (sum(W1 * W1) + sum(W2 * W2)), so grads['W1'] gains 2 * reg * W1 (the "
                 "notebook's expected loss relies on it)", _reg_variant(own_half, "half")),
                ("gradient reg * W without the factor 2", "the derivative of reg * sum(W * W) is 2 * reg * W",
                 _reg_variant(own_half, "grad_one"))]
    return out


# ------------------------------------------------------------------ update rules

def _momentum_unused(w, dw, config):
    """The velocity computed and stored, but the step adds dw itself: next_w = w + dw."""
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", torch.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + dw, config


def _momentum(sign=-1.0, keep=True, apply=+1.0):
    def rule(w, dw, config):
        config = dict(config or {})
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config.get("velocity", torch.zeros_like(w)) if keep else torch.zeros_like(w)
        v = config["momentum"] * v + sign * config["learning_rate"] * dw
        config["velocity"] = v
        return w + apply * v, config
    return rule


def _epsilon(kind, config):
    """config's epsilon, or the number written in its place (kind "eps:1e-07")."""
    return float(kind.split(":", 1)[1]) if kind.startswith("eps:") else config["epsilon"]


EPSILON_FIXED = ("epsilon not read from config", "use config['epsilon'] (the caller may set it): a number written "
                 "in its place, such as 1e-8 or 1e-7, is right only for the default")


def _rmsprop(kind):
    def rule(w, dw, config):
        config = dict(config or {})
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("decay_rate", 0.99)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("cache", torch.zeros_like(w))
        d, lr, eps = config["decay_rate"], config["learning_rate"], _epsilon(kind, config)
        cache = config["cache"] if kind != "not_kept" else torch.zeros_like(w)
        old = cache
        cache = (1 - d) * cache + d * dw * dw if kind == "swapped" else d * cache + (1 - d) * dw * dw
        if kind == "old_cache":
            next_w = w - lr * dw / (old.sqrt() + eps)
        elif kind == "no_sqrt":
            next_w = w - lr * dw / (cache + eps)
        elif kind == "sqrt_of_grad":
            next_w = w - lr * dw / (dw.abs() + eps)
        elif kind == "sqrt_outside":
            next_w = w - lr * torch.sqrt(dw / (cache + eps))
        else:
            next_w = w - lr * dw / (cache.sqrt() + eps)
        config["cache"] = cache
        return next_w, config
    return rule


def _adam(kind):
    def rule(w, dw, config):
        config = dict(config or {})
        for name, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
            config.setdefault(name, value)
        config.setdefault("m", torch.zeros_like(w))
        config.setdefault("v", torch.zeros_like(w))
        config.setdefault("t", 0)
        b1, b2, lr, eps = config["beta1"], config["beta2"], config["learning_rate"], _epsilon(kind, config)
        if kind == "w_for_dw":
            dw = w
        t = config["t"] + (0 if kind in ("t_after", "t_never") else 1)
        if kind == "t_not_stored":
            stored = config["t"]
        m = b1 * config["m"] + (1 - b1) * dw
        v = b2 * config["v"] + (1 - b2) * dw * dw
        if kind == "betas_swapped":
            m = (1 - b1) * config["m"] + b1 * dw
            v = (1 - b2) * config["v"] + b2 * dw * dw
        if kind == "no_correction":
            mt, vt = m, v
        else:
            mt = m / (1 - b1 ** t) if (1 - b1 ** t) != 0 else m * math.inf
            vt = v / (1 - b2 ** t) if (1 - b2 ** t) != 0 else v * math.inf
        next_w = w - lr * mt / (vt.sqrt() + eps)
        config["m"], config["v"] = m, v
        config["t"] = t + 1 if kind == "t_after" else stored if kind == "t_not_stored" else t
        return next_w, config
    return rule


def _with(rule, **values):
    """``rule`` with hyperparameters written as numbers (the defaults) in place of config's."""
    def fixed(w, dw, config):
        return rule(w, dw, {**(config or {}), **values})
    return fixed


def _default_written(name):
    return (f"{name} not read from config", f"use config['{name}'] (the caller may set it): the default written "
            "as a number is right only when the caller keeps the default")


OPTIMIZER_RULES: Dict[str, List[Mistake]] = {
    "sgd_momentum": [
        ("momentum with the wrong sign", "the velocity steps against the gradient: v = momentum * v - "
         "learning_rate * dw, then next_w = w + v", _momentum(sign=+1.0)),
        ("velocity subtracted from w", "with v = momentum * v - learning_rate * dw, the step is next_w = w + v",
         _momentum(apply=-1.0)),
        ("the velocity not used in the step", "next_w = w + v, with the velocity just computed (not w + dw)",
         _momentum_unused),
        ("velocity not kept between steps", "read the velocity from config (config.get('velocity', ...)) and store "
         "the new one in config['velocity'], so each step carries the previous one's", _momentum(keep=False)),
        (*_default_written("momentum"), _with(_momentum(), momentum=0.9)),
        (*_default_written("learning_rate"), _with(_momentum(), learning_rate=1e-2)),
    ],
    "rmsprop": [
        ("no square root", "divide by the square root of the cache: dw / (sqrt(cache) + epsilon)", _rmsprop("no_sqrt")),
        ("square root of dw * dw instead of the cache", "the denominator is sqrt(cache) of the moving average, "
         "not of this step's dw * dw", _rmsprop("sqrt_of_grad")),
        ("square root around the whole step", "only the cache is under the square root: "
         "next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)", _rmsprop("sqrt_outside")),
        ("decay rate applied the wrong way round", "cache = decay_rate * cache + (1 - decay_rate) * dw * dw",
         _rmsprop("swapped")),
        ("cache not kept between steps", "read config['cache'] and store the new cache back in it",
         _rmsprop("not_kept")),
        ("the old cache used in the step", "update the cache with this step's dw first, then divide by the square "
         "root of the NEW cache (on a first step the old one is zeros, and dw / epsilon explodes)",
         _rmsprop("old_cache")),
        (*_default_written("decay_rate"), _with(_rmsprop(""), decay_rate=0.99)),
        (*_default_written("learning_rate"), _with(_rmsprop(""), learning_rate=1e-2)),
        (*EPSILON_FIXED, _rmsprop("eps:1e-08")),
        (*EPSILON_FIXED, _rmsprop("eps:1e-07")),
    ],
    "adam": [
        ("no bias correction", "Adam divides m and v by (1 - beta1 ** t) and (1 - beta2 ** t) before the step "
         "(the bias correction)", _adam("no_correction")),
        ("t not stored back in config", "the incremented t must be written back (config['t'] = t, or "
         "config['t'] += 1 first): otherwise every step uses t = 1 and the bias correction of later steps is wrong",
         _adam("t_not_stored")),
        ("t not incremented before it is used", "the template: increment config['t'] BEFORE using it, so the first "
         "step uses t = 1 (with t = 0 the bias correction divides by zero)", _adam("t_after")),
        ("t never incremented", "increment config['t'] by one on every step, before using it", _adam("t_never")),
        ("betas applied the wrong way round", "m = beta1 * m + (1 - beta1) * dw and "
         "v = beta2 * v + (1 - beta2) * dw * dw", _adam("betas_swapped")),
        (*_default_written("beta1"), _with(_adam(""), beta1=0.9)),
        (*_default_written("beta2"), _with(_adam(""), beta2=0.999)),
        (*_default_written("learning_rate"), _with(_adam(""), learning_rate=1e-3)),
        (*EPSILON_FIXED, _adam("eps:1e-08")),
        (*EPSILON_FIXED, _adam("eps:1e-07")),
        ("the weights in place of the gradient", "the moments are made from w where dw belongs: "
         "m = beta1 * m + (1 - beta1) * dw and v = beta2 * v + (1 - beta2) * dw * dw", _adam("w_for_dw")),
    ],
}

# Equivalent ways of writing a rule that a careful reader accepts: epsilon under the square root
# (sqrt(cache + eps)) changes the step by a few parts in a billion, more than float64's tolerance.
def _rmsprop_eps_inside(w, dw, config):
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", torch.zeros_like(w))
    cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]).sqrt(), config


def _adam_moments(w, dw, config):
    """Adam's bookkeeping as the template asks it, for the accepted forms below: (config with the
    defaults, the new m, v and t stored), m, v, t."""
    config = dict(config or {})
    for name, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(name, value)
    config.setdefault("m", torch.zeros_like(w))
    config.setdefault("v", torch.zeros_like(w))
    config.setdefault("t", 0)
    t = config["t"] + 1
    b1, b2 = config["beta1"], config["beta2"]
    m = b1 * config["m"] + (1 - b1) * dw
    v = b2 * config["v"] + (1 - b2) * dw * dw
    config.update(m=m, v=v, t=t)
    return config, m, v, t


def _adam_eps_inside(w, dw, config):
    config, m, v, t = _adam_moments(w, dw, config)
    b1, b2 = config["beta1"], config["beta2"]
    return w - config["learning_rate"] * (m / (1 - b1 ** t)) / (v / (1 - b2 ** t) + config["epsilon"]).sqrt(), config


def _adam_efficient(w, dw, config):
    """The Adam paper's efficient form (Kingma and Ba, section 2; TensorFlow's): the bias
    corrections folded into the step, alpha_t = lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t),
    next_w = w - alpha_t * m / (sqrt(v) + epsilon): the same steps but for epsilon's scale."""
    config, m, v, t = _adam_moments(w, dw, config)
    step = config["learning_rate"] * math.sqrt(1 - config["beta2"] ** t) / (1 - config["beta1"] ** t)
    return w - step * m / (v.sqrt() + config["epsilon"]), config


def _momentum_pytorch(w, dw, config):
    """v = momentum * v + dw, next_w = w - learning_rate * v (PyTorch's form): the same steps
    with a constant learning rate, the velocity stored divided by -learning_rate."""
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", torch.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config


ACCEPTED_RULES = {
    "rmsprop": [("epsilon under the square root", _rmsprop_eps_inside)],
    "adam": [("epsilon under the square root", _adam_eps_inside),
             ("the bias corrections folded into the step size (the Adam paper's efficient form)", _adam_efficient)],
    "sgd_momentum": [("the velocity kept as momentum * v + dw (PyTorch's form)", _momentum_pytorch)],
}

CATALOGUE: Dict[str, List[Mistake]] = {
    "Linear.forward": LINEAR_FORWARD,
    "Linear.backward": LINEAR_BACKWARD,
    "ReLU.forward": RELU_FORWARD,
    "ReLU.backward": RELU_BACKWARD,
    "TwoLayerNet.loss": net_reg_mistakes(own_half=False),
    "FullyConnectedNet.loss": net_reg_mistakes(own_half=True),
    # the same mistakes made by code that follows the accepted convention without 1/2 (see ACCEPTED)
    "FullyConnectedNet.loss, without 1/2": [m for m in net_reg_mistakes(own_half=False)
                                            if "factor 1/2" not in m[0]],
}
