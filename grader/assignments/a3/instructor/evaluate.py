"""What A3 judges on CIFAR-10, in the grader process with the kit's own code (instructor side:
no student code runs here, and the handout does not ship it): the overfitting searches' values
trained as the course's notebook trains them, and the submitted checkpoints' accuracies."""
import functools

import torch

# The notebook's overfitting runs: 50 training images, 20 epochs of SGD in batches of 25,
# hidden layers of 100 units (two for the three-layer net, four for the five-layer one).
OVERFIT = {"get_three_layer_network_params": 2, "get_five_layer_network_params": 4}
SAMPLES, EPOCHS, BATCH = 50, 20, 25


@functools.lru_cache(maxsize=1)
def _cifar(root):
    from helpers.data import preprocess_cifar10

    return preprocess_cifar10(show_examples=False, root=root, download=False, dtype=torch.float32)


def data_problem(data_dir):
    """Why CIFAR-10 cannot be had here, or None."""
    from helpers.data import DatasetUnavailable

    try:
        _cifar(data_dir)
    except DatasetUnavailable as exc:
        return f"A3's CIFAR-10 checks cannot run: {exc}"
    return None


def overfit_accuracy(function, weight_scale, learning_rate, data_dir) -> float:
    """The best training accuracy over the notebook's 20 epochs, for the values returned by the
    search ``function``, with the solution's FullyConnectedNet and the kit's Solver (seeded as
    the notebook seeds it)."""
    from helpers.solver import Solver

    from .reference import load_reference

    data = _cifar(data_dir)
    # The notebook hands the Solver all 10,000 validation images, whose accuracy, measured every
    # epoch, steers nothing judged here (it picks the best parameters after training; the batches
    # and the training accuracy do not depend on it): a few rows keep every step the notebook's,
    # and save scoring 10,000 images 21 times per search.
    small = {"X_train": data["X_train"][:SAMPLES], "y_train": data["y_train"][:SAMPLES],
             "X_val": data["X_val"][:SAMPLES], "y_val": data["y_val"][:SAMPLES]}
    torch.manual_seed(0)
    model = load_reference().FullyConnectedNet([100] * OVERFIT[function], weight_scale=float(weight_scale),
                                               dtype=torch.float32)
    solver = Solver(model, small, print_every=10 ** 9, num_epochs=EPOCHS, batch_size=BATCH,
                    optim_config={"learning_rate": float(learning_rate)}, verbose=False)
    solver.train()
    return max(solver.train_acc_history) if solver.train_acc_history else 0.0


def checkpoint_accuracy(name, state, data_dir) -> float:
    """``best_two_layer_net.pth``: validation accuracy (the notebook's 50% target);
    ``best_overfit_five_layer_net.pth``: accuracy on the 50 training images it overfits. The
    scores are linear - ReLU - ... - linear with the checkpoint's parameters."""
    data = _cifar(data_dir)
    X, y = (data["X_val"], data["y_val"]) if name == "best_two_layer_net.pth" else (
        data["X_train"][:SAMPLES], data["y_train"][:SAMPLES])
    params = {k: v.detach().to(torch.float32) for k, v in state["params"].items()}
    layers = len([k for k in params if k.startswith("W")])
    h = X.reshape(X.shape[0], -1)
    for i in range(1, layers + 1):
        h = h.mm(params[f"W{i}"]) + params[f"b{i}"]
        if i < layers:
            h = h.clamp(min=0)
    return (h.argmax(1) == y).double().mean().item()
