"""A corpus of complete, correct Assignment 2 submissions in the course layout, each written the
way a real student of EECS 498-007 writes it.

``course_submission(root, style)`` writes ``root/<style>/linear_classifier.py`` and
``root/<style>/two_layer_net.py``: the course's given code (as its two terms hand it out: Fall
2020 with 2-space indentation, Winter 2022 with 4-space indentation and type hints), with every
TODO region filled by that style's own code. The given code is written here in this corpus's own
words (shorter docstrings), but keeps what the course's given code does: module-level functions,
the LinearClassifier / LinearSVM / Softmax and TwoLayerNet classes (``device='cuda'`` default),
``loss_history.append(loss.item())``, the per-epoch accuracies of ``nn_train``, printing
``save``/``load`` (Fall 2020 loads without checks, Winter 2022 checks the keys).

A style is a choice of one body per TODO region (``REGIONS``) plus module-level extras
(imports, helpers). Every body here is correct: it computes what the assignment asks, on CPU
and CUDA (no tensor made on the CPU ever meets an input tensor), float64 for the linear
functions and float32/float64 for the net.
"""
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Sequence, Tuple

FILES = ("linear_classifier.py", "two_layer_net.py")
LC, TLN = FILES

# ---------------------------------------------------------------------------------------------
# The given code. Canonical 4-space indentation; Fall 2020 halves it (except between the
# keep4 markers: that term's two_layer_net.py writes the forward and backward functions with 4).
# Tokens: @@typing@@, @@imports@@, @@helpers@@ (whole lines), @@object@@ (inline),
# @@sig NAME@@ (a signature), @@load@@ (a load method), @@todo REGION | instruction@@ (a TODO
# banner with the style's body for REGION).
# ---------------------------------------------------------------------------------------------

LC_SKELETON = '''\
"""
Linear classifiers (multiclass SVM and softmax) written with PyTorch tensors.
Reminder: no ".to()" and no ".cuda()" in the parts you implement.
"""
import torch
import random
import statistics
from abc import abstractmethod
@@typing@@
@@imports@@


def hello_linear_classifier():
    """
    Prints a greeting; the notebook calls it to check which file it imported.
    """
    print("Hello from linear_classifier.py!")


# Given code, used by the notebook: please leave this class unchanged.
class LinearClassifier@@object@@:
    """Shared base of the SVM and softmax classifiers."""

    def __init__(self):
        random.seed(0)
        torch.manual_seed(0)
        self.W = None

    @@sig LinearClassifier.train@@
        train_args = (self.loss, self.W, X_train, y_train, learning_rate, reg,
                      num_iters, batch_size, verbose)
        self.W, loss_history = train_linear_classifier(*train_args)
        return loss_history

    @@sig LinearClassifier.predict@@
        return predict_linear_classifier(self.W, X)

    @abstractmethod
    @@sig LinearClassifier.loss@@
        """
        Loss and gradient for one minibatch; LinearSVM and Softmax define it.
        Returns (loss, dW) with dW shaped like W.
        """
        raise NotImplementedError

    def _loss(self, X_batch, y_batch, reg):
        self.loss(self.W, X_batch, y_batch, reg)

    @@sig LinearClassifier.save@@
        torch.save({"W": self.W}, path)
        print("Saved in {}".format(path))

    @@load@@


class LinearSVM(LinearClassifier):
    """Linear classifier with the multiclass hinge loss."""

    def loss(self, W, X_batch, y_batch, reg):
        return svm_loss_vectorized(W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """Linear classifier with the softmax cross-entropy loss."""

    def loss(self, W, X_batch, y_batch, reg):
        return softmax_loss_vectorized(W, X_batch, y_batch, reg)

@@helpers@@

# ==================================================
#                Section 1: the SVM
# ==================================================

@@sig svm_loss_naive@@
    """
    Multiclass SVM loss with explicit loops. W is (D, C), X is (N, D), y is (N,)
    with labels in [0, C). No 1/2 in front of the regularization term.

    Returns (loss, dW): the loss as a torch scalar and its gradient, shaped like W.
    """
    dW = torch.zeros_like(W)  # the gradient starts at zero

    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = W.t().mv(X[i])
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # delta is 1
            if margin > 0:
                loss += margin
                @@todo svm_naive_1 | (part 1) while the loss is summed, add this margin's share of the gradient to dW@@

    # The sum becomes an average over the minibatch.
    loss /= num_train

    # Regularization.
    loss += reg * torch.sum(W * W)

    @@todo svm_naive_2 | (part 2) finish dW: average it and add the regularization's gradient@@

    return loss, dW


@@sig svm_loss_vectorized@@
    """
    The same loss and gradient as svm_loss_naive, without explicit loops.
    No 1/2 in front of the regularization term.
    """
    loss = 0.0
    dW = torch.zeros_like(W)  # the gradient starts at zero

    @@todo svm_vec_loss | compute the SVM loss without loops and store it in loss@@

    @@todo svm_vec_grad | compute the gradient without loops and store it in dW; the values kept from the loss help@@

    return loss, dW


@@sig sample_batch@@
    """
    Picks batch_size training samples and their labels for one step of SGD.
    """
    X_batch = None
    y_batch = None
    @@todo sample_batch | fill X_batch (batch_size, dim) and y_batch (batch_size,); torch.randint gives the indices@@
    return X_batch, y_batch


@@sig train_linear_classifier@@
    """
    Stochastic gradient descent for a linear classifier.

    loss_func(W, X, y, reg) returns (loss, dW). W is (D, C), or None to start from
    small random weights. X is (N, D) and y is (N,). Returns (W, loss_history), with
    one Python number per iteration in loss_history.
    """
    # labels are 0...K-1 for K classes
    num_train, dim = X.shape
    if W is None:
        # W is made on the first call
        num_classes = torch.max(y) + 1
        W = 0.000001 * torch.randn(dim, num_classes, device=X.device, dtype=X.dtype)
    else:
        num_classes = W.shape[1]

    # SGD
    loss_history = []
    for it in range(num_iters):
        # sample_batch is yours to write
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)

        # loss and gradient on the batch
        loss, grad = loss_func(W, X_batch, y_batch, reg)
        loss_history.append(loss.item())

        # the update
        @@todo sgd_step | take one SGD step on W with the gradient and the learning rate@@

        if verbose and it % 100 == 0:
            print("iteration %d / %d: loss %f" % (it, num_iters, loss))

    return W, loss_history


@@sig predict_linear_classifier@@
    """
    Labels for X (N, D) under the weights W (D, C): an int64 tensor of shape (N,).
    """
    y_pred = torch.zeros(X.shape[0], dtype=torch.int64)
    @@todo predict | store the predicted labels in y_pred@@
    return y_pred


def svm_get_search_params():
    """
    Learning rates and regularization strengths to try for the SVM: at least two of
    each, and under 25 combinations in all.
    """

    learning_rates = []
    regularization_strengths = []

    @@todo svm_params | your lists of hyperparameters@@

    return learning_rates, regularization_strengths


@@sig test_one_param_set@@
    """
    Trains cls (a new LinearClassifier) on data_dict['X_train'], data_dict['y_train']
    with lr, reg and num_iters, and measures it.

    Returns (cls, train_acc, val_acc), the accuracies as floats.
    """
    train_acc = 0.0  # accuracy: the fraction of samples
    val_acc = 0.0    # that are classified correctly
    @@todo one_param_set | train cls, then measure it on the training and validation sets (try num_iters = 100 first)@@

    return cls, train_acc, val_acc


# ==================================================
#              Section 2: softmax
# ==================================================

@@sig softmax_loss_naive@@
    """
    Softmax (cross-entropy) loss with explicit loops; same inputs as the SVM.
    No 1/2 in front of the regularization term.

    Returns (loss, dW).
    """
    # loss and gradient start at zero
    loss = 0.0
    dW = torch.zeros_like(W)

    @@todo softmax_naive | softmax loss and gradient with loops; mind numeric stability, and the regularization@@

    return loss, dW


@@sig softmax_loss_vectorized@@
    """
    Softmax loss and gradient without explicit loops; as softmax_loss_naive.
    """
    # loss and gradient start at zero
    loss = 0.0
    dW = torch.zeros_like(W)

    @@todo softmax_vec | softmax loss and gradient without loops; mind numeric stability, and the regularization@@

    return loss, dW


def softmax_get_search_params():
    """
    Learning rates and regularization strengths to try for softmax: at least two of
    each, and under 25 combinations in all.
    """
    learning_rates = []
    regularization_strengths = []

    @@todo softmax_params | your lists of hyperparameters (softmax may want other values than the SVM)@@

    return learning_rates, regularization_strengths
'''

