"""Judging a probe's reply in the grader process: outcome first (ran? raised? timed out?),
then rules, then values, then a diagnosis when a known mistake's result matches the student's.

The known mistakes' results are part of a case's answer (computed by the instructor's side with
the mistake written out, stored with the public fixtures): here they are only compared with.
"""
import dataclasses
import math
import re
from typing import Any, Dict, List, Optional, Tuple

import torch

from .cases import Verdict, failed, not_graded_grader_side, passed
from .compare import compare, matches
from .localise import float32_precision

BANNED_PREFIXES = ("torch.nn.", "torch._C._nn.")
# torch.relu and ReLU under other names (threshold(x, 0, 0), rrelu, prelu, relu6, hardtanh are
# torch.nn's activation functions, whichever namespace they are reached through; and any torch
# function with "relu" in its name: _add_relu, _prelu_kernel, rnn_relu_cell); clamp, clip,
# maximum, where and masks are elementwise maths: writing the ReLU yourself.
BANNED_NAMES = {"relu", "relu_", "threshold", "threshold_", "rrelu", "rrelu_", "prelu", "relu6", "hardtanh",
                "hardtanh_", "_relu", "celu", "celu_", "elu", "elu_", "selu", "selu_", "softplus"}
STABILITY_HINT = ("exp() of scores this large overflows (to inf, then nan) unless each row's largest score is "
                  "subtracted from the row first; softmax is unchanged by the shift")


def outcome_failure(reply, what: str = "") -> Optional[Verdict]:
    """A verdict when the call did not return normally, else None."""
    if getattr(reply, "grader_side", False):
        return not_graded_grader_side(reply)
    if reply.failure:
        reason = "timeout" if "timed out" in reply.failure else "crash"
        return failed(reply.failure, reason)
    outcome = reply.data.get("outcome") if reply.data else None
    if outcome and outcome.get("error"):
        return error_verdict(outcome["error"], what)
    return None


def raised(error: Dict[str, str], limit: int = 400) -> str:
    """"raised Type: message (file, line N: `code`)", the place being the last of the
    student's own frames, for notes that name what happened in a line."""
    message = error.get("message", "")
    message = message if len(message) <= limit else message[:limit] + " ..."
    frames = re.findall(r'File "([^"]+)", line (\d+), in [^\n]*\n[ \t]+([^\n]*)', error.get("traceback") or "")
    where = ""
    if frames:
        path, line, code = frames[-1]
        where = f" ({path.replace(chr(92), '/').rsplit('/', 1)[-1]}, line {line}: `{code.strip()[:120]}`)"
    return f"raised {error.get('type', 'an exception')}: {message}{where}"


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
    CUDA inputs is noted here and costs the rule's case alone, as a device written out does."""
    violations, notes = [], []
    if "no_relu" in rules:
        banned = [n for n in trace.get("names", [])
                  if n.rsplit(".", 1)[-1] in BANNED_NAMES or any("relu" in part.lower() for part in n.split("."))
                  or n.startswith(BANNED_PREFIXES)]
        if banned:
            violations.append(f"rule broken: the forward pass may not call torch.relu or anything in torch.nn (nor "
                              f"its activation functions under another name, such as torch.threshold); it called "
                              f"{', '.join(sorted(banned))} (write the ReLU yourself, e.g. with clamp)")
    off = trace.get("switched_off")
    if isinstance(off, list) and off:
        violations.append("rule broken: this code switches the grader's tracing off ("
                          + "; ".join(str(o)[:120] for o in off[:2]) + "): its rules cannot be checked, so the "
                          "case earns nothing")
    fused = sorted({n for n in trace.get("names", []) if "_fused_" in n})
    if fused:
        violations.append(f"rule broken: torch's own optimizer kernels do the update ({', '.join(fused[:3])}); "
                          "write the update rule yourself")
    if trace.get("cuda_crashes"):  # the device rule's case is where it costs
        notes.append("note: " + cuda_crash_text(trace["cuda_crashes"]) + f" (it costs the case '{DEVICE_RULE}')")
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


def cuda_crash_text(crashes) -> str:
    """What a tensor left on the CPU does where the inputs are on the GPU."""
    return ("would crash on CUDA inputs (the course's notebooks run on the GPU): " + "; ".join(crashes[:2])
            + ". A tensor made without device= stays on the CPU: pass device=X.device, or use "
            "torch.zeros_like / X.new_zeros")


