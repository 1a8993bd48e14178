"""Data sets: CIFAR-10 through torchvision, and scikit-learn's bundled digits for offline work.

Both come back in the same dict layout: ``X_train, y_train, X_val, y_val, X_test, y_test``,
images flattened to rows with pixels in [0, 1] minus the training mean.
"""
import logging
import os
from pathlib import Path
from typing import Dict, Optional

import torch

log = logging.getLogger(__name__)

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class DatasetUnavailable(RuntimeError):
    """The data set is not on disk and could not be fetched; the message says what to do."""


def default_data_dir() -> Path:
    """Where data sets live: ``$A2_DATA_DIR`` if set, else ``~/.cache/a2kit``."""
    return Path(os.environ.get("A2_DATA_DIR") or Path.home() / ".cache" / "a2kit")


def verify_by_default() -> bool:
    """Whether CIFAR-10's files are checked against the official release's MD5 sums when a
    loader is not told: yes, unless ``$A2_DATA_VERIFY`` is ``0`` (a copy in the same format that
    is not the release: a re-encoded mirror, or small files a test writes)."""
    return os.environ.get("A2_DATA_VERIFY", "1").strip() != "0"


def _cifar10_class(verify: bool):
    """torchvision's CIFAR10 loader; with ``verify=False`` files are checked for presence
    instead of their published MD5 sums (for copies that are not the official release)."""
    from torchvision.datasets import CIFAR10

    if verify:
        return CIFAR10

    class UnverifiedCIFAR10(CIFAR10):
        # torchvision skips the MD5 comparison where the expected sum is None.
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return UnverifiedCIFAR10


def _extract_tensors(dset, num: Optional[int], x_dtype: torch.dtype):
    x = torch.tensor(dset.data, dtype=x_dtype).permute(0, 3, 1, 2).div_(255)  # (N, 3, 32, 32)
    y = torch.tensor(dset.targets, dtype=torch.int64)
    if num is not None:
        if num <= 0 or num > x.shape[0]:
            raise ValueError(f"asked for {num} images but the split has {x.shape[0]}")
        x, y = x[:num].clone(), y[:num].clone()
    return x, y


def cifar10(num_train: Optional[int] = None, num_test: Optional[int] = None,
            x_dtype: torch.dtype = torch.float32, root=None, download: bool = True,
            verify: Optional[bool] = None):
    """CIFAR-10 as tensors ``(x_train (N, 3, 32, 32), y_train, x_test, y_test)``, pixels in [0, 1].

    Looks in ``root`` (default :func:`default_data_dir`) for ``cifar-10-batches-py``; if it is
    missing and ``download`` is true, torchvision downloads it there. Raises
    :class:`DatasetUnavailable` with instructions when neither works. ``verify`` (default
    :func:`verify_by_default`) checks the files against the release's MD5 sums.
    """
    verify = verify_by_default() if verify is None else verify
    root = Path(root) if root is not None else default_data_dir()
    folder = root / CIFAR10_FOLDER
    if not folder.is_dir() and not download:
        raise DatasetUnavailable(_missing_message(root, "download=False was given"))
    loader = _cifar10_class(verify)  # imports torchvision: only once the data can be had
    if not folder.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        try:
            loader(root=str(root), train=True, download=True)
        except Exception as exc:  # torchvision raises URLError, OSError or RuntimeError
            raise DatasetUnavailable(_missing_message(root, f"the download failed: {exc}")) from exc
    try:
        train = loader(root=str(root), train=True, download=False)
        test = loader(root=str(root), train=False, download=False)
    except RuntimeError as exc:
        raise DatasetUnavailable(
            f"{folder} exists but is incomplete or corrupted ({exc}). Delete it and download "
            f"again, or extract {CIFAR10_URL} into {root}."
        ) from exc
    x_train, y_train = _extract_tensors(train, num_train, x_dtype)
    x_test, y_test = _extract_tensors(test, num_test, x_dtype)
    return x_train, y_train, x_test, y_test


def _missing_message(root: Path, why: str) -> str:
    return (
        f"CIFAR-10 is not at {root / CIFAR10_FOLDER} ({why}). On a machine with internet, "
        f"run `python -m helpers.data cifar10 --root {root}`, or download {CIFAR10_URL} and "
        f"extract it into {root}. To keep it elsewhere, set A2_DATA_DIR or pass root=. "
        "To work offline, use helpers.load_digits_data() instead."
    )