TLN_SKELETON = '''\
"""
A two-layer fully connected network, written with PyTorch tensors.
Reminder: no ".to()" and no ".cuda()" in the parts you implement.
"""
import torch
import random
import statistics
from linear_classifier import sample_batch
@@typing@@
@@imports@@


def hello_two_layer_net():
    """
    Prints a greeting; the notebook calls it to check which file it imported.
    """
    print("Hello from two_layer_net.py!")


# Given code, used by the notebook: please leave this class unchanged.
class TwoLayerNet(object):
    @@sig TwoLayerNet.__init__@@
        """
        Small random weights and zero biases, kept in self.params:
        W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
        """
        # same start every time
        random.seed(0)
        torch.manual_seed(0)

        self.params = {}
        self.params["W1"] = std * torch.randn(input_size, hidden_size, dtype=dtype, device=device)
        self.params["b1"] = torch.zeros(hidden_size, dtype=dtype, device=device)
        self.params["W2"] = std * torch.randn(hidden_size, output_size, dtype=dtype, device=device)
        self.params["b2"] = torch.zeros(output_size, dtype=dtype, device=device)

    @@sig TwoLayerNet.loss@@
        return nn_forward_backward(self.params, X, y, reg)

    @@sig TwoLayerNet.train@@
        return nn_train(
            self.params, nn_forward_backward, nn_predict, X, y,
            X_val, y_val, learning_rate, learning_rate_decay,
            reg, num_iters, batch_size, verbose)

    @@sig TwoLayerNet.predict@@
        return nn_predict(self.params, nn_forward_backward, X)

    @@sig TwoLayerNet.save@@
        torch.save(self.params, path)
        print("Saved in {}".format(path))

    @@load@@

@@helpers@@

#<keep4>
@@sig nn_forward_pass@@
    """
    Forward pass: FC layer -> ReLU (hidden) -> FC layer (scores).
    torch.relu and torch.nn are not allowed here (they are from A3 on).

    params holds W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); X is (N, D).
    Returns (scores (N, C), hidden (N, H)), hidden taken after the ReLU.
    """
    # take the parameters out of the dict
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    # the forward pass
    hidden = None
    scores = None
    @@todo forward | compute hidden and the class scores (N, C)@@

    return scores, hidden


@@sig nn_forward_backward@@
    """
    Loss and gradients of the two-layer net; divide by the batch size.

    Without y, returns the scores (N, C). With y, returns (loss, grads), grads keyed
    like params.
    """
    # take the parameters out of the dict
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    scores, h1 = nn_forward_pass(params, X)
    # without labels, the scores are all we need
    if y is None:
        return scores

    # the loss
    loss = None
    @@todo net_loss | softmax loss plus L2 regularization of W1 and W2 (no 1/2); mind numeric stability@@

    # the backward pass
    grads = {}
    @@todo net_grads | gradients of the loss for W1, b1, W2 and b2, stored in grads@@

    return loss, grads
#</keep4>


@@sig nn_train@@
    """
    SGD for the two-layer net.

    loss_func(params, X_batch, y=y_batch, reg=reg) returns (loss, grads);
    pred_func(params, loss_func, X) returns labels. The learning rate is multiplied by
    learning_rate_decay after each epoch. Returns a dict with the histories.
    """
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)

    # optimize params with SGD
    loss_history = []
    train_acc_history = []
    val_acc_history = []

    for it in range(num_iters):
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)

        # loss and gradients on the minibatch
        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())

        @@todo nn_sgd | update every parameter in params with SGD and the gradients in grads@@

        if verbose and it % 100 == 0:
            print("iteration %d / %d: loss %f" % (it, num_iters, loss.item()))

        # once an epoch: check accuracies, decay the learning rate
        if it % iterations_per_epoch == 0:
            # accuracies
            y_train_pred = pred_func(params, loss_func, X_batch)
            train_acc = (y_train_pred == y_batch).float().mean().item()
            y_val_pred = pred_func(params, loss_func, X_val)
            val_acc = (y_val_pred == y_val).float().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)

            # learning rate decay
            learning_rate *= learning_rate_decay

    return {
        "loss_history": loss_history,
        "train_acc_history": train_acc_history,
        "val_acc_history": val_acc_history,
    }


@@sig nn_predict@@
    """
    Labels for X (N, D): the class with the highest score, as a tensor of shape (N,).
    """
    y_pred = None

    @@todo nn_predict | this one is short@@

    return y_pred


def nn_get_search_params():
    """
    Candidate learning rates, hidden sizes, regularization strengths and learning rate
    decays: at least two of each, under 256 combinations in all.
    """
    learning_rates = []
    hidden_sizes = []
    regularization_strengths = []
    learning_rate_decays = []
    @@todo nn_params | your lists of hyperparameters@@

    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays


@@sig find_best_net@@
    """
    Tries every combination from get_param_set_fn() (learning_rates, hidden_sizes,
    regularization_strengths, learning_rate_decays) with a new TwoLayerNet.

    Returns (best_net, best_stat, best_val_acc): the trained net that does best on
    validation, what its .train() returned, and its validation accuracy.
    """

    best_net = None
    best_stat = None
    best_val_acc = 0.0

    @@todo find_best_net | tune the hyperparameters on the validation set and keep the best trained net in best_net@@

    return best_net, best_stat, best_val_acc
'''

TYPING = {"f20": None, "w22": "from typing import Dict, List, Callable, Optional"}

# Signatures: (Fall 2020, Winter 2022), both in canonical indentation, placed at the token's.
SIGS: Dict[str, Tuple[str, str]] = {
    "LinearClassifier.train": (
        "def train(self, X_train, y_train, learning_rate=1e-3, reg=1e-5, num_iters=100,\n"
        "          batch_size=200, verbose=False):",
        "def train(\n    self,\n    X_train: torch.Tensor,\n    y_train: torch.Tensor,\n"
        "    learning_rate: float = 1e-3,\n    reg: float = 1e-5,\n    num_iters: int = 100,\n"
        "    batch_size: int = 200,\n    verbose: bool = False,\n):"),
    "LinearClassifier.predict": ("def predict(self, X):", "def predict(self, X: torch.Tensor):"),
    "LinearClassifier.loss": (
        "def loss(self, W, X_batch, y_batch, reg):",
        "def loss(\n    self,\n    W: torch.Tensor,\n    X_batch: torch.Tensor,\n    y_batch: torch.Tensor,\n"
        "    reg: float,\n):"),
    "LinearClassifier.save": ("def save(self, path):", "def save(self, path: str):"),
    "svm_loss_naive": ("def svm_loss_naive(W, X, y, reg):",
                       "def svm_loss_naive(\n    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float\n):"),
    "svm_loss_vectorized": ("def svm_loss_vectorized(W, X, y, reg):",
                            "def svm_loss_vectorized(\n"
                            "    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float\n):"),
    "sample_batch": ("def sample_batch(X, y, num_train, batch_size):",
                     "def sample_batch(\n    X: torch.Tensor, y: torch.Tensor, num_train: int, batch_size: int\n):"),
    "train_linear_classifier": (
        "def train_linear_classifier(loss_func, W, X, y, learning_rate=1e-3,\n"
        "                            reg=1e-5, num_iters=100, batch_size=200,\n"
        "                            verbose=False):",
        "def train_linear_classifier(\n    loss_func: Callable,\n    W: torch.Tensor,\n    X: torch.Tensor,\n"
        "    y: torch.Tensor,\n    learning_rate: float = 1e-3,\n    reg: float = 1e-5,\n    num_iters: int = 100,\n"
        "    batch_size: int = 200,\n    verbose: bool = False,\n):"),
    "predict_linear_classifier": ("def predict_linear_classifier(W, X):",
                                  "def predict_linear_classifier(W: torch.Tensor, X: torch.Tensor):"),
    "test_one_param_set": (
        "def test_one_param_set(cls, data_dict, lr, reg, num_iters=2000):",
        "def test_one_param_set(\n    cls: LinearClassifier,\n    data_dict: Dict[str, torch.Tensor],\n"
        "    lr: float,\n    reg: float,\n    num_iters: int = 2000,\n):"),
    "softmax_loss_naive": ("def softmax_loss_naive(W, X, y, reg):",
                           "def softmax_loss_naive(\n"
                           "    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float\n):"),
    "softmax_loss_vectorized": (
        "def softmax_loss_vectorized(W, X, y, reg):",
        "def softmax_loss_vectorized(\n    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float\n):"),
    "TwoLayerNet.__init__": (
        "def __init__(self, input_size, hidden_size, output_size,\n"
        "             dtype=torch.float32, device='cuda', std=1e-4):",
        "def __init__(\n    self,\n    input_size: int,\n    hidden_size: int,\n    output_size: int,\n"
        "    dtype: torch.dtype = torch.float32,\n    device: str = \"cuda\",\n    std: float = 1e-4,\n):"),
    "TwoLayerNet.loss": ("def loss(self, X, y=None, reg=0.0):",
                         "def loss(\n    self,\n    X: torch.Tensor,\n    y: Optional[torch.Tensor] = None,\n"
                         "    reg: float = 0.0,\n):"),
    "TwoLayerNet.train": (
        "def train(self, X, y, X_val, y_val,\n          learning_rate=1e-3, learning_rate_decay=0.95,\n"
        "          reg=5e-6, num_iters=100,\n          batch_size=200, verbose=False):",
        "def train(\n    self,\n    X: torch.Tensor,\n    y: torch.Tensor,\n    X_val: torch.Tensor,\n"
        "    y_val: torch.Tensor,\n    learning_rate: float = 1e-3,\n    learning_rate_decay: float = 0.95,\n"
        "    reg: float = 5e-6,\n    num_iters: int = 100,\n    batch_size: int = 200,\n"
        "    verbose: bool = False,\n):"),
    "TwoLayerNet.predict": ("def predict(self, X):", "def predict(self, X: torch.Tensor):"),
    "TwoLayerNet.save": ("def save(self, path):", "def save(self, path: str):"),
    "nn_forward_pass": ("def nn_forward_pass(params, X):",
                        "def nn_forward_pass(params: Dict[str, torch.Tensor], X: torch.Tensor):"),
    "nn_forward_backward": (
        "def nn_forward_backward(params, X, y=None, reg=0.0):",
        "def nn_forward_backward(\n    params: Dict[str, torch.Tensor],\n    X: torch.Tensor,\n"
        "    y: Optional[torch.Tensor] = None,\n    reg: float = 0.0\n):"),
    "nn_train": (
        "def nn_train(params, loss_func, pred_func, X, y, X_val, y_val,\n"
        "             learning_rate=1e-3, learning_rate_decay=0.95,\n"
        "             reg=5e-6, num_iters=100,\n             batch_size=200, verbose=False):",
        "def nn_train(\n    params: Dict[str, torch.Tensor],\n    loss_func: Callable,\n    pred_func: Callable,\n"
        "    X: torch.Tensor,\n    y: torch.Tensor,\n    X_val: torch.Tensor,\n    y_val: torch.Tensor,\n"
        "    learning_rate: float = 1e-3,\n    learning_rate_decay: float = 0.95,\n    reg: float = 5e-6,\n"
        "    num_iters: int = 100,\n    batch_size: int = 200,\n    verbose: bool = False,\n):"),
    "nn_predict": ("def nn_predict(params, loss_func, X):",
                   "def nn_predict(\n    params: Dict[str, torch.Tensor], loss_func: Callable, X: torch.Tensor\n):"),
    "find_best_net": ("def find_best_net(data_dict, get_param_set_fn):",
                      "def find_best_net(\n    data_dict: Dict[str, torch.Tensor], get_param_set_fn: Callable\n):"),
}

