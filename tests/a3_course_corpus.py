"""A corpus of complete, correct Assignment 3 part 1 submissions in the course layout, each
written the way real students of EECS 498-007 write it.

``course_submission(root, style)`` writes ``root/<style>/fully_connected_networks.py``: the
course's given code (as its two template texts hand it out: the 2-space text with ``import
random`` and ``from a3_helper import svm_loss, softmax_loss``, and the 4-space text importing
``softmax_loss`` alone), with every TODO region filled by that style's own code. The given code is
written here in this corpus's own words (shorter docstrings) but keeps what the course's given
code does: ``Linear_ReLU`` given whole, ``save``/``load`` that print, ``FullyConnectedNet.loss``
casting X to ``self.dtype`` and setting the dropout mode, the given ``sgd`` updating ``w`` in
place, the optimizers' ``config.setdefault`` defaults, Dropout's seeding.

A style is a choice of one body per TODO region (``REGIONS``; three pairs of regions share
their variables and are chosen together, ``PAIRS``) plus stray module-level imports, and, for
two styles, edits to the given code itself as real students hand it back (``given_edits``). Every
body is correct: it computes what the template asks on CPU and CUDA (a tensor made on the CPU
only meets an input after it has been moved to the input's device, or is a 0-dim scalar),
in float32 and float64. FullyConnectedNet's L2 term comes both ways, each consistent in its loss
and gradient: with the banner's 0.5 (as 4 of the 18 real files that regularise write it) and
without it (as the other 14 do, like TwoLayerNet's banner asks).

``MUTANTS`` are the named mistakes found in real submissions (and those the course's own
warnings name), each as text edits to two different styles, with the function that must lose
points. ``apply_edits`` applies such edits.
"""
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Sequence, Tuple

from course_corpus import _banner, _halve, _indent

FILE = "fully_connected_networks.py"

# ---------------------------------------------------------------------------------------------
# The given code, canonical 4-space indentation (the 2-space text halves it).
# Tokens (whole lines): @@given_imports@@, @@imports@@, @@config_none@@, @@tln_sig@@,
# @@todo REGION | instruction@@ (a TODO banner with the style's body for REGION).
# ---------------------------------------------------------------------------------------------

SKELETON = '''\
"""
Fully-connected networks from modular layers, written with PyTorch tensors.
Reminder: no ".to()" and no ".cuda()" in the parts you implement.
"""
import torch
@@given_imports@@
from eecs598 import Solver
@@imports@@


def hello_fully_connected_networks():
    """
    Prints a greeting; the notebook calls it to check which file it imported.
    """
    print('Hello from fully_connected_networks.py!')


class Linear(object):

    @staticmethod
    def forward(x, w, b):
        """
        Linear layer, forward. x is (N, d_1, ..., d_k), flattened to rows of
        D = d_1 * ... * d_k; w is (D, M), b is (M,).
        Returns (out, cache): out is (N, M), cache is (x, w, b).
        """
        out = None
        @@todo linear_forward | Implement the linear forward pass. Store the result in out. You will need to reshape the input into rows.@@
        cache = (x, w, b)
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """
        Linear layer, backward. dout is (N, M); cache is (x, w, b) from forward.
        Returns (dx, dw, db), shaped like x, w and b.
        """
        x, w, b = cache
        dx, dw, db = None, None, None
        @@todo linear_backward | Implement the linear backward pass.@@
        return dx, dw, db


class ReLU(object):

    @staticmethod
    def forward(x):
        """
        ReLU, forward, on a tensor of any shape. Returns (out, cache) with cache = x.
        """
        out = None
        @@todo relu_forward | Implement the ReLU forward pass. Do not change the input tensor in place.@@
        cache = x
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """
        ReLU, backward. dout has any shape; cache is the forward's input x.
        Returns dx, the gradient with respect to x.
        """
        dx, x = None, cache
        @@todo relu_backward | Implement the ReLU backward pass. Do not change the input tensor in place.@@
        return dx


class Linear_ReLU(object):

    @staticmethod
    def forward(x, w, b):
        """
        A linear layer followed by a ReLU. Returns (out, cache).
        """
        a, fc_cache = Linear.forward(x, w, b)
        out, relu_cache = ReLU.forward(a)
        cache = (fc_cache, relu_cache)
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """
        Backward pass of the linear-relu layer. Returns (dx, dw, db).
        """
        fc_cache, relu_cache = cache
        da = ReLU.backward(dout, relu_cache)
        dx, dw, db = Linear.backward(da, fc_cache)
        return dx, dw, db


class TwoLayerNet(object):
    """
    linear - relu - linear - softmax, with its parameters in self.params
    (W1, b1, W2, b2); a Solver trains it.
    """

    @@tln_sig@@
        """
        Weights from N(0, weight_scale^2), zero biases, all of dtype on device.
        reg is the L2 strength.
        """
        self.params = {}
        self.reg = reg

        @@todo tln_init | Initialize the weights and biases of the two-layer net: weights from a Gaussian centered at 0.0 with standard deviation weight_scale, biases zero, in self.params under W1, b1, W2 and b2.@@

    def save(self, path):
        checkpoint = {
          'reg': self.reg,
          'params': self.params,
        }

        torch.save(checkpoint, path)
        print("Saved in {}".format(path))

    def load(self, path, dtype, device):
        checkpoint = torch.load(path, map_location='cpu')
        self.params = checkpoint['params']
        self.reg = checkpoint['reg']
        for p in self.params:
            self.params[p] = self.params[p].type(dtype).to(device)
        print("load checkpoint file: {}".format(path))

    def loss(self, X, y=None):
        """
        Without y: the scores (N, C). With y: (loss, grads), grads keyed like self.params.
        """
        scores = None
        @@todo tln_forward | Implement the forward pass for the two-layer net, computing the class scores for X and storing them in the scores variable.@@

        # test mode: the scores only
        if y is None:
            return scores

        loss, grads = 0, {}
        @@todo tln_backward | Implement the backward pass for the two-layer net: the softmax loss in loss, gradients in grads, with L2 regularization. NOTE: no factor of 0.5 in the L2 regularization, to match the automated tests.@@

        return loss, grads


class FullyConnectedNet(object):
    """
    {linear - relu - [dropout]} x (L - 1) - linear - softmax, dropout optional;
    parameters in self.params (W1, b1, ..., WL, bL), trained by a Solver.
    """

    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
                 dropout=0.0, reg=0.0, weight_scale=1e-2, seed=None,
                 dtype=torch.float, device='cpu'):
        """
        hidden_dims lists the hidden layers' sizes; dropout is the drop probability
        (0: no dropout); seed makes dropout deterministic for gradient checks.
        """
        self.use_dropout = dropout != 0
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        @@todo fc_init | Initialize the parameters of the network in self.params: W1 and b1 for the first layer, W2 and b2 for the second, and so on; weights from a normal distribution centered at 0 with standard deviation weight_scale, biases zero.@@

        # every dropout layer gets the same dropout_param (probability and mode)
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': dropout}
            if seed is not None:
                self.dropout_param['seed'] = seed

    def save(self, path):
        checkpoint = {
          'reg': self.reg,
          'dtype': self.dtype,
          'params': self.params,
          'num_layers': self.num_layers,
          'use_dropout': self.use_dropout,
          'dropout_param': self.dropout_param,
        }

        torch.save(checkpoint, path)
        print("Saved in {}".format(path))

    def load(self, path, dtype, device):
        checkpoint = torch.load(path, map_location='cpu')
        self.params = checkpoint['params']
        self.dtype = dtype
        self.reg = checkpoint['reg']
        self.num_layers = checkpoint['num_layers']
        self.use_dropout = checkpoint['use_dropout']
        self.dropout_param = checkpoint['dropout_param']

        for p in self.params:
            self.params[p] = self.params[p].type(dtype).to(device)

        print("load checkpoint file: {}".format(path))

    def loss(self, X, y=None):
        """
        Loss and gradients of the fully-connected net; as TwoLayerNet.loss.
        """
        X = X.to(self.dtype)
        mode = 'test' if y is None else 'train'

        # dropout behaves differently in training and in testing
        if self.use_dropout:
            self.dropout_param['mode'] = mode
        scores = None
        @@todo fc_forward | Implement the forward pass for the fully-connected net, computing the class scores for X and storing them in the scores variable. With dropout, pass self.dropout_param to each dropout forward pass.@@

        # test mode: the scores only
        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        @@todo fc_backward | Implement the backward pass for the fully-connected net: the softmax loss in loss, gradients in grads, with L2 regularization. NOTE: include a factor of 0.5 in the L2 regularization to simplify the gradient.@@

        return loss, grads


def create_solver_instance(data_dict, dtype, device):
    model = TwoLayerNet(hidden_dim=200, dtype=dtype, device=device)
    solver = None
    @@todo create_solver | Use a Solver instance to train a TwoLayerNet that achieves at least 50% accuracy on the validation set.@@
    return solver


def get_three_layer_network_params():
    @@todo three_layer | Change weight_scale and learning_rate so your model achieves 100% training accuracy within 20 epochs.@@
    return weight_scale, learning_rate


def get_five_layer_network_params():
    @@todo five_layer | Change weight_scale and learning_rate so your model achieves 100% training accuracy within 20 epochs.@@
    return weight_scale, learning_rate


def sgd(w, dw, config=None):
    """
    Vanilla stochastic gradient descent. config: learning_rate.
    """
    @@config_none@@
    config.setdefault('learning_rate', 1e-2)

    w -= config['learning_rate'] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """
    SGD with momentum. config: learning_rate, momentum (0 gives sgd),
    velocity (like w, a moving average of the gradients).
    """
    @@config_none@@
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', torch.zeros_like(w))

    next_w = None
    @@todo momentum | Implement the momentum update formula. Store the updated value in the next_w variable. You should also use and update the velocity v.@@
    config['velocity'] = v

    return next_w, config


def rmsprop(w, dw, config=None):
    """
    RMSProp: a moving average of squared gradients scales each parameter's step.
    config: learning_rate, decay_rate, epsilon, cache.
    """
    @@config_none@@
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', torch.zeros_like(w))

    next_w = None
    @@todo rmsprop | Implement the RMSprop update formula, storing the next value of w in the next_w variable. Don't forget to update cache value stored in config['cache'].@@

    return next_w, config


def adam(w, dw, config=None):
    """
    Adam: moving averages of the gradient and of its square, with bias correction.
    config: learning_rate, beta1, beta2, epsilon, m, v, t (the iteration number).
    """
    @@config_none@@
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', torch.zeros_like(w))
    config.setdefault('v', torch.zeros_like(w))
    config.setdefault('t', 0)

    next_w = None
    @@todo adam | Implement the Adam update formula, storing the next value of w in the next_w variable. Don't forget to update the m, v, and t variables stored in config. NOTE: modify t before using it in any calculations.@@

    return next_w, config


class Dropout(object):

    @staticmethod
    def forward(x, dropout_param):
        """
        Inverted dropout, forward. dropout_param: p (the probability of DROPPING a unit),
        mode ('train' or 'test': test returns the input), seed (optional).
        Returns (out, cache) with cache = (dropout_param, mask); mask is None in test mode.
        """
        p, mode = dropout_param['p'], dropout_param['mode']
        if 'seed' in dropout_param:
            torch.manual_seed(dropout_param['seed'])

        mask = None
        out = None

        if mode == 'train':
            @@todo dropout_train | Implement training phase forward pass for inverted dropout. Store the dropout mask in the mask variable.@@
        elif mode == 'test':
            @@todo dropout_test | Implement the test phase forward pass for inverted dropout.@@

        cache = (dropout_param, mask)

        return out, cache

    @staticmethod
    def backward(dout, cache):
        """
        Inverted dropout, backward; cache is (dropout_param, mask) from forward.
        """
        dropout_param, mask = cache
        mode = dropout_param['mode']

        dx = None
        if mode == 'train':
            @@todo dropout_backward | Implement training phase backward pass for inverted dropout.@@
        elif mode == 'test':
            dx = dout
        return dx
'''

