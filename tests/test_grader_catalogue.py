"""The grader on the solution, the stubs, seeded bugs and legitimate alternatives: does it give
full marks where they are due, take points from the right function, and name the mistake?"""
import pytest

from submissions import LC, TLN, make_submission


def _fn(report, name):
    results = [r for r in report.results if r.check == name]
    assert results, f"no cases for {name}"
    return results


def _lost(report, name):
    return [r for r in _fn(report, name) if r.status == "failed"]


def test_solution_gets_every_graded_point(grade_with):
    report = grade_with(None, hidden=True)
    assert not [r for r in report.results if r.status in ("failed", "grader error")], report.summary()
    assert report.score == report.max_score == 85
    assert sum(r.max_points for r in report.results) == 100  # 15 more once CIFAR-10 is on the machine
    assert {r.status for r in _fn(report, "best_models")} == {"not graded"}


def test_stubs_score_zero_saying_not_implemented(tmp_path, grade_with):
    report = grade_with(make_submission(tmp_path / "stub", stub=True), hidden=True)
    graded = [r for r in report.results if r.status != "not graded" and r.max_points > 0]
    assert report.score == 0
    assert not [r for r in report.results if r.status == "grader error"]
    assert all(r.status == "failed" for r in graded)
    unexplained = [r for r in graded if "not implemented yet" not in r.message]
    assert not unexplained, [(r.check, r.name, r.message[:200]) for r in unexplained]


ONE_PARAM_TRAIN = ("    cls.train(data_dict[\"X_train\"], data_dict[\"y_train\"], learning_rate=lr, reg=reg,\n"
                   "              num_iters=num_iters, batch_size=200, verbose=False)\n")
ONE_PARAM_PREDICT = "    y_train_pred = cls.predict(data_dict[\"X_train\"])\n"
FLOAT64_LOSS = ("loss = -log_probs[rows, y].sum() / N + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))\n",
                "loss = -log_probs[rows, y].sum() / N + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))\n"
                "    loss = loss.double()  # right values, float64 for float32 inputs\n")

LOOP_OLD = '    for lr, hidden, reg, decay in itertools.product(*get_param_set_fn()):\n        net = TwoLayerNet(input_size, hidden, num_classes,\n                          dtype=X_train.dtype, device=X_train.device)\n        stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr,\n                         learning_rate_decay=decay, reg=reg, num_iters=1000, batch_size=500)\n        val_acc = (net.predict(X_val) == y_val).double().mean().item()\n        if best_net is None or val_acc > best_val_acc:\n            best_net, best_stat, best_val_acc = net, stat, val_acc\n'
LOOP_NEW = '    learning_rates, hidden_sizes, regs, decays = get_param_set_fn()\n    for lr, hidden, reg in itertools.product(learning_rates, hidden_sizes, regs):\n        for decay in decays:\n            net = TwoLayerNet(input_size, hidden, num_classes,\n                              dtype=X_train.dtype, device=X_train.device)\n            stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr,\n                             learning_rate_decay=decay, reg=reg, num_iters=1000, batch_size=500)\n        val_acc = (net.predict(X_val) == y_val).double().mean().item()\n        if best_net is None or val_acc > best_val_acc:\n            best_net, best_stat, best_val_acc = net, stat, val_acc\n'

