"""Plots for the notebooks. Every function returns its matplotlib Figure (so it can be saved,
tested, or shown by the notebook) and never calls ``plt.show()`` itself."""
import math
from typing import Dict, Sequence

import torch

import matplotlib

if not matplotlib.get_backend().lower().startswith(("module://", "nbagg", "qt", "tk", "macosx", "gtk", "wx")):
    matplotlib.use("Agg")  # headless (tests, CI, batch); notebooks keep their inline backend
import matplotlib.pyplot as plt  # noqa: E402


def tensor_to_image(tensor: torch.Tensor):
    """A (3, H, W) float tensor in [0, 1] as an (H, W, 3) uint8 numpy array for imshow."""
    if tensor.dim() != 3:
        raise ValueError(f"tensor_to_image expects (channels, H, W), got shape {tuple(tensor.shape)}")
    image = tensor.detach().mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0)
    return image.to("cpu", torch.uint8).numpy()


def visualize_grid(Xs: torch.Tensor, ubound: float = 255.0, padding: int = 1) -> torch.Tensor:
    """Tile images Xs (N, H, W, C) into one (G, G, C) grid, each image rescaled to [0, ubound]."""
    if Xs.dim() != 4:
        raise ValueError(f"visualize_grid expects (N, H, W, C) images, got shape {tuple(Xs.shape)}")
    N, H, W, C = Xs.shape
    grid_size = int(math.ceil(math.sqrt(N)))
    side_h = H * grid_size + padding * (grid_size - 1)
    side_w = W * grid_size + padding * (grid_size - 1)
    grid = torch.zeros(side_h, side_w, C, dtype=torch.float64)
    Xs = Xs.detach().to("cpu", torch.float64)
    for n in range(N):
        r, c = divmod(n, grid_size)
        img = Xs[n]
        low, high = img.min(), img.max()
        scaled = ubound * (img - low) / (high - low) if high > low else torch.zeros_like(img)
        y0, x0 = r * (H + padding), c * (W + padding)
        grid[y0:y0 + H, x0:x0 + W] = scaled
    return grid


def visualize_dataset(X: torch.Tensor, y: torch.Tensor, samples_per_class: int,
                      class_list: Sequence[str]):
    """A grid with ``samples_per_class`` random images per class (X (N, 3, H, W) in [0, 1])."""
    gen = torch.Generator().manual_seed(0)
    fig, ax = plt.subplots(figsize=(len(class_list), samples_per_class * 0.6 + 1))
    rows = []
    for label in range(len(class_list)):
        idxs = (y == label).nonzero().flatten().cpu()
        if idxs.numel() == 0:
            continue
        pick = idxs[torch.randint(idxs.numel(), (samples_per_class,), generator=gen)]
        rows.append(torch.stack([X[i].detach().cpu() for i in pick]))
    images = torch.stack(rows, dim=1).flatten(0, 1)  # class-major columns, sample rows
    grid = _make_grid(images, ncol=len(rows))
    ax.imshow(tensor_to_image(grid))
    ax.set_xticks([(i + 0.5) * grid.shape[2] / len(rows) for i in range(len(rows))])
    ax.set_xticklabels([class_list[i] for i in range(len(rows))], rotation=45)
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def _make_grid(images: torch.Tensor, ncol: int, pad: int = 2) -> torch.Tensor:
    N, C, H, W = images.shape
    nrow = math.ceil(N / ncol)
    grid = torch.ones(C, nrow * (H + pad) + pad, ncol * (W + pad) + pad, dtype=images.dtype)
    for n in range(N):
        r, c = divmod(n, ncol)
        grid[:, pad + r * (H + pad):pad + r * (H + pad) + H,
             pad + c * (W + pad):pad + c * (W + pad) + W] = images[n]
    return grid


def plot_stats(stat_dict: Dict[str, list]):
    """Loss history, and train/val accuracy per epoch, of one training run."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    ax1.plot(stat_dict["loss_history"], "o", markersize=2)
    ax1.set(title="Loss history", xlabel="Iteration", ylabel="Loss")
    ax2.plot(stat_dict["train_acc_history"], "o-", label="train")
    ax2.plot(stat_dict["val_acc_history"], "o-", label="val")
    ax2.set(title="Classification accuracy history", xlabel="Epoch", ylabel="Accuracy")
    ax2.legend()
    fig.tight_layout()
    return fig


def plot_acc_curves(stat_dict: Dict[object, Dict[str, list]]):
    """Train and validation accuracy curves of several runs, keyed by a label (e.g. H)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    for key, stats in stat_dict.items():
        ax1.plot(stats["train_acc_history"], label=str(key))
        ax2.plot(stats["val_acc_history"], label=str(key))
    ax1.set(title="Train accuracy history", xlabel="Epoch", ylabel="Accuracy")
    ax2.set(title="Validation accuracy history", xlabel="Epoch", ylabel="Accuracy")
    ax2.legend()
    fig.tight_layout()
    return fig


def show_net_weights(net, image_shape=(3, 32, 32)):
    """The first layer's weights W1 (D, H) as H images of ``image_shape`` (C, H, W)."""
    W1 = net.params["W1"].detach().cpu()
    C, H, W = image_shape
    if W1.shape[0] != C * H * W:
        raise ValueError(f"W1 has {W1.shape[0]} rows; image_shape {image_shape} needs {C * H * W}")
    images = W1.reshape(C, H, W, -1).permute(3, 1, 2, 0)  # (hidden, H, W, C)
    grid = visualize_grid(images, padding=3).div(255.0)
    fig, ax = plt.subplots(figsize=(6, 6))
    image = (grid.squeeze(-1) if C == 1 else grid).numpy()
    ax.imshow(image, cmap="gray" if C == 1 else None)
    ax.axis("off")
    fig.tight_layout()
    return fig
