"""Assignment 3's recipes: each case's payload (inputs, stand-in tables) and answer (expected values,
known mistakes' results), made from the solution (``reference``) and the mistakes written out.
Public cases' are stored as fixtures; hidden ones are made at grading time with salted seeds."""
import copy
from typing import Any, Callable, Dict, Tuple

import torch

from ....cases import HIDDEN, Case
from ....instructor import recipes as shared
from ....instructor.mistakes import detached
from ....instructor.recipes import Later, kept, upcast
from . import mistakes
from .reference import load_reference

F32, F64 = torch.float32, torch.float64
DTYPES = {"torch.float32": F32, "torch.float64": F64}
MODULE = "fully_connected_networks"


def _gen(seed):
    return torch.Generator().manual_seed(int(seed))


def _randn(g, *shape, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=F64)


def _mistakes(case, expected, args):
    if case.visibility == HIDDEN:  # made for every submission: worked out only if a failing case reads them
        return Later(mistakes.results, case.function, expected, kept(upcast(args)))
    return mistakes.results(case.function, expected, upcast(args))


def _layer_payload(case, args, names, pick, expected):
    return ({"module": MODULE, "function": case.function, "args": args, "arg_names": list(names),
             "dtype": case.dtype, "pick": pick},
            {"expected": expected, "mistakes": _mistakes(case, expected, args)})


def layer(case):
    """A layer's forward or backward on random inputs (x of shape (N, d_1, ..., d_k))."""
    p, ref = case.params, load_reference()
    g, dtype = _gen(p["seed"]), DTYPES[p["dtype"]]
    shape = tuple(p["shape"])  # (N, d_1, ..., d_k)
    N, D, M = shape[0], int(torch.tensor(shape[1:]).prod()), p.get("M", 5)
    x = _randn(g, *shape, scale=p.get("scale", 1.0))
    if case.function.startswith("Linear."):
        w, b = _randn(g, D, M, scale=0.5), _randn(g, M, scale=0.5)
        if case.function == "Linear.forward":
            args = [x.to(dtype), w.to(dtype), b.to(dtype)]
            out, _ = ref.Linear.forward(*upcast(args))
            return _layer_payload(case, args, ("x", "w", "b"), [0], (detached(out),))
        dout = _randn(g, N, M)
        args = [dout.to(dtype), (x.to(dtype), w.to(dtype), b.to(dtype))]
        expected = detached(ref.Linear.backward(*upcast(args)))
        return _layer_payload(case, args, ("dout", "cache"), [0, 1, 2], tuple(expected))
    if case.function == "ReLU.forward":
        args = [x.to(dtype)]
        out, _ = ref.ReLU.forward(*upcast(args))
        return _layer_payload(case, args, ("x",), [0], (detached(out),))
    dout = _randn(g, *shape)
    args = [dout.to(dtype), x.to(dtype)]
    return _layer_payload(case, args, ("dout", "cache"), None, (detached(ref.ReLU.backward(*upcast(args))),))


def layer_numeric(case):
    """Centred differences of the student's own forward: inputs and entries from the seed; the answer
    holds the reference gradient there (a right backward keeps its case whatever the forward)."""
    p, ref = case.params, load_reference()
    g = _gen(p["seed"])
    N, d1, d2, M = 3 + int(torch.randint(4, (1,), generator=g)), 2, 3, 4
    x = _randn(g, N, d1, d2)
    layer_name = p["layer"]
    if layer_name == "Linear":
        inputs = [x, _randn(g, d1 * d2, M, scale=0.5), _randn(g, M, scale=0.5)]
        dout = _randn(g, N, M)
        out, cache = ref.Linear.forward(*inputs)
        grads = ref.Linear.backward(dout, cache)
    else:
        inputs = [x + 0.1 * torch.sign(x)]  # no input within a step of the kink at 0
        dout = _randn(g, *x.shape)
        out, cache = ref.ReLU.forward(*inputs)
        grads = (ref.ReLU.backward(dout, cache),)
    which = p["which"]
    target = inputs[which]
    coords = [[int(torch.randint(s, (1,), generator=g)) for s in target.shape] for _ in range(4)]
    payload = {"forward": f"{layer_name}.forward", "backward": f"{layer_name}.backward", "inputs": inputs,
               "dout": dout, "which": which, "coords": coords, "h": 1e-6, "wrt": p["name"]}
    return payload, {"gradient": [float(grads[which][tuple(ix)]) for ix in coords]}


