# %% [markdown]
# # Assignment 3, part 1: fully connected networks, better optimizers and dropout
#
# In Assignment 2 the two-layer net computed its loss and gradients in one function. Here every
# layer is a pair of functions: `forward(inputs) -> (out, cache)` and
# `backward(dout, cache) -> gradients of the inputs`. Layers snap together into networks of any
# depth, a `Solver` trains them with an update rule you choose, and dropout regularizes them.
# Your code goes in `a3/fully_connected_networks.py`; this notebook calls it and checks each
# piece right after you write it, twice: its own checks print a relative error or a yes/no
# (`ok` is right), then `grader.check("Linear.forward")` grades the piece with the course's
# public cases (a method is named `Class.method`) and tells you what is wrong and, often, why.

# %%
import os
import sys
from pathlib import Path

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
sys.path.insert(0, str(ROOT))

# %load_ext autoreload
# %autoreload 2
import math

import matplotlib.pyplot as plt
import torch

import grader
import helpers
from helpers import Solver, compute_numeric_gradient, rel_error, reset_seed
from a3 import fully_connected_networks as fcn

fcn.hello_fully_connected_networks()
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
print("running on", DEVICE)


def check(what, error, below):
    """One inline check: print a relative error and whether it is small enough."""
    verdict = "ok" if error < below else "TOO LARGE: look at this part again"
    print(f"{what}: relative error {error:.2e} (below {below:g} is right) {verdict}")


def check_that(what, condition):
    """One inline check of a yes/no property."""
    print(f"{what}: {'ok' if condition else 'WRONG: look at this part again'}")


def gradient_errors(model, X, y, h=1e-6):
    """The relative error of each gradient model.loss returns, against centred differences
    of the loss it returns."""
    _, grads = model.loss(X, y)
    f = lambda _: model.loss(X, y)[0]  # noqa: E731 (reads the parameter nudged in place)
    return {name: rel_error(compute_numeric_gradient(f, model.params[name], h=h), grads[name])
            for name in sorted(grads)}


# %% [markdown]
# ## Data switch
#
# **`OFFLINE = True` runs this whole notebook on small offline data**: scikit-learn's bundled
# handwritten digits (1797 real 8×8 images), blown up to CIFAR-10's shape (3×32×32, each pixel
# a 4×4 block in three equal channels), so the networks' default input size `3 * 32 * 32` takes
# them as it takes CIFAR-10. The experiments then run shorter; the course's accuracy targets
# refer to CIFAR-10. The two best models and the submission zip go to `OUTPUT_DIR` (made if
# missing).

# %%
OFFLINE = os.environ.get("A3_OFFLINE", "0") == "1"  # <- set to True to work offline
OUTPUT_DIR = Path(os.environ.get("A3_OUTPUT_DIR", ROOT))
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
UNIQUENAME, UMID = "yourname", "00000000"  # <- yours, for the submission zip

reset_seed(0)
if OFFLINE:
    data_dict = helpers.load_digits_data(cifar_shape=True, dtype=torch.float64, device=DEVICE)
else:
    data_dict = helpers.preprocess_cifar10(show_examples=False, dtype=torch.float64, device=DEVICE)
for name, tensor in data_dict.items():
    print(f"{name}: {tuple(tensor.shape)} {tensor.dtype}")

# %% [markdown]
# ## Linear layer
#
# `Linear.forward(x, w, b)` reads each of the N inputs $x_i$ of shape $(d_1, \dots, d_k)$ as a
# row of $D = d_1 \cdots d_k$ numbers and returns $\text{out} = x W + b$, of shape (N, M).
# Implement **`Linear.forward`**. The reference below is computed another way (an `einsum` over
# the unflattened input), so the two agree only if your reshaping keeps each input's numbers
# in order.

# %%
N, input_shape, M = 2, (4, 5, 6), 3
D = math.prod(input_shape)
x = torch.linspace(-0.1, 0.5, steps=N * D, dtype=torch.float64, device=DEVICE).reshape(N, *input_shape)
w = torch.linspace(-0.2, 0.3, steps=D * M, dtype=torch.float64, device=DEVICE).reshape(D, M)
b = torch.linspace(-0.3, 0.1, steps=M, dtype=torch.float64, device=DEVICE)

