"""Attacks on Assignment 3's grading, as submissions made from the solution: code that tries to
earn points without doing the work the template asks for (answers read from the handout's
fixtures, gradients from autograd or finite differences, layers from ``torch.nn``, state kept
out of ``config``, tracing switched off, the caller's tensors overwritten, a Solver that is not
one). Each attack replaces the body of one or more TODO regions of the solution and names the
functions it attacks; ``CEILING`` says what each may keep there (the points its honest part
earns, or nothing).

``materialize(root, name)`` writes the attack ``name`` as a kit-layout submission
``root/<name>/a3/fully_connected_networks.py``.
"""
import base64
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import torch

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "a3" / "fully_connected_networks.py"
FIXTURES = REPO / "grader" / "assignments" / "a3" / "fixtures"


@dataclass(frozen=True)
class A3Attack:
    name: str
    what: str
    edits: Tuple[Tuple[str, str], ...]  # (solution text, replacement), each found exactly once
    # function -> the most points it may keep: nothing, or the cases its honest part earns (the
    # scores of a network whose gradients are not derived, a device rule kept by code whose values are
    # right but that breaks another rule, the points of a rule the course does not charge)
    ceiling: Dict[str, float]


def _body(code: str, indent: int = 8) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), " " * indent) + "\n"


LINEAR_BACKWARD = """\
        rows = x.reshape(x.shape[0], -1)  # (N, D)
        dx = dout.mm(w.t()).reshape(x.shape)  # (N, d_1, ..., d_k)
        dw = rows.t().mm(dout)  # (D, M)
        db = dout.sum(dim=0)  # (M,), every sample's bias gradient adds up
"""
RELU_BACKWARD = "        dx = dout * (x > 0)\n"
RELU_FORWARD = "        out = x.clamp(min=0)\n"
LINEAR_FORWARD = """\
        rows = x.reshape(x.shape[0], -1)  # (N, D)
        out = rows.mm(w) + b  # (N, M)
"""
TLN_BACKWARD = """\
        W1, W2 = self.params['W1'], self.params['W2']
        loss, dscores = softmax_loss(scores, y)
        loss = loss + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())
        dhidden, dW2, db2 = Linear.backward(dscores, scores_cache)
        _, dW1, db1 = Linear_ReLU.backward(dhidden, hidden_cache)
        grads['W1'] = dW1 + 2 * self.reg * W1
        grads['b1'] = db1
        grads['W2'] = dW2 + 2 * self.reg * W2
        grads['b2'] = db2
"""
TLN_FORWARD = """\
        hidden, hidden_cache = Linear_ReLU.forward(X, self.params['W1'], self.params['b1'])  # (N, H)
        scores, scores_cache = Linear.forward(hidden, self.params['W2'], self.params['b2'])  # (N, C)
"""
RMSPROP = """\
    decay = config['decay_rate']
    cache = decay * config['cache'] + (1 - decay) * dw * dw
    next_w = w - config['learning_rate'] * dw / (cache.sqrt() + config['epsilon'])
    config['cache'] = cache
"""
MOMENTUM = """\
    v = config['momentum'] * v - config['learning_rate'] * dw
    next_w = w + v
"""
ADAM = """\
    beta1, beta2 = config['beta1'], config['beta2']
    t = config['t'] + 1
    m = beta1 * config['m'] + (1 - beta1) * dw
    v = beta2 * config['v'] + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    next_w = w - config['learning_rate'] * m_hat / (v_hat.sqrt() + config['epsilon'])
    config['t'], config['m'], config['v'] = t, m, v
"""
DROPOUT_TRAIN = """\
            keep = torch.rand_like(x) >= p  # each unit survives with probability 1 - p
            mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))
            out = x * mask
"""
SOLVER = """\
    solver = Solver(model, data_dict,
                    update_rule=sgd,
                    optim_config={'learning_rate': 1e-1},
                    lr_decay=0.95,
                    num_epochs=20,
                    batch_size=100,
                    print_every=1000,
                    device=device)
"""

# ----------------------------------------------------------------- answers from the handout's fixtures

TABLE_HELPERS = '''

def _a3_fingerprint(t):
    return (tuple(t.shape), round(float(t.double().sum()), 6), round(float(t.double().abs().sum()), 6))


def _a3_table():
    import base64 as _b64
    import io as _io
    return torch.load(_io.BytesIO(_b64.b64decode(_A3_TABLE)), weights_only=False)


def _a3_lookup(function, t, like=None):
    """The expected value published for the fixture whose input ``t`` is, or None."""
    for fp, expected in _a3_table().get(function, []):
        if fp == _a3_fingerprint(t):
            return expected
    return None
'''


