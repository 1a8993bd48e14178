"""Judges of A3's networks (TwoLayerNet, FullyConnectedNet): the constructor's parameters, and
the loss and grads computed through stand-in layers, with where the chain of calls broke."""
import dataclasses
import math

import torch

from .....cases import Verdict, failed, passed
from .....compare import matches
from .....judges import judge_values, outcome_failure


def _accepted(verdict, case, payload, reply, answer, device_type):
    """A failed network verdict judged again against the key's accepted forms (the template's
    other regularization convention): it passes, with a note, when it matches one; when only its
    loss does, that form's mistakes name what else is wrong."""
    desc = reply.data["outcome"]["value"]
    for label, value, found in answer.get("accepted", []):
        again = judge_values(names=("loss", "grads"), wider_dtype=True)(
            case, payload, reply, {"expected": value, "mistakes": found}, device_type)
        note = (f"note: regularization {label}: accepted (the template asks for 0.5 * reg * sum(W * W) here, "
                "and TwoLayerNet's convention is as good)")
        if again.passed:
            return passed(warnings=list(again.warnings) + [note])
        items = desc.get("items") if isinstance(desc, dict) else None
        if items and matches(items[0], value[0], dtype=case.dtype, device_type=device_type):
            return dataclasses.replace(again, warnings=tuple(again.warnings) + (note,))
    return verdict


def _misses(reply) -> str:
    misses = reply.data.get("misses") or []
    if not misses:
        return ""
    first = misses[0]
    if first.get("instead"):
        last = " (the last layer is a Linear alone, without a ReLU)" if first["instead"].startswith("Linear.") else ""
        return (f"Where the chain breaks: call {first['number']} is {first['call']} where the network calls "
                f"{first['instead']}{last}.")
    wrong = first.get("argument") or {}
    if wrong.get("given") and wrong.get("expected"):
        hint = (" (ReLU.backward's cache is the ReLU's input x, as ReLU.forward returns it: a backward that masks "
                "where x < 0 masks nothing in the ReLU's output)") if first["call"] == "ReLU.backward" else ""
        return (f"Where the chain breaks: call {first['number']}, {first['call']}, was given as {wrong['name']} "
                f"{wrong['given']}, where the right chain gives it {wrong['expected']}{hint}.")
    what = f" (it was {first['input']})" if first.get("input") else ""
    return (f"Where the chain breaks: call {first['number']}, {first['call']}, was given an input the layers before "
            f"it do not produce{what}; the grader's stand-in layers answer only along the right chain of calls "
            "(linear - ReLU [- dropout] ... - linear - softmax_loss, then back through the same caches).")


def judge_net_loss(case, payload, reply, answer, device_type) -> Verdict:
    """loss and grads (or the scores, without y) of a network whose layers are stand-ins."""
    names = ("scores",) if payload.get("y") is None else ("loss", "grads")
    # the layers are asked by hand: nothing from torch.nn (F.linear, F.relu, F.cross_entropy) in the network either
    verdict = judge_values(names=names, rules=("no_relu",), wider_dtype=True)(case, payload, reply, answer, device_type)
    if verdict.passed or reply.failure or not reply.data:
        return verdict
    verdict = _accepted(verdict, case, payload, reply, answer, device_type)
    if verdict.passed:
        return verdict
    extra = [m for m in (_misses(reply),) if m]
    if reply.data.get("extra_grads"):
        extra.append(f"grads holds keys that are not parameters: {', '.join(reply.data['extra_grads'])}")
    if reply.data.get("mutated"):
        extra.append(f"the network's parameters were changed in place by loss(): {', '.join(reply.data['mutated'])}")
    if not extra:
        return verdict
    return dataclasses.replace(verdict, diagnosis=" ".join(filter(None, [verdict.diagnosis] + extra)))


def judge_net_init(case, payload, reply, answer, device_type) -> Verdict:
    """The parameters' names and shapes, dtype and device, zero biases, and weights drawn from a
    Gaussian of standard deviation weight_scale (mean and spread measured over every weight)."""
    verdict = outcome_failure(reply, f"{payload['class']}(...)")
    if verdict:
        return verdict
    value = reply.data["outcome"]["value"]
    params = value.get("items", {}).get("params", {}) if isinstance(value, dict) else {}
    if params.get("kind") != "map":
        return failed("self.params must be a dict of the parameters", "values")
    items = params["items"]
    dims, scale = answer["dims"], answer["weight_scale"]
    L = len(dims) - 1
    want = {f"{k}{i}" for i in range(1, L + 1) for k in "Wb"}
    problems = []
    if set(items) != want:
        return failed(f"self.params holds {sorted(items)}; expected {sorted(want, key=lambda s: (s[1:], s[0]))}",
                      "values")
    weights = []
    for i in range(1, L + 1):
        for name, shape in ((f"W{i}", (dims[i - 1], dims[i])), (f"b{i}", (dims[i],))):
            d = items[name]
            if d.get("kind") != "tensor":
                problems.append(f"{name} is not a tensor")
                continue
            t = d["value"]
            if tuple(t.shape) != shape:
                problems.append(f"{name} has shape {tuple(t.shape)}, expected {shape}")
            elif d["dtype"] != answer["dtype"].replace("torch.", ""):
                given = answer["dtype"].replace("torch.", "")
                problems.append(f"{name} is {d['dtype']}, expected the dtype given, {given}")
            elif d["device"].split(":")[0] != device_type:
                problems.append(f"{name} is on {d['device']}, expected the device given ({device_type})")
            elif name.startswith("b") and bool((t != 0).any()):
                problems.append(f"{name} must be initialized to zeros")
            elif name.startswith("W"):
                weights.append(t.double().flatten())
    if problems:
        return failed("; ".join(problems), "values")
    w = torch.cat(weights)
    n, mean, std = w.numel(), float(w.mean()), float(w.std())
    if abs(std - scale) > 0.1 * scale or abs(mean) > 6 * scale / math.sqrt(n):
        why = ""
        if abs(std - scale * scale) < 0.1 * scale * scale:
            why = " (weight_scale squared: weight_scale is the standard deviation, not the variance)"
        elif abs(std - 1.0) < 0.1:
            why = " (the weights are not multiplied by weight_scale)"
        elif abs(mean - 0.5 * scale) < 0.1 * scale:
            why = " (uniform on [0, weight_scale): use torch.randn, a Gaussian centred at 0)"
        return failed(f"the weights have mean {mean:.3g} and standard deviation {std:.3g} over {n} entries; expected "
                      f"a Gaussian centred at 0 with standard deviation weight_scale = {scale:g}{why}", "values")
    if n >= 20 and int(torch.unique(w).numel()) < n // 2:
        return failed(f"the weights take only {int(torch.unique(w).numel())} distinct values over {n} entries: they must "
                      "be drawn at random from a Gaussian (weight_scale * torch.randn(...)), not a pattern; hidden "
                      "units made alike stay alike in training", "values")
    reg = value["items"].get("reg", {})
    if reg.get("kind") == "number" and abs(float(reg["value"]) - answer["reg"]) > 1e-12:
        return failed(f"self.reg is {reg['value']}, expected the reg given ({answer['reg']})", "values")
    return passed()
