"""Judges of A3's update rules (sgd_momentum, rmsprop, adam): every step's next_w and the state
kept in config, with the known mistake whose rule gives the student's steps."""
import torch

from .....cases import Verdict, failed, passed
from .....compare import compare, matches
from .....judges import error_verdict, outcome_failure, rule_findings
from .common import tensor_of, with_causes


def _state_problem(label, got, want, names, dtype, device_type):
    """What differs between a step's state (config's entries named) and the expected one."""
    for name in names:
        entry = got.get(name) if isinstance(got, dict) else None
        expected = want.get(name)
        if entry is None:
            return f"{label}: config['{name}'] is missing (keep the rule's state in config)"
        if isinstance(expected, torch.Tensor):
            problems = compare(entry, expected, f"config['{name}']", dtype=dtype, device_type=device_type)
            problems = [p for p in problems if p.kind != "dtype_note"]
            if problems:
                return f"{label}: {problems[0].message}"
        elif entry.get("kind") != "number" or abs(float(entry["value"]) - float(expected)) > 1e-9:
            return f"{label}: config['{name}'] is {entry.get('value', entry.get('kind'))!r}, expected {expected!r}"
    return None


def _w_fits(desc, w, dtype, device_type) -> bool:
    """Whether the student's next_w is ``w``; where ``w`` is inf or nan (a rule that divides by
    zero), the student's must be too, at the same places."""
    if bool(torch.isfinite(w).all()):
        return matches(desc, w, dtype=dtype, device_type=device_type)
    got = tensor_of(desc)
    if got is None or tuple(got.shape) != tuple(w.shape) or not torch.equal(torch.isfinite(got), torch.isfinite(w)):
        return False
    finite = torch.isfinite(w)
    return not finite.any() or bool(torch.allclose(got[finite], w[finite].double(), rtol=1e-5, atol=1e-8))


def _steps_fit(steps, seq, state, dtype, device_type) -> bool:
    """Whether every step's next_w (and the state named) is the sequence's, up to the first step
    whose next_w is not finite (the student's would have to be the same there: later steps of
    such a rule say nothing)."""
    for entry, (w, config) in zip(steps, seq):
        value = entry.get("value")
        if not (isinstance(value, dict) and value.get("kind") == "seq" and len(value.get("items", [])) == 2):
            return False
        if not _w_fits(value["items"][0], w, dtype, device_type):
            return False
        if not bool(torch.isfinite(w).all()):
            return True
        if _state_problem("", value["items"][1].get("items", {}), config, state, dtype, device_type):
            return False
    return len(steps) >= len(seq)


def judge_optimizer(case, payload, reply, answer, device_type) -> Verdict:
    """Each step's next_w and state, in order; the first step that differs is named, with the
    known mistake whose rule gives the student's steps."""
    if reply.failure or not reply.data.get("steps"):  # nothing ran: the module's or the function's error
        return outcome_failure(reply) or failed("no step of the update rule ran", "error")
    steps = reply.data.get("steps") or []
    for k, entry in enumerate(steps):
        if entry.get("error"):
            return error_verdict(entry["error"], f"step {k + 1}")
    violations, notes = rule_findings(steps[0].get("trace", {}) if steps else {}, reply.data.get("mutated", []))
    expected, state = answer["expected"], answer["state"]
    problem = None
    for k, (entry, (w, config)) in enumerate(zip(steps, expected)):
        label = f"step {k + 1}" + (" (config=None: the defaults)" if k == 0 and payload["config"] is None else "")
        value = entry.get("value")
        if not (isinstance(value, dict) and value.get("kind") == "seq" and len(value.get("items", [])) == 2):
            problem = f"{label}: the rule must return (next_w, config)"
            break
        found = compare(value["items"][0], w, "next_w", dtype=case.dtype, device_type=device_type)
        found = [p for p in found if p.kind != "dtype_note"]
        if found:
            problem = f"{label}: {found[0].message}"
            break
        got_config = value["items"][1]
        if got_config.get("kind") != "map":
            problem = f"{label}: the config returned is not a dict"
            break
        problem = _state_problem(label, got_config["items"], config, state, case.dtype, device_type)
        if problem:
            break
    if problem is None and len(steps) < len(expected):
        problem = f"only {len(steps)} of {len(expected)} steps ran"
    if problem is None and not violations:
        return passed(warnings=notes)
    if problem:
        for label, seq in answer.get("accepted", []):
            if _steps_fit(steps, seq, state, case.dtype, device_type) and not violations:
                return passed(warnings=notes + [f"note: {label}: accepted"])
    diagnosis = ""
    found = answer.get("mistakes", []) if problem else []
    fit = next((m for m in found if _steps_fit(steps, m[2], state, case.dtype, device_type)), None) or next(
        (m for m in found if _steps_fit(steps, [(w, {}) for w, _ in m[2]], (), case.dtype, device_type)), None)
    if fit:
        diagnosis = f"Likely cause (next_w): {fit[0]}: {fit[1]}."
    message = "\n".join(violations + ([problem] if problem else []))
    verdict = failed(message, "values" if problem else "rule", diagnosis, notes)
    return with_causes(verdict, [(fit[0], ("next_w",))] if fit else [])
