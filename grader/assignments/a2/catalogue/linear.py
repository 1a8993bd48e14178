"""Cases for ``linear_classifier.py``: what each checks, and its judge.

The course runs these functions in float64 only (the linear classifier notebook), so every case
here is float64, and a result in another floating dtype with the right values is a note, not
lost points.
"""
import math
from typing import List

import torch

from ....cases import PUBLIC, Case, Verdict, failed, passed
from ....compare import compare
from ....judges import error_verdict, judge_loop_free, judge_numeric_grad, judge_values, outcome_failure, raised
from ..student_side.standins import standin_linear_outputs
from .localise import place_loss_terms
from ....catalogue.common import DEVICE_POINTS, accuracy_problem, device_case, round_trip_notes, search_judge

F64 = torch.float64
MODULE = "linear_classifier"


def loss_case(function, name, points, visibility, seed, N, D, C, dtype, w_scale=0.1, x_scale=1.0, offset=0.0):
    """A value case for one loss function. With ``offset``, every score of a row is shifted by
    about ``offset`` (a constant feature times a constant weight row, as the bias trick makes):
    an unshifted exp() overflows while every score stays within a few tens of its row's largest."""
    kind = function.split("_")[0]
    params = {"module": MODULE, "function": function, "reference": f"{kind}_loss_vectorized", "seed": seed,
              "N": N, "D": D, "C": C, "dtype": str(dtype), "w_scale": w_scale, "x_scale": x_scale, "reg": 0.3,
              "offset": offset, "stability": offset > 0}
    return Case(function, name, points, visibility, "call", judge_values(names=("loss", "dW"), strict_dtype=False,
                                                             place=place_loss_terms),
                "linear_call", params, dtype, gradients=("dW",))


def loss_cases(function: str, loops_allowed: bool, points) -> List[Case]:
    """Public value, stability, numeric-gradient and loop cases for one loss function."""
    spec = [
        ("float64, N=12 D=9 C=4", 1, 12, 9, 4, F64, 0.1, 1.0, 0.0, "small"),
        ("float64, N=40 D=33 C=10", 2, 40, 33, 10, F64, 0.1, 1.0, 0.0, "wide"),
        ("float64, scores near 3000 (stability)", 3, 10, 20, 5, F64, 0.5, 1.0, 3000.0, "large"),
    ]
    cases = [loss_case(function, name, points[key], PUBLIC, seed, N, D, C, dtype, ws, xs, offset)
             for name, seed, N, D, C, dtype, ws, xs, offset, key in spec if points.get(key)]
    cases.append(device_case(function))
    if points.get("numeric"):
        cases.append(Case(function, "gradient matches numeric differences of your loss", points["numeric"], PUBLIC,
                          "numeric_grad", judge_numeric_grad, "linear_numeric",
                          {"module": MODULE, "function": function, "seed": 7}, form=True, output="dW", fresh=True))
    if not loops_allowed:
        cases.append(Case(function, "rule: no explicit loops", points["loops"], PUBLIC, "loop_scaling",
                          judge_loop_free(names=("loss", "dW")), "linear_loops",
                          {"module": MODULE, "function": function, "seed": 9}, form=True, fresh=True))
    return cases


# ------------------------------------------------------------------ sample_batch

def _batch_problem(value, payload, device_type):
    """Why one draw is not a valid batch, or None."""
    X, y, B = payload["X"], payload["y"], payload["batch_size"]
    expected = (torch.zeros(B, X.shape[1], dtype=X.dtype), torch.zeros(B, dtype=torch.int64))
    shape_problems = [p for p in compare(value, expected, "result", dtype=X.dtype, device_type=device_type,
                                         names=("X_batch", "y_batch")) if p.kind not in ("values", "dtype_note")]
    if shape_problems:
        return shape_problems[0].message
    xb, yb = value["items"][0]["value"], value["items"][1]["value"]
    idx = xb[:, 0].round().long()
    if (idx < 0).any() or (idx >= payload["num_train"]).any() or not torch.equal(xb, X[idx.clamp(0, X.shape[0] - 1)]):
        return "X_batch holds rows that are not rows of X"
    if not torch.equal(yb, y[idx]):
        return "y_batch does not match X_batch: each label must come from the same index as its row"
    return None