GIVEN_IMPORTS = {"f20": "import random\nfrom a3_helper import svm_loss, softmax_loss",
                 "w22": "from a3_helper import softmax_loss"}
CONFIG_NONE = {"f20": "if config is None: config = {}", "w22": "if config is None:\n    config = {}"}
TLN_SIG = {
    "f20": "def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,\n"
           "             weight_scale=1e-3, reg=0.0, dtype=torch.float32, device='cpu'):",
    "w22": "def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,\n"
           "             weight_scale=1e-3, reg=0.0,\n             dtype=torch.float32, device='cpu'):",
}

# ---------------------------------------------------------------------------------------------
# The bodies of the TODO regions: REGIONS[region][variant], dedented, 4-space nesting.
# ---------------------------------------------------------------------------------------------

REGIONS: Dict[str, Dict[str, str]] = {
    "linear_forward": {
        "view_mm": "out = x.view(x.shape[0], -1).mm(w) + b",
        "reshape_at": """
            x_rows = x.reshape(x.shape[0], -1)
            out = x_rows @ w + b
        """,
        "torch_mm_N": """
            N = x.shape[0]
            out = torch.mm(x.reshape(N, -1), w) + b
        """,
        "flatten_mm": """
            x_flat = torch.flatten(x, start_dim=1)  # (N, D)
            out = x_flat.mm(w) + b  # (N, M)
        """,
        "torch_matmul_view": "out = torch.matmul(x.view(x.shape[0], -1), w) + b",
        "reshape_N_D": """
            N, D = x.shape[0], w.shape[0]
            out = x.reshape(N, D).mm(w) + b  # D = d_1 * ... * d_k
        """,
        "view_N_at": """
            N = x.shape[0]
            out = x.view(N, -1) @ w + b
        """,
        "matmul_method": """
            N = x.shape[0]
            rows = x.reshape(N, -1)  # keep x itself for the cache
            out = rows.matmul(w) + b
        """,
    },
    "linear_backward": {
        "view_mm_t": """
            dx = dout.mm(w.t()).view(x.shape)
            dw = x.view(x.shape[0], -1).t().mm(dout)
            db = dout.sum(dim=0)
        """,
        "reshape_at_T": """
            x_rows = x.reshape(x.shape[0], -1)
            dx = (dout @ w.T).reshape(x.shape)
            dw = x_rows.T @ dout
            db = dout.sum(0)
        """,
        "torch_mm_N": """
            N = x.shape[0]
            dx = torch.mm(dout, w.T).reshape(x.shape)
            dw = torch.mm(x.reshape(N, -1).T, dout)
            db = dout.sum(dim=0)
        """,
        "flatten_db_first": """
            x_flat = x.flatten(start_dim=1)  # (N, D)
            db = dout.sum(dim=0, keepdim=False)  # (M,)
            dw = x_flat.t().mm(dout)  # (D, M)
            dx = dout.mm(w.t()).reshape(x.size())  # (N, d_1, ..., d_k)
        """,
        "matmul_contiguous": """
            dw = torch.matmul(x.reshape(x.shape[0], -1).T, dout)
            dx = torch.matmul(dout, w.T).contiguous().view(x.shape)
            db = torch.sum(dout, dim=0)
        """,
        "reshape_as": """
            dx = dout.mm(w.t()).reshape_as(x)
            dw = x.reshape(x.shape[0], -1).t().mm(dout)
            db = torch.sum(dout, dim=0)
        """,
        "star_shape": """
            N = x.shape[0]
            dx = (dout @ w.t()).reshape(*x.shape)
            dw = x.reshape(N, -1).t() @ dout
            db = dout.sum(dim=0)
        """,
        "dw_reshaped": """
            dx = (dout @ w.T).reshape(x.shape)
            dw = (x.reshape(x.shape[0], -1).T @ dout).reshape(w.shape)
            db = dout.sum(0)
        """,
    },
    "relu_forward": {
        "clamp": "out = x.clamp(min=0)",
        "torch_clamp": "out = torch.clamp(x, min=0)",
        "clamp_min": "out = x.clamp_min(0)",
        "clone_index": """
            out = x.clone()
            out[out < 0] = 0
        """,
        "clone_index_le": """
            out = x.clone()  # a copy: x stays as it is
            out[x <= 0] = 0
        """,
        "mask_product": "out = x * (x > 0)",
        "where": "out = torch.where(x > 0, x, torch.zeros_like(x))",
        "max_zeros_like": "out = torch.max(x, torch.zeros_like(x))",
        "maximum_scalar": "out = torch.maximum(torch.tensor(0.0), x)",
    },
    "relu_backward": {
        "bool_product": "dx = dout * (x > 0)",
        "to_dtype": "dx = dout * (x > 0).to(x.dtype)",
        "float_mask": """
            mask = (x > 0).float()
            dx = dout * mask
        """,
        "clone_index": """
            dx = dout.clone()
            dx[x < 0] = 0
        """,
        "clone_index_le": """
            dx = dout.clone()
            dx[x <= 0] = 0
        """,
        "mask_first": """
            d_relu = x > 0
            dx = d_relu * dout
        """,
    },
    "tln_init": {
        "randn_scaled": """
            self.params['W1'] = weight_scale * torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)
            self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)
            self.params['W2'] = weight_scale * torch.randn(hidden_dim, num_classes, dtype=dtype, device=device)
            self.params['b2'] = torch.zeros(num_classes, dtype=dtype, device=device)
        """,
        "randn_times_biases_first": """
            self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)
            self.params['b2'] = torch.zeros(num_classes, dtype=dtype, device=device)
            self.params['W1'] = torch.randn(input_dim, hidden_dim, dtype=dtype, device=device) * weight_scale
            self.params['W2'] = torch.randn(hidden_dim, num_classes, dtype=dtype, device=device) * weight_scale
        """,
        "normal": """
            self.params['W1'] = torch.normal(0.0, weight_scale, size=(input_dim, hidden_dim), dtype=dtype, device=device)
            self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)
            self.params['W2'] = torch.normal(0.0, weight_scale, size=(hidden_dim, num_classes), dtype=dtype, device=device)
            self.params['b2'] = torch.zeros(num_classes, dtype=dtype, device=device)
        """,
        "normal_locals": """
            W1 = torch.normal(mean=0.0, std=weight_scale, size=(input_dim, hidden_dim),
                              dtype=dtype, device=device)
            b1 = torch.zeros(hidden_dim, dtype=dtype, device=device)
            W2 = torch.normal(mean=0.0, std=weight_scale, size=(hidden_dim, num_classes),
                              dtype=dtype, device=device)
            b2 = torch.zeros(num_classes, dtype=dtype, device=device)
            self.params['W1'] = W1
            self.params['b1'] = b1
            self.params['W2'] = W2
            self.params['b2'] = b2
        """,
        "zeros_plus_randn": """
            self.params['W1'] = torch.zeros(input_dim, hidden_dim, dtype=dtype, device=device)
            self.params['W1'] += weight_scale * torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)
            self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)
            self.params['W2'] = torch.zeros(hidden_dim, num_classes, dtype=dtype, device=device)
            self.params['W2'] += weight_scale * torch.randn(hidden_dim, num_classes, dtype=dtype, device=device)
            self.params['b2'] = torch.zeros(num_classes, dtype=dtype, device=device)
        """,
        "cpu_then_to": """
            self.params['W1'] = torch.randn(input_dim, hidden_dim) * weight_scale
            self.params['b1'] = torch.zeros(hidden_dim)
            self.params['W2'] = torch.randn(hidden_dim, num_classes) * weight_scale
            self.params['b2'] = torch.zeros(num_classes)
            for name in self.params:
                self.params[name] = self.params[name].type(dtype).to(device)
        """,
    },
    # tln_forward / tln_backward are chosen together (PAIRS): the backward reads the forward's caches.
    "tln_forward": {
        "two_calls": """
            hidden, cache1 = Linear_ReLU.forward(X, self.params['W1'], self.params['b1'])
            scores, cache2 = Linear.forward(hidden, self.params['W2'], self.params['b2'])
        """,
        "aliases": """
            W1, b1 = self.params['W1'], self.params['b1']
            W2, b2 = self.params['W2'], self.params['b2']
            h1, cache_h1 = Linear_ReLU.forward(X, W1, b1)
            scores, cache_scores = Linear.forward(h1, W2, b2)
        """,
        "instances": """
            L = Linear()
            R = ReLU()
            out1, cache1 = L.forward(X, self.params['W1'], self.params['b1'])
            out2, cache2 = R.forward(out1)
            out3, cache3 = L.forward(out2, self.params['W2'], self.params['b2'])
            scores = out3
        """,
        "pow_sum": """
            hidden, hidden_cache = Linear_ReLU.forward(X, self.params['W1'], self.params['b1'])
            scores, scores_cache = Linear.forward(hidden, self.params['W2'], self.params['b2'])
        """,
        "handwritten_softmax": """
            # linear - relu, then the last linear layer
            relu_out, relu_cache = Linear_ReLU.forward(X, self.params['W1'], self.params['b1'])
            scores, fc_cache = Linear.forward(relu_out, self.params['W2'], self.params['b2'])
        """,
    },
    "tln_backward": {
        "two_calls": """
            loss, dscores = softmax_loss(scores, y)
            loss += self.reg * ((self.params['W1'] ** 2).sum() + (self.params['W2'] ** 2).sum())
            dhidden, grads['W2'], grads['b2'] = Linear.backward(dscores, cache2)
            _, grads['W1'], grads['b1'] = Linear_ReLU.backward(dhidden, cache1)
            grads['W2'] += 2 * self.reg * self.params['W2']
            grads['W1'] += 2 * self.reg * self.params['W1']
        """,
        "aliases": """
            loss, dscores = softmax_loss(scores, y)
            loss += self.reg * torch.sum(W1 * W1) + self.reg * torch.sum(W2 * W2)
            dh1, dW2, db2 = Linear.backward(dscores, cache_scores)
            dX, dW1, db1 = Linear_ReLU.backward(dh1, cache_h1)
            grads['W1'] = dW1 + 2 * self.reg * W1
            grads['b1'] = db1
            grads['W2'] = dW2 + 2 * self.reg * W2
            grads['b2'] = db2
        """,
        "instances": """
            loss, dscore = softmax_loss(scores, y)
            loss += self.reg * (torch.sum(self.params['W1'] ** 2) + torch.sum(self.params['W2'] ** 2))
            dout2, grads['W2'], grads['b2'] = L.backward(dscore, cache3)
            grads['W2'] += 2 * self.reg * self.params['W2']
            dout1 = R.backward(dout2, cache2)
            dx, grads['W1'], grads['b1'] = L.backward(dout1, cache1)
            grads['W1'] += 2 * self.reg * self.params['W1']
        """,
        "pow_sum": """
            data_loss, dscores = softmax_loss(scores, y)
            reg_loss = self.reg * (self.params['W1'].pow(2).sum() + self.params['W2'].pow(2).sum())
            loss = data_loss + reg_loss
            dhidden, dW2, db2 = Linear.backward(dscores, scores_cache)
            _, dW1, db1 = Linear_ReLU.backward(dhidden, hidden_cache)
            dW2 += 2 * self.reg * self.params['W2']
            dW1 += 2 * self.reg * self.params['W1']
            grads['W1'], grads['b1'] = dW1, db1
            grads['W2'], grads['b2'] = dW2, db2
        """,
        "handwritten_softmax": """
            # softmax by hand: shift by each row's max, then probabilities
            N = scores.shape[0]
            rows = torch.arange(N, device=scores.device)
            shifted = scores - scores.max(dim=1, keepdim=True).values
            probs = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)
            loss = -torch.log(probs[rows, y]).sum() / N
            loss += self.reg * torch.sum(self.params['W1'] * self.params['W1'])
            loss += self.reg * torch.sum(self.params['W2'] * self.params['W2'])
            dscores = probs.clone()
            dscores[rows, y] -= 1
            dscores /= N
            drelu, grads['W2'], grads['b2'] = Linear.backward(dscores, fc_cache)
            grads['W2'] += 2 * self.reg * self.params['W2']
            dx, grads['W1'], grads['b1'] = Linear_ReLU.backward(drelu, relu_cache)
            grads['W1'] += 2 * self.reg * self.params['W1']
        """,
    },
    "fc_init": {
        "dims_range": """
            dims = [input_dim] + hidden_dims + [num_classes]
            for i in range(self.num_layers):
                self.params[f'W{i + 1}'] = weight_scale * torch.randn(dims[i], dims[i + 1], dtype=dtype, device=device)
                self.params[f'b{i + 1}'] = torch.zeros(dims[i + 1], dtype=dtype, device=device)
        """,
        "zip_pairs": """
            dims = [input_dim] + hidden_dims + [num_classes]
            for i, (dim_in, dim_out) in enumerate(zip(dims[:-1], dims[1:])):
                self.params[f"W{i+1}"] = torch.randn(
                    dim_in, dim_out, dtype=dtype, device=device) * weight_scale
                self.params[f"b{i+1}"] = torch.zeros(
                    dim_out, dtype=dtype, device=device)
        """,
        "running_in_dim": """
            layer_in = input_dim  # each layer's input width is the previous layer's output width
            for i, hidden in enumerate(hidden_dims):
                self.params['W{}'.format(i + 1)] = weight_scale * torch.randn(layer_in, hidden, dtype=dtype, device=device)
                self.params['b{}'.format(i + 1)] = torch.zeros(hidden, dtype=dtype, device=device)
                layer_in = hidden
            # the output layer
            self.params['W{}'.format(self.num_layers)] = weight_scale * torch.randn(layer_in, num_classes, dtype=dtype, device=device)
            self.params['b{}'.format(self.num_layers)] = torch.zeros(num_classes, dtype=dtype, device=device)
        """,
        "first_middle_last": """
            self.params['W1'] = weight_scale * torch.randn(input_dim, hidden_dims[0], dtype=dtype, device=device)
            self.params['b1'] = torch.zeros(hidden_dims[0], dtype=dtype, device=device)
            for i in range(1, self.num_layers - 1):
                self.params['W' + str(i + 1)] = weight_scale * torch.randn(hidden_dims[i - 1], hidden_dims[i], dtype=dtype, device=device)
                self.params['b' + str(i + 1)] = torch.zeros(hidden_dims[i], dtype=dtype, device=device)
            last = str(self.num_layers)
            self.params['W' + last] = weight_scale * torch.randn(hidden_dims[-1], num_classes, dtype=dtype, device=device)
            self.params['b' + last] = torch.zeros(num_classes, dtype=dtype, device=device)
        """,
        "normal_percent": """
            layer_dims = [input_dim] + list(hidden_dims) + [num_classes]
            for i in range(1, self.num_layers + 1):
                self.params['W%d' % i] = torch.normal(0.0, weight_scale, size=(layer_dims[i - 1], layer_dims[i]),
                                                      dtype=dtype, device=device)
                self.params['b%d' % i] = torch.zeros(layer_dims[i], dtype=dtype, device=device)
        """,
        "cpu_then_to": """
            in_dim = input_dim
            for i, out_dim in enumerate(hidden_dims + [num_classes]):
                self.params[f'W{i+1}'] = weight_scale * torch.randn(in_dim, out_dim)
                self.params[f'b{i+1}'] = torch.zeros(out_dim)
                in_dim = out_dim
            for name, param in self.params.items():
                self.params[name] = param.type(dtype).to(device)
        """,
        "if_per_layer": """
            for i in range(self.num_layers):
                if i == 0:
                    in_dim = input_dim
                else:
                    in_dim = hidden_dims[i - 1]
                if i == self.num_layers - 1:
                    out_dim = num_classes
                else:
                    out_dim = hidden_dims[i]
                self.params[f"W{i+1}"] = torch.randn(in_dim, out_dim, device=device, dtype=dtype) * weight_scale
                self.params[f"b{i+1}"] = torch.zeros(out_dim, device=device, dtype=dtype)
        """,
    },
    # fc_forward / fc_backward are chosen together (PAIRS).
    "fc_forward": {
        "list_pop": """
            caches = []
            h = X
            for i in range(1, self.num_layers):
                h, cache = Linear_ReLU.forward(h, self.params[f'W{i}'], self.params[f'b{i}'])
                caches.append(cache)
                if self.use_dropout:
                    h, cache = Dropout.forward(h, self.dropout_param)
                    caches.append(cache)
            L = self.num_layers
            scores, cache = Linear.forward(h, self.params[f'W{L}'], self.params[f'b{L}'])
            caches.append(cache)
        """,
        "dict_by_layer": """
            fc_caches = {}
            drop_caches = {}
            out = X
            for i in range(1, self.num_layers):
                w, b = self.params['W' + str(i)], self.params['b' + str(i)]
                out, fc_caches[i] = Linear_ReLU.forward(out, w, b)
                if self.use_dropout:
                    out, drop_caches[i] = Dropout.forward(out, self.dropout_param)
            last = self.num_layers
            scores, fc_caches[last] = Linear.forward(out, self.params['W' + str(last)], self.params['b' + str(last)])
        """,
        "single_loop_half": """
            linear_caches = []
            dropout_caches = []
            out = X
            for i in range(self.num_layers):
                W, b = self.params['W%s' % (i + 1)], self.params['b%s' % (i + 1)]
                if i == self.num_layers - 1:
                    out, linear_cache = Linear.forward(out, W, b)
                else:
                    out, linear_cache = Linear_ReLU.forward(out, W, b)
                linear_caches.append(linear_cache)
                if self.use_dropout and i != self.num_layers - 1:
                    out, dropout_cache = Dropout.forward(out, self.dropout_param)
                    dropout_caches.append(dropout_cache)
            scores = out
        """,
        "tuple_caches": """
            hidden, caches = X, []
            for i in range(self.num_layers):
                W, b = self.params[f'W{i+1}'], self.params[f'b{i+1}']
                if i + 1 == self.num_layers:  # output layer
                    scores, cache = Linear.forward(hidden, W, b)
                elif self.use_dropout:
                    hidden, fc_cache = Linear_ReLU.forward(hidden, W, b)
                    hidden, drop_cache = Dropout.forward(hidden, self.dropout_param)
                    cache = (fc_cache, drop_cache)
                else:
                    hidden, cache = Linear_ReLU.forward(hidden, W, b)
                caches.append(cache)
        """,
        "percent_half": """
            hidden_caches = []
            dropout_caches = []
            out = X
            for i in range(1, self.num_layers):
                out, cache = Linear_ReLU.forward(out, self.params['W%d' % i], self.params['b%d' % i])
                hidden_caches.append(cache)
                if self.use_dropout:
                    out, dropout_cache = Dropout.forward(out, self.dropout_param)
                    dropout_caches.append(dropout_cache)
            scores, output_cache = Linear.forward(
                out, self.params['W%d' % self.num_layers], self.params['b%d' % self.num_layers])
        """,
        "presized_half": """
            scores = X
            fc_caches = [None] * (self.num_layers + 1)
            drop_caches = [None] * (self.num_layers + 1)
            for i in range(1, self.num_layers):
                scores, fc_caches[i] = Linear_ReLU.forward(scores, self.params[f"W{i}"], self.params[f"b{i}"])
                if self.use_dropout:
                    scores, drop_caches[i] = Dropout.forward(scores, self.dropout_param)
            L = self.num_layers
            scores, fc_caches[L] = Linear.forward(scores, self.params[f"W{L}"], self.params[f"b{L}"])
        """,
        "instances": """
            lin, relu, drop = Linear(), ReLU(), Dropout()
            out = X
            caches = []
            for i in range(self.num_layers - 1):
                out, cache = lin.forward(out, self.params[f'W{i+1}'], self.params[f'b{i+1}'])
                caches.append(cache)
                out, cache = relu.forward(out)
                caches.append(cache)
                if self.use_dropout:
                    out, cache = drop.forward(out, self.dropout_param)
                    caches.append(cache)
            i = self.num_layers - 1
            out, cache = lin.forward(out, self.params[f'W{i+1}'], self.params[f'b{i+1}'])
            caches.append(cache)
            scores = out
        """,
        "train_only_caches": """
            caches = []

            def keep(cache):
                if mode == 'train':
                    caches.append(cache)

            out = X
            # hidden layers
            for i in range(1, self.num_layers):
                out, cache = Linear_ReLU.forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
                keep(cache)
                if self.use_dropout and mode == 'train':
                    out, cache = Dropout.forward(out, self.dropout_param)
                    keep(cache)
            # last layer
            scores, cache = Linear.forward(out, self.params[f"W{self.num_layers}"], self.params[f"b{self.num_layers}"])
            keep(cache)
        """,
    },
    "fc_backward": {
        "list_pop": """
            loss, dscores = softmax_loss(scores, y)
            loss += self.reg * sum((self.params[f'W{i}'] ** 2).sum() for i in range(1, L + 1))
            dh, dW, db = Linear.backward(dscores, caches.pop())
            grads[f'W{L}'] = dW + 2 * self.reg * self.params[f'W{L}']
            grads[f'b{L}'] = db
            for i in range(L - 1, 0, -1):
                if self.use_dropout:
                    dh = Dropout.backward(dh, caches.pop())
                dh, dW, db = Linear_ReLU.backward(dh, caches.pop())
                grads[f'W{i}'] = dW + 2 * self.reg * self.params[f'W{i}']
                grads[f'b{i}'] = db
        """,
        "dict_by_layer": """
            loss, dout = softmax_loss(scores, y)
            for i in range(1, last + 1):
                loss += torch.sum(self.params['W' + str(i)] ** 2) * self.reg
            dout, dw, db = Linear.backward(dout, fc_caches[last])
            grads['W' + str(last)] = dw + 2 * self.reg * self.params['W' + str(last)]
            grads['b' + str(last)] = db
            for i in range(last - 1, 0, -1):
                if self.use_dropout:
                    dout = Dropout.backward(dout, drop_caches[i])
                dout, dw, db = Linear_ReLU.backward(dout, fc_caches[i])
                grads['W' + str(i)] = dw + 2 * self.reg * self.params['W' + str(i)]
                grads['b' + str(i)] = db
        """,
        "single_loop_half": """
            loss, dout = softmax_loss(scores, y)
            for i, linear_cache in reversed(list(enumerate(linear_caches))):
                Wi = self.params['W%s' % (i + 1)]
                loss += 0.5 * self.reg * torch.sum(Wi * Wi)
                if self.use_dropout and i != self.num_layers - 1:
                    dout = Dropout.backward(dout, dropout_caches[i])
                if i == self.num_layers - 1:
                    dout, dW, db = Linear.backward(dout, linear_cache)
                else:
                    dout, dW, db = Linear_ReLU.backward(dout, linear_cache)
                grads['W%s' % (i + 1)] = dW + self.reg * Wi
                grads['b%s' % (i + 1)] = db
        """,
        "tuple_caches": """
            loss, dh = softmax_loss(scores, y)
            for i, cache in reversed(list(enumerate(caches))):
                if i + 1 == self.num_layers:  # output layer
                    dh, grads[f'W{i+1}'], grads[f'b{i+1}'] = Linear.backward(dh, cache)
                elif self.use_dropout:
                    dh = Dropout.backward(dh, cache[1])
                    dh, grads[f'W{i+1}'], grads[f'b{i+1}'] = Linear_ReLU.backward(dh, cache[0])
                else:
                    dh, grads[f'W{i+1}'], grads[f'b{i+1}'] = Linear_ReLU.backward(dh, cache)
            # regularization
            for i in range(self.num_layers):
                loss += self.reg * self.params[f'W{i+1}'].pow(2).sum()
                grads[f'W{i+1}'] += self.reg * 2 * self.params[f'W{i+1}']
        """,
        "percent_half": """
            loss, dout = softmax_loss(scores, y)
            for i in range(1, self.num_layers + 1):
                loss += 0.5 * self.reg * self.params['W%d' % i].square().sum()
            dout, dW, db = Linear.backward(dout, output_cache)
            grads['W%d' % self.num_layers] = dW + self.reg * self.params['W%d' % self.num_layers]
            grads['b%d' % self.num_layers] = db
            for i in range(self.num_layers - 1, 0, -1):
                if self.use_dropout:
                    dout = Dropout.backward(dout, dropout_caches[i - 1])
                dout, dW, db = Linear_ReLU.backward(dout, hidden_caches[i - 1])
                grads['W%d' % i] = dW + self.reg * self.params['W%d' % i]
                grads['b%d' % i] = db
        """,
        "presized_half": """
            loss, dout = softmax_loss(scores, y)
            L2 = 0
            for p in self.params:
                if p.startswith("W"):
                    L2 += 0.5 * self.reg * torch.sum(self.params[p] * self.params[p])
            loss += L2
            da, grads[f"W{L}"], grads[f"b{L}"] = Linear.backward(dout, fc_caches[L])
            grads[f"W{L}"] += self.reg * self.params[f"W{L}"]
            for i in range(L - 1, 0, -1):
                if self.use_dropout:
                    da = Dropout.backward(da, drop_caches[i])
                da, grads[f"W{i}"], grads[f"b{i}"] = Linear_ReLU.backward(da, fc_caches[i])
                grads[f"W{i}"] += self.reg * self.params[f"W{i}"]
        """,
        "instances": """
            loss, dout = softmax_loss(scores, y)
            for i in range(self.num_layers):
                loss += self.reg * torch.sum(self.params[f'W{i+1}'] ** 2)
            for i in range(self.num_layers, 1, -1):
                dout, grads[f'W{i}'], grads[f'b{i}'] = lin.backward(dout, caches.pop())
                grads[f'W{i}'] += 2 * self.reg * self.params[f'W{i}']
                if self.use_dropout:
                    dout = drop.backward(dout, caches.pop())
                dout = relu.backward(dout, caches.pop())
            dout, grads['W1'], grads['b1'] = lin.backward(dout, caches.pop())
            grads['W1'] += 2 * self.reg * self.params['W1']
        """,
        "train_only_caches": """
            # data loss, then the L2 term of every weight matrix
            loss, dout = softmax_loss(scores, y)
            for i in range(1, self.num_layers + 1):
                loss += self.reg * torch.sum(self.params[f"W{i}"]**2)
            n_layer = self.num_layers
            while caches:
                cache = caches.pop()
                if n_layer == self.num_layers:
                    dout, dw, db = Linear.backward(dout, cache)
                else:
                    if self.use_dropout:
                        dout = Dropout.backward(dout, cache)
                        cache = caches.pop()
                    dout, dw, db = Linear_ReLU.backward(dout, cache)
                grads[f"W{n_layer}"] = dw + 2 * self.reg * self.params[f"W{n_layer}"]
                grads[f"b{n_layer}"] = db
                n_layer -= 1
        """,
    },
    "create_solver": {
        "sgd_decay": """
            solver = Solver(model, data_dict,
                            update_rule=sgd,
                            optim_config={'learning_rate': 1e-1},
                            lr_decay=0.95,
                            num_epochs=20, batch_size=100,
                            print_every=100,
                            device=device)
        """,
        "minimal": "solver = Solver(model, data=data_dict, device=device, optim_config={'learning_rate': 0.1})",
        "adam": """
            solver = Solver(model, data_dict, update_rule=adam,
                            optim_config={'learning_rate': 1e-3},
                            lr_decay=0.95,
                            num_epochs=20,
                            batch_size=200,
                            print_every=100,
                            device=device)
        """,
        "solver_sgd": """
            solver = Solver(model, data_dict,
                            update_rule=Solver.sgd,
                            optim_config={
                                'learning_rate': 5e-1,
                            },
                            lr_decay=0.99,
                            num_epochs=60,
                            batch_size=2000,
                            print_every=100,
                            device=device)
        """,
        "model_reg": """
            model.reg = 1e-4
            solver = Solver(model, data_dict, update_rule=sgd_momentum,
                            optim_config={'learning_rate': 1e-2, 'momentum': 0.9},
                            lr_decay=0.95, num_epochs=20, batch_size=200,
                            print_every=100, device=device)
        """,
        "num_samples": """
            solver = Solver(model, data_dict,
                            device=device,
                            num_train_samples=data_dict['X_train'].shape[0],
                            batch_size=100,
                            num_epochs=20,
                            lr_decay=0.99,
                            optim_config={
                              'learning_rate': 2e-2,
                            },
                            print_every=1000)
        """,
        "keywords_verbose": """
            solver = Solver(
                model=model,
                data=data_dict,
                optim_config={"learning_rate": 0.5},
                lr_decay=0.95,
                num_epochs=20,
                batch_size=100,
                print_acc_every=1,
                verbose=True,
                device=device,
            )
        """,
        "bigger_model": """
            model = TwoLayerNet(hidden_dim=512, reg=1e-3, dtype=dtype, device=device)
            optimizer = {'learning_rate': 1.3e-1}
            lr_decay = 0.9
            solver = Solver(
                model, data_dict, optim_config=optimizer, lr_decay=lr_decay, num_epochs=30, device=device
            )
        """,
    },
    "three_layer": {
        "edit_defaults": """
            weight_scale = 1e-1   # Experiment with this!
            learning_rate = 1e-1  # Experiment with this!
        """,
        "append_after": """
            weight_scale = 1e-2   # Experiment with this!
            learning_rate = 1e-4  # Experiment with this!
            weight_scale = 0.15
            learning_rate = 0.05
        """,
        "pass_left": """
            weight_scale = 5e-2   # Experiment with this!
            learning_rate = 0.5  # Experiment with this!
            pass
        """,
    },
    "five_layer": {
        "edit_defaults": """
            learning_rate = 0.15  # Experiment with this!
            weight_scale = 0.1   # Experiment with this!
        """,
        "append_after": """
            learning_rate = 2e-3  # Experiment with this!
            weight_scale = 1e-5   # Experiment with this!
            learning_rate = 0.2
            weight_scale = 0.1
        """,
        "pass_left": """
            learning_rate = 1e-1  # Experiment with this!
            weight_scale = 2e-1   # Experiment with this!
            pass
        """,
    },
    "momentum": {
        "config_direct": """
            v = config['momentum'] * v - config['learning_rate'] * dw
            next_w = w + v
        """,
        "locals": """
            mu = config['momentum']
            lr = config['learning_rate']
            v = mu * v - lr * dw
            next_w = w + v
        """,
        "get": """
            learning_rate = config.get('learning_rate')
            momentum = config.get('momentum')
            v = momentum * v - learning_rate * dw
            next_w = w + v
        """,
        "old_v_first": """
            next_w = w - config['learning_rate'] * dw + config['momentum'] * v
            v = config['momentum'] * v - config['learning_rate'] * dw
        """,
        "inplace": """
            v = config['momentum'] * v - config['learning_rate'] * dw
            w += v
            next_w = w
        """,
        "v_first_mult": """
            v = v * config['momentum'] - config['learning_rate'] * dw
            next_w = v + w
        """,
    },
    "rmsprop": {
        "config_cache": """
            config['cache'] = config['decay_rate'] * config['cache'] + (1 - config['decay_rate']) * dw ** 2
            next_w = w - config['learning_rate'] * dw / (torch.sqrt(config['cache']) + config['epsilon'])
        """,
        "locals": """
            decay_rate = config['decay_rate']
            learning_rate = config['learning_rate']
            eps = config['epsilon']
            cache = config['cache']
            cache = decay_rate * cache + (1 - decay_rate) * dw**2
            next_w = w - learning_rate * dw / (torch.sqrt(cache) + eps)
            config['cache'] = cache
        """,
        "inplace": """
            config['cache'] = config['decay_rate'] * config['cache'] + (1 - config['decay_rate']) * dw * dw
            next_w = w  # in place, as the given sgd does
            next_w -= config['learning_rate'] * dw / (config['cache'].sqrt() + config['epsilon'])
        """,
        "square_method": """
            cache = config['decay_rate'] * config['cache'] + (1 - config['decay_rate']) * dw.square()
            next_w = w - config['learning_rate'] * dw / (torch.sqrt(cache) + config['epsilon'])
            config['cache'] = cache
        """,
        "get_pow": """
            grad_squared = config.get('cache')
            learning_rate = config.get('learning_rate')
            decay_rate = config.get('decay_rate')
            epsilon = config.get('epsilon')
            grad_squared = grad_squared * decay_rate + (1 - decay_rate) * dw.pow(2)
            next_w = w - learning_rate * dw / (grad_squared.sqrt() + epsilon)
            config['cache'] = grad_squared
        """,
        "lr_over": """
            config['cache'] = \\
                config['decay_rate'] * config['cache'] + (1 - config['decay_rate']) * (dw * dw)
            next_w = \\
                w - (config['learning_rate'] / (torch.sqrt(config['cache']) + config['epsilon'])) * dw
        """,
    },
    "adam": {
        "config_t_first": """
            config['t'] += 1
            config['m'] = config['beta1'] * config['m'] + (1 - config['beta1']) * dw
            config['v'] = config['beta2'] * config['v'] + (1 - config['beta2']) * dw * dw
            m_unbias = config['m'] / (1 - config['beta1'] ** config['t'])
            v_unbias = config['v'] / (1 - config['beta2'] ** config['t'])
            next_w = w - config['learning_rate'] * m_unbias / (torch.sqrt(v_unbias) + config['epsilon'])
        """,
        "locals_writeback": """
            beta1, beta2 = config['beta1'], config['beta2']
            learning_rate, eps = config['learning_rate'], config['epsilon']
            m, v = config['m'], config['v']
            t = config['t'] + 1
            m = beta1 * m + (1 - beta1) * dw
            v = beta2 * v + (1 - beta2) * dw**2
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            next_w = w - learning_rate * m_hat / (torch.sqrt(v_hat) + eps)
            config['m'] = m
            config['v'] = v
            config['t'] = t
        """,
        "get_update": """
            learning_rate = config.get('learning_rate')
            beta1 = config.get('beta1')
            beta2 = config.get('beta2')
            epsilon = config.get('epsilon')
            t = config.get('t')
            t += 1  # t counts iterations from 1
            m = beta1 * config.get('m') + (1 - beta1) * dw
            v = beta2 * config.get('v') + (1 - beta2) * dw.pow(2)
            m_u = m / (1 - beta1 ** t)
            v_u = v / (1 - beta2 ** t)
            next_w = w - learning_rate * m_u / (v_u.sqrt() + epsilon)
            config.update({'m': m, 'v': v, 't': t})
        """,
        "t_after_mv": """
            m = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
            v = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
            config["m"] = m
            config["v"] = v
            config["t"] += 1
            m_unbias = m / (1 - config["beta1"] ** config["t"])
            v_unbias = v / (1 - config["beta2"] ** config["t"])
            next_w = w - config["learning_rate"] * m_unbias / (
                torch.sqrt(v_unbias) + config["epsilon"]
            )
        """,
        "interleaved_inplace": """
            beta1, beta2 = config['beta1'], config['beta2']
            config['t'] += 1
            config['m'] = beta1 * config['m'] + (1 - beta1) * dw
            mt = config['m'] / (1 - beta1 ** config['t'])
            config['v'] = beta2 * config['v'] + (1 - beta2) * (dw ** 2)
            vt = config['v'] / (1 - beta2 ** config['t'])
            next_w = w
            next_w -= config['learning_rate'] * mt / (vt.sqrt() + config['epsilon'])
        """,
    },
    # dropout_train / dropout_backward are chosen together (PAIRS): a mask scaled by 1 / (1 - p)
    # in the forward, or an unscaled mask and the scaling in both passes.
    "dropout_train": {
        "rand_gt_scaled": """
            mask = (torch.rand(x.shape, device=x.device) > p).to(x.dtype) / (1 - p)
            out = x * mask
        """,
        "rand_like_lt": """
            mask = (torch.rand_like(x) < (1 - p)) / (1 - p)
            out = x * mask
        """,
        "unscaled_to_dtype": """
            mask = (torch.rand_like(x) > p).to(x.dtype)
            out = x * mask / (1 - p)
        """,
        "ge_rand_like": """
            mask = (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)
            out = x * mask
        """,
        "cpu_rand_to_device": """
            keep = 1 - p
            mask = ((torch.rand(x.shape) < keep) / keep).to(x.device)
            out = x * mask
        """,
        "star_shape_rand": """
            mask = (torch.rand(*x.shape, device=x.device) < (1 - p)) / (1 - p)
            out = x * mask
        """,
        "float_mask_unscaled": """
            mask = (torch.rand_like(x) > p).float()
            out = x * mask / (1.0 - p)
        """,
        "bool_mask_unscaled": """
            mask = torch.rand_like(x) < (1 - p)  # True: the unit is kept
            out = x * mask / (1 - p)
        """,
    },
    "dropout_backward": {
        "rand_gt_scaled": "dx = dout * mask",
        "rand_like_lt": "dx = dout * mask",
        "unscaled_to_dtype": "dx = dout * mask / (1 - dropout_param['p'])",
        "ge_rand_like": "dx = dout * mask",
        "cpu_rand_to_device": "dx = dout * mask",
        "star_shape_rand": "dx = dout * mask",
        "float_mask_unscaled": "dx = dout * mask / (1.0 - dropout_param['p'])",
        "bool_mask_unscaled": """
            p = dropout_param['p']
            dx = dout * mask / (1 - p)
        """,
    },
    "dropout_test": {
        "identity": "out = x",
        "ones_mask": """
            mask = torch.ones_like(x)
            out = x * mask
        """,
    },
}