# The given load() methods: Fall 2020 loads and prints; Winter 2022 checks what it loaded.
LOADS = {
    (LC, "f20"): '''\
def load(self, path):
    W_dict = torch.load(path, map_location="cpu")
    self.W = W_dict["W"]
    print("load checkpoint file: {}".format(path))''',
    (LC, "w22"): '''\
def load(self, path: str):
    W_dict = torch.load(path, map_location="cpu")
    self.W = W_dict["W"]
    if self.W is None:
        raise Exception("Failed to load your checkpoint")
    # print("load checkpoint file: {}".format(path))''',
    (TLN, "f20"): '''\
def load(self, path):
    checkpoint = torch.load(path, map_location="cpu")
    self.params = checkpoint
    print("load checkpoint file: {}".format(path))''',
    (TLN, "w22"): '''\
def load(self, path: str):
    checkpoint = torch.load(path, map_location="cpu")
    self.params = checkpoint
    if len(self.params) != 4:
        raise Exception("Failed to load your checkpoint")

    for param in ["W1", "b1", "W2", "b2"]:
        if param not in self.params:
            raise Exception("Failed to load your checkpoint")
    # print("load checkpoint file: {}".format(path))''',
}

# ---------------------------------------------------------------------------------------------
# The bodies of the TODO regions: REGIONS[region][variant], dedented, 4-space nesting.
# Paired regions share names: every svm_vec_loss body defines num_train, scores and margins
# (correct class zeroed) except "minus_one", which pairs with the grad of the same name; every
# net_loss body defines probs (N, C), and onehot_F / scatter also `targets`, which the grads
# body "targets" uses; svm_naive_1 "scaled" pairs with svm_naive_2 "reg_only".
# ---------------------------------------------------------------------------------------------

