"""A two-layer fully connected network (FC -> ReLU -> FC -> softmax) by hand.

Letters used in shapes: N samples, D input dimensions, H hidden units, C classes.

Rules for every function you implement here:
- the forward pass may not call ``torch.relu`` or anything in ``torch.nn``, nor their ReLU
  under another name (``torch.threshold``, ``torch.ops.aten.relu``): write ReLU yourself (for
  example with ``clamp`` or a mask);
- derive the gradients by hand: no ``torch.autograd``, ``.backward()``, ``requires_grad``
  or ``torch.func``'s gradient transforms (``grad``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``,
  ``hessian``; ``torch.vmap`` only vectorises and is fine), nor differences of your own
  loss with the parameters moved one entry at a time (the numeric gradient check is how you
  test them, not how you compute them);
- compute the gradients in torch: taking the weights out of torch whole (``.tolist()``,
  ``.numpy()``, ``.item()`` of every entry) and making the gradient a tensor again from Python
  or numpy numbers (``torch.tensor(G)``, ``torch.from_numpy``) is computing it outside torch,
  where it cannot be told from one measured by differences: it earns nothing;
- leave the grader's tracing alone (``sys.settrace``, ``torch._C``, ``torch.ops``, frames);
- never call ``.to()``, ``.cuda()`` or ``.cpu()``; every tensor you create follows the
  inputs' device and dtype;
- never modify the caller's tensors in place, except the parameters that training updates.

Regularization never carries a factor 1/2 and covers the weights only:
``loss += reg * (sum(W1 * W1) + sum(W2 * W2))``; biases are not regularized.
"""
import itertools
import random
import statistics  # noqa: F401  (kept from the course template)
from typing import Callable, Dict, List, Optional  # noqa: F401

import torch

from .linear_classifier import sample_batch


def hello_two_layer_net():
    """Print a greeting, to check that this file is the one your notebook imports."""
    print("Hello from two_layer_net.py!")