out, _ = fcn.Linear.forward(x, w, b)
expected = torch.einsum("nabc,abcm->nm", x, w.reshape(*input_shape, M)) + b  # (N, M)
print("out:", tuple(out.shape))
check("Linear.forward", rel_error(out, expected), 1e-7)
grader.check("Linear.forward")

# %% [markdown]
# Now **`Linear.backward`**: given $\partial L/\partial \text{out}$ (`dout`, shape (N, M)),
# return `dx` (the shape of `x`), `dw` (D, M) and `db` (M,). **Exercise:** derive the three
# gradients of $\text{out} = x W + b$ on paper first, from the shapes alone if you like (which
# product of `dout`, `x` and `w` has the shape of `dw`? what happens to `b`, added to every row?),
# and say how `dx` gets back the shape of the unflattened `x`. The check compares them with
# centred differences of your forward pass: `compute_numeric_gradient(f, x, dout)` is the
# gradient of $\sum \text{dout} \odot f(x)$.

# %%
reset_seed(0)
x = torch.randn(10, 2, 3, dtype=torch.float64, device=DEVICE)
w = torch.randn(6, 5, dtype=torch.float64, device=DEVICE)
b = torch.randn(5, dtype=torch.float64, device=DEVICE)
dout = torch.randn(10, 5, dtype=torch.float64, device=DEVICE)

dx_num = compute_numeric_gradient(lambda x: fcn.Linear.forward(x, w, b)[0], x, dout)
dw_num = compute_numeric_gradient(lambda w: fcn.Linear.forward(x, w, b)[0], w, dout)
db_num = compute_numeric_gradient(lambda b: fcn.Linear.forward(x, w, b)[0], b, dout)
_, cache = fcn.Linear.forward(x, w, b)
dx, dw, db = fcn.Linear.backward(dout, cache)
check_that("dx has the shape of x", dx.shape == x.shape)
check("Linear.backward dx", rel_error(dx_num, dx), 1e-7)
check("Linear.backward dw", rel_error(dw_num, dw), 1e-7)
check("Linear.backward db", rel_error(db_num, db), 1e-7)
grader.check("Linear.backward")

# %% [markdown]
# ## ReLU
#
# $\text{ReLU}(x) = \max(0, x)$ elementwise; its gradient passes `dout` through where the
# *input* was positive and blocks it elsewhere. Implement **`ReLU.forward`** and
# **`ReLU.backward`** without changing `x` in place. The reference is $(x + |x|)/2$.

# %%
x = torch.linspace(-0.5, 0.5, steps=12, dtype=torch.float64, device=DEVICE).reshape(3, 4)
x_before = x.clone()
out, _ = fcn.ReLU.forward(x)
check("ReLU.forward", rel_error(out, (x + x.abs()) / 2), 1e-7)
check_that("ReLU.forward leaves x as it was", torch.equal(x, x_before))

reset_seed(0)
x = torch.randn(10, 10, dtype=torch.float64, device=DEVICE)
dout = torch.randn(*x.shape, dtype=torch.float64, device=DEVICE)
dx_num = compute_numeric_gradient(lambda x: fcn.ReLU.forward(x)[0], x, dout)
_, cache = fcn.ReLU.forward(x)
check("ReLU.backward dx", rel_error(dx_num, fcn.ReLU.backward(dout, cache)), 1e-8)
grader.check(["ReLU.forward", "ReLU.backward"])

# %% [markdown]
# ## A "sandwich" layer: Linear then ReLU
#
# `Linear_ReLU` chains the two layers: its forward keeps both caches, its backward runs the
# two backwards in the opposite order. It is given; check that it agrees with your layers.

# %%
reset_seed(0)
x = torch.randn(2, 3, 4, dtype=torch.float64, device=DEVICE)
w = torch.randn(12, 10, dtype=torch.float64, device=DEVICE)
b = torch.randn(10, dtype=torch.float64, device=DEVICE)
dout = torch.randn(2, 10, dtype=torch.float64, device=DEVICE)

