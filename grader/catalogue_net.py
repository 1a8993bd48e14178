"""Cases for ``two_layer_net.py``: inputs, expected values and judges side by side."""
import math
from typing import List

import torch

from helpers.toy import get_toy_data

from .cases import HIDDEN, PUBLIC, Case, Verdict, failed, passed
from .catalogue_linear import _gen, _randn, judge_search
from .catalogue_models import nn_scores, predict_with
from .compare import compare
from .judges import error_verdict, judge_numeric_grad, judge_values, outcome_failure, upcast

F32, F64 = torch.float32, torch.float64
MODULE = "two_layer_net"
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def net_problem(seed, N, D, H, C, dtype=F64, scale=0.1, x_scale=1.0):
    """Random parameters (biases too, so the ReLU mask matters) and data."""
    g = _gen(seed)
    params = {"W1": _randn(g, D, H, scale=scale, dtype=dtype), "b1": _randn(g, H, scale=scale, dtype=dtype),
              "W2": _randn(g, H, C, scale=scale, dtype=dtype), "b2": _randn(g, C, scale=scale, dtype=dtype)}
    X = _randn(g, N, D, scale=x_scale, dtype=dtype)
    y = torch.randint(C, (N,), generator=g)
    return params, X, y


def toy_problem(dtype=F64):
    X, y, params = get_toy_data(dtype=dtype)
    return params, X, y


def _call(function, args, names, dtype):
    return {"module": MODULE, "function": function, "args": args, "arg_names": list(names), "dtype": dtype}


# ------------------------------------------------------------------ forward and backward

def build_forward(problem, dtype):
    def build():
        params, X, _ = problem()
        return _call("nn_forward_pass", [params, X], ("params", "X"), dtype)
    return build


def expect_forward(ref, payload):
    scores, hidden = ref.tln.nn_forward_pass(*upcast(payload["args"]))
    return scores.clone(), hidden.clone()


def build_backward(problem, dtype, reg, labels=True):
    def build():
        params, X, y = problem()
        args = [params, X, y, reg] if labels else [params, X]
        return _call("nn_forward_backward", args, ("params", "X", "y", "reg")[:len(args)], dtype)
    return build


def expect_backward(ref, payload):
    out = ref.tln.nn_forward_backward(*upcast(payload["args"]))
    if isinstance(out, torch.Tensor):
        return out.clone()
    loss, grads = out
    return loss.clone(), {k: grads[k].clone() for k in PARAM_NAMES}


def _p(seed, N, D, H, C, dtype=F64, scale=0.1, x_scale=1.0):
    return lambda: net_problem(seed, N, D, H, C, dtype, scale, x_scale)


FORWARD_SPEC = [
    ("toy data (float64)", PUBLIC, lambda: toy_problem(F64), F64, 2),
    ("float32, N=9 D=6 H=8 C=4", PUBLIC, _p(51, 9, 6, 8, 4, F32), F32, 1),
    # BEGIN HIDDEN
    ("hidden float64, fresh shapes", HIDDEN, _p(151, 17, 11, 13, 6), F64, 1.5),
    ("hidden float32, fresh shapes", HIDDEN, _p(152, 20, 9, 7, 10, F32, 0.3, 2.0), F32, 1.5),
    # END HIDDEN
]
BACKWARD_SPEC = [
    ("toy data, reg=0.05: loss about log(3) and gradients", PUBLIC, lambda: toy_problem(F64), F64, 0.05, 2),
    ("float64, N=10 D=5 H=7 C=3, reg=0.2", PUBLIC, _p(61, 10, 5, 7, 3), F64, 0.2, 1.5),
    ("float32, N=12 D=8 H=6 C=5, reg=0.1", PUBLIC, _p(62, 12, 8, 6, 5, F32), F32, 0.1, 1),
    ("float64, scores near 1e4 (stability)", PUBLIC, _p(63, 8, 6, 5, 4, F64, 1.0, 1e3), F64, 0.01, 1),
    # BEGIN HIDDEN
    ("hidden float64, fresh shapes", HIDDEN, _p(161, 21, 13, 9, 7, F64, 0.2), F64, 0.15, 2.5),
    ("hidden float64, scores near 1e4 (stability)", HIDDEN, _p(162, 15, 7, 11, 5, F64, 1.0, 2e3), F64, 0.05, 2.5),
    # END HIDDEN
]


