"""Judges of A3's layers: Linear's and ReLU's forward and backward passes on their values, each
backward against centred differences of the student's own forward, and the given Linear_ReLU."""
import torch

from .....cases import Verdict, failed, passed
from .....judges import judge_values, outcome_failure, without_gradients
from .common import tensor_of


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
        out = tensor_of(reply.data["outcome"].get("value"))
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
