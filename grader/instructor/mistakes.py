"""Known mistakes, written out as wrong formulas, so that a failed result can be matched to its
likely cause ("your dW equals the gradient without the factor 2 in the regularization").

Instructor side only: these formulas compute (wrong) answers of the graded functions, so they
never ship in the handout. They run when a case's key is made (``recipes.make``): the results
of public cases are stored with the fixtures, those of hidden cases made at grading time.

Each entry is ``(label, explanation, variant)``; ``variant(expected, args)`` returns what a
submission with that mistake would return, in float64, from the expected (correct) result and
the case's inputs.
"""
from typing import Callable, Dict, List, Tuple

import torch

Mistake = Tuple[str, str, Callable]


def _reg_parts(W, reg):
    return reg * (W * W).sum(), 2 * reg * W


def linear_loss_mistakes(kind: str) -> List[Mistake]:
    def not_averaged(expected, args):
        W, X, y, reg = args
        loss, dW = expected
        R, dR = _reg_parts(W, reg)
        N = X.shape[0]
        return (loss - R) * N + R, (dW - dR) * N + dR

    def half_reg(expected, args):
        W, X, y, reg = args
        loss, dW = expected
        R, dR = _reg_parts(W, reg)
        return loss - R / 2, dW - dR / 2

    def no_reg(expected, args):
        W, X, y, reg = args
        loss, dW = expected
        R, dR = _reg_parts(W, reg)
        return loss - R, dW - dR

    def negated_grad(expected, args):
        loss, dW = expected
        return loss, -dW

    entries = [
        ("not averaged over N", "the loss or gradient is summed over the batch instead of averaged "
         "(divide the data term by N)", not_averaged),
        ("regularization with 1/2 or missing factor 2", "the regularization is reg * sum(W*W) with "
         "gradient 2 * reg * W; this result uses 0.5 * reg * sum(W*W) or a gradient of reg * W", half_reg),
        ("regularization missing", "the regularization term reg * sum(W*W) (gradient 2 * reg * W) is missing", no_reg),
        ("gradient sign flipped", "the gradient has the wrong sign", negated_grad),
    ]
    if kind == "svm":
        def correct_class_counted(expected, args):
            W, X, y, reg = args
            loss, dW = expected
            onehot = torch.nn.functional.one_hot(y, W.shape[1]).to(W.dtype)
            return loss + 1.0, dW - X.t().mm(onehot) / X.shape[0]

        def correct_class_counted_loss(expected, args):
            loss, dW = expected
            return loss + 1.0, dW

        explanation = "the correct class contributes a margin of exactly 1 per sample; skip j == y[i] (or zero those margins)"
        entries += [("correct class counted in the margins", explanation, correct_class_counted),
                    ("correct class counted in the margins", explanation, correct_class_counted_loss)]
    return entries


