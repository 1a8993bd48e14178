"""Classification losses on scores, each returning ``(loss, dscores)``: the last layer of the
networks in Assignment 3, which call them on the scores their forward pass computed.

Both average over the N rows of the batch and carry no regularization (the network adds its
own). The loss is a 0-dim tensor on the scores' device and dtype; the gradient has the scores'
shape, device and dtype. Neither modifies its inputs.
"""
from typing import Tuple

import torch


def softmax_loss(x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Softmax (cross-entropy) loss of scores ``x`` (N, C) for labels ``y`` (N,), 0 <= y[i] < C.

    loss = (1/N) sum_i [log sum_j exp(x[i, j]) - x[i, y[i]]]
    dx[i, j] = (softmax(x[i])[j] - [j == y[i]]) / N

    Computed from scores shifted by their row maximum, so large scores do not overflow.
    """
    N = x.shape[0]
    rows = torch.arange(N, device=x.device)
    shifted = x - x.max(dim=1, keepdim=True).values  # (N, C), each row's largest is 0
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (N, C)
    loss = -log_probs[rows, y].sum() / N
    dx = log_probs.exp()  # (N, C), the class probabilities (a new tensor)
    dx[rows, y] -= 1
    dx /= N
    return loss, dx


def svm_loss(x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Multiclass SVM (hinge) loss of scores ``x`` (N, C) for labels ``y`` (N,), margin 1.

    loss = (1/N) sum_i sum_{j != y[i]} max(0, x[i, j] - x[i, y[i]] + 1)
    dx[i, j] = [margin (i, j) > 0] / N for j != y[i];
    dx[i, y[i]] = -(number of positive margins in row i) / N.
    """
    N = x.shape[0]
    rows = torch.arange(N, device=x.device)
    correct = x[rows, y].unsqueeze(1)  # (N, 1)
    margins = (x - correct + 1).clamp(min=0)  # (N, C), a new tensor
    margins[rows, y] = 0  # the correct class is not its own competitor
    loss = margins.sum() / N
    dx = (margins > 0).type_as(x)  # (N, C), 1 where a margin is violated (never at y[i])
    dx[rows, y] = -dx.sum(dim=1)
    dx /= N
    return loss, dx