def _fingerprint(t: torch.Tensor):
    return (tuple(t.shape), round(float(t.double().sum()), 6), round(float(t.double().abs().sum()), 6))


def fixture_table() -> bytes:
    """{function: [(fingerprint of the case's first input, expected value)]} from the handout's
    fixtures, as a student who reads them would tabulate them."""
    table = {}
    for path in sorted(FIXTURES.glob("*.pt")):
        cases = torch.load(path, weights_only=False)
        if not isinstance(cases, dict):
            continue
        for entry in cases.values():
            payload, key = entry.get("payload", {}), entry.get("key", {})
            if not isinstance(key, dict) or "expected" not in key:
                continue
            first = payload.get("X") if "X" in payload else payload.get("w")
            if first is None and payload.get("args"):
                first = payload["args"][0]
            if isinstance(first, torch.Tensor):
                table.setdefault(path.stem, []).append((_fingerprint(first), key["expected"]))
    buffer = io.BytesIO()
    torch.save(table, buffer)
    return base64.b64encode(buffer.getvalue())


TABLE_LINEAR_BACKWARD = """\
rows = x.reshape(x.shape[0], -1)
dx = dout.mm(w.t()).reshape(x.shape)  # the easy part, computed
published = _a3_lookup('Linear.backward', dout)
if published is not None:
    _, dw, db = published
    dw, db = dw.to(dout), db.to(dout)
else:
    dw, db = torch.zeros_like(w), torch.zeros_like(b)
"""
TABLE_TLN = """\
W1, W2 = self.params['W1'], self.params['W2']
loss, dscores = softmax_loss(scores, y)
loss = loss + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())  # the loss, computed
published = _a3_lookup('TwoLayerNet.loss', X)
for k, p in self.params.items():
    grads[k] = published[1][k].to(p) if published is not None else torch.zeros_like(p)
"""
TABLE_ADAM = """\
t = config['t'] + 1
published = _a3_lookup('adam', w)
if published is not None:
    next_w, state = published[0]
    next_w = next_w.to(w)
    config['t'], config['m'], config['v'] = t, state['m'].to(w), state['v'].to(w)
else:
    next_w = w.clone()
    config['t'] = t
"""

# ----------------------------------------------------------------- gradients not derived by hand