# ------------------------------------------------------------------ networks

def net_problem(p):
    """(params, X, y, dims) of a network case: random weights and biases (so every ReLU mask
    matters) for the layer sizes ``dims`` = [D, H1, ..., C]."""
    g = _gen(p["seed"])
    dims = list(p["dims"])
    params = {}
    for i in range(len(dims) - 1):
        params[f"W{i + 1}"] = _randn(g, dims[i], dims[i + 1], scale=p.get("scale", 0.3))
        params[f"b{i + 1}"] = _randn(g, dims[i + 1], scale=0.1)
    shape = (p["N"],) + tuple(p.get("x_shape", (dims[0],)))
    X = _randn(g, *shape)
    y = torch.randint(dims[-1], (p["N"],), generator=g)
    return params, X, y, dims


def _masks(p, dims, N):
    g = _gen(p["seed"] + 7)
    q = p.get("dropout", 0.0)
    return [(torch.rand(N, h, generator=g, dtype=F64) >= q).to(F64) / (1 - q) for h in dims[1:-1]]


def _tables(params, X, y, dims, masks, dtype):
    """The stand-ins' tables for one network problem, with the true answers of every layer (in
    ``dtype``, the case's), the known tensors by name, and the reference's scores, loss and
    grads (float64) computed through the same tables."""
    ref = load_reference()
    L = len(dims) - 1
    cast = lambda t: t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t  # noqa: E731
    P = {k: cast(v) for k, v in params.items()}
    entries = {name: [] for name in ("Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward",
                                     "Linear_ReLU.forward", "Linear_ReLU.backward", "Dropout.forward",
                                     "Dropout.backward", "softmax_loss")}
    known = [("X", cast(X))]
    h = cast(X)
    saved = []
    for i in range(1, L):
        W, b = P[f"W{i}"], P[f"b{i}"]
        a, _ = ref.Linear.forward(h, W, b)
        r, _ = ref.ReLU.forward(a)
        entries["Linear.forward"].append(((h, W, b), a))
        entries["ReLU.forward"].append(((a,), r))
        entries["Linear_ReLU.forward"].append(((h, W, b), (r, a)))
        known += [(f"the output of layer {i}'s Linear, before its ReLU: the ReLU is skipped", a),
                  (f"the output of layer {i}'s ReLU" + (", before its dropout: the dropout is skipped" if masks else ""), r)]
        out = r
        if masks:
            mask = cast(masks[i - 1])
            out = r * mask
            entries["Dropout.forward"].append(((r,), (out, mask)))
            known.append((f"the output of layer {i}'s dropout", out))
        saved.append((h, W, b, a, r))
        h = out
    W, b = P[f"W{L}"], P[f"b{L}"]
    scores, _ = ref.Linear.forward(h, W, b)
    entries["Linear.forward"].append(((h, W, b), scores))
    known.append(("the scores", scores))
    loss, dscores = ref.softmax_loss(scores, y)
    entries["softmax_loss"].append(((scores,), (loss, dscores)))
    grads = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = ref.Linear.backward(dscores, (h, W, b))
    entries["Linear.backward"].append(((dscores, h, W), (dh, grads[f"W{L}"], grads[f"b{L}"])))
    known.append(("the gradient of the scores", dscores))
    for i in range(L - 1, 0, -1):
        hin, Wi, bi, a, r = saved[i - 1]
        if masks:
            mask = cast(masks[i - 1])
            dr = dh * mask
            entries["Dropout.backward"].append(((dh, mask), dr))
            known.append((f"the gradient at layer {i}'s dropout output", dh))
        else:
            dr = dh
        da = ref.ReLU.backward(dr, a)
        entries["ReLU.backward"].append(((dr, a), da))
        dx, dW, db = ref.Linear.backward(da, (hin, Wi, bi))
        entries["Linear.backward"].append(((da, hin, Wi), (dx, dW, db)))
        entries["Linear_ReLU.backward"].append(((dr, hin, Wi), (dx, dW, db)))
        known.append((f"the gradient at layer {i}'s ReLU output", dr))
        grads[f"W{i}"], grads[f"b{i}"] = dW, db
        dh = dx
    tables = {k: [(list(keys), detached(answer)) for keys, answer in v] for k, v in entries.items()}
    return tables, [(label, detached(t)) for label, t in known], detached(scores), float(loss), detached(grads)