# A style's choice for a pair names one variant of both regions.
PAIRS = {"tln": ("tln_forward", "tln_backward"), "fc": ("fc_forward", "fc_backward"),
         "dropout": ("dropout_train", "dropout_backward")}


@dataclass(frozen=True)
class Style:
    name: str
    term: str  # "f20" (2-space template text) or "w22" (4-space template text)
    about: str  # what is distinctive, one line
    choices: Dict[str, str]  # region or pair -> variant
    imports: Sequence[str] = ()
    half: bool = field(default=False)  # FullyConnectedNet's L2 term carries the banner's 0.5
    # Changes real students make to the given code itself: (function, old, new) text edits.
    given_edits: Sequence[tuple] = ()

    def regions(self) -> Dict[str, str]:
        out = {}
        for key, variant in self.choices.items():
            for region in PAIRS.get(key, (key,)):
                out[region] = variant
        return out


HALF_FC = {"single_loop_half", "percent_half", "presized_half"}


def _s(lf="reshape_at", lb="reshape_at_T", rf="clamp", rb="bool_product", tln_init="randn_scaled", tln="two_calls",
       fc_init="dims_range", fc="list_pop", solver="sgd_decay", three="append_after", five="append_after",
       momentum="config_direct", rmsprop="config_cache", adam="config_t_first", dropout="rand_gt_scaled",
       dropout_test="identity"):
    return {"linear_forward": lf, "linear_backward": lb, "relu_forward": rf, "relu_backward": rb,
            "tln_init": tln_init, "tln": tln, "fc_init": fc_init, "fc": fc, "create_solver": solver,
            "three_layer": three, "five_layer": five, "momentum": momentum, "rmsprop": rmsprop, "adam": adam,
            "dropout": dropout, "dropout_test": dropout_test}