def _forward_cases() -> List[Case]:
    judge = judge_values(names=("scores", "hidden"), rules=("no_relu",))
    return [Case("nn_forward_pass", name, pts, vis, "call", build_forward(problem, dtype), judge,
                 expect_forward, dtype) for name, vis, problem, dtype, pts in FORWARD_SPEC]


def _backward_cases() -> List[Case]:
    judge = judge_values(names=("loss", "grads"))
    cases = [Case("nn_forward_backward", name, pts, vis, "call", build_backward(problem, dtype, reg), judge,
                  expect_backward, dtype, meta={"reg": reg}) for name, vis, problem, dtype, reg, pts in BACKWARD_SPEC]
    cases.append(Case("nn_forward_backward", "without labels it returns the scores", 0.5, PUBLIC, "call",
                      build_backward(_p(64, 6, 5, 4, 3), F64, 0.0, labels=False), judge_values(), expect_backward, F64))

    def build_numeric():
        params, X, y = net_problem(65, 9, 5, 6, 4)
        g = _gen(66)
        coords = []
        for key in PARAM_NAMES:
            for _ in range(2):
                coords.append((key, [int(torch.randint(s, (1,), generator=g)) for s in params[key].shape]))
        return {"module": MODULE, "function": "nn_forward_backward", "args": [params, X, y, 0.1],
                "coords_by_key": coords, "h": 1e-6}

    for key in PARAM_NAMES:
        def build_key(key=key):
            p = build_numeric()
            p["key"] = key
            p["coords"] = [ix for k, ix in p.pop("coords_by_key") if k == key]
            return p
        cases.append(Case("nn_forward_backward", f"grads['{key}'] matches numeric differences of your loss", 0.25,
                          PUBLIC, "numeric_grad", build_key, judge_numeric_grad))
    return cases


# ------------------------------------------------------------------ nn_train and nn_predict

def build_nn_train():
    params, X, y = net_problem(71, 40, 4, 3, 3)
    _, X_val, y_val = net_problem(72, 10, 4, 3, 3)
    return {"params": params, "X": X, "y": y, "X_val": X_val, "y_val": y_val, "lr": 0.5, "decay": 0.9,
            "reg": 0.01, "num_iters": 9, "batch_size": 10, "seed": 73}


