"""Probes: what the student process does for one case (runs in the student process).

A probe receives its payload (inputs built by the grader, and the tables its stand-ins answer
from), calls student code through :func:`call_captured`, and returns descriptions of what
happened. It never sees expected values: judging happens in the grader process. While a
graded function runs, the functions it calls are replaced by stand-ins
(:mod:`grader.student_side.standins`), so that a bug costs points only where it lives.
"""
import os
import shutil
import tempfile
from typing import Any, Callable, Dict

import torch

from ....student_side.capture import call_captured, may_name_the_gpu
from .standins import (NoAnswer, Recorder, RecordingLinearLoss, RecordingNetLoss, RecordingPred, SearchWorld,
                       Substitutes, Table, TableClassifier, TableForwardPass, TableSampler, plain)
from ....student_side.wire import describe

PROBES: Dict[str, Callable] = {}


def probe(name):
    def register(fn):
        PROBES[name] = fn
        return fn
    return register


class Context:
    """The student's modules as loaded in this process, and the grading device."""

    def __init__(self, modules, load_errors, files, device):
        self.modules, self.load_errors = modules, load_errors
        self.files, self.device = tuple(files), torch.device(device)
        self._names_gpu = {}  # id(function): (function, whether it may name the GPU)

    def function(self, module: str, name: str):
        """The student's function, or a description of why it cannot be had."""
        if module in self.load_errors:
            return None, {"type": "ImportError", "message": f"{module}.py could not be loaded: "
                          f"{self.load_errors[module]['type']}: {self.load_errors[module]['message']}",
                          "traceback": self.load_errors[module]["traceback"]}
        target = self.modules[module]
        for part in name.split("."):
            target = getattr(target, part, None)
            if target is None:
                return None, {"type": "AttributeError", "message": f"{module}.py has no {name}",
                              "traceback": ""}
        return target, None

    def call(self, fn, *args, trace=True, trace_dtype=None, **kwargs):
        remap = trace or self.may_name_the_gpu(fn)
        return call_captured(fn, *args, trace=trace, trace_dtype=trace_dtype, trace_device=self.device,
                             files=self.files, remap_cuda=remap, **kwargs)

    def may_name_the_gpu(self, fn) -> bool:
        """Read once per function while the same stand-ins are in place (numeric gradients call
        the same loss again and again; a stand-in hides what the function it replaces names);
        by identity, so that no method of a student's object is called here."""
        known = self._names_gpu.get(id(fn))
        if known is None or known[0] is not fn or known[1] != Substitutes.generation:
            known = self._names_gpu[id(fn)] = (fn, Substitutes.generation, may_name_the_gpu(fn, self.files))
        return known[2]

    def both(self):
        """Both student modules (either may hold the name a function looks up)."""
        return [self.modules.get("linear_classifier"), self.modules.get("two_layer_net")]


def to_device(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def _snapshot(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_snapshot(v) for v in obj]
    return obj


def mutated_paths(before, after, path) -> list:
    """Paths of tensors that changed in place (or dict entries replaced) between two states."""
    if isinstance(before, torch.Tensor):
        same = (isinstance(after, torch.Tensor) and after.shape == before.shape
                and after.dtype == before.dtype and torch.equal(after.detach(), before))
        return [] if same else [path]
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return [path]
        return [p for k in before for p in mutated_paths(before[k], after[k], f"{path}['{k}']")]
    if isinstance(before, list) and isinstance(after, (list, tuple)):
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in mutated_paths(b, a, f"{path}[{i}]")]
    return []


def outcome_dict(outcome) -> Dict[str, Any]:
    return {"value": describe(outcome.value) if outcome.ok else None, "error": outcome.error,
            "seconds": outcome.seconds, "trace": outcome.trace}


def _missing(error):
    return {"outcome": {"value": None, "error": error, "seconds": 0.0, "trace": {}}}


def _ok():
    return {"value": None, "error": None, "seconds": 0.0, "trace": {}}


# ------------------------------------------------------------------ plain calls

@probe("call")
def probe_call(ctx: Context, p):
    """Call one function on the inputs; report the outputs, the trace and any input mutation."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return _missing(error)
    args = to_device(p.get("args", []), ctx.device)
    kwargs = to_device(p.get("kwargs", {}), ctx.device)
    before = _snapshot(args)
    replacements = {}
    if p.get("forward_table"):  # nn_forward_backward is graded with the true forward pass
        replacements["nn_forward_pass"] = TableForwardPass(Table(p["forward_table"], "nn_forward_pass"))
    with Substitutes([ctx.modules.get(p["module"])], replacements):
        # A vectorized function's value cases count its lines too: the no-loop rule compares
        # the work of calls whose values are judged (see runner.flag_loops_across_values).
        outcome = ctx.call(fn, *args, trace_dtype=p.get("dtype"), count_lines=ctx.files if p.get("count_lines") else (),
                           **kwargs)
        probed = {}
        for label, probe_args in p.get("probes", []) if outcome.ok else []:
            # further inputs that tell mistakes apart: they explain a failure, they earn nothing
            result = ctx.call(fn, *to_device(probe_args, ctx.device), trace=False)
            probed[label] = {"value": describe(result.value) if result.ok else None, "error": result.error}
    names = p.get("arg_names") or [f"argument {i}" for i in range(len(args))]
    mutated = [m for i, name in enumerate(names[:len(args)])
               for m in mutated_paths(before[i], args[i], name)]
    return {"outcome": outcome_dict(outcome), "mutated": mutated, "probes": probed}


@probe("scores_without_y")
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


@probe("loop_scaling")
def probe_loop_scaling(ctx: Context, p):
    """Count torch calls and Python lines for inputs of growing size."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return {"runs": [], "error": error}
    runs = []
    for label, args in p["variants"]:
        outcome = ctx.call(fn, *to_device(args, ctx.device), count_lines=ctx.files)
        runs.append({"label": label, "error": outcome.error,
                     "torch_calls": outcome.trace.get("torch_calls", 0), "lines": outcome.trace.get("lines", 0),
                     "tracing_off": outcome.trace.get("tracing_off", False),
                     "value": describe(outcome.value) if outcome.ok else None})
    return {"runs": runs, "error": None}


