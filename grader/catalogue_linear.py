"""Cases for ``linear_classifier.py``: inputs, expected values and judges side by side."""
import math
from typing import List

import torch

from .cases import HIDDEN, PUBLIC, Case, Verdict, failed, passed
from .compare import compare
from .judges import error_verdict, judge_loop_free, judge_numeric_grad, judge_values, outcome_failure, upcast

F32, F64 = torch.float32, torch.float64
MODULE = "linear_classifier"


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, scale=1.0, dtype=F64):
    return (scale * torch.randn(*shape, generator=g, dtype=F64)).to(dtype)


def linear_problem(seed, N, D, C, dtype=F64, w_scale=0.1, x_scale=1.0, reg=0.3):
    g = _gen(seed)
    W = _randn(g, D, C, scale=w_scale, dtype=dtype)
    X = _randn(g, N, D, scale=x_scale, dtype=dtype)
    y = torch.randint(C, (N,), generator=g)
    return [W, X, y, reg]


def _call(function, args, dtype, names=("W", "X", "y", "reg")):
    return {"module": MODULE, "function": function, "args": args, "arg_names": list(names), "dtype": dtype}


def _expect_loss(kind):
    def expect(ref, payload):
        fn = getattr(ref.lc, f"{kind}_loss_vectorized")
        loss, dW = fn(*upcast(payload["args"]))
        return loss.detach().clone(), dW.detach().clone()
    return expect


def loss_cases(function: str, kind: str, loops_allowed: bool, points) -> List[Case]:
    """Value, stability, numeric-gradient and loop cases for one loss function."""
    judge = judge_values(names=("loss", "dW"))
    expect = _expect_loss(kind)
    spec = [
        # (name, visibility, seed, N, D, C, dtype, w_scale, x_scale, points key)
        ("float64, N=12 D=9 C=4", PUBLIC, 1, 12, 9, 4, F64, 0.1, 1.0, "small"),
        ("float32, N=40 D=33 C=10", PUBLIC, 2, 40, 33, 10, F32, 0.1, 1.0, "f32"),
        ("float64, scores near 1e4 (stability)", PUBLIC, 3, 10, 20, 5, F64, 1.0, 1e3, "large"),
        # BEGIN HIDDEN
        ("hidden float64, fresh shapes", HIDDEN, 101, 31, 17, 7, F64, 0.1, 1.0, "h64"),
        ("hidden float32, fresh shapes", HIDDEN, 102, 64, 50, 10, F32, 0.05, 2.0, "h32"),
        ("hidden float64, scores near 1e4 (stability)", HIDDEN, 103, 23, 12, 6, F64, 2.0, 5e2, "hlarge"),
        # END HIDDEN
    ]
    cases = []
    for name, vis, seed, N, D, C, dtype, ws, xs, key in spec:
        if points.get(key):
            build = (lambda seed=seed, N=N, D=D, C=C, dtype=dtype, ws=ws, xs=xs:
                     _call(function, linear_problem(seed, N, D, C, dtype, ws, xs), dtype))
            cases.append(Case(function, name, points[key], vis, "call", build, judge, expect, dtype,
                              meta={"seed": seed, "N": N, "D": D, "C": C, "reg": 0.3}))
    if points.get("numeric"):
        def build_numeric(function=function):
            args = linear_problem(7, 15, 6, 4, F64)
            g = _gen(8)
            coords = [[int(torch.randint(6, (1,), generator=g)), int(torch.randint(4, (1,), generator=g))] for _ in range(8)]
            return {"module": MODULE, "function": function, "args": args, "coords": coords, "h": 1e-6, "key": None}
        cases.append(Case(function, "gradient matches numeric differences of your loss", points["numeric"], PUBLIC,
                          "numeric_grad", build_numeric, judge_numeric_grad, meta={"seed": 7}))
    if not loops_allowed:
        def build_loops(function=function):
            base, twice_n, twice_c = (linear_problem(9, 8, 6, 4), linear_problem(9, 16, 6, 4), linear_problem(9, 8, 6, 8))
            return {"module": MODULE, "function": function,
                    "variants": [["N=8, C=4", base], ["N=16, C=4", twice_n], ["N=8, C=8", twice_c]]}
        cases.append(Case(function, "rule: no explicit loops", points["loops"], PUBLIC, "loop_scaling",
                          build_loops, judge_loop_free, meta={"seed": 9}))
    return cases