out, cache = fcn.Linear_ReLU.forward(x, w, b)
dx, dw, db = fcn.Linear_ReLU.backward(dout, cache)
for name, value, grad in (("dx", x, dx), ("dw", w, dw), ("db", b, db)):
    f = lambda _: fcn.Linear_ReLU.forward(x, w, b)[0]  # noqa: E731 (reads x, w, b nudged in place)
    check(f"Linear_ReLU.backward {name}", rel_error(compute_numeric_gradient(f, value, dout), grad), 1e-8)
grader.check("Linear_ReLU")  # the given code, kept as handed out, with your two layers

# %% [markdown]
# ## The loss layer
#
# The networks end with the softmax loss of Assignment 2, now as a layer on the scores:
# `softmax_loss(scores, y) -> (loss, dscores)`, given (the file imports it). With tiny random
# scores every class is about equally likely, so the loss is close to $\log C$.

# %%
reset_seed(0)
num_classes, num_inputs = 10, 50
x = 0.001 * torch.randn(num_inputs, num_classes, dtype=torch.float64, device=DEVICE)
y = torch.randint(num_classes, size=(num_inputs,), dtype=torch.int64, device=DEVICE)
loss, dx = fcn.softmax_loss(x, y)
dx_num = compute_numeric_gradient(lambda x: fcn.softmax_loss(x, y)[0], x)
print(f"softmax loss {loss.item():.4f}, log(10) = {math.log(10):.4f}")
check("softmax_loss dx", rel_error(dx_num, dx), 1e-6)

# %% [markdown]
# ## A two-layer network from the layers
#
# **`TwoLayerNet`** is linear → ReLU → linear → softmax. Implement its `__init__` (weights
# $\mathcal{N}(0, \text{weight\_scale}^2)$, biases zero) and **`loss`**: the scores when `y` is
# None, otherwise the loss plus $\lambda(\sum W_1^2 + \sum W_2^2)$ (no $\frac12$ here) and the
# gradients of every parameter. The references below are written out independently.

# %%
reset_seed(0)
N, D, H, C = 3, 5, 50, 7
std = 1e-3
model = fcn.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std,
                        dtype=torch.float64, device=DEVICE)
shapes = {k: tuple(v.shape) for k, v in model.params.items()}
check_that("parameter shapes", shapes == {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)})
check_that("weights drawn with std weight_scale",
           all(abs(model.params[k].std().item() - std) < std / 10 for k in ("W1", "W2")))
check_that("biases start at zero", all(torch.all(model.params[k] == 0).item() for k in ("b1", "b2")))

model.params["W1"] = torch.linspace(-0.7, 0.3, steps=D * H, dtype=torch.float64, device=DEVICE).reshape(D, H)
model.params["b1"] = torch.linspace(-0.1, 0.9, steps=H, dtype=torch.float64, device=DEVICE)
model.params["W2"] = torch.linspace(-0.3, 0.4, steps=H * C, dtype=torch.float64, device=DEVICE).reshape(H, C)
model.params["b2"] = torch.linspace(-0.9, 0.1, steps=C, dtype=torch.float64, device=DEVICE)
X = torch.linspace(-5.5, 4.5, steps=N * D, dtype=torch.float64, device=DEVICE).reshape(D, N).t()
y = torch.tensor([0, 5, 1], device=DEVICE)

p = model.params
hidden = torch.maximum(X @ p["W1"] + p["b1"], torch.zeros(H, dtype=torch.float64, device=DEVICE))
expected_scores = hidden @ p["W2"] + p["b2"]  # (N, C)
data_loss = (torch.logsumexp(expected_scores, dim=1) - expected_scores[torch.arange(N), y]).mean()
check("TwoLayerNet scores", rel_error(model.loss(X), expected_scores), 1e-7)
check("TwoLayerNet loss, reg = 0", rel_error(model.loss(X, y)[0], data_loss), 1e-10)
model.reg = 1.0
reg_loss = data_loss + (p["W1"] ** 2).sum() + (p["W2"] ** 2).sum()
check("TwoLayerNet loss, reg = 1", rel_error(model.loss(X, y)[0], reg_loss), 1e-10)

