"""Fully connected networks from modular layers, by hand with PyTorch tensors.

Every layer is a pair of static methods: ``forward`` takes the layer's inputs and returns
``(out, cache)``; ``backward`` takes the upstream gradient ``dout`` and that cache and returns
the gradients of the inputs. Models (``TwoLayerNet``, ``FullyConnectedNet``) chain layers and
keep their parameters in ``self.params``; ``loss(X)`` gives scores, ``loss(X, y)`` gives
``(loss, grads)`` with ``grads`` keyed like ``self.params``. The ``Solver`` trains a model
with one of the update rules at the end of this file.

Letters used in shapes: N samples; an input x of shape (N, d_1, ..., d_k) is read as N rows
of D = d_1 * ... * d_k numbers; M outputs of a linear layer; H hidden units; C classes;
L layers.

Rules for every part you implement here:
- never call ``.to()``, ``.cuda()`` or ``.cpu()``: every tensor you create follows the device
  and dtype of the inputs (``torch.zeros_like(x)``, ``torch.rand_like(x)``), or of the
  ``dtype`` and ``device`` the constructor was given (``torch.randn(..., dtype=dtype,
  device=device)``). The ``.to()`` calls in the given code (``load``, the first line of
  ``FullyConnectedNet.loss``) are the template's, not yours;
- write the layers yourself: nothing from ``torch.nn`` (nor ``torch.relu``, ``torch.dropout``
  and their aliases), and no ``torch.autograd``, ``.backward()``, ``requires_grad`` or
  ``torch.func``: the gradients are yours to derive (the notebook checks them numerically),
  in torch (the inputs or weights taken out whole as Python or numpy numbers and the gradient
  made a tensor again from them is a gradient computed outside torch: it earns nothing);
- leave the grader's tracing alone (``sys.settrace``, ``torch._C``, ``torch.ops``, frames);
- never modify the caller's tensors in place: ``ReLU.forward`` leaves ``x`` as it was, the
  update rules return a new ``next_w`` and leave ``w`` and ``dw`` alone. The given ``sgd``
  is the one exception, as in the course: it updates ``w`` in place and returns it.

Regularization covers the weights only (biases are never regularized) and follows the
template, which asks for two different conventions:
- ``TwoLayerNet``: no factor 1/2, ``loss += reg * (sum(W1 * W1) + sum(W2 * W2))``, so
  ``grads['W1']`` gains ``2 * reg * W1``; the notebook's expected loss relies on it;
- ``FullyConnectedNet``: a factor 1/2, ``loss += 0.5 * reg * sum over l of sum(Wl * Wl)``,
  so ``grads['Wl']`` gains ``reg * Wl``.

Dropout is inverted dropout and ``p`` is the probability of DROPPING a unit (not of keeping
it): in training, each unit is zeroed with probability p and the survivors are scaled by
1 / (1 - p), so the expected output equals the input; in testing, dropout is the identity.

The update rules take ``(w, dw, config)`` and return ``(next_w, config)``; ``config`` carries
the hyperparameters (defaults set by the given code: learning rate 1e-2, 1e-3 for Adam;
momentum 0.9; decay rate 0.99; beta1 0.9, beta2 0.999; epsilon 1e-8) and the rule's state
from one step to the next (``velocity``, ``cache``, ``m``, ``v``, ``t``). Adam's step
counter ``t`` starts at 0 and is incremented BEFORE it is used, so the first step uses t = 1.

Randomness comes from torch's global generator (the notebook seeds it before each
experiment); ``Dropout.forward`` reseeds it when ``dropout_param`` holds a ``seed``, as the
given code does, so a seeded network draws the same masks every time.
"""
import torch

from helpers.losses import softmax_loss
from helpers.solver import Solver


def hello_fully_connected_networks():
    """Print a greeting, to check that this file is the one your notebook imports."""
    print("Hello from fully_connected_networks.py!")


