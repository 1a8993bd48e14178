"""Assignment 2: linear classifiers (SVM, softmax) and a two-layer network."""
from ...assignment import Assignment

ASSIGNMENT = Assignment(
    name="a2",
    title="Assignment 2",
    student_dir="a2",
    code_files=("linear_classifier.py", "two_layer_net.py"),
    functions={
        "svm_loss_naive": "linear_classifier",
        "svm_loss_vectorized": "linear_classifier",
        "softmax_loss_naive": "linear_classifier",
        "softmax_loss_vectorized": "linear_classifier",
        "sample_batch": "linear_classifier",
        "train_linear_classifier": "linear_classifier",
        "predict_linear_classifier": "linear_classifier",
        "svm_get_search_params": "linear_classifier",
        "softmax_get_search_params": "linear_classifier",
        "test_one_param_set": "linear_classifier",
        "LinearClassifier": "linear_classifier",
        "nn_forward_pass": "two_layer_net",
        "nn_forward_backward": "two_layer_net",
        "nn_train": "two_layer_net",
        "nn_predict": "two_layer_net",
        "nn_get_search_params": "two_layer_net",
        "find_best_net": "two_layer_net",
        "TwoLayerNet": "two_layer_net",
        "best_models": "checkpoints",
    },
    package=__name__,
    checkpoints=("svm_best_model.pt", "softmax_best_model.pt", "nn_best_model.pt"),
    entry_points={"LinearClassifier": ("LinearClassifier", "LinearSVM", "Softmax"), "best_models": ()},
    loss_functions=frozenset({"svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive",
                              "softmax_loss_vectorized", "nn_forward_backward"}),
    # nn_predict's cases judge its labels; sample_batch's, rows of X with their labels.
    value_probes=frozenset({"nn_predict", "sample_batch"}),
    # The Winter 2022 and Fall 2020 templates hand out svm_loss_naive's loss loop complete, so
    # only its gradient is the student's work.
    given_outputs_need={"svm_loss_naive": "dW"},
    notebooks=("linear_classifier.ipynb", "two_layer_net.ipynb"),
    # Assignment 3's softmax_loss and svm_loss (helpers.losses, the course's a3_helper) return
    # A2's losses and their score gradients.
    withheld=("helpers.losses", "a3_helper"),
)