for reg in (0.0, 0.7):
    model.reg = reg
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731
        grad_num = compute_numeric_gradient(f, model.params[name], h=1e-6)
        check(f"reg = {reg}: grads[{name!r}]", rel_error(grad_num, grads[name]), 1e-6)
grader.check(["TwoLayerNet.__init__", "TwoLayerNet.loss"])

# %% [markdown]
# ## The Solver
#
# Training now lives outside the model. A `Solver` takes a model (anything with a `params`
# dict and a `loss(X, y=None)` method) and the data, draws minibatches, applies an update rule
# to every parameter, decays the learning rate after each epoch, records the loss of every
# iteration and the train and validation accuracies of every epoch, and at the end puts back
# the parameters that did best on the validation set. Read its documentation:

# %%
help(Solver)

# %% [markdown]
# Implement **`create_solver_instance`**: a `Solver` for a `TwoLayerNet` of 200 hidden units
# whose training reaches at least 50% validation accuracy on CIFAR-10. Pass the `device` on.

# %%
reset_seed(0)
solver = fcn.create_solver_instance(data_dict=data_dict, dtype=torch.float64, device=DEVICE)
solver.train()
check_that(f"best validation accuracy {solver.best_val_acc:.3f} reaches 50%", solver.best_val_acc >= 0.5)
grader.check("create_solver_instance")

# %%
fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(10, 8))
ax_loss.plot(solver.loss_history, "o", markersize=3)
ax_loss.set(title="Training loss", xlabel="Iteration")
ax_acc.plot(solver.train_acc_history, "-o", label="train")
ax_acc.plot(solver.val_acc_history, "-o", label="val")
ax_acc.axhline(0.5, color="k", linestyle="--")
ax_acc.set(title="Accuracy", xlabel="Epoch")
ax_acc.legend(loc="lower right")
plt.show()

# %% [markdown]
# Save the model, load it into a fresh solver's network and check that the validation
# accuracy is the one it was saved with.

# %%
path = OUTPUT_DIR / "best_two_layer_net.pth"
solver.model.save(path)
saved_acc = solver.check_accuracy(solver.X_val, solver.y_val)

reset_seed(0)
solver = fcn.create_solver_instance(data_dict=data_dict, dtype=torch.float64, device=DEVICE)
solver.model.load(path, dtype=torch.float64, device=DEVICE)
accuracy = solver.check_accuracy(solver.X_val, solver.y_val)
print(f"saved to {path.name}; its validation accuracy {accuracy:.3f}")
check_that("the loaded model scores as the saved one", accuracy == saved_acc)

# %% [markdown]
# ## Networks of any depth
#
# **`FullyConnectedNet`**`(hidden_dims, ...)` stacks $L - 1$ linear → ReLU layers and a last
# linear layer. Implement its `__init__` and `loss` (leave dropout for later). Its
# regularization has a $\frac12$: $\frac{\lambda}{2}\sum_l \sum W_l^2$. The gradient check
# below runs at several depths, with and without regularization (steps $h = 10^{-6}$: the
# small weights make the loss flat, and smaller steps drown in rounding); the initial loss
# should be near $\log C$. The grader's `FullyConnectedNet.loss` cases include networks with
# dropout: those pass once you add dropout at the end of this notebook, where it checks again.