# (id, edits, function that must lose points, words the message must contain)
BUGS = [
    ("svm naive dW not averaged", [(LC, "    dW /= num_train\n", "")], "svm_loss_naive", "not averaged"),
    ("svm vectorized half reg", [(LC, "loss = margins.sum() / N + reg * torch.sum(W * W)",
                                  "loss = margins.sum() / N + 0.5 * reg * torch.sum(W * W)")],
     "svm_loss_vectorized", "1/2"),
    ("svm vectorized counts correct class", [(LC, "    margins[rows, y] = 0  # the correct class is excluded\n", "")],
     "svm_loss_vectorized", "correct class counted"),
    ("svm vectorized loops over samples", [(LC, "    margins[rows, y] = 0  # the correct class is excluded\n",
                                            "    for i in range(N):\n        margins[i, y[i]] = 0\n")],
     "svm_loss_vectorized", "no explicit loops"),
    ("softmax vectorized without max shift", [(LC, "    scores = scores - scores.max(dim=1, keepdim=True).values\n"
                                                   "    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()  # (N, C)",
                                               "    log_probs = (scores.exp() / scores.exp().sum(dim=1, keepdim=True)).log()")],
     "softmax_loss_vectorized", "largest score is subtracted"),
    ("softmax naive reg gradient without factor 2", [(LC, "    dW = dW / num_train + 2 * reg * W", "    dW = dW / num_train + reg * W")],
     "softmax_loss_naive", "factor 2"),
    ("softmax vectorized loss not averaged", [(LC, "    loss = -log_probs[rows, y].sum() / N + reg", "    loss = -log_probs[rows, y].sum() + reg")],
     "softmax_loss_vectorized", "not averaged"),
    ("svm vectorized moves to cpu", [(LC, "    scores = W.t().mm(X.t()).t()\n    correct", "    scores = X.cpu().mm(W)\n    correct")],
     "svm_loss_vectorized", ".cpu() moves a tensor off the inputs' device"),
    ("svm vectorized modifies X", [(LC, "    scores = W.t().mm(X.t()).t()\n    correct", "    X.mul_(1.0001)\n    scores = X.mm(W)\n    correct")],
     "svm_loss_vectorized", "modified in place"),
    ("predict argmax over dim 0", [(LC, "y_pred = X.mm(W).argmax(dim=1)", "y_pred = X.mm(W).argmax(dim=0)")],
     "predict_linear_classifier", "wrong axis"),
    ("sample_batch from the first rows only", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                                "idx = torch.randint(10, (batch_size,), device=X.device)")],
     "sample_batch", "distinct rows"),
    ("sgd step with the wrong sign", [(LC, "        W -= learning_rate * grad\n", "        W += learning_rate * grad\n")],
     "train_linear_classifier", "plain SGD"),
    ("accuracy as a percentage", [(LC, "val_acc = (y_val_pred == data_dict[\"y_val\"]).double().mean().item()",
                                   "val_acc = 100 * (y_val_pred == data_dict[\"y_val\"]).double().mean().item()")],
     "test_one_param_set", "one unit"),
    ("forward pass calls torch.relu", [(TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)", "hidden = torch.relu(X.mm(W1) + b1)")],
     "nn_forward_pass", "torch.relu"),
    ("forward pass without ReLU", [(TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)", "hidden = X.mm(W1) + b1")],
     "nn_forward_pass", "ReLU missing"),
    ("backward without ReLU mask", [(TLN, "dhidden = dscores.mm(W2.t()) * (h1 > 0)", "dhidden = dscores.mm(W2.t())")],
     "nn_forward_backward", "ReLU mask"),
    ("backward regularizes biases", [(TLN, "grads[\"b1\"] = dhidden.sum(dim=0)", "grads[\"b1\"] = dhidden.sum(dim=0) + 2 * reg * b1")],
     "nn_forward_backward", "biases"),
    ("bias gradient averaged", [(TLN, "grads[\"b2\"] = dscores.sum(dim=0)", "grads[\"b2\"] = dscores.mean(dim=0)")],
     "nn_forward_backward", "averaged instead of summed"),
    ("net reg gradient without factor 2", [(TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2",
                                            "grads[\"W2\"] = h1.t().mm(dscores) + reg * W2")],
     "nn_forward_backward", "factor 2"),
    ("net regularization with 1/2", [(TLN, "loss = -log_probs[rows, y].sum() / N + reg * (torch.sum(W1 * W1)",
                                      "loss = -log_probs[rows, y].sum() / N + 0.5 * reg * (torch.sum(W1 * W1)"),
                                     (TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2", "grads[\"W2\"] = h1.t().mm(dscores) + reg * W2"),
                                     (TLN, "grads[\"W1\"] = X.t().mm(dhidden) + 2 * reg * W1", "grads[\"W1\"] = X.t().mm(dhidden) + reg * W1")],
     "nn_forward_backward", "regularization with 1/2"),
    ("lr decays every iteration", [(TLN, "            learning_rate *= learning_rate_decay\n", ""),
                                   (TLN, "        if verbose and it % 100 == 0:\n",
                                    "        learning_rate *= learning_rate_decay\n        if verbose and it % 100 == 0:\n")],
     "nn_train", "it = 0 included"),
    ("nn_predict argmax over dim 0", [(TLN, "y_pred = loss_func(params, X).argmax(dim=1)", "y_pred = loss_func(params, X).argmax(dim=0)")],
     "nn_predict", "wrong axis"),
    ("find_best_net keeps the last net", [(TLN, "if best_net is None or val_acc > best_val_acc:", "if True:")],
     "find_best_net", "highest validation accuracy"),
    ("find_best_net hard-codes ten classes", [(TLN, "    num_classes = int(max(y_train.max().item(), y_val.max().item())) + 1\n",
                                               "    num_classes = 7\n")],
     "find_best_net", "number of classes"),
    ("find_best_net ranks nets by their history's peak", [
        (TLN, "        val_acc = (net.predict(X_val) == y_val).double().mean().item()",
              "        val_acc = max(stat['val_acc_history'])")],
     "find_best_net", "best point of their history"),
    ("find_best_net never stores the best net", [(TLN, "            best_net, best_stat, best_val_acc = net, stat, val_acc",
                                                  "            best_stat, best_val_acc = stat, val_acc")],
     "find_best_net", "best_net is None"),
    ("nn_predict takes the largest scores, not their classes", [
        (TLN, "y_pred = loss_func(params, X).argmax(dim=1)", "y_pred = torch.max(loss_func(params, X), dim=1)[0]")],
     "nn_predict", "the labels are the indices"),
    ("predict keeps the first row's label only", [(LC, "y_pred = X.mm(W).argmax(dim=1)", "y_pred = X.mm(W).argmax(dim=1)[0]")],
     "predict_linear_classifier", "first row"),
    ("svm correct class weighted by the margins' sum", [(LC, "    coeff[rows, y] = -coeff.sum(dim=1)\n",
                                                         "    coeff[rows, y] = -margins.sum(dim=1)\n")],
     "svm_loss_vectorized", "sum the mask"),
    ("softmax scores lost before the softmax", [(LC, "        scores = scores - scores.max()\n",
                                                 "        scores = scores - scores.max(scores)\n")],
     "softmax_loss_naive", "log C = log "),
    ("softmax gradient averaged over the classes", [
        (LC, "    dW = dscores.t().mm(X).t() / N + 2 * reg * W  # (D, C)",
             "    dW = X.t().mm(dscores.mean(dim=1, keepdim=True)) + 2 * reg * W")],
     "softmax_loss_vectorized", "every column of your dW is the same"),
    ("svm one-hot made without device=", [(LC, "    margins[rows, y] = 0  # the correct class is excluded\n",
                                           "    onehot = torch.zeros(N, W.shape[1], dtype=X.dtype)\n"
                                           "    onehot[rows, y] = 1\n    margins = margins * (1 - onehot)\n")],
     "svm_loss_vectorized", "would crash on CUDA inputs"),
    ("search grid with one value", [(LC, "    regularization_strengths = [1e-3, 5e-3, 1e-2]", "    regularization_strengths = [1e-3]")],
     "svm_get_search_params", "at least two values in each list"),
    ("search grid of 30 combinations", [(LC, "    learning_rates = [1e-3, 3e-3, 1e-2]\n    regularization_strengths = [1e-3, 5e-3, 1e-2]",
                                         "    learning_rates = [1e-3, 3e-3, 1e-2, 2e-2, 3e-2, 5e-2]\n"
                                         "    regularization_strengths = [1e-3, 5e-3, 1e-2, 2e-2, 3e-2]")],
     "svm_get_search_params", "at most 25 combinations"),
    ("accuracies left as tensors", [(LC, "train_acc = (y_train_pred == data_dict[\"y_train\"]).double().mean().item()",
                                     "train_acc = (y_train_pred == data_dict[\"y_train\"]).double().mean()")],
     "test_one_param_set", "must be a Python float"),
    ("find_best_net ignores the decays", [(TLN, "learning_rate=lr,\n                         learning_rate_decay=decay, reg=reg",
                                           "learning_rate=lr,\n                         reg=reg")],
     "find_best_net", "ignores the learning_rate_decays"),
    ("test_one_param_set overrides num_iters", [(LC, "    cls.train(data_dict[\"X_train\"], data_dict[\"y_train\"], learning_rate=lr, reg=reg,",
                                                  "    num_iters = 100\n    cls.train(data_dict[\"X_train\"], data_dict[\"y_train\"], learning_rate=lr, reg=reg,")],
     "test_one_param_set", "train with the num_iters it is given"),
    ("find_best_net swaps lr and reg", [(TLN, "learning_rate=lr,\n                         learning_rate_decay=decay, reg=reg",
                                         "learning_rate=reg,\n                         learning_rate_decay=decay, reg=lr")],
     "find_best_net", "which are the grid's regularization_strengths"),
    ("find_best_net validates on the training data", [(TLN, "stat = net.train(X_train, y_train, X_val, y_val,",
                                                       "stat = net.train(X_train, y_train, X_train, y_train,")],
     "find_best_net", "validation data"),
    ("find_best_net tries only the first combination", [(TLN, "    for lr, hidden, reg, decay in itertools.product(*get_param_set_fn()):",
                                                         "    for lr, hidden, reg, decay in list(itertools.product(*get_param_set_fn()))[:1]:")],
     "find_best_net", "per combination"),
    ("test_one_param_set trains with the SVM loss whatever cls is", [(LC, ONE_PARAM_TRAIN, (
        "    cls.W, _ = train_linear_classifier(svm_loss_vectorized, None, data_dict[\"X_train\"],\n"
        "                                       data_dict[\"y_train\"], lr, reg, num_iters, 200)\n"))],
     "test_one_param_set", "svm_loss_vectorized, not cls.loss"),
    ("test_one_param_set keeps the trained W out of cls", [(LC, ONE_PARAM_TRAIN + ONE_PARAM_PREDICT, (
        "    W, _ = train_linear_classifier(cls.loss, cls.W, data_dict[\"X_train\"], data_dict[\"y_train\"],\n"
        "                                   lr, reg, num_iters, 200)\n"
        "    y_train_pred = predict_linear_classifier(W, data_dict[\"X_train\"])\n"))],
     "test_one_param_set", "cls.W is not the trained weights"),
    ("sample_batch never draws the last row", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                                "idx = torch.randint(low=0, high=num_train - 1, size=(batch_size,), "
                                                "device=X.device)")],
     "sample_batch", "(the last) was never drawn"),
    ("sample_batch never draws the first row", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                                 "idx = torch.randint(1, num_train, (batch_size,), device=X.device)")],
     "sample_batch", "row 0 (the first) was never drawn"),
    ("backward reads y before returning the scores", [(TLN, "    scores, h1 = nn_forward_pass(params, X)\n    if y is None:",
                                                      "    scores, h1 = nn_forward_pass(params, X)\n    C = y.shape\n"
                                                      "    if y is None:")],
     "nn_forward_backward", "without y (y=None): raised AttributeError"),
    ("softmax vectorized shifts by one max for the whole matrix", [
        (LC, "    scores = scores - scores.max(dim=1, keepdim=True).values\n", "    scores -= scores.max()\n")],
     "softmax_loss_vectorized", "one max over the whole matrix instead of each row's"),
    ("softmax vectorized, torch.max of the whole matrix, then log of probabilities", [
        (LC, "    scores = scores - scores.max(dim=1, keepdim=True).values\n"
             "    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()  # (N, C)\n",
             "    scores = scores - torch.max(scores)\n"
             "    log_probs = (scores.exp() / scores.exp().sum(dim=1, keepdim=True)).log()\n")],
     "softmax_loss_vectorized", "one max over the whole matrix instead of each row's"),
    ("svm naive dW neither averaged nor regularized", [(LC, "    dW /= num_train\n    dW += 2 * reg * W\n", "")],
     "svm_loss_naive", "not averaged over N and regularization missing"),
    ("softmax vectorized without max shift and a divided regularization gradient", [
        (LC, "    scores = scores - scores.max(dim=1, keepdim=True).values\n", ""),
        (LC, "    dW = dscores.t().mm(X).t() / N + 2 * reg * W  # (D, C)", "    dW = (dscores.t().mm(X).t() + 2 * reg * W) / N")],
     "softmax_loss_vectorized", "regularization gradient divided by N"),
    ("svm vectorized margins never clamped at 0", [
        (LC, "    margins = (scores - correct + 1).clamp(min=0)  # (N, C)", "    margins = scores - correct + 1  # (N, C)")],
     "svm_loss_vectorized", "margins not clamped at 0"),
    ("svm vectorized regularization as reg * sum(W.T @ W)", [
        (LC, "loss = margins.sum() / N + reg * torch.sum(W * W)", "loss = margins.sum() / N + reg * torch.sum(W.t().mm(W))")],
     "svm_loss_vectorized", "reg * sum(W.T @ W)"),
    ("net regularization gradient divided by N", [
        (TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2", "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2 / N")],
     "nn_forward_backward", "regularization gradient divided by N"),
    ("net not averaged and no factor 2", [
        (TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2", "grads[\"W2\"] = h1.t().mm(dscores) * N + reg * W2")],
     "nn_forward_backward", "not averaged over N and missing factor 2"),
    ("svm naive with a float32 accumulator in a float64 loss", [
        (LC, "    loss = 0.0\n    for i in range(num_train):\n        scores = W.t().mv(X[i])  # (C,)\n        correct_class_score",
         "    loss = torch.tensor(0.0, device=W.device)\n    for i in range(num_train):\n"
         "        scores = W.t().mv(X[i])  # (C,)\n        correct_class_score"),
        (LC, "    loss /= num_train\n    loss += reg * torch.sum(W * W)\n",
         "    loss = loss / num_train + reg * torch.sum(W * W)\n")],
     "svm_loss_naive", "right only to float32's precision"),
    ("softmax naive reg gradient squared", [(LC, "    dW = dW / num_train + 2 * reg * W", "    dW = dW / num_train + 2 * reg * W * W")],
     "softmax_loss_naive", "with reg = 0 your dW is right, so the data term is right"),
    ("svm vectorized gradient wrong in the data term", [
        (LC, "    coeff[rows, y] = -coeff.sum(dim=1)", "    coeff[rows, y] = -1")],
     "svm_loss_vectorized", "with reg = 0 your dW is already wrong"),
    ("find_best_net compares only the last decay's nets", [(TLN, LOOP_OLD, LOOP_NEW)],
     "find_best_net", "outside it), so only the last decay's net of each combination"),
    ("find_best_net returns neither best_stat nor best_val_acc", [
        (TLN, "            best_net, best_stat, best_val_acc = net, stat, val_acc", "            best_net = net")],
     "find_best_net", "best_stat is None"),
    ("find_best_net returns every run's stats as best_stat", [
        (TLN, "            best_net, best_stat, best_val_acc = net, stat, val_acc",
              "            best_net, best_val_acc = net, val_acc\n        all_stats.append(stat)"),
        (TLN, "    # END SOLUTION\n    return best_net, best_stat, best_val_acc",
              "    best_stat = all_stats\n    # END SOLUTION\n    return best_net, best_stat, best_val_acc"),
        (TLN, "    input_size = X_train.shape[1]\n", "    input_size = X_train.shape[1]\n    all_stats = []\n")],
     "find_best_net", "best_stat holds 6 runs' stats"),
    ("net shifts by one max for the whole matrix", [
        (TLN, "shifted = scores - scores.max(dim=1, keepdim=True).values", "shifted = scores - scores.max()")],
     "nn_forward_backward", "one max over the whole matrix instead of each row's"),
]


def test_a_right_gradient_beside_a_wrong_loss_keeps_its_numeric_gradient_case(tmp_path, grade_with):
    """No double penalty: the loss alone is wrong (not averaged); the gradient is the reference's,
    so the case that differences the student's own loss passes, saying the loss is what is wrong."""
    edits = [(LC, "    loss = loss / num_train + reg * torch.sum(W * W)", "    loss = loss + reg * torch.sum(W * W)")]
    report = grade_with(make_submission(tmp_path / "loss", edits), functions=["softmax_loss_naive"], hidden=True)
    numeric = [r for r in _fn(report, "softmax_loss_naive") if "numeric" in r.name]
    assert numeric and all(r.status == "passed" for r in numeric), report.summary()
    assert "the loss is what is wrong" in numeric[0].details(), numeric[0].details()
    lost = _lost(report, "softmax_loss_naive")
    assert lost and all("loss" in r.message and "dW" not in r.message for r in lost), report.summary()


def test_a_float64_result_right_only_to_float32_precision_is_placed():
    """A float32 accumulator in a float64 loss: values off by float32 rounding, and said so; a
    result off by more is not called a precision problem."""
    import torch

    from grader.localise import float32_precision

    right = torch.tensor(1.2345678901234, dtype=torch.float64)
    rounded = {"kind": "tensor", "value": right.float().double() * (1 + 3e-7), "dtype": "float64", "device": "cpu"}
    wrong = {"kind": "tensor", "value": right * 1.001, "dtype": "float64", "device": "cpu"}
    assert "float32's precision" in float32_precision(["loss"], {"loss": rounded}, {"loss": right}, "cpu")[0]
    assert float32_precision(["loss"], {"loss": wrong}, {"loss": right}, "cpu") == []


def test_find_best_net_names_every_wrong_return(tmp_path, grade_with):
    """best_stat left None and best_val_acc never updated: the returns case names both, and the
    case that keeps the best net says why the last net was kept."""
    report = grade_with(make_submission(tmp_path / "returns", _bug("find_best_net returns neither best_stat nor "
                                                                   "best_val_acc")), functions=["find_best_net"])
    returns = next(r for r in _lost(report, "find_best_net") if r.name.startswith("returns"))
    assert "best_stat is None" in returns.message and "best_val_acc is 0.0" in returns.message, returns.message
    kept = next(r for r in _lost(report, "find_best_net") if r.name.startswith("keeps"))
    assert "best_val_acc is not updated" in kept.details(), kept.details()


def _bug(name):
    return next(edits for label, edits, _, _ in BUGS if label == name)


@pytest.mark.parametrize("edits,function,words", [b[1:] for b in BUGS], ids=[b[0] for b in BUGS])
def test_seeded_bug_loses_points_on_its_function_with_a_named_cause(tmp_path, grade_with, edits, function, words):
    report = grade_with(make_submission(tmp_path / "bug", edits), functions=[function], hidden=True)
    lost = _lost(report, function)
    assert lost, report.summary()
    text = "\n".join(r.details() for r in lost)
    assert words in text, text
    assert not [r for r in report.results if r.status == "grader error"]


def test_a_bug_costs_only_its_own_function(tmp_path, grade_with):
    report = grade_with(make_submission(tmp_path / "bug", _bug("backward without ReLU mask")), hidden=True)
    failing = {r.check for r in report.results if r.status == "failed"}
    # Every function that calls nn_forward_backward is graded with a stand-in for it.
    assert failing == {"nn_forward_backward"}


def test_a_tensor_made_without_device_costs_the_device_rule_alone(tmp_path, grade_with):
    """A tensor left on the CPU that meets the inputs would crash on the GPU, as device='cuda'
    crashes without one: one rule, one price. The rule's case fails naming both lines; the
    value cases judge the values and keep their points, with a note."""
    report = grade_with(make_submission(tmp_path / "nodevice", _bug("svm one-hot made without device=")),
                        functions=["svm_loss_vectorized"], hidden=True)
    lost = _lost(report, "svm_loss_vectorized")
    assert [r.name for r in lost] == ["rule: tensors follow the inputs' device"], report.summary()
    assert "would crash on CUDA inputs" in lost[0].details() and "torch.zeros(...) at line" in lost[0].details()
    got, out_of = report.function_scores()["svm_loss_vectorized"]
    assert got == out_of - lost[0].max_points
    noted = [r for r in report.results if r.check == "svm_loss_vectorized" and r.status == "passed"
             and "would crash on CUDA inputs" in r.details()]
    assert noted, report.summary()


def test_a_float32_net_whose_loss_is_right_in_float64_keeps_its_points(tmp_path, grade_with):
    """loss.double() in a float32 net: the template states no dtype for the loss, and its values
    are right, so every value case keeps its points and a note names the dtype."""
    report = grade_with(make_submission(tmp_path / "f64", [(TLN, *FLOAT64_LOSS)]), functions=["nn_forward_backward"],
                        hidden=True)
    assert not _lost(report, "nn_forward_backward"), report.summary()
    noted = [r for r in report.results if any("loss is float64 for float32 inputs" in w for w in r.warnings)]
    assert noted and all("float32" in r.name for r in noted), [(r.name, r.warnings) for r in report.results]
    assert all("the dtype costs no points" in w for r in noted for w in r.warnings if "float64 for" in w)


def test_a_wrong_loss_in_float64_still_loses_its_value_points(tmp_path, grade_with):
    """The same cast on a loss whose regularization is halved: the cases with reg > 0 fail on the
    loss's values (in float32 cases as in float64 ones), and the dtype is only the note."""
    wrong = FLOAT64_LOSS[1].replace("+ reg * (", "+ 0.5 * reg * (")
    assert wrong != FLOAT64_LOSS[1]
    report = grade_with(make_submission(tmp_path / "half", [(TLN, FLOAT64_LOSS[0], wrong)]),
                        functions=["nn_forward_backward"], hidden=True)
    lost = _lost(report, "nn_forward_backward")
    assert any("float32" in r.name for r in lost) and any("float64" in r.name for r in lost), report.summary()
    for r in lost:
        if "float32" in r.name:
            assert "loss:" in r.message and "dtype float64, expected" not in r.message, r.details()
            assert any("loss is float64 for float32 inputs" in w for w in r.warnings), r.details()


def test_scores_without_y_cost_only_their_own_case_and_function(tmp_path, grade_with):
    """nn_forward_backward reading y before the given `if y is None: return scores` fails only the
    case that calls it without y; an nn_predict that asks nn_forward_backward(params, X) for the
    scores keeps its points (it is graded with a stand-in for nn_forward_backward)."""
    edits = _bug("backward reads y before returning the scores") + [
        (TLN, "y_pred = loss_func(params, X).argmax(dim=1)", "y_pred = nn_forward_backward(params, X).argmax(dim=1)")]
    report = grade_with(make_submission(tmp_path / "y", edits), functions=["nn_forward_backward", "nn_predict"],
                        hidden=True)
    assert [r.name for r in _lost(report, "nn_forward_backward")] == ["without y (y=None): returns the scores"]
    assert not _lost(report, "nn_predict"), report.summary()
    lost = _lost(report, "nn_forward_backward")[0]
    assert "if y is None: return scores" in lost.details(), lost.details()


def test_nn_forward_backward_points_are_unchanged_by_the_scores_case():
    from grader.catalogue import all_cases

    cases = [c for c in all_cases() if c.function == "nn_forward_backward"]
    assert sum(c.points for c in cases if c.visibility == "public") == 8
    assert sum(c.points for c in cases) == 15
    assert sum(c.points for c in all_cases()) == 100


def _sample_batch_verdict(sample, seed):
    """sample_batch's case, probed and judged in this process with ``sample`` as the student's."""
    import dataclasses
    import types

    from grader.assignments.a2.catalogue.linear import CASES
    from grader.assignments.a2.instructor.recipes import make
    from grader.sandbox import Reply
    from grader.assignments.a2.student_side.probes import PROBES, Context
    from grader.student_side.wire import decode_reply, encode_reply

    case = next(c for c in CASES if c.function == "sample_batch")
    case = dataclasses.replace(case, params={**case.params, "seed": seed})
    payload, key = make(case)
    module = types.SimpleNamespace(sample_batch=sample)
    data = PROBES["sample_batch"](Context({"linear_classifier": module}, {}, [], "cpu"), payload)
    return case.judge(case, payload, Reply(data=decode_reply(encode_reply(data))), key, "cpu")


def _rows(X, y, idx):
    return X[idx], y[idx]


def test_sample_batch_spread_check_passes_every_uniform_sampler_and_no_off_by_one():
    """Over many seeds (and numpy's own unseeded generator), every uniform sampler passes and
    both off-by-ones fail: the case's numbers leave a uniform sampler about 4e-12 of a chance to
    miss a given row (26 independent draws of 50 from 50: 0.98 ** 1300 with replacement, none
    without; below 1e-9 for any of the 50), so the check cannot be flaky."""
    import numpy as np
    import torch

    fair = {
        "randint": lambda X, y, n, B: _rows(X, y, torch.randint(n, (B,))),
        "randint(0, n)": lambda X, y, n, B: _rows(X, y, torch.randint(0, n, size=(B,))),
        "randperm": lambda X, y, n, B: _rows(X, y, torch.randperm(n)[:B]),
        "multinomial": lambda X, y, n, B: _rows(X, y, torch.multinomial(torch.ones(n), B, replacement=True)),
        "numpy choice": lambda X, y, n, B: _rows(X, y, torch.from_numpy(np.random.choice(n, B))),
    }
    for name, sample in fair.items():
        for seed in range(25):
            verdict = _sample_batch_verdict(sample, seed)
            assert verdict.passed, (name, seed, verdict.message)
    off = {
        "never the last": (lambda X, y, n, B: _rows(X, y, torch.randint(low=0, high=n - 1, size=(B,))),
                           "(the last) was never drawn"),
        "never the first": (lambda X, y, n, B: _rows(X, y, torch.randint(1, n, (B,))), "row 0 (the first) was never drawn"),
        # a batch as large as the data: randperm(n - 1) cannot even fill it
        "randperm never the last": (lambda X, y, n, B: _rows(X, y, torch.randperm(n - 1)[:B]), "shape (49, 3)"),
    }
    for name, (sample, words) in off.items():
        for seed in range(10):
            verdict = _sample_batch_verdict(sample, seed)
            assert not verdict.passed and words in verdict.message, (name, seed, verdict.message)


# A device written out, or a move, costs the device rule's case alone, naming the line: graded
# on the CPU, code that names the GPU is given the CPU, and its values keep their points.
# (id, file, function, old, new, text of the line that breaks the rule)
NAMED_DEVICES = [
    ("svm naive dW made on 'cuda'", LC, "svm_loss_naive", "dW = torch.zeros_like(W)  # (D, C)",
     "dW = torch.zeros(W.shape, dtype=W.dtype, device='cuda')  # (D, C)", "torch.zeros(..., device='cuda')"),
    ("svm vectorized rows on 'cuda:0'", LC, "svm_loss_vectorized",
     "    rows = torch.arange(N, device=X.device)\n    # (N, C) scores",
     "    rows = torch.arange(N, device='cuda:0')\n    # (N, C) scores", "torch.arange(..., device='cuda:0')"),
    ("softmax naive loss as torch.tensor(0, device='cuda')", LC, "softmax_loss_naive",
     "loss = torch.zeros((), device=W.device, dtype=W.dtype)", "loss = torch.tensor(0, dtype=W.dtype, device='cuda')",
     "torch.tensor(..., device='cuda')"),
    ("softmax vectorized rows on torch.device('cuda')", LC, "softmax_loss_vectorized",
     "    rows = torch.arange(N, device=X.device)\n    scores = W.t().mm(X.t()).t()  # (N, C), in the fast",
     "    rows = torch.arange(N, device=torch.device('cuda'))\n    scores = W.t().mm(X.t()).t()  # (N, C), in the fast",
     "device=torch.device('cuda')"),
    ("sample_batch indices on 'cuda'", LC, "sample_batch", "idx = torch.randint(num_train, (batch_size,), device=X.device)",
     "idx = torch.randint(num_train, (batch_size,), device='cuda')", "torch.randint(..., device='cuda')"),
    ("svm mask typed as torch.cuda.DoubleTensor", LC, "svm_loss_vectorized", "coeff = (margins > 0).to(dtype=X.dtype)",
     "coeff = (margins > 0).type(torch.cuda.DoubleTensor)", ".type(torch.cuda.DoubleTensor)"),
    ("predict through .cuda()", LC, "predict_linear_classifier", "y_pred = X.mm(W).argmax(dim=1)",
     "y_pred = X.mm(W).cuda().argmax(dim=1)", ".cuda() moves a tensor to the GPU"),
    ("forward pass .to('cuda')", TLN, "nn_forward_pass", "hidden = (X.mm(W1) + b1).clamp(min=0)",
     "hidden = (X.mm(W1) + b1).clamp(min=0).to('cuda')", ".to('cuda')"),
    ("backward divides by torch.tensor(N, device='cuda')", TLN, "nn_forward_backward", "    dscores /= N\n",
     "    dscores /= torch.tensor(N, device='cuda')\n", "torch.tensor(..., device='cuda')"),
    ("nn_predict returns labels .cpu()", TLN, "nn_predict", "y_pred = loss_func(params, X).argmax(dim=1)",
     "y_pred = loss_func(params, X).argmax(dim=1).cpu()", ".cpu() moves a tensor off the inputs' device"),
]


@pytest.mark.parametrize("file,function,old,new,words", [d[1:] for d in NAMED_DEVICES], ids=[d[0] for d in NAMED_DEVICES])
def test_a_named_device_costs_only_the_device_rule_case_naming_the_line(tmp_path, grade_with, file, function, old,
                                                                         new, words):
    from grader.judges import DEVICE_RULE
    from submissions import edited

    report = grade_with(make_submission(tmp_path / "device", [(file, old, new)]), functions=[function], hidden=True)
    lost = _lost(report, function)
    assert [r.name for r in lost] == [DEVICE_RULE], report.summary()
    assert report.score == report.max_score - 0.5
    line = 1 + edited(file, [(old, new)]).split(new.strip().splitlines()[0])[0].count("\n")
    assert f"line {line}: " in lost[0].message and words in lost[0].message, lost[0].message


def test_a_stub_earns_nothing_from_the_device_rule(tmp_path, grade_with):
    """The device rule is a form case: code that computes nothing names no device either."""
    edits = [(LC, "y_pred = X.mm(W).argmax(dim=1)", "y_pred = torch.zeros(X.shape[0], dtype=torch.int64, device=X.device)"),
             (LC, "X_batch = X[idx]\n    y_batch = y[idx]", "X_batch = X[:batch_size]\n    y_batch = y[:batch_size]")]
    report = grade_with(make_submission(tmp_path / "zeros", edits),
                        functions=["predict_linear_classifier", "sample_batch"], hidden=True)
    assert report.score == 0, report.summary()


ALTERNATIVES = [
    ("relu by where", [(TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)",
                        "pre = X.mm(W1) + b1\n    hidden = torch.where(pre > 0, pre, torch.zeros_like(pre))")], "nn_forward_pass"),
    ("relu by mask product", [(TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)",
                               "pre = X.mm(W1) + b1\n    hidden = pre * (pre > 0)")], "nn_forward_pass"),
    ("relu by maximum", [(TLN, "hidden = (X.mm(W1) + b1).clamp(min=0)",
                          "pre = X @ W1 + b1\n    hidden = torch.maximum(pre, torch.zeros_like(pre))")], "nn_forward_pass"),
    ("softmax by logsumexp and gather", [(LC, "    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()  # (N, C)\n"
                                              "    loss = -log_probs[rows, y].sum() / N + reg * torch.sum(W * W)",
                                          "    log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)\n"
                                          "    loss = -log_probs.gather(1, y[:, None]).mean() + reg * (W ** 2).sum()")],
     "softmax_loss_vectorized"),
    ("softmax with index-based one-hot", [(LC, "    dscores = log_probs.exp()  # (N, C) probabilities\n    dscores[rows, y] -= 1\n",
                                           "    onehot = torch.zeros_like(log_probs)\n    onehot[rows, y] = 1\n"
                                           "    dscores = log_probs.exp() - onehot\n")], "softmax_loss_vectorized"),
    ("svm by einsum", [(LC, "    scores = W.t().mm(X.t()).t()\n    correct", "    scores = torch.einsum('nd,dc->nc', X, W)\n    correct"),
                       (LC, "    dW = coeff.t().mm(X).t() / N + 2 * reg * W", "    dW = torch.einsum('nd,nc->dc', X, coeff) / N + 2 * reg * W")],
     "svm_loss_vectorized"),
    ("net loss by logsumexp", [(TLN, "    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (N, C)",
                                "    log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)")], "nn_forward_backward"),
    ("sgd by rebinding the dict entries", [(TLN, "            params[name] -= learning_rate * grads[name]",
                                            "            params[name] = params[name] - learning_rate * grads[name]")], "nn_train"),
    ("find_best_net trains with nn_train directly", [
        (TLN, "        stat = net.train(X_train, y_train, X_val, y_val, learning_rate=lr,\n"
              "                         learning_rate_decay=decay, reg=reg, num_iters=1000, batch_size=500)",
              "        stat = nn_train(net.params, nn_forward_backward, nn_predict, X_train, y_train, X_val, y_val,\n"
              "                        lr, decay, reg, 1000, 500)")], "find_best_net"),
    ("find_best_net with the template's hard-coded sizes", [
        (TLN, "    input_size = X_train.shape[1]\n", "    input_size = 3 * 32 * 32\n"),
        (TLN, "    num_classes = int(max(y_train.max().item(), y_val.max().item())) + 1\n", "    num_classes = 10\n")],
     "find_best_net"),
    ("find_best_net ranks by the history's last entry", [
        (TLN, "        val_acc = (net.predict(X_val) == y_val).double().mean().item()",
              "        val_acc = stat['val_acc_history'][-1]")], "find_best_net"),
    ("nn_predict through nn_forward_pass", [(TLN, "y_pred = loss_func(params, X).argmax(dim=1)",
                                             "scores, _ = nn_forward_pass(params, X)\n    y_pred = torch.max(scores, 1)[1]")],
     "nn_predict"),
    ("nn_predict with the forward pass inlined", [(TLN, "y_pred = loss_func(params, X).argmax(dim=1)",
                                                   "h = X @ params['W1'] + params['b1']\n    h[h < 0] = 0\n"
                                                   "    y_pred = (h @ params['W2'] + params['b2']).argmax(1)")], "nn_predict"),
    ("accuracies as percentages", [(LC, "train_acc = (y_train_pred == data_dict[\"y_train\"]).double().mean().item()",
                                    "train_acc = 100.0 * (y_train_pred == data_dict[\"y_train\"]).double().mean().item()"),
                                   (LC, "val_acc = (y_val_pred == data_dict[\"y_val\"]).double().mean().item()",
                                    "val_acc = 100.0 * (y_val_pred == data_dict[\"y_val\"]).double().mean().item()")],
     "test_one_param_set"),
    ("sample_batch by randperm", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                   "idx = torch.randperm(num_train, device=X.device)[:batch_size]")], "sample_batch"),
    ("svm mask cast with .double()", [(LC, "    coeff = (margins > 0).to(dtype=X.dtype)  # (N, C)",
                                       "    coeff = (margins > 0).double()  # (N, C)")], "svm_loss_vectorized"),
    ("a 5 x 5 search grid", [(LC, "    learning_rates = [1e-3, 3e-3, 1e-2]\n    regularization_strengths = [1e-3, 5e-3, 1e-2]",
                              "    learning_rates = [1e-3, 2e-3, 3e-3, 5e-3, 1e-2]\n"
                              "    regularization_strengths = [1e-3, 2e-3, 5e-3, 1e-2, 2e-2]")], "svm_get_search_params"),
    ("the softmax loss by max shift, then log of probabilities", [
        (LC, "    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()  # (N, C)\n",
             "    probs = scores.exp() / scores.exp().sum(dim=1, keepdim=True)\n    log_probs = probs.log()\n")],
     "softmax_loss_vectorized"),
    ("sample_batch with randint(0, n)", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                          "idx = torch.randint(0, num_train, size=(batch_size,), device=X.device)")], "sample_batch"),
    ("sample_batch with multinomial", [(LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
                                        "idx = torch.multinomial(torch.ones(num_train, device=X.device), batch_size, "
                                        "replacement=True)")], "sample_batch"),
    ("test_one_param_set with the given train written out", [(LC, ONE_PARAM_TRAIN, (
        "    batch_size = 200\n"
        "    cls.W, _ = train_linear_classifier(cls.loss, cls.W, data_dict['X_train'], data_dict['y_train'],\n"
        "                                       lr, reg, num_iters, batch_size)\n")),
        (LC, "y_train_pred = cls.predict(data_dict[\"X_train\"])",
         "y_train_pred = predict_linear_classifier(cls.W, data_dict['X_train'])"),
        (LC, "y_val_pred = cls.predict(data_dict[\"X_val\"])",
         "y_val_pred = predict_linear_classifier(cls.W, data_dict['X_val'])")], "test_one_param_set"),
    ("find_best_net plots its search on log scales", [
        (TLN, "            best_net, best_stat, best_val_acc = net, stat, val_acc\n",
              "            best_net, best_stat, best_val_acc = net, stat, val_acc\n"
              "        results[(lr, reg)] = val_acc\n"),
        (TLN, "    for lr, hidden, reg, decay in itertools.product(*get_param_set_fn()):",
              "    import math\n    results = {}\n"
              "    for lr, hidden, reg, decay in itertools.product(*get_param_set_fn()):"),
        (TLN, "    # END SOLUTION\n    return best_net, best_stat, best_val_acc",
              "    x_scatter = [math.log10(x[0]) for x in results]  # the notebook's scatter plot\n"
              "    y_scatter = [math.log10(x[1]) for x in results]\n"
              "    # END SOLUTION\n    return best_net, best_stat, best_val_acc")], "find_best_net"),
]