def judge_nn_train(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    calls, preds, out = reply.data["calls"], reply.data["pred_calls"], reply.data["outcome"]["value"]
    n, B = payload["num_iters"], payload["batch_size"]
    if len(calls) != n:
        return failed(f"loss_func was called with labels {len(calls)} times for num_iters={n}", "values")
    per_epoch = max(payload["X"].shape[0] // B, 1)
    lr = payload["lr"]
    current = {k: v.to(F64) for k, v in payload["params"].items()}
    for it, call in enumerate(calls):
        if call["reg"].get("value") != payload["reg"]:
            return failed(f"iteration {it}: loss_func got reg={call['reg'].get('value')!r}, expected {payload['reg']}", "values")
        xb = call["X_batch"]
        if xb.get("kind") != "tensor" or tuple(xb["value"].shape) != (B, payload["X"].shape[1]):
            return failed(f"iteration {it}: the batch must be sample_batch(X, y, num_train, {B})", "values")
        for key in PARAM_NAMES:
            seen = call["params"].get(key, {})
            if seen.get("kind") != "tensor" or not torch.allclose(seen["value"].to(F64), current[key], rtol=1e-9, atol=1e-12):
                before = "the initial value" if it == 0 else f"the previous value minus lr * grads['{key}']"
                return failed(f"iteration {it}: params['{key}'] is not {before}; with learning_rate_decay the "
                              f"rate for this step is {lr:g} (it decays after every iteration with "
                              f"it % iterations_per_epoch == 0, it = 0 included)", "values")
            current[key] = current[key] - lr * call["grads"][key]
        if it % per_epoch == 0:
            lr *= payload["decay"]
    final = reply.data["final_params"]
    if final.get("kind") != "map" or any(
            final["items"].get(k, {}).get("kind") != "tensor"
            or not torch.allclose(final["items"][k]["value"].to(F64), current[k], rtol=1e-9, atol=1e-12) for k in PARAM_NAMES):
        return failed("after nn_train, the caller's params do not hold the result of the last SGD step "
                      "(update params in place)", "values")
    return _judge_histories(out, calls, preds, payload, per_epoch)


def _judge_histories(out, calls, preds, payload, per_epoch) -> Verdict:
    if out.get("kind") != "map" or set(out["items"]) != {"loss_history", "train_acc_history", "val_acc_history"}:
        return failed("nn_train must return a dict with loss_history, train_acc_history and val_acc_history", "values")
    got = [i.get("value") for i in out["items"]["loss_history"].get("items", [])]
    if len(got) != len(calls) or any(not isinstance(g, float) or not math.isclose(g, c["loss"], rel_tol=1e-6)
                                      for g, c in zip(got, calls)):
        return failed("loss_history must hold loss.item() of every iteration", "values")
    epochs = [it for it in range(payload["num_iters"]) if it % per_epoch == 0]
    if len(preds) != 2 * len(epochs):
        return failed(f"pred_func was called {len(preds)} times; expected 2 per epoch end (iterations {epochs})", "values")
    train_acc, val_acc = [], []
    for k, it in enumerate(epochs):
        xb, yb = calls[it]["X_batch"]["value"], calls[it]["y_batch"]["value"]
        if not torch.equal(preds[2 * k]["X"]["value"], xb):
            return failed(f"iteration {it}: train accuracy must be measured on the current batch", "values")
        if not torch.equal(preds[2 * k + 1]["X"]["value"], payload["X_val"]):
            return failed(f"iteration {it}: validation accuracy must be measured on X_val", "values")
        train_acc.append((preds[2 * k]["labels"] == yb).double().mean().item())
        val_acc.append((preds[2 * k + 1]["labels"] == payload["y_val"]).double().mean().item())
    for name, want in (("train_acc_history", train_acc), ("val_acc_history", val_acc)):
        got = [i.get("value") for i in out["items"][name].get("items", [])]
        if len(got) != len(want) or any(not isinstance(g, (int, float)) or abs(g - w) > 1e-6 for g, w in zip(got, want)):
            return failed(f"{name} is {got}, expected {want} (fractions, one per epoch end)", "values")
    return passed()


def build_nn_predict():
    params, X, _ = net_problem(81, 7, 4, 3, 3)
    scores = _randn(_gen(82), 7, 3)
    return {"params": params, "X": X, "scores": scores}


def judge_nn_predict(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    if reply.data["score_calls"] < 1 or reply.data["train_calls"]:
        return failed("nn_predict must take the scores from loss_func(params, X) without labels", "values")
    problems = compare(reply.data["outcome"]["value"], payload["scores"].argmax(1), "labels", dtype=F64,
                       device_type=device_type)
    if problems:
        shape = any(p.kind == "shape" for p in problems)
        hint = "\nLikely cause: argmax over the wrong axis; take it over classes (dim=1)." if shape else ""
        return failed(problems[0].message + hint, "values")
    return passed()


# ------------------------------------------------------------------ find_best_net and the class

SEARCH_STEPS = 100  # full-batch steps of the grader's own training for the search case


def grader_training(data, lr, hidden, std=1e-4):
    """Where training a net with learning rate ``lr`` gets on ``data``: full-batch gradient
    descent on the softmax loss with torch autograd (the grader's own code, independent of the
    solution and of the student). Returns (params, loss history)."""
    g = _gen(0)
    D, C = data["X_train"].shape[1], int(data["y_train"].max()) + 1
    params = {"W1": _randn(g, D, hidden, scale=std, dtype=F32), "b1": torch.zeros(hidden),
              "W2": _randn(g, hidden, C, scale=std, dtype=F32), "b2": torch.zeros(C)}
    params = {k: v.requires_grad_() for k, v in params.items()}
    losses = []
    for _ in range(SEARCH_STEPS):
        loss = torch.nn.functional.cross_entropy(nn_scores(params, data["X_train"]), data["y_train"])
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for value, grad in zip(params.values(), grads):
                value -= lr * grad
        losses.append(loss.item())
    return {k: v.detach() for k, v in params.items()}, losses


def build_find_best_net():
    """A small, easy 10-class problem with 64 inputs: a good learning rate learns it well and
    lr = 0 cannot learn at all, so the best net is known. (Sizes must come from data_dict.)

    While the student's find_best_net runs, TwoLayerNet is replaced by a stand-in whose train()
    installs what the grader's own training reached for that learning rate (``trained``): the
    search is graded on its own, and costs milliseconds instead of three real trainings."""
    g = _gen(91)
    means = _randn(g, 10, 64, scale=0.5, dtype=F32)

    def split(n):
        y = torch.arange(n) % 10
        return means[y] + _randn(g, n, 64, scale=0.3, dtype=F32), y

    X_train, y_train = split(200)
    X_val, y_val = split(100)
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    # The best learning rate sits in the middle, so keeping the first or the last net fails.
    grid = ([0.0, 1.0, 1e-7], [16], [0.0], [1.0])
    trained = [[lr, *grader_training(data, lr, grid[1][0])] for lr in grid[0]]
    return {"data": data, "grid": grid, "trained": trained}


def _search_calls(payload, nets, device_type, complete):
    """What is wrong with how find_best_net built and trained its nets, as (message, likely
    cause), or None. Counts and arguments are only judged when the search ran to its end."""
    lrs, hiddens, regs, decays = payload["grid"]
    combos = len(lrs) * len(hiddens) * len(regs) * len(decays)
    trains = [t for net in nets for t in net["trains"]]
    D, C = payload["data"]["X_train"].shape[1], int(payload["data"]["y_train"].max()) + 1
    for net in nets:
        size_in, hidden, size_out = net["sizes"]
        if size_in != D:
            return (f"a TwoLayerNet was built with input size {size_in!r}; this case's data has {D} inputs",
                    "the input size is hard-coded (3 * 32 * 32?); take it from data_dict['X_train'].shape[1]")
        if size_out != C:
            return (f"a TwoLayerNet was built with {size_out!r} classes; this case's labels have {C}",
                    "take the number of classes from the labels (the largest label + 1)")
        if hidden not in hiddens:
            return (f"a TwoLayerNet was built with hidden size {hidden!r}, which is not in the grid {hiddens}",
                    "take the hidden sizes from get_param_set_fn()")
        if net["dtype"] != str(payload["data"]["X_train"].dtype):
            return (f"a TwoLayerNet was built with dtype {net['dtype']}; the data is "
                    f"{payload['data']['X_train'].dtype}", "pass dtype=data_dict['X_train'].dtype")
        if net["device"].split(":")[0] != device_type:
            return (f"a TwoLayerNet was built on {net['device']} while the data is on {device_type}",
                    "pass device=data_dict['X_train'].device")
    if not complete:
        return None
    if len(nets) != combos or len(trains) not in (0, combos):
        return (f"find_best_net built {len(nets)} net(s) and trained {len(trains)} time(s) with train() for "
                f"the {combos} combinations of the grid", "train one new TwoLayerNet per combination of "
                "get_param_set_fn()")
    if not trains:
        return None  # trained without net.train (nn_train on net.params, say): judged on the results
    for name, grid in (("learning_rate", lrs), ("reg", regs), ("learning_rate_decay", decays)):
        used = sorted(str(t[name]) for t in trains)
        wanted = sorted(str(v) for v in grid for _ in range(combos // len(grid)))
        if used != wanted:
            return (f"train() was called with {name} values {used}; the grid asks for {wanted}",
                    f"pass {name}= from the combination being tried (keyword arguments avoid mix-ups)")
    val = [list(payload["data"][k].shape) for k in ("X_val", "y_val")]
    if any(t["data"][2:] != val for t in trains):
        return ("train() was not given the validation data", "pass data_dict['X_val'], data_dict['y_val']")
    return None


def judge_find_best_net(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    nets = (reply.data or {}).get("nets") or []
    wrong = _search_calls(payload, nets, device_type, complete=verdict is None) if nets else None
    if wrong:
        return failed(wrong[0], "values", f"Likely cause: {wrong[1]}.")
    if verdict:
        if "cannot be multiplied" in verdict.message or "size mismatch" in verdict.message:
            return failed(verdict.message, verdict.reason, "Likely cause: the input size or the number of "
                          "classes is hard-coded (3 * 32 * 32, 10); take them from data_dict['X_train'].shape[1] "
                          "and the labels, as the docstring asks (this case uses 64 inputs)")
        return verdict
    if not reply.data["asked"]:
        return failed("find_best_net must take its grid from get_param_set_fn()", "values")
    params, value = reply.data["params"], reply.data["outcome"]["value"]
    if not params or params.get("kind") != "map" or set(params["items"]) != set(PARAM_NAMES):
        return failed("the first returned value must be a TwoLayerNet (with params W1, b1, W2, b2)", "values")
    p = {k: params["items"][k]["value"].to(F64) for k in PARAM_NAMES}
    data = payload["data"]
    acc = (predict_with("nn", p, data["X_val"].to(F64)) == data["y_val"]).double().mean().item()
    got = value["items"][2].get("value")
    if not isinstance(got, (int, float)) or abs(got - acc) > 1e-6:
        return failed(f"best_val_acc is {got!r}, but the returned net's validation accuracy is {acc:.4f}", "values")
    if acc < 0.5:
        return failed(f"the returned net reaches {acc:.1%} on validation, while the grid holds a learning rate "
                      "that reaches far more: keep the net with the highest validation accuracy", "values")
    stat = value["items"][1]
    if stat.get("kind") != "map" or "val_acc_history" not in stat["items"]:
        return failed("best_stat must be the dict the best net's train() returned", "values")
    return passed()


def build_net_class():
    _, X, y = net_problem(95, 6, 5, 4, 3)
    return {"sizes": (5, 4, 3), "std": 0.01, "X": X, "y": y, "reg": 0.05}


def expect_net_class(ref, payload):
    D, H, C = payload["sizes"]
    net = ref.tln.TwoLayerNet(D, H, C, dtype=F64, device="cpu", std=payload["std"])
    loss, grads = ref.tln.nn_forward_backward(net.params, payload["X"], payload["y"], payload["reg"])
    return {"params": {k: v.clone() for k, v in net.params.items()}, "loss": loss.clone(),
            "grads": {k: v.clone() for k, v in grads.items()}}


def judge_net_class(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply, "TwoLayerNet(...)")
    if verdict:
        return verdict
    problems = compare(reply.data["params"], expected["params"], "net.params", dtype=F64, device_type=device_type)
    if problems:
        return failed(problems[0].message + "\n(TwoLayerNet seeds torch with 0, then draws W1 = std * randn(D, H), "
                      "b1 = zeros(H), W2 = std * randn(H, C), b2 = zeros(C), in that order)", "values")
    for step in ("loss", "predict", "save", "load"):
        if reply.data.get(step, {}).get("error"):
            return error_verdict(reply.data[step]["error"], f"net.{step}")
    problems = compare(reply.data["loss"]["value"], (expected["loss"], expected["grads"]), "net.loss",
                       dtype=F64, device_type=device_type, names=("net.loss: loss", "net.loss: grads"))
    if problems:
        return failed(problems[0].message, "values")
    loaded = reply.data.get("loaded_params")
    if compare(loaded or {"kind": "none"}, expected["params"], "loaded", dtype=F64, device_type=device_type):
        return failed("load(save(...)) does not give back the same params", "values")
    for label, outcome in reply.data["bad_loads"].items():
        if not outcome["raised"]:
            return failed(f"TwoLayerNet.load accepted a checkpoint with {label}; it must raise", "values")
    return passed()


CASES: List[Case] = _forward_cases() + _backward_cases() + [
    Case("nn_train", "SGD on every param, lr decay per epoch (it = 0 included), histories", 6, PUBLIC,
         "nn_train", build_nn_train, judge_nn_train),
    Case("nn_predict", "argmax over classes of loss_func(params, X)", 3, PUBLIC, "nn_predict",
         build_nn_predict, judge_nn_predict),
    Case("nn_get_search_params", "at least 2 values each, fewer than 256 combinations", 1, PUBLIC, "call",
         lambda: {"module": MODULE, "function": "nn_get_search_params", "args": [], "arg_names": []},
         judge_search(4, 256, ("learning_rates", "hidden_sizes", "regularization_strengths", "learning_rate_decays"))),
    Case("find_best_net", "keeps the truly best net of a small search", 4, PUBLIC, "find_best_net",
         build_find_best_net, judge_find_best_net, timeout=120.0),
    Case("TwoLayerNet", "seeded init, loss, predict, save and load", 4, PUBLIC, "two_layer_net_class",
         build_net_class, judge_net_class, expect_net_class, meta={"seed": 95}),
]
