"""Judging a probe's reply in the grader process: outcome first (ran? raised? timed out?),
then rules, then values, then a diagnosis when a known mistake explains the numbers."""
from typing import Any, Dict, List, Optional, Tuple

import torch

from .cases import Verdict, failed, passed
from .compare import compare, matches
from .mistakes import CATALOGUE

BANNED_PREFIXES = ("torch.nn.", "torch._C._nn.")
BANNED_NAMES = {"relu", "relu_"}
STABILITY_HINT = ("a value overflowed to inf/nan: subtract each row's largest score before exp() "
                  "(softmax is unchanged by the shift, and exp() can no longer overflow)")


def upcast(obj):
    """Floating tensors to float64 (the reference precision), recursively."""
    if isinstance(obj, torch.Tensor):
        return obj.double() if obj.is_floating_point() else obj
    if isinstance(obj, dict):
        return {k: upcast(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(upcast(v) for v in obj)
    return obj


def outcome_failure(reply, what: str = "") -> Optional[Verdict]:
    """A verdict when the call did not return normally, else None."""
    if reply.failure:
        reason = "timeout" if "timed out" in reply.failure else "crash"
        return failed(reply.failure, reason)
    outcome = reply.data.get("outcome") if reply.data else None
    if outcome and outcome.get("error"):
        return error_verdict(outcome["error"], what)
    return None


def error_verdict(error: Dict[str, str], what: str = "") -> Verdict:
    prefix = f"{what}: " if what else ""
    if error["type"] == "NotImplementedError":
        return failed(f"{prefix}not implemented yet ({error['message'] or 'NotImplementedError'})", "not implemented")
    trace = f"\n{error['traceback'].rstrip()}" if error.get("traceback") else ""
    return failed(f"{prefix}raised {error['type']}: {error['message']}{trace}", "error")


def rule_findings(trace: Dict[str, Any], mutated: List[str], rules=()) -> Tuple[List[str], List[str]]:
    """(violations, warnings) from a call's trace."""
    violations, warnings = [], []
    if "no_relu" in rules:
        banned = [n for n in trace.get("names", [])
                  if n.rsplit(".", 1)[-1] in BANNED_NAMES or n.startswith(BANNED_PREFIXES)]
        if banned:
            violations.append(f"rule broken: the forward pass may not call torch.relu or anything in torch.nn; "
                              f"it called {', '.join(sorted(banned))} (write the ReLU yourself, e.g. with clamp)")
    if trace.get("device_moves"):
        violations.append("rule broken: no device moves (.to(device), .cuda(), .cpu()); this code used "
                          + ", ".join(sorted(set(trace["device_moves"]))))
    if trace.get("factory_dtype"):
        violations.append("rule broken: tensors you create follow the inputs' dtype: "
                          + "; ".join(trace["factory_dtype"][:3]) + " (pass dtype=X.dtype or use *_like)")
    if mutated:
        violations.append(f"rule broken: the caller's inputs must not be modified in place; changed: {', '.join(mutated)}")
    if trace.get("factory_no_device"):
        warnings.append(f"note: {', '.join(trace['factory_no_device'])} made a floating tensor without device=: "
                        "with inputs on a GPU it would sit on the CPU (pass device=X.device or use *_like)")
    return violations, warnings


def _leaves(value: Any, path: str, names=None) -> Dict[str, Any]:
    """Leaf values by the paths compare() uses."""
    if isinstance(value, tuple):
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, names[i] if names and i < len(names) else f"{path}[{i}]"))
        return out
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}['{key}']"))
        return out
    return {path: value}


def _desc_leaves(desc: Any, path: str, names=None) -> Dict[str, Any]:
    if desc.get("kind") == "seq":
        out = {}
        for i, item in enumerate(desc["items"]):
            out.update(_desc_leaves(item, names[i] if names and i < len(names) else f"{path}[{i}]"))
        return out
    if desc.get("kind") == "map":
        out = {}
        for key, item in desc["items"].items():
            out.update(_desc_leaves(item, f"{path}['{key}']"))
        return out
    return {path: desc}