class Linear(object):

    @staticmethod
    def forward(x, w, b):
        """Linear (fully connected) layer: out = x @ w + b, with each sample read as one row.

        Inputs:
        - x: (N, d_1, ..., d_k) input, N samples of D = d_1 * ... * d_k numbers each.
        - w: (D, M) weights.
        - b: (M,) biases.

        Returns ``(out, cache)``: out (N, M), and cache the tuple ``(x, w, b)`` as given.
        """
        out = None
        # BEGIN SOLUTION: read x as N rows of D numbers and compute out = rows @ w + b
        rows = x.reshape(x.shape[0], -1)  # (N, D)
        out = rows.mm(w) + b  # (N, M)
        # END SOLUTION
        cache = (x, w, b)
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """Backward pass of the linear layer.

        Inputs:
        - dout: (N, M) gradient of the loss with respect to out.
        - cache: ``(x, w, b)`` from ``Linear.forward``: x (N, d_1, ..., d_k), w (D, M),
          b (M,).

        Returns ``(dx, dw, db)``: dx shaped like x (N, d_1, ..., d_k), dw (D, M), db (M,).
        """
        x, w, b = cache
        dx, dw, db = None, None, None
        # BEGIN SOLUTION: dx (shaped like x), dw and db
        rows = x.reshape(x.shape[0], -1)  # (N, D)
        dx = dout.mm(w.t()).reshape(x.shape)  # (N, d_1, ..., d_k)
        dw = rows.t().mm(dout)  # (D, M)
        db = dout.sum(dim=0)  # (M,), every sample's bias gradient adds up
        # END SOLUTION
        return dx, dw, db


class ReLU(object):

    @staticmethod
    def forward(x):
        """Rectified linear units, elementwise: out = max(0, x).

        Input:
        - x: a tensor of any shape; not modified (no in-place operation on it).

        Returns ``(out, cache)``: out shaped like x, and cache the input ``x``.
        """
        out = None
        # BEGIN SOLUTION: out = max(0, x) in a new tensor, x left as it was
        out = x.clamp(min=0)
        # END SOLUTION
        cache = x
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """Backward pass of the ReLU layer.

        Inputs:
        - dout: upstream gradient, of any shape.
        - cache: the input ``x`` of the forward pass, shaped like dout.

        Returns dx, shaped like dout: the upstream gradient where x > 0, zero elsewhere.
        """
        dx, x = None, cache
        # BEGIN SOLUTION: pass dout through where the input was positive
        dx = dout * (x > 0)
        # END SOLUTION
        return dx


class Linear_ReLU(object):

    @staticmethod
    def forward(x, w, b):
        """A linear layer followed by a ReLU (given code).

        Inputs:
        - x: the linear layer's input, (N, d_1, ..., d_k).
        - w, b: the linear layer's weights (D, M) and biases (M,).

        Returns ``(out, cache)``: the ReLU's output (N, M), and cache the pair
        ``(fc_cache, relu_cache)`` of the two layers' caches.
        """
        a, fc_cache = Linear.forward(x, w, b)
        out, relu_cache = ReLU.forward(a)
        cache = (fc_cache, relu_cache)
        return out, cache

    @staticmethod
    def backward(dout, cache):
        """Backward pass of the linear-ReLU layer (given code): ``(dx, dw, db)``."""
        fc_cache, relu_cache = cache
        da = ReLU.backward(dout, relu_cache)
        dx, dw, db = Linear.backward(da, fc_cache)
        return dx, dw, db


