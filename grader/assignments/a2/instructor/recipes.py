"""Making each case's payload (the inputs and stand-in tables sent to the student process) and
answer (what the judge compares with, kept in the grader process) from its recipe.

Instructor side: answers come from the solution (``reference``), from the mistakes written out
(``mistakes``), and, for the hyperparameter search, from the grader's own training with torch
autograd. Public cases' payloads and answers are made once and stored as fixtures; hidden ones
are made at grading time.
"""
import functools
from typing import Any, Callable, Dict, Tuple

import torch

from ....cases import Case
from ....instructor import recipes as shared
from ....instructor.recipes import Later, LaterAfter, call_case, kept, per_submission, upcast
from ..catalogue.localise import FEW_ROWS, probe_inputs
from . import mistakes
from .mistakes import detached
from .reference import load_reference

SAME_OFFSET = f"first {FEW_ROWS} samples, every row at the same offset"

F32, F64 = torch.float32, torch.float64
DTYPES = {"torch.float32": F32, "torch.float64": F64}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, scale=1.0, dtype=F64):
    return (scale * torch.randn(*shape, generator=g, dtype=F64)).to(dtype)


# ------------------------------------------------------------------ problems

def _row_offsets(g, N, offset, uniform):
    """How far each row's scores are shifted: spread evenly from 0 to ``offset`` over the rows
    (in a random order), so that one max for the whole matrix leaves the lower rows' exp() at 0;
    with ``uniform``, every row at ``offset`` (the probe that tells one max for the whole
    matrix from no shift at all)."""
    order = torch.randperm(N, generator=g)
    if uniform:
        return torch.full((N,), float(offset), dtype=F64)
    return offset * torch.linspace(0.0, 1.0, N, dtype=F64)[order]


def linear_problem(seed, N, D, C, dtype=F64, w_scale=0.1, x_scale=1.0, reg=0.3, offset=0.0, uniform=False):
    """[W, X, y, reg]. With ``offset``, X's first column holds each row's offset (from 0 to
    ``offset``, see :func:`_row_offsets`) and W's first row is 1, so every score of row i is near
    row i's offset, within a few units of each other (the bias trick's constant feature, scaled
    per row); the weights, and so the regularization, stay small."""
    g = _gen(seed)
    W = _randn(g, D, C, scale=w_scale)
    X = _randn(g, N, D, scale=x_scale)
    y = torch.randint(C, (N,), generator=g)
    if offset:
        X[:, 0] = _row_offsets(g, N, offset, uniform)
        W[0] = 1.0
    return [W.to(dtype), X.to(dtype), y, reg]


def net_problem(params, uniform=False):
    """(params, X, y) of a net recipe: the toy data, or random parameters (biases too, so the
    ReLU mask matters) and data. With ``offset``, X's first column holds each row's offset (see
    :func:`_row_offsets`) and feeds hidden unit 0 alone (weight 1, bias 0), which adds it to
    every class's score (W2's first row is 1): rows far apart, each row's scores close."""
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
        X[:, 0] = _row_offsets(g, N, params["offset"], uniform)
        net["W1"][0], net["W1"][:, 0], net["b1"][0] = 0.0, 0.0, 0.0
        net["W1"][0, 0] = 1.0
        net["W2"][0] = 1.0
    return {k: v.to(dtype) for k, v in net.items()}, X.to(dtype), y


def _call(case, args, names, reference, probes=(), **extra):
    """Payload and answer of a case that calls one of A2's functions (see
    :func:`grader.instructor.recipes.call_case`), with A2's solution and mistakes."""
    return call_case(case, args, names, reference, ref=load_reference(), mistakes_of=mistakes.results,
                     probes=probes, **extra)


def forward_table(params, X):
    """[(X, (scores, hidden))]: what the stand-in for nn_forward_pass answers while
    nn_forward_backward is graded, in the inputs' dtype."""
    scores, hidden = load_reference().tln.nn_forward_pass(params, X)
    return [(X, (scores.detach().clone(), hidden.detach().clone()))]


# ------------------------------------------------------------------ linear_classifier.py