ALTERNATIVES += [  # tensors that follow the inputs' device, however it is said
    ("labels to the inputs' device and long", [(LC, "    rows = torch.arange(N, device=X.device)\n    # (N, C) scores",
                                                "    y = y.to(dtype=torch.long, device=X.device)\n"
                                                "    rows = torch.arange(N, device=X.device)\n    # (N, C) scores")],
     "svm_loss_vectorized"),
    ("the inputs' device kept in a variable", [(LC, "    rows = torch.arange(N, device=X.device)\n    scores = W.t()",
                                                "    device = X.device\n    rows = torch.arange(N).to(device)\n"
                                                "    scores = W.t()")], "softmax_loss_vectorized"),
    ("a mask cast to the weights' dtype", [(TLN, "    dscores = log_probs.exp()  # (N, C)\n",
                                            "    dscores = log_probs.exp().to(W1.dtype)  # (N, C)\n")],
     "nn_forward_backward"),
    ("a CPU-made one-hot moved to the inputs' device", [
        (TLN, "    dscores = log_probs.exp()  # (N, C)\n    dscores[rows, y] -= 1\n",
              "    onehot = torch.zeros(N, W2.shape[1], dtype=X.dtype).to(X.device)\n    onehot[rows, y] = 1\n"
              "    dscores = log_probs.exp() - onehot  # (N, C)\n")], "nn_forward_backward"),
    ("a margin read back with .cpu().item()", [(LC, "            if margin > 0:\n                loss += margin",
                                                "            if margin.cpu().item() > 0:\n                loss += margin")],
     "svm_loss_naive"),
    ("sample_batch indices moved to the labels' device", [
        (LC, "idx = torch.randint(num_train, (batch_size,), device=X.device)",
             "idx = torch.randint(num_train, (batch_size,)).to(y.device)")], "sample_batch"),
]


