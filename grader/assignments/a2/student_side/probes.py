"""A2's probes: what the student process does for A2's own cases (runs in the student process;
the probes every assignment shares are in :mod:`grader.student_side.probes`).

A probe receives its payload (inputs built by the grader, and the tables its stand-ins answer
from), calls student code through :func:`call_captured`, and returns descriptions of what
happened. It never sees expected values: judging happens in the grader process. While a
graded function runs, the functions it calls are replaced by stand-ins
(:mod:`grader.assignments.a2.student_side.standins`), so that a bug costs points only where it lives.
"""
import os
import shutil
import tempfile

import torch

from ....student_side.payloads import NUMBER, SEQUENCE, TENSOR, Field
from ....student_side.probes import (CALL_FIELDS, PROBES, Context, _missing, _ok, call_standin,  # noqa: F401
                                     outcome_dict, probe, probe_call, to_device)
from ....student_side.wire import describe
from .standins import (NoAnswer, Recorder, RecordingLinearLoss, RecordingNetLoss, RecordingPred, SearchWorld,
                       Substitutes, Table, TableClassifier, TableForwardPass, TableSampler)

@call_standin("forward_table")
def _true_forward_pass(p):
    """nn_forward_backward is graded with the true forward pass: its stand-in answers from the table."""
    return {"nn_forward_pass": TableForwardPass(Table(p["forward_table"], "nn_forward_pass"))}


@probe("scores_without_y", *CALL_FIELDS, Field("forward_table", SEQUENCE),
       Field("with_y", SEQUENCE))  # [y]: the call made again with y
def probe_scores_without_y(ctx: Context, p):
    """nn_forward_backward(params, X) without y, as the ``call`` probe does; then once with y (its
    result unused) to tell the student's work from a stub, whose given ``if y is None: return
    scores`` answers without any of it."""
    reply = probe_call(ctx, p)
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return reply
    args = to_device(p["args"] + p["with_y"], ctx.device)
    forward = TableForwardPass(Table(p["forward_table"], "nn_forward_pass"))
    with Substitutes([ctx.modules.get(p["module"])], {"nn_forward_pass": forward}):
        outcome = ctx.call(fn, *args, trace=False)
    stub = outcome.error and outcome.error.get("type") == "NotImplementedError"
    return {**reply, "not_implemented": outcome.error if stub else None}


# ------------------------------------------------------------------ sampling and training

@probe("sample_batch", Field("X", TENSOR), Field("y", TENSOR), Field("num_train", int), Field("batch_size", int),
       Field("seed", int), Field("spread_draws", int, optional=True))  # more unseeded draws
def probe_sample_batch(ctx: Context, p):
    """Three draws: seeded, unseeded (must differ), seeded again (should repeat); then
    ``spread_draws`` more, unseeded, for the spread over the rows."""
    fn, error = ctx.function("linear_classifier", "sample_batch")
    if error:
        return _missing(error)
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    draws = []
    for k, reseed in enumerate([True, False, True] + [False] * p.get("spread_draws", 0)):
        if reseed:
            torch.manual_seed(p["seed"])
        outcome = ctx.call(fn, X, y, p["num_train"], p["batch_size"], trace=k < 3, trace_dtype=X.dtype)
        draws.append(outcome_dict(outcome))
        if not outcome.ok:
            break
    return {"draws": draws}


@probe("train_linear", Field("W", TENSOR), Field("X", TENSOR), Field("y", TENSOR), Field("lr", NUMBER),
       Field("reg", NUMBER), Field("num_iters", int), Field("batch_size", int),
       Field("seed", int), Field("batches", SEQUENCE))  # seed: the stand-in loss's; batches: the sampler's table
def probe_train_linear(ctx: Context, p):
    fn, error = ctx.function("linear_classifier", "train_linear_classifier")
    if error:
        return _missing(error)
    loss = RecordingLinearLoss(p["seed"])
    W = to_device(p["W"], ctx.device)
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    with Substitutes(ctx.all_modules(), {"sample_batch": TableSampler(p["batches"])}):
        outcome = ctx.call(fn, loss, W, X, y, p["lr"], p["reg"], p["num_iters"], p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls}


@probe("test_one_param_set", Field("data", dict), Field("W", TENSOR), Field("labels", dict), Field("lr", NUMBER),
       Field("reg", NUMBER), Field("num_iters", int))