AUTOGRAD_LINEAR = """\
xg, wg, bg = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
(xg.reshape(x.shape[0], -1).mm(wg) + bg).backward(dout)
dx, dw, db = xg.grad, wg.grad, bg.grad
"""
AUTOGRAD_GRAD_RELU = """\
xg = x.detach().clone().requires_grad_(True)
dx, = torch.autograd.grad(xg.clamp(min=0), xg, dout)
"""
FUNC_VJP_LINEAR = """\
import torch.func
_, pull = torch.func.vjp(lambda a, c, d: a.reshape(a.shape[0], -1).mm(c) + d, x, w, b)
dx, dw, db = pull(dout)
"""
HIDDEN_AUTOGRAD_LINEAR = """\
engine = getattr(__import__('tor' + 'ch'), 'auto' + 'grad')
grad_of = getattr(engine, 'gr' + 'ad')
xg, wg, bg = (getattr(t.detach().clone(), 'requires_' + 'grad_')(True) for t in (x, w, b))
dx, dw, db = grad_of(xg.reshape(x.shape[0], -1).mm(wg) + bg, (xg, wg, bg), dout)
"""
AUTOGRAD_TLN = """\
params = {k: p.detach().clone().requires_grad_(True) for k, p in self.params.items()}
h = (X.reshape(X.shape[0], -1).mm(params['W1']) + params['b1']).clamp(min=0)
s = h.mm(params['W2']) + params['b2']
shifted = s - s.max(dim=1, keepdim=True).values
total = -(shifted.gather(1, y.view(-1, 1)) - shifted.exp().sum(dim=1, keepdim=True).log()).mean()
total = total + self.reg * ((params['W1'] ** 2).sum() + (params['W2'] ** 2).sum())
total.backward()
loss = total.detach()
grads = {k: p.grad for k, p in params.items()}
"""
FUNC_GRAD_RELU = """\
import torch.func
dx = torch.func.vjp(lambda a: a.clamp(min=0), x)[1](dout)[0]
"""
FINITE_DIFF_LINEAR = """\
h = 1e-6 if x.dtype == torch.float64 else 1e-2

def along(t, index):
    plus, minus = t.clone(), t.clone()
    plus.view(-1)[index] += h
    minus.view(-1)[index] -= h
    return plus, minus

def grad_of(which):
    args = [x, w, b]
    g = torch.zeros_like(args[which])
    for i in range(g.numel()):
        plus, minus = along(args[which], i)
        args_p, args_m = list(args), list(args)
        args_p[which], args_m[which] = plus, minus
        fp, fm = Linear.forward(*args_p)[0], Linear.forward(*args_m)[0]
        g.view(-1)[i] = ((fp - fm) * dout).sum() / (2 * h)
    return g

dx, dw, db = grad_of(0), grad_of(1), grad_of(2)
"""
FINITE_DIFF_RELU = """\
h = 1e-6 if x.dtype == torch.float64 else 1e-3
dx = (ReLU.forward(x + h)[0] - ReLU.forward(x - h)[0]) / (2 * h) * dout
"""
OUTSIDE_LINEAR = """\
Xs, Ws, Bs, Gs = x.reshape(x.shape[0], -1).tolist(), w.tolist(), [b.tolist()], dout.tolist()
h = 1e-6

def total():
    return sum(Gs[n][m] * (sum(Xs[n][d] * Ws[d][m] for d in range(len(Ws))) + Bs[0][m])
               for n in range(len(Xs)) for m in range(len(Bs[0])))

def measured(T):
    G = [[0.0] * len(T[0]) for _ in T]
    for r in range(len(T)):
        for c in range(len(T[0])):
            kept = T[r][c]
            T[r][c] = kept + h
            up = total()
            T[r][c] = kept - h
            G[r][c] = (up - total()) / (2 * h)
            T[r][c] = kept
    return G

dx = torch.tensor(measured(Xs), dtype=x.dtype, device=x.device).reshape(x.shape)
dw = torch.tensor(measured(Ws), dtype=w.dtype, device=w.device)
db = torch.tensor(measured(Bs)[0], dtype=b.dtype, device=b.device)
"""
OUTSIDE_RELU = """\
import numpy as np
xs = np.asarray(x).astype(np.float64)
h = 1e-6
slope = (np.maximum(xs + h, 0) - np.maximum(xs - h, 0)) / (2 * h)
dx = torch.from_numpy(slope * np.asarray(dout)).to(x.dtype)
"""

# ----------------------------------------------------------------- layers from torch.nn

NN_TLN_FORWARD = """\
import torch.nn.functional as F
hidden = F.relu(F.linear(X.reshape(X.shape[0], -1), self.params['W1'].t(), self.params['b1']))
scores = F.linear(hidden, self.params['W2'].t(), self.params['b2'])
hidden_cache = ((X, self.params['W1'], self.params['b1']), X.reshape(X.shape[0], -1).mm(self.params['W1']) + self.params['b1'])
scores_cache = (hidden, self.params['W2'], self.params['b2'])
"""
NN_CROSS_ENTROPY_TLN = """\
import torch.nn.functional as F
W1, W2 = self.params['W1'], self.params['W2']
loss = F.cross_entropy(scores, y) + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())
probs = scores.softmax(dim=1)
probs[torch.arange(scores.shape[0]), y] -= 1
dscores = probs / scores.shape[0]
dhidden, dW2, db2 = Linear.backward(dscores, scores_cache)
_, dW1, db1 = Linear_ReLU.backward(dhidden, hidden_cache)
grads['W1'] = dW1 + 2 * self.reg * W1
grads['b1'] = db1
grads['W2'] = dW2 + 2 * self.reg * W2
grads['b2'] = db2
"""
NN_LINEAR_MODULE = """\
layer = torch.nn.Linear(w.shape[0], w.shape[1], dtype=x.dtype, device=x.device)
with torch.no_grad():
    layer.weight.copy_(w.t())
    layer.bias.copy_(b)
    out = layer(x.reshape(x.shape[0], -1))
"""
NN_RELU = """\
out = torch.nn.functional.relu(x)
"""
HIDDEN_NN_RELU = """\
out = getattr(getattr(getattr(torch, 'n' + 'n'), 'funct' + 'ional'), 're' + 'lu')(x)
"""
TORCH_DROPOUT = """\
out = torch.nn.functional.dropout(x, p, True)
mask = torch.where(out != 0, torch.full_like(x, 1.0 / (1.0 - p)), torch.zeros_like(x))
"""

