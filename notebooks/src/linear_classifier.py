# %% [markdown]
# # Assignment 2, part 1: linear classifiers
#
# You will implement a **multiclass SVM** and a **softmax** classifier with plain PyTorch tensors,
# check every function with the autograder right after writing it, then train and tune both.
# Your code goes in `a2/linear_classifier.py`; this notebook calls it.

# %%
import os
import sys
import time
from pathlib import Path

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
sys.path.insert(0, str(ROOT))

# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import torch

import grader
import helpers
from a2 import linear_classifier as lc

lc.hello_linear_classifier()

# %% [markdown]
# ## Data switch
#
# **`OFFLINE = True` runs this whole notebook on small offline data**: scikit-learn's bundled
# handwritten digits (1797 real 8×8 images, 10 classes), prepared exactly like CIFAR-10. Use it
# when CIFAR-10 cannot be downloaded; the accuracy targets of the course refer to CIFAR-10.
# The data is float64, as in the course's own notebook (the grader grades the linear classifiers
# in float64 only). Checkpoints and the submission zip go to `OUTPUT_DIR` (made if missing).

# %%
OFFLINE = os.environ.get("A2_OFFLINE", "0") == "1"  # <- set to True to work offline
OUTPUT_DIR = Path(os.environ.get("A2_OUTPUT_DIR", ROOT))
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
NUM_ITERS = 300 if OFFLINE else 1500  # training iterations per run

if OFFLINE:
    data = helpers.load_digits_data(bias_trick=True, dtype=torch.float64)
    image_shape, classes = (1, 8, 8), [str(d) for d in range(10)]
else:
    data = helpers.preprocess_cifar10(bias_trick=True, show_examples=False, dtype=torch.float64)
    image_shape, classes = (3, 32, 32), list(helpers.data.CIFAR10_CLASSES)
for name, tensor in data.items():
    print(f"{name}: {tuple(tensor.shape)} {tensor.dtype}")

# %% [markdown]
# ## The multiclass SVM loss
#
# For a sample $x_i$ with scores $s = x_i W$ and label $y_i$, the hinge loss with margin $\Delta = 1$ is
#
# $$L_i = \sum_{j \ne y_i} \max(0,\ s_j - s_{y_i} + 1), \qquad
#   L = \frac{1}{N}\sum_i L_i + \lambda \sum_{k,l} W_{k,l}^2 .$$
#
# **Exercise:** derive $\nabla_W L$ on paper first (which columns of the gradient does one positive
# margin touch, and with which sign?). Then implement **`svm_loss_naive`** with loops and check it;
# the numeric gradient check below is your own test of the derivation.

# %% [markdown] instructor
# *Worked derivation (instructor's copy only; `release` leaves this cell out).* Each positive
# margin adds $x_i$ to column $j$ of $\nabla_W L$ and subtracts it from column $y_i$; the data
# term is averaged over $N$ and the regularization adds $2\lambda W$.

# %%
torch.manual_seed(0)
X_dev, y_dev = data["X_train"][:128], data["y_train"][:128]
W = 0.0001 * torch.randn(X_dev.shape[1], 10, dtype=torch.float64)
loss, grad = lc.svm_loss_naive(W, X_dev, y_dev, 0.0)
print(f"loss {loss.item():.4f} (close to 9 for tiny weights: nine margins of about 1)")
grader.check("svm_loss_naive")

# %% [markdown]
# ### Numeric gradient check
# Centred differences of your own loss at random entries: relative errors should be below 1e-5.

# %%
f = lambda w: lc.svm_loss_naive(w, X_dev, y_dev, 0.0)[0]  # noqa: E731
checks = helpers.grad_check_sparse(f, W, grad, num_checks=5)
loss, grad = lc.svm_loss_naive(W, X_dev, y_dev, 1e3)
checks += helpers.grad_check_sparse(lambda w: lc.svm_loss_naive(w, X_dev, y_dev, 1e3)[0], W, grad, num_checks=5)

# %% [markdown]
# ## Vectorized SVM loss
# Now **`svm_loss_vectorized`**, with no explicit loop. Compare values and speed.

# %%
tic = time.perf_counter()
loss_naive, grad_naive = lc.svm_loss_naive(W, X_dev, y_dev, 5e-6)
naive_seconds = time.perf_counter() - tic
tic = time.perf_counter()
loss_vec, grad_vec = lc.svm_loss_vectorized(W, X_dev, y_dev, 5e-6)
vec_seconds = time.perf_counter() - tic
print(f"loss difference {abs(loss_naive.item() - loss_vec.item()):.2e}, "
      f"gradient relative error {helpers.rel_error(grad_naive, grad_vec):.2e}")
print(f"naive {naive_seconds * 1e3:.1f} ms, vectorized {vec_seconds * 1e3:.2f} ms: "
      f"{naive_seconds / vec_seconds:.0f}x faster")