def probe_test_one_param_set(ctx: Context, p):
    """cls is a stand-in with the given LinearClassifier's interface, and the module's
    train_linear_classifier and predict_linear_classifier are stand-ins too while it runs:
    training through cls.train(...) and through train_linear_classifier(cls.loss, cls.W, ...)
    are recorded alike."""
    fn, error = ctx.function("linear_classifier", "test_one_param_set")
    if error:
        return _missing(error)
    data = to_device(p["data"], ctx.device)
    labels = Table([(p["data"][k], p["labels"][k]) for k in ("X_train", "X_val")], "cls.predict")
    model = TableClassifier(to_device(p["W"], ctx.device), labels)
    with Substitutes([ctx.modules.get("linear_classifier")], model.replacements()):
        outcome = ctx.call(fn, model, data, p["lr"], p["reg"], p["num_iters"], trace=False)
    same = outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 3 \
        and outcome.value[0] is model
    if outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 3:
        outcome.value = (None,) + tuple(outcome.value[1:])  # the model itself is not sent back
    return {"outcome": outcome_dict(outcome), "trainings": model.trainings, "returned_model": same,
            "model_trained": model.is_trained()}


@probe("nn_train", Field("params", dict), Field("X", TENSOR), Field("y", TENSOR), Field("X_val", TENSOR),
       Field("y_val", TENSOR), Field("lr", NUMBER), Field("decay", NUMBER), Field("reg", NUMBER),
       Field("num_iters", int), Field("batch_size", int), Field("seed", int), Field("batches", SEQUENCE))
def probe_nn_train(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "nn_train")
    if error:
        return _missing(error)
    loss, pred = RecordingNetLoss(p["seed"]), RecordingPred()
    params = to_device(p["params"], ctx.device)
    data = [to_device(p[k], ctx.device) for k in ("X", "y", "X_val", "y_val")]
    with Substitutes(ctx.all_modules(), {"sample_batch": TableSampler(p["batches"])}):
        outcome = ctx.call(fn, params, loss, pred, *data, learning_rate=p["lr"],
                           learning_rate_decay=p["decay"], reg=p["reg"], num_iters=p["num_iters"],
                           batch_size=p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls, "pred_calls": pred.calls,
            "final_params": describe(params)}


@probe("nn_predict", Field("params", dict), Field("X", TENSOR), Field("scores", TENSOR), Field("hidden", TENSOR))
def probe_nn_predict(ctx: Context, p):
    """The scores come from a table of the true net's answers, whether the student asks
    loss_func (as the docstring suggests), nn_forward_pass, nn_forward_backward(params, X), or
    computes them from params."""
    fn, error = ctx.function("two_layer_net", "nn_predict")
    if error:
        return _missing(error)
    X = to_device(p["X"], ctx.device)
    loss = RecordingNetLoss(0, scores=Table([(p["X"], p["scores"])], "loss_func"))
    backward = RecordingNetLoss(0, scores=Table([(p["X"], p["scores"])], "nn_forward_backward"))
    forward = TableForwardPass(Table([(p["X"], (p["scores"], p["hidden"]))], "nn_forward_pass"))
    with Substitutes([ctx.modules.get("two_layer_net")],
                     {"nn_forward_pass": forward, "nn_forward_backward": backward}):
        outcome = ctx.call(fn, to_device(p["params"], ctx.device), loss, X, trace_dtype=X.dtype)
    return {"outcome": outcome_dict(outcome), "score_calls": len(loss.score_calls), "forward_calls": forward.calls}


@probe("find_best_net", Field("data", dict), Field("grid", SEQUENCE),
       Field("states", dict), Field("histories", dict))  # the stand-in world's tables (SearchWorld)
def probe_find_best_net(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "find_best_net")
    if error:
        return _missing(error)
    grid = tuple(list(v) for v in p["grid"])
    asked = []

    def get_param_set_fn():
        asked.append(True)
        return grid

    direct = []

    def own_search_params():  # the module's nn_get_search_params, called instead of get_param_set_fn
        direct.append(True)
        return grid

    world = SearchWorld(p, ctx.device)
    with Substitutes([ctx.modules.get("two_layer_net")],
                     {**world.replacements(), "nn_get_search_params": own_search_params}):
        outcome = ctx.call(fn, to_device(p["data"], ctx.device), get_param_set_fn, trace=False)
    found = {"best_net": None, "stat_from": [], "stat_none": False, "stat_members": None}
    # a tuple with extras after the three (the best parameters, say) is judged on its first three;
    # the returns case names the extras
    if outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) >= 3:
        net, stat = outcome.value[0], outcome.value[1]
        kept = world.kept(net)
        found["best_net"] = kept if kept is not None else (None if net is None else f"<{type(net).__name__}>")
        found["stat_from"] = world.stat_owners(stat)
        found["stat_none"] = stat is None
        found["stat_members"] = world.stat_members(stat)
        outcome.value = (None, None, outcome.value[2]) + (None,) * (len(outcome.value) - 3)
    return {"outcome": outcome_dict(outcome), "asked": len(asked), "direct": len(direct), "nets": world.nets,
            **found}