# ----------------------------------------------------------------- state, randomness, devices, mutation

RMSPROP_GLOBAL_STATE = """\
state = _A3_STATE.setdefault(id(w), torch.zeros_like(w)) if config.get('cache') is None else config['cache']
decay = config['decay_rate']
cache = decay * state + (1 - decay) * dw * dw
_A3_STATE[id(w)] = cache
next_w = w - config['learning_rate'] * dw / (cache.sqrt() + config['epsilon'])
"""
ADAM_GLOBAL_T = """\
global _A3_STEPS
_A3_STEPS += 1
beta1, beta2 = config['beta1'], config['beta2']
t = _A3_STEPS
m = beta1 * config['m'] + (1 - beta1) * dw
v = beta2 * config['v'] + (1 - beta2) * dw * dw
next_w = w - config['learning_rate'] * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + config['epsilon'])
config['m'], config['v'] = m, v
"""
DROPOUT_RESEED = """\
torch.manual_seed(dropout_param.get('seed', 0))
keep = torch.rand_like(x) >= p
mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))
out = x * mask
"""
DROPOUT_FIXED_MASK = """\
n = x.numel()
keep = (torch.arange(n, device=x.device) * 7919 % 1000 >= p * 1000).reshape(x.shape)
mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))
out = x * mask
"""
DROPOUT_STANDIN_MASK = """\
import gc
mask = None
for obj in gc.get_objects():
    if isinstance(obj, torch.Tensor) and obj is not x and obj.shape == x.shape and obj.dtype == x.dtype:
        values = obj.unique()
        if values.numel() == 2 and float(values.min()) == 0.0 and abs(float(values.max()) - 1.0 / (1.0 - p)) < 1e-6:
            mask = obj
            break
if mask is None:
    keep = torch.rand_like(x) >= p
    mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))
out = x * mask
"""
TO_LINEAR = """\
rows = x.reshape(x.shape[0], -1).cpu().to(torch.float64)
out = (rows.mm(w.cpu().double()) + b.cpu().double()).to(x.dtype).to(x.device)
"""
HIDDEN_TO_LINEAR = """\
move = getattr(torch.Tensor, 't' + 'o')
rows = move(x.reshape(x.shape[0], -1), torch.float64)
out = move(rows.mm(move(w, torch.float64)) + move(b, torch.float64), x.dtype)
"""
TRACE_OFF_LINEAR = """\
import sys
sys.settrace(None)
rows = x.reshape(x.shape[0], -1).cpu()
out = rows.mm(w.cpu()) + b.cpu()
"""
RELU_IN_PLACE = """\
out = x.clamp_(min=0)
"""
RELU_BACKWARD_IN_PLACE = """\
dout[x <= 0] = 0
dx = dout
"""
RMSPROP_IN_PLACE = """\
decay = config['decay_rate']
cache = decay * config['cache'] + (1 - decay) * dw * dw
w -= config['learning_rate'] * dw / (cache.sqrt() + config['epsilon'])
next_w = w
config['cache'] = cache
"""
MOMENTUM_IN_PLACE = """\
v = config['momentum'] * v - config['learning_rate'] * dw
w += v
next_w = w
"""
ADAM_DW_IN_PLACE = """\
beta1, beta2 = config['beta1'], config['beta2']
t = config['t'] + 1
m = beta1 * config['m'] + (1 - beta1) * dw
dw.mul_(dw)
v = beta2 * config['v'] + (1 - beta2) * dw
next_w = w - config['learning_rate'] * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + config['epsilon'])
config['t'], config['m'], config['v'] = t, m, v
"""
LINEAR_BACKWARD_DOUT_IN_PLACE = """\
rows = x.reshape(x.shape[0], -1)
db = dout.sum(dim=0)
dw = rows.t().mm(dout)
dx = dout.mm(w.t()).reshape(x.shape)
dout.zero_()
"""

# ----------------------------------------------------------------- the Solver