def linear_call(case):
    p = case.params
    dtype = DTYPES[p["dtype"]]
    settings = (p["seed"], p["N"], p["D"], p["C"], dtype, p.get("w_scale", 0.1), p.get("x_scale", 1.0),
                p.get("reg", 0.3), p.get("offset", 0.0))
    W, X, y, reg = linear_problem(*settings)
    if p["reference"] == "predict_linear_classifier":
        return _call(case, [W, X], ("W", "X"), lambda ref, a: ref.lc.predict_linear_classifier(*a))
    probes = probe_inputs([W, X, y, reg])
    if p.get("offset"):
        W_u, X_u, y_u, reg_u = linear_problem(*settings, uniform=True)
        probes.append((SAME_OFFSET, [W_u, X_u[:FEW_ROWS].clone(), y_u[:FEW_ROWS].clone(), reg_u]))
    counted = {"count_lines": True} if p["function"].endswith("_vectorized") else {}
    return _call(case, [W, X, y, reg], ("W", "X", "y", "reg"), lambda ref, a: getattr(ref.lc, p["reference"])(*a),
                 probes, **counted)


def _form_shape(g, low, spread):
    return int(low + torch.randint(spread, (1,), generator=g))


def _linear_reference(case, args):
    """A loss function's expected (loss, dW) on ``args``, and its known mistakes' results (for
    inputs made for one submission, worked out only if a failing case reads them)."""
    expected = detached(getattr(load_reference().lc, case.params["function"])(*upcast(args)))
    return {"expected": expected, "mistakes": _mistakes(case.function, expected, args, per_submission(case))}


def _mistakes(check, expected, args, later):
    if later:
        return Later(mistakes.results, check, expected, kept(upcast(args)))
    return mistakes.results(check, expected, upcast(args))


def _losses(answer):
    """The loss, and each known mistake's loss, of a loss function's answer (the mistakes'
    made only when read past the right one, where the answer's mistakes are made only when read)."""
    right = float(answer["expected"][0])
    if isinstance(answer["mistakes"], Later):
        return LaterAfter(right, _mistakes_losses, answer["mistakes"])
    return [right] + _mistakes_losses(answer["mistakes"])


def _mistakes_losses(found):
    return [float(mistake[2][0]) for mistake in found]  # (label, text, result, ...)


def linear_numeric(case):
    """Shapes, values and entries drawn from the seed (salted with the submission's content when
    grading with hidden cases: inputs its code cannot recognise); the answer holds the loss there
    and the known mistakes' losses, so the probe's answers are judged as values too."""
    g = _gen(case.params["seed"])
    N, D, C = _form_shape(g, 10, 10), _form_shape(g, 4, 5), _form_shape(g, 3, 4)
    args = linear_problem(case.params["seed"] + 1, N, D, C, F64)
    coords = [[int(torch.randint(D, (1,), generator=g)), int(torch.randint(C, (1,), generator=g))] for _ in range(8)]
    answer = _linear_reference(case, args)
    dW = answer["expected"][1]  # the reference gradient there: a right dW keeps its case when only the loss is wrong
    return ({"module": case.params["module"], "function": case.params["function"], "args": args, "coords": coords,
             "h": 1e-6, "wrt": None}, {"losses": _losses(answer), "gradient": [float(dW[tuple(ix)]) for ix in coords]})