def _traced_calls(replies):
    """(calls, failure): the traced calls in these replies (one call's ``outcome``, or
    a sampling probe's ``draws``), and the first reason a case got no call to the end. Replies come
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
        crashes = call["trace"].get("cuda_crashes")
        if isinstance(crashes, list) and crashes:
            found.append(cuda_crash_text([c[:300] for c in crashes[:2] if isinstance(c, str)]))
    return list(dict.fromkeys(found))


def judge_device_rule(case, payload, reply, answer, device_type) -> Verdict:
    """The template's rule that every tensor follows the inputs' device (no ``.to()``,
    ``.cuda()``, ``.cpu()``), judged from ``payload``: the replies of the function's value
    cases (public and hidden), whose calls the tracer followed. A device written out or a move costs this case
    alone, and so does a tensor made without ``device=`` that meets an input (it would crash on
    CUDA inputs: the value cases note it and keep their points). With no traced call that ran
    to the end there is nothing to judge: the case fails
    with the reason (and, like the other form cases, it is credited only when a value case
    vouches for the function, see ``runner.credit_form_with_values``)."""
    calls, failure = _traced_calls(payload or [])
    if not calls:
        lost = next((r for r in payload or [] if getattr(r, "grader_side", False)), None)
        if lost is not None:  # its value cases were not graded, for the grader's own reason
            return not_graded_grader_side(lost)
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


def _nonfinite(value) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all())


def _same_fit(desc, mistaken, *, dtype, device_type) -> bool:
    """Whether the student's output is a known mistake's. Where the mistake's result is inf or
    nan, the student's must be too, at the same places (a result that is nan everywhere does
    not match every answer); elsewhere within tolerance."""
    if not _nonfinite(mistaken):
        return matches(desc, mistaken, dtype=dtype, device_type=device_type)
    if desc.get("kind") == "number":
        got = torch.tensor(float(desc["value"]), dtype=torch.float64)
    elif desc.get("kind") == "tensor":
        got = desc["value"].to(torch.float64)
        if got.numel() == 1 and mistaken.dim() == 0:
            got = got.reshape(())
    else:
        return False
    if tuple(got.shape) != tuple(mistaken.shape):
        return False
    finite = torch.isfinite(mistaken)
    if not torch.equal(torch.isfinite(got), finite):
        return False
    if not finite.any():
        return True
    return matches({"kind": "tensor", "value": got[finite], "dtype": "float64", "device": device_type},
                   mistaken[finite], dtype=torch.float64, device_type=device_type)


def _probes_agree(probed, on_probes, names, dtype, device_type) -> bool:
    """Whether the student's results on the probe inputs are a mistake's results there."""
    for label, mistaken in on_probes.items():
        entry = probed.get(label) if isinstance(probed, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), dict):
            return False
        got, want = _desc_leaves(entry["value"], "result", names), _value_leaves(mistaken, "result", names)
        if set(want) - set(got) or not all(_same_fit(got[path], value, dtype=dtype, device_type=device_type)
                                           for path, value in want.items()):
            return False
    return True


def _probes_agree_safely(probed, on_probes, names, dtype, device_type) -> bool:
    """:func:`_probes_agree`, where a probe result the grader cannot read agrees with nothing."""
    try:
        return _probes_agree(probed, on_probes, names, dtype, device_type)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError):
        return False


def diagnose(desc, mistakes, problems, *, dtype, device_type, names=None, stability=False, expected=None,
             probed=None, unexplained=None, causes=None) -> str:
    """Name the known mistake(s) whose results match the student's wrong values.

    ``mistakes`` is a list of (label, explanation, result[, results on the probe inputs]). For
    every wrong output the mistake that reproduces the most of the student's result is named; on
    a tie, the first listed. A mistake whose result is not finite where the student's is not
    either must also match the student's results on the case's probe inputs (``probed``): one
    max for the whole matrix and no shift at all both overflow on the case's own inputs. An
    output whose values match ``expected`` (wrong only in its dtype) has no mistake to name.
    ``causes``, when given, is extended with (mistake label, outputs it explains) of each
    mistake named: what scoring reads (the returned text is for people)."""
    notes = []
    wrong = [p.path for p in problems if p.kind in ("values", "shape", "dtype", "type", "nonfinite")]
    got = _desc_leaves(desc, "result", names)
    if expected is not None:
        right = _value_leaves(expected, "result", names)
        wrong = [path for path in wrong if not (path in got and path in right and matches(
            got[path], right[path], dtype=dtype, device_type=device_type))]
    candidates = []
    for entry in mistakes or []:
        label, explanation, result = entry[:3]
        on_probes = entry[3] if len(entry) > 3 else {}
        mistaken = _value_leaves(result, "result", names)
        fits = {path for path in got if path in mistaken
                and _same_fit(got[path], mistaken[path], dtype=dtype, device_type=device_type)}
        if any(_nonfinite(mistaken[path]) for path in fits) and not _probes_agree_safely(
                probed or {}, on_probes, names, dtype, device_type):
            continue
        if fits & set(wrong):
            candidates.append((len(fits), f"{label}: {explanation}", fits, label))
    explained: Dict[str, List[str]] = {}
    labels: Dict[str, str] = {}
    for path in wrong:
        best = max((c for c in candidates if path in c[2]), key=lambda c: c[0], default=None)
        if best:
            explained.setdefault(best[1], []).append(path)
            labels[best[1]] = best[3]
    if unexplained is not None:
        unexplained.extend(path for path in wrong if not any(path in paths for paths in explained.values()))
    if stability and any(p.kind == "nonfinite" for p in problems) and not explained:
        notes.append(f"Likely cause: {STABILITY_HINT}.")
    for text, paths in explained.items():
        notes.append(f"Likely cause ({', '.join(paths)}): {text}.")
        if causes is not None:
            causes.append((labels[text], tuple(paths)))
    return " ".join(notes)


def named_outputs(causes) -> Tuple[str, ...]:
    """The outputs the named mistakes (a verdict's ``causes``) explain."""
    return tuple(dict.fromkeys(path for _, paths in causes for path in paths))


def hand_gradient_violation(uses: List[str]) -> str:
    return ("rule broken: the gradient must be derived by hand (that is the exercise); this code has torch compute "
            f"it with autograd ({', '.join(uses[:3])}): the gradient outputs earn nothing, the loss is judged as usual")


def finite_difference_violation(where: List[str], check: str = "") -> str:
    if check.endswith(".backward"):  # a layer's backward pass: measured through its own forward
        layer = check.rsplit(".", 1)[0]
        return ("rule broken: the gradient must be derived by hand (that is the exercise); this backward pass "
                f"measures it by finite differences instead: {layer}'s computation is run again at moved inputs "
                f"({', '.join(where[:2])}): the gradient outputs earn nothing")
    return ("rule broken: the gradient must be derived by hand (that is the exercise); dW is measured by finite "
            "differences of your loss, not derived: the loss is evaluated again with the parameters moved one entry "
            f"at a time ({', '.join(where[:2])}): the gradient outputs earn nothing, the loss is judged as usual")


def outside_torch_violation(where: List[str], check: str = "") -> str:
    """The watched tensors taken out of torch whole (``where[0]``) and the gradient brought back
    into torch from numbers (``where[1:]``): see :mod:`grader.student_side.outside`."""
    taken, brought = where[0], ", ".join(where[1:3]) or "numbers"
    backward = check.endswith(".backward")  # a layer's backward pass: its cache's inputs are watched
    what, of = ("an input from the cache is", "its forward") if backward else ("the weights are", "your loss")
    return ("rule broken: the gradient must be derived by hand, in torch (that is the exercise); this code computes "
            f"it outside torch: {what} taken out of torch whole ({taken}) and the gradient comes back into torch "
            f"from Python or numpy numbers ({brought}), as a gradient measured by finite differences of {of} (not "
            "derived) would: the gradient outputs earn nothing" + ("" if backward else ", the loss is judged as usual"))


def is_gradient(path: str, gradients) -> bool:
    """Whether the output at ``path`` is one of ``gradients`` (a case's ``gradients``: "dW" is
    the output dW, "grads" every item of grads)."""
    return any(path == g or path.startswith(g + "[") for g in gradients)


def without_gradients(verdict: Verdict, case, uses: List[str], measured: List[str] = (),
                      outside: List[str] = ()) -> Verdict:
    """A loss function's verdict when its gradient comes from autograd, or is measured by
    finite differences of its own loss: the gradient outputs (the case's ``gradients``) count as
    not computed (the case fails, as it would for code with no gradient); what the other outputs
    (the loss) show stays."""
    computed = tuple(p for p in verdict.computed if not is_gradient(p, case.gradients))
    message = "\n".join(filter(None, [hand_gradient_violation(uses) if uses else "",
                                      finite_difference_violation(measured, case.function) if measured else "",
                                      outside_torch_violation(outside, case.function) if outside else ""]))
    if not verdict.passed and verdict.message:
        message += "\n" + verdict.message
    return Verdict("failed", message, verdict.diagnosis, verdict.warnings, "rule", vouches=bool(computed),
                   computed=computed, causes=verdict.causes)


def judge_values(names=None, rules=(), allow_mutation=False, strict_dtype=True, place=None, wider_dtype=False):
    """Judge a ``call`` probe against the answer's expected value.

    With ``strict_dtype`` off (functions the course only ever runs in one dtype), a result in
    another floating dtype with the right values passes with a note; with ``wider_dtype``
    (functions whose template states no result dtype), one in a more precise dtype than the
    inputs' (``loss.double()`` in a float32 net) does. The outputs a case names in
    its ``gradients`` (a loss function's case), computed with torch autograd or measured by
    finite differences, count as not computed. ``place`` (an assignment's: ``place(paths, got,
    expected, probed, probe_keys, case, device_type)`` -> sentences) places the wrong outputs no
    known mistake explains from the student's results on the payload's probe inputs."""
    def judge(case, payload, reply, answer, device_type) -> Verdict:
        verdict = outcome_failure(reply)
        if verdict:
            return verdict
        desc = reply.data["outcome"]["value"]
        trace = reply.data["outcome"].get("trace", {})
        violations, notes = rule_findings(trace, [] if allow_mutation else reply.data.get("mutated", []), rules)
        found = compare(desc, answer["expected"], "result", dtype=case.dtype, device_type=device_type, names=names,
                        strict_dtype=strict_dtype, wider_dtype=wider_dtype)
        problems = [p for p in found if p.kind != "dtype_note"]
        notes += [f"note: {p.message}" for p in found if p.kind == "dtype_note"]
        if not problems and not violations:
            verdict = passed(warnings=notes)
            verdict = dataclasses.replace(verdict, computed=tuple(_value_leaves(answer["expected"], "result", names)))
        else:
            message = "\n".join(violations + [p.message for p in problems])
            probed = reply.data.get("probes") if isinstance(reply.data.get("probes"), dict) else {}
            unexplained: List[str] = []
            causes: List[Tuple[str, Tuple[str, ...]]] = []
            # A failing case whose probes come later is judged again with them: no diagnosis yet.
            later = reply.data.get("probes_later") is True
            diagnosis = diagnose(desc, answer.get("mistakes", []), problems, dtype=case.dtype, device_type=device_type,
                                 names=names, stability=case.params.get("stability", False),
                                 expected=answer["expected"], probed=probed, unexplained=unexplained,
                                 causes=causes) if problems and not later else ""
            overflowed = case.params.get("stability", False) and any(p.kind == "nonfinite" for p in problems)
            if unexplained and not overflowed:  # an overflow is explained by the hint: the probes would mislead
                diagnosis = " ".join(filter(None, [diagnosis] + _placed(unexplained, desc, answer, probed, names, case,
                                                                            device_type, place)))
            verdict = failed(message, "rule" if violations and not problems else "values", diagnosis, notes)
            right = right_outputs(desc, answer["expected"], names, case.dtype, device_type)
            verdict = dataclasses.replace(verdict, vouches=bool(right), causes=tuple(causes),
                                          computed=tuple(dict.fromkeys(right + named_outputs(causes))))
        if "lines" in trace:
            verdict = dataclasses.replace(verdict, work=(int(trace.get("torch_calls", 0)), int(trace["lines"])))
        if case.gradients and (trace.get("autograd") or trace.get("finite_differences") or trace.get("outside_torch")):
            return dataclasses.replace(without_gradients(verdict, case, trace.get("autograd", []),
                                                         trace.get("finite_differences", []),
                                                         trace.get("outside_torch", [])), work=verdict.work)
        return verdict
    return judge


def _placed(paths, desc, answer, probed, names, case, device_type, place=None) -> List[str]:
    """Sentences that place the wrong outputs no known mistake explains (see :mod:`.localise`;
    beyond float32 precision, by the judge's ``place``)."""
    got, expected = _desc_leaves(desc, "result", names), _value_leaves(answer["expected"], "result", names)
    lines = float32_precision(paths, got, expected, device_type)
    rest = [p for p in paths if not any(f"({p})" in line for line in lines)]
    if place is None:
        return lines
    probe_keys = {label: _value_leaves(value, "result", names) for label, value in answer.get("probes", {}).items()}
    try:
        mine = {label: _desc_leaves(entry["value"], "result", names) for label, entry in probed.items()
                if isinstance(entry, dict) and isinstance(entry.get("value"), dict)}
        lines += place(rest, got, expected, mine, probe_keys, case, device_type)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError):
        pass  # what the student's process sent about its probes cannot be read: nothing to place
    return lines


