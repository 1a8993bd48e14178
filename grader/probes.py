"""Probes: what the student process does for one case (runs in the student process).

A probe receives its payload (inputs built by the grader), calls student code through
:func:`grader.capture.call_captured`, and returns descriptions of what happened. It never
sees expected values: judging happens in the grader process. Instrumented callables
(recording ``loss_func``, ``pred_func``, classifiers) make training functions observable.
"""
import os
from typing import Any, Callable, Dict

import torch

from .capture import call_captured
from .wire import describe

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
        return call_captured(fn, *args, trace=trace, trace_dtype=trace_dtype, trace_device=self.device, **kwargs)


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
    outcome = ctx.call(fn, *args, trace_dtype=p.get("dtype"), **kwargs)
    names = p.get("arg_names") or [f"argument {i}" for i in range(len(args))]
    mutated = [m for i, name in enumerate(names[:len(args)])
               for m in mutated_paths(before[i], args[i], name)]
    return {"outcome": outcome_dict(outcome), "mutated": mutated}


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
                     "torch_calls": outcome.trace.get("torch_calls", 0), "lines": outcome.trace.get("lines", 0)})
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
    numeric, h = [], p["h"]
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
    return {"outcome": {"value": None, "error": None, "seconds": outcome.seconds, "trace": {}},
            "analytic": analytic, "numeric": numeric}


# ------------------------------------------------------------------ sampling and training

@probe("sample_batch")
def probe_sample_batch(ctx: Context, p):
    """Three draws: seeded, unseeded (must differ), seeded again (must repeat)."""
    fn, error = ctx.function("linear_classifier", "sample_batch")
    if error:
        return _missing(error)
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    draws = []
    for reseed in (True, False, True):
        if reseed:
            torch.manual_seed(p["seed"])
        outcome = ctx.call(fn, X, y, p["num_train"], p["batch_size"], trace_dtype=X.dtype)
        draws.append(outcome_dict(outcome))
        if not outcome.ok:
            break
    return {"draws": draws}


class RecordingLinearLoss:
    """A ``loss_func(W, X_batch, y_batch, reg)`` that records its calls and returns known
    losses and gradients, so that every SGD step can be checked exactly."""

    def __init__(self, seed):
        self.calls, self.gen = [], torch.Generator().manual_seed(seed)

    def __call__(self, W, X_batch, y_batch, reg, *extra):
        grad = torch.randn(W.shape, generator=self.gen, dtype=torch.float64).to(W)
        loss = torch.tensor(1.0 + 0.5 ** len(self.calls), dtype=W.dtype, device=W.device)
        self.calls.append({"W": describe(W), "X_batch": describe(X_batch), "y_batch": describe(y_batch),
                           "reg": describe(reg), "grad": grad.cpu().clone(), "loss": float(loss)})
        return loss, grad


@probe("train_linear")
def probe_train_linear(ctx: Context, p):
    fn, error = ctx.function("linear_classifier", "train_linear_classifier")
    if error:
        return _missing(error)
    loss = RecordingLinearLoss(p["seed"])
    W = to_device(p["W"], ctx.device)
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    outcome = ctx.call(fn, loss, W, X, y, p["lr"], p["reg"], p["num_iters"], p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls}


class RecordingNetLoss:
    """``loss_func(params, X, y=None, reg=0.0)`` for nn_train/nn_predict: records and returns
    known gradients (training) or known scores (prediction)."""

    def __init__(self, seed, scores=None):
        self.calls, self.score_calls = [], []
        self.gen = torch.Generator().manual_seed(seed)
        self.scores = scores

    def __call__(self, params, X, y=None, reg=0.0, *extra):
        if y is None:
            self.score_calls.append({"X": describe(X)})
            if self.scores is not None:
                return self.scores.to(X.device)
            return (X[:, :3] * torch.tensor([1.0, -1.0, 0.5], device=X.device, dtype=X.dtype))
        grads = {k: torch.randn(v.shape, generator=self.gen, dtype=torch.float64).to(v)
                 for k, v in params.items()}
        loss = torch.tensor(2.0 - 0.01 * len(self.calls), dtype=X.dtype, device=X.device)
        self.calls.append({"params": {k: describe(v) for k, v in params.items()}, "X_batch": describe(X),
                           "y_batch": describe(y), "reg": describe(reg),
                           "grads": {k: g.cpu().clone() for k, g in grads.items()}, "loss": float(loss)})
        return loss, grads


class RecordingPred:
    """``pred_func(params, loss_func, X)`` returning known labels: class 1 where X[:, 0] > 0."""

    def __init__(self):
        self.calls = []

    def __call__(self, params, loss_func, X, *extra):
        labels = (X[:, 0] > 0).long()
        self.calls.append({"X": describe(X), "labels": labels.cpu().clone()})
        return labels