def _style(name, term, about, choices, imports=(), given_edits=()):
    return Style(name, term, about, choices, tuple(imports), choices["fc"] in HALF_FC, tuple(given_edits))


# The given code as some students hand it back: the Solver's model line and sgd_momentum's return
# edited (the momentum body then updates w in place and returns it), `@ staticmethod` spaced out.
GIVEN_EDITED = (
    ("create_solver_instance", "model = TwoLayerNet(hidden_dim=200, dtype=dtype, device=device)",
     "model = TwoLayerNet(hidden_dim=400, dtype=dtype, device=device)"),
    ("sgd_momentum", "    return next_w, config", "    return w, config"),
    ("Dropout", "    @staticmethod\n    def forward(x, dropout_param):", "    @ staticmethod\n    def forward(x, dropout_param):"),
)

# The given code run through the `black` formatter (double quotes, exploded signatures), with a
# type hint added to TwoLayerNet.loss.
GIVEN_BLACK = (
    ("hello_fully_connected_networks", "print('Hello from fully_connected_networks.py!')",
     'print("Hello from fully_connected_networks.py!")'),
    ("FullyConnectedNet", """    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
                 dropout=0.0, reg=0.0, weight_scale=1e-2, seed=None,
                 dtype=torch.float, device='cpu'):""", """    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout=0.0,
        reg=0.0,
        weight_scale=1e-2,
        seed=None,
        dtype=torch.float,
        device="cpu",
    ):"""),
    ("TwoLayerNet.save", """        checkpoint = {
          'reg': self.reg,
          'params': self.params,
        }""", """        checkpoint = {
            "reg": self.reg,
            "params": self.params,
        }"""),
    ("TwoLayerNet", "    def loss(self, X, y=None):", "    def loss(self, X: torch.Tensor, y=None):"),
)