class TwoLayerNet(object):
    """linear - ReLU - linear - softmax, built from the layers above.

    Inputs have D dimensions, the hidden layer H units, and there are C classes. The model
    only computes the loss and its gradients; a ``Solver`` does the training. Parameters live
    in ``self.params``: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    """

    def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0,
                 dtype=torch.float32, device='cpu'):
        """Create the network's parameters.

        Inputs:
        - input_dim: D, the size of one input.
        - hidden_dim: H, the size of the hidden layer.
        - num_classes: C, the number of classes.
        - weight_scale: standard deviation of the weights' random initialization.
        - reg: strength of the L2 regularization.
        - dtype: the torch dtype of every parameter (float64 for numeric gradient checks).
        - device: where the parameters live, 'cpu' or 'cuda'.

        Weights are drawn from a normal distribution with mean 0 and standard deviation
        weight_scale, biases start at zero; all four are stored in ``self.params`` under
        'W1', 'b1', 'W2', 'b2', with the given dtype and device.
        """
        self.params = {}
        self.reg = reg

        # BEGIN SOLUTION: initialize W1, b1, W2, b2 in self.params
        self.params['W1'] = weight_scale * torch.randn(input_dim, hidden_dim, dtype=dtype, device=device)
        self.params['b1'] = torch.zeros(hidden_dim, dtype=dtype, device=device)
        self.params['W2'] = weight_scale * torch.randn(hidden_dim, num_classes, dtype=dtype, device=device)
        self.params['b2'] = torch.zeros(num_classes, dtype=dtype, device=device)
        # END SOLUTION

    def save(self, path):
        """Write ``reg`` and the parameters to ``path`` (given code)."""
        checkpoint = {
            'reg': self.reg,
            'params': self.params,
        }
        torch.save(checkpoint, path)

    def load(self, path, dtype, device):
        """Read a checkpoint written by ``save`` and move the parameters to ``dtype`` and
        ``device`` (given code). Raises ``ValueError`` when ``path`` holds something else."""
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
        if not isinstance(checkpoint, dict) or not {'reg', 'params'} <= set(checkpoint):
            found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise ValueError(f"{path} is not a TwoLayerNet checkpoint: expected the keys 'reg' and "
                             f"'params' (as written by save()), found {found}")
        self.params = checkpoint['params']
        self.reg = checkpoint['reg']
        for p in self.params:
            self.params[p] = self.params[p].to(dtype=dtype, device=device)

    def loss(self, X, y=None):
        """Scores, or the loss and its gradients, for a minibatch.

        Inputs:
        - X: (N, d_1, ..., d_k) input data.
        - y: (N,) int64 labels, y[i] the class of X[i]; or None.

        Returns, when y is None (a test-time forward pass), the scores (N, C), scores[i, c]
        being the score of X[i] for class c. Otherwise ``(loss, grads)``: the softmax loss
        plus ``reg * (sum(W1 * W1) + sum(W2 * W2))`` (no factor 1/2), and ``grads`` a dict
        with the keys of ``self.params``, ``grads[k]`` the gradient of the loss with respect
        to ``self.params[k]``.
        """
        scores = None
        # BEGIN SOLUTION: forward pass, linear - ReLU - linear, giving the scores
        hidden, hidden_cache = Linear_ReLU.forward(X, self.params['W1'], self.params['b1'])  # (N, H)
        scores, scores_cache = Linear.forward(hidden, self.params['W2'], self.params['b2'])  # (N, C)
        # END SOLUTION

        # At test time (no labels) the scores are all the caller wants.
        if y is None:
            return scores

        loss, grads = 0, {}
        # BEGIN SOLUTION: softmax loss plus regularization (no 1/2), and the backward pass into grads
        W1, W2 = self.params['W1'], self.params['W2']
        loss, dscores = softmax_loss(scores, y)
        loss = loss + self.reg * ((W1 * W1).sum() + (W2 * W2).sum())
        dhidden, dW2, db2 = Linear.backward(dscores, scores_cache)
        _, dW1, db1 = Linear_ReLU.backward(dhidden, hidden_cache)
        grads['W1'] = dW1 + 2 * self.reg * W1
        grads['b1'] = db1
        grads['W2'] = dW2 + 2 * self.reg * W2
        grads['b2'] = db2
        # END SOLUTION

        return loss, grads