def diagnose(check: str, desc, expected, args, problems, *, dtype, device_type, names=None) -> str:
    """Name the known mistake(s) whose results match the student's wrong values."""
    notes = []
    if any(p.kind == "nonfinite" for p in problems):
        notes.append(f"Likely cause: {STABILITY_HINT}.")
    wrong = [p.path for p in problems if p.kind in ("values", "shape")]
    if not wrong or check not in CATALOGUE:
        return " ".join(notes)
    got = _desc_leaves(desc, "result", names)
    # Each candidate mistake: which of the student's outputs it reproduces (right ones too), so
    # that for every wrong output the mistake explaining the most of the result is named.
    candidates = []
    for label, explanation, variant in CATALOGUE[check]:
        try:
            mistaken = _leaves(variant(expected, upcast(args)), "result", names)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        fits = {path for path in got if path in mistaken
                and matches(got[path], mistaken[path], dtype=dtype, device_type=device_type)}
        if fits & set(wrong):
            candidates.append((len(fits), f"{label}: {explanation}", fits))
    explained: Dict[str, List[str]] = {}
    for path in wrong:
        best = max((c for c in candidates if path in c[2]), key=lambda c: c[0], default=None)
        if best:
            explained.setdefault(best[1], []).append(path)
    for text, paths in explained.items():
        notes.append(f"Likely cause ({', '.join(paths)}): {text}.")
    return " ".join(notes)


def judge_values(names=None, rules=(), allow_mutation=False):
    """Judge a ``call`` probe against the expected value."""
    def judge(case, payload, reply, expected, device_type) -> Verdict:
        verdict = outcome_failure(reply)
        if verdict:
            return verdict
        desc = reply.data["outcome"]["value"]
        violations, warnings = rule_findings(reply.data["outcome"].get("trace", {}),
                                             [] if allow_mutation else reply.data.get("mutated", []), rules)
        problems = compare(desc, expected, "result", dtype=case.dtype, device_type=device_type, names=names)
        if not problems and not violations:
            return passed(warnings=warnings)
        message = "\n".join(violations + [p.message for p in problems])
        diagnosis = diagnose(case.check, desc, expected, payload.get("args", []), problems,
                             dtype=case.dtype, device_type=device_type, names=names) if problems else ""
        return failed(message, "rule" if violations and not problems else "values", diagnosis, warnings)
    return judge


def judge_loop_free(case, payload, reply, expected, device_type) -> Verdict:
    """Same torch calls and Python lines for every input size, or there is a loop."""
    if reply.failure:
        return outcome_failure(reply)
    data = reply.data
    if data.get("error"):
        return error_verdict(data["error"])
    for run in data["runs"]:
        if run["error"]:
            return error_verdict(run["error"], f"with {run['label']}")
    base = data["runs"][0]
    grown = [r for r in data["runs"][1:] if r["torch_calls"] != base["torch_calls"] or r["lines"] != base["lines"]]
    if not grown:
        return passed()
    sizes = "; ".join(f"{r['label']}: {r['torch_calls']} torch calls, {r['lines']} lines run"
                      for r in [base] + grown)
    return failed(f"rule broken: no explicit loops. The work grows with the input size ({sizes}), so there is "
                  "a Python loop (for, while, a comprehension or map) over samples or classes.", "rule")


def judge_numeric_grad(case, payload, reply, expected, device_type) -> Verdict:
    """The student's analytic gradient against centred differences of the student's loss."""
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    analytic, numeric = reply.data["analytic"], reply.data["numeric"]
    worst, where = 0.0, None
    for ix, a, n in zip(payload["coords"], analytic, numeric):
        err = abs(a - n) / max(abs(a) + abs(n), 1e-8)
        if err > worst:
            worst, where = err, (ix, a, n)
    if worst < 1e-5:
        return passed()
    ix, a, n = where
    name = f"grads['{payload['key']}']" if payload.get("key") else "dW"
    return failed(f"{name}{tuple(ix)} = {a:.8g}, but the numeric gradient of your own loss there is {n:.8g} "
                  f"(relative error {worst:.2e}, up to 1e-05 allowed): the gradient does not match the loss",
                  "values")