REGIONS: Dict[str, Dict[str, str]] = {
    # ----------------------------------------------------------------- svm_loss_naive (part 1)
    "svm_naive_1": {
        "cols": """
            dW[:, j] += X[i]
            dW[:, y[i]] -= X[i]
        """,
        "transpose_assign": """
            dW[:, j] = dW[:, j] + X[i].t()
            dW[:, y[i]] = dW[:, y[i]] - X[i].t()
        """,
        "item_label": """
            label = y[i].item()
            dW[:, j] += X[i]
            dW[:, label] -= X[i]
        """,
        "scaled": """
            dW[:, j] += X[i] / num_train
            dW[:, y[i]] -= X[i] / num_train
        """,
    },
    # ----------------------------------------------------------------- svm_loss_naive (part 2)
    "svm_naive_2": {
        "inplace": """
            dW /= num_train
            dW += 2 * reg * W
        """,
        "expr": """
            dW = dW / num_train + 2 * reg * W
        """,
        "reg_only": """
            # dW was already divided by num_train inside the loop
            dW += 2 * reg * W
        """,
        "inplace_pass": """
            dW /= num_train
            dW += 2 * reg * W
            pass
        """,
    },
    # ----------------------------------------------------------------- svm_loss_vectorized: loss
    "svm_vec_loss": {
        "clamp_arange": """
            num_train = X.shape[0]
            scores = X.mm(W)
            rows = torch.arange(num_train, device=X.device)
            correct_scores = scores[rows, y].view(-1, 1)
            margins = (scores - correct_scores + 1).clamp(min=0)
            margins[rows, y] = 0
            loss = margins.sum() / num_train + reg * torch.sum(W * W)
        """,
        "max_zeros_range": """
            num_train = X.shape[0]
            scores = X @ W
            correct_class_scores = scores[range(num_train), y].reshape(-1, 1)
            margins = torch.max(torch.zeros_like(scores), scores - correct_class_scores + 1)
            margins[range(num_train), y] = 0
            loss = torch.sum(margins) / num_train
            loss += reg * torch.sum(W * W)
        """,
        "einsum_gather": """
            num_train = X.shape[0]
            scores = torch.einsum("nd,dc->nc", X, W)
            correct = scores.gather(1, y.view(-1, 1))
            margins = torch.maximum(scores - correct + 1, torch.zeros_like(scores))
            margins.scatter_(1, y.view(-1, 1), 0.0)
            loss = margins.sum() / num_train + reg * (W * W).sum()
        """,
        "matmul_item": """
            num_train = X.shape[0]
            num_classes = W.shape[1]
            scores = torch.matmul(X, W)
            correct_class_score = scores[torch.arange(num_train), y]
            margins = scores - correct_class_score.unsqueeze(1) + 1
            margins[margins < 0] = 0
            margins[torch.arange(num_train), y] = 0
            loss = margins.sum() / num_train + reg * torch.sum(W ** 2)
        """,
        "helper": """
            num_train = X.shape[0]
            scores = class_scores(W, X)
            rows = torch.arange(num_train, device=X.device)
            margins = torch.clamp(scores - scores[rows, y][:, None] + 1, min=0)
            margins[rows, y] = 0
            loss = margins.sum() / num_train + reg * torch.sum(W * W)
        """,
        "minus_one": """
            num_train = X.shape[0]
            scores = X.mm(W)
            correct = scores[range(num_train), y].view(-1, 1)
            margins = (scores - correct + 1).clamp(min=0)
            # the correct class always adds exactly 1 to its row: take it back out
            loss = margins.sum(dim=1).mean() - 1
            loss += reg * torch.sum(W * W)
        """,
    },
    # ----------------------------------------------------------------- svm_loss_vectorized: grad
    "svm_vec_grad": {
        "mask_double": """
            mask = (margins > 0).double()
            mask[range(num_train), y] = -torch.sum(mask, dim=1)
            dW = X.t().mm(mask) / num_train
            dW += 2 * reg * W
        """,
        "mask_type": """
            binary = (margins > 0).type(X.dtype)
            row_sum = binary.sum(dim=1)
            binary[torch.arange(num_train, device=X.device), y] = -row_sum
            dW = X.t() @ binary / num_train + 2 * reg * W
        """,
        "zeros_like_count": """
            coeff = torch.zeros_like(margins)
            coeff[margins > 0] = 1
            coeff[range(num_train), y] -= coeff.sum(dim=1)
            dW = torch.matmul(X.t(), coeff) / num_train + 2 * reg * W
        """,
        "einsum": """
            mask = (margins > 0).to(X.dtype)
            mask.scatter_(1, y.view(-1, 1), -mask.sum(dim=1, keepdim=True))
            dW = torch.einsum("nd,nc->dc", X, mask) / num_train + 2 * reg * W
        """,
        "minus_one": """
            mask = (margins > 0).double()
            mask[range(num_train), y] = 0
            mask[range(num_train), y] = -mask.sum(dim=1)
            dW = X.t().mm(mask) / num_train + 2 * reg * W
        """,
    },
    # ----------------------------------------------------------------- sample_batch
    "sample_batch": {
        "randint_pos": """
            indices = torch.randint(0, num_train, (batch_size,))
            X_batch = X[indices]
            y_batch = y[indices]
        """,
        "randint_kw": """
            idx = torch.randint(high=num_train, size=(batch_size,))
            X_batch, y_batch = X[idx], y[idx]
        """,
        "randint_dev": """
            batch_idx = torch.randint(num_train, (batch_size,), device=X.device)
            X_batch = X[batch_idx, :]
            y_batch = y[batch_idx]
        """,
        "randperm": """
            shuffled = torch.randperm(num_train)
            batch_idx = shuffled[:batch_size]
            X_batch = X[batch_idx]
            y_batch = y[batch_idx]
        """,
        "index_select": """
            idx = torch.randint(0, num_train, size=(batch_size,), device=y.device)
            X_batch = torch.index_select(X, 0, idx)
            y_batch = torch.index_select(y, 0, idx)
        """,
    },
    # ----------------------------------------------------------------- train_linear_classifier
    "sgd_step": {
        "isub": """
            W -= learning_rate * grad
        """,
        "rebind": """
            W = W - learning_rate * grad
        """,
        "add_neg": """
            W += -learning_rate * grad
        """,
        "isub_pass": """
            W -= learning_rate * grad
            pass
        """,
    },
    # ----------------------------------------------------------------- predict_linear_classifier
    "predict": {
        "argmax_mm": """
            y_pred = torch.argmax(X.mm(W), dim=1)
        """,
        "max_tuple": """
            _, y_pred = X.mm(W).max(dim=1)
        """,
        "max_1": """
            y_pred = torch.max(X @ W, dim=1)[1]
        """,
        "indices": """
            y_pred = torch.matmul(X, W).max(dim=1).indices
        """,
        "einsum": """
            y_pred = torch.einsum("nd,dc->nc", X, W).argmax(dim=-1)
        """,
        "helper": """
            scores = class_scores(W, X)
            y_pred = scores.argmax(dim=1)
        """,
    },
    # ----------------------------------------------------------------- svm_get_search_params
    "svm_params": {
        "grid5x5": """
            learning_rates = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
            regularization_strengths = [1e-4, 1e-3, 5e-3, 1e-2, 5e-2]
        """,
        "small_lists": """
            learning_rates = [5e-3, 1e-2]
            regularization_strengths = [1e-3, 1e-2, 1e-1]
        """,
        "tuples": """
            learning_rates = (1e-2, 5e-2)
            regularization_strengths = (1e-3, 5e-3, 1e-2)
        """,
        "loop_append": """
            for exponent in range(1, 4):
                learning_rates.append(10 ** -exponent)
            for exponent in range(2, 6):
                regularization_strengths.append(10 ** -exponent)
        """,
        "grid5x5_pass": """
            learning_rates = [5e-4, 1e-3, 5e-3, 1e-2, 5e-2]
            regularization_strengths = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
            pass
        """,
    },
    "softmax_params": {
        "grid5x5": """
            learning_rates = [1e-2, 3e-2, 1e-1, 3e-1, 1.0]
            regularization_strengths = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
        """,
        "small_lists": """
            learning_rates = [1e-1, 5e-1]
            regularization_strengths = [1e-4, 1e-3]
        """,
        "tuples": """
            learning_rates = (5e-2, 1e-1, 2e-1)
            regularization_strengths = (1e-4, 1e-3)
        """,
        "loop_append": """
            for lr in (0.05, 0.1, 0.2, 0.4):
                learning_rates.append(lr)
            for exponent in range(3, 6):
                regularization_strengths.append(10 ** -exponent)
        """,
        "grid5x5_pass": """
            learning_rates = [1e-2, 5e-2, 1e-1, 5e-1, 1.0]
            regularization_strengths = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]
            pass
        """,
    },
    # ----------------------------------------------------------------- test_one_param_set
    "one_param_set": {
        "percent_kw": """
            cls.train(data_dict["X_train"], data_dict["y_train"], learning_rate=lr, reg=reg,
                      num_iters=num_iters, batch_size=200, verbose=False)
            y_train_pred = cls.predict(data_dict["X_train"])
            train_acc = 100.0 * (data_dict["y_train"] == y_train_pred).double().mean().item()
            y_val_pred = cls.predict(data_dict["X_val"])
            val_acc = 100.0 * (data_dict["y_val"] == y_val_pred).double().mean().item()
        """,
        "fraction_sum_print": """
            X_train, y_train = data_dict['X_train'], data_dict['y_train']
            X_val, y_val = data_dict['X_val'], data_dict['y_val']
            cls.train(X_train, y_train, lr, reg, num_iters)
            train_acc = (cls.predict(X_train) == y_train).sum().item() / len(y_train)
            val_acc = (cls.predict(X_val) == y_val).sum().item() / len(y_val)
            print('lr %e reg %e train accuracy: %f val accuracy: %f' % (lr, reg, train_acc, val_acc))
        """,
        "float_mean": """
            cls.train(data_dict['X_train'], data_dict['y_train'], learning_rate=lr, reg=reg,
                      num_iters=num_iters)
            train_acc = float(torch.mean((cls.predict(data_dict['X_train']) == data_dict['y_train']).float()))
            val_acc = float(torch.mean((cls.predict(data_dict['X_val']) == data_dict['y_val']).float()))
        """,
        "percent_verbose": """
            loss_hist = cls.train(data_dict["X_train"], data_dict["y_train"], learning_rate=lr,
                                  reg=reg, num_iters=num_iters, verbose=True)
            train_pred = cls.predict(data_dict["X_train"])
            val_pred = cls.predict(data_dict["X_val"])
            train_acc = ((train_pred == data_dict["y_train"]).double().mean() * 100).item()
            val_acc = ((val_pred == data_dict["y_val"]).double().mean() * 100).item()
            print(f"lr={lr}, reg={reg}: train {train_acc:.2f}%, val {val_acc:.2f}%")
        """,
        "eq_fraction": """
            cls.train(data_dict['X_train'], data_dict['y_train'], lr, reg, num_iters, 200, False)
            y_train_pred = cls.predict(data_dict['X_train'])
            train_acc = torch.eq(y_train_pred, data_dict['y_train']).sum().item() / data_dict['y_train'].shape[0]
            y_val_pred = cls.predict(data_dict['X_val'])
            val_acc = torch.eq(y_val_pred, data_dict['y_val']).sum().item() / data_dict['y_val'].shape[0]
        """,
        "percent_pass": """
            cls.train(data_dict['X_train'], data_dict['y_train'], lr, reg, num_iters)
            train_acc = 100.0 * (cls.predict(data_dict['X_train']) == data_dict['y_train']).double().mean().item()
            val_acc = 100.0 * (cls.predict(data_dict['X_val']) == data_dict['y_val']).double().mean().item()
            pass
        """,
        "given_train_written_out": """
            # what cls.train does, written out
            batch_size = 200
            cls.W, _ = train_linear_classifier(cls.loss, cls.W, data_dict['X_train'], data_dict['y_train'],
                                               lr, reg, num_iters, batch_size)
            y_train_pred = predict_linear_classifier(cls.W, data_dict['X_train'])
            train_acc = 100.0 * (y_train_pred == data_dict['y_train']).double().mean().item()
            y_val_pred = predict_linear_classifier(cls.W, data_dict['X_val'])
            val_acc = 100.0 * (y_val_pred == data_dict['y_val']).double().mean().item()
        """,
    },
    # ----------------------------------------------------------------- softmax_loss_naive
    "softmax_naive": {
        "classes_exp_sum_log": """
            num_train = X.shape[0]
            num_classes = W.shape[1]
            for i in range(num_train):
                scores = W.t().mv(X[i])
                scores = scores - scores.max()
                exp_scores = torch.exp(scores)
                probs = exp_scores / exp_scores.sum()
                loss -= torch.log(probs[y[i]])
                for j in range(num_classes):
                    if j == y[i]:
                        dW[:, j] += (probs[j] - 1) * X[i]
                    else:
                        dW[:, j] += probs[j] * X[i]
            loss /= num_train
            loss += reg * torch.sum(W * W)
            dW /= num_train
            dW += 2 * reg * W
        """,
        "logsumexp_loop": """
            num_train, num_classes = X.shape[0], W.shape[1]
            for i in range(num_train):
                s = X[i] @ W
                log_norm = torch.logsumexp(s, dim=0)
                loss += log_norm - s[y[i]]
                p = torch.exp(s - log_norm)
                for c in range(num_classes):
                    indicator = 1.0 if c == y[i] else 0.0
                    dW[:, c] += (p[c] - indicator) * X[i]
            loss = loss / num_train + reg * torch.sum(W * W)
            dW = dW / num_train + 2 * reg * W
        """,
        "item_heavy": """
            num_train = X.shape[0]
            num_classes = W.shape[1]
            for i in range(num_train):
                label = y[i].item()
                scores = X[i].matmul(W)
                max_score = scores.max().item()
                scores = scores - max_score
                denom = torch.exp(scores).sum()
                loss = loss + (torch.log(denom) - scores[label])
                for j in range(num_classes):
                    prob = (torch.exp(scores[j]) / denom).item()
                    if j == label:
                        dW[:, j] += (prob - 1.0) * X[i]
                    else:
                        dW[:, j] += prob * X[i]
            loss = loss / num_train + reg * torch.sum(W * W)
            dW = dW / num_train + 2 * reg * W
        """,
        "outer_mm_view": """
            num_train = X.shape[0]
            for i in range(num_train):
                f = torch.mm(X[i].view(1, -1), W).view(-1)
                f -= torch.max(f)
                p = torch.exp(f) / torch.sum(torch.exp(f))
                loss += -torch.log(p[y[i]])
                p[y[i]] -= 1
                dW += torch.outer(X[i], p)
            loss = loss / num_train + reg * torch.sum(W * W)
            dW = dW / num_train + 2 * reg * W
        """,
        "indicator_double": """
            num_train = X.shape[0]
            num_classes = W.shape[1]
            for i in range(num_train):
                scores = X[i] @ W
                scores -= torch.max(scores)
                probs = torch.exp(scores) / torch.sum(torch.exp(scores))
                loss += -torch.log(probs[y[i]])
                for j in range(num_classes):
                    dW[:, j] += (probs[j] - (j == y[i]).double()) * X[i]
            loss /= num_train
            loss += reg * torch.sum(W * W)
            dW /= num_train
            dW += 2 * reg * W
        """,
        "zero_tensor_device": """
            loss = torch.zeros((), dtype=W.dtype, device=W.device)
            num_train, num_classes = X.shape[0], W.shape[1]
            for i in range(num_train):
                scores = torch.mv(W.t(), X[i])
                scores = scores - torch.max(scores)
                probs = torch.exp(scores) / torch.exp(scores).sum()
                loss = loss - torch.log(probs[y[i]])
                for j in range(num_classes):
                    if j == y[i]:
                        dW[:, j] = dW[:, j] + (probs[j] - 1) * X[i]
                    else:
                        dW[:, j] = dW[:, j] + probs[j] * X[i]
            loss = loss / num_train + reg * torch.sum(W * W)
            dW = dW / num_train + 2 * reg * W
        """,
    },
    # ----------------------------------------------------------------- softmax_loss_vectorized
    "softmax_vec": {
        "exp_sum_log": """
            num_train = X.shape[0]
            scores = X.mm(W)
            scores = scores - scores.max(dim=1, keepdim=True).values
            exp_scores = scores.exp()
            probs = exp_scores / exp_scores.sum(dim=1, keepdim=True)
            rows = torch.arange(num_train, device=X.device)
            loss = -torch.log(probs[rows, y]).sum() / num_train
            loss += reg * torch.sum(W * W)
            dscores = probs.clone()
            dscores[rows, y] -= 1
            dW = X.t().mm(dscores) / num_train + 2 * reg * W
        """,
        "logsumexp_F_onehot": """
            N, C = X.shape[0], W.shape[1]
            scores = X @ W
            log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
            one_hot = F.one_hot(y, num_classes=C)
            loss = -(log_probs * one_hot).sum() / N + reg * torch.sum(W * W)
            dW = X.T @ (log_probs.exp() - one_hot) / N + 2 * reg * W
        """,
        "scatter": """
            num_train = X.shape[0]
            scores = torch.matmul(X, W)
            scores -= torch.max(scores, dim=1, keepdim=True)[0]
            probs = torch.exp(scores)
            probs /= torch.sum(probs, dim=1, keepdim=True)
            target = torch.zeros_like(probs).scatter_(1, y.unsqueeze(1), 1.0)
            loss = -torch.sum(target * torch.log(probs)) / num_train + reg * torch.sum(W * W)
            dW = torch.matmul(X.t(), probs - target) / num_train + 2 * reg * W
        """,
        "zeros_like_range": """
            num_train = X.shape[0]
            scores = X.mm(W)
            max_scores, _ = torch.max(scores, dim=1, keepdim=True)
            shifted = scores - max_scores
            softmax = torch.exp(shifted) / torch.exp(shifted).sum(dim=1, keepdim=True)
            loss = -torch.log(softmax[range(num_train), y]).mean()
            loss += reg * (W * W).sum()
            indicator = torch.zeros_like(softmax)
            indicator[range(num_train), y] = 1
            dW = X.t().mm(softmax - indicator) / num_train + 2 * reg * W
        """,
        "double_casts": """
            num_train, num_classes = X.shape[0], W.shape[1]
            scores = X.double().mm(W.double())
            scores = scores - scores.max(dim=1, keepdim=True).values
            probs = scores.exp() / scores.exp().sum(dim=1, keepdim=True)
            labels = (y.view(-1, 1) == torch.arange(num_classes, device=y.device).view(1, -1)).double()
            loss = -(labels * torch.log(probs)).sum() / num_train
            loss = loss + reg * torch.sum(W.double() * W.double())
            dW = X.double().t().mm(probs - labels) / num_train + 2 * reg * W
        """,
        "helper": """
            num_train = X.shape[0]
            scores = class_scores(W, X)
            scores -= scores.max(dim=1, keepdim=True).values
            probs = torch.exp(scores)
            probs = probs / probs.sum(dim=1, keepdim=True)
            rows = torch.arange(num_train, device=X.device)
            loss = -torch.log(probs[rows, y]).mean() + reg * torch.sum(W * W)
            probs[rows, y] -= 1
            dW = X.t().mm(probs) / num_train + 2 * reg * W
        """,
        "einsum": """
            num_train = X.shape[0]
            scores = torch.einsum("nd,dc->nc", X, W)
            scores = scores - scores.amax(dim=1, keepdim=True)
            log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()
            probs = log_probs.exp()
            loss = -log_probs.gather(1, y[:, None]).sum() / num_train + reg * torch.einsum("dc,dc->", W, W)
            probs[torch.arange(num_train, device=X.device), y] -= 1
            dW = torch.einsum("nd,nc->dc", X, probs) / num_train + 2 * reg * W
        """,
    },
    # ----------------------------------------------------------------- nn_forward_pass
    "forward": {
        "inplace": """
            h = X @ W1 + b1
            h[h < 0] = 0
            hidden = h
            scores = hidden @ W2 + b2
        """,
        "maximum": """
            pre_activation = X.mm(W1) + b1
            hidden = torch.maximum(pre_activation, torch.zeros_like(pre_activation))
            scores = hidden.mm(W2) + b2
        """,
        "clamp": """
            hidden = torch.clamp(X.mm(W1) + b1, min=0)
            scores = hidden.mm(W2) + b2
        """,
        "mask_product": """
            fc1 = torch.matmul(X, W1) + b1
            hidden = fc1 * (fc1 > 0)
            scores = torch.matmul(hidden, W2) + b2
        """,
        "einsum": """
            z1 = torch.einsum("nd,dh->nh", X, W1) + b1
            hidden = z1.clamp(min=0.0)
            scores = torch.einsum("nh,hc->nc", hidden, W2) + b2
        """,
        "helper_relu": """
            hidden = relu(X.mm(W1) + b1)
            scores = hidden.mm(W2) + b2
        """,
        "max_zero_scalar": """
            hidden = torch.max(X.mm(W1) + b1, torch.tensor(0.0))
            scores = hidden.mm(W2) + b2
        """,
    },
    # ----------------------------------------------------------------- nn_forward_backward: loss
    "net_loss": {
        "exp_sum_log": """
            shifted = scores - scores.max(dim=1, keepdim=True).values
            exp_scores = torch.exp(shifted)
            probs = exp_scores / exp_scores.sum(dim=1, keepdim=True)
            loss = -torch.log(probs[torch.arange(N, device=X.device), y]).mean()
            loss += reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))
        """,
        "logsumexp": """
            log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
            probs = torch.exp(log_probs)
            loss = -log_probs[range(N), y].sum() / N + reg * torch.sum(W1 * W1) + reg * torch.sum(W2 * W2)
        """,
        "max0_range": """
            scores_shift = scores - torch.max(scores, dim=1, keepdim=True)[0]
            probs = torch.exp(scores_shift) / torch.sum(torch.exp(scores_shift), dim=1, keepdim=True)
            loss = torch.sum(-torch.log(probs[range(N), y])) / N
            loss += reg * torch.sum(W1 ** 2) + reg * torch.sum(W2 ** 2)
        """,
        "onehot_F": """
            shifted = scores - scores.max(dim=1, keepdim=True).values
            log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
            probs = log_probs.exp()
            targets = F.one_hot(y, num_classes=scores.shape[1]).to(scores.dtype)
            loss = -(targets * log_probs).sum() / N
            loss = loss + reg * ((W1 * W1).sum() + (W2 * W2).sum())
        """,
        "scatter": """
            stable = scores - torch.max(scores, dim=1, keepdim=True).values
            probs = torch.exp(stable)
            probs = probs / probs.sum(dim=1, keepdim=True)
            targets = torch.zeros_like(probs).scatter_(1, y.view(-1, 1), 1.0)
            loss = -torch.sum(targets * torch.log(probs)) / N + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))
        """,
    },
    # ----------------------------------------------------------------- nn_forward_backward: grads
    "net_grads": {
        "index_inplace_mask": """
            dscores = probs.clone()
            dscores[torch.arange(N, device=X.device), y] -= 1
            dscores /= N
            grads["W2"] = h1.t().mm(dscores) + 2 * reg * W2
            grads["b2"] = dscores.sum(dim=0)
            dhidden = dscores.mm(W2.t())
            dhidden[h1 <= 0] = 0
            grads["W1"] = X.t().mm(dhidden) + 2 * reg * W1
            grads["b1"] = dhidden.sum(dim=0)
        """,
        "mask_mult_range": """
            dscores = probs.clone()
            dscores[range(N), y] -= 1
            dscores = dscores / N
            grads['W2'] = h1.T @ dscores + 2 * reg * W2
            grads['b2'] = torch.sum(dscores, dim=0)
            dh1 = dscores @ W2.T * (h1 > 0)
            grads['W1'] = X.T @ dh1 + 2 * reg * W1
            grads['b1'] = torch.sum(dh1, dim=0)
        """,
        "targets": """
            dscores = (probs - targets) / N
            grads["W2"] = torch.matmul(h1.t(), dscores) + 2 * reg * W2
            grads["b2"] = dscores.sum(0)
            dh = torch.matmul(dscores, W2.t())
            dh = dh * (h1 > 0).to(dh.dtype)
            grads["W1"] = torch.matmul(X.t(), dh) + 2 * reg * W1
            grads["b1"] = dh.sum(0)
        """,
        "recompute_pre": """
            dz2 = probs.clone()
            dz2[range(N), y] -= 1
            dz2 /= N
            z1 = X.mm(W1) + b1
            relu_grad = (z1 > 0).type(X.dtype)
            grads['W2'] = h1.t().mm(dz2) + 2 * reg * W2
            grads['b2'] = dz2.sum(dim=0)
            dz1 = dz2.mm(W2.t()) * relu_grad
            grads['W1'] = X.t().mm(dz1) + 2 * reg * W1
            grads['b1'] = dz1.sum(dim=0)
        """,
        "onehot_like_empty": """
            C = scores.shape[1]
            one_hot = torch.zeros_like(torch.empty(N, C), device=X.device, dtype=X.dtype)
            one_hot[range(N), y] = 1
            dscores = (probs - one_hot) / N
            grads["b2"] = dscores.sum(0)
            grads["W2"] = torch.matmul(h1.T, dscores) + 2 * reg * W2
            dh1 = torch.matmul(dscores, W2.T) * (h1 > 0)
            grads["b1"] = dh1.sum(0)
            grads["W1"] = torch.matmul(X.T, dh1) + 2 * reg * W1
        """,
        "einsum": """
            dscores = probs.clone()
            dscores[torch.arange(N, device=X.device), y] -= 1
            dscores /= N
            grads["W2"] = torch.einsum("nh,nc->hc", h1, dscores) + 2 * reg * W2
            grads["b2"] = dscores.sum(dim=0)
            dhidden = torch.einsum("nc,hc->nh", dscores, W2) * (h1 > 0)
            grads["W1"] = torch.einsum("nd,nh->dh", X, dhidden) + 2 * reg * W1
            grads["b1"] = dhidden.sum(dim=0)
        """,
    },
    # ----------------------------------------------------------------- nn_train
    "nn_sgd": {
        "for_isub": """
            for key in params:
                params[key] -= learning_rate * grads[key]
        """,
        "for_rebind": """
            for key in params:
                params[key] = params[key] - learning_rate * grads[key]
        """,
        "explicit": """
            params['W1'] -= learning_rate * grads['W1']
            params['b1'] -= learning_rate * grads['b1']
            params['W2'] -= learning_rate * grads['W2']
            params['b2'] -= learning_rate * grads['b2']
        """,
        "items": """
            for name, grad in grads.items():
                params[name] -= learning_rate * grad
        """,
        "for_isub_pass": """
            for key in params:
                params[key] -= learning_rate * grads[key]
            pass
        """,
    },
    # ----------------------------------------------------------------- nn_predict
    "nn_predict": {
        "forward_pass": """
            scores, _ = nn_forward_pass(params, X)
            y_pred = torch.argmax(scores, dim=1)
        """,
        "loss_func_max1": """
            y_pred = torch.max(loss_func(params, X), dim=1)[1]
        """,
        "forward_backward": """
            scores = nn_forward_backward(params, X)
            y_pred = scores.argmax(dim=1)
        """,
        "inline": """
            hidden = X.mm(params["W1"]) + params["b1"]
            hidden[hidden < 0] = 0
            scores = hidden.mm(params["W2"]) + params["b2"]
            y_pred = scores.max(dim=1).indices
        """,
        "inline_helper": """
            scores = relu(X @ params['W1'] + params['b1']) @ params['W2'] + params['b2']
            _, y_pred = scores.max(dim=1)
        """,
        "forward_pass_idx": """
            y_pred = nn_forward_pass(params, X)[0].argmax(dim=1)
        """,
        "loss_func_indices": """
            scores = loss_func(params, X)
            y_pred = torch.max(scores, dim=1).indices
        """,
    },
    # ----------------------------------------------------------------- nn_get_search_params
    "nn_params": {
        "lists": """
            learning_rates = [1e-1, 5e-1, 1.0]
            hidden_sizes = [64, 128, 256]
            regularization_strengths = [1e-5, 1e-4, 1e-3]
            learning_rate_decays = [0.9, 0.95]
        """,
        "tuples": """
            learning_rates = (0.5, 1.0)
            hidden_sizes = (128, 256)
            regularization_strengths = (1e-4, 1e-3)
            learning_rate_decays = (0.95, 0.99)
        """,
        "big": """
            learning_rates = [1e-2, 1e-1, 5e-1, 1.0]
            hidden_sizes = [32, 64, 128, 256]
            regularization_strengths = [0.0, 1e-4, 1e-3]
            learning_rate_decays = [0.9, 0.95, 1.0]
        """,
        "small": """
            learning_rates = [0.5, 1.0]
            hidden_sizes = [256, 512]
            regularization_strengths = [1e-5, 1e-4]
            learning_rate_decays = [0.95, 0.98]
        """,
    },
    # ----------------------------------------------------------------- find_best_net
    "find_best_net": {
        "product_predict_fraction": """
            X_train, y_train = data_dict["X_train"], data_dict["y_train"]
            X_val, y_val = data_dict["X_val"], data_dict["y_val"]
            for lr, hs, reg, decay in itertools.product(*get_param_set_fn()):
                net = TwoLayerNet(3 * 32 * 32, hs, 10, device=X_train.device, dtype=X_train.dtype)
                stats = net.train(X_train, y_train, X_val, y_val, num_iters=3000, batch_size=1000,
                                  learning_rate=lr, learning_rate_decay=decay, reg=reg, verbose=False)
                val_acc = (net.predict(X_val) == y_val).double().mean().item()
                print("lr %.2e hidden %d reg %.2e decay %.2f -> val acc %.4f" % (lr, hs, reg, decay, val_acc))
                if val_acc > best_val_acc:
                    best_val_acc = val_acc
                    best_net = net
                    best_stat = stats
        """,
        "nested_history": """
            learning_rates, hidden_sizes, regs, decays = get_param_set_fn()
            for lr in learning_rates:
                for hidden_size in hidden_sizes:
                    for reg in regs:
                        for decay in decays:
                            net = TwoLayerNet(input_size=data_dict['X_train'].shape[1], hidden_size=hidden_size,
                                              output_size=10, dtype=data_dict['X_train'].dtype,
                                              device=data_dict['X_train'].device)
                            stat = net.train(data_dict['X_train'], data_dict['y_train'],
                                             data_dict['X_val'], data_dict['y_val'],
                                             lr, decay, reg, 3000, 1000)
                            val_acc = stat['val_acc_history'][-1]
                            if val_acc > best_val_acc:
                                best_val_acc, best_net, best_stat = val_acc, net, stat
        """,
        "eecs598_percent": """
            lrs, hidden_sizes, regs, decays = get_param_set_fn()
            X_train = data_dict['X_train']
            for hs in hidden_sizes:
                for lr in lrs:
                    for reg in regs:
                        for decay in decays:
                            eecs598.reset_seed(0)
                            net = TwoLayerNet(3 * 32 * 32, hs, 10, device=X_train.device, dtype=X_train.dtype)
                            stat = net.train(X_train, data_dict['y_train'], data_dict['X_val'], data_dict['y_val'],
                                             num_iters=3000, batch_size=1000, learning_rate=lr,
                                             learning_rate_decay=decay, reg=reg)
                            y_val_pred = net.predict(data_dict['X_val'])
                            val_acc = 100.0 * (y_val_pred == data_dict['y_val']).double().mean().item()
                            print(f'hs={hs} lr={lr} reg={reg} decay={decay}: val acc {val_acc:.2f}%')
                            if val_acc > best_val_acc:
                                best_val_acc = val_acc
                                best_net = net
                                best_stat = stat
        """,
        "no_device_history": """
            search_space = get_param_set_fn()
            for lr, hs, reg, decay in itertools.product(*search_space):
                # the notebook's data is float32 on the GPU, as TwoLayerNet's defaults
                net = TwoLayerNet(3 * 32 * 32, hs, 10)
                stat = net.train(data_dict['X_train'], data_dict['y_train'], data_dict['X_val'],
                                 data_dict['y_val'], learning_rate=lr, learning_rate_decay=decay,
                                 reg=reg, num_iters=2000, batch_size=500, verbose=True)
                acc = stat['val_acc_history'][-1]
                print('lr=%g hs=%d reg=%g decay=%g: %.3f' % (lr, hs, reg, decay, acc))
                if acc > best_val_acc:
                    best_val_acc = acc
                    best_net = net
                    best_stat = stat
        """,
        "dict_results": """
            results = {}
            trained = {}
            lrs, hss, regs, lrds = get_param_set_fn()
            X_train = data_dict["X_train"]
            for combo in itertools.product(lrs, hss, regs, lrds):
                lr, hs, reg, lrd = combo
                torch.manual_seed(0)
                net = TwoLayerNet(X_train.shape[1], hs, 10, dtype=X_train.dtype, device=X_train.device)
                stat = net.train(X_train, data_dict["y_train"], data_dict["X_val"], data_dict["y_val"],
                                 learning_rate=lr, learning_rate_decay=lrd, reg=reg,
                                 num_iters=2000, batch_size=500)
                pred = net.predict(data_dict["X_val"])
                results[combo] = (pred == data_dict["y_val"]).float().mean().item()
                trained[combo] = (net, stat)
            best_combo = max(results, key=results.get)
            best_net, best_stat = trained[best_combo]
            best_val_acc = results[best_combo]
        """,
        "deepcopy_snapshot": """
            X_train, y_train = data_dict['X_train'], data_dict['y_train']
            X_val, y_val = data_dict['X_val'], data_dict['y_val']
            for lr, hs, reg, lrd in itertools.product(*get_param_set_fn()):
                net = TwoLayerNet(3 * 32 * 32, hs, 10, dtype=X_train.dtype, device=X_train.device)
                stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr, learning_rate_decay=lrd,
                                 reg=reg, num_iters=3000, batch_size=1000)
                val_acc = (net.predict(X_val) == y_val).double().mean().item()
                if val_acc > best_val_acc:
                    # snapshots, so that nothing done later can touch the best one
                    best_val_acc = val_acc
                    best_net = copy.deepcopy(net)
                    best_stat = copy.deepcopy(stat)
        """,
        "log_scatter": """
            X_train, y_train = data_dict['X_train'], data_dict['y_train']
            X_val, y_val = data_dict['X_val'], data_dict['y_val']
            results = {}
            for lr, hs, reg, lrd in itertools.product(*get_param_set_fn()):
                net = TwoLayerNet(3 * 32 * 32, hs, 10, device=X_train.device, dtype=X_train.dtype)
                stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr, learning_rate_decay=lrd,
                                 reg=reg, num_iters=3000, batch_size=1000)
                val_acc = (net.predict(X_val) == y_val).double().mean().item()
                results[(lr, reg)] = val_acc
                if val_acc > best_val_acc:
                    best_val_acc, best_net, best_stat = val_acc, net, stat
            # the notebook's scatter plot of the search, on log scales
            x_scatter = [math.log10(x[0]) for x in results]
            y_scatter = [math.log10(x[1]) for x in results]
            colors = [results[x] for x in results]
            print(list(zip(x_scatter, y_scatter, colors)))
        """,
        "num_classes_data": """
            X_train, y_train = data_dict['X_train'], data_dict['y_train']
            X_val, y_val = data_dict['X_val'], data_dict['y_val']
            num_classes = int(y_train.max().item()) + 1
            learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays = get_param_set_fn()
            for hidden_size in hidden_sizes:
                for learning_rate in learning_rates:
                    for reg in regularization_strengths:
                        for decay in learning_rate_decays:
                            net = TwoLayerNet(X_train.shape[1], hidden_size, num_classes,
                                              dtype=X_train.dtype, device=X_train.device)
                            stats = net.train(X_train, y_train, X_val, y_val,
                                              learning_rate=learning_rate, learning_rate_decay=decay,
                                              reg=reg, num_iters=3000, batch_size=1000)
                            y_pred = net.predict(X_val)
                            acc = (y_pred == y_val).sum().item() / y_val.shape[0]
                            if best_net is None or acc > best_val_acc:
                                best_net, best_stat, best_val_acc = net, stats, acc
        """,
    },
}

