"""Known mistakes, written out as wrong formulas, so that a failed result can be matched to its
likely cause ("your dW equals the gradient without the factor 2 in the regularization").

Instructor side only: these formulas compute (wrong) answers of the graded functions, so they
never ship in the handout. They run when a case's answer is made (``recipes.make``): the results
of public cases are stored with the fixtures, those of hidden cases made at grading time.

Each entry is ``(label, explanation, variant)``; ``variant(expected, args)`` returns what a
submission with that mistake would return, in float64, from the expected (correct) result and
the case's inputs.
"""
from typing import Callable, Dict, List

import torch

from ....instructor import mistakes as shared
from ....instructor.mistakes import Mistake, detached  # noqa: F401 - detached: A2's recipes use it


def _reg_parts(W, reg):
    return reg * (W * W).sum(), 2 * reg * W


# The data term's mistakes (what the result's data part becomes) and the regularization's (how
# its loss and gradient parts are scaled), for the linear losses. A submission may make one of
# each: every pair is a known mistake too, named as both.
def _data_not_averaged(expected, args):
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    N = X.shape[0]
    return (loss - R) * N, (dW - dR) * N


def _data_negated_grad(expected, args):
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    return loss - R, -(dW - dR)


def _svm_correct_class_counted(expected, args):
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    onehot = torch.nn.functional.one_hot(y, W.shape[1]).to(W.dtype)
    return loss - R + 1.0, dW - dR - X.t().mm(onehot) / X.shape[0]


def _svm_correct_class_counted_loss(expected, args):
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    return loss - R + 1.0, dW - dR


def _svm_unclamped(expected, args):
    """Margins never clamped at 0: every margin counts, negative ones too (the mask of positive
    margins in the gradient stays as it is)."""
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    N, rows = X.shape[0], torch.arange(X.shape[0])
    scores = X.mm(W)
    margins = scores - scores[rows, y][:, None] + 1
    margins[rows, y] = 0
    return margins.sum() / N, dW - dR


def _svm_unclamped_grad(expected, args):
    """Margins never clamped, in the gradient too: every class but the correct one counts."""
    W, X, y, reg = args
    loss, _ = _svm_unclamped(expected, args)
    N, C, rows = X.shape[0], W.shape[1], torch.arange(X.shape[0])
    coeff = torch.ones(N, C, dtype=W.dtype)
    coeff[rows, y] = -(C - 1)
    return loss, X.t().mm(coeff) / N


def _svm_grad_coefficients(W, X, y):
    """The margins of the SVM's scores (the correct class's set to 0), unclamped."""
    rows = torch.arange(X.shape[0])
    scores = X.mm(W)
    margins = scores - scores[rows, y][:, None] + 1
    margins[rows, y] = 0
    return margins, rows


def _svm_grad_negatives_kept(expected, args):
    """The loss clamps its margins, the gradient's mask does not: after ``margins[margins > 0] = 1``
    the negative margins keep their values, in their own columns and in the correct class's sum."""
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    margins, rows = _svm_grad_coefficients(W, X, y)
    coeff = torch.where(margins > 0, torch.ones_like(margins), margins)
    coeff[rows, y] = -coeff.sum(dim=1)
    return loss - R, X.t().mm(coeff) / X.shape[0]


def _svm_grad_correct_class_fixed(expected, args):
    """The correct class's coefficient is -(C - 1) for every sample, whatever the number of its
    positive margins."""
    W, X, y, reg = args
    loss, dW = expected
    R, dR = _reg_parts(W, reg)
    margins, rows = _svm_grad_coefficients(W, X, y)
    coeff = (margins > 0).to(W.dtype)
    coeff[rows, y] = -(W.shape[1] - 1.0)
    return loss - R, X.t().mm(coeff) / X.shape[0]