def net_loss(case):
    """TwoLayerNet.loss or FullyConnectedNet.loss through stand-in layers: the expected loss is
    the tables' data loss plus the template's regularization; grads likewise."""
    p = case.params
    dtype = DTYPES[p["dtype"]]
    params, X, y, dims = net_problem(p)
    masks = _masks(p, dims, p["N"]) if p.get("dropout") else []
    tables, known, scores, data_loss, data_grads = _tables(params, X, y, dims, masks, dtype)
    reg = p.get("reg", 0.0)
    cls = p["class"]
    half = cls == "FullyConnectedNet"
    factor = 0.5 if half else 1.0
    P = upcast({k: v.to(dtype) for k, v in params.items()})
    R = sum(float((P[k] ** 2).sum()) for k in P if k.startswith("W"))
    grads = {k: upcast(data_grads[k]) + (2 * factor * reg * P[k] if k.startswith("W") else 0) for k in P}
    order = [k for i in range(1, len(dims)) for k in (f"W{i}", f"b{i}")]
    grads = {k: grads[k] for k in order}
    if cls == "TwoLayerNet":
        init_args, init = [], {"input_dim": dims[0], "hidden_dim": dims[1], "num_classes": dims[2],
                               "weight_scale": 1e-3, "reg": reg}
        attributes = {"reg": reg}
    else:
        init_args = [list(dims[1:-1])]
        init = {"input_dim": dims[0], "num_classes": dims[-1], "dropout": p.get("dropout", 0.0), "reg": reg,
                "weight_scale": 1e-2, "seed": 0 if p.get("dropout") else None}
        attributes = {"reg": reg, "num_layers": len(dims) - 1, "use_dropout": bool(p.get("dropout")),
                      "dtype": dtype, "dropout_param": ({"mode": "train", "p": p["dropout"], "seed": 0}
                                                        if p.get("dropout") else {})}
    payload = {"class": cls, "init_args": init_args, "init": init, "attributes": attributes, "dtype": dtype,
               "params": {k: v.to(dtype) for k, v in params.items()}, "X": X.to(dtype), "tables": tables,
               "known": known, "y": None if p.get("without_y") else y}
    if p.get("without_y"):
        # scores at test time: dropout is off, so the tables hold the scores without the masks
        if masks:
            tables2, known2, scores, _, _ = _tables(params, X, y, dims, [], dtype)
            payload["tables"] = tables2
        return payload, {"expected": (upcast(scores),), "mistakes": []}
    expected = (torch.tensor(data_loss + factor * reg * R, dtype=F64), grads)
    args = [P, reg]
    answer = {"expected": expected, "mistakes": _mistakes(case, expected, args)}
    if half:  # the template's other convention (TwoLayerNet's, no 1/2), written by most students: accepted
        other = mistakes._reg_variant(True, "full")(expected, args)
        answer["accepted"] = [("without the factor 1/2 (TwoLayerNet's convention)", other,
                            mistakes.results(f"{case.function}, without 1/2", other, upcast(args)))]
    return payload, answer


def net_init(case):
    p = case.params
    dtype = DTYPES[p["dtype"]]
    dims = list(p["dims"])
    if p["class"] == "TwoLayerNet":
        init_args, init = [], {"input_dim": dims[0], "hidden_dim": dims[1], "num_classes": dims[2],
                               "weight_scale": p["weight_scale"], "reg": p["reg"]}
    else:
        init_args = [list(dims[1:-1])]
        init = {"input_dim": dims[0], "num_classes": dims[-1], "weight_scale": p["weight_scale"], "reg": p["reg"]}
    return ({"class": p["class"], "init_args": init_args, "init": init, "dtype": dtype, "seed": p["seed"]},
            {"dims": dims, "weight_scale": p["weight_scale"], "reg": p["reg"], "dtype": str(dtype)})


