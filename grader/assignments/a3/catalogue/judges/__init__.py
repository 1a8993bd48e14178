"""Assignment 3's judges: what a reply must show for each kind of case, by subject (the engine's
generic judges are used where they fit: ``judge_values`` for layer outputs and networks' loss and
grads)."""
from .dropout import judge_dropout_backward, judge_dropout_forward
from .layers import judge_layer_numeric, judge_layer_values, judge_linear_relu_given
from .networks import judge_net_init, judge_net_loss
from .optimizers import judge_optimizer
from .solver import judge_best_models, judge_search_values, judge_solver_instance

__all__ = ["judge_best_models", "judge_dropout_backward", "judge_dropout_forward", "judge_layer_numeric",
           "judge_layer_values", "judge_linear_relu_given", "judge_net_init", "judge_net_loss", "judge_optimizer",
           "judge_search_values", "judge_solver_instance"]