@probe("nn_train")
def probe_nn_train(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "nn_train")
    if error:
        return _missing(error)
    loss, pred = RecordingNetLoss(p["seed"]), RecordingPred()
    params = to_device(p["params"], ctx.device)
    data = [to_device(p[k], ctx.device) for k in ("X", "y", "X_val", "y_val")]
    outcome = ctx.call(fn, params, loss, pred, *data, learning_rate=p["lr"],
                       learning_rate_decay=p["decay"], reg=p["reg"], num_iters=p["num_iters"],
                       batch_size=p["batch_size"], trace=False)
    return {"outcome": outcome_dict(outcome), "calls": loss.calls, "pred_calls": pred.calls,
            "final_params": describe(params)}


@probe("nn_predict")
def probe_nn_predict(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "nn_predict")
    if error:
        return _missing(error)
    loss = RecordingNetLoss(0, scores=to_device(p["scores"], ctx.device))
    X = to_device(p["X"], ctx.device)
    outcome = ctx.call(fn, to_device(p["params"], ctx.device), loss, X, trace_dtype=X.dtype)
    return {"outcome": outcome_dict(outcome), "score_calls": len(loss.score_calls), "train_calls": len(loss.calls)}


class RecordingClassifier:
    """Stands in for a LinearClassifier in test_one_param_set: records train(), predicts with W."""

    def __init__(self, W):
        self.W, self._W, self.train_calls = None, W, []

    def train(self, X_train, y_train, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200,
              verbose=False):
        self.train_calls.append({"X_train": describe(X_train), "y_train": describe(y_train),
                                 "learning_rate": describe(learning_rate), "reg": describe(reg),
                                 "num_iters": describe(num_iters)})
        self.W = self._W
        return [1.0] * int(num_iters)

    def predict(self, X):
        return X.mm(self.W).argmax(dim=1)


@probe("test_one_param_set")
def probe_test_one_param_set(ctx: Context, p):
    fn, error = ctx.function("linear_classifier", "test_one_param_set")
    if error:
        return _missing(error)
    model = RecordingClassifier(to_device(p["W"], ctx.device))
    data = to_device(p["data"], ctx.device)
    outcome = ctx.call(fn, model, data, p["lr"], p["reg"], p["num_iters"], trace=False)
    same = outcome.ok and isinstance(outcome.value, tuple) and len(outcome.value) == 3 and outcome.value[0] is model
    if outcome.ok and isinstance(outcome.value, tuple) and len(outcome.value) == 3:
        outcome.value = (None,) + tuple(outcome.value[1:])  # the model itself is not sent back
    return {"outcome": outcome_dict(outcome), "train_calls": model.train_calls, "returned_model": same}