def two_layer_variant(params, X, y, reg, *, average=True, reg_scale=1.0, reg_grad=2.0,
                      reg_bias=False, relu_mask=True, bias_mean=False):
    """nn_forward_backward written with switches for the usual mistakes."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    pre = X.mm(W1) + b1
    hidden = pre.clamp(min=0)
    scores = hidden.mm(W2) + b2
    log_probs = torch.log_softmax(scores, dim=1)
    data = -log_probs[torch.arange(N), y].sum()
    weights = [W1, W2] + ([b1, b2] if reg_bias else [])
    loss = (data / N if average else data) + reg_scale * reg * sum((w * w).sum() for w in weights)
    dscores = log_probs.exp()
    dscores[torch.arange(N), y] -= 1
    if average:
        dscores = dscores / N
    reduce = (lambda t: t.mean(dim=0)) if bias_mean else (lambda t: t.sum(dim=0))
    dhidden = dscores.mm(W2.t()) * ((pre > 0) if relu_mask else 1.0)
    grads = {
        "W1": X.t().mm(dhidden) + reg_grad * reg * W1,
        "b1": reduce(dhidden) + (reg_grad * reg * b1 if reg_bias else 0),
        "W2": hidden.t().mm(dscores) + reg_grad * reg * W2,
        "b2": reduce(dscores) + (reg_grad * reg * b2 if reg_bias else 0),
    }
    return loss, grads


def _net(**flags):
    def variant(expected, args):
        params, X, y, reg = args
        return two_layer_variant(params, X, y, reg, **flags)
    return variant


# Order matters on ties (when the inputs cannot tell two mistakes apart, the first is named):
# simpler mistakes come first.
NET_BACKWARD = [
    ("not averaged over N", "the loss or the gradients are summed over the batch instead of averaged", _net(average=False)),
    ("missing factor 2 in the regularization gradient", "the gradient of reg * sum(W*W) is 2 * reg * W, not reg * W", _net(reg_grad=1.0)),
    ("regularization with 1/2", "the loss uses 0.5 * reg * (sum(W1*W1) + sum(W2*W2)); the kit uses no 1/2", _net(reg_scale=0.5, reg_grad=1.0)),
    ("regularization on the biases", "only W1 and W2 are regularized, never b1 or b2", _net(reg_bias=True)),
    ("missing ReLU mask in the backward pass", "the gradient flows back through the ReLU only where its input was positive "
     "(multiply dhidden by hidden > 0)", _net(relu_mask=False)),
    ("bias gradient averaged instead of summed", "dscores is already divided by N; the bias gradient is the sum of its rows, not the mean",
     _net(bias_mean=True)),
]


def _forward(kind):
    def variant(expected, args):
        params, X = args
        pre = X.mm(params["W1"]) + params["b1"]
        hidden = pre.clamp(min=0)
        if kind == "no_relu":
            return pre.mm(params["W2"]) + params["b2"], pre
        if kind == "relu_scores":
            return (hidden.mm(params["W2"]) + params["b2"]).clamp(min=0), hidden
        return hidden.mm(params["W2"]) + params["b2"], pre  # hidden before the ReLU
    return variant


NET_FORWARD = [
    ("ReLU missing", "hidden = max(0, X @ W1 + b1): the ReLU is not applied", _forward("no_relu")),
    ("ReLU applied to the scores", "the ReLU belongs after the first layer only; scores are not clipped", _forward("relu_scores")),
    ("hidden returned before the ReLU", "return hidden after the ReLU", _forward("pre_relu")),
]


def label_mistakes(scores_of: Callable) -> List[Mistake]:
    """Mistakes in taking labels from scores; ``scores_of(args)`` gives the true scores."""
    return [
        ("argmax over the wrong axis", "take the argmax over classes (dim=1), one label per row",
         lambda expected, args: scores_of(args).argmax(dim=0)),
        ("scores returned instead of labels", "return the argmax of the scores, not the scores",
         lambda expected, args: scores_of(args)),
        ("the largest scores instead of their classes", "torch.max(scores, dim=1) returns (values, indices): "
         "the labels are the indices, [1] (or use argmax)", lambda expected, args: scores_of(args).max(dim=1).values),
        ("only the first row's label", "argmax(...)[0] keeps the label of the first row only; return the whole "
         "vector of labels", lambda expected, args: scores_of(args).argmax(dim=1)[0]),
    ]


CATALOGUE: Dict[str, List[Mistake]] = {
    "svm_loss_naive": linear_loss_mistakes("svm"),
    "svm_loss_vectorized": linear_loss_mistakes("svm"),
    "softmax_loss_naive": linear_loss_mistakes("softmax"),
    "softmax_loss_vectorized": linear_loss_mistakes("softmax"),
    "nn_forward_backward": NET_BACKWARD,
    "nn_forward_pass": NET_FORWARD,
    "predict_linear_classifier": label_mistakes(lambda args: args[1].mm(args[0])),
}


def results(check: str, expected, args, extra: List[Mistake] = ()) -> list:
    """[(label, explanation, result)] of every mistake that applies to these inputs."""
    out = []
    for label, explanation, variant in list(CATALOGUE.get(check, [])) + list(extra):
        try:
            result = variant(expected, args)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        out.append((label, explanation, detached(result)))
    return out


def detached(value):
    """A result's tensors detached and copied (what is stored must not change with its source)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(detached(v) for v in value)
    if isinstance(value, dict):
        return {k: detached(v) for k, v in value.items()}
    return value