@pytest.mark.parametrize("edits,function", [a[1:] for a in ALTERNATIVES], ids=[a[0] for a in ALTERNATIVES])
def test_legitimate_alternative_keeps_full_marks(tmp_path, grade_with, edits, function):
    report = grade_with(make_submission(tmp_path / "alt", edits), functions=[function], hidden=True)
    assert report.score == report.max_score > 0, report.summary()


def test_kit_course_and_zip_layouts_grade_identically(tmp_path, grade_with):
    import zipfile

    edits = BUGS[0][1] + _bug("bias gradient averaged")  # two bugs, so the comparison covers failures too
    kit = grade_with(make_submission(tmp_path / "kit", edits), hidden=True)
    course = grade_with(make_submission(tmp_path / "course", edits, layout="course"), hidden=True)
    archive = tmp_path / "jane_123_A2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("linear_classifier.py", "two_layer_net.py"):
            zf.write(tmp_path / "course" / name, arcname=name)
    zipped = grade_with(archive, hidden=True)

    def key(report):  # hidden and form cases' inputs are salted with each submission's files: numbers differ
        return [(r.check, r.name, r.status, r.points, r.message if r.visibility == "public" and "numeric" not in
                 r.name and "loops" not in r.name else r.reason) for r in report.results]

    assert key(kit) == key(course) == key(zipped)
    assert kit.score < kit.max_score


