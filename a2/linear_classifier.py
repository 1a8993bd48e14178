"""Linear classifiers (multiclass SVM and softmax) written by hand with PyTorch tensors.

Letters used in shapes: N samples, D input dimensions, C classes.

Rules for every function you implement here:
- work with the tensors you are given; never call ``.to()``, ``.cuda()`` or ``.cpu()``
  to move data between devices;
- every tensor you create follows the inputs' device and dtype
  (``torch.zeros_like(W)``, or ``torch.zeros(..., device=X.device, dtype=X.dtype)``);
- never modify the caller's tensors in place (training may update ``W``);
- functions marked *vectorized* use no explicit Python loops (nor loops run for them by
  ``exec``, ``map``, ``functools.reduce``, ``sum`` over a sequence, or another thread);
- derive the gradients by hand: no ``torch.autograd``, ``.backward()``, ``requires_grad``
  or ``torch.func``'s gradient transforms (``grad``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``,
  ``hessian``; ``torch.vmap`` only vectorises and is fine), nor differences of your own
  loss with the parameters moved one entry at a time (the numeric gradient check is how you
  test them, not how you compute them);
- compute the gradients in torch: taking the weights out of torch whole (``.tolist()``,
  ``.numpy()``, ``.item()`` of every entry) and making the gradient a tensor again from Python
  or numpy numbers (``torch.tensor(G)``, ``torch.from_numpy``) is computing it outside torch,
  where it cannot be told from one measured by differences: it earns nothing;
- leave the grader's tracing alone (``sys.settrace``, ``torch._C``, ``torch.ops``, frames).

Regularization never carries a factor 1/2: ``loss += reg * sum(W * W)`` and
``dW += 2 * reg * W``. Losses and gradients are averaged over the batch.
"""
import random
import statistics  # noqa: F401  (kept from the course template)
from abc import abstractmethod
from typing import Callable, Dict, List, Optional, Tuple

import torch


def hello_linear_classifier():
    """Print a greeting, to check that this file is the one your notebook imports."""
    print("Hello from linear_classifier.py!")


class LinearClassifier:
    """An abstract linear classifier; subclasses choose the loss."""

    def __init__(self):
        random.seed(0)
        torch.manual_seed(0)
        self.W = None  # (D, C), created by the first call of train()

    def train(
        self,
        X_train: torch.Tensor,
        y_train: torch.Tensor,
        learning_rate: float = 1e-3,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ) -> List[float]:
        """Train by SGD on (X_train (N, D), y_train (N,)); returns the loss of every iteration."""
        self.W, loss_history = train_linear_classifier(
            self.loss, self.W, X_train, y_train,
            learning_rate, reg, num_iters, batch_size, verbose,
        )
        return loss_history

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Labels (N,) int64 for the rows of X (N, D)."""
        return predict_linear_classifier(self.W, X)

    @abstractmethod
    def loss(self, W: torch.Tensor, X_batch: torch.Tensor, y_batch: torch.Tensor, reg: float):
        """Return ``(loss, dW)`` for one minibatch; subclasses implement this."""
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Store the weights as ``{"W": W}``."""
        torch.save({"W": self.W}, path)

    def load(self, path: str) -> None:
        """Load weights saved by :meth:`save`; raises ``ValueError`` on anything else."""
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        W = checkpoint.get("W") if isinstance(checkpoint, dict) else None
        if not isinstance(W, torch.Tensor) or W.dim() != 2 or not W.is_floating_point():
            raise ValueError(
                f"{path} is not a linear classifier checkpoint: expected a dict "
                "{'W': tensor of shape (D, C)}, as written by save()"
            )
        self.W = W