# %%
reset_seed(0)
N, D, C = 2, 10, 5
X = torch.randn(N, D, dtype=torch.float64, device=DEVICE)
y = torch.randint(C, size=(N,), dtype=torch.int64, device=DEVICE)
for hidden_dims in ([8], [8, 6], [6, 5, 4]):
    for reg in (0.0, 3.14):
        model = fcn.FullyConnectedNet(hidden_dims, input_dim=D, num_classes=C, reg=reg,
                                      weight_scale=5e-2, dtype=torch.float64, device=DEVICE)
        check_that(f"{len(hidden_dims) + 1} layers: {2 * len(hidden_dims) + 2} parameters",
                   len(model.params) == 2 * len(hidden_dims) + 2)
        loss, _ = model.loss(X, y)
        print(f"depth {len(hidden_dims) + 1}, reg {reg}: initial loss {loss.item():.4f} "
              f"(log C = {math.log(C):.4f})")
        errors = gradient_errors(model, X, y)
        check(f"  the worst of the {len(errors)} gradients", max(errors.values()), 1e-5)
grader.check(["FullyConnectedNet.__init__", "FullyConnectedNet.loss"])

# %% [markdown]
# ### Overfitting 50 images
#
# A network that trains well should learn 50 images by heart. Find a **weight scale and a
# learning rate** with which a three-layer net (two hidden layers of 100) reaches 100% training
# accuracy within 20 epochs, and return them from **`get_three_layer_network_params`**.

# %%
reset_seed(0)
num_train = 50
small_data = {
    "X_train": data_dict["X_train"][:num_train], "y_train": data_dict["y_train"][:num_train],
    "X_val": data_dict["X_val"], "y_val": data_dict["y_val"],
}
weight_scale, learning_rate = fcn.get_three_layer_network_params()
model = fcn.FullyConnectedNet([100, 100], weight_scale=weight_scale, dtype=torch.float32, device=DEVICE)
solver = Solver(model, small_data, print_every=10, num_epochs=20, batch_size=25,
                optim_config={"learning_rate": learning_rate}, device=DEVICE)
solver.train()
check_that("three layers: 100% training accuracy", max(solver.train_acc_history) == 1.0)
plt.plot(solver.loss_history, "o")
plt.title("Three layers, 50 images: training loss")
plt.xlabel("Iteration")
plt.show()

# %% [markdown]
# Now five layers (four hidden layers of 100): deeper nets are more sensitive to the
# initialization scale. Fill in **`get_five_layer_network_params`**. This run keeps the last
# parameters (`return_best_params=False`), which are the ones saved.

# %%
reset_seed(0)
weight_scale, learning_rate = fcn.get_five_layer_network_params()
model = fcn.FullyConnectedNet([100, 100, 100, 100], weight_scale=weight_scale, dtype=torch.float32,
                              device=DEVICE)
solver = Solver(model, small_data, print_every=10, num_epochs=20, batch_size=25,
                optim_config={"learning_rate": learning_rate}, device=DEVICE)
solver.train(return_best_params=False)
plt.plot(solver.loss_history, "o")
plt.title("Five layers, 50 images: training loss")
plt.xlabel("Iteration")
plt.show()

path = OUTPUT_DIR / "best_overfit_five_layer_net.pth"
solver.model.save(path)
model = fcn.FullyConnectedNet([100], dtype=torch.float32, device=DEVICE)  # load() brings the depth
model.load(path, dtype=torch.float32, device=DEVICE)
solver = Solver(model, small_data, verbose=False, device=DEVICE)
accuracy = solver.check_accuracy(small_data["X_train"], small_data["y_train"])
print(f"saved to {path.name}; its accuracy on the 50 images {accuracy:.3f}")
check_that("five layers: the saved model has 100% training accuracy", accuracy == 1.0)
# The grader runs both searches' parameters on CIFAR-10's first 50 training images: without
# CIFAR-10 on this machine they show as not graded.
grader.check(["get_three_layer_network_params", "get_five_layer_network_params"])

