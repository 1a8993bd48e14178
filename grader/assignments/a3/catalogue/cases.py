"""Assignment 3's public cases: what each checks and its points (about 100 in all, in proportion
to the work). Hidden cases (fresh shapes, seeds and scales) are with the instructor."""
from typing import List

import torch

from ....cases import PUBLIC, Case
from ....catalogue.common import DEVICE_POINTS, device_case
from .judges import (judge_best_models, judge_dropout_backward, judge_dropout_forward, judge_layer_numeric,
                     judge_layer_values, judge_linear_relu_given, judge_net_init, judge_net_loss, judge_optimizer,
                     judge_search_values, judge_solver_instance)

F32, F64 = torch.float32, torch.float64
LAYERS = ("Linear", "ReLU", "Linear_ReLU", "Dropout", "softmax_loss")
NAMES = {"Linear.forward": ("out",), "Linear.backward": ("dx", "dw", "db"), "ReLU.forward": ("out",),
         "ReLU.backward": ("dx",)}


def layer_case(check, name, points, visibility, seed, shape, dtype=F64, **extra):
    # a backward pass's outputs are gradients: computed with autograd they earn nothing
    judge = judge_layer_values(names=NAMES[check])
    return Case(check, name, points, visibility, "layer_call", judge, "a3_layer",
                {"seed": seed, "shape": tuple(shape), "dtype": str(dtype), **extra}, dtype,
                gradients=NAMES[check] if check.endswith(".backward") else ())


def layer_numeric_case(layer, which, label, points):
    """A form case: the backward's ``label`` output against centred differences of the student's
    own forward, on inputs made fresh (salted with the submission) when hidden cases are graded;
    credited only where the backward's value cases show ``label`` computed."""
    return Case(f"{layer}.backward", f"{label} matches centred differences of your own {layer}.forward", points,
                PUBLIC, "layer_numeric", judge_layer_numeric, "a3_layer_numeric",
                {"seed": 40 + which, "layer": layer, "which": which, "name": label}, form=True, output=label,
                fresh=True)


def net_case(cls, name, points, visibility, seed, dims, reg=0.0, dtype=F64, dropout=0.0, without_y=False, N=7,
             x_shape=None):
    params = {"seed": seed, "dims": tuple(dims), "reg": reg, "dtype": str(dtype), "N": N, "class": cls}
    if dropout:
        params["dropout"] = dropout
    if without_y:
        params["without_y"] = True
    if x_shape:
        params["x_shape"] = tuple(x_shape)
    return Case(f"{cls}.loss", name, points, visibility, "net_loss", judge_net_loss, "a3_net_loss", params, dtype,
                standins=LAYERS, gradients=() if without_y else ("grads",))


def init_case(cls, name, points, visibility, seed, dims, weight_scale, reg=0.0, dtype=F64):
    return Case(f"{cls}.__init__", name, points, visibility, "net_init", judge_net_init, "a3_net_init",
                {"seed": seed, "class": cls, "dims": tuple(dims), "weight_scale": weight_scale, "reg": reg,
                 "dtype": str(dtype)}, dtype)