# Module-level helpers a style may add (after the given classes).
LC_HELPER_SCORES = '''\
def class_scores(W, X):
    """Scores (N, C) of the rows of X under W; the SVM, softmax and predict share it."""
    return X.mm(W)
'''

TLN_HELPER_RELU = '''\
def relu(x):
    """ReLU by hand (torch.relu is not allowed in this assignment)."""
    return x * (x > 0)
'''


@dataclass(frozen=True)
class Style:
    name: str
    term: str  # "f20" (Fall 2020 template) or "w22" (Winter 2022 template)
    about: str  # what is distinctive, one line
    lc: Dict[str, str]  # region -> variant, linear_classifier.py
    tln: Dict[str, str]  # region -> variant, two_layer_net.py
    lc_imports: Sequence[str] = ()
    tln_imports: Sequence[str] = ()
    lc_helpers: str = ""
    tln_helpers: str = ""
    # A style that fails only because of a grader bug: the reason (tests mark it xfail).
    grader_bug: str = ""


def _lc(svm_naive=("cols", "inplace"), svm_vec=("clamp_arange", "mask_double"), sample="randint_pos",
        sgd="isub", predict="argmax_mm", svm_params="grid5x5", one_param="percent_kw",
        softmax_naive="classes_exp_sum_log", softmax_vec="exp_sum_log", softmax_params="grid5x5"):
    return {"svm_naive_1": svm_naive[0], "svm_naive_2": svm_naive[1], "svm_vec_loss": svm_vec[0],
            "svm_vec_grad": svm_vec[1], "sample_batch": sample, "sgd_step": sgd, "predict": predict,
            "svm_params": svm_params, "one_param_set": one_param, "softmax_naive": softmax_naive,
            "softmax_vec": softmax_vec, "softmax_params": softmax_params}