def test_hard_coded_public_outputs_gain_nothing(tmp_path, grade_with):
    """A predict that returns the published labels passes the public case alone, and loses it."""
    import torch

    from grader.fixtures import load

    labels = load()["predict_linear_classifier"]["float64, N=25 D=7 C=5"]["key"]["expected"].tolist()
    edits = [(LC, "y_pred = X.mm(W).argmax(dim=1)", f"y_pred = torch.tensor({labels}, device=X.device)")]
    report = grade_with(make_submission(tmp_path / "hard", edits), functions=["predict_linear_classifier"], hidden=True)
    assert report.score == 0
    assert any("hard-coded" in r.message for r in report.results)
    public = grade_with(make_submission(tmp_path / "hard2", edits), functions=["predict_linear_classifier"], hidden=False)
    assert public.score == public.max_score  # without hidden cases it cannot be told apart
    del torch


def test_search_case_learning_rates_are_told_apart_by_the_graders_own_training():
    """The search case's tables: the middle learning rate learns the CIFAR-shaped problem, the
    others leave the net where it started; the peaked history is above the best final one."""
    from grader.assignments.a2.catalogue.net import CASES
    from grader.assignments.a2.instructor.recipes import find_best_net

    payload, key = find_best_net(next(c for c in CASES if c.function == "find_best_net"))
    assert payload["data"]["X_train"].shape[1] == 3 * 32 * 32 and int(payload["data"]["y_train"].max()) == 9
    finals = key["final"]
    assert key["best_acc"] >= 0.6 and all(v <= 0.3 for lr, v in finals.items() if lr.split()[0] != repr(key["best_lr"]))
    # the best learning rate with the last decay gets half way: ahead of every other net of that
    # decay, behind the best (so a search that compares only the last decay's nets keeps it)
    last = f"{key['best_lr']!r} {payload['grid'][3][-1]!r}"
    assert max(v for lr, v in finals.items() if lr != last and lr != repr(key["best_lr"])) < finals[last] < key["best_acc"]
    assert key["best_decay"] != payload["grid"][3][-1]
    assert max(key["peaks"].values()) > key["best_acc"]
    assert payload["grid"][0][1] == key["best_lr"]  # neither the first nor the last
    # every value strictly positive: a search that plots its grid on log scales (the notebook's
    # scatter of math.log10 of the learning rates and regs) runs
    assert all(v > 0 for values in payload["grid"] for v in values), payload["grid"]
    from grader.assignments.a2.instructor.recipes import grader_training

    for lr in payload["grid"][0]:  # the tables say what the grader's own training does
        if lr != key["best_lr"]:
            assert grader_training(payload["data"], lr)[3][-1] == key["final"][repr(lr)], lr
    assert grader_training(payload["data"], key["best_lr"])[3][1] == finals[last]  # half way
    good = payload["histories"][repr(key["best_lr"])]["stat"]
    assert good["loss_history"][-1] < 0.1 * good["loss_history"][0]


