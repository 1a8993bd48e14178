"""A3's hidden cases: fresh shapes, seeds and scales, made at grading time from the solution with
seeds salted by the submission. They never ship in the student handout; a function whose public
value cases pass while no hidden one does loses its public points too (``runner.flag_hardcoding``)."""
from typing import List

import torch

from ....cases import HIDDEN, Case
from ..catalogue.cases import FC, TWO, dropout_backward_case, dropout_forward_case, layer_case, net_case, \
    optimizer_case

F32, F64 = torch.float32, torch.float64

CASES: List[Case] = [
    layer_case("Linear.forward", "hidden: x of shape (N, 3, 5, 2), float64, large inputs", 1.5, HIDDEN, 201,
               (7, 3, 5, 2), scale=30.0, M=9),
    layer_case("Linear.forward", "hidden: float32, fresh shapes", 1, HIDDEN, 202, (11, 13), F32, M=4),
    layer_case("Linear.backward", "hidden: x of shape (N, 2, 2, 3), float64", 2, HIDDEN, 211, (9, 2, 2, 3), M=6),
    layer_case("Linear.backward", "hidden: float32, fresh shapes", 1.5, HIDDEN, 212, (12, 5, 3), F32, M=7),
    layer_case("ReLU.forward", "hidden: x of shape (N, 2, 3, 4), float64", 1, HIDDEN, 221, (5, 2, 3, 4)),
    layer_case("ReLU.backward", "hidden: x of shape (N, 7, 2), float32", 1.5, HIDDEN, 231, (8, 7, 2), F32),
    net_case(TWO, "hidden: loss and grads, fresh sizes, reg=0.35", 3, HIDDEN, 261, (9, 11, 6), reg=0.35, N=13),
    net_case(TWO, "hidden: scores without y, X of shape (N, 3, 3)", 1.5, HIDDEN, 262, (9, 7, 5), without_y=True,
             x_shape=(3, 3)),
    net_case(TWO, "hidden: float32, reg=0", 2, HIDDEN, 263, (12, 8, 10), dtype=F32, N=11),
    net_case(FC, "hidden: three hidden layers, dropout 0.25 and reg=0.3 together", 3, HIDDEN, 281, (8, 9, 6, 7, 5),
             reg=0.3, dropout=0.25, N=10),
    net_case(FC, "hidden: two hidden layers, dropout 0.5, reg=0", 3, HIDDEN, 282, (10, 12, 9, 4), dropout=0.5, N=9),
    net_case(FC, "hidden: float32, one hidden layer, reg=1.0", 2, HIDDEN, 283, (6, 9, 5), reg=1.0, dtype=F32),
    # loss and grads with neither reg nor dropout: a public case answered by code without them is
    # vouched for here, not taken for hard-coded
    net_case(FC, "hidden: float32, three hidden layers, no dropout, reg=0, X of shape (N, 2, 5)", 2, HIDDEN, 285,
             (10, 7, 8, 6, 5), dtype=F32, N=9, x_shape=(2, 5)),
    net_case(FC, "hidden: scores without y, dropout 0.4 off at test time", 1, HIDDEN, 284, (7, 6, 8, 4), dropout=0.4,
             without_y=True, N=8),
    optimizer_case("sgd_momentum", "hidden: learning_rate 0.03, momentum 0.95, 4 steps", 2.5, HIDDEN, 291,
                   {"learning_rate": 0.03, "momentum": 0.95}, shape=(6, 3), grad_scales=(0.3, 1.0, 3.0, 0.1)),
    optimizer_case("rmsprop", "hidden: decay_rate 0.95, epsilon 1e-4, 4 steps, float32", 2.5, HIDDEN, 293,
                   {"decay_rate": 0.95, "epsilon": 1e-4}, shape=(5, 4), grad_scales=(2.0, 0.2, 1.0, 0.5), dtype=F32),
    optimizer_case("adam", "hidden: beta2 0.99, epsilon 1e-4, given learning rate, 4 steps", 3, HIDDEN, 295,
                   {"learning_rate": 0.02, "beta2": 0.99, "epsilon": 1e-4}, shape=(7, 2),
                   grad_scales=(1.0, 0.1, 5.0, 0.7)),
    dropout_forward_case("hidden: train p=0.4, fresh shape", 2.5, HIDDEN, 301, 0.4, shape=(150, 120)),
    dropout_backward_case("hidden: train p=0.5, float32", 2, HIDDEN, 311, 0.5, shape=(25, 40), dtype=F32),
]