def _stand_in_net(trained, records):
    """A class that takes ``TwoLayerNet``'s place while find_best_net runs, so that the search is
    graded on its own (a broken ``train`` costs its points elsewhere) and in milliseconds.

    It records how each net is built and trained. Its ``train`` does not train: for a learning
    rate of the case's grid, on a net of the expected sizes, it installs the parameters that
    the grader's own training reached with that learning rate (``trained``: [lr, params,
    loss_history] triples, sent with the case); for anything else the net stays as built.
    """

    def plain(value):
        return value if isinstance(value, (bool, int, float, str)) else f"<{type(value).__name__}>"

    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
            self.record = {"sizes": [plain(input_size), plain(hidden_size), plain(output_size)],
                           "dtype": str(dtype), "device": str(device), "trains": []}
            records.append(self.record)
            torch.manual_seed(0)
            self.params = {"W1": std * torch.randn(input_size, hidden_size, dtype=dtype, device=device),
                           "b1": torch.zeros(hidden_size, dtype=dtype, device=device),
                           "W2": std * torch.randn(hidden_size, output_size, dtype=dtype, device=device),
                           "b2": torch.zeros(output_size, dtype=dtype, device=device)}

        def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
                  num_iters=100, batch_size=200, verbose=False):
            self.record["trains"].append({
                "learning_rate": plain(learning_rate), "reg": plain(reg),
                "learning_rate_decay": plain(learning_rate_decay), "num_iters": plain(num_iters),
                "data": [plain(v) if not torch.is_tensor(v) else list(v.shape) for v in (X, y, X_val, y_val)]})
            history = []
            for lr, params, losses in trained:
                shapes_match = all(params[k].shape == self.params[k].shape for k in params)
                if isinstance(learning_rate, (int, float)) and float(learning_rate) == lr and shapes_match:
                    self.params = {k: v.to(dtype=self.params[k].dtype, device=self.params[k].device)
                                   for k, v in params.items()}
                    history = list(losses)
                    break
            return {"loss_history": history,
                    "train_acc_history": [(self.predict(X) == y).double().mean().item()],
                    "val_acc_history": [(self.predict(X_val) == y_val).double().mean().item()]}

        def loss(self, X, y=None, reg=0.0):
            params = {k: v.detach().requires_grad_() for k, v in self.params.items()}
            scores = (X.mm(params["W1"]) + params["b1"]).clamp(min=0).mm(params["W2"]) + params["b2"]
            if y is None:
                return scores.detach()
            loss = torch.nn.functional.cross_entropy(scores, y) + reg * (
                (params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
            grads = torch.autograd.grad(loss, list(params.values()))
            return loss.detach(), dict(zip(params, grads))

        def predict(self, X):
            return self.loss(X).argmax(dim=1)

        def save(self, path):
            torch.save(self.params, path)

        def load(self, path):
            self.params = torch.load(path, map_location="cpu", weights_only=True)

    return TwoLayerNet


@probe("find_best_net")
def probe_find_best_net(ctx: Context, p):
    fn, error = ctx.function("two_layer_net", "find_best_net")
    if error:
        return _missing(error)
    grid = tuple(list(v) for v in p["grid"])
    asked, records = [], []

    def get_param_set_fn():
        asked.append(True)
        return grid

    module = ctx.modules["two_layer_net"]
    real = module.__dict__.get("TwoLayerNet")
    module.TwoLayerNet = _stand_in_net(p["trained"], records)
    try:
        outcome = ctx.call(fn, to_device(p["data"], ctx.device), get_param_set_fn, trace=False)
    finally:
        if real is None:
            module.__dict__.pop("TwoLayerNet", None)
        else:
            module.TwoLayerNet = real
    params = None
    if outcome.ok and isinstance(outcome.value, tuple) and len(outcome.value) == 3:
        net = outcome.value[0]
        params = describe(getattr(net, "params", None))
        outcome.value = (None,) + tuple(outcome.value[1:])
    return {"outcome": outcome_dict(outcome), "params": params, "asked": len(asked), "nets": records}


# ------------------------------------------------------------------ classes and checkpoints

def _raises(fn, *args):
    outcome = call_captured(fn, *args)
    return {"raised": not outcome.ok, "error": outcome.error}


def _write(path, obj):
    torch.save(obj, path)
    return path


@probe("two_layer_net_class")
def probe_two_layer_net_class(ctx: Context, p):
    cls, error = ctx.function("two_layer_net", "TwoLayerNet")
    if error:
        return _missing(error)
    D, H, C = p["sizes"]
    made = ctx.call(cls, D, H, C, dtype=torch.float64, device=ctx.device, std=p["std"], trace=False)
    if not made.ok:
        return {"outcome": outcome_dict(made)}
    net = made.value
    X, y = to_device(p["X"], ctx.device), to_device(p["y"], ctx.device)
    result = {"outcome": outcome_dict(made), "params": describe(getattr(net, "params", None))}
    result["loss"] = outcome_dict(ctx.call(net.loss, X, y, reg=p["reg"], trace=False))
    result["predict"] = outcome_dict(ctx.call(net.predict, X, trace=False))
    path = os.path.abspath("net_checkpoint.pt")
    saved = ctx.call(net.save, path, trace=False)
    result["save"] = outcome_dict(saved)
    if saved.ok:
        other = cls(D, H, C, dtype=torch.float64, device=ctx.device, std=1.0)
        loaded = ctx.call(other.load, path, trace=False)
        result["load"] = outcome_dict(loaded)
        result["loaded_params"] = describe(getattr(other, "params", None))
    params = {k: v.cpu() for k, v in (getattr(net, "params", None) or {}).items() if torch.is_tensor(v)}
    bad = {"extra key": {**params, "W3": torch.ones(1)},
           "missing b2": {k: v for k, v in params.items() if k != "b2"}}
    result["bad_loads"] = {label: _raises(cls(D, H, C, dtype=torch.float64, device=ctx.device).load,
                                          _write(os.path.abspath(f"bad_{i}.pt"), obj))
                           for i, (label, obj) in enumerate(bad.items())}
    return result


@probe("linear_classifier_class")
def probe_linear_classifier_class(ctx: Context, p):
    result = {}
    W, X, y = (to_device(p[k], ctx.device) for k in ("W", "X", "y"))
    for name in ("LinearSVM", "Softmax"):
        cls, error = ctx.function("linear_classifier", name)
        if error:
            return _missing(error)
        made = ctx.call(cls, trace=False)
        if not made.ok:
            return {"outcome": outcome_dict(made)}
        model = made.value
        entry = {"loss": outcome_dict(ctx.call(model.loss, W, X, y, p["reg"], trace=False))}
        torch.manual_seed(0)
        entry["train"] = outcome_dict(ctx.call(model.train, X, y, learning_rate=1e-3, reg=p["reg"],
                                               num_iters=p["num_iters"], batch_size=4, trace=False))
        entry["W_after_train"] = describe(getattr(model, "W", None))
        entry["predict"] = outcome_dict(ctx.call(model.predict, X, trace=False))
        path = os.path.abspath(f"{name}.pt")
        entry["save"] = outcome_dict(ctx.call(model.save, path, trace=False))
        other = cls()
        entry["load"] = outcome_dict(ctx.call(other.load, path, trace=False))
        entry["loaded_W"] = describe(getattr(other, "W", None))
        entry["bad_load"] = _raises(cls().load, _write(os.path.abspath(f"{name}_bad.pt"), {"V": torch.ones(2)}))
        result[name] = entry
    return {"outcome": {"value": None, "error": None, "seconds": 0.0, "trace": {}}, "models": result}