STYLE_LIST = [
    _style("f20_view_mm_clone_relu", "f20",
           "2-space text: x.view(N, -1).mm(w), clone-and-index ReLU both ways, zeros-then-+= init, caches in "
           "dicts keyed by layer, rand > p mask scaled in the forward, config read directly",
           _s(lf="view_mm", lb="view_mm_t", rf="clone_index", rb="clone_index", tln_init="zeros_plus_randn",
              fc_init="running_in_dim", fc="dict_by_layer", solver="minimal", three="append_after",
              five="append_after")),
    _style("w22_reshape_at_clamp", "w22",
           "4-space text: reshape + @, clamp ReLU with a bool-mask product backward, dims list init, caches in "
           "one list popped backwards, adam with t first",
           _s()),
    _style("w22_torch_mm_where_normal", "w22",
           "torch.mm with N = x.shape[0], torch.where ReLU, torch.normal(mean=, std=, size=) locals, FCN with "
           "one loop and an if for the last layer and the banner's 0.5, Solver with adam, `pass` left after the "
           "search values, a ones mask at test time, a stray `from functools import cache`",
           _s(lf="torch_mm_N", lb="torch_mm_N", rf="where", rb="bool_product", tln_init="normal_locals",
              tln="two_calls", fc_init="dims_range", fc="single_loop_half", solver="adam", three="pass_left",
              five="pass_left", momentum="config_direct", rmsprop="config_cache", adam="config_t_first",
              dropout="rand_gt_scaled", dropout_test="ones_mask"),
           imports=("from functools import cache",)),
    _style("w22_flatten_clamp_min_tuple_caches", "w22",
           "torch.flatten(x, start_dim=1) with db computed first, clamp_min ReLU, in-place-free clone backward, "
           "(fc_cache, dropout_cache) tuples per layer and reg in a second loop, config.get everywhere",
           _s(lf="flatten_mm", lb="flatten_db_first", rf="clamp_min", rb="clone_index_le", tln_init="normal",
              tln="pow_sum", fc_init="cpu_then_to", fc="tuple_caches", solver="num_samples", three="edit_defaults",
              five="edit_defaults", momentum="get", rmsprop="get_pow", adam="get_update",
              dropout="cpu_rand_to_device")),
    _style("f20_matmul_view_mask_product", "f20",
           "2-space text: torch.matmul on x.view, x * (x > 0) ReLU, .to(x.dtype) mask backward, "
           "cpu randn then .type(dtype).to(device) init, tuple caches, mask on the CPU moved by .to(x.device)",
           _s(lf="torch_matmul_view", lb="matmul_contiguous", rf="mask_product", rb="to_dtype",
              tln_init="cpu_then_to", tln="aliases", fc_init="cpu_then_to", fc="tuple_caches",
              solver="bigger_model", three="edit_defaults", five="edit_defaults", momentum="get",
              rmsprop="get_pow", adam="get_update", dropout="cpu_rand_to_device"),
           imports=("import enum",)),
    _style("w22_reshape_N_D_instances", "w22",
           "x.reshape(N, D) with D = w.shape[0], torch.maximum with a 0-dim CPU zero, Linear()/ReLU()/Dropout() "
           "instances in both nets, keep-mask by rand_like < 1 - p",
           _s(lf="reshape_N_D", lb="star_shape", rf="maximum_scalar", rb="clone_index_le", tln_init="randn_scaled",
              tln="instances", fc_init="dims_range", fc="instances", solver="sgd_decay", three="edit_defaults",
              five="edit_defaults", momentum="v_first_mult", rmsprop="config_cache", adam="config_t_first",
              dropout="float_mask_unscaled"),
           imports=("from os.path import relpath",)),
    _style("w22_percent_keys_half", "w22",
           "'W%d' % i keys, torch.clamp ReLU, .to(dout.dtype) mask, the banner's 0.5 with .square().sum(), "
           "model.reg set in create_solver_instance with sgd_momentum, rand_like >= p",
           _s(lf="reshape_at", lb="reshape_as", rf="torch_clamp", rb="to_dtype", tln_init="randn_scaled",
              tln="aliases", fc_init="normal_percent", fc="percent_half", solver="model_reg", three="append_after",
              five="append_after", momentum="config_direct", rmsprop="square_method", adam="config_t_first",
              dropout="ge_rand_like")),
    _style("w22_black_presized_half", "w22",
           "black-formatted bodies (double quotes), view + @, pre-sized cache lists indexed by layer, 0.5 over "
           "every 'W' key, adam incrementing t after m and v, rand_like < 1 - p scaled mask",
           _s(lf="view_N_at", lb="reshape_as", rf="clamp", rb="bool_product", tln_init="randn_times_biases_first",
              tln="two_calls", fc_init="if_per_layer", fc="presized_half", solver="keywords_verbose",
              three="append_after", five="append_after", momentum="config_direct", rmsprop="config_cache",
              adam="t_after_mv", dropout="rand_like_lt")),
    _style("f20_first_middle_last_inplace_opt", "f20",
           "2-space text: first / middle / last layers written out with hidden_dims[0] and [-1], "
           "in-place optimizer updates (w += v, next_w -= ...), float mask ReLU backward",
           _s(lf="matmul_method", lb="view_mm_t", rf="clone_index", rb="float_mask", tln_init="randn_scaled",
              tln="two_calls", fc_init="first_middle_last", fc="dict_by_layer", solver="sgd_decay",
              three="pass_left", five="pass_left", momentum="inplace", rmsprop="inplace",
              adam="interleaved_inplace", dropout="unscaled_to_dtype")),
    _style("w22_while_pop_train_only", "w22",
           "zip(dims[:-1], dims[1:]) init, caches kept only in train mode and dropout skipped at test, a while "
           "loop popping caches, Solver.sgd as update_rule, unscaled .to(x.dtype) mask divided in both passes",
           _s(lf="reshape_at", lb="dw_reshaped", rf="clamp", rb="to_dtype", tln_init="randn_times_biases_first",
              tln="two_calls", fc_init="zip_pairs", fc="train_only_caches", solver="solver_sgd", three="pass_left",
              five="pass_left", momentum="locals", rmsprop="locals", adam="locals_writeback",
              dropout="unscaled_to_dtype")),
    _style("w22_handwritten_softmax", "w22",
           "TwoLayerNet.loss with the softmax written by hand (max shift, arange on the scores' device) instead "
           "of softmax_loss, torch.max(x, zeros_like(x)) ReLU, momentum from the old velocity",
           _s(lf="reshape_at", lb="reshape_at_T", rf="max_zeros_like", rb="mask_first", tln_init="normal",
              tln="handwritten_softmax", fc_init="dims_range", fc="list_pop", solver="minimal",
              three="edit_defaults", five="edit_defaults", momentum="old_v_first", rmsprop="lr_over",
              adam="locals_writeback", dropout="star_shape_rand")),
    _style("f20_reshape_ND_instances_bool", "f20",
           "2-space text: Linear()/ReLU() instances in TwoLayerNet, clamp ReLU, bool keep mask "
           "(True = kept) divided in both passes, while-pop FCN",
           _s(lf="reshape_N_D", lb="reshape_at_T", rf="clamp", rb="clone_index", tln_init="normal",
              tln="instances", fc_init="zip_pairs", fc="train_only_caches", solver="keywords_verbose",
              three="append_after", five="append_after", momentum="v_first_mult", rmsprop="lr_over",
              adam="t_after_mv", dropout="bool_mask_unscaled")),
    _style("w22_flatten_if_per_layer_half", "w22",
           "torch.flatten, clone-index ReLU (<= 0), per-layer if/else dims, one loop with 0.5, adam via "
           "config.update, Solver with num_train_samples",
           _s(lf="flatten_mm", lb="flatten_db_first", rf="clone_index_le", rb="clone_index_le",
              tln_init="normal_locals", tln="pow_sum", fc_init="if_per_layer", fc="single_loop_half",
              solver="num_samples", three="pass_left", five="edit_defaults", momentum="locals",
              rmsprop="square_method", adam="get_update", dropout="ge_rand_like")),
    _style("f20_torch_mm_star_presized", "f20",
           "2-space text: torch.mm, reshape(*x.shape), torch.where ReLU with a d_relu mask backward, pre-sized "
           "caches with the 0.5, rand(*x.shape) < 1 - p mask",
           _s(lf="torch_mm_N", lb="star_shape", rf="where", rb="mask_first", tln_init="zeros_plus_randn",
              tln="aliases", fc_init="normal_percent", fc="presized_half", solver="bigger_model",
              three="edit_defaults", five="pass_left", momentum="old_v_first", rmsprop="inplace",
              adam="interleaved_inplace", dropout="star_shape_rand", dropout_test="ones_mask")),
    _style("w22_matmul_method_list_pop", "w22",
           "rows.matmul(w), contiguous().view backward, maximum with a 0-dim zero, caches popped from one list "
           "with the dropout caches between, sgd_momentum in place, adam on config",
           _s(lf="matmul_method", lb="matmul_contiguous", rf="maximum_scalar", rb="float_mask",
              tln_init="randn_scaled", tln="pow_sum", fc_init="running_in_dim", fc="list_pop", solver="adam",
              three="append_after", five="edit_defaults", momentum="inplace", rmsprop="get_pow",
              adam="config_t_first", dropout="rand_like_lt")),
    _style("w22_clamp_view_mm_dict", "w22",
           "view(N, -1) @ w, view backward, torch.clamp, dicts of caches keyed by layer, randn * ws with "
           "biases first, the softmax written by hand, a float keep mask divided in both passes, rmsprop with "
           "lr / (...) * dw",
           _s(lf="view_N_at", lb="view_mm_t", rf="torch_clamp", rb="clone_index", tln_init="randn_times_biases_first",
              tln="handwritten_softmax", fc_init="first_middle_last", fc="dict_by_layer", solver="solver_sgd",
              three="pass_left", five="append_after", momentum="get", rmsprop="lr_over", adam="t_after_mv",
              dropout="float_mask_unscaled", dropout_test="ones_mask")),
    _style("f20_mask_product_instances_fc", "f20",
           "2-space text: x * (x > 0), instances in the fully-connected net (lin/relu/drop), dw reshaped to w.shape, "
           "model.reg with sgd_momentum, adam locals",
           _s(lf="view_mm", lb="dw_reshaped", rf="mask_product", rb="bool_product", tln_init="cpu_then_to",
              tln="pow_sum", fc_init="running_in_dim", fc="instances", solver="model_reg", three="edit_defaults",
              five="pass_left", momentum="locals", rmsprop="locals", adam="locals_writeback",
              dropout="bool_mask_unscaled")),
    _style("w22_given_code_edited", "w22",
           "the given code edited as real students hand it back: the Solver's TwoLayerNet(hidden_dim=400), "
           "sgd_momentum updating w in place and the given return changed to `return w, config`, "
           "`@ staticmethod` spaced out; torch.normal locals, clone-index ReLU, tuple caches",
           _s(lf="reshape_N_D", lb="matmul_contiguous", rf="clone_index", rb="mask_first", tln_init="normal_locals",
              tln="instances", fc_init="zip_pairs", fc="tuple_caches", solver="keywords_verbose",
              three="edit_defaults", five="append_after", momentum="inplace", rmsprop="square_method",
              adam="interleaved_inplace", dropout="rand_like_lt"),
           given_edits=GIVEN_EDITED),
    _style("w22_black_formatted_given", "w22",
           "the given code run through black (double quotes, FullyConnectedNet's signature exploded) and a "
           "type hint on TwoLayerNet.loss; flatten, clamp_min, presized caches with the 0.5, locals adam",
           _s(lf="flatten_mm", lb="reshape_as", rf="clamp_min", rb="to_dtype", tln_init="randn_times_biases_first",
              tln="handwritten_softmax", fc_init="if_per_layer", fc="presized_half", solver="solver_sgd",
              three="pass_left", five="edit_defaults", momentum="v_first_mult", rmsprop="inplace",
              adam="locals_writeback", dropout="cpu_rand_to_device", dropout_test="ones_mask"),
           given_edits=GIVEN_BLACK),
]