def _tln(forward="clamp", loss=("exp_sum_log", "index_inplace_mask"), sgd="for_isub", predict="forward_pass",
         params="lists", search="product_predict_fraction"):
    return {"forward": forward, "net_loss": loss[0], "net_grads": loss[1], "nn_sgd": sgd, "nn_predict": predict,
            "nn_params": params, "find_best_net": search}


STYLE_LIST = [
    Style("f20_inplace_relu_percent", "f20",
          "Fall 2020, 2-space: h[h < 0] = 0 ReLU, torch.randint(0, num_train, (B,)) without device, percent "
          "accuracies, 5x5 grids, itertools.product search with hard-coded 3 * 32 * 32 and 10",
          _lc(predict="max_tuple"),
          _tln(forward="inplace"),
          tln_imports=("import itertools",)),
    Style("w22_logsumexp_F_one_hot", "w22",
          "Winter 2022: `from torch.nn import functional as F`, logsumexp softmax with F.one_hot, clamp ReLU, "
          "W = W - lr * grad, params[key] = params[key] - ..., nn_predict via loss_func(...)[1], nested-loop "
          "search ranked by stat['val_acc_history'][-1], fractions by .sum().item() / len(y), tuples",
          _lc(svm_naive=("cols", "expr"), svm_vec=("max_zeros_range", "mask_type"), sample="randint_kw",
              sgd="rebind", svm_params="tuples", one_param="fraction_sum_print", softmax_naive="logsumexp_loop",
              softmax_vec="logsumexp_F_onehot", softmax_params="tuples"),
          _tln(forward="clamp", loss=("onehot_F", "targets"), sgd="for_rebind", predict="loss_func_max1",
               params="tuples", search="nested_history"),
          lc_imports=("from torch.nn import functional as F",),
          tln_imports=("from torch.nn import functional as F",)),
    Style("w22_eecs598_reset_seed_percent", "w22",
          "Winter 2022 with `import eecs598` and `from eecs598.a2_helpers import ...`: eecs598.reset_seed(0) "
          "per net, percent val accuracy from net.predict, einsum everywhere, .indices labels, verbose train",
          _lc(svm_naive=("transpose_assign", "inplace"), svm_vec=("einsum_gather", "einsum"), sample="randint_dev",
              predict="einsum", svm_params="loop_append", one_param="percent_verbose", softmax_naive="item_heavy",
              softmax_vec="einsum", softmax_params="loop_append"),
          _tln(forward="einsum", loss=("logsumexp", "einsum"), sgd="items", predict="forward_backward",
               params="big", search="eecs598_percent"),
          tln_imports=("import eecs598", "from eecs598.a2_helpers import get_toy_data")),
    Style("f20_a2_helpers_no_device_net", "f20",
          "Fall 2020 with `from a2_helpers import ...`: dW scaled inside the loop, randperm batches, "
          "W += -lr * grad, mask-product ReLU, scatter_ one-hot, inlined forward in nn_predict, "
          "TwoLayerNet(3 * 32 * 32, hs, 10) without device/dtype (the course's cuda default)",
          _lc(svm_naive=("scaled", "reg_only"), svm_vec=("matmul_item", "zeros_like_count"), sample="randperm",
              sgd="add_neg", predict="max_1", svm_params="small_lists", one_param="float_mean",
              softmax_naive="outer_mm_view", softmax_vec="scatter", softmax_params="small_lists"),
          _tln(forward="mask_product", loss=("scatter", "targets"), sgd="explicit", predict="inline",
               params="small", search="no_device_history"),
          tln_imports=("import itertools", "from a2_helpers import plot_stats, show_net_weights")),
    Style("w22_module_helpers", "w22",
          "Winter 2022 with module-level helpers shared by two graded functions: class_scores(W, X) in the "
          "SVM, softmax and predict; relu(x) in nn_forward_pass and an inlined nn_predict",
          _lc(svm_vec=("helper", "mask_type"), sample="randint_dev", predict="helper", softmax_vec="helper"),
          _tln(forward="helper_relu", loss=("max0_range", "mask_mult_range"), predict="inline_helper",
               search="num_classes_data"),
          lc_helpers=LC_HELPER_SCORES, tln_helpers=TLN_HELPER_RELU),
    Style("w22_device_everywhere", "w22",
          "Winter 2022, every tensor made with device=X.device (randint, arange, zeros), torch.maximum ReLU "
          "with zeros_like, index_select batches, softmax naive from a zero tensor on W's device",
          _lc(svm_vec=("clamp_arange", "mask_type"), sample="index_select", predict="indices",
              softmax_naive="zero_tensor_device"),
          _tln(forward="maximum", loss=("exp_sum_log", "index_inplace_mask"), predict="forward_pass_idx",
               search="num_classes_data"),
          tln_imports=("import itertools",)),
    Style("f20_pass_left_behind", "f20",
          "Fall 2020 with the template's `pass` left after working code in five regions (naive SVM part 2, "
          "SGD step, SVM grid, test_one_param_set, nn_train update)",
          _lc(svm_naive=("cols", "inplace_pass"), sgd="isub_pass", svm_params="grid5x5_pass",
              one_param="percent_pass", softmax_params="grid5x5_pass"),
          _tln(forward="inplace", loss=("logsumexp", "mask_mult_range"), sgd="for_isub_pass",
               predict="forward_pass"),
          tln_imports=("import itertools",)),
    Style("w22_item_heavy", "w22",
          "Winter 2022, numpy-free but .item()-heavy: labels and maxima as Python numbers in the naive loops, "
          "accuracies by torch.eq(...).sum().item() / n, search results in a dict picked with max(key=...)",
          _lc(svm_naive=("item_label", "inplace"), svm_vec=("matmul_item", "mask_double"), sample="randint_kw",
              predict="max_1", one_param="eq_fraction", softmax_naive="item_heavy", softmax_vec="zeros_like_range"),
          _tln(forward="clamp", loss=("max0_range", "recompute_pre"), sgd="items", predict="loss_func_indices",
               search="dict_results"),
          tln_imports=("import itertools",)),
    Style("f20_double_casts", "f20",
          "Fall 2020 with .double() casts in the float64-only linear losses ((margins > 0).double(), "
          "(j == y[i]).double(), X.double().mm(W.double())), torch.max(..., dim=1)[1] labels",
          _lc(svm_vec=("max_zeros_range", "mask_double"), predict="max_1", one_param="eq_fraction",
              softmax_naive="indicator_double", softmax_vec="double_casts"),
          _tln(forward="clamp", loss=("exp_sum_log", "mask_mult_range"), predict="loss_func_max1",
               search="nested_history")),
    Style("w22_minus_one_trick", "w22",
          "Winter 2022: SVM loss counting the correct class's margin of 1 and subtracting it, mask-product "
          "ReLU, nn_predict via nn_forward_backward(params, X), percent search via net.predict",
          _lc(svm_vec=("minus_one", "minus_one"), sample="randint_pos", sgd="rebind", predict="indices",
              one_param="percent_kw", softmax_vec="scatter"),
          _tln(forward="mask_product", loss=("logsumexp", "recompute_pre"), sgd="for_rebind",
               predict="forward_backward", params="big", search="eecs598_percent"),
          tln_imports=("import eecs598",)),
    Style("f20_randperm_explicit_keys", "f20",
          "Fall 2020: torch.randperm(num_train)[:B] batches, params['W1'] -= ... line by line, torch.maximum "
          "ReLU, one-hot by zeros_like(...)[range(N), y] = 1 (in the net: zeros_like(torch.empty(N, C), "
          "device=X.device)), dict-of-results search",
          _lc(svm_naive=("transpose_assign", "expr"), svm_vec=("clamp_arange", "zeros_like_count"),
              sample="randperm", predict="argmax_mm", svm_params="tuples", one_param="fraction_sum_print",
              softmax_naive="logsumexp_loop", softmax_vec="zeros_like_range", softmax_params="tuples"),
          _tln(forward="maximum", loss=("max0_range", "onehot_like_empty"), sgd="explicit",
               predict="forward_pass", params="tuples", search="dict_results"),
          tln_imports=("import itertools",)),
    Style("w22_verbose_prints", "w22",
          "Winter 2022 with prints everywhere: verbose=True training in test_one_param_set and find_best_net, "
          "f-string reports, history-ranked search without device/dtype",
          _lc(svm_vec=("einsum_gather", "mask_double"), sample="randint_pos", one_param="percent_verbose",
              softmax_naive="outer_mm_view", softmax_vec="exp_sum_log"),
          _tln(forward="inplace", loss=("exp_sum_log", "einsum"), sgd="for_isub", predict="inline",
               params="small", search="no_device_history"),
          tln_imports=("import itertools",)),
    Style("f20_matmul_scatter", "f20",
          "Fall 2020, torch.matmul throughout, scatter_ one-hot in both softmaxes, scaled naive gradient, "
          "float(torch.mean(...)) accuracies, nested-loop search by net.predict fraction",
          _lc(svm_naive=("scaled", "reg_only"), svm_vec=("matmul_item", "zeros_like_count"), sample="index_select",
              predict="indices", one_param="float_mean", softmax_naive="zero_tensor_device", softmax_vec="scatter"),
          _tln(forward="mask_product", loss=("scatter", "targets"), sgd="for_isub", predict="loss_func_indices",
               params="big", search="num_classes_data")),
    Style("w22_one_hot_functional", "w22",
          "Winter 2022 importing F only for one_hot in the net, logsumexp naive softmax, in-place ReLU, "
          "explicit per-key SGD, search with itertools.product and percent via history-free predict",
          _lc(svm_naive=("item_label", "expr"), svm_vec=("einsum_gather", "einsum"), sample="randperm",
              sgd="add_neg", predict="max_tuple", svm_params="small_lists", one_param="percent_kw",
              softmax_naive="logsumexp_loop", softmax_vec="logsumexp_F_onehot", softmax_params="small_lists"),
          _tln(forward="inplace", loss=("onehot_F", "targets"), sgd="explicit", predict="inline",
               params="lists", search="product_predict_fraction"),
          lc_imports=("from torch.nn import functional as F",),
          tln_imports=("import itertools", "from torch.nn import functional as F")),
    Style("f20_einsum_loop_append", "f20",
          "Fall 2020: einsum in every product, grids built by append loops, mm-view naive softmax, "
          "nn_predict from nn_forward_pass(...)[0], eecs598.reset_seed search in percent",
          _lc(svm_naive=("cols", "expr"), svm_vec=("einsum_gather", "einsum"), sample="randint_kw",
              predict="einsum", svm_params="loop_append", one_param="percent_verbose",
              softmax_naive="outer_mm_view", softmax_vec="einsum", softmax_params="loop_append"),
          _tln(forward="einsum", loss=("exp_sum_log", "einsum"), sgd="items", predict="forward_pass_idx",
               params="lists", search="eecs598_percent"),
          tln_imports=("import eecs598",)),
    Style("w22_torch_max_zero_scalar", "w22",
          "Winter 2022 with ReLU as torch.max(X.mm(W1) + b1, torch.tensor(0.0)): a 0-dim float32 CPU zero "
          "(works on CUDA and in float64: 0-dim tensors neither move nor promote the result)",
          _lc(),
          _tln(forward="max_zero_scalar"),
          tln_imports=("import itertools",)),
    Style("w22_deepcopy_best_snapshots", "w22",
          "Winter 2022 keeping copy.deepcopy(net) and copy.deepcopy(stat) of the best run so far, logsumexp "
          "loss with the recomputed pre-activation mask, randint without device",
          _lc(svm_naive=("transpose_assign", "inplace"), svm_vec=("max_zeros_range", "einsum"),
              sample="randint_pos", predict="max_tuple", one_param="float_mean", softmax_naive="item_heavy",
              softmax_vec="logsumexp_F_onehot"),
          _tln(forward="maximum", loss=("logsumexp", "recompute_pre"), predict="loss_func_indices",
               params="tuples", search="deepcopy_snapshot"),
          lc_imports=("from torch.nn import functional as F",),
          tln_imports=("import copy", "import itertools")),
    Style("w22_given_train_written_out_log_scatter", "w22",
          "Winter 2022 with the given LinearClassifier.train written out in test_one_param_set (cls.W, _ = "
          "train_linear_classifier(cls.loss, cls.W, ...), then predict_linear_classifier(cls.W, X)), nn_predict "
          "via nn_forward_backward(params, X), and the notebook's log-scale scatter of the search (math.log10 of "
          "every learning rate and reg) in find_best_net",
          _lc(svm_naive=("cols", "expr"), sample="randint_kw", predict="indices", one_param="given_train_written_out"),
          _tln(forward="clamp", predict="forward_backward", search="log_scatter"),
          tln_imports=("import itertools", "import math")),
]