def test_find_best_net_probe_puts_the_students_functions_back():
    """In the student process, the stand-ins replace TwoLayerNet & co only during the call."""
    import importlib

    from grader.assignments.a2.catalogue.net import CASES
    from grader.assignments.a2.instructor.recipes import find_best_net
    from grader.assignments.a2.student_side.probes import PROBES, Context

    tln = importlib.import_module("a2.two_layer_net")
    real = {name: getattr(tln, name) for name in ("TwoLayerNet", "nn_train", "nn_predict", "nn_forward_pass")}
    payload, _ = find_best_net(next(c for c in CASES if c.function == "find_best_net"))
    reply = PROBES["find_best_net"](Context({"two_layer_net": tln}, {}, [], "cpu"), payload)
    assert all(getattr(tln, name) is value for name, value in real.items())
    assert reply["outcome"]["error"] is None and reply["asked"] == 1
    assert [n["sizes"] for n in reply["nets"]] == [[3072, 8, 10]] * 6
    assert sorted(t["learning_rate"] for n in reply["nets"] for t in n["trains"]) == sorted(payload["grid"][0] * 2)
    assert reply["best_net"] == 2 and reply["stat_from"] == [2]  # lr = 1 with the first decay
    assert reply["stat_none"] is False and reply["stat_members"] is None



