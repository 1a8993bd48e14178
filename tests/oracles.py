"""Independent references for the tests: the losses written with torch autograd, which knows
nothing of our hand-derived gradients."""
import torch


def svm_autograd(W, X, y, reg):
    W = W.detach().clone().requires_grad_(True)
    scores = X @ W
    correct = scores.gather(1, y[:, None])
    margins = torch.clamp(scores - correct + 1, min=0)
    margins = margins * (1 - torch.nn.functional.one_hot(y, W.shape[1]).to(W.dtype))
    loss = margins.sum() / X.shape[0] + reg * (W * W).sum()
    loss.backward()
    return loss.detach(), W.grad


def softmax_autograd(W, X, y, reg):
    W = W.detach().clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(X @ W, y) + reg * (W * W).sum()
    loss.backward()
    return loss.detach(), W.grad


def two_layer_autograd(params, X, y, reg):
    p = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    hidden = torch.relu(X @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    loss = torch.nn.functional.cross_entropy(scores, y)
    loss = loss + reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    loss.backward()
    return loss.detach(), {k: v.grad for k, v in p.items()}