class FullyConnectedNet(object):
    """A fully connected network of any depth with ReLUs, optional dropout and a softmax loss.

    With L layers the architecture is

        {linear - ReLU - [dropout]} x (L - 1) - linear - softmax

    where the dropout layers are there only when ``dropout`` is not 0. As in ``TwoLayerNet``,
    the parameters live in ``self.params`` (W1, b1, ..., WL, bL) and a ``Solver`` trains them.
    """

    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
                 dropout=0.0, reg=0.0, weight_scale=1e-2, seed=None,
                 dtype=torch.float, device='cpu'):
        """Create the network's parameters.

        Inputs:
        - hidden_dims: a list of integers, the size of each hidden layer (L - 1 of them).
        - input_dim: D, the size of one input.
        - num_classes: C, the number of classes.
        - dropout: the probability, between 0 and 1, that a dropout layer DROPS a unit;
          0 means no dropout layers at all.
        - reg: strength of the L2 regularization.
        - weight_scale: standard deviation of the weights' random initialization.
        - seed: if not None, passed to the dropout layers so that they draw the same masks
          every time (what a gradient check of the whole model needs).
        - dtype: the torch dtype of every parameter (float64 for numeric gradient checks).
        - device: where the parameters live, 'cpu' or 'cuda'.

        Layer l (1 to L) has weights 'Wl' of shape (size of its input, size of its output),
        drawn from a normal distribution with mean 0 and standard deviation weight_scale, and
        biases 'bl' starting at zero, all in ``self.params`` with the given dtype and device.
        """
        self.use_dropout = dropout != 0
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # BEGIN SOLUTION: initialize W1, b1, ..., WL, bL in self.params
        sizes = [input_dim, *hidden_dims, num_classes]
        for layer in range(1, self.num_layers + 1):
            fan_in, fan_out = sizes[layer - 1], sizes[layer]
            self.params[f'W{layer}'] = weight_scale * torch.randn(fan_in, fan_out, dtype=dtype, device=device)
            self.params[f'b{layer}'] = torch.zeros(fan_out, dtype=dtype, device=device)
        # END SOLUTION

        # Every dropout layer receives this same dict: it says the drop probability, the mode
        # (train or test) and, when given, the seed.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': dropout}
            if seed is not None:
                self.dropout_param['seed'] = seed

    def save(self, path):
        """Write the network's settings and parameters to ``path`` (given code)."""
        checkpoint = {
            'reg': self.reg,
            'dtype': self.dtype,
            'params': self.params,
            'num_layers': self.num_layers,
            'use_dropout': self.use_dropout,
            'dropout_param': self.dropout_param,
        }
        torch.save(checkpoint, path)

    def load(self, path, dtype, device):
        """Read a checkpoint written by ``save`` and move the parameters to ``dtype`` and
        ``device`` (given code). Raises ``ValueError`` when ``path`` holds something else."""
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
        expected = {'reg', 'params', 'num_layers', 'use_dropout', 'dropout_param'}
        if not isinstance(checkpoint, dict) or not expected <= set(checkpoint):
            found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise ValueError(f"{path} is not a FullyConnectedNet checkpoint: expected the keys "
                             f"{sorted(expected)} (as written by save()), found {found}")
        self.params = checkpoint['params']
        self.dtype = dtype
        self.reg = checkpoint['reg']
        self.num_layers = checkpoint['num_layers']
        self.use_dropout = checkpoint['use_dropout']
        self.dropout_param = checkpoint['dropout_param']
        for p in self.params:
            self.params[p] = self.params[p].to(dtype=dtype, device=device)

    def loss(self, X, y=None):
        """Scores, or the loss and its gradients, for a minibatch: the same inputs and
        outputs as ``TwoLayerNet.loss``, with the regularization
        ``0.5 * reg * sum over l of sum(Wl * Wl)`` (a factor 1/2, weights only).

        Dropout layers run in 'train' mode when y is given and in 'test' mode when y is None.
        """
        X = X.to(self.dtype)
        mode = 'test' if y is None else 'train'

        # Dropout behaves differently in training and testing: tell its layers which.
        if self.use_dropout:
            self.dropout_param['mode'] = mode
        scores = None
        # BEGIN SOLUTION: forward pass through the L layers (dropout after each ReLU when used), giving the scores
        caches = []  # one (linear-ReLU cache, dropout cache or None) per hidden layer
        hidden = X
        for layer in range(1, self.num_layers):
            hidden, layer_cache = Linear_ReLU.forward(hidden, self.params[f'W{layer}'], self.params[f'b{layer}'])
            dropout_cache = None
            if self.use_dropout:
                hidden, dropout_cache = Dropout.forward(hidden, self.dropout_param)
            caches.append((layer_cache, dropout_cache))
        last = self.num_layers
        scores, scores_cache = Linear.forward(hidden, self.params[f'W{last}'], self.params[f'b{last}'])  # (N, C)
        # END SOLUTION

        # At test time (no labels) the scores are all the caller wants.
        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        # BEGIN SOLUTION: softmax loss plus regularization (with 1/2), and the backward pass into grads
        loss, dscores = softmax_loss(scores, y)
        for layer in range(1, self.num_layers + 1):
            W = self.params[f'W{layer}']
            loss = loss + 0.5 * self.reg * (W * W).sum()
        dhidden, dW, db = Linear.backward(dscores, scores_cache)
        grads[f'W{last}'] = dW + self.reg * self.params[f'W{last}']
        grads[f'b{last}'] = db
        for layer in range(self.num_layers - 1, 0, -1):
            layer_cache, dropout_cache = caches[layer - 1]
            if self.use_dropout:
                dhidden = Dropout.backward(dhidden, dropout_cache)
            dhidden, dW, db = Linear_ReLU.backward(dhidden, layer_cache)
            grads[f'W{layer}'] = dW + self.reg * self.params[f'W{layer}']
            grads[f'b{layer}'] = db
        # END SOLUTION

        return loss, grads