def _never_drawn(seen, n, draws, B):
    """Why rows never drawn mean the indices do not cover range(num_train), or None. The recipe's
    numbers leave a uniform sampler less than 1e-9 of a chance to miss any row."""
    missing = sorted(set(range(n)) - seen)
    if not missing:
        return None
    ends = [f"row {i} (the {'first' if i == 0 else 'last'})" for i in (0, n - 1) if i in missing]
    what = " and ".join(ends) if ends else f"rows {missing[:10]}"
    why = ("torch.randint's high is exclusive, so torch.randint(0, num_train, ...) or torch.randint(num_train, ...) "
           "draws every index from 0 to num_train - 1" if ends else "draw every index of range(num_train) with the "
           "same chance")
    return (f"{what} {'was' if len(ends) == 1 else 'were'} never drawn in {draws} draws of {B} rows from "
            f"num_train={n}, which a uniform draw misses with a chance below 1e-9: {why}")


def judge_sample_batch(case, payload, reply, answer, device_type) -> Verdict:
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
    idx = [d["value"]["items"][0]["value"][:, 0].round().long() for d in draws]
    n, B = payload["num_train"], payload["batch_size"]
    seen = set(torch.cat(idx).tolist())
    if len(seen) < 15 or max(seen) < n // 2:
        return failed(f"{len(draws)} draws of {B} rows from {n} hit only {len(seen)} distinct rows, all below "
                      f"{max(seen) + 1}: draw indices uniformly from range(num_train)", "values")
    if torch.equal(idx[0], idx[1]):
        return failed("two calls in a row returned the same batch: draw fresh indices on every call", "values")
    missed = _never_drawn(seen, n, len(draws), B)
    if missed:
        return failed(missed, "values")
    notes = []
    if not torch.equal(idx[0], idx[2]):
        notes.append("note: the same torch.manual_seed gave a different batch, so the notebook's results cannot be "
                     "reproduced with eecs598.reset_seed; the template's hint is torch.randint (the global torch "
                     "generator)")
    return passed(warnings=notes)


# ------------------------------------------------------------------ train_linear_classifier

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


