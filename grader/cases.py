"""Checks are data: each :class:`Case` names the function it grades, its points, its
visibility, the recipe its inputs are made from, the probe that runs it in the student
process, and the judge of the reply.

A case's inputs (the *payload*, sent to the student process) and its *answer* (the answer key:
expected values, known mistakes' results and whatever else the judge compares with, kept in
the grader process) are made by the instructor's side from the recipe: stored in
``grader/fixtures`` for public cases, made at grading time for hidden ones.
"""
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import torch

from .assignment import REGISTRY, resolve
from .student_side.payloads import Spec
from .student_side.probes import SPECS

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
    recipe: str = ""  # how the instructor's side makes its payload and answer
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
    # A case judged on the grading machine's data as well as on its reply (values the student's
    # code returns, trained with in the grader): its judge's payload carries ``data_dir``, the
    # folder holding the data sets (``--data-dir``), besides what the recipe made.
    needs_data: bool = False

    @property
    def id(self) -> str:
        return f"{self.function}: {self.name}"


class CatalogueError(ValueError):
    """A case names a probe or a recipe that no registry holds, or a recipe made a payload its
    probe does not declare."""


def probe_spec(name: str, assignment=None) -> Spec:
    """The declared payload of the probe called ``name``, among those the student process of
    ``assignment`` holds (the engine's and the assignment's own; None: any assignment's).
    CatalogueError, naming the probes there are, for any other name."""
    units = [resolve(assignment)] if assignment is not None else list(REGISTRY.values())
    for unit in units:  # registers its probes, as the student process does
        importlib.import_module(unit.student_side_module)
    holders = {"grader.student_side.probes"} | {unit.student_side_module for unit in units}
    spec = SPECS.get(name)
    if spec is None or spec.module not in holders:
        known = sorted(n for n, s in SPECS.items() if s.module in holders)
        where = f" in {units[0].title}" if assignment is not None else ""
        raise CatalogueError(f"no probe is called {name!r}{where}; the probes are: {', '.join(known)}")
    return spec


def checked(cases, assignment=None):
    """``cases``, each found to name a probe the student process of ``assignment`` holds (or none:
    judged in the grader alone, or from other cases); CatalogueError naming the case otherwise."""
    for case in cases:
        if case.probe is not None and case.probe not in FROM_OTHER_CASES:
            try:
                probe_spec(case.probe, assignment)
            except CatalogueError as exc:
                raise CatalogueError(f"case {case.id!r}: {exc}") from None
    return cases


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
