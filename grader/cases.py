"""Checks are data: each :class:`Case` names the function it grades, its points, its
visibility, the recipe its inputs are made from, the probe that runs it in the student
process, and the judge of the reply.

A case's inputs (the *payload*, sent to the student process) and its answer key (the *key*:
expected values, known mistakes' results and whatever else the judge compares with, kept in
the grader process) are made by the instructor's side from the recipe: stored in
``grader/fixtures`` for public cases, made at grading time for hidden ones.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import torch

from .assignment import resolve

PUBLIC, HIDDEN = "public", "hidden"

# Probes of cases that run nothing of their own: they are judged, once their function's value
# cases are, from those cases' replies (the device rule, from the traces of their calls).
FROM_OTHER_CASES = frozenset({"device_rule"})


@dataclass(frozen=True)
class Verdict:
    status: str  # "passed", "failed", "not graded" or "not run"
    message: str = ""
    diagnosis: str = ""
    warnings: Tuple[str, ...] = ()
    # What failed, for reports: "not implemented", "error", "timeout", "rule", "values", ...
    reason: str = ""
    # A failed value case with some outputs right: the code computes something (see
    # runner.credit_form_with_values).
    vouches: bool = False
    # What whoever runs the grader must set right (data missing on this machine, say): said
    # once per report however many cases share it, and never in a student's feedback.
    setup_note: str = ""
    # The outputs this case shows computed ("loss", "dW", "grads['W1']", ...): right, or wrong
    # the way a known mistake is (see runner.flag_hardcoding: each output is vouched for alone).
    computed: Tuple[str, ...] = ()
    # (torch calls, lines run) of the call, where its lines were counted (vectorized functions).
    work: Tuple[int, ...] = ()
    # The known mistakes the diagnosis names, each with the outputs it explains:
    # (("no factor 2 in the regularization", ("dW",)), ...). Scoring reads these, never the text.
    causes: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def passed(message: str = "", warnings=()) -> Verdict:
    return Verdict("passed", message, warnings=tuple(warnings))


def failed(message: str, reason: str, diagnosis: str = "", warnings=()) -> Verdict:
    return Verdict("failed", message, diagnosis, tuple(warnings), reason)


@dataclass(frozen=True)
class Case:
    function: str  # the graded function, a name in its assignment's ``functions``
    name: str
    points: float
    visibility: str
    probe: Optional[str]  # probe run in the student process; None: judged in the grader alone
    judge: Callable[..., Verdict]  # judge(case, payload, reply, answer, device_type) -> Verdict
    recipe: str = ""  # how the instructor's side makes its payload and key
    params: Dict[str, Any] = field(default_factory=dict)  # the recipe's settings (seeds, shapes, ...)
    dtype: torch.dtype = torch.float64
    timeout: Optional[float] = None
    # Student functions the probe replaces with stand-ins: a hang in one of them cannot be this
    # case's (see runner.skip_reason).
    standins: Tuple[str, ...] = ()
    # A form case: it judges how the function computes (its gradient agrees with its own loss, it
    # has no loops, its tensors follow the inputs' device), which code that computes nothing has
    # too, so it earns its points only where the function's value cases show it computed (see
    # runner.credit_form_with_values).
    form: bool = False
    # The output a form case checks ("dW", "grads['W1']", "dx"): only that output shown computed
    # by the value cases credits it. Empty: the function's outputs at large.
    output: str = ""
    # A public case whose inputs are made fresh, as a hidden case's are (salted with the
    # submission), when hidden cases are graded: a form case that code could otherwise recognise
    # by its published inputs and answer with the form it checks, computing nothing.
    fresh: bool = False
    # The outputs of a loss function's value case that are gradients ("dW"; "grads" for all of
    # grads['W1'], ...): derived by autograd or measured by finite differences, they count as
    # not computed (see judges.without_gradients). Empty: no output of this case is a gradient.
    gradients: Tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.function}: {self.name}"


def select(cases, functions=None, hidden: bool = False, assignment=None):
    """Cases for the named functions (all when None) of ``assignment`` (None: the kit's default
    one), hidden ones only when asked."""
    if functions:
        graded = resolve(assignment).functions
        unknown = sorted(set(functions) - set(graded))
        if unknown:
            raise KeyError(f"unknown function(s) {', '.join(unknown)}; graded functions are: {', '.join(graded)}")
        cases = [c for c in cases if c.function in functions]
    return [c for c in cases if hidden or c.visibility == PUBLIC]


OVERLOADED_NOTE = ("some cases were not graded: the grading machine could not set up the submission's process "
                   "(most likely overloaded); grade the submission again")


def not_graded_grader_side(reply) -> Verdict:
    """A case the grader could not run for its own reason (see ``Reply.grader_side``): not
    graded, never the student's failure, with a note to grade again."""
    return Verdict("not graded", reply.failure, reason="grader side", setup_note=OVERLOADED_NOTE)