def judge_train_steps(case, payload, reply, answer, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    calls, out = reply.data["calls"], reply.data["outcome"]["value"]
    if len(calls) != payload["num_iters"]:
        return failed(f"loss_func was called {len(calls)} times for num_iters={payload['num_iters']}", "values")
    problem = _check_batches(calls, payload)
    if problem:
        return failed(problem, "values")
    W, lr = payload["W"], payload["lr"]
    grads, losses = standin_linear_outputs(payload["seed"], payload["W"], len(calls))
    for k, call in enumerate(calls):
        if call["W"].get("kind") != "tensor" or not torch.allclose(call["W"]["value"].to(F64), W.to(F64),
                                                                   rtol=1e-10, atol=1e-12):
            return failed(f"iteration {k}: W is not the previous W minus learning_rate * grad "
                          "(plain SGD: W -= learning_rate * dW)", "values")
        W = W.to(F64) - lr * grads[k]
    if out.get("kind") != "seq" or out.get("length") != 2:
        return failed("train_linear_classifier must return (W, loss_history)", "values")
    W_out, history = out["items"]
    problems = [p for p in compare(W_out, W, "returned W", dtype=payload["X"].dtype, device_type=device_type,
                                   strict_dtype=False) if p.kind != "dtype_note"]
    if problems:
        return failed("the returned W is not the weights after the last step: " + problems[0].message, "values")
    got = [item.get("value") for item in history.get("items", [])] if history.get("kind") == "seq" else None
    if got is None or len(got) != len(losses) or any(
            not isinstance(g, (int, float)) or not math.isclose(g, l, rel_tol=1e-6) for g, l in zip(got, losses)):
        return failed("loss_history must hold one float per iteration: the loss loss_func returned", "values")
    return passed()


# ------------------------------------------------------------------ test_one_param_set

def _settings_problem(call, payload):
    """What is wrong with the learning rate, reg and num_iters one training was given, or None."""
    route = call["route"]
    for name, want in (("learning_rate", payload["lr"]), ("reg", payload["reg"]), ("num_iters", payload["num_iters"])):
        if call[name].get("value") != want:
            got = call[name].get("value")
            if name == "num_iters":
                return (f"{route} got num_iters={got!r}, but test_one_param_set was called with "
                        f"num_iters={want!r}: train with the num_iters it is given (the template's "
                        "'# num_iters = 100' line is for quick debugging only; leave it commented out)")
            return f"{route} got {name}={got!r}, expected {want!r}"
    return None


def _one_param_set_training(reply, payload):
    """What is wrong with how test_one_param_set trained cls, or None. Training through
    ``cls.train(...)`` and the given train written out (``cls.W, _ = train_linear_classifier(
    cls.loss, cls.W, ...)``) are the same training: either counts."""
    trainings = reply.data["trainings"]
    if not trainings:
        return ("cls was never trained: call cls.train(data_dict['X_train'], data_dict['y_train'], "
                "learning_rate=lr, reg=reg, num_iters=num_iters)")
    if len(trainings) != 1:
        counts = {}
        for t in trainings:
            counts[t["route"]] = counts.get(t["route"], 0) + 1
        routes = ", ".join(route if n == 1 else f"{route} {n} times" for route, n in counts.items())
        message = f"cls was trained {len(trainings)} times ({routes}); train once with the given settings"
        settings = next((p for p in (_settings_problem(t, payload) for t in trainings) if p), None)
        return message + (f"; and {settings}" if settings else "")
    call, data = trainings[0], payload["data"]
    route = call["route"]
    if not call["own_loss"]:
        return (f"{route} was given loss_func={call['loss_func']}, not cls.loss: cls must be trained with its own "
                "loss (test_one_param_set trains LinearSVM and Softmax instances alike; with a fixed loss function "
                "a Softmax would be trained with another classifier's loss). Call cls.train(...), or pass cls.loss")
    settings = _settings_problem(call, payload)
    if settings:
        return settings
    if call["X_train"].get("kind") != "tensor" or not torch.equal(call["X_train"]["value"], data["X_train"]):
        return f"{route} must be given data_dict['X_train'] and data_dict['y_train']"
    return None


def judge_one_param_training(case, payload, reply, answer, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    problem = _one_param_set_training(reply, payload)
    return failed(problem, "values") if problem else passed()


def judge_one_param_accuracies(case, payload, reply, answer, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    value = reply.data["outcome"]["value"]
    if value.get("kind") != "seq" or value.get("length") != 3:
        return failed("test_one_param_set must return (cls, train_acc, val_acc)", "values")
    if not reply.data["returned_model"]:
        return failed("the first returned value must be cls itself, trained", "values")
    if reply.data["trainings"] and not reply.data["model_trained"]:
        return failed("cls.W is not the trained weights: keep what train_linear_classifier returns in cls.W "
                      "(cls.W, _ = train_linear_classifier(cls.loss, cls.W, ...), as the given cls.train does), so "
                      "that the returned cls is the trained classifier", "values")
    problem = accuracy_problem([("train_acc", value["items"][1], answer["train_acc"]),
                                ("val_acc", value["items"][2], answer["val_acc"])], "the trained classifier's")
    return failed(problem, "values") if problem else passed()


# ------------------------------------------------------------------ the given classes (no points)

def judge_classes(case, payload, reply, answer, device_type) -> Verdict:
    """The classes are the template's given code: what is wrong with them is a note, not lost points."""
    verdict = outcome_failure(reply)
    if verdict:
        return passed(warnings=[f"note: the given LinearSVM/Softmax classes could not be checked: {verdict.message}"])
    notes = []
    for name, entry in reply.data["models"].items():
        loss_name = "svm_loss_vectorized" if name == "LinearSVM" else "softmax_loss_vectorized"
        for step in ("init", "loss", "train", "predict"):
            if entry.get(step, {}).get("error"):
                error = entry[step]["error"]
                notes.append(f"{name}: {step} {raised(error)}")
                break
        else:
            if len(entry["loss"]["calls"]) != 1:
                notes.append(f"{name}().loss does not hand its work to {loss_name}")
            train = entry["train"]
            if len(train["calls"]) != 1 or not train["loss_func_is_own_loss"] or not train["returned_history"] \
                    or not train["W_is_trained"]:
                notes.append(f"{name}().train does not train through train_linear_classifier(self.loss, self.W, ...) "
                             "and keep the weights it returns")
            if len(entry["predict"]["calls"]) != 1:
                notes.append(f"{name}().predict does not hand its work to predict_linear_classifier")
            notes += round_trip_notes(entry["round_trip"], name, "W")
    if not notes:
        return passed()
    return passed(warnings=["note (no points: this class is the template's given code, keep it as handed out): "
                            + "; ".join(_merged(notes))])


def _merged(notes: List[str]) -> List[str]:
    """One note for what both classes do alike (they share LinearClassifier's code)."""
    out = []
    for note in notes:
        twin = note.replace("LinearSVM", "Softmax")
        if note.startswith("LinearSVM") and twin != note and twin in notes:
            out.append(note.replace("LinearSVM", "LinearSVM and Softmax", 1))
        elif not (note.startswith("Softmax") and note.replace("Softmax", "LinearSVM") in notes):
            out.append(note)
    return out


SAMPLE_BATCH = Case("sample_batch", "rows with their labels, fresh on every call", 3 - DEVICE_POINTS, PUBLIC,
                    "sample_batch", judge_sample_batch, "sample_batch", {"seed": 5})
PREDICT = Case("predict_linear_classifier", "float64, N=25 D=7 C=5", 1.5 - DEVICE_POINTS, PUBLIC, "call",
               judge_values(strict_dtype=False), "linear_call",
               {"module": MODULE, "function": "predict_linear_classifier", "reference": "predict_linear_classifier",
                "seed": 41, "N": 25, "D": 7, "C": 5, "dtype": "torch.float64"}, F64)

# Each function whose calls are traced has a case for the device rule (0.5), taken from its
# first value case: svm_loss_naive's small case was worth 2, the others' 1.5; sample_batch's
# case 3, predict_linear_classifier's 1.5.
CASES: List[Case] = (
    loss_cases("svm_loss_naive", True, {"small": 2 - DEVICE_POINTS, "wide": 1, "numeric": 1})
    + loss_cases("svm_loss_vectorized", False, {"small": 1.5 - DEVICE_POINTS, "wide": 1, "large": 1, "loops": 1.5})
    + loss_cases("softmax_loss_naive", True, {"small": 1.5 - DEVICE_POINTS, "wide": 1, "large": 1, "numeric": 1})
    + loss_cases("softmax_loss_vectorized", False, {"small": 1.5 - DEVICE_POINTS, "wide": 1, "large": 1, "loops": 1.5})
    + [
        SAMPLE_BATCH,
        device_case("sample_batch"),
        Case("train_linear_classifier", "plain SGD steps, batches and loss history", 5, PUBLIC, "train_linear",
             judge_train_steps, "train_linear", {"seed": 11}, standins=("sample_batch",)),
        PREDICT,
        device_case("predict_linear_classifier"),
        Case("svm_get_search_params", "at least 2 values each, at most 25 combinations", 1, PUBLIC, "search_params",
             search_judge(("learning_rates", "regularization_strengths"), 25), "search",
             {"module": MODULE, "function": "svm_get_search_params"}),
        Case("softmax_get_search_params", "at least 2 values each, at most 25 combinations", 1, PUBLIC,
             "search_params", search_judge(("learning_rates", "regularization_strengths"), 25), "search",
             {"module": MODULE, "function": "softmax_get_search_params"}),
        Case("test_one_param_set", "trains cls once with lr, reg and num_iters", 1.5, PUBLIC,
             "test_one_param_set", judge_one_param_training, "one_param_set", {"seed": 21},
             standins=("train_linear_classifier", "predict_linear_classifier")),
        Case("test_one_param_set", "returns cls and its accuracies as floats", 1.5, PUBLIC,
             "test_one_param_set", judge_one_param_accuracies, "one_param_set", {"seed": 21},
             standins=("train_linear_classifier", "predict_linear_classifier")),
        Case("LinearClassifier", "given code: LinearSVM and Softmax hand their work to your functions", 0, PUBLIC,
             "linear_classifier_class", judge_classes, "linear_classes", {"seed": 31},
             standins=("svm_loss_vectorized", "softmax_loss_vectorized", "train_linear_classifier",
                       "predict_linear_classifier")),
    ]
)
