"""Judging pieces the two files' cases share: search grids, reported accuracies and the given
classes' save/load round trip."""
import math
from typing import List, Optional, Tuple

from ..cases import PUBLIC, Case, Verdict, failed, passed
from ..judges import DEVICE_RULE, judge_device_rule, outcome_failure, raised

DEVICE_POINTS = 0.5


def device_case(check: str) -> Case:
    """The case of the template's rule that tensors follow the inputs' device, for a function
    whose calls are traced. It runs nothing of its own: it is judged from the traces of the
    function's value cases (public and hidden), so a device named or moved to costs these points only,
    while the value cases judge the values (graded on the CPU, code that names the GPU is given
    the CPU)."""
    return Case(check, DEVICE_RULE, DEVICE_POINTS, PUBLIC, "device_rule", judge_device_rule, form=True)


def search_judge(labels, most: int, strictly_fewer: bool = False):
    """The template's rule for a search grid: at least two values in each list, and not too many
    combinations (``most``: at most that many, or fewer with ``strictly_fewer``). Any sequence
    of numbers counts as a list (a tuple, a range, a numpy array, a tensor)."""
    rule = (f"at least two values in each list and {'fewer than' if strictly_fewer else 'at most'} {most} "
            "combinations")

    def judge(case, payload, reply, answer, device_type) -> Verdict:
        verdict = outcome_failure(reply)
        if verdict:
            return verdict
        lists = reply.data.get("lists")
        if lists is None or len(lists) != len(labels):
            return failed(f"expected a tuple of {len(labels)} lists ({', '.join(labels)})", "values")
        sizes, short = [], []
        for label, entry in zip(labels, lists):
            values = entry["values"]
            if values is None:
                return failed(f"{label}: expected a list of numbers, got {entry['type']}", "values")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
                return failed(f"{label}: every value must be a finite number, got {values}", "values")
            if len(values) < 2:
                short.append(f"{label} has {len(values)} value(s)")
            if "hidden" in label and not all(float(v).is_integer() and v >= 1 for v in values):
                return failed(f"{label}: hidden sizes must be whole numbers of at least 1, got {values}", "values")
            sizes.append(len(values))
        if short:  # every list that is too short, named at once
            return failed(f"{', '.join(short)}; the template asks for {rule}", "values")
        combos = math.prod(sizes)
        if combos > most or (strictly_fewer and combos == most):
            return failed(f"{combos} combinations; the template asks for {rule}", "values")
        return passed()
    return judge


def _number(desc) -> Optional[float]:
    if desc.get("kind") == "number" and desc.get("type") != "bool":
        return float(desc["value"])
    return None


def accuracy_problem(reported: List[Tuple[str, dict, float]], whose: str) -> Optional[str]:
    """What is wrong with reported accuracies [(name, description, true fraction)], or None.

    Accuracies are Python floats (the template's docstrings; a tensor breaks the notebook's
    plots on CUDA), as fractions or as percentages (the course's own notebooks compute
    ``100.0 * ... .mean().item()``), one unit for all of them."""
    not_floats = []
    for name, desc, truth in reported:
        if _number(desc) is None:
            kind = "a tensor" if desc.get("kind") == "tensor" else desc.get("type", desc.get("kind"))
            not_floats.append(f"{name} must be a Python float (use .item()), got {kind}")
    if not_floats:  # every accuracy that is not a float, named at once
        return "; ".join(not_floats)
    units = set()
    for name, desc, truth in reported:
        got = _number(desc)
        if abs(truth) < 1e-12 and abs(got) < 1e-6:
            continue  # zero is zero in either unit
        if abs(got - truth) <= 1e-6:
            units.add("fraction")
        elif abs(got - 100.0 * truth) <= 1e-4:
            units.add("percent")
        else:
            return f"{name} is {got}, but {whose} accuracy is {truth:.6f} (or {100 * truth:.4f} %)"
    if len(units) > 1:
        return "use one unit for all accuracies: some are fractions and some percentages"
    return None


def round_trip_notes(trip, name: str, attribute: str) -> List[str]:
    """What went wrong in load(save(...)), as it happened: the step that raised, with the
    exception and the line, or how what came back differs."""
    if trip["error"]:
        return [f"{name}: load(save(...)) failed, {trip.get('step', 'a step')} {raised(trip['error'])}"]
    if not trip["same"]:
        return [f"{name}: load(save(...)) does not give back the same {attribute}"
                + (f" ({trip['difference']})" if trip.get("difference") else "")]
    return []
