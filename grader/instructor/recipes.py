"""Making each case's payload (the inputs and stand-in tables sent to the student process) and
key (what the judge compares with, kept in the grader process) from its recipe.

Instructor side: keys come from the solution (``reference``), from the mistakes written out
(``mistakes``), and, for the hyperparameter search, from the grader's own training with torch
autograd. Public cases' payloads and keys are made once and stored as fixtures; hidden ones
are made at grading time.
"""
import collections.abc
import copy
import dataclasses
import hashlib
from typing import Any, Callable, Dict, Tuple

import torch

from ..cases import HIDDEN, Case
from . import mistakes
from .mistakes import detached
from .reference import load_reference

F32, F64 = torch.float32, torch.float64
DTYPES = {"torch.float32": F32, "torch.float64": F64}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, scale=1.0, dtype=F64):
    return (scale * torch.randn(*shape, generator=g, dtype=F64)).to(dtype)


def upcast(obj):
    """Floating tensors to float64 (the reference precision), recursively."""
    if isinstance(obj, torch.Tensor):
        return obj.double() if obj.is_floating_point() else obj
    if isinstance(obj, dict):
        return {k: upcast(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(upcast(v) for v in obj)
    return obj


# ------------------------------------------------------------------ problems

def linear_problem(seed, N, D, C, dtype=F64, w_scale=0.1, x_scale=1.0, reg=0.3, offset=0.0):
    """[W, X, y, reg]. With ``offset``, X's first column is 1 and W's first row about
    ``offset``, so every score of a row is near ``offset`` (the bias trick's constant feature)."""
    g = _gen(seed)
    W = _randn(g, D, C, scale=w_scale)
    X = _randn(g, N, D, scale=x_scale)
    y = torch.randint(C, (N,), generator=g)
    if offset:
        X[:, 0] = 1.0
        W[0] += offset
    return [W.to(dtype), X.to(dtype), y, reg]


def net_problem(params):
    """(params, X, y) of a net recipe: the toy data, or random parameters (biases too, so the
    ReLU mask matters) and data; with ``offset``, b2 about ``offset`` in every class."""
    dtype = DTYPES[params["dtype"]]
    if params["problem"] == "toy":
        from helpers.toy import get_toy_data

        X, y, net = get_toy_data(dtype=dtype)
        return net, X, y
    g, scale = _gen(params["seed"]), params["scale"]
    D, H, C, N = params["D"], params["H"], params["C"], params["N"]
    net = {"W1": _randn(g, D, H, scale=scale), "b1": _randn(g, H, scale=scale),
           "W2": _randn(g, H, C, scale=scale), "b2": _randn(g, C, scale=scale)}
    X = _randn(g, N, D, scale=params["x_scale"])
    y = torch.randint(C, (N,), generator=g)
    if params.get("offset"):
        net["b2"] = net["b2"] + params["offset"]
    return {k: v.to(dtype) for k, v in net.items()}, X.to(dtype), y


def _call(case, args, names, reference, **extra):
    """Payload and key of a case that calls one function and compares its result."""
    ref = load_reference()
    expected = detached(reference(ref, upcast(args)))
    payload = {"module": case.params["module"], "function": case.params["function"], "args": args,
               "arg_names": list(names), "dtype": case.dtype, **extra}
    if case.visibility == HIDDEN:  # made for every submission: worked out only if a failing case reads them
        return payload, {"expected": expected, "mistakes": Later(mistakes.results, case.check, expected,
                                                                 copy.deepcopy(upcast(args)))}
    return payload, {"expected": expected, "mistakes": mistakes.results(case.check, expected, upcast(args))}


class Later(collections.abc.Sequence):
    """A list made on first use (the known mistakes' results: only the diagnosis of a failing
    case reads them, and most cases pass); pickled as the plain list."""

    def __init__(self, make, *args):
        self._make, self._args, self._items = make, args, None

    def _list(self) -> list:
        if self._items is None:
            self._items = list(self._make(*self._args))
            self._make = self._args = None
        return self._items

    def __getitem__(self, index):
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self):
        return iter(self._list())

    def __reduce__(self):
        return list, (self._list(),)


def forward_table(params, X):
    """[(X, (scores, hidden))]: what the stand-in for nn_forward_pass answers while
    nn_forward_backward is graded, in the inputs' dtype."""
    scores, hidden = load_reference().tln.nn_forward_pass(params, X)
    return [(X, (scores.detach().clone(), hidden.detach().clone()))]


# ------------------------------------------------------------------ linear_classifier.py

def linear_call(case):
    p = case.params
    dtype = DTYPES[p["dtype"]]
    W, X, y, reg = linear_problem(p["seed"], p["N"], p["D"], p["C"], dtype, p.get("w_scale", 0.1),
                                  p.get("x_scale", 1.0), p.get("reg", 0.3), p.get("offset", 0.0))
    if p["reference"] == "predict_linear_classifier":
        return _call(case, [W, X], ("W", "X"), lambda ref, a: ref.lc.predict_linear_classifier(*a))
    return _call(case, [W, X, y, reg], ("W", "X", "y", "reg"), lambda ref, a: getattr(ref.lc, p["reference"])(*a))


def linear_numeric(case):
    args = linear_problem(7, 15, 6, 4, F64)
    g = _gen(8)
    coords = [[int(torch.randint(6, (1,), generator=g)), int(torch.randint(4, (1,), generator=g))] for _ in range(8)]
    return {"module": case.params["module"], "function": case.params["function"], "args": args, "coords": coords,
            "h": 1e-6, "key": None}, {}


def linear_loops(case):
    base, twice_n, twice_c = linear_problem(9, 8, 6, 4), linear_problem(9, 16, 6, 4), linear_problem(9, 8, 6, 8)
    return {"module": case.params["module"], "function": case.params["function"],
            "variants": [["N=8, C=4", base], ["N=16, C=4", twice_n], ["N=8, C=8", twice_c]]}, {}


def sample_batch(case):
    """Rows that carry their own index. Besides the three draws that check freshness and seeding,
    24 more draws check the spread: with the first two, 26 independent draws of 50 rows from 50,
    so a uniform sampler misses a given row with probability 0.98 ** 1300 (about 3.9e-12; without
    replacement never), any of the 50 below 1e-9 (2e-10 at most by the union bound),
    while an off-by-one that never draws the last (or the first) row always does. (A batch as
    large as the data leaves each row out of a draw with probability about 1/e: the fewest
    draws for the bound.)"""
    N = 50
    X = torch.stack([torch.arange(N, dtype=F64), 2.0 * torch.arange(N), -torch.arange(N, dtype=F64)], dim=1)
    return {"X": X, "y": torch.arange(N) % 7, "num_train": N, "batch_size": N, "seed": case.params["seed"],
            "spread_draws": 24}, {}


def _batches(g, num_train, batch_size, count):
    return [torch.randint(num_train, (batch_size,), generator=g).tolist() for _ in range(count)]


def train_linear(case):
    g = _gen(case.params["seed"])
    W, X, y = _randn(g, 6, 4), _randn(g, 30, 6), torch.randint(4, (30,), generator=g)
    return {"W": W, "X": X, "y": y, "lr": 0.1, "reg": 0.25, "num_iters": 5, "batch_size": 8, "seed": 12,
            "batches": _batches(g, 30, 8, 5)}, {}


def one_param_set(case):
    g = _gen(case.params["seed"])
    data = {"X_train": _randn(g, 40, 5), "y_train": torch.randint(3, (40,), generator=g),
            "X_val": _randn(g, 20, 5), "y_val": torch.randint(3, (20,), generator=g)}
    W = _randn(g, 5, 3)
    labels = {k: data[k].mm(W).argmax(1) for k in ("X_train", "X_val")}
    key = {f"{s}_acc": (labels[f"X_{s}"] == data[f"y_{s}"]).double().mean().item() for s in ("train", "val")}
    return {"data": data, "W": W, "labels": labels, "lr": 0.07, "reg": 0.02, "num_iters": 33}, key


def linear_classes(case):
    W, X, y, _ = linear_problem(case.params["seed"], 12, 5, 3, F64)
    return {"W": W, "X": X, "y": y, "reg": 0.1, "lr": 1e-3, "num_iters": 3, "batch_size": 4}, {}


# ------------------------------------------------------------------ two_layer_net.py

def net_call(case):
    p = case.params
    params, X, y = net_problem(p)
    if p["function"] == "nn_forward_pass":
        return _call(case, [params, X], ("params", "X"), lambda ref, a: ref.tln.nn_forward_pass(*a))
    table = forward_table(params, X)
    if p.get("without_y"):  # the docstring: without labels, the scores (with_y tells a stub from work)
        return _call(case, [params, X], ("params", "X"), lambda ref, a: ref.tln.nn_forward_backward(*a),
                     forward_table=table, with_y=[y, p["reg"]])

    def backward(ref, a):
        loss, grads = ref.tln.nn_forward_backward(*a)
        return loss, {k: grads[k] for k in PARAM_NAMES}
    return _call(case, [params, X, y, p["reg"]], ("params", "X", "y", "reg"), backward, forward_table=table)


def net_numeric(case):
    params, X, y = net_problem({"problem": "random", "seed": case.params["seed"], "N": 9, "D": 5, "H": 6, "C": 4,
                                "dtype": "torch.float64", "scale": 0.1, "x_scale": 1.0})
    g = _gen(case.params["seed"] + 1)
    coords = {key: [[int(torch.randint(s, (1,), generator=g)) for s in params[key].shape] for _ in range(2)]
              for key in PARAM_NAMES}
    key = case.params["key"]
    return {"module": "two_layer_net", "function": "nn_forward_backward", "args": [params, X, y, 0.1],
            "coords": coords[key], "h": 1e-6, "key": key}, {}


def _net(seed, N, D, H, C):
    return net_problem({"problem": "random", "seed": seed, "N": N, "D": D, "H": H, "C": C,
                        "dtype": "torch.float64", "scale": 0.1, "x_scale": 1.0})


def nn_train(case):
    params, X, y = _net(case.params["seed"], 40, 4, 3, 3)
    _, X_val, y_val = _net(case.params["seed"] + 1, 10, 4, 3, 3)
    g = _gen(case.params["seed"] + 2)
    return {"params": params, "X": X, "y": y, "X_val": X_val, "y_val": y_val, "lr": 0.5, "decay": 0.9,
            "reg": 0.01, "num_iters": 9, "batch_size": 10, "seed": 73, "batches": _batches(g, 40, 10, 9)}, {}


def nn_predict(case):
    shape = case.params.get("shape", (7, 4, 3, 3))  # N, D, H, C
    params, X, _ = _net(case.params["seed"], *shape)
    scores, hidden = (detached(t) for t in load_reference().tln.nn_forward_pass(params, X))
    expected = scores.argmax(dim=1)
    found = mistakes.results("nn_predict", expected, [params, X],
                             mistakes.label_mistakes(lambda args: scores))
    return {"params": params, "X": X, "scores": scores, "hidden": hidden}, {"expected": expected, "mistakes": found}


# ------------------------------------------------------------------ find_best_net

SEARCH_STEPS = 100  # full-batch gradient descent steps of the grader's own training
SEARCH_HIDDEN = 8


def _scores(params, X):
    hidden = (X.mm(params["W1"]) + params["b1"]).clamp(min=0)
    return hidden.mm(params["W2"]) + params["b2"], hidden


def _accuracy(params, X, y) -> float:
    return (_scores(params, X)[0].argmax(dim=1) == y).double().mean().item()


def grader_training(data, lr, hidden=SEARCH_HIDDEN, std=1e-4):
    """Where training a net with learning rate ``lr`` gets on ``data``: full-batch gradient
    descent on the softmax loss with torch autograd (the grader's own code, independent of the
    solution and of the student). Returns (initial params, trained params, losses, validation
    accuracy at the start, half way and the end)."""
    g = _gen(0)  # draws as TwoLayerNet's after torch.manual_seed(0): the stand-in's nets start here too
    D, C = data["X_train"].shape[1], int(data["y_train"].max()) + 1
    initial = {"W1": std * torch.randn(D, hidden, generator=g), "b1": torch.zeros(hidden),
               "W2": std * torch.randn(hidden, C, generator=g), "b2": torch.zeros(C)}
    params = {k: v.clone().requires_grad_() for k, v in initial.items()}
    losses, val = [], []
    for step in range(SEARCH_STEPS + 1):
        if step in (0, SEARCH_STEPS // 2, SEARCH_STEPS):
            with torch.no_grad():
                val.append(_accuracy(params, data["X_val"], data["y_val"]))
        if step == SEARCH_STEPS:
            break
        loss = torch.nn.functional.cross_entropy(_scores(params, data["X_train"])[0], data["y_train"])
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for value, grad in zip(params.values(), grads):
                value -= lr * grad
        losses.append(loss.item())
    return initial, {k: v.detach() for k, v in params.items()}, losses, val


def search_data(seed):
    """A 10-class problem of CIFAR-10's shape (3 * 32 * 32 inputs, pixel-like values), small
    enough to ship: class means plus noise, learnable but not perfectly."""
    g = _gen(seed)
    means = _randn(g, 10, 3072, scale=0.05, dtype=F32)

    def split(n):
        y = torch.arange(n) % 10
        return means[y] + _randn(g, n, 3072, scale=0.25, dtype=F32), y

    X_train, y_train = split(60)
    X_val, y_val = split(40)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def find_best_net(case):
    """The grid's middle learning rate learns the problem; the first never moves the net but its
    history is made to peak above the best net's final accuracy (so that ranking nets by the
    peak of their history picks it); the last (1e-9) never learns either. Keeping the first, the
    last or the peak therefore all fail, each with its own message. Every value of the grid is
    strictly positive, as a real search's are: a search that plots its results on log scales
    (the notebook's scatter of math.log10 of the learning rates and regs) runs."""
    data = search_data(case.params["seed"])
    good, peaky, still = 1.0, 1e-7, 1e-9
    initial, trained, losses, val = grader_training(data, good)
    states = {}
    for name, params in (("initial", initial), ("trained", trained)):
        tables = {split: _scores(params, data[split]) for split in ("X_train", "X_val")}
        states[name] = {"scores": {s: t[0].clone() for s, t in tables.items()},
                        "hidden": {s: t[1].clone() for s, t in tables.items()}}
    start = _accuracy(initial, data["X_val"], data["y_val"])
    best = _accuracy(trained, data["X_val"], data["y_val"])
    train_start = _accuracy(initial, data["X_train"], data["y_train"])
    peak = min(1.0, best + 0.1)
    flat = {"loss_history": [losses[0]] * 3, "train_acc_history": [train_start] * 3, "val_acc_history": [start] * 3}
    histories = {
        repr(good): {"state": "trained", "stat": {
            "loss_history": losses, "val_acc_history": val,
            "train_acc_history": [train_start, _accuracy(trained, data["X_train"], data["y_train"]),
                                  _accuracy(trained, data["X_train"], data["y_train"])]}},
        repr(peaky): {"state": "initial", "stat": {"loss_history": [losses[0], losses[-1], losses[0]],
                                                   "train_acc_history": [train_start, 1.0, train_start],
                                                   "val_acc_history": [start, peak, start]}},
        repr(still): {"state": "initial", "stat": flat},
        "untrained": {"state": "initial", "stat": flat},
    }
    grid = ([peaky, good, still], [SEARCH_HIDDEN], [1e-3], [1.0])
    payload = {"data": data, "grid": grid, "states": states, "histories": histories}
    key = {"best_state": "trained", "best_lr": good, "best_acc": best,
           "final": {repr(peaky): start, repr(good): best, repr(still): start},
           "peaks": {repr(peaky): peak, repr(good): max(val), repr(still): start},
           "untrained": start}  # where a net trained with a learning rate off the grid stays
    return payload, key


# ------------------------------------------------------------------ the given class

def net_class(case):
    _, X, y = _net(case.params["seed"], 6, 5, 4, 3)
    D, H, C, std = 5, 4, 3, 0.01
    g = _gen(0)  # TwoLayerNet's documented initialisation: torch.manual_seed(0), then these draws
    params = {"W1": std * torch.randn(D, H, generator=g, dtype=F64), "b1": torch.zeros(H, dtype=F64),
              "W2": std * torch.randn(H, C, generator=g, dtype=F64), "b2": torch.zeros(C, dtype=F64)}
    return ({"sizes": (D, H, C), "std": std, "X": X, "y": y, "reg": 0.05, "lr": 0.1, "decay": 0.9, "num_iters": 4,
             "batch_size": 3}, {"params": params})


RECIPES: Dict[str, Callable[[Case], Tuple[Any, Any]]] = {
    "linear_call": linear_call, "linear_numeric": linear_numeric, "linear_loops": linear_loops,
    "sample_batch": sample_batch, "train_linear": train_linear, "one_param_set": one_param_set,
    "linear_classes": linear_classes, "search": lambda case: (dict(case.params), {}),
    "net_call": net_call, "net_numeric": net_numeric, "nn_train": nn_train, "nn_predict": nn_predict,
    "find_best_net": find_best_net, "net_class": net_class,
}


def make(case: Case, salt: str = ""):
    """(payload, key) of one case; a hidden case's seed is mixed with ``salt`` (a digest of
    the submission: fresh inputs for every version of every submission, the same for the same
    files)."""
    if salt and case.visibility == HIDDEN and "seed" in case.params:
        digest = hashlib.sha256(f"{case.params['seed']}:{salt}".encode()).digest()
        case = dataclasses.replace(case, params={**case.params, "seed": int.from_bytes(digest[:4], "big") >> 1})
    return RECIPES[case.recipe](case)