# ------------------------------------------------------------------ sample_batch

def build_sample_batch():
    N = 50
    X = torch.stack([torch.arange(N, dtype=F64), 2.0 * torch.arange(N), -torch.arange(N, dtype=F64)], dim=1)
    y = torch.arange(N) % 7
    return {"X": X, "y": y, "num_train": N, "batch_size": 64, "seed": 5}


def _batch_problem(value, payload, device_type):
    """Why one draw is not a valid batch, or None."""
    X, y, B = payload["X"], payload["y"], payload["batch_size"]
    expected = (torch.zeros(B, X.shape[1], dtype=X.dtype), torch.zeros(B, dtype=torch.int64))
    shape_problems = [p for p in compare(value, expected, "result", dtype=X.dtype, device_type=device_type,
                                         names=("X_batch", "y_batch")) if p.kind != "values"]
    if shape_problems:
        return shape_problems[0].message
    xb, yb = value["items"][0]["value"], value["items"][1]["value"]
    idx = xb[:, 0].round().long()
    if (idx < 0).any() or (idx >= payload["num_train"]).any() or not torch.equal(xb, X[idx.clamp(0, X.shape[0] - 1)]):
        return "X_batch holds rows that are not rows of X"
    if not torch.equal(yb, y[idx]):
        return "y_batch does not match X_batch: each label must come from the same index as its row"
    return None


def judge_sample_batch(case, payload, reply, expected, device_type) -> Verdict:
    if reply.failure:
        return outcome_failure(reply)
    draws = reply.data["draws"]
    for draw in draws:
        if draw["error"]:
            return error_verdict(draw["error"])
    for draw in draws:
        problem = _batch_problem(draw["value"], payload, device_type)
        if problem:
            return failed(problem, "values")
    first, second, third = (d["value"]["items"][1]["value"] for d in draws)
    idx = [d["value"]["items"][0]["value"][:, 0].round().long() for d in draws]
    if len(set(idx[0].tolist())) < 20:
        return failed(f"64 draws from 50 rows hit only {len(set(idx[0].tolist()))} distinct rows: "
                      "indices should be uniform over range(num_train)", "values")
    if torch.equal(idx[0], idx[1]):
        return failed("two calls in a row returned the same batch: draw fresh indices on every call", "values")
    if not torch.equal(idx[0], idx[2]):
        return failed("the same torch.manual_seed gave a different batch: draw with torch.randint "
                      "(the global generator), not another random source", "values")
    return passed()


# ------------------------------------------------------------------ train_linear_classifier

def build_train_steps():
    g = _gen(11)
    return {"W": _randn(g, 6, 4), "X": _randn(g, 30, 6), "y": torch.randint(4, (30,), generator=g),
            "lr": 0.1, "reg": 0.25, "num_iters": 5, "batch_size": 8, "seed": 12}


def build_train_init():
    g = _gen(13)
    y = torch.randint(5, (30,), generator=g)
    y[0] = 4  # max(y) + 1 = 5 classes
    return {"W": None, "X": _randn(g, 30, 6), "y": y, "lr": 0.1, "reg": 0.0, "num_iters": 2,
            "batch_size": 8, "seed": 14}


