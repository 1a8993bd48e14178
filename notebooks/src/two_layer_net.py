# %% [markdown]
# # Assignment 2, part 2: a two-layer neural network
#
# FC → ReLU → FC → softmax, written by hand: forward pass, backward pass, SGD training and a
# hyperparameter search. Your code goes in `a2/two_layer_net.py`.

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
from a2 import two_layer_net as tln

tln.hello_two_layer_net()

# %% [markdown]
# ## Data switch
#
# **`OFFLINE = True` runs this whole notebook on small offline data** (scikit-learn's digits)
# instead of CIFAR-10. Checkpoints and the submission zip go to `OUTPUT_DIR` (made if missing).

# %%
OFFLINE = os.environ.get("A2_OFFLINE", "0") == "1"  # <- set to True to work offline
OUTPUT_DIR = Path(os.environ.get("A2_OUTPUT_DIR", ROOT))
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
UNIQUENAME, UMID = "yourname", "00000000"  # <- yours, for the submission zip

# %% [markdown]
# ## Forward pass
#
# $h = \max(0, X W_1 + b_1)$, $s = h W_2 + b_2$. Write the ReLU yourself (no `torch.relu`,
# nothing from `torch.nn`). Implement **`nn_forward_pass`** and check it on the toy data.

# %%
toy_X, toy_y, params = helpers.get_toy_data(dtype=torch.float64)
scores, hidden = tln.nn_forward_pass(params, toy_X)
print("scores:", scores.shape, "hidden:", hidden.shape)
grader.check("nn_forward_pass")

# %% [markdown]
# ## Loss and backward pass
#
# The loss is the softmax loss averaged over the batch plus $\lambda(\sum W_1^2 + \sum W_2^2)$
# (biases are not regularized). **Exercise:** derive the gradient of the loss with respect to
# $W_1, b_1, W_2, b_2$ by the chain rule, layer by layer from the scores back to the input: through
# the softmax, the second layer, the ReLU (what does it pass back where its input was negative?)
# and the first layer. Then implement **`nn_forward_backward`**. The numeric gradient check below
# is your own test of the derivation: each relative error should be below 1e-4.

# %% [markdown] instructor
# *Worked derivation (instructor's copy only; `release` leaves this cell out).* With
# $\delta = (p - \mathbb{1}_y)/N$: $\nabla W_2 = h^\top \delta + 2\lambda W_2$,
# $\nabla b_2 = \sum_i \delta_i$, $\delta_h = \delta W_2^\top \odot [h > 0]$,
# $\nabla W_1 = X^\top \delta_h + 2\lambda W_1$, $\nabla b_1 = \sum_i \delta_{h,i}$.

# %%
loss, grads = tln.nn_forward_backward(params, toy_X, toy_y, reg=0.05)
print(f"toy loss {loss.item():.6f}; log(3) = {math.log(3):.6f}")
for name, value in params.items():
    f = lambda _: tln.nn_forward_backward(params, toy_X, toy_y, reg=0.05)[0]  # noqa: E731
    numeric = helpers.compute_numeric_gradient(f, value, h=1e-6)
    print(f"{name}: relative error {helpers.rel_error(numeric, grads[name]):.2e} (below 1e-4 is right)")
grader.check("nn_forward_backward")

# %% [markdown]
# ## Training
# Implement the SGD step of **`nn_train`** and **`nn_predict`**, then train on the toy data:
# the final loss should fall below 1.0.

# %%
toy_X, toy_y, params = helpers.get_toy_data(dtype=torch.float64)
stats = tln.nn_train(params, tln.nn_forward_backward, tln.nn_predict, toy_X, toy_y, toy_X, toy_y,
                     learning_rate=1e-1, reg=1e-6, num_iters=200)
print(f"final toy loss {stats['loss_history'][-1]:.4f}")
_ = helpers.plot_stats(stats)  # "_ =": the inline backend already shows the figure
grader.check(["nn_train", "nn_predict", "TwoLayerNet"])

# %%
if OFFLINE:
    data = helpers.load_digits_data()
    image_shape, settings = (1, 8, 8), dict(learning_rate=0.5, learning_rate_decay=1.0, num_iters=500)
else:
    data = helpers.preprocess_cifar10(show_examples=False)
    image_shape, settings = (3, 32, 32), dict(learning_rate=1e-2, learning_rate_decay=0.95, num_iters=500)
D, C = data["X_train"].shape[1], 10
net = tln.TwoLayerNet(D, 36, C)
stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], reg=0.25 if not OFFLINE else 1e-4,
                  batch_size=1000, **settings)
print(f"validation accuracy {(net.predict(data['X_val']) == data['y_val']).double().mean().item():.3f}")
_ = helpers.plot_stats(stats)

# %% [markdown]
# The first layer's weights, one image per hidden unit:

# %%
_ = helpers.show_net_weights(net, image_shape=image_shape)

# %% [markdown]
# ## How capacity changes things
# The same training with several hidden sizes:

# %%
curves = {}
for hidden_size in (2, 8, 32, 128):
    net = tln.TwoLayerNet(D, hidden_size, C)
    curves[hidden_size] = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                                    reg=1e-4, batch_size=500, learning_rate=0.5 if OFFLINE else 1.0,
                                    learning_rate_decay=1.0 if OFFLINE else 0.95, num_iters=300)
_ = helpers.plot_acc_curves(curves)

# %% [markdown]
# ## Hyperparameter search
# Fill in **`nn_get_search_params`** and **`find_best_net`**, run the search, and save the best net.

# %%
grader.check(["nn_get_search_params", "find_best_net"])

# %%
best_net, best_stat, best_val_acc = tln.find_best_net(data, tln.nn_get_search_params)
_ = helpers.plot_stats(best_stat)
test_acc = (best_net.predict(data["X_test"]) == data["y_test"]).double().mean().item()
print(f"best net: validation {best_val_acc:.3f}, test {test_acc:.3f}")
best_net.save(OUTPUT_DIR / "nn_best_model.pt")

# %% [markdown]
# ## Everything at once, then the submission
# The full check (the best-model cases need CIFAR-10 on this machine), then the zip to hand in:
# both notebooks must have been run, so that the three checkpoints exist.

# %%
report = grader.check()
report

# %%
zip_path = helpers.make_a2_submission(ROOT, UNIQUENAME, UMID, checkpoint_dir=OUTPUT_DIR, out_dir=OUTPUT_DIR)
print(f"submit {zip_path}")
