"""Assignment 3, part 1: fully connected networks from modular layers (Linear, ReLU, Dropout),
TwoLayerNet and FullyConnectedNet, the update rules, a Solver instance and the overfitting
searches."""
from ...assignment import Assignment

ASSIGNMENT = Assignment(
    name="a3",
    title="Assignment 3, part 1 (fully connected networks)",
    student_dir="a3",
    code_files=("fully_connected_networks.py",),
    functions={
        "Linear.forward": "fully_connected_networks",
        "Linear.backward": "fully_connected_networks",
        "ReLU.forward": "fully_connected_networks",
        "ReLU.backward": "fully_connected_networks",
        "Linear_ReLU": "fully_connected_networks",
        "TwoLayerNet.__init__": "fully_connected_networks",
        "TwoLayerNet.loss": "fully_connected_networks",
        "FullyConnectedNet.__init__": "fully_connected_networks",
        "FullyConnectedNet.loss": "fully_connected_networks",
        "create_solver_instance": "fully_connected_networks",
        "get_three_layer_network_params": "fully_connected_networks",
        "get_five_layer_network_params": "fully_connected_networks",
        "sgd_momentum": "fully_connected_networks",
        "rmsprop": "fully_connected_networks",
        "adam": "fully_connected_networks",
        "Dropout.forward": "fully_connected_networks",
        "Dropout.backward": "fully_connected_networks",
        "best_models": "checkpoints",
    },
    package=__name__,
    checkpoints=("best_two_layer_net.pth", "best_overfit_five_layer_net.pth"),
    # What a case runs, as nodes of the call graph (a method is "Class.method"): a backward case
    # may run its layer's forward (the gradient checks, Dropout's mask), a loss case its net's
    # constructor (the probe builds the net with it); a hang in one method skips only these.
    entry_points={"Linear.forward": ("Linear.forward",), "Linear.backward": ("Linear.backward", "Linear.forward"),
                  "ReLU.forward": ("ReLU.forward",), "ReLU.backward": ("ReLU.backward", "ReLU.forward"),
                  "Linear_ReLU": ("Linear_ReLU",),
                  "TwoLayerNet.__init__": ("TwoLayerNet.__init__",),
                  "TwoLayerNet.loss": ("TwoLayerNet.loss", "TwoLayerNet.__init__"),
                  "FullyConnectedNet.__init__": ("FullyConnectedNet.__init__",),
                  "FullyConnectedNet.loss": ("FullyConnectedNet.loss", "FullyConnectedNet.__init__"),
                  "Dropout.forward": ("Dropout.forward",), "Dropout.backward": ("Dropout.backward", "Dropout.forward"),
                  "best_models": ()},
    loss_functions=frozenset({"TwoLayerNet.loss", "FullyConnectedNet.loss", "Linear.backward", "ReLU.backward",
                              "Dropout.backward"}),
    value_probes=frozenset({"layer_call", "net_loss", "optimizer", "dropout_forward", "dropout_backward",
                            "net_init"}),
    notebooks=("fully_connected_networks.ipynb",),
)