def linear_loops(case):
    """Every dimension grows (N, D and C, each doubled alone), from shapes and values drawn from
    the seed (salted as for the numeric check); the answer holds each run's expected outputs and
    the known mistakes' results, so that what the runs return is judged too."""
    g, seed = _gen(case.params["seed"]), case.params["seed"]
    N, D, C = _form_shape(g, 6, 6), _form_shape(g, 4, 4), _form_shape(g, 3, 3)
    sizes = [(N, D, C), (2 * N, D, C), (N, 2 * D, C), (N, D, 2 * C)]
    variants = [[f"N={n}, D={d}, C={c}", linear_problem(seed + 1 + k, n, d, c)] for k, (n, d, c) in enumerate(sizes)]
    answer = {"runs": [_linear_reference(case, args) for _, args in variants]}
    return {"module": case.params["module"], "function": case.params["function"], "variants": variants}, answer


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
    answer = {f"{s}_acc": (labels[f"X_{s}"] == data[f"y_{s}"]).double().mean().item() for s in ("train", "val")}
    return {"data": data, "W": W, "labels": labels, "lr": 0.07, "reg": 0.02, "num_iters": 33}, answer


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
    probes = probe_inputs([params, X, y, p["reg"]])
    table += forward_table(params, X[:FEW_ROWS].clone()) + forward_table(params, X[:1].clone())
    if p.get("offset"):
        same_params, X_uniform, _ = net_problem(p, uniform=True)
        assert all(torch.equal(same_params[k], params[k]) for k in params)
        X_uniform = X_uniform[:FEW_ROWS].clone()
        probes.append((SAME_OFFSET, [params, X_uniform, y[:FEW_ROWS].clone(), p["reg"]]))
        table += forward_table(params, X_uniform)
    if p.get("without_y"):  # the docstring: without labels, the scores (with_y tells a stub from work)
        return _call(case, [params, X], ("params", "X"), lambda ref, a: ref.tln.nn_forward_backward(*a),
                     forward_table=table, with_y=[y, p["reg"]])

    def backward(ref, a):
        loss, grads = ref.tln.nn_forward_backward(*a)
        return loss, {k: grads[k] for k in PARAM_NAMES}
    return _call(case, [params, X, y, p["reg"]], ("params", "X", "y", "reg"), backward, probes, forward_table=table)


def net_numeric(case):
    """One problem for the four parameters' checks (one seed): made, with its answer, once."""
    payload, losses, grads = _net_numeric_problem(case.params["seed"], per_submission(case))
    wrt = case.params["wrt"]
    coords = payload["coords"][wrt]
    # the reference gradient there: a right gradient keeps its case when only the loss is wrong
    return ({**payload, "coords": coords, "wrt": wrt},
            {"losses": losses, "gradient": [float(grads[wrt][tuple(ix)]) for ix in coords]})