def create_solver_instance(data_dict, dtype, device):
    """A ``Solver`` for a ``TwoLayerNet`` of 200 hidden units (given) on ``data_dict``.

    ``data_dict`` holds 'X_train', 'y_train', 'X_val', 'y_val'. Choose the Solver's settings
    (update rule, learning rate, decay, batch size, epochs) so that ``solver.train()`` reaches
    at least 50% validation accuracy on CIFAR-10. Return the Solver, not trained yet.
    """
    model = TwoLayerNet(hidden_dim=200, dtype=dtype, device=device)
    solver = None
    # BEGIN SOLUTION: a Solver for model on data_dict that reaches 50% validation accuracy
    solver = Solver(model, data_dict,
                    update_rule=sgd,
                    optim_config={'learning_rate': 1e-1},
                    lr_decay=0.95,
                    num_epochs=20,
                    batch_size=100,
                    print_every=1000,
                    device=device)
    # END SOLUTION
    return solver


def get_three_layer_network_params():
    """``(weight_scale, learning_rate)`` with which a three-layer net (two hidden layers of
    100 units) trained with SGD reaches 100% training accuracy on 50 samples within 20
    epochs."""
    weight_scale = 1e-2   # Experiment with this!
    learning_rate = 1e-4  # Experiment with this!
    # BEGIN SOLUTION: set weight_scale and learning_rate
    weight_scale = 1e-1
    learning_rate = 1e-1
    # END SOLUTION
    return weight_scale, learning_rate


def get_five_layer_network_params():
    """``(weight_scale, learning_rate)`` with which a five-layer net (four hidden layers of
    100 units) trained with SGD reaches 100% training accuracy on 50 samples within 20
    epochs."""
    learning_rate = 2e-3  # Experiment with this!
    weight_scale = 1e-5   # Experiment with this!
    # BEGIN SOLUTION: set weight_scale and learning_rate
    learning_rate = 2e-1
    weight_scale = 1e-1
    # END SOLUTION
    return weight_scale, learning_rate


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent (given code): ``w -= learning_rate * dw``, in place.

    config:
    - learning_rate: the step size (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)

    w -= config['learning_rate'] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    config:
    - learning_rate: the step size (default 1e-2).
    - momentum: between 0 and 1 (default 0.9); 0 is plain SGD.
    - velocity: a tensor shaped like w and dw, the running velocity (zeros at first).

    The velocity decays by ``momentum`` and moves against the gradient:
    v = momentum * v - learning_rate * dw; then next_w = w + v.
    Returns ``(next_w, config)`` with ``config['velocity']`` the new velocity.
    """
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', torch.zeros_like(w))

    next_w = None
    # BEGIN SOLUTION: update the velocity v and compute next_w
    v = config['momentum'] * v - config['learning_rate'] * dw
    next_w = w + v
    # END SOLUTION
    config['velocity'] = v

    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: a per-parameter step size from a running average of squared gradients.

    config:
    - learning_rate: the step size (default 1e-2).
    - decay_rate: between 0 and 1 (default 0.99), how slowly the average forgets.
    - epsilon: a small number that keeps the division finite (default 1e-8).
    - cache: the running average of dw ** 2, shaped like w (zeros at first).

    cache = decay_rate * cache + (1 - decay_rate) * dw ** 2;
    next_w = w - learning_rate * dw / (sqrt(cache) + epsilon).
    Returns ``(next_w, config)`` with ``config['cache']`` the new average.
    """
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', torch.zeros_like(w))

    next_w = None
    # BEGIN SOLUTION: update config['cache'] and compute next_w
    decay = config['decay_rate']
    cache = decay * config['cache'] + (1 - decay) * dw * dw
    next_w = w - config['learning_rate'] * dw / (cache.sqrt() + config['epsilon'])
    config['cache'] = cache
    # END SOLUTION

    return next_w, config


