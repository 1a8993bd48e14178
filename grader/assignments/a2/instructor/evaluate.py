"""The submitted checkpoints on the CIFAR-10 test set, with the kit's own prediction code
(instructor side: a student's process never sees it, and the handout does not ship it)."""
import functools

import torch


@functools.lru_cache(maxsize=2)
def _cifar(root, bias_trick):
    from helpers.data import preprocess_cifar10

    data = preprocess_cifar10(show_examples=False, bias_trick=bias_trick, root=root, download=False,
                              dtype=torch.float32)
    return data["X_test"], data["y_test"]


def scores(kind, state, X):
    """Class scores of a checkpoint: a linear classifier's X @ W, or the two-layer net's
    FC -> ReLU -> FC."""
    if kind == "nn":
        return (X.mm(state["W1"]) + state["b1"]).clamp(min=0).mm(state["W2"]) + state["b2"]
    return X.mm(state["W"])


def data_problem(data_dir):
    """Why CIFAR-10's test set cannot be had here, or None."""
    from helpers.data import DatasetUnavailable

    try:
        _cifar(data_dir, False)
    except DatasetUnavailable as exc:
        return f"The best-model checkpoints cannot be evaluated: {exc}"
    return None


def test_accuracy(kind, state, data_dir):
    """The checkpoint's accuracy on the CIFAR-10 test set (a fraction), or why it cannot be had
    (a string); ValueError when the checkpoint does not fit CIFAR-10's shapes."""
    from helpers.data import DatasetUnavailable

    try:
        X, y = _cifar(data_dir, kind != "nn")
    except DatasetUnavailable as exc:
        return f"The best-model checkpoints cannot be evaluated: {exc}"
    state = {k: v.detach().to(torch.float32) for k, v in state.items()}
    try:
        return (scores(kind, state, X).argmax(1) == y).double().mean().item()
    except RuntimeError as exc:
        raise ValueError(f"it does not fit CIFAR-10's shapes: {exc}") from exc
