"""Best-model accuracy: the submitted checkpoints on CIFAR-10, evaluated in the grader process
with the kit's own prediction code (no student code runs). Without CIFAR-10 on the machine,
the cases are reported as not graded, with the reason."""
import functools
from typing import List

import torch

from .cases import PUBLIC, Case, Verdict, failed, passed

# The course's targets: test accuracy above these fractions.
TARGETS = {"svm": 0.35, "softmax": 0.36, "nn": 0.50}
KEYS = {"svm": {"W"}, "softmax": {"W"}, "nn": {"W1", "b1", "W2", "b2"}}


@functools.lru_cache(maxsize=2)
def _cifar(root, bias_trick):
    from helpers.data import preprocess_cifar10

    data = preprocess_cifar10(show_examples=False, bias_trick=bias_trick, root=root, download=False,
                              dtype=torch.float32)
    return data["X_test"], data["y_test"]


def nn_scores(state, X):
    """The two-layer net's forward pass, the kit's own: FC -> ReLU -> FC."""
    return (X.mm(state["W1"]) + state["b1"]).clamp(min=0).mm(state["W2"]) + state["b2"]


def predict_with(kind, state, X):
    if kind == "nn":
        return nn_scores(state, X).argmax(1)
    return X.mm(state["W"]).argmax(1)


def judge_best(kind):
    def judge(case, payload, reply, expected, device_type) -> Verdict:
        from helpers.data import DatasetUnavailable

        name = f"{kind}_best_model.pt"
        path = next((d / name for d in payload["checkpoint_dirs"] if (d / name).is_file()), None)
        try:
            X, y = _cifar(payload["data_dir"], kind != "nn")
        except DatasetUnavailable as exc:
            found = f"{name} was found" if path else f"{name} was not found either"
            return Verdict("not graded", f"CIFAR-10 is not on this machine, so {name} cannot be evaluated "
                           f"({found}). {exc}", reason="no data")
        if path is None:
            return failed(f"{name} was not submitted (save it from the notebook)", "missing")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a student file
            return failed(f"{name} does not load with torch.load: {exc}", "error")
        if not isinstance(state, dict) or set(state) != KEYS[kind] or not all(torch.is_tensor(v) for v in state.values()):
            return failed(f"{name} must hold exactly the tensors {sorted(KEYS[kind])}", "values")
        state = {k: v.detach().to(torch.float32) for k, v in state.items()}
        try:
            acc = (predict_with(kind, state, X) == y).double().mean().item()
        except RuntimeError as exc:
            return failed(f"{name} does not fit CIFAR-10's shapes: {exc}", "values")
        if acc > TARGETS[kind]:
            return passed(f"test accuracy {acc:.2%} (target above {TARGETS[kind]:.0%})")
        return failed(f"test accuracy {acc:.2%}, below the target of {TARGETS[kind]:.0%}", "values")
    return judge


CASES: List[Case] = [
    Case("best_models", f"{kind}_best_model.pt: CIFAR-10 test accuracy above {TARGETS[kind]:.0%}", 5, PUBLIC,
         None, dict, judge_best(kind))
    for kind in ("svm", "softmax", "nn")
]