SOLVER_DUCK = """\
class _Duck:
    def __init__(self, model, data):
        self.model, self.data = model, data
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        self.best_params = model.params
    def train(self):
        pass
    def check_accuracy(self, *args, **kwargs):
        return 1.0
solver = _Duck(model, data_dict)
"""
SOLVER_BYPASS = """\
import importlib
real = None
for name in ('helpers.solver', 'eecs598.solver', 'eecs598'):
    try:
        real = getattr(importlib.import_module(name), 'Solver')
        break
    except Exception:
        continue
solver = real(model, data_dict, update_rule=sgd, optim_config={'learning_rate': 1e-1}, lr_decay=0.95,
              num_epochs=20, batch_size=100, print_every=1000, device=device)
"""
SOLVER_SUBCLASS = """\
class _Quick(Solver):
    def train(self):
        self.best_params = self.model.params
solver = _Quick(model, data_dict, update_rule=sgd, optim_config={'learning_rate': 1e-1}, device=device)
"""


def _i(code: str, indent: int) -> str:
    return textwrap.indent(textwrap.dedent(code), " " * indent)


_GLOBALS = "\n_A3_STATE = {}\n_A3_STEPS = 0\n"

ATTACKS: Dict[str, A3Attack] = {a.name: a for a in [
    # points without the work
    A3Attack("table_linear_backward", "dx computed, dw and db from a table of the published fixtures",
             ((LINEAR_BACKWARD, _i(TABLE_LINEAR_BACKWARD, 8)),), {"Linear.backward": 0.5}),
    A3Attack("table_two_layer_grads", "the loss computed, the grads from a table of the published fixtures",
             ((TLN_BACKWARD, _i(TABLE_TLN, 8)),), {"TwoLayerNet.loss": 4.0}),
    A3Attack("table_adam", "adam's steps from a table of the published fixtures", ((ADAM, _i(TABLE_ADAM, 4)),),
             {"adam": 0.0}),
    # gradients by autograd
    A3Attack("autograd_backward_linear", "Linear.backward by .backward() on requires_grad copies",
             ((LINEAR_BACKWARD, _i(AUTOGRAD_LINEAR, 8)),), {"Linear.backward": 0.0}),
    A3Attack("autograd_grad_relu", "ReLU.backward by torch.autograd.grad", ((RELU_BACKWARD, _i(AUTOGRAD_GRAD_RELU, 8)),),
             {"ReLU.backward": 0.0}),
    A3Attack("func_vjp_linear", "Linear.backward by torch.func.vjp", ((LINEAR_BACKWARD, _i(FUNC_VJP_LINEAR, 8)),),
             {"Linear.backward": 0.0}),
    A3Attack("func_vjp_relu", "ReLU.backward by torch.func.vjp", ((RELU_BACKWARD, _i(FUNC_GRAD_RELU, 8)),),
             {"ReLU.backward": 0.0}),
    A3Attack("hidden_autograd_linear", "Linear.backward by torch.autograd.grad reached through getattr of "
             "assembled strings", ((LINEAR_BACKWARD, _i(HIDDEN_AUTOGRAD_LINEAR, 8)),), {"Linear.backward": 0.0}),
    A3Attack("autograd_two_layer", "TwoLayerNet.loss: its own forward on requires_grad copies, grads by .backward()",
             ((TLN_BACKWARD, _i(AUTOGRAD_TLN, 8)),), {"TwoLayerNet.loss": 4.5}),
    A3Attack("finite_differences_linear", "Linear.backward by centred differences of its own Linear.forward",
             ((LINEAR_BACKWARD, _i(FINITE_DIFF_LINEAR, 8)),), {"Linear.backward": 0.0}),
    A3Attack("finite_differences_relu", "ReLU.backward by centred differences of its own ReLU.forward",
             ((RELU_BACKWARD, _i(FINITE_DIFF_RELU, 8)),), {"ReLU.backward": 0.0}),
    A3Attack("outside_linear", "Linear.backward by centred differences in Python floats of the inputs taken out "
             "with tolist", ((LINEAR_BACKWARD, _i(OUTSIDE_LINEAR, 8)),), {"Linear.backward": 0.0}),
    A3Attack("outside_relu", "ReLU.backward by differences in numpy of x taken out with np.asarray",
             ((RELU_BACKWARD, _i(OUTSIDE_RELU, 8)),), {"ReLU.backward": 0.0}),
    # layers from torch.nn
    A3Attack("nn_functional_forward", "TwoLayerNet.loss's forward with F.linear and F.relu",
             ((TLN_FORWARD, _i(NN_TLN_FORWARD, 8)),), {"TwoLayerNet.loss": 0.5}),
    A3Attack("nn_cross_entropy", "TwoLayerNet.loss with F.cross_entropy instead of softmax_loss",
             ((TLN_BACKWARD, _i(NN_CROSS_ENTROPY_TLN, 8)),), {"TwoLayerNet.loss": 4.5}),
    A3Attack("nn_linear_module", "Linear.forward through a torch.nn.Linear", ((LINEAR_FORWARD, _i(NN_LINEAR_MODULE, 8)),),
             {"Linear.forward": 0.5}),
    A3Attack("nn_relu", "ReLU.forward by torch.nn.functional.relu", ((RELU_FORWARD, _i(NN_RELU, 8)),),
             {"ReLU.forward": 0.5}),
    A3Attack("hidden_nn_relu", "ReLU.forward by torch.nn.functional.relu reached through getattr of assembled strings",
             ((RELU_FORWARD, _i(HIDDEN_NN_RELU, 8)),), {"ReLU.forward": 0.0}),
    A3Attack("torch_dropout", "Dropout.forward by torch.nn.functional.dropout", ((DROPOUT_TRAIN, _i(TORCH_DROPOUT, 12)),),
             {"Dropout.forward": 0.0}),
    # state, randomness
    A3Attack("rmsprop_global_state", "rmsprop keeps its cache in a module global keyed by id(w), not in config",
             ((RMSPROP, _i(RMSPROP_GLOBAL_STATE, 4)), ("\n\ndef hello_fully_connected_networks", _GLOBALS +
                                                       "\n\ndef hello_fully_connected_networks")),
             {"rmsprop": 0.5}),
    A3Attack("adam_global_t", "adam counts its steps in a module global, not in config['t']",
             ((ADAM, _i(ADAM_GLOBAL_T, 4)), ("\n\ndef hello_fully_connected_networks", _GLOBALS +
                                             "\n\ndef hello_fully_connected_networks")),
             {"adam": 0.0}),
    A3Attack("dropout_reseeds", "Dropout.forward reseeds the global generator with 0 when no seed is given",
             ((DROPOUT_TRAIN, _i(DROPOUT_RESEED, 12)),), {"Dropout.forward": 0.0}),
    A3Attack("dropout_fixed_mask", "Dropout.forward draws no random numbers: a fixed pattern of about p zeros",
             ((DROPOUT_TRAIN, _i(DROPOUT_FIXED_MASK, 12)),), {"Dropout.forward": 0.0}),
    A3Attack("dropout_reads_standin_mask", "Dropout.forward looks through gc for a 0 or 1/(1-p) mask shaped like x",
             ((DROPOUT_TRAIN, _i(DROPOUT_STANDIN_MASK, 12)),), {"Dropout.forward": 0.0}),
    # devices, tracing
    A3Attack("to_and_cpu", "Linear.forward through .cpu() and .to(float64)", ((LINEAR_FORWARD, _i(TO_LINEAR, 8)),),
             {"Linear.forward": 7.0}),
    A3Attack("hidden_to", "Linear.forward through torch.Tensor.to reached with getattr",
             ((LINEAR_FORWARD, _i(HIDDEN_TO_LINEAR, 8)),), {"Linear.forward": 0.0}),
    A3Attack("settrace_off", "sys.settrace(None) then .cpu() in Linear.forward", ((LINEAR_FORWARD, _i(TRACE_OFF_LINEAR, 8)),),
             {"Linear.forward": 0.0}),
    # the caller's tensors
    A3Attack("relu_forward_in_place", "ReLU.forward clamps x in place", ((RELU_FORWARD, _i(RELU_IN_PLACE, 8)),),
             {"ReLU.forward": 0.5}),
    A3Attack("relu_backward_in_place", "ReLU.backward zeroes dout in place and returns it",
             ((RELU_BACKWARD, _i(RELU_BACKWARD_IN_PLACE, 8)),), {"ReLU.backward": 1.5}),
    A3Attack("rmsprop_in_place", "rmsprop updates w in place and returns it", ((RMSPROP, _i(RMSPROP_IN_PLACE, 4)),),
             {"rmsprop": 8.5}),
    A3Attack("momentum_in_place", "sgd_momentum updates w in place and returns it",
             ((MOMENTUM, _i(MOMENTUM_IN_PLACE, 4)),), {"sgd_momentum": 8.5}),
    A3Attack("adam_squares_dw_in_place", "adam squares dw in place", ((ADAM, _i(ADAM_DW_IN_PLACE, 4)),),
             {"adam": 0.0}),
    A3Attack("linear_backward_zeroes_dout", "Linear.backward zeroes the caller's dout after using it",
             ((LINEAR_BACKWARD, _i(LINEAR_BACKWARD_DOUT_IN_PLACE, 8)),), {"Linear.backward": 2.0}),
    # the Solver
    A3Attack("solver_duck", "create_solver_instance returns an object that quacks like a Solver",
             ((SOLVER, _i(SOLVER_DUCK, 4)),), {"create_solver_instance": 0.0}),
    A3Attack("solver_bypass", "create_solver_instance builds the real Solver imported around the stand-in",
             ((SOLVER, _i(SOLVER_BYPASS, 4)),), {"create_solver_instance": 0.0}),
    A3Attack("solver_subclass", "create_solver_instance returns a subclass of Solver whose train does nothing",
             ((SOLVER, _i(SOLVER_SUBCLASS, 4)),), {"create_solver_instance": 0.0}),
]}


