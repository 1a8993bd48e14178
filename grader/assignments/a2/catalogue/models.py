"""Best-model accuracy: the submitted checkpoints, evaluated on the CIFAR-10 test set in the
grader process (no student code runs). The evaluation itself stays with the instructor
(``grader.instructor.evaluate``); a student's own check only says whether each checkpoint is
there and has the right shape. Without CIFAR-10 on the machine the cases are not graded, with
the reason."""
import zipfile
from typing import List

import torch

from ....cases import PUBLIC, Case, Verdict, failed, passed
from ....mode import instructor_module
from ....submission import MAX_CHECKPOINT_BYTES

# The course's targets: test accuracy above these fractions.
TARGETS = {"svm": 0.35, "softmax": 0.36, "nn": 0.50}
KEYS = {"svm": {"W"}, "softmax": {"W"}, "nn": {"W1", "b1", "W2", "b2"}}


def _shape_problem(kind, state):
    if kind == "nn":
        W1, b1, W2, b2 = (state[k] for k in ("W1", "b1", "W2", "b2"))
        if W1.dim() != 2 or W2.dim() != 2 or b1.shape != (W1.shape[1],) or W2.shape[0] != W1.shape[1] \
                or b2.shape != (W2.shape[1],):
            return "its tensors do not make a two-layer net (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,))"
        return None
    return None if state["W"].dim() == 2 else "W must be a matrix (D, C)"


def _no_data(name: str, found: bool, problem: str) -> Verdict:
    """Not graded for want of CIFAR-10: the case says so in a line; where the data is expected
    and how to get it is for whoever runs the grader, said once per report."""
    message = (f"{name} was found, but it was not evaluated: CIFAR-10 is not on the grading machine" if found else
               f"{name} was not found (nor could it be evaluated: CIFAR-10 is not on the grading machine)")
    return Verdict("not graded", message, reason="no data", setup_note=problem)


MAX_PICKLE_BYTES = 1 << 20  # a checkpoint's object structure (four tensors' is under 1 KiB)


def checkpoint_problem(path, name: str):
    """Why the grader will not load ``path``, or None: what it unpacks to is bounded before
    ``torch.load`` allocates it (a zip record can inflate a thousandfold, and a pickle can build
    structures far larger than itself)."""
    limit = f"{MAX_CHECKPOINT_BYTES >> 20} MiB"
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        return f"{name} is larger than {limit} (these nets' checkpoints take a few MiB): save only the weights"
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError):
        return (f"{name} is not in torch.save's format (a zip archive, torch 1.6 or newer): save it again with "
                "torch.save")
    if sum(m.file_size for m in members) > MAX_CHECKPOINT_BYTES:
        return f"{name} unpacks to more than {limit} when loaded: save only the weights with torch.save"
    if any(m.filename.endswith(".pkl") and m.file_size > MAX_PICKLE_BYTES for m in members):
        return f"{name} holds an object structure larger than {MAX_PICKLE_BYTES >> 20} MiB: save only the weights"
    return None


def judge_best(kind):
    def judge(case, payload, reply, answer, device_type) -> Verdict:
        name = f"{kind}_best_model.pt"
        path = next((d / name for d in payload["checkpoint_dirs"] if (d / name).is_file()), None)
        evaluate = instructor_module("evaluate", "a2")  # None in a student handout
        test_accuracy = evaluate.test_accuracy if evaluate else None
        if evaluate:
            problem = evaluate.data_problem(payload["data_dir"])
            if problem:
                return _no_data(name, path is not None, problem)
        if path is None:
            if test_accuracy is None:
                return Verdict("not graded", f"{name} was not found; save it from the notebook (the course staff "
                               "evaluates it on the CIFAR-10 test set)", reason="missing")
            return failed(f"{name} was not submitted (save it from the notebook)", "missing")
        problem = checkpoint_problem(path, name)
        if problem:
            return failed(problem, "error")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a student file
            return failed(f"{name} does not load with torch.load: {exc}", "error")
        if not isinstance(state, dict) or set(state) != KEYS[kind] or not all(torch.is_tensor(v) for v in state.values()):
            return failed(f"{name} must hold exactly the tensors {sorted(KEYS[kind])}", "values")
        problem = _shape_problem(kind, state)
        if problem:
            return failed(f"{name}: {problem}", "values")
        if test_accuracy is None:
            return Verdict("not graded", f"{name} loads and has the right shapes; the course staff evaluates it on "
                           f"the CIFAR-10 test set (target above {TARGETS[kind]:.0%})", reason="evaluated later")
        try:
            acc = test_accuracy(kind, state, payload["data_dir"])
        except ValueError as exc:
            return failed(f"{name}: {exc}", "values")
        if isinstance(acc, str):
            return _no_data(name, True, acc)
        if acc > TARGETS[kind]:
            return passed(f"test accuracy {acc:.2%} (target above {TARGETS[kind]:.0%})")
        return failed(f"test accuracy {acc:.2%}, below the target of {TARGETS[kind]:.0%}", "values")
    return judge


CASES: List[Case] = [
    Case("best_models", f"{kind}_best_model.pt: CIFAR-10 test accuracy above {TARGETS[kind]:.0%}", 5, PUBLIC,
         None, judge_best(kind))
    for kind in ("svm", "softmax", "nn")
]