STATE = {"sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}


def optimizer_case(check, name, points, visibility, seed, config, shape=(4, 5), grad_scales=(1.0, 0.5, 2.0),
                   dtype=F64):
    return Case(check, name, points, visibility, "optimizer", judge_optimizer, "a3_optimizer",
                {"seed": seed, "config": config, "shape": tuple(shape), "grad_scales": tuple(grad_scales),
                 "dtype": str(dtype), "state": STATE[check]}, dtype)


def dropout_forward_case(name, points, visibility, seed, p, shape=(200, 100), dtype=F64):
    return Case("Dropout.forward", name, points, visibility, "dropout_forward", judge_dropout_forward,
                "a3_dropout_forward", {"seed": seed, "p": p, "shape": tuple(shape), "dtype": str(dtype)}, dtype)


def dropout_backward_case(name, points, visibility, seed, p, shape=(30, 20), dtype=F64):
    return Case("Dropout.backward", name, points, visibility, "dropout_backward", judge_dropout_backward,
                "a3_dropout_backward", {"seed": seed, "p": p, "shape": tuple(shape), "dtype": str(dtype)}, dtype)


TWO = "TwoLayerNet"
FC = "FullyConnectedNet"

# Regularization is one part of a network's loss: the cases with reg > 0 are about 30% (TwoLayerNet) and
# 40% (FullyConnectedNet) of its points, so that a mistake in it alone costs those, not the whole function.
CASES: List[Case] = [
    # Linear: 5 + 8
    layer_case("Linear.forward", "x of shape (N, 2, 3), float64", 2 - DEVICE_POINTS, PUBLIC, 1, (4, 2, 3)),
    layer_case("Linear.forward", "x of shape (N, 4, 2, 3), float32", 1.5, PUBLIC, 2, (5, 4, 2, 3), F32),
    layer_case("Linear.forward", "x of shape (N, D), float64", 1.5, PUBLIC, 3, (6, 7)),
    layer_case("Linear.backward", "x of shape (N, 2, 3), float64: dx shaped like x", 2.5 - DEVICE_POINTS, PUBLIC, 11,
               (4, 2, 3)),
    layer_case("Linear.backward", "x of shape (N, 3, 2, 2), float32", 2, PUBLIC, 12, (5, 3, 2, 2), F32),
    layer_case("Linear.backward", "x of shape (N, D), float64", 2, PUBLIC, 13, (6, 7)),
    *[layer_numeric_case("Linear", which, label, 0.5) for which, label in ((0, "dx"), (1, "dw"), (2, "db"))],
    # ReLU: 3 + 4
    layer_case("ReLU.forward", "x of shape (N, 3, 4), float64, x left unchanged", 1.5 - DEVICE_POINTS, PUBLIC, 21,
               (5, 3, 4)),
    layer_case("ReLU.forward", "x of shape (N, D), float32", 1.5, PUBLIC, 22, (6, 9), F32),
    layer_case("ReLU.backward", "x of shape (N, 3, 4), float64", 1.5 - DEVICE_POINTS, PUBLIC, 31, (5, 3, 4)),
    layer_case("ReLU.backward", "x of shape (N, D), float32", 1.5, PUBLIC, 32, (6, 9), F32),
    layer_numeric_case("ReLU", 0, "dx", 1),
    # Linear_ReLU: given code, no points (it hands its work to Linear and ReLU, graded there)
    Case("Linear_ReLU", "given code: hands its work to Linear and ReLU", 0, PUBLIC, "linear_relu_given",
         judge_linear_relu_given, "a3_linear_relu_given", {"seed": 41}, standins=("Linear", "ReLU")),
    # TwoLayerNet: 4 + 12
    init_case(TWO, "params W1 (D, H), b1, W2 (H, C), b2: Gaussian weights of std weight_scale, zero biases", 2,
              PUBLIC, 51, (60, 50, 10), 1e-2),
    init_case(TWO, "float32, weight_scale 0.5, reg kept", 2, PUBLIC, 52, (40, 30, 7), 0.5, 0.3, F32),
    net_case(TWO, "scores without y (stand-in layers)", 2.5, PUBLIC, 61, (6, 5, 4), without_y=True),
    net_case(TWO, "loss and grads, reg=0 (stand-in layers and softmax_loss)", 3 - DEVICE_POINTS, PUBLIC, 62, (6, 5, 4)),
    net_case(TWO, "loss and grads, reg=0.7 (no factor 1/2)", 3.5, PUBLIC, 63, (6, 5, 4), reg=0.7),
    net_case(TWO, "float32, X of shape (N, 2, 4), reg=0", 3, PUBLIC, 64, (8, 6, 3), dtype=F32,
             x_shape=(2, 4)),
    # FullyConnectedNet: 5 + 16
    init_case(FC, "two hidden layers: W1..W3, b1..b3 shaped by the layer sizes", 2, PUBLIC, 71, (30, 40, 20, 10),
              5e-2),
    init_case(FC, "one hidden layer, float32", 1.5, PUBLIC, 72, (50, 30, 8), 0.1, dtype=F32),
    init_case(FC, "four hidden layers", 1.5, PUBLIC, 73, (20, 15, 25, 10, 12, 6), 2e-2, 0.1),
    net_case(FC, "one hidden layer, reg=0", 2 - DEVICE_POINTS, PUBLIC, 81, (7, 6, 4)),
    net_case(FC, "one hidden layer, reg=0.5 (factor 1/2)", 3, PUBLIC, 82, (6, 5, 4), reg=0.5),
    net_case(FC, "two hidden layers, reg=0.2", 3.5, PUBLIC, 83, (6, 5, 7, 3), reg=0.2),
    net_case(FC, "two hidden layers, dropout 0.3 (stand-in masks), reg=0", 3.5, PUBLIC, 84, (6, 8, 7, 3), dropout=0.3),
    net_case(FC, "scores without y: dropout off at test time", 1.5, PUBLIC, 85, (6, 8, 7, 3), dropout=0.3,
             without_y=True),
    net_case(FC, "float32, three hidden layers, reg=0", 2.5, PUBLIC, 86, (6, 5, 7, 4, 3), dtype=F32),
    # update rules: 6 + 6 + 8
    optimizer_case("sgd_momentum", "config=None: defaults, velocity started at zero, kept over 3 steps",
                   3 - DEVICE_POINTS, PUBLIC, 91, None),
    optimizer_case("sgd_momentum", "learning_rate 0.1, momentum 0.5, given velocity", 3, PUBLIC, 92,
                   {"learning_rate": 0.1, "momentum": 0.5}),
    optimizer_case("rmsprop", "config=None: defaults, cache kept over 3 steps", 3 - DEVICE_POINTS, PUBLIC, 93, None),
    optimizer_case("rmsprop", "learning_rate 0.05, decay_rate 0.9", 3, PUBLIC, 94, {"learning_rate": 0.05,
                                                                                    "decay_rate": 0.9}),
    optimizer_case("adam", "config=None: defaults, t incremented before use, m and v kept over 3 steps",
                   4 - DEVICE_POINTS, PUBLIC, 95, None),
    optimizer_case("adam", "learning_rate 0.01, beta1 0.8, float32", 4, PUBLIC, 96,
                   {"learning_rate": 0.01, "beta1": 0.8}, dtype=F32),
    # Dropout: 7 + 5
    dropout_forward_case("train p=0.25: zero or x / (1 - p), about p dropped, seeded; test: x", 4 - DEVICE_POINTS,
                         PUBLIC, 101, 0.25),
    dropout_forward_case("train p=0.6, float32", 3, PUBLIC, 102, 0.6, dtype=F32),
    dropout_backward_case("train p=0.3: dout through the forward's own mask", 3 - DEVICE_POINTS, PUBLIC, 111, 0.3),
    dropout_backward_case("train p=0.7, float32", 2, PUBLIC, 112, 0.7, dtype=F32),
    # the template's rule that tensors follow the inputs' device (no .to(), .cuda(), .cpu()), judged from the
    # traces of each function's value cases: 0.5 each, taken from its first value case
    *[device_case(check) for check in ("Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward",
                                       "TwoLayerNet.loss", "FullyConnectedNet.loss", "sgd_momentum", "rmsprop",
                                       "adam", "Dropout.forward", "Dropout.backward")],
    # the Solver and the overfitting searches: 4 + 2 + 3 (the searches' accuracy is not graded without CIFAR-10)
    Case("create_solver_instance", "a Solver on the TwoLayerNet made, with data_dict and the device given", 4, PUBLIC,
         "solver_instance", judge_solver_instance, "a3_solver_instance", {"seed": 121},
         standins=("Solver", "TwoLayerNet")),
    Case("get_three_layer_network_params", "overfits 50 samples in 20 epochs (needs CIFAR-10)", 2, PUBLIC,
         "search_values", judge_search_values, "a3_search", {}, needs_data=True),
    Case("get_five_layer_network_params", "overfits 50 samples in 20 epochs (needs CIFAR-10)", 3, PUBLIC,
         "search_values", judge_search_values, "a3_search", {}, needs_data=True),
    # the best models: evaluated on CIFAR-10 by the course staff
    *[Case("best_models", f"{file} (needs CIFAR-10)", 1, PUBLIC, None, judge_best_models, params={"file": file})
      for file in ("best_two_layer_net.pth", "best_overfit_five_layer_net.pth")],
]