# ------------------------------------------------------------------ the given classes

def _step(ctx, fn, *args, **kwargs):
    """One step of a class check: its outcome, without the value."""
    outcome = ctx.call(fn, *args, trace=False, **kwargs)
    return outcome, {"error": outcome.error}


def _round_trip(ctx, cls, obj, attribute, folder, make):
    """save() then load() into a fresh object: whether the attribute comes back equal, and if
    not, which step raised or how it differs."""
    path = os.path.join(folder, f"{cls.__name__}.pt")
    saved, _ = _step(ctx, obj.save, path)
    if not saved.ok:
        return {"error": saved.error, "step": "save", "same": False}
    made, _ = _step(ctx, make)
    if not made.ok:
        return {"error": made.error, "step": "the constructor", "same": False}
    loaded, _ = _step(ctx, made.value.load, path)
    if not loaded.ok:
        return {"error": loaded.error, "step": "load", "same": False}
    before, after = getattr(obj, attribute, None), getattr(made.value, attribute, None)
    same = _equal(before, after)
    return {"error": None, "same": same, "difference": "" if same else _difference(before, after, attribute)}


def _difference(before, after, name) -> str:
    """How what load() gave back differs from what was saved, in a few words."""
    if isinstance(before, dict) and isinstance(after, dict):
        if set(before) != set(after):
            return f"{name} holds {sorted(map(str, after))[:8]} after load, {sorted(map(str, before))} before"
        key = next(k for k in before if not _equal(before[k], after[k]))
        return _difference(before[key], after[key], f"{name}[{key!r}]")
    if not isinstance(after, type(before)):
        return f"{name} is a {type(after).__name__} after load, a {type(before).__name__} before"
    if isinstance(after, torch.Tensor) and after.shape != before.shape:
        return f"{name} has shape {tuple(after.shape)} after load, {tuple(before.shape)} before"
    return f"{name} holds other values after load"


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.equal(a.detach().cpu(), b.detach().cpu())
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_equal(a[k], b[k]) for k in a)
    return False


@probe("linear_classifier_class", Field("W", TENSOR), Field("X", TENSOR), Field("y", TENSOR), Field("reg", NUMBER),
       Field("lr", NUMBER), Field("num_iters", int), Field("batch_size", int))
def probe_linear_classifier_class(ctx: Context, p):
    """The given LinearSVM and Softmax classes still hand their work to the module's functions."""
    W, X, y = (to_device(p[k], ctx.device) for k in ("W", "X", "y"))
    trained = torch.full_like(W, 0.5)
    result, folder = {}, tempfile.mkdtemp(prefix="classes-")
    try:
        for name, loss_name in (("LinearSVM", "svm_loss_vectorized"), ("Softmax", "softmax_loss_vectorized")):
            cls, error = ctx.function("linear_classifier", name)
            if error:
                return _missing(error)
            stand = {"svm_loss_vectorized": Recorder(lambda *a, **k: (torch.ones(()), torch.zeros_like(W))),
                     "softmax_loss_vectorized": Recorder(lambda *a, **k: (torch.ones(()), torch.zeros_like(W))),
                     "train_linear_classifier": Recorder(lambda *a, **k: (trained.clone(), [1.0, 0.5])),
                     "predict_linear_classifier": Recorder(lambda *a, **k: torch.zeros(X.shape[0], dtype=torch.int64))}
            entry = {}
            with Substitutes([ctx.modules.get("linear_classifier")], stand):
                made, entry["init"] = _step(ctx, cls)
                if not made.ok:
                    result[name] = entry
                    continue
                model = made.value
                _, entry["loss"] = _step(ctx, model.loss, W, X, y, p["reg"])
                entry["loss"]["calls"] = [_describe_args(c) for c in stand[loss_name].calls]
                trained_out, entry["train"] = _step(ctx, model.train, X, y, learning_rate=p["lr"], reg=p["reg"],
                                                    num_iters=p["num_iters"], batch_size=p["batch_size"])
                entry["train"]["calls"] = [_describe_args(c) for c in stand["train_linear_classifier"].calls]
                entry["train"]["loss_func_is_own_loss"] = [
                    bool(c[0] and getattr(c[0][0], "__func__", None) is getattr(model.loss, "__func__", 0))
                    for c in stand["train_linear_classifier"].calls]
                entry["train"]["returned_history"] = trained_out.ok and trained_out.value == [1.0, 0.5]
                entry["train"]["W_is_trained"] = isinstance(getattr(model, "W", None), torch.Tensor) and \
                    torch.equal(model.W.detach().cpu(), trained.cpu())
                predicted, entry["predict"] = _step(ctx, model.predict, X)
                entry["predict"]["calls"] = [_describe_args(c) for c in stand["predict_linear_classifier"].calls]
                entry["round_trip"] = _round_trip(ctx, cls, model, "W", folder, cls)
            result[name] = entry
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"outcome": _ok(), "models": result}