# %% [markdown]
# ## Update rules
#
# Each rule has the signature `rule(w, dw, config) -> (next_w, config)`; `config` holds the
# hyperparameters and the rule's state between steps (the Solver keeps one per parameter).
# With learning rate $\eta$:
#
# * **SGD with momentum** ($\mu = 0.9$): $v \leftarrow \mu v - \eta\, dw$, then $w \leftarrow w + v$.
# * **RMSProp** (decay $\rho = 0.99$): $c \leftarrow \rho c + (1 - \rho)\, dw^2$, then
#   $w \leftarrow w - \eta\, dw / (\sqrt{c} + \epsilon)$.
# * **Adam** ($\beta_1 = 0.9, \beta_2 = 0.999$): $t \leftarrow t + 1$ first, then
#   $m \leftarrow \beta_1 m + (1 - \beta_1) dw$, $v \leftarrow \beta_2 v + (1 - \beta_2) dw^2$,
#   $\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$,
#   $w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$, with $\epsilon = 10^{-8}$.
#
# Implement **`sgd_momentum`**, **`rmsprop`** and **`adam`**. The references below apply these
# formulas one number at a time in plain Python (`math`), for two steps in a row, so the
# state you keep in `config` is checked too.

# %%
def elementwise(formula, *tensors):
    """Apply a formula of Python floats to each position of equally shaped tensors; one tensor
    per value the formula returns."""
    columns = zip(*(t.flatten().tolist() for t in tensors))
    results = list(zip(*(formula(*values) for values in columns)))
    return [torch.tensor(r, dtype=torch.float64, device=DEVICE).reshape(tensors[0].shape) for r in results]


N, D = 4, 5


def grid(lo, hi):
    return torch.linspace(lo, hi, steps=N * D, dtype=torch.float64, device=DEVICE).reshape(N, D)


w, dw = grid(-0.4, 0.6), grid(-0.6, 0.4)
rate, eps = 1e-2, 1e-8


def momentum_by_hand(w, dw, v, mu=0.9):
    v = mu * v - rate * dw
    return w + v, v


def rmsprop_by_hand(w, dw, c, rho=0.99):
    c = rho * c + (1 - rho) * dw * dw
    return w - rate * dw / (math.sqrt(c) + eps), c


def adam_by_hand(w, dw, m, v, t, b1=0.9, b2=0.999):
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw * dw
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return w - rate * m_hat / (math.sqrt(v_hat) + eps), m, v


config = {"learning_rate": rate, "velocity": grid(0.6, 0.9)}
ref_w, ref_v = w, config["velocity"]
for step in (1, 2):
    ref_w, ref_v = elementwise(momentum_by_hand, ref_w, dw, ref_v)
    next_w, config = fcn.sgd_momentum(w if step == 1 else next_w, dw, config)
    check(f"sgd_momentum step {step}: next_w", rel_error(next_w, ref_w), 1e-7)
    check(f"sgd_momentum step {step}: velocity", rel_error(config["velocity"], ref_v), 1e-7)

config = {"learning_rate": rate, "cache": grid(0.6, 0.9)}
ref_w, ref_c = w, config["cache"]
for step in (1, 2):
    ref_w, ref_c = elementwise(rmsprop_by_hand, ref_w, dw, ref_c)
    next_w, config = fcn.rmsprop(w if step == 1 else next_w, dw, config)
    check(f"rmsprop step {step}: next_w", rel_error(next_w, ref_w), 1e-7)
    check(f"rmsprop step {step}: cache", rel_error(config["cache"], ref_c), 1e-7)

config = {"learning_rate": rate, "m": grid(0.6, 0.9), "v": grid(0.7, 0.5), "t": 5}
ref_w, ref_m, ref_v = w, config["m"], config["v"]
for step in (1, 2):
    t = 5 + step  # t is incremented before it is used
    ref_w, ref_m, ref_v = elementwise(lambda *a: adam_by_hand(*a, t=t), ref_w, dw, ref_m, ref_v)
    next_w, config = fcn.adam(w if step == 1 else next_w, dw, config)
    check(f"adam step {step}: next_w", rel_error(next_w, ref_w), 1e-7)
    check(f"adam step {step}: m", rel_error(config["m"], ref_m), 1e-8)
    check(f"adam step {step}: v", rel_error(config["v"], ref_v), 1e-8)
    check_that(f"adam step {step}: t = {t}", config["t"] == t)
grader.check(["sgd_momentum", "rmsprop", "adam"])