@probe("numeric_grad")
def probe_numeric_grad(ctx: Context, p):
    """The student's analytic gradient next to centred differences of the student's own loss."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return _missing(error)
    args = to_device(p["args"], ctx.device)
    key = p.get("key")  # for a dict of params, the parameter; else the first argument

    def target():
        return args[0][key] if key is not None else args[0]

    outcome = ctx.call(fn, *args, trace=False)
    if not outcome.ok:
        return {"outcome": outcome_dict(outcome)}
    try:
        grad = outcome.value[1][key] if key is not None else outcome.value[1]
        analytic = [float(grad[tuple(ix)]) for ix in p["coords"]]
    except Exception as exc:  # noqa: BLE001 - wrong structure: the value check explains it
        return {"outcome": {"value": None, "error": {"type": type(exc).__name__, "message":
                f"could not read the gradient from the result: {exc}", "traceback": ""},
                "seconds": 0.0, "trace": {}}}
    loss = outcome.value[0] if isinstance(outcome.value, (tuple, list)) and outcome.value else None
    coarse = isinstance(loss, torch.Tensor) and loss.dtype in (torch.float32, torch.float16, torch.bfloat16)
    # A loss kept in float32 cannot resolve a step of 1e-6: measure with a coarser one.
    numeric, h = [], (1e-2 if coarse else p["h"])
    for ix in p["coords"]:
        ix = tuple(ix)
        old = target()[ix].item()
        values = []
        for delta in (h, -h):
            target()[ix] = old + delta
            result = ctx.call(fn, *args, trace=False)
            target()[ix] = old
            if not result.ok:
                return {"outcome": outcome_dict(result)}
            values.append(float(result.value[0]))
        numeric.append((values[0] - values[1]) / (2 * h))
    try:
        base = float(loss)
    except Exception:  # noqa: BLE001 - not a number: judged as a wrong loss
        base = None
    return {"outcome": {"value": None, "error": None, "seconds": outcome.seconds, "trace": {}},
            "analytic": analytic, "numeric": numeric, "coarse": coarse, "loss": base}


@probe("search_params")
def probe_search_params(ctx: Context, p):
    """The candidate lists, each as plain numbers when it is any sequence of numbers (a list,
    a tuple, a range, a 1-D numpy array or tensor)."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return _missing(error)
    outcome = ctx.call(fn, trace=False)
    lists = None
    if outcome.ok and isinstance(outcome.value, (tuple, list)):
        lists = []
        for item in outcome.value:
            entry = {"type": type(item).__name__, "values": None}
            try:
                values = item.tolist() if hasattr(item, "tolist") else list(item)
                entry["values"] = [plain(v) for v in values]
            except TypeError:
                pass
            lists.append(entry)
    return {"outcome": outcome_dict(outcome), "lists": lists}


# ------------------------------------------------------------------ sampling and training

@probe("sample_batch")
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


@probe("train_linear")
def probe_train_linear(ctx: Context, p):
    fn, error = ctx.function("linear_classifier", "train_linear_classifier")
    if error:
        return _missing(error)
    loss = RecordingLinearLoss(p["seed"])
    W = to_device(p["W"], ctx.device)
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    with Substitutes(ctx.both(), {"sample_batch": TableSampler(p["batches"])}):
        outcome = ctx.call(fn, loss, W, X, y, p["lr"], p["reg"], p["num_iters"], p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls}


@probe("test_one_param_set")
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


@probe("nn_train")
def probe_nn_train(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "nn_train")
    if error:
        return _missing(error)
    loss, pred = RecordingNetLoss(p["seed"]), RecordingPred()
    params = to_device(p["params"], ctx.device)
    data = [to_device(p[k], ctx.device) for k in ("X", "y", "X_val", "y_val")]
    with Substitutes(ctx.both(), {"sample_batch": TableSampler(p["batches"])}):
        outcome = ctx.call(fn, params, loss, pred, *data, learning_rate=p["lr"],
                           learning_rate_decay=p["decay"], reg=p["reg"], num_iters=p["num_iters"],
                           batch_size=p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls, "pred_calls": pred.calls,
            "final_params": describe(params)}


@probe("nn_predict")
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


@probe("find_best_net")
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


@probe("linear_classifier_class")
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


@probe("two_layer_net_class")
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
