"""Assignment 3's judges: what a reply must show for each kind of case (the engine's generic
judges are used where they fit: ``judge_values`` for layer outputs and networks' loss and grads)."""
import dataclasses
import math
from typing import List

import torch

from ....cases import Verdict, failed, passed
from ....compare import compare, matches
from ....judges import error_verdict, judge_values, outcome_failure, rule_findings, without_gradients

F64 = torch.float64


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a) + abs(b), 1e-8)


def judge_layer_numeric(case, payload, reply, answer, device_type) -> Verdict:
    """The backward's gradient against centred differences of the student's own forward. A
    gradient equal to the reference's at every entry keeps the case whatever the forward does
    (its own cases judge it)."""
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    if reply.data.get("unusable"):
        return failed(f"not checked: {reply.data['unusable']} (its own cases say more)", "values")
    analytic, numeric = reply.data["analytic"], reply.data["numeric"]
    name = payload["wrt"]
    reference = (answer or {}).get("gradient")
    if reference and len(reference) == len(analytic) and all(
            isinstance(a, (int, float)) and _relative(a, r) < 1e-6 for a, r in zip(analytic, reference)):
        return passed()
    worst, where = 0.0, None
    for ix, a, n in zip(payload["coords"], analytic, numeric):
        err = _relative(a, n)
        if err >= worst:
            worst, where = err, (ix, a, n)
    if worst >= 1e-5 and reply.data.get("forward_changes_input"):
        # the cache the backward got is the input the forward overwrote: that bug is the forward's (its
        # cases name it), and the backward's own value cases judge it on caches made right
        return passed(warnings=[f"note: not checked: your {payload['forward']} changes its input in place, so "
                                "the cache it hands to the backward pass is not the input it was given"])
    if worst < 1e-5:
        return failed(f"{name} agrees with the differences of your own {payload['forward']}, but not with the true "
                      f"gradient: the forward pass itself is wrong (see its cases)", "values")
    ix, a, n = where
    return failed(f"{name}{tuple(ix)} = {a:.8g} from {payload['backward']}, but centred differences of your own "
                  f"{payload['forward']} give {n:.8g} there (relative error {worst:.2e}): the backward pass does "
                  "not match the forward pass", "values")


def _accepted(verdict, case, payload, reply, answer, device_type):
    """A failed network verdict judged again against the key's accepted forms (the template's
    other regularization convention): it passes, with a note, when it matches one; when only its
    loss does, that form's mistakes name what else is wrong."""
    desc = reply.data["outcome"]["value"]
    for label, value, found in answer.get("accepted", []):
        again = judge_values(names=("loss", "grads"), wider_dtype=True)(case, payload, reply,
                                                                        {"expected": value, "mistakes": found},
                                                                        device_type)
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


def judge_layer_values(names):
    """A layer's forward or backward judged on its values (nothing from torch.nn); a backward that
    runs its own layer's forward again measures its gradient rather than deriving it: the gradient
    outputs earn nothing."""
    inner = judge_values(names=names, rules=("no_relu",), wider_dtype=True)

    def judge(case, payload, reply, answer, device_type) -> Verdict:
        verdict = inner(case, payload, reply, answer, device_type)
        calls = (reply.data or {}).get("forward_calls", 0) if case.gradients and not reply.failure else 0
        if not calls or verdict.reason == "rule" and "finite differences" in verdict.message:
            return verdict
        layer = case.function.rsplit(".", 1)[0]
        return without_gradients(verdict, case, [], [f"{layer}.forward called {calls} time{'s' if calls > 1 else ''} "
                                                    f"by {case.function}"])
    return judge


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
                problems.append(f"{name} is {d['dtype']}, expected the dtype given, {answer['dtype'].replace('torch.', '')}")
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
    reg = value["items"].get("reg", {})
    if reg.get("kind") == "number" and abs(float(reg["value"]) - answer["reg"]) > 1e-12:
        return failed(f"self.reg is {reg['value']}, expected the reg given ({answer['reg']})", "values")
    return passed()


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
    got = _tensor(desc)
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
    return _naming(verdict, [(fit[0], ("next_w",))] if fit else [])


def _tensor(desc):
    return desc["value"].double() if isinstance(desc, dict) and desc.get("kind") == "tensor" else None