# %% [markdown]
# ### Comparing the rules
#
# A six-layer network trained for 5 epochs with each rule. Momentum should pull ahead of plain
# SGD; Adam and RMSProp, with per-parameter step sizes, should get further still.

# %%
num_train = 500 if OFFLINE else 4000
small_data = {
    "X_train": data_dict["X_train"][:num_train], "y_train": data_dict["y_train"][:num_train],
    "X_val": data_dict["X_val"], "y_val": data_dict["y_val"],
}
solvers = {}
for rule, learning_rate in ((fcn.sgd, 5e-2), (fcn.sgd_momentum, 5e-2), (fcn.rmsprop, 1e-4), (fcn.adam, 1e-3)):
    print("running with", rule.__name__)
    reset_seed(0)
    model = fcn.FullyConnectedNet([100] * 5, weight_scale=5e-2, dtype=torch.float32, device=DEVICE)
    solver = Solver(model, small_data, num_epochs=5, batch_size=100, update_rule=rule,
                    optim_config={"learning_rate": learning_rate}, print_every=1000, device=DEVICE)
    solver.train()
    solvers[rule.__name__] = solver

fig, axes = plt.subplots(3, 1, figsize=(10, 14))
for name, solver in solvers.items():
    axes[0].plot(solver.loss_history, "o", markersize=3, label=name)
    axes[1].plot(solver.train_acc_history, "-o", label=name)
    axes[2].plot(solver.val_acc_history, "-o", label=name)
for ax, title, xlabel in zip(axes, ("Training loss", "Training accuracy", "Validation accuracy"),
                             ("Iteration", "Epoch", "Epoch")):
    ax.set(title=title, xlabel=xlabel)
    ax.legend(loc="best", ncol=4)
plt.show()
check_that("adam ends with a lower training loss than plain SGD",
           solvers["adam"].loss_history[-1] < solvers["sgd"].loss_history[-1])

# %% [markdown]
# ## Dropout
#
# Dropout zeroes each unit with probability $p$ during training. We use *inverted* dropout: the
# units that survive are multiplied by $1/(1 - p)$, so the expected output equals the input
# and nothing needs rescaling at test time, where dropout does nothing. Implement
# **`Dropout.forward`** for both modes: the fraction of zeros should be close to $p$ in
# training and 0 in testing, and the mean should not move.

# %%
reset_seed(0)
x = torch.randn(500, 500, dtype=torch.float64, device=DEVICE) + 10
for p in (0.25, 0.4, 0.7):
    out, _ = fcn.Dropout.forward(x, {"mode": "train", "p": p})
    out_test, _ = fcn.Dropout.forward(x, {"mode": "test", "p": p})
    zeros = (out == 0).double().mean().item()
    print(f"p = {p}: input mean {x.mean().item():.4f}, train-time mean {out.mean().item():.4f}, "
          f"test-time mean {out_test.mean().item():.4f}, zeros {zeros:.4f}")
    check_that(f"  p = {p}: about p of the units dropped in training", abs(zeros - p) < 0.01)
    check_that(f"  p = {p}: the mean kept (survivors scaled by 1/(1-p))",
               abs(out.mean().item() - x.mean().item()) < 0.01 * x.mean().item())
    check_that(f"  p = {p}: nothing changes at test time", torch.equal(out_test, x))
grader.check("Dropout.forward")

# %% [markdown]
# **`Dropout.backward`** passes the gradient through the units the forward pass kept, with the
# same scaling: it must reuse the mask in the cache. **Exercise:** write $\text{out}$ as $x$ times
# a constant mask $m$ (entries $0$ or $1/(1-p)$) and derive $\partial L/\partial x$ from
# $\partial L/\partial \text{out}$; why would a fresh mask in the backward pass be wrong? The
# check fixes the seed so that every
# call of the forward pass drops the same units.

# %%
reset_seed(0)
x = torch.randn(10, 10, dtype=torch.float64, device=DEVICE) + 10
dout = torch.randn_like(x)
dropout_param = {"mode": "train", "p": 0.2, "seed": 0}
out, cache = fcn.Dropout.forward(x, dropout_param)
dx = fcn.Dropout.backward(dout, cache)
dx_num = compute_numeric_gradient(lambda xx: fcn.Dropout.forward(xx, dropout_param)[0], x, dout)
check("Dropout.backward dx", rel_error(dx, dx_num), 1e-8)
grader.check("Dropout.backward")