def right_outputs(desc, expected, names, dtype, device_type) -> Tuple[str, ...]:
    """The outputs that equal their expected values (within tolerance)."""
    got, right = _desc_leaves(desc, "result", names), _value_leaves(expected, "result", names)
    return tuple(path for path, value in right.items()
                 if path in got and matches(got[path], value, dtype=dtype, device_type=device_type))


def judge_loop_free(names=None):
    """Judge a ``loop_scaling`` probe: same torch calls and Python lines for every input size, or
    there is a loop; and each run's result (its outputs called ``names``, as in the function's
    value cases) shows some output computed, on inputs the code has not seen."""
    def judge(case, payload, reply, answer, device_type) -> Verdict:
        return _loop_free(case, reply, answer, device_type, names)
    return judge


def _loop_free(case, reply, answer, device_type, names) -> Verdict:
    if reply.failure:
        return outcome_failure(reply)
    data = reply.data
    if data.get("error"):
        return error_verdict(data["error"])
    for run in data["runs"]:
        if run["error"]:
            return error_verdict(run["error"], f"with {run['label']}")
    if any(run.get("tracing_off") for run in data["runs"]):
        return failed("rule broken: the code switched off the grader's line tracing (sys.settrace) while it ran, so "
                      "its loops cannot be counted; leave tracing alone", "rule")
    base = data["runs"][0]
    grown = [r for r in data["runs"][1:] if r["torch_calls"] != base["torch_calls"] or r["lines"] != base["lines"]]
    if grown:
        sizes = "; ".join(f"{r['label']}: {r['torch_calls']} torch calls, {r['lines']} lines run"
                          for r in [base] + grown)
        return failed(f"rule broken: no explicit loops. The work grows with the input size ({sizes}), so there is "
                      "a Python loop (for, while, a comprehension or map) over samples, features or classes.", "rule")
    for run, want in zip(data["runs"], (answer or {}).get("runs", [])):
        if not _computes(run.get("value"), want, names, device_type):
            return failed(f"with {run['label']}: the outputs are not {case.function}'s on these inputs (none is right, "
                          "nor wrong the way a known mistake is): the no-loop rule is credited to code that "
                          "computes its outputs, on inputs it has not seen before", "values")
    return passed()