CPU_LOAD = 'checkpoint = torch.load(path, map_location="cpu", weights_only=True)'


def _line(name, text):
    """The line number of ``text`` in the solution's file ``name`` (edits below keep line counts)."""
    from submissions import solution_source

    return next(i for i, line in enumerate(solution_source(name).splitlines(), start=1) if text in line)


@pytest.mark.parametrize("edits, words", [
    ([(LC, "        self.W = W\n\n\nclass LinearSVM", "        self.W = W.t()\n\n\nclass LinearSVM")],
     ["LinearSVM and Softmax: load(save(...)) does not give back the same W (W has shape (3, 5) after load, "
      "(5, 3) before)"]),
    ([(TLN, CPU_LOAD, 'checkpoint = {"W1": 1}\n        ' + CPU_LOAD.replace("checkpoint", "_"))],
     ["TwoLayerNet: load(save(...)) failed, load raised ValueError: ", "(two_layer_net.py, line"]),
    ([(LC, CPU_LOAD, CPU_LOAD.replace('"cpu"', '"cuda"')), (TLN, CPU_LOAD, CPU_LOAD.replace('"cpu"', '"cuda"'))],
     ["LinearSVM and Softmax: load(save(...)) failed, load raised RuntimeError: Attempting to deserialize object "
      "on a CUDA device",
      f'linear_classifier.py, line {_line(LC, CPU_LOAD)}: `checkpoint = torch.load(path, map_location="cuda", ',
      "TwoLayerNet: load(save(...)) failed, load raised RuntimeError: Attempting to deserialize",
      f"two_layer_net.py, line {_line(TLN, CPU_LOAD)}: `checkpoint = torch.load(path, map_location=\"cuda\""]),
])
def test_given_code_notes_say_what_happened_and_reach_the_feedback(tmp_path, grade_with, edits, words):
    """A broken save/load of the given classes costs nothing, and the note names what happened
    (the step that raised, the exception and the student's line, or how the weights differ),
    in check's output and in the student's feedback Markdown, not only in the JSON."""
    import torch

    from grader.instructor.feedback import feedback_markdown

    if any('"cuda"' in new for _, _, new in edits) and torch.cuda.is_available():
        pytest.skip("map_location='cuda' loads where there is a GPU")
    report = grade_with(make_submission(tmp_path / "given", edits), functions=["LinearClassifier", "TwoLayerNet"],
                        hidden=False)
    assert report.score == 0 and report.max_score == 0 and {r.status for r in report.results} == {"passed"}
    notes = "\n".join(w for r in report.results for w in r.warnings)
    for shown in (notes, report.summary(), feedback_markdown("s", report)):
        for word in words:
            assert word in shown, (word, shown)


