"""Probes: what the student process does for one case (runs in the student process).

A probe receives its payload (inputs built by the grader, and the tables its stand-ins answer
from), calls student code through :func:`call_captured`, and returns descriptions of what
happened. It never sees expected values: judging happens in the grader process. While a
graded function runs, the functions it calls are replaced by stand-ins
(:mod:`grader.student_side.standins`), so that a bug costs points only where it lives.

The probes here serve every assignment (a plain call, the no-loop rule, the numeric gradient
check, a search grid); an assignment's own probes live in its unit's ``student_side/probes.py``
and register themselves with :func:`probe` when the student process imports that module (the
one its :class:`~grader.assignment.Assignment` names).
"""
from typing import Any, Callable, Dict

import torch

from .capture import call_captured, may_name_the_gpu
from .nested import map_tensors
from .payloads import SEQUENCE, Field, Spec
from .standins import Substitutes, plain
from .wire import describe

PROBES: Dict[str, Callable] = {}
# What each probe's payload holds (see :mod:`.payloads`): {probe name: Spec}.
SPECS: Dict[str, Spec] = {}


def probe(name, *fields: Field):
    """Register the decorated function as the probe called ``name`` (one name, one probe, across
    every assignment: the student process holds all of them), reading a payload of ``fields``."""
    def register(fn):
        if name in PROBES and PROBES[name] is not fn:
            raise ValueError(f"two probes are called {name!r}: {PROBES[name].__module__} and {fn.__module__}")
        PROBES[name] = fn
        SPECS[name] = Spec(name, fn.__module__, tuple(fields))
        return fn
    return register


# Stand-ins a plain call puts in place when its payload asks for them: {payload field: make(payload)
# -> {name: stand-in}}, registered by the assignment whose cases send that field (a list, the
# stand-in's table).
CALL_STANDINS: Dict[str, Callable[[dict], Dict[str, Any]]] = {}


def call_standin(field):
    """Register ``make(payload) -> {name: stand-in}`` for the ``call`` probe's payloads holding ``field``."""
    def register(fn):
        CALL_STANDINS[field] = fn
        SPECS["call"] = SPECS["call"].with_field(Field(field, SEQUENCE, optional=True))
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

    def all_modules(self):
        """Every student module that loaded (any of them may hold the name a function looks up)."""
        return [m for m in self.modules.values() if m is not None]


def to_device(obj, device):
    """``obj`` with its tensors on ``device`` (nested dicts, lists and tuples kept)."""
    return map_tensors(obj, lambda t: t.to(device))


def _snapshot(obj):
    """Copies of ``obj``'s tensors, as they are now (its lists and tuples as lists)."""
    return map_tensors(obj, lambda t: t.detach().clone(), sequence=list)


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

CALL_FIELDS = (
    Field("module", str), Field("function", str),
    Field("args", SEQUENCE, optional=True), Field("kwargs", dict, optional=True),
    Field("arg_names", SEQUENCE, optional=True),  # how a mutated argument is named
    Field("dtype", torch.dtype, optional=True),  # the inputs' dtype, that the tracer follows
    Field("watch", int, optional=True),  # the argument whose one-entry moves are watched (a loss's params)
    Field("count_lines", bool, optional=True),  # a vectorized function's value case: its lines are counted
    Field("probes", SEQUENCE, optional=True),  # [(label, args)]: further inputs that tell mistakes apart
)


@probe("call", *CALL_FIELDS)
def probe_call(ctx: Context, p, watch_of=None):
    """Call one function on the inputs; report the outputs, the trace and any input mutation.
    ``watch_of(args)``, when given, names the tensors whose one-entry moves are watched (a
    gradient measured by finite differences), in place of a loss function's parameters. The
    calls on the payload's probe inputs are left for ``call_probes``, asked for if the case fails."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return _missing(error)
    args = to_device(p.get("args", []), ctx.device)
    kwargs = to_device(p.get("kwargs", {}), ctx.device)
    before = _snapshot(args)
    replacements = {}
    for field, make in CALL_STANDINS.items():
        if p.get(field):
            replacements.update(make(p))
    with Substitutes([ctx.modules.get(p["module"])], replacements):
        # A vectorized function's value cases count its lines too: the no-loop rule compares
        # the work of calls whose values are judged (see runner.flag_loops_across_values).
        # a loss function's parameters (the argument its payload names in ``watch``) are watched:
        # its loss evaluated at them moved one entry at a time is a gradient measured by finite
        # differences
        index = p.get("watch")
        first = args[index] if isinstance(index, int) and 0 <= index < len(args) else None
        watch = list(first.values()) if isinstance(first, dict) else [first] if first is not None else []
        if watch_of is not None:
            watch = watch_of(args)
        outcome = ctx.call(fn, *args, trace_dtype=p.get("dtype"), count_lines=ctx.files if p.get("count_lines") else (),
                           watch=watch, **kwargs)
    names = p.get("arg_names") or [f"argument {i}" for i in range(len(args))]
    mutated = [m for i, name in enumerate(names[:len(args)])
               for m in mutated_paths(before[i], args[i], name)]
    reply = {"outcome": outcome_dict(outcome), "mutated": mutated, "probes": {}}
    if p.get("probes") and outcome.ok:
        reply["probes_later"] = True  # the grader asks for them if the case fails (see call_probes)
    return reply


def _probe_calls(ctx: Context, fn, p) -> Dict[str, Any]:
    """The function called on the payload's probe inputs: further inputs that tell mistakes
    apart; they explain a failure, they earn nothing."""
    probed = {}
    for label, probe_args in p.get("probes", []):
        result = ctx.call(fn, *to_device(probe_args, ctx.device), trace=False)
        probed[label] = {"value": describe(result.value) if result.ok else None, "error": result.error}
    return probed


@probe("call_probes", *CALL_FIELDS)  # the failing case's own payload, sent again
def probe_call_probes(ctx: Context, p):
    """A failing value case's function called on its probe inputs, with the stand-ins its
    ``call`` had (not on the case's own inputs again). The grader asks for it only once every
    case of the submission has been answered (see grader.runner)."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return {"probes": {}}
    replacements = {}
    for key, make in CALL_STANDINS.items():
        if p.get(key):
            replacements.update(make(p))
    with Substitutes([ctx.modules.get(p["module"])], replacements):
        return {"probes": _probe_calls(ctx, fn, p)}



@probe("loop_scaling", Field("module", str), Field("function", str),
       Field("variants", SEQUENCE))  # [(label, args)], inputs of growing size
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


@probe("numeric_grad", Field("module", str), Field("function", str), Field("args", SEQUENCE),
       Field("coords", SEQUENCE), Field("h", float),
       Field("wrt", str, optional=True))  # the entry of a dict of params; None: the first argument
def probe_numeric_grad(ctx: Context, p):
    """The student's analytic gradient next to centred differences of the student's own loss."""
    fn, error = ctx.function(p["module"], p["function"])
    if error:
        return _missing(error)
    args = to_device(p["args"], ctx.device)
    wrt = p.get("wrt")  # for a dict of params, the parameter; else the first argument

    def target():
        return args[0][wrt] if wrt is not None else args[0]

    outcome = ctx.call(fn, *args, trace=False)
    if not outcome.ok:
        return {"outcome": outcome_dict(outcome)}
    try:
        grad = outcome.value[1][wrt] if wrt is not None else outcome.value[1]
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


@probe("search_params", Field("module", str), Field("function", str))
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
