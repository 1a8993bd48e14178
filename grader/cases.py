"""Checks are data: each :class:`Case` names the function it grades, its points, its
visibility, how its inputs are built, which probe runs it in the student process, how the
expected value is computed from the solution, and how the reply is judged.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

PUBLIC, HIDDEN = "public", "hidden"

# The graded functions in assignment order, with the file each lives in.
FUNCTIONS: Dict[str, str] = {
    "svm_loss_naive": "linear_classifier",
    "svm_loss_vectorized": "linear_classifier",
    "softmax_loss_naive": "linear_classifier",
    "softmax_loss_vectorized": "linear_classifier",
    "sample_batch": "linear_classifier",
    "train_linear_classifier": "linear_classifier",
    "predict_linear_classifier": "linear_classifier",
    "svm_get_search_params": "linear_classifier",
    "softmax_get_search_params": "linear_classifier",
    "test_one_param_set": "linear_classifier",
    "LinearClassifier": "linear_classifier",
    "nn_forward_pass": "two_layer_net",
    "nn_forward_backward": "two_layer_net",
    "nn_train": "two_layer_net",
    "nn_predict": "two_layer_net",
    "nn_get_search_params": "two_layer_net",
    "find_best_net": "two_layer_net",
    "TwoLayerNet": "two_layer_net",
    "best_models": "checkpoints",
}


@dataclass(frozen=True)
class Verdict:
    status: str  # "passed", "failed" or "not graded"
    message: str = ""
    diagnosis: str = ""
    warnings: Tuple[str, ...] = ()
    # What failed, for reports: "not implemented", "error", "timeout", "rule", "values", ...
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def passed(message: str = "", warnings=()) -> Verdict:
    return Verdict("passed", message, warnings=tuple(warnings))


def failed(message: str, reason: str, diagnosis: str = "", warnings=()) -> Verdict:
    return Verdict("failed", message, diagnosis, tuple(warnings), reason)


@dataclass(frozen=True)
class Case:
    check: str  # the graded function, a key of FUNCTIONS
    name: str
    points: float
    visibility: str
    probe: Optional[str]  # probe run in the student process; None: judged in the grader alone
    build: Callable[[], Dict[str, Any]]  # deterministic payload for the probe
    judge: Callable[..., Verdict]
    expect: Optional[Callable[[Any, Dict[str, Any]], Any]] = None  # (reference, payload) -> expected
    dtype: torch.dtype = torch.float64
    timeout: Optional[float] = None
    meta: Dict[str, Any] = field(default_factory=dict)  # seed and shapes, for fixtures and reports

    @property
    def key(self) -> str:
        return f"{self.check}: {self.name}"

    @property
    def needs_fixture(self) -> bool:
        return self.expect is not None and self.visibility == PUBLIC


def all_cases() -> List[Case]:
    from .catalogue_linear import CASES as linear
    from .catalogue_net import CASES as net
    from .catalogue_models import CASES as models

    return linear + net + models


def select(cases: List[Case], functions=None, hidden: bool = False) -> List[Case]:
    """Cases for the named functions (all when None), hidden ones only when asked."""
    if functions:
        unknown = sorted(set(functions) - set(FUNCTIONS))
        if unknown:
            raise KeyError(f"unknown function(s) {', '.join(unknown)}; graded functions are: {', '.join(FUNCTIONS)}")
        cases = [c for c in cases if c.check in functions]
    return [c for c in cases if hidden or c.visibility == PUBLIC]