def _naming(verdict, causes):
    """A failed verdict that names known mistakes: the outputs they explain count as computed
    (wrong the way a known mistake is: honest code), as the engine's judges record them."""
    if not causes:
        return verdict
    outputs = tuple(dict.fromkeys(o for _, paths in causes for o in paths))
    return dataclasses.replace(verdict, causes=tuple(causes), vouches=True, computed=outputs)


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
            return failed(f"Dropout.forward ({label}) returned a {entry['value']['type']}: it must return (out, cache), "
                          "as the given code does (cache = (dropout_param, mask))", "values")
    out = _tensor(runs["train"].get("value"))
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
    if not found:
        again, other = _tensor(runs.get("again", {}).get("value")), _tensor(runs.get("other seed", {}).get("value"))
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
    test = _tensor(runs.get("test", {}).get("value"))
    if test is None or not torch.allclose(test, x, rtol=rtol, atol=0):
        messages.append("test mode: Dropout.forward must return x unchanged")
        if test is not None and torch.allclose(test, x * (1 - p), rtol=rtol, atol=0):
            causes.append("scaled at test time: inverted dropout already scaled in training; at test time out = x")
        elif test is not None and bool((test == 0).any()):
            causes.append("dropout applied at test time: in test mode out = x")
    if messages:
        diagnosis = " ".join(f"Likely cause (out): {c}." for c in causes)
        verdict = failed("\n".join(violations + messages), "values", diagnosis, notes)
        return _naming(verdict, [(c.split(":")[0], ("out",)) for c in causes])
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
    dx = _tensor(reply.data["outcome"]["value"])
    dout, x, p = payload["dout"].double(), payload["x"].double(), answer["p"]
    if reply.data.get("own_cache"):
        out = _tensor(reply.data["out"])
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
        return _naming(verdict, [(diagnosis.split(": ")[1], ("dx",))] if diagnosis else [])
    test = reply.data.get("test", {})
    if test.get("error") is None:
        t = _tensor(test.get("value"))
        if t is not None and not torch.allclose(t, dout, rtol=rtol, atol=0):
            notes.append("note: in test mode backward returns dout (given code)")
    if violations:
        return failed("\n".join(violations), "rule", warnings=notes)
    return passed(warnings=notes)


def judge_linear_relu_given(case, payload, reply, answer, device_type) -> Verdict:
    """Linear_ReLU is the template's given code: it earns nothing and costs nothing (a bug in
    Linear or ReLU is charged there alone); what is wrong with it is a note."""
    notes = []
    verdict = outcome_failure(reply, "Linear_ReLU.forward")
    if verdict:
        notes.append(verdict.message.split("\n")[0])
    else:
        names = [c[0] for c in reply.data.get("calls", [])]
        if "Linear.forward" not in names or "ReLU.forward" not in names:
            notes.append("Linear_ReLU.forward no longer hands its work to Linear.forward and ReLU.forward")
        out = _tensor(reply.data["outcome"].get("value"))
        if out is None or not torch.allclose(out, answer["out"].double()):
            notes.append("Linear_ReLU.forward does not return ReLU.forward's output")
        back = reply.data.get("backward") or {}
        if back.get("error"):
            notes.append("Linear_ReLU.backward " + back["error"].get("type", "raised"))
        elif "Linear.backward" not in names or "ReLU.backward" not in names:
            notes.append("Linear_ReLU.backward no longer hands its work to ReLU.backward and Linear.backward")
    if not notes:
        return passed()
    return passed(warnings=["note (no points: Linear_ReLU is the template's given code, keep it as handed out): "
                            + "; ".join(notes)])


def judge_solver_instance(case, payload, reply, answer, device_type) -> Verdict:
    """A Solver built on a TwoLayerNet and the data given, with the device given, returned (the
    50% validation accuracy it must reach needs CIFAR-10: not judged here). The TwoLayerNet the
    given line builds is a stand-in: the constructor is graded on its own."""
    verdict = outcome_failure(reply, "create_solver_instance")
    if verdict:
        return verdict
    data = reply.data
    if not data.get("made"):
        return failed("create_solver_instance must build a Solver (solver = Solver(model, data_dict, ...))", "values")
    problems: List[str] = []
    if not data.get("returned"):
        problems.append("the Solver built is not the one returned (return solver)")
    subclass = data.get("subclass")
    if subclass:
        defines = ", ".join(subclass.get("defines") or []) or "nothing"
        problems.append(f"the Solver built is a {subclass.get('name')}, a subclass of Solver (defining {defines}): "
                        "build the Solver given (Solver(model, data_dict, ...)), whose train is the one graded")
    if data.get("model") not in ("TwoLayerNet", "FullyConnectedNet"):
        problems.append(f"the Solver trains a {data.get('model')}, not the model made (a TwoLayerNet)")
    if not data.get("same_data"):
        problems.append("the Solver must be given data_dict itself")
    kwargs = data.get("kwargs", {})
    device = kwargs.get("device")
    if device is None and device_type != "cpu":
        problems.append("the Solver was given no device, so it trains on its default 'cpu' while the model is on "
                        f"{device_type}: pass device=device")
    elif device is not None and (device.get("kind") != "str" or device["value"].split(":")[0] != device_type):
        shown = device.get("value", device.get("kind"))
        problems.append(f"the Solver was given device={shown!r} while create_solver_instance was called with "
                        f"device={device_type!r}: pass the device given (device=device), never a device written out")
    if problems:
        return failed("; ".join(problems), "values")
    notes = ["note: whether training reaches 50% validation accuracy needs CIFAR-10 and is not judged here (the "
             "notebook shows it)"]
    if device is None:
        notes.append("note: the Solver was given no device, so it trains on its default 'cpu': right here, but on the "
                     "GPU the course runs this on, the model and the batches would be on different devices (pass "
                     "device=device)")
    return passed(warnings=notes)