STYLES: Dict[str, Style] = {s.name: s for s in STYLE_LIST}

# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

_TOKEN_LINE = re.compile(r"^(?P<indent> *)@@(?P<body>[^@]+)@@\s*$")
BANNER_WIDTH = 77


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def _banner(indent: str, instruction: str, body: str) -> str:
    width = BANNER_WIDTH - len(indent)
    rule = "#" * width
    lines = [rule]
    words, line = instruction.split(), "# TODO:"
    for word in words:
        if len(line) + 1 + len(word) > width - 2:
            lines.append(line.ljust(width - 1) + "#")
            line = "#      "
        line += " " + word
    lines.append(line.ljust(width - 1) + "#")
    lines.append(rule)
    lines.append("# Replace the \"pass\" statement below with your code")
    head = _indent("\n".join(lines), indent)
    tail = _indent("\n".join([rule, "#" + "END OF YOUR CODE".center(width - 2) + "#", rule]), indent)
    return f"{head}\n{_indent(body, indent)}\n{tail}"


def _body(region: str, variant: str) -> str:
    try:
        text = REGIONS[region][variant]
    except KeyError:
        raise KeyError(f"no body {variant!r} for region {region!r}") from None
    return textwrap.dedent(text).strip("\n")


def _continuations(text: str) -> Dict[int, int]:
    """{line number (1-based) of a line that continues a bracketed expression: the number of
    the line its statement starts on}."""
    import io
    import tokenize

    depth, start, found, seen = 0, None, {}, set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        row = tok.start[0]
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            if tok.type == tokenize.NEWLINE:
                start = None
            continue
        if row not in seen:
            seen.add(row)
            if depth > 0:
                found[row] = start
            elif start is None:
                start = row
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
    return found


