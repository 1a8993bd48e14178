"""The hidden cases: fresh shapes, seeds and scales, made at grading time from the solution.
They never ship in the student handout. A function whose public value cases pass while no
hidden value case does loses its public points too (``runner.flag_hardcoding``)."""
from typing import List

import torch

from ....cases import HIDDEN, Case
from ..catalogue.linear import MODULE as LINEAR, loss_case
from ..catalogue.net import backward_case, forward_case, judge_nn_predict, net_params
from ....judges import judge_values

F32, F64 = torch.float32, torch.float64

CASES: List[Case] = [
    loss_case("svm_loss_naive", "hidden float64, fresh shapes", 1.5, HIDDEN, 101, 31, 17, 7, F64),
    loss_case("svm_loss_naive", "hidden float64, wide inputs", 1.5, HIDDEN, 102, 64, 50, 10, F64, 0.05, 2.0),
    loss_case("svm_loss_vectorized", "hidden float64, fresh shapes", 1.5, HIDDEN, 101, 31, 17, 7, F64),
    loss_case("svm_loss_vectorized", "hidden float64, wide inputs", 1, HIDDEN, 104, 48, 30, 9, F64, 0.05, 2.0),
    loss_case("svm_loss_vectorized", "hidden float64, scores near 8000 (stability)", 1.5, HIDDEN, 103, 23, 12, 6, F64,
              1.0, 1.0, 8000.0),
    loss_case("softmax_loss_naive", "hidden float64, fresh shapes", 1.25, HIDDEN, 101, 31, 17, 7, F64),
    loss_case("softmax_loss_naive", "hidden float64, scores near 8000 (stability)", 1.25, HIDDEN, 103, 23, 12, 6,
              F64, 1.0, 1.0, 8000.0),
    loss_case("softmax_loss_vectorized", "hidden float64, fresh shapes", 1.5, HIDDEN, 101, 31, 17, 7, F64),
    loss_case("softmax_loss_vectorized", "hidden float64, wide inputs", 1, HIDDEN, 104, 48, 30, 9, F64, 0.05, 2.0),
    loss_case("softmax_loss_vectorized", "hidden float64, scores near 8000 (stability)", 1.5, HIDDEN, 103, 23, 12,
              6, F64, 1.0, 1.0, 8000.0),
    Case("predict_linear_classifier", "hidden float64, fresh shapes", 1.5, HIDDEN, "call",
         judge_values(strict_dtype=False), "linear_call",
         {"module": LINEAR, "function": "predict_linear_classifier", "reference": "predict_linear_classifier",
          "seed": 141, "N": 33, "D": 11, "C": 9, "dtype": "torch.float64"}, F64),
    Case("nn_predict", "hidden: argmax over classes, fresh shapes", 1, HIDDEN, "nn_predict", judge_nn_predict,
         "nn_predict", {"seed": 181, "shape": (19, 6, 5, 7)}, standins=("nn_forward_pass", "nn_forward_backward")),
    forward_case("hidden float64, fresh shapes", 1.5, HIDDEN, net_params(151, 17, 11, 13, 6), F64),
    forward_case("hidden float32, fresh shapes", 1.5, HIDDEN, net_params(152, 20, 9, 7, 10, F32, 0.3, 2.0), F32),
    forward_case("hidden float64, large inputs", 1, HIDDEN, net_params(153, 12, 30, 20, 8, F64, 1.0, 50.0), F64),
    backward_case("hidden float64, fresh shapes", 2.5, HIDDEN, net_params(161, 21, 13, 9, 7, F64, 0.2), F64, 0.15),
    backward_case("hidden float32, fresh shapes", 2, HIDDEN, net_params(163, 18, 10, 12, 6, F32, 0.2), F32, 0.1),
    backward_case("hidden float64, scores near 8000 (stability)", 2.5, HIDDEN,
                  net_params(162, 15, 7, 11, 5, F64, 0.5, 1.0, 8000.0), F64, 0.05),
]
