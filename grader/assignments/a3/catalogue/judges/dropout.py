"""Judges of A3's Dropout: inverted dropout in train mode, the identity in test mode, and the
backward pass through the forward's own mask."""
import math
from typing import List

import torch

from .....cases import Verdict, failed, passed
from .....judges import error_verdict, outcome_failure, rule_findings
from .common import tensor_of, with_causes


def _dropout_called(trace) -> List[str]:
    """torch's own dropout (torch.dropout, its in-place and feature forms; torch.nn's are caught
    with the rest of torch.nn): the layer is asked by hand."""
    names = trace.get("names", []) if isinstance(trace, dict) else []
    used = sorted({n for n in names if isinstance(n, str) and "dropout" in n.rsplit(".", 1)[-1]})
    if not used:
        return []
    return [f"rule broken: write the dropout yourself (a mask drawn with torch.rand_like, say); it called "
            f"{', '.join(used)}"]


def judge_dropout_forward(case, payload, reply, answer, device_type) -> Verdict:
    """Train mode: every output is 0 or x / (1 - p), a fraction of about p dropped, the same mask
    for the same seed and another for another seed; test mode: x itself."""
    if reply.failure or not reply.data.get("runs"):  # nothing ran: the module's or the function's error
        return outcome_failure(reply) or failed("Dropout.forward did not run", "error")
    runs = reply.data.get("runs") or {}
    for label, entry in runs.items():
        if entry.get("error"):
            return error_verdict(entry["error"], f"Dropout.forward ({label} mode)" if label in ("train", "test")
                                 else f"Dropout.forward ({label})")
    x, p = payload["x"].double(), answer["p"]
    trace = runs.get("train", {}).get("trace", {})
    violations, notes = rule_findings(trace, reply.data.get("mutated", []), ("no_relu",))
    violations += _dropout_called(trace)
    for label, entry in runs.items():
        if (entry.get("value") or {}).get("kind") == "not a pair":
            return failed(f"Dropout.forward ({label}) returned a {entry['value']['type']}: it must return "
                          "(out, cache), as the given code does (cache = (dropout_param, mask))", "values")
    out = tensor_of(runs["train"].get("value"))
    if out is None or tuple(out.shape) != tuple(x.shape):
        return failed(f"in train mode, out must be a tensor shaped like x {tuple(x.shape)}", "values")
    desc = runs["train"]["value"]
    if desc.get("dtype") != str(payload["x"].dtype).replace("torch.", ""):
        violations.append(f"out is {desc.get('dtype')}; it must keep x's dtype")
    # a mask made in float32 (bool / (1 - p) is float32 whatever x is) scales by 1 / (1 - p) rounded
    # to float32: within a few parts in ten million, which the course's own checks accept
    rtol = 1e-6
    dropped = out.abs() <= 1e-12 * x.abs()
    kept = ~dropped
    fraction = float(dropped.double().mean())
    n = out.numel()
    spread = 6 * math.sqrt(p * (1 - p) / n)
    ratio = out[kept] / x[kept]
    found = []  # (message, label, explanation): every problem of the train and test modes, named at once

    def scaled(by):
        return bool(kept.any()) and torch.allclose(ratio, torch.full_like(ratio, by), rtol=rtol, atol=0)

    if scaled(1.0):
        found.append((f"kept units are x itself: inverted dropout divides them by 1 - p = {1 - p:g}",
                      "scaling missing", "the survivors must be scaled by 1 / (1 - p) in training (inverted "
                      "dropout), so that test time needs no rescaling"))
    elif scaled(1 / p):
        found.append((f"kept units are x / p; inverted dropout divides them by 1 - p = {1 - p:g}", "scaled by 1 / p",
                      "p is the probability of DROPPING a unit: the survivors are divided by 1 - p"))
    elif scaled(1 - p):
        found.append((f"kept units are x * (1 - p); inverted dropout divides them by 1 - p = {1 - p:g}",
                      "multiplied by 1 - p instead of divided", "the survivors are scaled UP: mask / (1 - p), so "
                      "that the expected output equals x"))
    elif not scaled(1 / (1 - p)):
        found.append((f"every output must be 0 or x / (1 - p) = x / {1 - p:g}", "", ""))
    if abs(fraction - (1 - p)) <= spread and abs(fraction - p) > spread:
        found.append((f"{fraction:.3f} of the units were dropped, where p = {p:g} asks for about {p:g}",
                      "p taken as the probability of keeping", "p is the probability of DROPPING a unit: keep each "
                      "with probability 1 - p (e.g. mask = torch.rand_like(x) > p)"))
    elif abs(fraction - p) > spread:
        found.append((f"{fraction:.3f} of the units were dropped, where p = {p:g} asks for about {p:g} "
                      f"(within {spread:.3f} for {n} units)", "", ""))
    if not found and 0 < fraction < 1:
        # each unit dropped on its own: a mask of independent draws changes between dropped and
        # kept about 2 p (1 - p) times per unit along x's entries; blocks or stripes of a
        # pattern change far less often (a run-count test, at 6 standard deviations)
        flat = dropped.reshape(-1)
        changes = int((flat[1:] != flat[:-1]).sum())
        expected = 2 * fraction * (1 - fraction) * (n - 1)
        if changes < expected - 6 * math.sqrt(expected) - 2:
            found.append((f"the units are not dropped one by one at random: the mask changes between dropped and "
                          f"kept {changes} times along x, where independent draws change about {expected:.0f} times "
                          "(each unit is kept with probability 1 - p on its own: torch.rand_like(x) >= p)", "", ""))
    if not found:
        again, other = tensor_of(runs.get("again", {}).get("value")), tensor_of(runs.get("other seed", {}).get("value"))
        if again is None or not torch.equal(again, out):
            found.append(("two calls with the same dropout_param['seed'] gave different masks: draw the mask from "
                          "torch's global generator after the given torch.manual_seed (torch.rand_like(x), "
                          "torch.rand(..., device=x.device))", "", ""))
        elif other is not None and torch.equal(other, out):
            found.append(("another seed gave the same mask: the mask must be drawn at random", "", ""))
        elif reply.data.get("unseeded_same"):
            found.append(("two calls without a seed in dropout_param drew the same mask: torch's generator is "
                          "reseeded only when dropout_param holds a 'seed' (the given code), so that training drops "
                          "other units at every step", "", ""))
    messages = [f"train mode: {m}" for m, _, _ in found]
    causes = [f"{label}: {text}" for _, label, text in found if label]
    test = tensor_of(runs.get("test", {}).get("value"))
    if test is None or not torch.allclose(test, x, rtol=rtol, atol=0):
        messages.append("test mode: Dropout.forward must return x unchanged")
        if test is not None and torch.allclose(test, x * (1 - p), rtol=rtol, atol=0):
            causes.append("scaled at test time: inverted dropout already scaled in training; at test time out = x")
        elif test is not None and bool((test == 0).any()):
            causes.append("dropout applied at test time: in test mode out = x")
    if messages:
        diagnosis = " ".join(f"Likely cause (out): {c}." for c in causes)
        verdict = failed("\n".join(violations + messages), "values", diagnosis, notes)
        return with_causes(verdict, [(c.split(":")[0], ("out",)) for c in causes])
    if violations:
        return failed("\n".join(violations), "rule", warnings=notes)
    return passed(warnings=notes)