def _check_batches(calls, payload):
    X, y = payload["X"], payload["y"]
    for k, call in enumerate(calls):
        xb, yb = call["X_batch"], call["y_batch"]
        if xb.get("kind") != "tensor" or yb.get("kind") != "tensor":
            return f"call {k}: loss_func got a non-tensor batch"
        xb, yb = xb["value"], yb["value"]
        if xb.shape != (payload["batch_size"], X.shape[1]) or yb.shape != (payload["batch_size"],):
            return f"call {k}: the batch has shape {tuple(xb.shape)}, expected ({payload['batch_size']}, {X.shape[1]})"
        rows = (xb.to(F64)[:, None, :] - X[None, :, :].to(F64)).abs().sum(-1).argmin(1)
        if not torch.allclose(xb.to(F64), X[rows].to(F64)) or not torch.equal(yb, y[rows]):
            return f"call {k}: the batch is not rows of X with their own labels (use sample_batch)"
        if call["reg"].get("value") != payload["reg"]:
            return f"call {k}: loss_func got reg={call['reg'].get('value')}, expected {payload['reg']}"
    return None


def judge_train_steps(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    calls, out = reply.data["calls"], reply.data["outcome"]["value"]
    if len(calls) != payload["num_iters"]:
        return failed(f"loss_func was called {len(calls)} times for num_iters={payload['num_iters']}", "values")
    problem = _check_batches(calls, payload)
    if problem:
        return failed(problem, "values")
    W = payload["W"] if payload["W"] is not None else calls[0]["W"]["value"]
    lr = payload["lr"]
    for k, call in enumerate(calls):
        if not torch.allclose(call["W"]["value"].to(F64), W.to(F64), rtol=1e-10, atol=1e-12):
            return failed(f"iteration {k}: W is not the previous W minus learning_rate * grad "
                          "(plain SGD: W -= learning_rate * dW)", "values")
        W = W.to(F64) - lr * call["grad"]
    if out.get("kind") != "seq" or out.get("length") != 2:
        return failed("train_linear_classifier must return (W, loss_history)", "values")
    W_out, history = out["items"]
    problems = compare(W_out, W, "returned W", dtype=payload["X"].dtype, device_type=device_type)
    if problems:
        return failed("the returned W is not the weights after the last step: " + problems[0].message, "values")
    losses = [c["loss"] for c in calls]
    got = [item.get("value") for item in history.get("items", [])] if history.get("kind") == "seq" else None
    if got is None or len(got) != len(losses) or any(
            not isinstance(g, (int, float)) or not math.isclose(g, l, rel_tol=1e-6) for g, l in zip(got, losses)):
        return failed("loss_history must hold one float per iteration: the loss loss_func returned", "values")
    if payload["W"] is None:
        W0 = calls[0]["W"]
        D, C = payload["X"].shape[1], int(payload["y"].max()) + 1
        if tuple(W0["value"].shape) != (D, C):
            return failed(f"the initial W has shape {tuple(W0['value'].shape)}, expected (D, max(y) + 1) = ({D}, {C})", "values")
        if W0["dtype"] != str(payload["X"].dtype).replace("torch.", "") or W0["device"].split(":")[0] != device_type:
            return failed(f"the initial W is {W0['dtype']} on {W0['device']}: it must follow X's dtype and device", "values")
        spread = W0["value"].to(F64).std().item()
        if not 1e-7 < spread < 1e-5:
            return failed(f"the initial W has standard deviation {spread:.3g}: expected 0.000001 * randn(D, C)", "values")
    return passed()


# ------------------------------------------------------------------ predict, search, test_one_param_set

def build_predict(seed, N, D, C, dtype):
    def build():
        W, X, _, _ = linear_problem(seed, N, D, C, dtype)
        return _call("predict_linear_classifier", [W, X], dtype, names=("W", "X"))
    return build


def expect_predict(ref, payload):
    return ref.lc.predict_linear_classifier(*upcast(payload["args"])).clone()


def judge_search(count: int, limit: int, labels):
    def judge(case, payload, reply, expected, device_type) -> Verdict:
        verdict = outcome_failure(reply)
        if verdict:
            return verdict
        value = reply.data["outcome"]["value"]
        if value.get("kind") != "seq" or value["length"] != count:
            return failed(f"expected a tuple of {count} lists ({', '.join(labels)})", "values")
        sizes = []
        for label, item in zip(labels, value["items"]):
            if item.get("kind") != "seq" or item["length"] < 2:
                return failed(f"{label}: expected a list of at least 2 values", "values")
            numbers = [v.get("value") for v in item["items"]]
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers):
                return failed(f"{label}: every value must be a finite number", "values")
            low_ok = all(v >= 0 for v in numbers) if "regularization" in label else all(v > 0 for v in numbers)
            if not low_ok or ("decay" in label and any(v > 1 for v in numbers)):
                return failed(f"{label}: {numbers} has values outside the sensible range", "values")
            if "hidden" in label and not all(float(v).is_integer() for v in numbers):
                return failed(f"{label}: hidden sizes must be whole numbers", "values")
            sizes.append(item["length"])
        combos = math.prod(sizes)
        if combos >= limit:
            return failed(f"{combos} combinations: the search must try fewer than {limit}", "values")
        return passed()
    return judge


