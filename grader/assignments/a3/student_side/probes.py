"""Assignment 3's probes (run in the student process, registered with the engine's ``@probe``):
layers called on their own, networks built by the student's constructor and graded through
stand-in layers, update rules stepped with their own config, dropout's statistics, and the
centred differences of the student's own forward passes."""
import torch

from ....student_side.wire import describe
from ....student_side.payloads import SEQUENCE, TENSOR, Field
from ....student_side.probes import (CALL_FIELDS, Context, _missing, _snapshot, mutated_paths, outcome_dict, probe,
                                    probe_call, to_device)
from ....student_side.standins import Substitutes
from .standins import Chain, RecordingSolver, RecordingTwoLayerNet

MODULE = "fully_connected_networks"


def _pick(desc, pick):
    """The outputs of a layer that are judged, as a sequence: ``pick`` indexes of a returned
    tuple (the cache is the student's own business), or None for a single returned value."""
    if not isinstance(desc, dict):
        return desc
    if pick is None:
        return {"kind": "seq", "type": "tuple", "items": [desc], "length": 1}
    if desc.get("kind") == "seq" and isinstance(desc.get("items"), list) and len(desc["items"]) > max(pick):
        return {"kind": "seq", "type": "tuple", "items": [desc["items"][i] for i in pick], "length": len(pick)}
    return desc


def _cache_inputs(args):
    """A backward pass's (dout, cache): the forward's inputs kept in the cache are watched, so that a
    backward that runs the forward again with one of them moved one entry at a time (a gradient
    measured by finite differences, not derived) is seen."""
    cache = args[1] if len(args) > 1 else None
    found = cache if isinstance(cache, (tuple, list)) else (cache,)
    return [t for t in found if isinstance(t, torch.Tensor) and t.is_floating_point()]


class _ForwardCounter:
    """Counts the calls of a layer's own forward while its backward runs: a backward pass derives
    its gradient from the cache and never needs the forward again; one that runs it (at inputs
    moved by h, all at once for an elementwise layer) measures the gradient instead."""

    def __init__(self, ctx, function):
        self.layer, _ = ctx.function(MODULE, function.rsplit(".", 1)[0])
        self.original = vars(self.layer).get("forward") if isinstance(self.layer, type) else None
        self.calls = 0

    def __enter__(self):
        if isinstance(self.original, staticmethod):
            inner = self.original.__func__

            def counted(*args, **kwargs):
                self.calls += 1
                return inner(*args, **kwargs)

            self.layer.forward = staticmethod(counted)
        return self

    def __exit__(self, *exc):
        if isinstance(self.original, staticmethod):
            self.layer.forward = self.original
        return False


@probe("layer_call", *CALL_FIELDS,
       Field("pick", SEQUENCE, optional=True))  # the returned outputs judged; None: the one value
def probe_layer_call(ctx: Context, p):
    """A layer's forward or backward (or an update rule's single call) on the case's inputs,
    through the engine's ``call`` probe; the outputs judged are picked from what it returns."""
    if not p["function"].endswith(".backward"):
        reply = probe_call(ctx, p)
    else:
        with _ForwardCounter(ctx, p["function"]) as counter:
            reply = probe_call(ctx, p, watch_of=_cache_inputs)
        reply["forward_calls"] = counter.calls
    outcome = reply.get("outcome") or {}
    if isinstance(outcome.get("value"), dict):
        outcome["value"] = _pick(outcome["value"], p.get("pick"))
    for entry in (reply.get("probes") or {}).values():
        if isinstance(entry.get("value"), dict):
            entry["value"] = _pick(entry["value"], p.get("pick"))
    return reply


# ------------------------------------------------------------------ networks