def adam(w, dw, config=None):
    """Adam: running averages of the gradient and of its square, with bias correction.

    config:
    - learning_rate: the step size (default 1e-3).
    - beta1: decay of the running average of the gradient (default 0.9).
    - beta2: decay of the running average of the squared gradient (default 0.999).
    - epsilon: a small number that keeps the division finite (default 1e-8).
    - m: the running average of dw (zeros at first).
    - v: the running average of dw ** 2 (zeros at first).
    - t: the number of steps taken (0 at first).

    Increment t FIRST, then
    m = beta1 * m + (1 - beta1) * dw;  v = beta2 * v + (1 - beta2) * dw ** 2;
    next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon), with the bias-corrected
    m_hat = m / (1 - beta1 ** t) and v_hat = v / (1 - beta2 ** t).
    Returns ``(next_w, config)`` with the new m, v and t in config.
    """
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', torch.zeros_like(w))
    config.setdefault('v', torch.zeros_like(w))
    config.setdefault('t', 0)

    next_w = None
    # BEGIN SOLUTION: increment t, update m and v in config, and compute next_w with bias correction
    beta1, beta2 = config['beta1'], config['beta2']
    t = config['t'] + 1
    m = beta1 * config['m'] + (1 - beta1) * dw
    v = beta2 * config['v'] + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    next_w = w - config['learning_rate'] * m_hat / (v_hat.sqrt() + config['epsilon'])
    config['t'], config['m'], config['v'] = t, m, v
    # END SOLUTION

    return next_w, config


class Dropout(object):

    @staticmethod
    def forward(x, dropout_param):
        """Inverted dropout.

        Inputs:
        - x: input, a tensor of any shape.
        - dropout_param: a dict with
          - p: the probability of DROPPING each unit (not of keeping it);
          - mode: 'train' drops units, 'test' returns the input unchanged;
          - seed (optional): reseeds torch's generator first (given code), so that the same
            seed gives the same mask: what gradient checks need, never what training wants.

        In 'train' mode each unit is kept with probability 1 - p, and the kept units are
        divided by 1 - p (inverted dropout: the expected output equals x, and test time needs
        no rescaling). ``mask`` is the tensor the input was multiplied by: 0 for a dropped
        unit, 1 / (1 - p) for a kept one.

        Returns ``(out, cache)``: out shaped like x, and cache the pair
        ``(dropout_param, mask)``, mask being None in 'test' mode.
        """
        p, mode = dropout_param['p'], dropout_param['mode']
        if 'seed' in dropout_param:
            torch.manual_seed(dropout_param['seed'])

        mask = None
        out = None

        if mode == 'train':
            # BEGIN SOLUTION: draw the mask (kept units scaled by 1 / (1 - p)) and apply it
            keep = torch.rand_like(x) >= p  # each unit survives with probability 1 - p
            mask = torch.zeros_like(x).masked_fill(keep, 1.0 / (1.0 - p))
            out = x * mask
            # END SOLUTION
        elif mode == 'test':
            # BEGIN SOLUTION: the test-time forward pass of inverted dropout
            out = x
            # END SOLUTION

        cache = (dropout_param, mask)

        return out, cache

    @staticmethod
    def backward(dout, cache):
        """Backward pass of inverted dropout.

        Inputs:
        - dout: upstream gradient, of any shape.
        - cache: ``(dropout_param, mask)`` from ``Dropout.forward``.

        Returns dx, shaped like dout: in 'train' mode the gradient flows only through the
        units the forward pass kept, scaled as they were; in 'test' mode dx is dout.
        """
        dropout_param, mask = cache
        mode = dropout_param['mode']

        dx = None
        if mode == 'train':
            # BEGIN SOLUTION: the training-time backward pass, through the forward's mask
            dx = dout * mask
            # END SOLUTION
        elif mode == 'test':
            dx = dout
        return dx
