"""Judging a probe's reply in the grader process: outcome first (ran? raised? timed out?),
then rules, then values, then a diagnosis when a known mistake's result matches the student's.

The known mistakes' results are part of a case's key (computed by the instructor's side with
the mistake written out, stored with the public fixtures): here they are only compared with.
"""
import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from .cases import Verdict, failed, passed
from .compare import compare, matches

BANNED_PREFIXES = ("torch.nn.", "torch._C._nn.")
BANNED_NAMES = {"relu", "relu_"}
STABILITY_HINT = ("exp() of scores this large overflows (to inf, then nan) unless each row's largest score is "
                  "subtracted from the row first; softmax is unchanged by the shift")


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
    """(violations, notes) from a call's trace. A device named or moved to is not among them:
    graded on the CPU, code that names the GPU is given the CPU and its values are judged as
    they are; the rule has its own case (:func:`judge_device_rule`). Code that would crash on
    CUDA inputs fails here: it crashes in every case where the course runs it."""
    violations, notes = [], []
    if "no_relu" in rules:
        banned = [n for n in trace.get("names", [])
                  if n.rsplit(".", 1)[-1] in BANNED_NAMES or n.startswith(BANNED_PREFIXES)]
        if banned:
            violations.append(f"rule broken: the forward pass may not call torch.relu or anything in torch.nn; "
                              f"it called {', '.join(sorted(banned))} (write the ReLU yourself, e.g. with clamp)")
    if trace.get("cuda_crashes"):
        violations.append("would crash on CUDA inputs (the course's notebooks run on the GPU): "
                          + "; ".join(trace["cuda_crashes"][:2])
                          + ". A tensor made without device= stays on the CPU: pass device=X.device, or use "
                          "torch.zeros_like / X.new_zeros")
    if trace.get("factory_dtype"):  # the results' own dtype is judged with their values
        notes.append("note: tensors you create should follow the inputs' dtype: " + "; ".join(trace["factory_dtype"][:3])
                     + " (pass dtype=X.dtype or use *_like)")
    if mutated:
        violations.append(f"rule broken: the caller's inputs must not be modified in place; changed: {', '.join(mutated)}")
    if trace.get("factory_no_device") and not trace.get("cuda_crashes"):
        notes.append(f"note: {', '.join(trace['factory_no_device'])} made a floating tensor without device=: "
                     "with inputs on a GPU it would sit on the CPU (pass device=X.device or use *_like)")
    return violations, notes


DEVICE_RULE = "rule: tensors follow the inputs' device"


def _traced_calls(replies):
    """(calls, failure): the traced calls in these replies (one call's ``outcome``, or
    sample_batch's ``draws``), and the first reason a case got no call to the end. Replies come
    from the student's process: anything not of the expected form is skipped."""
    calls, failure = [], None
    for reply in replies:
        data = getattr(reply, "data", None)
        if not isinstance(data, dict):
            failure = failure or getattr(reply, "failure", None)
            continue
        draws = data.get("draws")
        for call in [data.get("outcome")] + (list(draws[:64]) if isinstance(draws, list) else []):
            if isinstance(call, dict) and isinstance(call.get("error"), dict):
                failure = failure or call["error"]
            elif isinstance(call, dict) and isinstance(call.get("trace"), dict):
                calls.append(call)
    return calls, failure


def device_breaks(calls) -> List[str]:
    """Where these traced calls named a device or moved a tensor, in order, once each."""
    found: List[str] = []
    for call in calls:
        breaks = call["trace"].get("device_breaks")
        if isinstance(breaks, list):
            found += [b[:300] for b in breaks[:5] if isinstance(b, str)]
    return list(dict.fromkeys(found))


def judge_device_rule(case, payload, reply, key, device_type) -> Verdict:
    """The template's rule that every tensor follows the inputs' device (no ``.to()``,
    ``.cuda()``, ``.cpu()``), judged from ``payload``: the replies of the function's value
    cases (public and hidden), whose calls the tracer followed. A device written out or a move costs this case
    alone. With no traced call that ran to the end there is nothing to judge: the case fails
    with the reason (and, like the other form cases, it is credited only when a value case
    vouches for the function, see ``runner.credit_form_with_values``)."""
    calls, failure = _traced_calls(payload or [])
    if not calls:
        if isinstance(failure, dict) and isinstance(failure.get("message"), str):
            return error_verdict({"type": str(failure.get("type", "")), "message": failure["message"]})
        return failed(f"not checked: {failure if isinstance(failure, str) else 'no case of this function ran its code'}",
                      "not run")
    breaks = device_breaks(calls)
    if not breaks:
        return passed()
    return failed("rule broken: tensors follow the inputs' device (the template: no .to(), .cuda() or .cpu()): "
                  + "; ".join(breaks[:3]) + ". A device written out crashes where it is missing (device='cuda' on "
                  "every machine without a GPU). Make tensors with device=X.device, torch.zeros_like(W) or "
                  "X.new_zeros(...); a .to(X.device) or .to(W.dtype) follows the inputs too", "rule")