def _svm_grad_correct_class_summed(expected, args):
    """The correct class's coefficient is minus the sum of the sample's clamped margins, where it
    is minus their count (the mask's row sum)."""
    W, X, y, reg = args
    margins, rows = _svm_grad_coefficients(W, X, y)
    clamped = margins.clamp(min=0)
    coeff = (margins > 0).to(W.dtype)
    coeff[rows, y] = -clamped.sum(dim=1)
    loss, _ = expected
    R, _ = _reg_parts(W, reg)
    return loss - R, X.t().mm(coeff) / X.shape[0]


def _softmax_global_max(expected, args):
    """One max over the whole score matrix instead of each row's: rows far below the largest
    score underflow (exp() gives 0 for every class), and their probabilities are 0 / 0."""
    W, X, y, reg = args
    N, rows = X.shape[0], torch.arange(X.shape[0])
    scores = X.mm(W)
    scores = scores - scores.max()
    probs = scores.exp() / scores.exp().sum(dim=1, keepdim=True)
    loss = -probs[rows, y].log().sum() / N
    probs[rows, y] -= 1
    return loss, X.t().mm(probs) / N


GLOBAL_MAX = ("one max over the whole matrix instead of each row's",
              "scores.max() (or torch.max(scores)) is the largest score of the whole batch; rows whose scores "
              "lie far below it underflow (exp() gives 0 for every class, then 0 / 0 or log(0)). Subtract each "
              "row's own largest score: scores.max(dim=1, keepdim=True).values")


def linear_loss_mistakes(kind: str) -> List[Mistake]:
    data = [
        ("not averaged over N", "the loss or gradient is summed over the batch instead of averaged "
         "(divide the data term by N)", _data_not_averaged),
        ("gradient sign flipped", "the gradient has the wrong sign", _data_negated_grad),
    ]
    if kind == "svm":
        explanation = ("the correct class contributes a margin of exactly 1 per sample; skip j == y[i] (or zero "
                       "those margins)")
        unclamped = ("the margins are never clamped at 0: only positive margins count, max(0, s_j - s_y + 1) "
                     "(a margin below 0 adds nothing to the loss)")
        data += [("correct class counted in the margins", explanation, _svm_correct_class_counted),
                 ("correct class counted in the margins", explanation, _svm_correct_class_counted_loss),
                 ("margins not clamped at 0", unclamped, _svm_unclamped),
                 ("margins not clamped at 0", unclamped, _svm_unclamped_grad),
                 ("negative margins left in the gradient's mask",
                  "the loss clamps the margins at 0 but the gradient does not: after margins[margins > 0] = 1 the "
                  "margins below 0 keep their values (in their columns and in the correct class's count); zero "
                  "them as well (margins[margins < 0] = 0, or build the mask as (margins > 0))",
                  _svm_grad_negatives_kept),
                 ("correct class weighted by C - 1 in the gradient",
                  "the correct class's column of the gradient gets -(C - 1) for every sample; it is minus the "
                  "number of that sample's positive margins (the mask's row sum), which is C - 1 only when every "
                  "margin is positive", _svm_grad_correct_class_fixed),
                 ("correct class weighted by the sum of the margins in the gradient",
                  "the correct class's column of the gradient gets minus the sum of that sample's margins; it is "
                  "minus the number of its positive margins: sum the mask (margins > 0), not the margins",
                  _svm_grad_correct_class_summed)]
    else:
        data.append((*GLOBAL_MAX, _softmax_global_max))
    regs = [
        ("regularization with 1/2 or missing factor 2", "the regularization is reg * sum(W*W) with "
         "gradient 2 * reg * W; this result uses 0.5 * reg * sum(W*W) or a gradient of reg * W", (0.5, 0.5)),
        ("regularization missing", "the regularization term reg * sum(W*W) (gradient 2 * reg * W) is missing",
         (0.0, 0.0)),
        ("regularization gradient divided by N", "only the data term is averaged: the regularization gradient "
         "is 2 * reg * W, not divided by N", (1.0, "1/N")),
        ("regularization written reg * sum(W.T @ W)", "W.T @ W sums products of different columns too; the "
         "regularization is reg * sum(W * W), the sum of the squared weights", "wtw"),
    ]

    def with_reg(data_part, reg_part):
        def variant(expected, args):
            W, X, y, reg = args
            R, dR = _reg_parts(W, reg)
            if data_part is None:
                loss, dW = expected
                loss, dW = loss - R, dW - dR
            else:
                loss, dW = data_part(expected, args)
            if reg_part is None:
                return loss + R, dW + dR
            if reg_part == "wtw":
                return loss + reg * W.t().mm(W).sum(), dW + dR
            scale_loss, scale_grad = reg_part
            if scale_grad == "1/N":
                scale_grad = 1.0 / X.shape[0]
            return loss + scale_loss * R, dW + scale_grad * dR
        return variant

    entries = [(label, explanation, with_reg(fn, None)) for label, explanation, fn in data]
    entries += [(label, explanation, with_reg(None, part)) for label, explanation, part in regs]
    # two mistakes at once: one in the data term, one in the regularization
    entries += [(f"{dl} and {rl}", f"{de}; and {re}", with_reg(fn, part))
                for dl, de, fn in data for rl, re, part in regs if fn is not _data_negated_grad]
    return entries