def _describe_args(call):
    args, kwargs = call
    return {"args": [describe(a) if not callable(a) else {"kind": "callable"} for a in args],
            "kwargs": {k: describe(v) if not callable(v) else {"kind": "callable"} for k, v in kwargs.items()}}


@probe("two_layer_net_class", Field("sizes", SEQUENCE), Field("std", NUMBER), Field("X", TENSOR), Field("y", TENSOR),
       Field("reg", NUMBER), Field("lr", NUMBER), Field("decay", NUMBER), Field("num_iters", int),
       Field("batch_size", int))
def probe_two_layer_net_class(ctx: Context, p):
    """The given TwoLayerNet still builds seeded parameters and hands its work to the module's
    nn_forward_backward, nn_train and nn_predict."""
    cls, error = ctx.function("two_layer_net", "TwoLayerNet")
    if error:
        return _missing(error)
    D, H, C = p["sizes"]
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    stand = {"nn_forward_backward": Recorder(lambda *a, **k: (torch.ones(()), {})),
             "nn_train": Recorder(lambda *a, **k: {"loss_history": [1.0]}),
             "nn_predict": Recorder(lambda *a, **k: torch.zeros(X.shape[0], dtype=torch.int64))}
    result, folder = {}, tempfile.mkdtemp(prefix="classes-")
    try:
        with Substitutes([ctx.modules.get("two_layer_net")], stand):
            made, result["init"] = _step(ctx, cls, D, H, C, dtype=torch.float64, device=ctx.device, std=p["std"])
            if not made.ok:
                return {"outcome": _ok(), **result}
            net = made.value
            params = getattr(net, "params", None)
            result["params"] = describe(params)

            def uses_own_params(calls):
                return [bool(c[0] and c[0][0] is getattr(net, "params", None)) for c in calls]

            _, result["loss"] = _step(ctx, net.loss, X, y, reg=p["reg"])
            result["loss"]["calls"] = [_describe_args(c) for c in stand["nn_forward_backward"].calls]
            result["loss"]["own_params"] = uses_own_params(stand["nn_forward_backward"].calls)
            _, result["train"] = _step(ctx, net.train, X, y, X, y, learning_rate=p["lr"],
                                       learning_rate_decay=p["decay"], reg=p["reg"], num_iters=p["num_iters"],
                                       batch_size=p["batch_size"])
            result["train"]["calls"] = [_describe_args(c) for c in stand["nn_train"].calls]
            result["train"]["own_params"] = uses_own_params(stand["nn_train"].calls)
            result["train"]["functions"] = [
                [c[0][1] is stand["nn_forward_backward"], c[0][2] is stand["nn_predict"]] if len(c[0]) > 2 else []
                for c in stand["nn_train"].calls]
            _, result["predict"] = _step(ctx, net.predict, X)
            result["predict"]["calls"] = [_describe_args(c) for c in stand["nn_predict"].calls]
            result["predict"]["own_params"] = uses_own_params(stand["nn_predict"].calls)
            result["round_trip"] = _round_trip(
                ctx, cls, net, "params", folder,
                lambda: cls(D, H, C, dtype=torch.float64, device=ctx.device, std=10 * p["std"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"outcome": _ok(), **result}


__all__ = ["PROBES", "Context", "NoAnswer"]