def _computes(desc, want, names, device_type) -> bool:
    """Whether a result shows some output computed: right, or wrong as a known mistake is."""
    if not isinstance(desc, dict):
        return False
    found = compare(desc, want["expected"], "result", dtype=torch.float64, device_type=device_type, names=names,
                    strict_dtype=False)
    problems = [p for p in found if p.kind != "dtype_note"]
    if not problems or right_outputs(desc, want["expected"], names, torch.float64, device_type):
        return True
    causes: list = []
    diagnose(desc, want.get("mistakes", []), problems, dtype=torch.float64, device_type=device_type, names=names,
             expected=want["expected"], causes=causes)
    return bool(causes)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a) + abs(b), 1e-8)


def judge_numeric_grad(case, payload, reply, answer, device_type) -> Verdict:
    """The student's analytic gradient against centred differences of the student's loss. When
    they disagree but the gradient is the reference's at every point (``answer["gradient"]``), the
    loss is what is wrong (its own value cases say so): the gradient keeps its points here."""
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
    name = case.output or "the gradient"
    reference = (answer or {}).get("gradient")
    if reference and len(reference) == len(analytic) and all(
            isinstance(g, (int, float)) and _relative(g, r) < 1e-6 for g, r in zip(analytic, reference)):
        # The reference gradient on inputs the student has not seen is computed work, whatever the loss.
        if worst < allowed:
            return passed(warnings=notes)
        ix, a, n = where
        return passed(warnings=notes + [
            f"note: {name} is right (it matches the reference gradient at every point checked), but the numeric "
            f"gradient of your loss is {n:.8g} where {name}{tuple(ix)} = {a:.8g}: the loss is what is wrong, "
            "not the gradient (see the value cases)"])
    losses, loss = (answer or {}).get("losses"), reply.data.get("loss")
    if losses and not (isinstance(loss, (int, float)) and any(
            math.isclose(loss, want, rel_tol=1e-3 if coarse else 1e-7, abs_tol=1e-9) for want in losses)):
        return failed(f"the loss returned on these inputs, {loss!r}, is not this function's loss there (neither right "
                      "nor a known mistake's): the gradient check is credited to code that computes its loss",
                      "values", warnings=notes)
    if worst < allowed:
        return passed(warnings=notes)
    ix, a, n = where
    return failed(f"{name}{tuple(ix)} = {a:.8g}, but the numeric gradient of your own loss there is {n:.8g} "
                  f"(relative error {worst:.2e}, up to {allowed:g} allowed): the gradient does not match the loss",
                  "values", warnings=notes)