def _build(ctx, cls, p):
    """The student's network built by its own constructor (so that whatever else ``__init__``
    keeps is there), then given the case's parameters. A constructor that raises leaves a bare
    object with the template's given attributes. Returns (net, the constructor's error)."""
    kwargs = dict(p["init"])
    kwargs["dtype"], kwargs["device"] = p["dtype"], ctx.device
    made = ctx.call(cls, *p.get("init_args", []), trace=False, **kwargs)
    if made.ok and made.value is not None:
        net = made.value
    else:
        net = cls.__new__(cls)
    for name, value in p["attributes"].items():
        setattr(net, name, to_device(value, ctx.device) if name != "dropout_param" else dict(value))
    net.params = {k: v.to(ctx.device).clone() for k, v in p["params"].items()}
    return net, (None if made.ok else made.error)


@probe("net_loss", Field("class", str), Field("init_args", SEQUENCE, optional=True), Field("init", dict),
       Field("attributes", dict), Field("dtype", torch.dtype), Field("params", dict), Field("X", TENSOR),
       Field("tables", dict), Field("known", SEQUENCE, optional=True),
       Field("y", TENSOR, optional=True))  # None: the scores at test time
def probe_net_loss(ctx: Context, p):
    """``net.loss(X)`` or ``net.loss(X, y)`` with the layers and softmax_loss replaced by tables
    of their true answers (a bug in a layer costs its own points only), the calls recorded."""
    cls, error = ctx.function(MODULE, p["class"])
    if error:
        return _missing(error)
    net, init_error = _build(ctx, cls, p)
    X = to_device(p["X"], ctx.device)
    args = [X] + ([to_device(p["y"], ctx.device)] if p.get("y") is not None else [])
    chain = Chain(p["tables"], p.get("known", ()))
    before = _snapshot(net.params)
    with Substitutes([ctx.modules.get(MODULE)], chain.replacements()):
        # the parameters are watched: taken out of torch whole with the gradients brought back
        # from numbers, the network's gradient is computed outside torch (see student_side.outside)
        watch = list(net.params.values()) if p.get("y") is not None else []
        outcome = ctx.call(net.loss, *args, trace_dtype=p["dtype"], watch=watch)
    result = outcome_dict(outcome)
    if outcome.ok and p.get("y") is not None and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2:
        loss, grads = outcome.value
        keys = p["params"].keys()
        picked = (loss, {k: grads.get(k) for k in keys} if isinstance(grads, dict) else grads)
        extra = sorted(set(map(str, grads)) - set(keys)) if isinstance(grads, dict) else []
        result["value"] = describe(picked)
    else:
        extra = []
        if outcome.ok and p.get("y") is None:
            result["value"] = describe((outcome.value,))
    return {"outcome": result, "calls": chain.calls, "misses": chain.misses[:10], "extra_grads": extra[:10],
            "mutated": mutated_paths(before, net.params, "self.params"),
            "init_error": init_error, "dropout_param": describe(getattr(net, "dropout_param", None))}


@probe("net_init", Field("class", str), Field("init_args", SEQUENCE, optional=True), Field("init", dict),
       Field("dtype", torch.dtype), Field("seed", int))
def probe_net_init(ctx: Context, p):
    """The student's constructor: the parameters it makes (and the attributes it keeps)."""
    cls, error = ctx.function(MODULE, p["class"])
    if error:
        return _missing(error)
    kwargs = dict(p["init"])
    kwargs["dtype"], kwargs["device"] = p["dtype"], ctx.device
    torch.manual_seed(p["seed"])
    made = ctx.call(cls, *p.get("init_args", []), trace=False, **kwargs)
    result = outcome_dict(made)
    if made.ok:
        net = made.value
        result["value"] = describe({"params": getattr(net, "params", None), "reg": getattr(net, "reg", None)})
    return {"outcome": result}