def judge_dropout_backward(case, payload, reply, answer, device_type) -> Verdict:
    """dx = dout through the forward's own mask (dx == dout * out / x); with the template's cache
    when the forward cannot be run (dx == dout * mask)."""
    verdict = outcome_failure(reply, "Dropout.backward")
    if verdict:
        return verdict
    violations, notes = rule_findings(reply.data["outcome"].get("trace", {}), [], ("no_relu",))
    dx = tensor_of(reply.data["outcome"]["value"])
    dout, x, p = payload["dout"].double(), payload["x"].double(), answer["p"]
    if reply.data.get("own_cache"):
        out = tensor_of(reply.data["out"])
        want = dout * out / x
        source = "the mask of your own Dropout.forward (dx = dout * out / x)"
    else:
        want = dout * payload["mask"].double()
        source = "the cache's mask (0 or 1 / (1 - p))"
    rtol = 1e-9 if payload["dout"].dtype == torch.float64 else 1e-5
    if dx is None or tuple(dx.shape) != tuple(dout.shape):
        return failed(f"dx must be a tensor shaped like dout {tuple(dout.shape)}", "values")
    if not torch.allclose(dx, want, rtol=rtol, atol=1e-12):
        diagnosis = ""
        zero_want, zero_got = want == 0, dx == 0
        if torch.equal(zero_want, zero_got) and torch.allclose(dx * (1 - p), want, rtol=rtol, atol=1e-12):
            diagnosis = ("Likely cause (dx): scaled twice: the mask already holds 1 / (1 - p); dx = dout * mask.")
        elif torch.equal(zero_want, zero_got) and torch.allclose(dx / (1 - p), want, rtol=rtol, atol=1e-12):
            diagnosis = ("Likely cause (dx): the 1 / (1 - p) scaling missing in backward: the kept units were scaled "
                         "by it in the forward pass, so their gradient is too.")
        elif not torch.equal(zero_want, zero_got):
            diagnosis = ("Likely cause (dx): mask not reused: backward must use the mask the forward pass drew "
                         "(the cache's), not draw a new one.")
        verdict = failed(f"dx must be dout through {source}", "values", diagnosis, notes)
        return with_causes(verdict, [(diagnosis.split(": ")[1], ("dx",))] if diagnosis else [])
    test = reply.data.get("test", {})
    if test.get("error") is None:
        t = tensor_of(test.get("value"))
        if t is not None and not torch.allclose(t, dout, rtol=rtol, atol=0):
            notes.append("note: in test mode backward returns dout (given code)")
    if violations:
        return failed("\n".join(violations), "rule", warnings=notes)
    return passed(warnings=notes)
