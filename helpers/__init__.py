"""Course helpers for Assignments 2 and 3: seeding, toy data, gradient checks, losses, data
sets, plots, the Solver (training loop) and the submission zips.

Names are loaded on first use, so ``import helpers`` stays cheap (no matplotlib, no
torchvision until a plot or CIFAR-10 is asked for).
"""
import importlib

_EXPORTS = {
    "reset_seed": "helpers.seed",
    "get_toy_data": "helpers.toy",
    "compute_numeric_gradient": "helpers.gradcheck",
    "grad_check_sparse": "helpers.gradcheck",
    "rel_error": "helpers.gradcheck",
    "cifar10": "helpers.data",
    "preprocess_cifar10": "helpers.data",
    "load_digits_data": "helpers.data",
    "DatasetUnavailable": "helpers.data",
    "default_data_dir": "helpers.data",
    "plot_stats": "helpers.plots",
    "plot_acc_curves": "helpers.plots",
    "show_net_weights": "helpers.plots",
    "visualize_grid": "helpers.plots",
    "visualize_dataset": "helpers.plots",
    "tensor_to_image": "helpers.plots",
    "softmax_loss": "helpers.losses",
    "svm_loss": "helpers.losses",
    "Solver": "helpers.solver",
    "make_a2_submission": "helpers.submit",
    "make_a3_submission": "helpers.submit",
    "SubmissionError": "helpers.submit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