STYLES: Dict[str, Style] = {s.name: s for s in STYLE_LIST}

# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

_TOKEN_LINE = re.compile(r"^(?P<indent> *)@@(?P<body>[^@]+)@@\s*$")


def _body(region: str, variant: str) -> str:
    try:
        text = REGIONS[region][variant]
    except KeyError:
        raise KeyError(f"no body {variant!r} for region {region!r}") from None
    return textwrap.dedent(text).strip("\n")


def render_file(style: Style) -> str:
    regions = style.regions()
    used, out = set(), []
    for line in SKELETON.splitlines():
        match = _TOKEN_LINE.match(line)
        if not match:
            out.append(line)
            continue
        indent, token = match["indent"], match["body"].strip()
        if token == "given_imports":
            out.append(GIVEN_IMPORTS[style.term])
        elif token == "imports":
            out.extend(style.imports)
        elif token == "config_none":
            out.append(_indent(CONFIG_NONE[style.term], indent))
        elif token == "tln_sig":
            out.append(_indent(TLN_SIG[style.term], indent))
        elif token.startswith("todo "):
            region, instruction = (part.strip() for part in token[5:].split("|", 1))
            used.add(region)
            out.append(_banner(indent, instruction, _body(region, regions[region])))
        else:
            raise ValueError(f"unknown token {token!r}")
    missing = set(regions) - used
    if missing:
        raise ValueError(f"style {style.name}: regions {sorted(missing)} are not in the skeleton")
    text = "\n".join(out) + "\n"
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return _halve(text) if style.term == "f20" else text


def render(style: str) -> Dict[str, str]:
    """{file name: source} of one style's submission (with its edits to the given code)."""
    return apply_edits({FILE: render_file(STYLES[style])}, STYLES[style].given_edits)


def function_span(source: str, function: str) -> Tuple[int, int]:
    """Start and end offsets of ``function``: a top-level ``def name`` or ``class Name``, or a
    method ``Class.method`` (up to the next def at its indentation or less)."""
    if "." in function:
        cls, method = function.split(".", 1)
        start, end = function_span(source, cls)
        match = re.search(rf"^(?P<indent>[ \t]+)def {re.escape(method)}\(", source[start:end], flags=re.M)
        if not match:
            raise ValueError(f"no method {function}")
        begin = start + match.start()
        indent = len(match["indent"])
        following = re.compile(rf"^[ \t]{{0,{indent}}}(@|def |class )\S*", flags=re.M).search(
            source, start + match.end())
        stop = following.start() if following and following.start() < end else end
        return begin, stop
    match = re.search(rf"^(def|class) {re.escape(function)}\b", source, flags=re.M)
    if not match:
        raise ValueError(f"no top-level function or class {function}")
    following = re.compile(r"^(def|class) ", flags=re.M).search(source, match.end())
    return match.start(), following.start() if following else len(source)


def apply_edits(sources: Dict[str, str], edits: Iterable[tuple]) -> Dict[str, str]:
    """Text edits, each (function, old, new) — only inside that function or method — or
    (file, function, old, new); each must find its text exactly once where it looks. Both old and
    new are written with 4-space nesting and halved for the 2-space text."""
    sources = dict(sources)
    for edit in edits:
        name, function, old, new = edit if len(edit) == 4 else (FILE, edit[0], edit[1], edit[2])
        text = sources[name]
        if _is_two_space(text):
            old, new = _halve_snippet(old), _halve_snippet(new)
        start, end = function_span(text, function) if function else (0, len(text))
        count = text[start:end].count(old)
        if count != 1:
            where = f"{name}:{function}" if function else name
            raise ValueError(f"edit target found {count} times in {where}: {old!r}")
        sources[name] = text[:start] + text[start:end].replace(old, new) + text[end:]
    return sources


def _is_two_space(text: str) -> bool:
    return "\n  def forward(x, w, b):" in text