def _differences(ctx, run, target, gradient, coords, h):
    """The analytic gradient read off ``gradient(run())`` next to centred differences of
    ``run()[0]`` when ``target()``'s entries move by ``h`` (the reply ``judge_numeric_grad``
    reads)."""
    outcome = ctx.call(run, trace=False)
    if not outcome.ok:
        return {"outcome": outcome_dict(outcome)}
    try:
        grad = gradient(outcome.value)
        analytic = [float(grad[tuple(ix)]) for ix in coords]
        loss = outcome.value[0]
        base = float(loss)
    except Exception as exc:  # noqa: BLE001 - a wrong structure: the value cases explain it
        return {"outcome": {"value": None, "error": {"type": type(exc).__name__, "message":
                f"could not read the gradient from the result: {exc}", "traceback": ""},
                "seconds": 0.0, "trace": {}}}
    coarse = isinstance(loss, torch.Tensor) and loss.dtype in (torch.float32, torch.float16, torch.bfloat16)
    h = 1e-2 if coarse else h
    numeric = []
    for ix in coords:
        ix = tuple(ix)
        old = target()[ix].item()
        values = []
        for delta in (h, -h):
            target()[ix] = old + delta
            result = ctx.call(run, trace=False)
            target()[ix] = old
            if not result.ok:
                return {"outcome": outcome_dict(result)}
            try:
                values.append(float(result.value[0]))
            except Exception as exc:  # noqa: BLE001
                return {"outcome": {"value": None, "error": {"type": type(exc).__name__, "message": str(exc)[:300],
                                                             "traceback": ""}, "seconds": 0.0, "trace": {}}}
        numeric.append((values[0] - values[1]) / (2 * h))
    return {"outcome": {"value": None, "error": None, "seconds": outcome.seconds, "trace": {}},
            "analytic": analytic, "numeric": numeric, "coarse": coarse, "loss": base}


@probe("layer_numeric", Field("forward", str), Field("backward", str), Field("inputs", SEQUENCE), Field("dout", TENSOR),
       Field("which", int), Field("coords", SEQUENCE), Field("h", float), Field("extra", SEQUENCE, optional=True),
       Field("wrt", str))  # which: the input checked, by place; wrt: by name, for the judge's messages
def probe_layer_numeric(ctx: Context, p):
    """A layer's backward against centred differences of the student's own forward: with the
    scalar ``sum(forward(inputs)[0] * dout)``, whose gradient is ``backward(dout, cache)``."""
    forward, error = ctx.function(MODULE, p["forward"])
    backward, error2 = ctx.function(MODULE, p["backward"])
    if error or error2:
        return _missing(error or error2)
    inputs = to_device(p["inputs"], ctx.device)
    dout = to_device(p["dout"], ctx.device)
    extra = p.get("extra", [])
    which = p["which"]

    changed, unusable = [], []

    def run():  # on copies: a forward that changes its input in place (a bug of its own) is noticed
        copies = [t.clone() for t in inputs]
        result = forward(*copies, *extra)
        out, cache = result if isinstance(result, (tuple, list)) and len(result) == 2 else (result, None)
        if not changed and any(not torch.equal(c, t) for c, t in zip(copies, inputs)):
            changed.append(True)
        if not isinstance(out, torch.Tensor):  # (a TODO left as `pass`): its own value cases say so
            unusable.append(f"{p['forward']} returns {_kind(out)} as out, not a tensor")
            raise _Unusable()
        grads = backward(dout, cache)
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) <= which or not isinstance(grads[which], torch.Tensor):
            got = _kind(grads[which]) if len(grads) > which else f"{len(grads)} values"
            unusable.append(f"{p['backward']} returns {got} for this gradient, not a tensor")
            raise _Unusable()
        return (out * dout).sum(), grads

    reply = _differences(ctx, run, lambda: inputs[which], lambda value: value[1][which], p["coords"], p["h"])
    if unusable:
        return {"outcome": {"value": None, "error": None, "seconds": 0.0, "trace": {}}, "unusable": unusable[0]}
    reply["forward_changes_input"] = bool(changed)
    return reply


def _kind(value) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


class _Unusable(Exception):
    """Stops the differences when the forward or backward returns no tensor to differentiate."""


# ------------------------------------------------------------------ update rules

@probe("optimizer", Field("function", str), Field("w", TENSOR), Field("dws", SEQUENCE),
       Field("config", dict, optional=True), Field("dtype", torch.dtype))  # config None: the defaults