class TwoLayerNet(object):
    """FC (D -> H) -> ReLU -> FC (H -> C), trained with the softmax loss.

    Parameters live in ``self.params``: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 dtype: torch.dtype = torch.float32, device: str = "cpu", std: float = 1e-4):
        # The original defaults to device="cuda", which fails on machines without a GPU.
        random.seed(0)
        torch.manual_seed(0)
        self.params = {
            "W1": std * torch.randn(input_size, hidden_size, dtype=dtype, device=device),
            "b1": torch.zeros(hidden_size, dtype=dtype, device=device),
            "W2": std * torch.randn(hidden_size, output_size, dtype=dtype, device=device),
            "b2": torch.zeros(output_size, dtype=dtype, device=device),
        }

    def loss(self, X: torch.Tensor, y: Optional[torch.Tensor] = None, reg: float = 0.0):
        return nn_forward_backward(self.params, X, y, reg)

    def train(self, X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor, y_val: torch.Tensor,
              learning_rate: float = 1e-3, learning_rate_decay: float = 0.95, reg: float = 5e-6,
              num_iters: int = 100, batch_size: int = 200, verbose: bool = False):
        return nn_train(self.params, nn_forward_backward, nn_predict, X, y, X_val, y_val,
                        learning_rate, learning_rate_decay, reg, num_iters, batch_size, verbose)

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        return nn_predict(self.params, nn_forward_backward, X)

    def save(self, path: str) -> None:
        torch.save(self.params, path)

    def load(self, path: str) -> None:
        """Load parameters saved by :meth:`save`; raises ``ValueError`` unless exactly
        W1, b1, W2, b2 are present as tensors."""
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        expected = {"W1", "b1", "W2", "b2"}
        if (not isinstance(checkpoint, dict) or set(checkpoint) != expected
                or not all(isinstance(v, torch.Tensor) for v in checkpoint.values())):
            found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise ValueError(
                f"{path} is not a two-layer net checkpoint: expected exactly the tensors "
                f"W1, b1, W2, b2 (as written by save()), found {found}"
            )
        self.params = checkpoint


def nn_forward_pass(params: Dict[str, torch.Tensor], X: torch.Tensor):
    """Forward pass: FC -> ReLU -> FC.

    Inputs:
    - params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    - X: (N, D) input data.

    Maths: hidden = max(0, X @ W1 + b1); scores = hidden @ W2 + b2.
    Rule: do not call ``torch.relu`` or anything in ``torch.nn``.

    Returns ``(scores (N, C), hidden (N, H))``, hidden taken after the ReLU.
    """
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    # BEGIN SOLUTION: compute hidden (after ReLU) and scores
    hidden = (X.mm(W1) + b1).clamp(min=0)  # (N, H)
    scores = hidden.mm(W2) + b2  # (N, C)
    # END SOLUTION
    return scores, hidden


def nn_forward_backward(params: Dict[str, torch.Tensor], X: torch.Tensor,
                        y: Optional[torch.Tensor] = None, reg: float = 0.0):
    """Loss and gradients of the two-layer net.

    Inputs:
    - params, X: as in :func:`nn_forward_pass`.
    - y: (N,) int64 labels, or None.
    - reg: regularization strength.

    Maths: softmax loss averaged over the batch, plus reg * (sum(W1*W1) + sum(W2*W2)); the
    biases are not regularized. Compute it in a numerically stable way, as in the linear
    classifier. The gradients are yours to derive (chain rule, layer by layer); the notebook's
    numeric gradient check tests them.

    Returns the scores (N, C) when y is None, else ``(loss, grads)`` with grads keyed
    W1, b1, W2, b2 and shaped like params.
    """
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    scores, h1 = nn_forward_pass(params, X)
    if y is None:
        return scores

    # BEGIN SOLUTION: softmax loss (numerically stable) plus regularization of W1 and W2
    rows = torch.arange(N, device=X.device)
    shifted = scores - scores.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (N, C)
    loss = -log_probs[rows, y].sum() / N + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))
    # END SOLUTION

    grads = {}
    # BEGIN SOLUTION: backward pass filling grads["W1"], grads["b1"], grads["W2"], grads["b2"]
    dscores = log_probs.exp()  # (N, C)
    dscores[rows, y] -= 1
    dscores /= N
    grads["W2"] = h1.t().mm(dscores) + 2 * reg * W2  # (H, C)
    grads["b2"] = dscores.sum(dim=0)  # (C,)
    dhidden = dscores.mm(W2.t()) * (h1 > 0)  # (N, H), the ReLU passes gradient where it was open
    grads["W1"] = X.t().mm(dhidden) + 2 * reg * W1  # (D, H)
    grads["b1"] = dhidden.sum(dim=0)  # (H,)
    # END SOLUTION
    return loss, grads


def nn_train(params: Dict[str, torch.Tensor], loss_func: Callable, pred_func: Callable,
             X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor, y_val: torch.Tensor,
             learning_rate: float = 1e-3, learning_rate_decay: float = 0.95,
             reg: float = 5e-6, num_iters: int = 100, batch_size: int = 200,
             verbose: bool = False):
    """Train with SGD; the learning rate decays once per epoch.

    Inputs:
    - params: the parameters, updated in place.
    - loss_func: ``loss_func(params, X_batch, y=y_batch, reg=reg) -> (loss, grads)``.
    - pred_func: ``pred_func(params, loss_func, X) -> labels``.
    - X (N, D), y (N,): training data; X_val, y_val: validation data.

    Every iteration: sample a batch, evaluate the loss, update every parameter with
    ``p -= learning_rate * grads[name]``. When ``it % iterations_per_epoch == 0`` (it = 0
    included): record train accuracy on the current batch and validation accuracy, then
    multiply the learning rate by ``learning_rate_decay``.

    Returns a dict with ``loss_history``, ``train_acc_history`` and ``val_acc_history``.
    """
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)

    loss_history = []
    train_acc_history = []
    val_acc_history = []

    for it in range(num_iters):
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(float(loss))

        # BEGIN SOLUTION: SGD step on every parameter, in place
        for name in params:
            params[name] -= learning_rate * grads[name]
        # END SOLUTION

        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {float(loss):f}")

        if it % iterations_per_epoch == 0:
            y_train_pred = pred_func(params, loss_func, X_batch)
            train_acc = (y_train_pred == y_batch).double().mean().item()
            y_val_pred = pred_func(params, loss_func, X_val)
            val_acc = (y_val_pred == y_val).double().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay

    return {
        "loss_history": loss_history,
        "train_acc_history": train_acc_history,
        "val_acc_history": val_acc_history,
    }


def nn_predict(params: Dict[str, torch.Tensor], loss_func: Callable, X: torch.Tensor):
    """Labels (N,) int64 for X (N, D): the argmax over classes of ``loss_func(params, X)``."""
    # BEGIN SOLUTION: scores from loss_func without labels, then the best class per row
    y_pred = loss_func(params, X).argmax(dim=1)
    # END SOLUTION
    return y_pred


def nn_get_search_params():
    """Candidate ``(learning_rates, hidden_sizes, regularization_strengths,
    learning_rate_decays)``: at least 2 values each, and fewer than 256 combinations in total
    (each one trains a net)."""
    # BEGIN SOLUTION: pick the values you want to search
    learning_rates = [0.5, 1.0]
    hidden_sizes = [128, 256]
    regularization_strengths = [1e-5, 1e-4, 1e-3]
    learning_rate_decays = [0.9, 0.95]
    # END SOLUTION
    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays


def find_best_net(data_dict: Dict[str, torch.Tensor], get_param_set_fn: Callable):
    """Train a TwoLayerNet per hyperparameter combination; keep the best on validation.

    ``get_param_set_fn()`` returns ``(learning_rates, hidden_sizes, regularization_strengths,
    learning_rate_decays)``; try every combination, training a new ``TwoLayerNet`` with
    ``.train()``. The data has CIFAR-10's shape (3 * 32 * 32 inputs, 10 classes); nets live on
    the data's device and dtype.

    Returns ``(best_net, best_stat, best_val_acc)``: the trained net with the highest validation
    accuracy, the dict its ``.train()`` returned, and that validation accuracy (a float).
    """
    best_net = None
    best_stat = None
    best_val_acc = 0.0
    # BEGIN SOLUTION: search every combination and keep the best net on validation
    X_train, y_train = data_dict["X_train"], data_dict["y_train"]
    X_val, y_val = data_dict["X_val"], data_dict["y_val"]
    input_size = X_train.shape[1]
    num_classes = int(max(y_train.max().item(), y_val.max().item())) + 1
    for lr, hidden, reg, decay in itertools.product(*get_param_set_fn()):
        net = TwoLayerNet(input_size, hidden, num_classes,
                          dtype=X_train.dtype, device=X_train.device)
        stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr,
                         learning_rate_decay=decay, reg=reg, num_iters=1000, batch_size=500)
        val_acc = (net.predict(X_val) == y_val).double().mean().item()
        if best_net is None or val_acc > best_val_acc:
            best_net, best_stat, best_val_acc = net, stat, val_acc
    # END SOLUTION
    return best_net, best_stat, best_val_acc