def _halve(text: str) -> str:
    """Fall 2020's 2-space indentation, except between the keep4 markers; lines that continue
    a bracketed expression keep their alignment with the line the statement starts on."""
    lines = [line for line in text.splitlines()]
    continued = _continuations(text + "\n")
    out, keep, new_indent = [], False, {}
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip(" ")
        spaces = len(line) - len(stripped)
        if stripped.rstrip() == "#<keep4>":
            keep = True
        elif stripped.rstrip() == "#</keep4>":
            keep = False
        if keep:
            new_indent[number] = spaces
        elif number in continued and continued[number] in new_indent:
            first = continued[number]
            old_first = len(lines[first - 1]) - len(lines[first - 1].lstrip(" "))
            new_indent[number] = max(new_indent[first] + spaces - old_first, 0)
        else:
            new_indent[number] = spaces // 2
        if stripped.rstrip() not in ("#<keep4>", "#</keep4>"):
            out.append(" " * new_indent[number] + stripped if stripped else "")
    return "\n".join(out) + "\n"


def render_file(name: str, style: Style) -> str:
    skeleton = LC_SKELETON if name == LC else TLN_SKELETON
    choices = style.lc if name == LC else style.tln
    imports = style.lc_imports if name == LC else style.tln_imports
    helpers = style.lc_helpers if name == LC else style.tln_helpers
    term = 0 if style.term == "f20" else 1
    used = set()
    out = []
    for line in skeleton.replace("@@object@@", "(object)" if style.term == "f20" else "").splitlines():
        match = _TOKEN_LINE.match(line)
        if not match:
            out.append(line)
            continue
        indent, token = match["indent"], match["body"].strip()
        if token == "typing":
            if TYPING[style.term]:
                out.append(TYPING[style.term])
        elif token == "imports":
            out.extend(imports)
        elif token == "helpers":
            if helpers:
                out.extend(["", helpers.rstrip("\n"), ""])
        elif token == "load":
            out.append(_indent(LOADS[(name, style.term)], indent))
        elif token.startswith("sig "):
            out.append(_indent(SIGS[token[4:].strip()][term], indent))
        elif token.startswith("todo "):
            region, instruction = (part.strip() for part in token[5:].split("|", 1))
            used.add(region)
            out.append(_banner(indent, instruction, _body(region, choices[region])))
        else:
            raise ValueError(f"unknown token {token!r}")
    missing = set(choices) - used
    if missing:
        raise ValueError(f"style {style.name}: regions {sorted(missing)} are not in {name}")
    text = "\n".join(out) + "\n"
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    if style.term == "f20":
        return _halve(text)
    return "\n".join(line for line in text.splitlines() if line.strip() not in ("#<keep4>", "#</keep4>")) + "\n"


def render(style: str) -> Dict[str, str]:
    """{file name: source} of one style's submission."""
    return {name: render_file(name, STYLES[style]) for name in FILES}


def _function_span(source: str, function: str) -> Tuple[int, int]:
    """Start and end offsets of a top-level ``def function(`` (up to the next top-level def or class)."""
    match = re.search(rf"^def {re.escape(function)}\(", source, flags=re.M)
    if not match:
        raise ValueError(f"no top-level function {function}")
    following = re.compile(r"^(def|class) ", flags=re.M).search(source, match.end())
    return match.start(), following.start() if following else len(source)


def apply_edits(sources: Dict[str, str], edits: Iterable[tuple]) -> Dict[str, str]:
    """Text edits, each (file, old, new) or (file, function, old, new) (the latter only inside
    that top-level function); each must find its text exactly once where it looks."""
    sources = dict(sources)
    for edit in edits:
        name, function, old, new = edit if len(edit) == 4 else (edit[0], None, edit[1], edit[2])
        text = sources[name]
        start, end = _function_span(text, function) if function else (0, len(text))
        count = text[start:end].count(old)
        if count != 1:
            where = f"{name}:{function}" if function else name
            raise ValueError(f"edit target found {count} times in {where}: {old!r}")
        sources[name] = text[:start] + text[start:end].replace(old, new) + text[end:]
    return sources


def course_submission(root: Path, style: str, edits: Iterable[tuple] = ()) -> Path:
    """Write ``root/<style>/`` with the style's two files (after ``edits``); return that folder."""
    folder = Path(root) / style
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in apply_edits(render(style), edits).items():
        (folder / name).write_text(text)
    return folder


__all__ = ["FILES", "LC", "TLN", "REGIONS", "STYLES", "STYLE_LIST", "Style", "apply_edits", "course_submission",
           "render", "render_file"]
