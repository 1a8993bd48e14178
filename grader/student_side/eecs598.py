"""The course's helper package, ``eecs598``, as student files in the course layout import it
(``import eecs598``, ``eecs598.reset_seed(0)``, ``from eecs598.a2_helpers import ...``,
``from eecs598 import Solver``), and Assignment 3's top-level ``a3_helper`` (``from a3_helper
import softmax_loss``), mapped onto the kit's ``helpers``. Installed into ``sys.modules``
before the files load.

Names resolve on first use, so importing the package costs nothing and a name that is never
used (the plots, CIFAR-10) never loads matplotlib or torchvision.
"""
import importlib
import sys
import types

# The top-level names install() puts into sys.modules (eecs598's submodules beneath it).
COURSE_HELPERS = ("eecs598", "a2_helpers", "a3_helper")
# submodule -> {course name: "helpers module:name"}
LAYOUT = {
    "utils": {"reset_seed": "helpers.seed:reset_seed", "tensor_to_image": "helpers.plots:tensor_to_image",
              "visualize_dataset": "helpers.plots:visualize_dataset"},
    "grad": {"compute_numeric_gradient": "helpers.gradcheck:compute_numeric_gradient",
             "grad_check_sparse": "helpers.gradcheck:grad_check_sparse", "rel_error": "helpers.gradcheck:rel_error"},
    "data": {"cifar10": "helpers.data:cifar10", "preprocess_cifar10": "helpers.data:preprocess_cifar10"},
    "submit": {"make_a2_submission": "helpers.submit:make_a2_submission",
               "make_a3_submission": "helpers.submit:make_a3_submission"},
    "solver": {"Solver": "helpers.solver:Solver"},
    "a2_helpers": {"hello_helper": "grader.student_side.eecs598:hello_helper",
                   "get_toy_data": "helpers.toy:get_toy_data", "plot_stats": "helpers.plots:plot_stats",
                   "plot_acc_curves": "helpers.plots:plot_acc_curves",
                   "show_net_weights": "helpers.plots:show_net_weights",
                   "visualize_grid": "helpers.plots:visualize_grid", "reset_seed": "helpers.seed:reset_seed"},
}
# What ``import eecs598`` itself offers, as the course's __init__ does (A3's adds the Solver).
TOP = {"reset_seed": "helpers.seed:reset_seed", "tensor_to_image": "helpers.plots:tensor_to_image",
       "visualize_dataset": "helpers.plots:visualize_dataset", "Solver": "helpers.solver:Solver"}
# Assignment 3's ``a3_helper``, a top-level module beside the student's file in the course.
A3_HELPER = {"hello_helper": "grader.student_side.eecs598:hello_a3_helper",
             "softmax_loss": "helpers.losses:softmax_loss", "svm_loss": "helpers.losses:svm_loss",
             "get_CIFAR10_data": "grader.student_side.eecs598:get_CIFAR10_data",
             "plot_stats": "helpers.plots:plot_stats", "plot_acc_curves": "helpers.plots:plot_acc_curves",
             "show_net_weights": "helpers.plots:show_net_weights", "visualize_grid": "helpers.plots:visualize_grid"}


def hello_helper():
    """The course's check that its helpers import."""
    print("Hello from a2_helpers.py!")


def hello_a3_helper():
    """The course's check that Assignment 3's helpers import."""
    print("Hello from a3_helper.py!")


def get_CIFAR10_data(validation_ratio=0.02, flatten=False):
    """Assignment 3's CIFAR-10: images kept (N, 3, 32, 32) unless ``flatten``, the last
    ``validation_ratio`` of the training images for validation, on the GPU when there is one."""
    import torch

    from helpers.data import preprocess_cifar10

    return preprocess_cifar10(validation_ratio=validation_ratio, flatten=flatten,
                              device="cuda" if torch.cuda.is_available() else "cpu")


def _resolver(table):
    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"the kit's eecs598 has no {name!r} (it offers {', '.join(sorted(table))})")
        module, attribute = table[name].split(":")
        return getattr(importlib.import_module(module), attribute)
    return __getattr__


def _module(name, table, doc):
    module = types.ModuleType(name, doc)
    module.__getattr__ = _resolver(table)
    module.__all__ = sorted(table)
    return module


def build() -> types.ModuleType:
    """A fresh ``eecs598`` package with its submodules."""
    package = _module("eecs598", dict(TOP), "The course's helper package, mapped onto the kit's helpers.")
    package.__path__ = []  # a package: ``import eecs598.grad`` finds the submodules in sys.modules
    for sub, table in LAYOUT.items():
        setattr(package, sub, _module(f"eecs598.{sub}", table, f"eecs598.{sub}, mapped onto the kit's helpers."))
    return package


def install() -> None:
    """Make ``import eecs598`` (and its submodules) work in this process, the Fall 2020
    layout's top-level ``import a2_helpers`` and Assignment 3's ``import a3_helper`` too."""
    package = build()
    sys.modules["eecs598"] = package
    for sub in LAYOUT:
        sys.modules[f"eecs598.{sub}"] = getattr(package, sub)
    sys.modules["a2_helpers"] = package.a2_helpers
    sys.modules["a3_helper"] = _module("a3_helper", A3_HELPER, "Assignment 3's a3_helper, mapped onto the kit's helpers.")