def linear_relu_given(case):
    """One linear-ReLU layer's tables (Linear and ReLU, forward and backward) and the answers."""
    ref = load_reference()
    g = _gen(case.params["seed"])
    x, w, b = _randn(g, 4, 2, 3), _randn(g, 6, 5, scale=0.5), _randn(g, 5, scale=0.5)
    dout = _randn(g, 4, 5)
    a, _ = ref.Linear.forward(x, w, b)
    r, _ = ref.ReLU.forward(a)
    da = ref.ReLU.backward(dout, a)
    grads = ref.Linear.backward(da, (x, w, b))
    tables = {"Linear.forward": [([x, w, b], a)], "ReLU.forward": [([a], r)], "ReLU.backward": [([dout, a], da)],
              "Linear.backward": [([da, x, w], detached(grads))]}
    return {"x": x, "w": w, "b": b, "dout": dout, "tables": tables}, {"out": r, "grads": detached(grads)}


# ------------------------------------------------------------------ update rules

def _steps(rule, w, dws, config):
    out = []
    config = copy.deepcopy(config)
    for dw in dws:
        w, config = rule(w.clone(), dw, config)
        state = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in config.items()}
        out.append((w.clone(), state))
    return out


def optimizer(case):
    """Steps of an update rule from the case's config; the answer holds every step's next_w and
    state from the solution, and the same for each known mistake's rule and each accepted form."""
    p, ref = case.params, load_reference()
    g = _gen(p["seed"])
    shape = tuple(p["shape"])
    w = _randn(g, *shape)
    dws = [_randn(g, *shape, scale=s) for s in p["grad_scales"]]
    config = p.get("config")
    config = dict(config) if config is not None else None
    dtype = DTYPES[p["dtype"]]
    rule = getattr(ref, case.function)
    expected = _steps(rule, w, dws, config)
    found = [(label, text, _steps(variant, w, dws, config))
             for label, text, variant in mistakes.OPTIMIZER_RULES.get(case.function, [])]
    accepted = [(label, _steps(variant, w, dws, config)) for label, variant in mistakes.ACCEPTED_RULES.get(case.function, [])]
    payload = {"function": case.function, "w": w.to(dtype), "dws": [d.to(dtype) for d in dws], "config": config,
               "dtype": dtype}
    return payload, {"expected": expected, "mistakes": found, "accepted": accepted, "state": p["state"]}


# ------------------------------------------------------------------ dropout

def dropout_forward(case):
    p = case.params
    g = _gen(p["seed"])
    dtype = DTYPES[p["dtype"]]
    x = (_randn(g, *p["shape"]) + 0.5).to(dtype)
    x[x == 0] = 1.0
    q = p["p"]
    params = [("train", {"mode": "train", "p": q, "seed": 17}), ("again", {"mode": "train", "p": q, "seed": 17}),
              ("other seed", {"mode": "train", "p": q, "seed": 18}), ("test", {"mode": "test", "p": q})]
    return {"x": x, "params": params}, {"p": q}


def dropout_backward(case):
    p = case.params
    g = _gen(p["seed"])
    dtype = DTYPES[p["dtype"]]
    x = (_randn(g, *p["shape"]) + 0.5).to(dtype)
    x[x == 0] = 1.0
    q = p["p"]
    mask = ((torch.rand(*p["shape"], generator=g, dtype=F64) >= q).to(F64) / (1 - q)).to(dtype)
    dout = _randn(g, *p["shape"]).to(dtype)
    return {"x": x, "dout": dout, "param": {"mode": "train", "p": q, "seed": 23}, "mask": mask}, {"p": q}


# ------------------------------------------------------------------ the Solver and the searches

def solver_instance(case):
    g = _gen(case.params["seed"])
    data = {"X_train": _randn(g, 20, 3 * 32 * 32).float(), "y_train": torch.randint(10, (20,), generator=g),
            "X_val": _randn(g, 10, 3 * 32 * 32).float(), "y_val": torch.randint(10, (10,), generator=g)}
    return {"data": data, "dtype": torch.float32}, {}


def search_values(case):
    return {"function": case.function}, {}


RECIPES: Dict[str, Callable[[Case], Tuple[Any, Any]]] = {
    "a3_layer": layer, "a3_layer_numeric": layer_numeric, "a3_net_loss": net_loss, "a3_net_init": net_init,
    "a3_optimizer": optimizer, "a3_dropout_forward": dropout_forward,
    "a3_dropout_backward": dropout_backward, "a3_linear_relu_given": linear_relu_given, "a3_solver_instance": solver_instance, "a3_search": search_values,
}


def make(case: Case, salt: str = ""):
    """(payload, answer) of one of A3's cases, salted as every assignment's are (``shared.make``)."""
    return shared.make(case, RECIPES, salt)