grader.check("svm_loss_vectorized")

# %% [markdown]
# ## Training with SGD
# Implement **`sample_batch`** (indices drawn with replacement by `torch.randint`), the SGD step in
# **`train_linear_classifier`**, and **`predict_linear_classifier`**.

# %%
grader.check(["sample_batch", "train_linear_classifier", "predict_linear_classifier"])

# %%
svm = lc.LinearSVM()
loss_history = svm.train(data["X_train"], data["y_train"], learning_rate=1e-2, reg=1e-3,
                         num_iters=NUM_ITERS, verbose=True)
fig, ax = plt.subplots()
ax.plot(loss_history)
ax.set(xlabel="iteration", ylabel="loss", title="SVM training loss")
train_acc = (svm.predict(data["X_train"]) == data["y_train"]).double().mean().item()
val_acc = (svm.predict(data["X_val"]) == data["y_val"]).double().mean().item()
print(f"training accuracy {train_acc:.3f}, validation accuracy {val_acc:.3f}")

# %% [markdown]
# ## Hyperparameter search
# Fill in **`svm_get_search_params`** and **`test_one_param_set`**, then try every combination.

# %%
grader.check(["svm_get_search_params", "test_one_param_set", "LinearClassifier"])


# %%
def search(cls, get_params):
    results, best = {}, (None, -1.0)
    learning_rates, regularization_strengths = get_params()
    for lr in learning_rates:
        for reg in regularization_strengths:
            model, train_acc, val_acc = lc.test_one_param_set(cls(), data, lr, reg, num_iters=NUM_ITERS)
            results[(lr, reg)] = (train_acc, val_acc)
            if val_acc > best[1]:
                best = (model, val_acc)
            print(f"lr {lr:.1e} reg {reg:.1e}: train {train_acc:.3f} val {val_acc:.3f}")
    fig, ax = plt.subplots()
    points = ax.scatter([lr for lr, _ in results], [reg for _, reg in results],
                        c=[v for _, v in results.values()], s=200, cmap="viridis")
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="regularization",
           title=f"{cls.__name__}: validation accuracy")
    fig.colorbar(points)
    return best


best_svm, best_svm_val = search(lc.LinearSVM, lc.svm_get_search_params)
best_svm.save(OUTPUT_DIR / "svm_best_model.pt")
test_acc = (best_svm.predict(data["X_test"]) == data["y_test"]).double().mean().item()
print(f"best SVM: validation {best_svm_val:.3f}, test {test_acc:.3f}")

# %% [markdown]
# The weights of each class, seen as images:

# %%
w = best_svm.W[:-1].t().reshape(10, *image_shape).permute(0, 2, 3, 1)  # drop the bias row
fig = plt.figure(figsize=(10, 2))
for i in range(10):
    ax = fig.add_subplot(1, 10, i + 1)
    img = (w[i] - w[i].min()) / (w[i].max() - w[i].min())
    ax.imshow(img.squeeze(-1).numpy() if image_shape[0] == 1 else img.numpy(), cmap="gray")
    ax.set_title(classes[i], fontsize=8)
    ax.axis("off")

# %% [markdown]
# ## The softmax classifier
#
# With probabilities $p = \mathrm{softmax}(x_i W)$ the loss is
# $L = -\frac{1}{N}\sum_i \log p_{y_i} + \lambda \sum W^2$. **Exercise:** derive the gradient
# of $L_i$ with respect to the scores $s$, then with respect to $W$. Subtract each row's largest
# score before `exp`: softmax is unchanged and `exp` can no longer overflow. Implement
# **`softmax_loss_naive`** and **`softmax_loss_vectorized`**; the gradient check is your test.

# %% [markdown] instructor
# *Worked derivation (instructor's copy only).* $\nabla_{s} L_i = p - \mathbb{1}_{y_i}$, so
# $\nabla_W L = \frac{1}{N} X^\top (P - Y) + 2\lambda W$ with $Y$ the one-hot labels.

# %%
W = 0.0001 * torch.randn(X_dev.shape[1], 10, dtype=torch.float64)
loss, grad = lc.softmax_loss_naive(W, X_dev, y_dev, 0.0)
print(f"loss {loss.item():.4f}, expected about -log(0.1) = {-torch.log(torch.tensor(0.1)).item():.4f}")
helpers.grad_check_sparse(lambda w: lc.softmax_loss_naive(w, X_dev, y_dev, 0.0)[0], W, grad, num_checks=5)
grader.check(["softmax_loss_naive", "softmax_loss_vectorized"])

# %%
best_softmax, best_softmax_val = search(lc.Softmax, lc.softmax_get_search_params)
best_softmax.save(OUTPUT_DIR / "softmax_best_model.pt")
grader.check("softmax_get_search_params")