def _finish(X_train, y_train, X_test, y_test, *, flatten, bias_trick, validation_ratio,
            device, dtype) -> Dict[str, torch.Tensor]:
    """Shared tail of both loaders: mean subtraction, flattening, bias trick, validation split."""
    if not 0.0 < validation_ratio < 1.0:
        raise ValueError(f"validation_ratio must lie strictly between 0 and 1, got {validation_ratio}")
    X_train = X_train.to(device=device, dtype=dtype)
    X_test = X_test.to(device=device, dtype=dtype)
    y_train, y_test = y_train.to(device), y_test.to(device)

    # Per-channel mean of the training images (dims: sample, then spatial dims).
    mean_dims = (0,) + tuple(range(2, X_train.dim()))
    mean_image = X_train.mean(dim=mean_dims, keepdim=True)
    X_train = X_train - mean_image
    X_test = X_test - mean_image

    if flatten:
        X_train = X_train.reshape(X_train.shape[0], -1)
        X_test = X_test.reshape(X_test.shape[0], -1)
    if bias_trick:
        if not flatten:
            raise ValueError("bias_trick=True needs flatten=True (the ones column is appended to rows)")
        X_train = torch.cat([X_train, torch.ones_like(X_train[:, :1])], dim=1)
        X_test = torch.cat([X_test, torch.ones_like(X_test[:, :1])], dim=1)

    num_training = int(X_train.shape[0] * (1.0 - validation_ratio))
    if num_training == 0 or num_training == X_train.shape[0]:
        raise ValueError(f"validation_ratio={validation_ratio} leaves an empty split")
    return {
        "X_train": X_train[:num_training], "y_train": y_train[:num_training],
        "X_val": X_train[num_training:], "y_val": y_train[num_training:],
        "X_test": X_test, "y_test": y_test,
    }


def preprocess_cifar10(cuda: bool = False, show_examples: bool = True, bias_trick: bool = False,
                       flatten: bool = True, validation_ratio: float = 0.2,
                       dtype: torch.dtype = torch.float32, device=None, root=None,
                       download: bool = True, verify: Optional[bool] = None, num_train: Optional[int] = None,
                       num_test: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """CIFAR-10 ready for the assignment.

    Pixels in [0, 1]; the per-channel mean of the training images subtracted; images
    flattened to 3072 columns (3073 with ``bias_trick``, a ones column); the validation set
    is the last ``validation_ratio`` of the training images. ``device`` wins over the
    course's ``cuda`` flag. ``show_examples`` draws a grid of examples per class.
    """
    device = torch.device(device if device is not None else ("cuda" if cuda else "cpu"))
    X_train, y_train, X_test, y_test = cifar10(num_train, num_test, dtype, root=root,
                                               download=download, verify=verify)
    if show_examples:
        from .plots import visualize_dataset
        visualize_dataset(X_train, y_train, 12, CIFAR10_CLASSES)
    return _finish(X_train, y_train, X_test, y_test, flatten=flatten, bias_trick=bias_trick,
                   validation_ratio=validation_ratio, device=device, dtype=dtype)


def load_digits_data(validation_ratio: float = 0.2, test_ratio: float = 0.2,
                     bias_trick: bool = False, flatten: bool = True,
                     dtype: torch.dtype = torch.float32, device="cpu", seed: int = 0,
                     cifar_shape: bool = False) -> Dict[str, torch.Tensor]:
    """scikit-learn's bundled handwritten digits (1797 real 8x8 images, 10 classes), offline.

    Same layout and preprocessing as :func:`preprocess_cifar10` (one channel): pixels scaled
    to [0, 1], training mean subtracted. The images are shuffled once with ``seed`` (the file
    is sorted by writer), then the last ``test_ratio`` is the test set and the last
    ``validation_ratio`` of the rest the validation set.

    ``cifar_shape=True`` gives every image CIFAR-10's shape, 3 x 32 x 32 (each pixel repeated
    over a 4 x 4 block and over three channels), so that models whose default input size is
    CIFAR-10's (Assignment 3's networks, ``3 * 32 * 32``) take the digits as they are.
    """
    from sklearn.datasets import load_digits

    if not 0.0 < test_ratio < 1.0:
        raise ValueError(f"test_ratio must lie strictly between 0 and 1, got {test_ratio}")
    digits = load_digits()
    X = torch.tensor(digits.images, dtype=torch.float64).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    y = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))
    X, y = X[order], y[order]
    if cifar_shape:
        X = X.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3).repeat(1, 3, 1, 1)  # (N, 3, 32, 32)
    num_test = int(round(X.shape[0] * test_ratio))
    split = X.shape[0] - num_test
    return _finish(X[:split], y[:split], X[split:], y[split:], flatten=flatten,
                   bias_trick=bias_trick, validation_ratio=validation_ratio,
                   device=torch.device(device), dtype=dtype)


def _main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.data",
                                     description="Download CIFAR-10 for Assignment 2.")
    parser.add_argument("dataset", choices=["cifar10"])
    parser.add_argument("--root", default=None, help=f"folder to hold {CIFAR10_FOLDER}")
    args = parser.parse_args(argv)
    try:
        x_train, _, x_test, _ = cifar10(root=args.root)
    except DatasetUnavailable as exc:
        print(f"error: {exc}")
        return 1
    root = args.root or default_data_dir()
    print(f"CIFAR-10 ready in {root}: {x_train.shape[0]} training and {x_test.shape[0]} test images")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