# %% [markdown]
# ### Networks with dropout
#
# When `dropout` is not 0, `FullyConnectedNet` puts a dropout layer after every ReLU (training
# mode when `loss` gets labels, test mode when it does not). Add it to your network; with a
# fixed `seed` the masks repeat, so the whole network can be gradient-checked.

# %%
reset_seed(0)
N, D, H1, H2, C = 2, 10, 8, 6, 5
X = torch.randn(N, D, dtype=torch.float64, device=DEVICE)
y = torch.randint(C, size=(N,), dtype=torch.int64, device=DEVICE)
for dropout in (0.25, 0.5):
    model = fcn.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                                  dropout=dropout, seed=0, dtype=torch.float64, device=DEVICE)
    loss, _ = model.loss(X, y)
    print(f"dropout {dropout}: initial loss {loss.item():.4f}")
    errors = gradient_errors(model, X, y)
    check(f"  dropout {dropout}: the worst of the {len(errors)} gradients", max(errors.values()), 1e-5)
    scores_a, scores_b = model.loss(X), model.loss(X)
    check_that(f"  dropout {dropout}: test-time scores are deterministic", torch.equal(scores_a, scores_b))
grader.check("FullyConnectedNet.loss")  # its dropout cases too, now

# %% [markdown]
# ### Dropout as a regularizer
#
# Three two-layer networks: 256 hidden units, 512 units, and 512 units with dropout 0.5. On
# CIFAR-10 the one with dropout fits the training set less but generalizes better, even
# better than the smaller network: a bigger model with explicit regularization usually beats a
# smaller one. (The offline digits are easy enough that all three may end close together.)

# %%
num_train = 500 if OFFLINE else 20000
num_epochs = 10 if OFFLINE else 100
small_data = {
    "X_train": data_dict["X_train"][:num_train], "y_train": data_dict["y_train"][:num_train],
    "X_val": data_dict["X_val"], "y_val": data_dict["y_val"],
}
solvers = {}
for dropout, width in ((0, 256), (0, 512), (0.5, 512)):
    print(f"training a model with dropout={dropout:.2f} and width={width}")
    reset_seed(0)
    model = fcn.FullyConnectedNet([width], dropout=dropout, dtype=torch.float32, device=DEVICE)
    solver = Solver(model, small_data, num_epochs=num_epochs, batch_size=128 if OFFLINE else 512,
                    update_rule=fcn.adam, optim_config={"learning_rate": 5e-3},
                    print_every=100000, print_acc_every=5 if OFFLINE else 10, device=DEVICE)
    solver.train()
    solvers[(dropout, width)] = solver

fig, (ax_train, ax_val) = plt.subplots(2, 1, figsize=(10, 10))
for (dropout, width), solver in solvers.items():
    label = f"dropout={dropout:.2f}, width={width}"
    ax_train.plot(solver.train_acc_history, "o-", label=label)
    ax_val.plot(solver.val_acc_history, "o-", label=label)
ax_train.set(title="Training accuracy", xlabel="Epoch", ylabel="Accuracy")
ax_val.set(title="Validation accuracy", xlabel="Epoch", ylabel="Accuracy")
ax_train.legend(loc="lower right")
ax_val.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## Everything at once, then what to hand in
#
# The full check (the search parameters and the two best models need CIFAR-10 on this
# machine), then the zip: `a3/fully_connected_networks.py`, this notebook, and the two models it
# saved in `OUTPUT_DIR` (each file is checked before it goes in):

# %%
report = grader.check(assignment="a3")
report

# %%
zip_path = helpers.make_a3_submission(ROOT, UNIQUENAME, UMID, checkpoint_dir=OUTPUT_DIR, out_dir=OUTPUT_DIR)
print(f"submit {zip_path}")