def probe_optimizer(ctx: Context, p):
    """Several steps of an update rule, each with the config the previous step returned (the
    first with the case's config: None, partial or full); every step's next_w and config."""
    fn, error = ctx.function(MODULE, p["function"])
    if error:
        return _missing(error)
    w = to_device(p["w"], ctx.device)
    config = to_device(p["config"], ctx.device)
    steps, mutated = [], []
    for k, dw in enumerate(p["dws"]):
        dw = to_device(dw, ctx.device)
        dw_before = dw.clone()
        outcome = ctx.call(fn, w.clone(), dw, config, trace=k == 0, trace_dtype=w.dtype)
        entry = outcome_dict(outcome)
        if not torch.equal(dw, dw_before):
            mutated.append(f"dw (step {k + 1})")
        steps.append(entry)
        if not outcome.ok:
            break
        if not (isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2):
            break
        w, config = outcome.value
        if not isinstance(w, torch.Tensor):
            break
        w = w.detach().clone()
    return {"outcome": steps[0] if steps else _missing(None)["outcome"], "steps": steps, "mutated": mutated}


# ------------------------------------------------------------------ dropout

@probe("dropout_forward", Field("x", TENSOR), Field("params", SEQUENCE))  # [(label, dropout_param)]
def probe_dropout_forward(ctx: Context, p):
    """Dropout.forward in train mode twice with the same seed (the same mask both times), once
    with another seed, and in test mode."""
    fn, error = ctx.function(MODULE, "Dropout.forward")
    if error:
        return _missing(error)
    x = to_device(p["x"], ctx.device)
    before = x.clone()
    runs = {}
    for label, param in p["params"]:
        outcome = ctx.call(fn, x, dict(param), trace=label == "train", trace_dtype=x.dtype)
        entry = outcome_dict(outcome)
        if outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2:
            entry["value"] = describe(outcome.value[0])
        elif outcome.ok:
            entry["value"] = {"kind": "not a pair", "type": type(outcome.value).__name__}
        runs[label] = entry
        if not outcome.ok:
            break
    first = next(iter(runs.values()))
    # twice in train mode without a seed: the masks must differ (a forward that reseeds torch's
    # generator whatever dropout_param says drops the same units at every training step)
    train = dict(next((param for label, param in p["params"] if label == "train"), {}))
    train.pop("seed", None)
    unseeded = [ctx.call(fn, x, dict(train), trace=False) for _ in range(2)] if train else []
    outs = [o.value[0] for o in unseeded
            if o.ok and isinstance(o.value, (tuple, list)) and len(o.value) == 2 and isinstance(o.value[0], torch.Tensor)]
    same = len(outs) == 2 and outs[0].shape == outs[1].shape and bool(torch.equal(outs[0], outs[1]))
    return {"outcome": first, "runs": runs, "mutated": [] if torch.equal(x, before) else ["x"], "unseeded_same": same}


@probe("dropout_backward", Field("x", TENSOR), Field("dout", TENSOR), Field("param", dict), Field("mask", TENSOR))
def probe_dropout_backward(ctx: Context, p):
    """Dropout.backward on the cache of the student's own forward (train mode, seeded): the
    gradient must flow through that mask. When the forward cannot be run, a cache made as the
    template describes it (mask = 0 or 1 / (1 - p)) is used."""
    forward, _ = ctx.function(MODULE, "Dropout.forward")
    fn, error = ctx.function(MODULE, "Dropout.backward")
    if error:
        return _missing(error)
    x, dout = to_device(p["x"], ctx.device), to_device(p["dout"], ctx.device)
    own, out = False, None
    cache = (dict(p["param"]), to_device(p["mask"], ctx.device))
    if forward is not None:
        made = ctx.call(forward, x, dict(p["param"]), trace=False)
        if made.ok and isinstance(made.value, (tuple, list)) and len(made.value) == 2 \
                and isinstance(made.value[0], torch.Tensor) and made.value[0].shape == x.shape:
            out, cache, own = made.value[0].detach().clone(), made.value[1], True
    outcome = ctx.call(fn, dout, cache, trace=True, trace_dtype=dout.dtype)
    result = outcome_dict(outcome)
    test = ctx.call(fn, dout, ({**p["param"], "mode": "test"}, None), trace=False)
    return {"outcome": result, "own_cache": own, "out": describe(out) if own else None,
            "test": outcome_dict(test)}