class LinearSVM(LinearClassifier):
    """A linear classifier trained with the multiclass SVM (hinge) loss."""

    def loss(self, W, X_batch, y_batch, reg):
        return svm_loss_vectorized(W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """A linear classifier trained with the softmax (cross-entropy) loss."""

    def loss(self, W, X_batch, y_batch, reg):
        return softmax_loss_vectorized(W, X_batch, y_batch, reg)


# **************************************************************************** #
#                                  SVM loss                                     #
# **************************************************************************** #

def svm_loss_naive(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float):
    """Multiclass SVM loss and its gradient, with explicit loops.

    Inputs:
    - W: (D, C) weights.
    - X: (N, D) minibatch of data.
    - y: (N,) int64 labels; y[i] = c means X[i] has label c, 0 <= c < C.
    - reg: regularization strength.

    Maths: scores s = X[i] @ W; for every class j != y[i] the margin is
    max(0, s[j] - s[y[i]] + 1) (delta = 1, the correct class is excluded).
    loss = (1/N) * sum of margins + reg * sum(W * W).

    Returns ``(loss, dW)``: loss a scalar tensor, dW (D, C) the gradient of loss wrt W.
    """
    dW = torch.zeros_like(W)  # (D, C)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = W.t().mv(X[i])  # (C,)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                # BEGIN SOLUTION: add this margin's contribution to the gradient dW
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                # END SOLUTION

    # Average over the batch, then add the regularization term.
    loss /= num_train
    loss += reg * torch.sum(W * W)

    # BEGIN SOLUTION: average dW over the batch and add the regularization's gradient
    dW /= num_train
    dW += 2 * reg * W
    # END SOLUTION
    return loss, dW


def svm_loss_vectorized(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float):
    """Multiclass SVM loss and gradient, vectorized: **no explicit loops**.

    Same inputs, maths and outputs as :func:`svm_loss_naive`.
    """
    # BEGIN SOLUTION: compute the SVM loss and dW without any Python loop
    N = X.shape[0]
    rows = torch.arange(N, device=X.device)
    # (N, C) scores, computed as (C, D) @ (D, N): with few classes this layout is about twice
    # as fast on CPU as X @ W, and the gradient below uses the same trick.
    scores = W.t().mm(X.t()).t()
    correct = scores[rows, y].unsqueeze(1)  # (N, 1)
    margins = (scores - correct + 1).clamp(min=0)  # (N, C)
    margins[rows, y] = 0  # the correct class is excluded
    loss = margins.sum() / N + reg * torch.sum(W * W)

    # Each positive margin adds X[i] to its column and subtracts it from column y[i].
    coeff = (margins > 0).to(dtype=X.dtype)  # (N, C)
    coeff[rows, y] = -coeff.sum(dim=1)
    dW = coeff.t().mm(X).t() / N + 2 * reg * W  # (D, C); (C, N) @ (N, D) reads X in its own layout
    # END SOLUTION
    return loss, dW


# **************************************************************************** #
#                             Training and prediction                           #
# **************************************************************************** #

def sample_batch(X: torch.Tensor, y: torch.Tensor, num_train: int, batch_size: int):
    """Draw a minibatch of ``batch_size`` rows, with replacement.

    Use ``torch.randint`` (the global torch generator), so that a seed reproduces the batch.
    Returns ``(X_batch (batch_size, D), y_batch (batch_size,))``.
    """
    # BEGIN SOLUTION: draw batch_size indices in [0, num_train) with torch.randint
    idx = torch.randint(num_train, (batch_size,), device=X.device)
    X_batch = X[idx]
    y_batch = y[idx]
    # END SOLUTION
    return X_batch, y_batch


def train_linear_classifier(
    loss_func: Callable,
    W: Optional[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    learning_rate: float = 1e-3,
    reg: float = 1e-5,
    num_iters: int = 100,
    batch_size: int = 200,
    verbose: bool = False,
):
    """Train a linear classifier with plain stochastic gradient descent.

    Inputs:
    - loss_func: ``loss_func(W, X_batch, y_batch, reg) -> (loss, dW)``.
    - W: (D, C) initial weights, or None to start from ``0.000001 * randn(D, C)``
      with C = max(y) + 1, on X's device and dtype.
    - X: (N, D) training data; y: (N,) int64 labels.
    - learning_rate, reg, num_iters, batch_size: as named; verbose prints progress.

    Each iteration samples a batch with :func:`sample_batch`, evaluates the loss and
    takes the step ``W -= learning_rate * dW``.

    Returns ``(W, loss_history)`` with one float per iteration.
    """
    num_train, dim = X.shape
    if W is None:
        num_classes = int(torch.max(y).item()) + 1
        W = 0.000001 * torch.randn(dim, num_classes, device=X.device, dtype=X.dtype)

    loss_history = []
    for it in range(num_iters):
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
        loss, grad = loss_func(W, X_batch, y_batch, reg)
        loss_history.append(float(loss))
        # BEGIN SOLUTION: update W with a step of plain SGD
        W -= learning_rate * grad
        # END SOLUTION
        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {float(loss):f}")
    return W, loss_history


def predict_linear_classifier(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Predicted labels for X (N, D) under weights W (D, C): int64 (N,), the argmax over classes."""
    # BEGIN SOLUTION: the highest-scoring class of every row
    y_pred = X.mm(W).argmax(dim=1)
    # END SOLUTION
    return y_pred


def svm_get_search_params() -> Tuple[List[float], List[float]]:
    """Candidate ``(learning_rates, regularization_strengths)`` for the SVM.

    At least 2 values each and at most 25 combinations in total (the notebook refuses more).
    """
    # BEGIN SOLUTION: pick the values you want to search
    learning_rates = [1e-3, 3e-3, 1e-2]
    regularization_strengths = [1e-3, 5e-3, 1e-2]
    # END SOLUTION
    return learning_rates, regularization_strengths


def test_one_param_set(cls, data_dict: Dict[str, torch.Tensor], lr: float, reg: float,
                       num_iters: int = 2000):
    """Train ``cls`` (a LinearClassifier instance) with one setting and measure it.

    ``data_dict`` holds ``X_train, y_train, X_val, y_val``. Train with
    ``cls.train(X_train, y_train, learning_rate=lr, reg=reg, num_iters=num_iters)``, then
    compute accuracies with ``cls.predict``.

    Returns ``(cls, train_acc, val_acc)``, the accuracies as Python floats (``.item()``):
    fractions, or percentages as the notebook prints them, one unit for both.
    """
    # BEGIN SOLUTION: train cls, then compute the training and validation accuracies
    cls.train(data_dict["X_train"], data_dict["y_train"], learning_rate=lr, reg=reg,
              num_iters=num_iters, batch_size=200, verbose=False)
    y_train_pred = cls.predict(data_dict["X_train"])
    train_acc = (y_train_pred == data_dict["y_train"]).double().mean().item()
    y_val_pred = cls.predict(data_dict["X_val"])
    val_acc = (y_val_pred == data_dict["y_val"]).double().mean().item()
    # END SOLUTION
    return cls, train_acc, val_acc


# **************************************************************************** #
#                                Softmax loss                                   #
# **************************************************************************** #

def softmax_loss_naive(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float):
    """Softmax (cross-entropy) loss and gradient, with explicit loops.

    Inputs as in :func:`svm_loss_naive`.

    Maths: p = softmax(X[i] @ W); loss = -(1/N) * sum_i log p[y[i]] + reg * sum(W * W).
    Numerically stable: subtract the row's largest score before exponentiating
    (softmax is unchanged, and exp never overflows).

    Returns ``(loss, dW)``.
    """
    loss = torch.zeros((), device=W.device, dtype=W.dtype)
    dW = torch.zeros_like(W)  # (D, C)
    # BEGIN SOLUTION: loop over the samples; stable softmax, loss and gradient
    num_train = X.shape[0]
    for i in range(num_train):
        scores = W.t().mv(X[i])  # (C,)
        scores = scores - scores.max()
        log_probs = scores - scores.exp().sum().log()  # (C,), log-softmax: never log(0)
        loss = loss - log_probs[y[i]]
        probs = log_probs.exp()
        for j in range(W.shape[1]):
            # d(-log p[y]) / d scores[j] = p[j] - 1{j == y[i]}
            coeff = probs[j] - 1 if j == y[i] else probs[j]
            dW[:, j] += coeff * X[i]
    loss = loss / num_train + reg * torch.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    # END SOLUTION
    return loss, dW


def softmax_loss_vectorized(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float):
    """Softmax loss and gradient, vectorized: **no explicit loops**, numerically stable.

    Same inputs, maths and outputs as :func:`softmax_loss_naive`.
    """
    # BEGIN SOLUTION: compute the softmax loss and dW without any Python loop
    N = X.shape[0]
    rows = torch.arange(N, device=X.device)
    scores = W.t().mm(X.t()).t()  # (N, C), in the fast layout (see svm_loss_vectorized)
    scores = scores - scores.max(dim=1, keepdim=True).values
    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()  # (N, C)
    loss = -log_probs[rows, y].sum() / N + reg * torch.sum(W * W)

    dscores = log_probs.exp()  # (N, C) probabilities
    dscores[rows, y] -= 1
    dW = dscores.t().mm(X).t() / N + 2 * reg * W  # (D, C)
    # END SOLUTION
    return loss, dW


def softmax_get_search_params() -> Tuple[List[float], List[float]]:
    """Candidate ``(learning_rates, regularization_strengths)`` for softmax.

    At least 2 values each and at most 25 combinations in total (the notebook refuses more).
    """
    # BEGIN SOLUTION: pick the values you want to search
    learning_rates = [1e-2, 3e-2, 1e-1]
    regularization_strengths = [1e-4, 1e-3, 1e-2]
    # END SOLUTION
    return learning_rates, regularization_strengths