def source(name: str) -> str:
    text = SOLUTION.read_text()
    attack = ATTACKS[name]
    for old, new in attack.edits:
        assert text.count(old) == 1, (name, old[:60])
        text = text.replace(old, new)
    if "_a3_lookup" in text:
        text = text.replace("\n\ndef hello_fully_connected_networks",
                            f"\n\n_A3_TABLE = {fixture_table()!r}\n" + TABLE_HELPERS +
                            "\n\ndef hello_fully_connected_networks", 1)
    return text


def materialize(root: Path, name: str) -> Path:
    folder = root / name / "a3"
    folder.mkdir(parents=True)
    (folder / "fully_connected_networks.py").write_text(source(name))
    return folder.parent


# ----------------------------------------------------------------- the student process escaping
# Each replaces Linear.forward's body with one attempt; it raises ``A3ATTACK <name> got nothing:
# ...`` (the case's message carries it) or, when it reached something it must not,
# ``A3LEAK <name>: <what>``. The test finds no A3LEAK in any message, and the batch ends.

ESCAPE_LIBRARY = r'''

def _a3_escape(name):
    import os, sys, glob, socket, subprocess, time
    leaks, notes = [], []

    def kit_roots():
        roots = set()
        for entry in list(sys.path) + [os.getcwd(), os.path.dirname(os.path.abspath(__file__))]:
            here = os.path.abspath(entry or ".")
            for _ in range(6):
                roots.add(here)
                here = os.path.dirname(here)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path:
                roots.add(os.path.dirname(os.path.dirname(os.path.abspath(path))))
        return sorted(roots)

    def readable(path):
        try:
            with open(path, "rb") as f:
                return f.read(1 << 20)
        except OSError as exc:
            notes.append(f"{type(exc).__name__}")
            return None

    if name == "read_solution":
        for root in kit_roots():
            for path in glob.glob(os.path.join(root, "a3", "fully_connected_networks.py")) + \
                    glob.glob(os.path.join(root, "*", "a3", "fully_connected_networks.py")):
                text = readable(path)
                if text and b"BEGIN SOLUTION" in text:
                    leaks.append(path)
    elif name == "walk_for_solution":
        end = time.monotonic() + 5
        own = os.path.realpath(__file__)
        for top in ("/", os.path.expanduser("~")):
            for folder, dirs, files in os.walk(top):
                if time.monotonic() > end:
                    break
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
                for file in files:
                    if file in ("fully_connected_networks.py", "reference.py", "hidden.py") or \
                            (file.endswith(".pt") and "a3" in folder):
                        path = os.path.abspath(os.path.join(folder, file))
                        text = readable(path) if os.path.realpath(path) != own else None
                        if text and (b"BEGIN SOLUTION" in text or b"HIDDEN" in text or file.endswith(".pt")):
                            leaks.append(path)
    elif name == "import_instructor":
        for module in ("grader.assignments.a3.instructor.reference", "grader.assignments.a3.instructor.hidden",
                       "grader.assignments.a3.instructor.recipes", "grader.assignments.a3.instructor.mistakes"):
            try:
                __import__(module)
                leaks.append(module)
            except BaseException as exc:
                notes.append(f"{module}: {type(exc).__name__}")
    elif name == "read_fixtures":
        for root in kit_roots():
            for path in glob.glob(os.path.join(root, "grader", "assignments", "a3", "fixtures", "*.pt")) + \
                    glob.glob(os.path.join(root, "assignments", "a3", "fixtures", "*.pt")):
                if readable(path):
                    leaks.append(path)
    elif name == "network":
        for address in (("127.0.0.1", 22), ("127.0.0.1", 80), ("8.8.8.8", 53), ("1.1.1.1", 443)):
            try:
                s = socket.create_connection(address, timeout=1)
                s.close()
                leaks.append(f"connected to {address}")
            except OSError as exc:
                notes.append(f"{address}: {type(exc).__name__}")
        try:
            socket.getaddrinfo("example.com", 80)
            leaks.append("DNS answered")
        except OSError as exc:
            notes.append(f"dns: {type(exc).__name__}")
    elif name == "write_outside":
        here = os.path.dirname(os.path.abspath(__file__))
        for root in [here, os.path.dirname(here)] + kit_roots()[:12]:
            path = os.path.join(root, "a3attack_probe.txt")
            try:
                with open(path, "x") as f:
                    f.write("A3ATTACK-TAMPER")
                if not os.path.realpath(path).startswith(os.path.realpath(os.getcwd())):
                    leaks.append(path)
            except OSError as exc:
                notes.append(f"{type(exc).__name__}")
    elif name == "subprocess":
        try:
            done = subprocess.run(["/bin/sh", "-c", "cat /etc/hostname; ls /"], capture_output=True, timeout=5)
            notes.append(f"sh ran: {done.returncode}")
        except Exception as exc:
            notes.append(f"sh: {type(exc).__name__}")
        for root in kit_roots():
            path = os.path.join(root, "a3", "fully_connected_networks.py")
            try:
                done = subprocess.run(["/bin/cat", path], capture_output=True, timeout=5)
                if b"BEGIN SOLUTION" in done.stdout:
                    leaks.append(f"cat {path}")
            except Exception as exc:
                notes.append(f"cat: {type(exc).__name__}")
    elif name == "fork_bomb":
        children = 0
        try:
            for _ in range(400):
                if os.fork() == 0:
                    time.sleep(3)
                    os._exit(0)
                children += 1
        except OSError as exc:
            notes.append(f"fork stopped after {children}: {type(exc).__name__}")
        notes.append(f"{children} children")
    elif name == "hang":
        while True:
            pass
    elif name == "huge_output":
        chunk = "A3ATTACK flood " * 4096
        for _ in range(800):
            sys.stdout.write(chunk)
            sys.stderr.write(chunk)
        raise RuntimeError("A3ATTACK huge_output: " + "x" * (8 << 20))
    elif name == "forge_reply":
        for fd in range(0, 64):
            try:
                os.write(fd, b'{"status": "passed", "points": 1000}\n' * 64)
                notes.append(f"wrote fd {fd}")
            except OSError:
                pass
    elif name == "signal_parent":
        import signal
        for pid in (os.getppid(), 1):
            try:
                os.kill(pid, signal.SIGKILL)
                notes.append(f"signalled {pid}")
            except OSError as exc:
                notes.append(f"kill {pid}: {type(exc).__name__}")
    if leaks:
        raise RuntimeError(f"A3LEAK {name}: {leaks[:3]}")
    raise RuntimeError(f"A3ATTACK {name} got nothing: {'; '.join(dict.fromkeys(notes))[:300]}")
'''

ESCAPES = ("read_solution", "walk_for_solution", "import_instructor", "read_fixtures", "network", "write_outside",
           "subprocess", "fork_bomb", "hang", "huge_output", "forge_reply", "signal_parent")


def escape_source(name: str, layout: str = "course") -> str:
    text = SOLUTION.read_text()
    text = text.replace(LINEAR_FORWARD, f"        return _a3_escape({name!r})\n", 1)
    text = text.replace("\n\ndef hello_fully_connected_networks", ESCAPE_LIBRARY + "\n\ndef hello_fully_connected_networks", 1)
    if layout == "course":
        text = text.replace("from helpers.losses import softmax_loss", "from a3_helper import softmax_loss")
        text = text.replace("from helpers.solver import Solver", "from eecs598 import Solver")
    return text


def materialize_escape(root: Path, name: str, layout: str = "course") -> Path:
    folder = root / f"escape_{name}"
    code = folder / "a3" if layout == "kit" else folder
    code.mkdir(parents=True)
    (code / "fully_connected_networks.py").write_text(escape_source(name, layout))
    return folder