def test_a_bug_no_known_mistake_explains_is_placed_in_the_regularization_with_its_factor(tmp_path, grade_with):
    """A regularization gradient that is not a known mistake (3 * reg * W2): the message says the
    data term is right, the regularization's part of grads['W2'] is wrong, and by what factor."""
    edits = [(TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2", "grads[\"W2\"] = h1.t().mm(dscores) + 3 * reg * W2")]
    report = grade_with(make_submission(tmp_path / "w2", edits), functions=["nn_forward_backward"], hidden=False)
    lost = [r for r in _lost(report, "nn_forward_backward") if "reg=0.2" in r.name]
    assert lost, report.summary()
    text = lost[0].details()
    assert "Where it goes wrong (grads['W2'])" in text and "the data term is right" in text, text
    assert "1.5 times 2 * reg * W2" in text, text


def test_probes_are_asked_only_for_failing_cases_and_only_once_every_case_is_answered(tmp_path, grade_with,
                                                                                      monkeypatch):
    """A failing loss case's probe calls (which place what is wrong) come in a request of their own,
    sent only after the worker has answered every case: what it learns from which cases are asked
    about comes after every answer that earns points. A passing case asks for none."""
    from grader import sandbox

    sent = []
    original = sandbox.Worker.send_case

    def record(self, request, timeout):
        sent.append((request.probe, request.case_id, set(self.answered)))
        return original(self, request, timeout)

    monkeypatch.setattr(sandbox.Worker, "send_case", record)
    report = grade_with(None, functions=["svm_loss_naive", "nn_forward_backward"], hidden=True)
    assert not [r for r in report.results if r.status != "passed"], report.summary()
    assert sent and not [k for p, k, _ in sent if p == "call_probes"]

    sent.clear()
    edits = [(TLN, "grads[\"W2\"] = h1.t().mm(dscores) + 2 * reg * W2", "grads[\"W2\"] = h1.t().mm(dscores) + 3 * reg * W2")]
    report = grade_with(make_submission(tmp_path / "w2", edits), functions=["svm_loss_naive", "nn_forward_backward"],
                        hidden=True)
    failing = {f"{r.check}: {r.name}" for r in report.results if r.status == "failed"}
    asked = [(k, answered) for p, k, answered in sent if p == "call_probes"]
    cases = {k for p, k, _ in sent if p != "call_probes"}
    assert failing and {k.removesuffix(" (probes)") for k, _ in asked} <= failing, (asked, failing)
    assert asked and all(cases <= answered for _, answered in asked), "probes asked before every case was answered"
    assert any("Where it goes wrong (grads['W2'])" in r.details() for r in report.results), report.summary()