def two_layer_variant(params, X, y, reg, *, average=True, reg_scale=1.0, reg_grad=2.0,
                      reg_bias=False, relu_mask=True, bias_mean=False, global_max=False, reg_grad_over_n=False):
    """nn_forward_backward written with switches for the usual mistakes."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    pre = X.mm(W1) + b1
    hidden = pre.clamp(min=0)
    scores = hidden.mm(W2) + b2
    if global_max:  # one max for the whole matrix: rows far below it underflow to 0 / 0
        shifted = scores - scores.max()
        log_probs = (shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)).log()
    else:
        log_probs = torch.log_softmax(scores, dim=1)
    if reg_grad_over_n:
        reg_grad = reg_grad / N
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


NET_SINGLE = [
    ("not averaged over N", "the loss or the gradients are summed over the batch instead of averaged",
     {"average": False}),
    ("missing factor 2 in the regularization gradient", "the gradient of reg * sum(W*W) is 2 * reg * W, not reg * W",
     {"reg_grad": 1.0}),
    ("regularization with 1/2", "the loss uses 0.5 * reg * (sum(W1*W1) + sum(W2*W2)); the kit uses no 1/2",
     {"reg_scale": 0.5, "reg_grad": 1.0}),
    ("regularization on the biases", "only W1 and W2 are regularized, never b1 or b2", {"reg_bias": True}),
    ("missing ReLU mask in the backward pass", "the gradient flows back through the ReLU only where its input was "
     "positive (multiply dhidden by hidden > 0)", {"relu_mask": False}),
    ("bias gradient averaged instead of summed", "dscores is already divided by N; the bias gradient is the sum of "
     "its rows, not the mean", {"bias_mean": True}),
    ("regularization gradient divided by N", "only the data term is averaged: the regularization gradient is "
     "2 * reg * W, not divided by N", {"reg_grad_over_n": True}),
    ("regularization missing", "the loss has no reg * (sum(W1*W1) + sum(W2*W2)) and the gradients no 2 * reg * W",
     {"reg_scale": 0.0, "reg_grad": 0.0}),
    (GLOBAL_MAX[0], GLOBAL_MAX[1], {"global_max": True}),
]

# Order matters on ties (when the inputs cannot tell two mistakes apart, the first is named):
# simpler mistakes come first, then two at once (named as both).
NET_BACKWARD = [(label, explanation, _net(**flags)) for label, explanation, flags in NET_SINGLE] + [
    (f"{la} and {lb}", f"{ea}; and {eb}", _net(**fa, **fb))
    for i, (la, ea, fa) in enumerate(NET_SINGLE) for lb, eb, fb in NET_SINGLE[i + 1:]
    if not set(fa) & set(fb)]


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


def results(check: str, expected, args, extra: List[Mistake] = (), probes=()) -> list:
    """[(label, explanation, result, probe results)] of every A2 mistake of ``check`` (and
    ``extra``) that applies to these inputs (see :func:`grader.instructor.mistakes.results`)."""
    return shared.results(CATALOGUE, check, expected, args, extra, probes)