def _evaluation(data_dir):
    """(A3's CIFAR-10 evaluation, or None in a handout; why the data cannot be had, or None)."""
    from ....mode import instructor_module

    evaluate = instructor_module("evaluate", "a3")
    if evaluate is None:
        return None, "the course staff evaluates this on CIFAR-10"
    return evaluate, evaluate.data_problem(data_dir)


def _data_dir(payload):
    if isinstance(payload, dict) and payload.get("data_dir"):
        return payload["data_dir"]
    from helpers.data import default_data_dir

    return str(default_data_dir())


# The (weight_scale, learning_rate) the template's given lines start the searches from
TEMPLATE_SEARCH_VALUES = {"get_three_layer_network_params": (1e-2, 1e-4),
                          "get_five_layer_network_params": (1e-5, 2e-3)}


def judge_search_values(case, payload, reply, answer, device_type) -> Verdict:
    """Two positive finite numbers, which overfit 50 CIFAR-10 samples within 20 epochs when the
    solution's network is trained with them as the notebook trains it; "not graded" without
    CIFAR-10 on the grading machine."""
    verdict = outcome_failure(reply, case.function)
    if verdict:
        return verdict
    value = reply.data["outcome"]["value"]
    items = value.get("items", []) if isinstance(value, dict) and value.get("kind") == "seq" else []
    numbers = [i.get("value") for i in items if i.get("kind") == "number" and i.get("type") != "bool"]
    if len(items) != 2 or len(numbers) != 2 or not all(math.isfinite(v) and v > 0 for v in numbers):
        return failed("must return (weight_scale, learning_rate), two positive numbers", "values")
    ws, lr = numbers
    if (ws, lr) == TEMPLATE_SEARCH_VALUES.get(case.function):
        return failed(f"returns the template's starting values (weight_scale={ws:g}, learning_rate={lr:g}) "
                      "unchanged: the search is not done (the template gives them to be changed, and they do not "
                      "overfit the 50 samples in 20 epochs)", "values")
    evaluate, problem = _evaluation(_data_dir(payload))
    if problem:
        return Verdict("not graded", f"returns weight_scale={ws:g}, learning_rate={lr:g}; whether they reach 100% "
                       "training accuracy on 50 CIFAR-10 samples within 20 epochs needs CIFAR-10, which is not on "
                       "the grading machine", reason="no data", setup_note=problem if evaluate else "")
    best = evaluate.overfit_accuracy(case.function, ws, lr, _data_dir(payload))
    if best >= 1.0:
        return passed()
    return failed(f"with weight_scale={ws:g} and learning_rate={lr:g} the network reaches {best:.0%} training "
                  "accuracy on the 50 samples within 20 epochs, not 100%", "values")


BEST_TARGETS = {"best_two_layer_net.pth": ("validation", 0.50), "best_overfit_five_layer_net.pth": ("training", 1.0)}


def judge_best_models(case, payload, reply, answer, device_type) -> Verdict:
    """A checkpoint's accuracy on CIFAR-10 (the notebook's targets: 50% on validation for the
    two-layer net, 100% on the 50 samples the five-layer net overfits); "not graded" without
    the data."""
    name = case.params["file"]
    path = next((d / name for d in payload["checkpoint_dirs"] if (d / name).is_file()), None)
    evaluate, problem = _evaluation(payload.get("data_dir"))
    if problem:
        return Verdict("not graded", f"{name} was {'found' if path else 'not found'}; it is evaluated on CIFAR-10, "
                       "which is not on the grading machine", reason="no data",
                       setup_note=problem if evaluate else "")
    if path is None:
        return failed(f"{name} was not submitted (save it from the notebook)", "missing")
    if path.stat().st_size > 64 << 20:
        return failed(f"{name} is larger than 64 MiB: save only the network (its save method)", "error")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        which, target = BEST_TARGETS[name]
        accuracy = evaluate.checkpoint_accuracy(name, state, payload["data_dir"])
    except Exception as exc:  # noqa: BLE001 - a file that is not the network's checkpoint
        return failed(f"{name} could not be evaluated: {type(exc).__name__}: {str(exc)[:300]} (save it with the "
                      "network's save method)", "error")
    if accuracy >= target:
        return passed(f"{which} accuracy {accuracy:.1%}")
    return failed(f"{name}: {which} accuracy {accuracy:.1%}, below the notebook's target of {target:.0%}", "values")