def build_one_param_set():
    g = _gen(21)
    data = {"X_train": _randn(g, 40, 5), "y_train": torch.randint(3, (40,), generator=g),
            "X_val": _randn(g, 20, 5), "y_val": torch.randint(3, (20,), generator=g)}
    return {"data": data, "W": _randn(g, 5, 3), "lr": 0.07, "reg": 0.02, "num_iters": 33}


def judge_one_param_set(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    calls = reply.data["train_calls"]
    if len(calls) != 1:
        return failed(f"cls.train was called {len(calls)} times; train once with the given settings", "values")
    call, data = calls[0], payload["data"]
    for name, want in (("learning_rate", payload["lr"]), ("reg", payload["reg"]), ("num_iters", payload["num_iters"])):
        if call[name].get("value") != want:
            return failed(f"cls.train got {name}={call[name].get('value')!r}, expected {want!r}", "values")
    if call["X_train"].get("kind") != "tensor" or not torch.equal(call["X_train"]["value"], data["X_train"]):
        return failed("cls.train must be given data_dict['X_train'] and data_dict['y_train']", "values")
    if not reply.data["returned_model"]:
        return failed("the first returned value must be cls itself, trained", "values")
    value = reply.data["outcome"]["value"]
    W = payload["W"]
    for i, split in ((1, "train"), (2, "val")):
        acc = (data[f"X_{split}"].mm(W).argmax(1) == data[f"y_{split}"]).double().mean().item()
        got = value["items"][i].get("value") if value["items"][i].get("kind") == "number" else None
        if got is None:
            return failed(f"{split}_acc must be a Python float, got {value['items'][i].get('kind')}", "values")
        if abs(got - acc) > 1e-6:
            hint = " (a percentage? accuracies are fractions in [0, 1])" if abs(got - 100 * acc) < 1e-4 else ""
            return failed(f"{split}_acc is {got}, but the trained classifier's accuracy is {acc:.6f}{hint}", "values")
    return passed()


# ------------------------------------------------------------------ the classifier classes

def build_classes():
    W, X, y, _ = linear_problem(31, 12, 5, 3, F64)
    return {"W": W, "X": X, "y": y, "reg": 0.1, "num_iters": 3}


def judge_classes(case, payload, reply, expected, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    for name, entry in reply.data["models"].items():
        for step in ("loss", "train", "predict", "save", "load"):
            if entry[step]["error"]:
                return error_verdict(entry[step]["error"], f"{name}.{step}")
        problems = compare(entry["loss"]["value"], expected[name], f"{name}().loss", dtype=F64,
                           device_type=device_type, names=(f"{name}().loss: loss", f"{name}().loss: dW"))
        if problems:
            return failed(problems[0].message, "values")
        history = entry["train"]["value"]
        if history.get("kind") != "seq" or history["length"] != payload["num_iters"]:
            return failed(f"{name}().train must return the loss history, one value per iteration", "values")
        W = entry["W_after_train"]
        if W.get("kind") != "tensor" or tuple(W["value"].shape) != tuple(payload["W"].shape):
            return failed(f"{name}().train must leave the trained weights in self.W", "values")
        labels = payload["X"].mm(W["value"].to(F64)).argmax(1)
        if compare(entry["predict"]["value"], labels, "predict", dtype=F64, device_type=device_type):
            return failed(f"{name}().predict does not return the argmax of X @ self.W", "values")
        loaded = entry["loaded_W"]
        if loaded.get("kind") != "tensor" or not torch.equal(loaded["value"], W["value"]):
            return failed(f"{name}: load(save(...)) does not give back the same W", "values")
        if not entry["bad_load"]["raised"]:
            return failed(f"{name}().load accepted a checkpoint without 'W'; it must raise", "values")
    return passed()


def expect_classes(ref, payload):
    args = upcast([payload["W"], payload["X"], payload["y"], payload["reg"]])
    return {"LinearSVM": tuple(t.clone() for t in ref.lc.svm_loss_vectorized(*args)),
            "Softmax": tuple(t.clone() for t in ref.lc.softmax_loss_vectorized(*args))}


def _search_call(function):
    return lambda: {"module": MODULE, "function": function, "args": [], "arg_names": []}


CASES: List[Case] = (
    loss_cases("svm_loss_naive", "svm", True,
               {"small": 2, "f32": 1, "numeric": 1, "h64": 1.5, "h32": 1.5})
    + loss_cases("svm_loss_vectorized", "svm", False,
                 {"small": 1.5, "f32": 1, "large": 1, "loops": 1.5, "h64": 1.5, "hlarge": 1.5})
    + loss_cases("softmax_loss_naive", "softmax", True,
                 {"small": 1.5, "f32": 1, "large": 1, "numeric": 1, "h64": 1.25, "hlarge": 1.25})
    + loss_cases("softmax_loss_vectorized", "softmax", False,
                 {"small": 1.5, "f32": 1, "large": 1, "loops": 1.5, "h64": 1.5, "hlarge": 1.5})
    + [
        Case("sample_batch", "rows with their labels, with replacement, seeded by torch", 3, PUBLIC,
             "sample_batch", build_sample_batch, judge_sample_batch),
        Case("train_linear_classifier", "plain SGD steps, batches and loss history", 3, PUBLIC,
             "train_linear", build_train_steps, judge_train_steps),
        Case("train_linear_classifier", "W=None starts as 1e-6 * randn(D, max(y)+1)", 2, PUBLIC,
             "train_linear", build_train_init, judge_train_steps),
        Case("predict_linear_classifier", "float32, N=25 D=7 C=5", 1.5, PUBLIC, "call",
             build_predict(41, 25, 7, 5, F32), judge_values(), expect_predict, F32, meta={"seed": 41}),
        # BEGIN HIDDEN
        Case("predict_linear_classifier", "hidden float64, fresh shapes", 1.5, HIDDEN, "call",
             build_predict(141, 33, 11, 9, F64), judge_values(), expect_predict, F64, meta={"seed": 141}),
        # END HIDDEN
        Case("svm_get_search_params", "at least 2 values each, fewer than 25 combinations", 1, PUBLIC, "call",
             _search_call("svm_get_search_params"),
             judge_search(2, 25, ("learning_rates", "regularization_strengths"))),
        Case("softmax_get_search_params", "at least 2 values each, fewer than 25 combinations", 1, PUBLIC, "call",
             _search_call("softmax_get_search_params"),
             judge_search(2, 25, ("learning_rates", "regularization_strengths"))),
        Case("test_one_param_set", "trains cls once and reports its true accuracies", 3, PUBLIC,
             "test_one_param_set", build_one_param_set, judge_one_param_set),
        Case("LinearClassifier", "LinearSVM and Softmax: loss, train, predict, save and load", 3, PUBLIC,
             "linear_classifier_class", build_classes, judge_classes, expect_classes, meta={"seed": 31}),
    ]
)