@functools.lru_cache(maxsize=8)
def _net_numeric_problem(seed, later=False):
    g = _gen(seed + 2)
    N, D, H, C = _form_shape(g, 7, 6), _form_shape(g, 4, 4), _form_shape(g, 4, 5), _form_shape(g, 3, 4)
    params, X, y = net_problem({"problem": "random", "seed": seed, "N": N, "D": D, "H": H, "C": C,
                                "dtype": "torch.float64", "scale": 0.1, "x_scale": 1.0})
    g = _gen(seed + 1)
    coords = {wrt: [[int(torch.randint(s, (1,), generator=g)) for s in params[wrt].shape] for _ in range(2)]
              for wrt in PARAM_NAMES}
    args = [params, X, y, 0.1]
    expected = detached(load_reference().tln.nn_forward_backward(*upcast(args)))
    found = _mistakes("nn_forward_backward", expected, args, later)
    return ({"module": "two_layer_net", "function": "nn_forward_backward", "args": args, "coords": coords, "h": 1e-6},
            _losses({"expected": expected, "mistakes": found}), expected[1])


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
    accuracy at the start, half way and the end, params half way)."""
    g = _gen(0)  # draws as TwoLayerNet's after torch.manual_seed(0): the stand-in's nets start here too
    D, C = data["X_train"].shape[1], int(data["y_train"].max()) + 1
    initial = {"W1": std * torch.randn(D, hidden, generator=g), "b1": torch.zeros(hidden),
               "W2": std * torch.randn(hidden, C, generator=g), "b2": torch.zeros(C)}
    params = {k: v.clone().requires_grad_() for k, v in initial.items()}
    losses, val, half = [], [], None
    for step in range(SEARCH_STEPS + 1):
        if step in (0, SEARCH_STEPS // 2, SEARCH_STEPS):
            with torch.no_grad():
                val.append(_accuracy(params, data["X_val"], data["y_val"]))
        if step == SEARCH_STEPS // 2:
            half = {k: v.detach().clone() for k, v in params.items()}
        if step == SEARCH_STEPS:
            break
        loss = torch.nn.functional.cross_entropy(_scores(params, data["X_train"])[0], data["y_train"])
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for value, grad in zip(params.values(), grads):
                value -= lr * grad
        losses.append(loss.item())
    return initial, {k: v.detach() for k, v in params.items()}, losses, val, half


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


def _lr_decay(lr, decay) -> str:
    """How the search case's tables name a net trained with one learning rate and one decay
    (tables name most nets by their learning rate alone)."""
    return f"{lr!r} {decay!r}"


def find_best_net(case):
    """The grid's middle learning rate learns the problem; the first never moves the net but its
    history is made to peak above the best net's final accuracy (so that ranking nets by the
    peak of their history picks it); the last (1e-9) never learns either. Of the two decays, the
    first lets the middle learning rate learn all the way; with the last (a rate that shrinks
    fast) the net gets only half way, still ahead of every other net trained with that decay: a
    search that compares only the last decay's nets (its evaluation outside the decay loop)
    keeps it. Keeping the first, the last, the peak or the last decay's best therefore all fail,
    each with its own message. Every value of the grid is strictly positive, as a real search's
    are: a search that plots its results on log scales (the notebook's scatter of math.log10 of
    the learning rates and regs) runs."""
    data = search_data(case.params["seed"])
    good, peaky, still = 1.0, 1e-7, 1e-9
    decays = [0.9, 0.1]
    initial, trained, losses, val, half = grader_training(data, good)
    states = {}
    for name, params in (("initial", initial), ("half", half), ("trained", trained)):
        tables = {split: _scores(params, data[split]) for split in ("X_train", "X_val")}
        states[name] = {"scores": {s: t[0].clone() for s, t in tables.items()},
                        "hidden": {s: t[1].clone() for s, t in tables.items()}}
    start = _accuracy(initial, data["X_val"], data["y_val"])
    best = _accuracy(trained, data["X_val"], data["y_val"])
    middle = _accuracy(half, data["X_val"], data["y_val"])
    train_start = _accuracy(initial, data["X_train"], data["y_train"])
    peak = min(1.0, best + 0.1)
    flat = {"loss_history": [losses[0]] * 3, "train_acc_history": [train_start] * 3, "val_acc_history": [start] * 3}
    half_way = SEARCH_STEPS // 2
    histories = {
        repr(good): {"state": "trained", "stat": {
            "loss_history": losses, "val_acc_history": val,
            "train_acc_history": [train_start, _accuracy(trained, data["X_train"], data["y_train"]),
                                  _accuracy(trained, data["X_train"], data["y_train"])]}},
        _lr_decay(good, decays[-1]): {"state": "half", "stat": {
            "loss_history": losses[:half_way] + [losses[half_way - 1]] * (SEARCH_STEPS - half_way),
            "val_acc_history": [start, middle, middle],
            "train_acc_history": [train_start, _accuracy(half, data["X_train"], data["y_train"]),
                                  _accuracy(half, data["X_train"], data["y_train"])]}},
        repr(peaky): {"state": "initial", "stat": {"loss_history": [losses[0], losses[-1], losses[0]],
                                                   "train_acc_history": [train_start, 1.0, train_start],
                                                   "val_acc_history": [start, peak, start]}},
        repr(still): {"state": "initial", "stat": flat},
        "untrained": {"state": "initial", "stat": flat},
    }
    grid = ([peaky, good, still], [SEARCH_HIDDEN], [1e-3], decays)
    payload = {"data": data, "grid": grid, "states": states, "histories": histories}
    answer = {"best_state": "trained", "best_lr": good, "best_decay": decays[0], "best_acc": best,
           "final": {repr(peaky): start, repr(good): best, repr(still): start, _lr_decay(good, decays[-1]): middle},
           "peaks": {repr(peaky): peak, repr(good): max(val), repr(still): start,
                     _lr_decay(good, decays[-1]): middle},
           "untrained": start}  # where a net trained with a learning rate off the grid stays
    return payload, answer


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
    """(payload, answer) of one of A2's cases; the seed of a hidden case, or of a public case marked
    ``fresh`` (the numeric gradient and no-loop cases), is mixed with ``salt`` (a digest of the submission: fresh inputs for
    every version of every submission, the same for the same files)."""
    return shared.make(case, RECIPES, salt)