# ------------------------------------------------------------------ the Solver and the searches

@probe("solver_instance", Field("data", dict), Field("dtype", torch.dtype))
def probe_solver_instance(ctx: Context, p):
    """create_solver_instance with ``Solver`` replaced by a recorder: what it was built with."""
    fn, error = ctx.function(MODULE, "create_solver_instance")
    if error:
        return _missing(error)
    data = to_device(p["data"], ctx.device)
    RecordingSolver.made = []
    with Substitutes([ctx.modules.get(MODULE)], {"Solver": RecordingSolver, "TwoLayerNet": RecordingTwoLayerNet}):
        outcome = ctx.call(fn, data, p["dtype"], str(ctx.device), trace=False)
    made = RecordingSolver.made
    returned = outcome.ok and any(outcome.value is s for s in made)
    found = {"made": len(made), "returned": returned}
    if made:
        solver = made[-1] if not returned else outcome.value
        model = solver.model
        kwargs = {}
        for name, value in solver.kwargs.items():
            kwargs[name] = {"kind": "callable", "name": getattr(value, "__name__", "")} if callable(value) \
                else describe(value)
        # a subclass of the Solver given (whose train, say, does nothing) is not the course's Solver
        own = [name for cls in type(solver).__mro__ if cls not in (RecordingSolver, object)
               for name in vars(cls) if not name.startswith("__")]
        found["subclass"] = {"name": type(solver).__name__, "defines": sorted(set(own))[:8]} \
            if type(solver) is not RecordingSolver else None
        found.update({"model": type(model).__name__, "same_data": solver.data is data or (
            isinstance(solver.data, dict) and all(solver.data.get(k) is data[k] for k in data)),
            "kwargs": kwargs, "params": describe({k: v for k, v in getattr(model, "params", {}).items()}
                                                 if isinstance(getattr(model, "params", None), dict) else None)})
    outcome.value = None
    return {"outcome": outcome_dict(outcome), **found}


@probe("search_values", Field("function", str))
def probe_search_values(ctx: Context, p):
    """The (weight_scale, learning_rate) a search function returns."""
    fn, error = ctx.function(MODULE, p["function"])
    if error:
        return _missing(error)
    outcome = ctx.call(fn, trace=False)
    return {"outcome": outcome_dict(outcome)}


@probe("linear_relu_given", Field("x", TENSOR), Field("w", TENSOR), Field("b", TENSOR), Field("dout", TENSOR),
       Field("tables", dict))
def probe_linear_relu_given(ctx: Context, p):
    """The given Linear_ReLU with Linear and ReLU replaced by stand-ins: what it returns and which
    layers it calls (it must hand its work to them)."""
    cls, error = ctx.function(MODULE, "Linear_ReLU")
    if error:
        return _missing(error)
    chain = Chain(p["tables"])
    x, w, b, dout = (to_device(p[k], ctx.device) for k in ("x", "w", "b", "dout"))
    with Substitutes([ctx.modules.get(MODULE)], {k: v for k, v in chain.replacements().items()
                                                 if k in ("Linear", "ReLU")}):
        forward = ctx.call(cls.forward, x, w, b, trace=False)
        result = {"forward": outcome_dict(forward), "calls": chain.calls}
        if forward.ok and isinstance(forward.value, (tuple, list)) and len(forward.value) == 2:
            result["forward"]["value"] = describe(forward.value[0])
            backward = ctx.call(cls.backward, dout, forward.value[1], trace=False)
            result["backward"] = outcome_dict(backward)
    return {"outcome": result["forward"], **result}