def _halve_snippet(snippet: str) -> str:
    """A snippet's leading spaces halved on every line (a first line without leading spaces is
    matched wherever it sits in its line)."""
    return "\n".join(" " * ((len(l) - len(l.lstrip(" "))) // 2) + l.lstrip(" ") for l in snippet.split("\n"))


def course_submission(root: Path, style: str, edits: Iterable[tuple] = ()) -> Path:
    """Write ``root/<style>/fully_connected_networks.py`` (after ``edits``); return that folder."""
    folder = Path(root) / style
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in apply_edits(render(style), edits).items():
        (folder / name).write_text(text)
    return folder


# ---------------------------------------------------------------------------------------------
# Seeded bugs: the named mistakes of real submissions (and of the course's own warnings)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    label: str  # the mistake, as a TA names it
    function: str  # the graded function that must lose points
    source: str  # where it was seen: real files (short names) or "issue" (named by the course / the issue)
    edits: Dict[str, Sequence[tuple]]  # style -> [(function, old, new)]
    check: str = ""  # the oracle check that catches it (default: function)

    @property
    def oracle(self) -> str:
        return self.check or self.function


def _m(label, function, source, edits, check=""):
    return Mutant(label, function, source, edits, check)


MUTANTS = [
    # --- Linear
    _m("Linear.backward: dx left as (N, D), not reshaped to x's shape", "Linear.backward", "issue",
       {"w22_reshape_at_clamp": [("Linear.backward", "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T")],
        "f20_view_mm_clone_relu": [("Linear.backward", "dx = dout.mm(w.t()).view(x.shape)", "dx = dout.mm(w.t())")]}),
    _m("Linear.backward: db averaged over the batch instead of summed", "Linear.backward", "issue",
       {"w22_reshape_at_clamp": [("Linear.backward", "db = dout.sum(0)", "db = dout.mean(0)")],
        "w22_torch_mm_where_normal": [("Linear.backward", "db = dout.sum(dim=0)", "db = dout.mean(dim=0)")]}),
    _m("Linear.forward: inputs cast to float64 (x.double()), so float32 inputs give float64 outputs",
       "Linear.forward", "Linc",
       {"w22_reshape_at_clamp": [("Linear.forward", "x_rows = x.reshape(x.shape[0], -1)",
                                  "x_rows = x.double().reshape(x.shape[0], -1)\n        w = w.double()\n"
                                  "        b = b.double()")],
        "w22_torch_mm_where_normal": [("Linear.forward", "out = torch.mm(x.reshape(N, -1), w) + b",
                                       "out = torch.mm(x.double().reshape(N, -1), w.double()) + b.double()")]}),
    _m("Linear.forward: inputs moved to a hard-coded 'cuda' (.to('cuda'))", "Linear.forward", "Linc",
       {"w22_reshape_at_clamp": [("Linear.forward", "out = x_rows @ w + b",
                                  "out = x_rows.to('cuda') @ w.to('cuda') + b.to('cuda')")],
        "f20_view_mm_clone_relu": [("Linear.forward", "out = x.view(x.shape[0], -1).mm(w) + b",
                                    "out = x.view(x.shape[0], -1).to('cuda').mm(w.to('cuda')) + b.to('cuda')")]}),
    # --- ReLU
    _m("ReLU.backward: mask taken from dout instead of the cached x", "ReLU.backward", "issue",
       {"w22_reshape_at_clamp": [("ReLU.backward", "dx = dout * (x > 0)", "dx = dout * (dout > 0)")],
        "f20_view_mm_clone_relu": [("ReLU.backward", "dx[x < 0] = 0", "dx[dout < 0] = 0")]}),
    _m("ReLU.backward: the caller's dout changed in place (dx = dout; dx[x <= 0] = 0)", "ReLU.backward", "SMS, Tendo",
       {"f20_view_mm_clone_relu": [("ReLU.backward", "dx = dout.clone()", "dx = dout")],
        "w22_flatten_clamp_min_tuple_caches": [("ReLU.backward", "dx = dout.clone()", "dx = dout")]}),
    _m("ReLU.forward: the input changed in place (out = x; out[out < 0] = 0)", "ReLU.forward", "issue",
       {"f20_view_mm_clone_relu": [("ReLU.forward", "out = x.clone()", "out = x")],
        "w22_clamp_view_mm_dict": [("ReLU.forward", "out = torch.clamp(x, min=0)", "out = x.clamp_(min=0)")]}),
    # --- TwoLayerNet
    _m("TwoLayerNet.__init__: dtype ignored (weights made in the default float32)", "TwoLayerNet.__init__", "Tendo",
       {"w22_reshape_at_clamp": [("TwoLayerNet.__init__",
                                  "torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)",
                                  "torch.randn(input_dim, hidden_dim, device=device)")],
        "w22_torch_mm_where_normal": [("TwoLayerNet.__init__", "W1 = torch.normal(mean=0.0, std=weight_scale, "
                                       "size=(input_dim, hidden_dim),\n                          dtype=dtype, "
                                       "device=device)", "W1 = torch.normal(mean=0.0, std=weight_scale, "
                                       "size=(input_dim, hidden_dim),\n                          device=device)")]}),
    _m("TwoLayerNet.__init__: always float64 (.double())", "TwoLayerNet.__init__", "Linc",
       {"f20_matmul_view_mask_product": [("TwoLayerNet.__init__", "self.params[name].type(dtype).to(device)",
                                          "self.params[name].double().to(device)")],
        "f20_mask_product_instances_fc": [("TwoLayerNet.__init__", "self.params[name].type(dtype).to(device)",
                                           "self.params[name].double().to(device)")]}),
    _m("TwoLayerNet.loss: no ReLU after the first layer", "TwoLayerNet.loss", "Eric",
       {"w22_reshape_at_clamp": [("TwoLayerNet.loss", "hidden, cache1 = Linear_ReLU.forward(",
                                  "hidden, cache1 = Linear.forward("),
                                 ("TwoLayerNet.loss", "_, grads['W1'], grads['b1'] = Linear_ReLU.backward(",
                                  "_, grads['W1'], grads['b1'] = Linear.backward(")],
        "w22_percent_keys_half": [("TwoLayerNet.loss", "h1, cache_h1 = Linear_ReLU.forward(X, W1, b1)",
                                   "h1, cache_h1 = Linear.forward(X, W1, b1)"),
                                  ("TwoLayerNet.loss", "dX, dW1, db1 = Linear_ReLU.backward(dh1, cache_h1)",
                                   "dX, dW1, db1 = Linear.backward(dh1, cache_h1)")]}),
    _m("TwoLayerNet.loss: ReLU on the output layer (scores clamped at 0)", "TwoLayerNet.loss", "KinXY",
       {"w22_reshape_at_clamp": [("TwoLayerNet.loss", "scores, cache2 = Linear.forward(",
                                  "scores, cache2 = Linear_ReLU.forward("),
                                 ("TwoLayerNet.loss", "dhidden, grads['W2'], grads['b2'] = Linear.backward(",
                                  "dhidden, grads['W2'], grads['b2'] = Linear_ReLU.backward(")],
        "w22_percent_keys_half": [("TwoLayerNet.loss", "scores, cache_scores = Linear.forward(h1, W2, b2)",
                                   "scores, cache_scores = Linear_ReLU.forward(h1, W2, b2)"),
                                  ("TwoLayerNet.loss", "dh1, dW2, db2 = Linear.backward(dscores, cache_scores)",
                                   "dh1, dW2, db2 = Linear_ReLU.backward(dscores, cache_scores)")]}),
    _m("TwoLayerNet.loss: L2 regularisation with a factor 0.5 (the banner says none)", "TwoLayerNet.loss", "issue",
       {"w22_reshape_at_clamp": [("TwoLayerNet.loss", "loss += self.reg * (", "loss += 0.5 * self.reg * ("),
                                 ("TwoLayerNet.loss", "grads['W2'] += 2 * self.reg", "grads['W2'] += self.reg"),
                                 ("TwoLayerNet.loss", "grads['W1'] += 2 * self.reg", "grads['W1'] += self.reg")],
        "w22_flatten_clamp_min_tuple_caches": [
            ("TwoLayerNet.loss", "reg_loss = self.reg * (", "reg_loss = 0.5 * self.reg * ("),
            ("TwoLayerNet.loss", "dW2 += 2 * self.reg", "dW2 += self.reg"),
            ("TwoLayerNet.loss", "dW1 += 2 * self.reg", "dW1 += self.reg")]}),
    _m("TwoLayerNet.loss: biases regularised too", "TwoLayerNet.loss", "issue",
       {"w22_reshape_at_clamp": [("TwoLayerNet.loss", "(self.params['W2'] ** 2).sum())",
                                  "(self.params['W2'] ** 2).sum() + (self.params['b1'] ** 2).sum() "
                                  "+ (self.params['b2'] ** 2).sum())")],
        "w22_percent_keys_half": [("TwoLayerNet.loss", "grads['b1'] = db1", "grads['b1'] = db1 + 2 * self.reg * b1"),
                                  ("TwoLayerNet.loss", "loss += self.reg * torch.sum(W1 * W1)",
                                   "loss += self.reg * torch.sum(W1 * W1) + self.reg * torch.sum(b1 * b1)")]}),
    _m("TwoLayerNet.loss: regularisation gradient missing (loss has the L2 term)", "TwoLayerNet.loss", "issue",
       {"w22_reshape_at_clamp": [("TwoLayerNet.loss", "grads['W2'] += 2 * self.reg * self.params['W2']", "pass")],
        "w22_percent_keys_half": [("TwoLayerNet.loss", "grads['W1'] = dW1 + 2 * self.reg * W1",
                                   "grads['W1'] = dW1")]}),
    # --- FullyConnectedNet
    _m("FullyConnectedNet.__init__: biases random instead of zero", "FullyConnectedNet.__init__", "Tendo, echo",
       {"w22_reshape_at_clamp": [("FullyConnectedNet.__init__",
                                  "self.params[f'b{i + 1}'] = torch.zeros(dims[i + 1], dtype=dtype, device=device)",
                                  "self.params[f'b{i + 1}'] = torch.randn(dims[i + 1], dtype=dtype, device=device)")],
        "w22_percent_keys_half": [("FullyConnectedNet.__init__",
                                   "self.params['b%d' % i] = torch.zeros(layer_dims[i], dtype=dtype, device=device)",
                                   "self.params['b%d' % i] = weight_scale * torch.randn(layer_dims[i], dtype=dtype, "
                                   "device=device)")]}),
    _m("FullyConnectedNet.loss: the last layer's weight gradient lacks the regularisation term",
       "FullyConnectedNet.loss", "SMS, TYTY",
       {"w22_reshape_at_clamp": [("FullyConnectedNet.loss",
                                  "grads[f'W{L}'] = dW + 2 * self.reg * self.params[f'W{L}']", "grads[f'W{L}'] = dW")],
        "w22_black_presized_half": [("FullyConnectedNet.loss",
                                     'grads[f"W{L}"] += self.reg * self.params[f"W{L}"]', "pass")]}),
    _m("FullyConnectedNet.loss: no L2 regularisation at all", "FullyConnectedNet.loss", "1501",
       {"w22_reshape_at_clamp": [("FullyConnectedNet.loss",
                                  "loss += self.reg * sum((self.params[f'W{i}'] ** 2).sum() for i in range(1, L + 1))",
                                  "pass"),
                                 ("FullyConnectedNet.loss", "grads[f'W{L}'] = dW + 2 * self.reg * self.params[f'W{L}']",
                                  "grads[f'W{L}'] = dW"),
                                 ("FullyConnectedNet.loss", "grads[f'W{i}'] = dW + 2 * self.reg * self.params[f'W{i}']",
                                  "grads[f'W{i}'] = dW")],
        "w22_flatten_clamp_min_tuple_caches": [
            ("FullyConnectedNet.loss", "loss += self.reg * self.params[f'W{i+1}'].pow(2).sum()", "pass"),
            ("FullyConnectedNet.loss", "grads[f'W{i+1}'] += self.reg * 2 * self.params[f'W{i+1}']", "pass")]}),
    _m("FullyConnectedNet.loss: 0.5 in the loss but 2 * reg * W in the gradient", "FullyConnectedNet.loss", "issue",
       {"w22_torch_mm_where_normal": [("FullyConnectedNet.loss", "grads['W%s' % (i + 1)] = dW + self.reg * Wi",
                                       "grads['W%s' % (i + 1)] = dW + 2 * self.reg * Wi")],
        "w22_percent_keys_half": [("FullyConnectedNet.loss", "grads['W%d' % i] = dW + self.reg * self.params['W%d' % i]",
                                   "grads['W%d' % i] = dW + 2 * self.reg * self.params['W%d' % i]")]}),
    _m("FullyConnectedNet.loss: dropout never applied (self.use_dropout ignored)", "FullyConnectedNet.loss",
       "1501, Riya, echo",
       {"w22_reshape_at_clamp": [("FullyConnectedNet.loss", "if self.use_dropout:\n                h, cache",
                                  "if False:\n                h, cache"),
                                 ("FullyConnectedNet.loss", "if self.use_dropout:\n                dh = Dropout",
                                  "if False:\n                dh = Dropout")],
        "f20_view_mm_clone_relu": [("FullyConnectedNet.loss", "if self.use_dropout:\n                out, drop_caches",
                                    "if False:\n                out, drop_caches"),
                                   ("FullyConnectedNet.loss", "if self.use_dropout:\n                dout = Dropout",
                                    "if False:\n                dout = Dropout")]},
       check="FullyConnectedNet.loss (dropout)"),
    _m("FullyConnectedNet.loss: every layer fed X (the previous layer's output never chained)",
       "FullyConnectedNet.loss", "Tendo",
       {"w22_reshape_at_clamp": [("FullyConnectedNet.loss",
                                  "h, cache = Linear_ReLU.forward(h, self.params[f'W{i}'], self.params[f'b{i}'])",
                                  "h, cache = Linear_ReLU.forward(X, self.params[f'W{i}'], self.params[f'b{i}'])")],
        "f20_view_mm_clone_relu": [("FullyConnectedNet.loss", "out, fc_caches[i] = Linear_ReLU.forward(out, w, b)",
                                    "out, fc_caches[i] = Linear_ReLU.forward(X, w, b)")]}),
    _m("FullyConnectedNet.loss: dropout's backward skipped (the forward drops, the gradient ignores it)",
       "FullyConnectedNet.loss", "issue",
       {"w22_percent_keys_half": [("FullyConnectedNet.loss",
                                   "dout = Dropout.backward(dout, dropout_caches[i - 1])", "pass")],
        "w22_torch_mm_where_normal": [("FullyConnectedNet.loss", "dout = Dropout.backward(dout, dropout_caches[i])",
                                       "pass")]},
       check="FullyConnectedNet.loss (dropout)"),
    # --- create_solver_instance
    _m("create_solver_instance: device hard-coded to 'cuda'", "create_solver_instance", "Riya, ZHZ, echo",
       {"w22_reshape_at_clamp": [("create_solver_instance", "print_every=100,\n                    device=device)",
                                  "print_every=100,\n                    device='cuda')")],
        "w22_torch_mm_where_normal": [("create_solver_instance", "print_every=100,\n                    device=device)",
                                       "print_every=100,\n                    device='cuda')")]}),
    _m("create_solver_instance: the Solver not given the device (its default is the CPU)",
       "create_solver_instance", "Linc, Tendo",
       {"w22_reshape_at_clamp": [("create_solver_instance", "print_every=100,\n                    device=device)",
                                  "print_every=100)")],
        "f20_view_mm_clone_relu": [("create_solver_instance", "device=device, ", "")]}),
    # --- optimizers
    _m("sgd_momentum: velocity not used (next_w = w + dw)", "sgd_momentum", "Eric",
       {"w22_reshape_at_clamp": [("sgd_momentum", "next_w = w + v", "next_w = w + dw")],
        "w22_while_pop_train_only": [("sgd_momentum", "next_w = w + v", "next_w = w + dw")]}),
    _m("sgd_momentum: gradient added with the wrong sign (v = mu * v + lr * dw)", "sgd_momentum", "issue",
       {"w22_reshape_at_clamp": [("sgd_momentum", "v = config['momentum'] * v - config['learning_rate'] * dw",
                                  "v = config['momentum'] * v + config['learning_rate'] * dw")],
        "w22_flatten_clamp_min_tuple_caches": [("sgd_momentum", "v = momentum * v - learning_rate * dw",
                                                "v = momentum * v + learning_rate * dw")]}),
    _m("rmsprop: the old cache used for the step (cache updated after next_w)", "rmsprop", "Linc",
       {"w22_reshape_at_clamp": [("rmsprop", "config['cache'] = config['decay_rate'] * config['cache'] + "
                                  "(1 - config['decay_rate']) * dw ** 2\n    next_w = w - config['learning_rate'] * dw / "
                                  "(torch.sqrt(config['cache']) + config['epsilon'])",
                                  "next_w = w - config['learning_rate'] * dw / (torch.sqrt(config['cache']) + "
                                  "config['epsilon'])\n    config['cache'] = config['decay_rate'] * config['cache'] + "
                                  "(1 - config['decay_rate']) * dw ** 2")],
        "w22_while_pop_train_only": [("rmsprop", "next_w = w - learning_rate * dw / (torch.sqrt(cache) + eps)",
                                      "next_w = w - learning_rate * dw / (torch.sqrt(config['cache']) + eps)")]}),
    _m("rmsprop: square root missing", "rmsprop", "ZHZ",
       {"w22_reshape_at_clamp": [("rmsprop", "(torch.sqrt(config['cache']) + config['epsilon'])",
                                  "(config['cache'] + config['epsilon'])")],
        "w22_flatten_clamp_min_tuple_caches": [("rmsprop", "(grad_squared.sqrt() + epsilon)",
                                                "(grad_squared + epsilon)")]}),
    _m("rmsprop: epsilon inside the square root", "rmsprop", "RrOo",
       {"w22_reshape_at_clamp": [("rmsprop", "(torch.sqrt(config['cache']) + config['epsilon'])",
                                  "torch.sqrt(config['cache'] + config['epsilon'])")],
        "w22_while_pop_train_only": [("rmsprop", "(torch.sqrt(cache) + eps)", "torch.sqrt(cache + eps)")]}),
    _m("adam: t not stored back in config (later steps' bias correction wrong)", "adam", "Eric",
       {"w22_while_pop_train_only": [("adam", "    config['t'] = t\n", "\n")],
        "w22_flatten_clamp_min_tuple_caches": [("adam", "config.update({'m': m, 'v': v, 't': t})",
                                                "config.update({'m': m, 'v': v})")]}),
    _m("adam: no bias correction", "adam", "issue",
       {"w22_reshape_at_clamp": [("adam", "m_unbias = config['m'] / (1 - config['beta1'] ** config['t'])",
                                  "m_unbias = config['m']"),
                                 ("adam", "v_unbias = config['v'] / (1 - config['beta2'] ** config['t'])",
                                  "v_unbias = config['v']")],
        "w22_while_pop_train_only": [("adam", "m_hat = m / (1 - beta1**t)", "m_hat = m"),
                                     ("adam", "v_hat = v / (1 - beta2**t)", "v_hat = v")]}),
    _m("adam: t incremented after it is used", "adam", "issue",
       {"w22_reshape_at_clamp": [("adam", "    config['t'] += 1\n", "\n"),
                                 ("adam", "next_w = w - config['learning_rate'] * m_unbias / (torch.sqrt(v_unbias) + "
                                  "config['epsilon'])", "next_w = w - config['learning_rate'] * m_unbias / "
                                  "(torch.sqrt(v_unbias) + config['epsilon'])\n    config['t'] += 1")],
        "w22_while_pop_train_only": [("adam", "t = config['t'] + 1", "t = config['t']"),
                                     ("adam", "config['t'] = t", "config['t'] = t + 1")]}),
    # --- Dropout
    _m("Dropout.forward: vanilla dropout (train output not scaled by 1/(1-p), test output scaled by 1-p)",
       "Dropout.forward", "1501",
       {"w22_reshape_at_clamp": [("Dropout.forward", "mask = (torch.rand(x.shape, device=x.device) > p).to(x.dtype) "
                                  "/ (1 - p)", "mask = (torch.rand(x.shape, device=x.device) > p).to(x.dtype)"),
                                 ("Dropout.forward", "            out = x\n", "            out = x * (1 - p)\n")],
        "w22_percent_keys_half": [("Dropout.forward", "mask = (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)",
                                   "mask = (torch.rand_like(x) >= p).to(x.dtype)"),
                                  ("Dropout.forward", "            out = x\n", "            out = x * (1 - p)\n")]}),
    _m("Dropout.forward: inverted scaling missing (kept units not divided by 1 - p)", "Dropout.forward", "Linc",
       {"w22_while_pop_train_only": [("Dropout.forward", "out = x * mask / (1 - p)", "out = x * mask"),
                                     ("Dropout.backward", "dx = dout * mask / (1 - dropout_param['p'])",
                                      "dx = dout * mask")],
        "w22_reshape_at_clamp": [("Dropout.forward", ".to(x.dtype) / (1 - p)", ".to(x.dtype)")]}),
    _m("Dropout.forward: scaled by 1/p instead of 1/(1-p)", "Dropout.forward", "Eric",
       {"w22_reshape_at_clamp": [("Dropout.forward", ".to(x.dtype) / (1 - p)", ".to(x.dtype) / p")],
        "w22_black_presized_half": [("Dropout.forward", "(torch.rand_like(x) < (1 - p)) / (1 - p)",
                                     "(torch.rand_like(x) < (1 - p)) / p")]}),
    _m("Dropout.forward: multiplied by (1-p) instead of divided", "Dropout.forward", "TYTY",
       {"w22_reshape_at_clamp": [("Dropout.forward", ".to(x.dtype) / (1 - p)", ".to(x.dtype) * (1 - p)")],
        "w22_percent_keys_half": [("Dropout.forward", ".to(x.dtype) / (1 - p)", ".to(x.dtype) * (1 - p)")]}),
    _m("Dropout.forward: p taken as the keep probability (units dropped with probability 1 - p)",
       "Dropout.forward", "Wang",
       {"w22_reshape_at_clamp": [("Dropout.forward", "(torch.rand(x.shape, device=x.device) > p).to(x.dtype) / (1 - p)",
                                  "(torch.rand(x.shape, device=x.device) < p).to(x.dtype) / p")],
        "w22_black_presized_half": [("Dropout.forward", "mask = (torch.rand_like(x) < (1 - p)) / (1 - p)",
                                     "mask = (torch.rand_like(x) < p) / p")]}),
    _m("Dropout.forward: units dropped at test time too", "Dropout.forward", "issue",
       {"w22_reshape_at_clamp": [("Dropout.forward", "            out = x\n",
                                  "            out = x * (torch.rand_like(x) > p) / (1 - p)\n")],
        "w22_torch_mm_where_normal": [("Dropout.forward", "            mask = torch.ones_like(x)\n",
                                       "            mask = (torch.rand_like(x) > p) / (1 - p)\n")]}),
    _m("Dropout.forward: mask made in float64 (.double()), so float32 inputs give float64 outputs",
       "Dropout.forward", "Riya",
       {"w22_while_pop_train_only": [("Dropout.forward", "mask = (torch.rand_like(x) > p).to(x.dtype)",
                                      "mask = (torch.rand_like(x) > p).double()")],
        "w22_reshape_at_clamp": [("Dropout.forward", ".to(x.dtype) / (1 - p)", ".double() / (1 - p)")]}),
    _m("Dropout.forward: mask made on the CPU and moved with .cuda()", "Dropout.forward", "SMS, TYTY",
       {"w22_reshape_at_clamp": [("Dropout.forward", "torch.rand(x.shape, device=x.device)", "torch.rand(x.shape)"),
                                 ("Dropout.forward", "            out = x * mask\n",
                                  "            mask = mask.cuda()\n            out = x * mask\n")],
        "w22_flatten_clamp_min_tuple_caches": [("Dropout.forward", ".to(x.device)", ".cuda()")]}),
    _m("Dropout.backward: a fresh mask drawn instead of the forward's", "Dropout.backward", "issue",
       {"w22_reshape_at_clamp": [("Dropout.backward", "dx = dout * mask",
                                  "p = dropout_param['p']\n            dx = dout * (torch.rand_like(dout) > p) / (1 - p)")],
        "w22_while_pop_train_only": [("Dropout.backward", "dx = dout * mask / (1 - dropout_param['p'])",
                                      "dx = dout * (torch.rand_like(dout) > dropout_param['p']) "
                                      "/ (1 - dropout_param['p'])")]}),
    _m("Dropout.backward: the 1/(1-p) scaling left out of the gradient", "Dropout.backward", "issue",
       {"w22_while_pop_train_only": [("Dropout.backward", "dx = dout * mask / (1 - dropout_param['p'])",
                                      "dx = dout * mask")],
        "f20_first_middle_last_inplace_opt": [("Dropout.backward", "dx = dout * mask / (1 - dropout_param['p'])",
                                               "dx = dout * mask")]}),
]


__all__ = ["FILE", "REGIONS", "PAIRS", "STYLES", "STYLE_LIST", "Style", "MUTANTS", "Mutant", "apply_edits",
           "course_submission", "function_span", "render", "render_file"]