def _desc_leaves(desc: Any, path: str, names=None) -> Dict[str, Any]:
    """Leaf descriptions by the paths compare() uses."""
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


def _value_leaves(value: Any, path: str, names=None) -> Dict[str, Any]:
    """Leaf values (of an expected or mistaken result) by the same paths."""
    if isinstance(value, tuple):
        out = {}
        for i, item in enumerate(value):
            out.update(_value_leaves(item, names[i] if names and i < len(names) else f"{path}[{i}]"))
        return out
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_value_leaves(item, f"{path}['{key}']"))
        return out
    return {path: value}


def diagnose(desc, mistakes, problems, *, dtype, device_type, names=None, stability=False, expected=None) -> str:
    """Name the known mistake(s) whose results match the student's wrong values.

    ``mistakes`` is a list of (label, explanation, result). For every wrong output the mistake
    that reproduces the most of the student's result is named; on a tie, the first listed. An
    output whose values match ``expected`` (wrong only in its dtype) has no mistake to name."""
    notes = []
    if stability and any(p.kind == "nonfinite" for p in problems):
        notes.append(f"Likely cause: {STABILITY_HINT}.")
    wrong = [p.path for p in problems if p.kind in ("values", "shape", "dtype", "type")]
    got = _desc_leaves(desc, "result", names)
    if expected is not None:
        right = _value_leaves(expected, "result", names)
        wrong = [path for path in wrong if not (path in got and path in right and matches(
            got[path], right[path], dtype=dtype, device_type=device_type))]
    if not wrong or not mistakes:
        return " ".join(notes)
    candidates = []
    for label, explanation, result in mistakes:
        mistaken = _value_leaves(result, "result", names)
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


def names_a_mistake(diagnosis: str) -> bool:
    """Whether a diagnosis names a known mistake (not only the overflow hint, which any
    non-finite result on a stability case gets)."""
    return "Likely cause (" in diagnosis


def judge_values(names=None, rules=(), allow_mutation=False, strict_dtype=True):
    """Judge a ``call`` probe against the key's expected value.

    With ``strict_dtype`` off (functions the course only ever runs in one dtype), a result in
    another floating dtype with the right values passes with a note."""
    def judge(case, payload, reply, key, device_type) -> Verdict:
        verdict = outcome_failure(reply)
        if verdict:
            return verdict
        desc = reply.data["outcome"]["value"]
        violations, notes = rule_findings(reply.data["outcome"].get("trace", {}),
                                          [] if allow_mutation else reply.data.get("mutated", []), rules)
        found = compare(desc, key["expected"], "result", dtype=case.dtype, device_type=device_type, names=names,
                        strict_dtype=strict_dtype)
        problems = [p for p in found if p.kind != "dtype_note"]
        notes += [f"note: {p.message}" for p in found if p.kind == "dtype_note"]
        if not problems and not violations:
            return passed(warnings=notes)
        message = "\n".join(violations + [p.message for p in problems])
        diagnosis = diagnose(desc, key.get("mistakes", []), problems, dtype=case.dtype, device_type=device_type,
                             names=names, stability=case.params.get("stability", False),
                             expected=key["expected"]) if problems else ""
        verdict = failed(message, "rule" if violations and not problems else "values", diagnosis, notes)
        return dataclasses.replace(verdict, vouches=some_outputs_right(desc, key["expected"], names, case.dtype,
                                                                       device_type))
    return judge


def some_outputs_right(desc, expected, names, dtype, device_type) -> bool:
    """Whether at least one of the outputs equals its expected value (within tolerance)."""
    got, right = _desc_leaves(desc, "result", names), _value_leaves(expected, "result", names)
    return any(path in got and matches(got[path], value, dtype=dtype, device_type=device_type)
               for path, value in right.items())


def judge_loop_free(case, payload, reply, key, device_type) -> Verdict:
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


def judge_numeric_grad(case, payload, reply, key, device_type) -> Verdict:
    """The student's analytic gradient against centred differences of the student's loss."""
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    analytic, numeric = reply.data["analytic"], reply.data["numeric"]
    coarse = reply.data.get("coarse", False)
    allowed = 2e-3 if coarse else 1e-5  # a float32 loss is differenced with a coarser step
    notes = ["note: the loss is float32 although the inputs are float64 (a float32 accumulator?), so the "
             "numeric gradient was measured more coarsely"] if coarse else []
    worst, where = 0.0, None
    for ix, a, n in zip(payload["coords"], analytic, numeric):
        err = abs(a - n) / max(abs(a) + abs(n), 1e-8)
        if err > worst:
            worst, where = err, (ix, a, n)
    if worst < allowed:
        return passed(warnings=notes)
    ix, a, n = where
    name = f"grads['{payload['key']}']" if payload.get("key") else "dW"
    return failed(f"{name}{tuple(ix)} = {a:.8g}, but the numeric gradient of your own loss there is {n:.8g} "
                  f"(relative error {worst:.2e}, up to {allowed:g} allowed): the gradient does not match the loss",
                  "values", warnings=notes)
