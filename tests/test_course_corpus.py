"""The course corpus (tests/course_corpus.py): correct submissions written the way real students
write them, in the course layout, graded with the hidden cases. Every one must get full marks;
the corpus must really hold the variety it claims; and deliberate bugs, as text edits to two
different styles, must lose points on the right function with a message naming the mistake."""
import re

import pytest

from course_corpus import FILES, LC, REGIONS, STYLE_LIST, STYLES, TLN, apply_edits, course_submission, render

FULL_MARKS = 85.0  # 100 minus the three best-model cases, not graded without CIFAR-10 and checkpoints
BEST_MODEL_CASES = 3


@pytest.fixture(scope="session")
def hidden_inputs():
    """Every case's inputs, made once for the session (the hidden ones come from the recipes)."""
    from grader.cases import select
    from grader.catalogue import all_cases
    from grader.runner import precompute_inputs

    return precompute_inputs(select(all_cases(), None, True))


@pytest.fixture(scope="session")
def no_cifar(tmp_path_factory):
    """An empty data folder: the best-model cases are 'not graded' on every machine."""
    return tmp_path_factory.mktemp("no-cifar10")


@pytest.fixture()
def grade_style(grade_with, hidden_inputs, no_cifar, tmp_path):
    def run(style, edits=(), functions=None):
        folder = course_submission(tmp_path, style, edits)
        return grade_with(folder, functions=functions, hidden=True, inputs=hidden_inputs, data_dir=no_cifar)
    return run


def _failures(report):
    return [f"{r.check}: {r.name} [{r.status}] {r.points:g}/{r.max_points:g}\n    "
            + r.details().replace("\n", "\n    ")
            for r in report.results if r.status not in ("passed", "not graded")]


def _style_params():
    for style in STYLE_LIST:
        marks = ([pytest.mark.xfail(strict=True, raises=AssertionError, reason=style.grader_bug)]
                 if style.grader_bug else [])
        yield pytest.param(style.name, marks=marks, id=style.name)


# ------------------------------------------------------------------ full marks for every style

@pytest.mark.parametrize("style", list(_style_params()))
def test_correct_course_submission_gets_full_marks(grade_style, style):
    report = grade_style(style)
    assert not [r for r in report.results if r.status == "grader error"], "\n".join(_failures(report))
    lost = [r for r in report.results if r.max_points > 0 and r.status not in ("passed", "not graded")]
    assert not lost, f"{style} lost points:\n" + "\n".join(_failures(report))
    not_graded = [r for r in report.results if r.status == "not graded"]
    assert len(not_graded) == BEST_MODEL_CASES and {r.check for r in not_graded} == {"best_models"}
    assert report.max_score == FULL_MARKS
    assert report.score == report.max_score == FULL_MARKS, report.summary()
    assert not [n for n in report.notes if "could not be loaded" in n], report.notes


# ------------------------------------------------------------------ the corpus itself

def test_corpus_is_big_and_spans_both_terms():
    assert len(STYLES) >= 15
    passing = [s for s in STYLE_LIST if not s.grader_bug]
    assert len(passing) >= 15, "at least 15 styles must be expected to get full marks"
    assert sum(s.term == "f20" for s in passing) >= 5 and sum(s.term == "w22" for s in passing) >= 5
    assert len({s.name for s in STYLE_LIST}) == len(STYLE_LIST)


def test_every_style_is_different_and_every_body_is_used():
    choices = [tuple(sorted({**s.lc, **s.tln}.items())) for s in STYLE_LIST]
    assert len(set(choices)) == len(choices), "two styles choose exactly the same bodies"
    used = {(region, variant) for s in STYLE_LIST for region, variant in {**s.lc, **s.tln}.items()}
    unused = [(region, variant) for region, bodies in REGIONS.items() for variant in bodies
              if (region, variant) not in used]
    assert not unused, f"bodies no style uses: {unused}"


@pytest.fixture(scope="module")
def sources():
    return {name: render(name) for name in STYLES}


def test_sources_parse_and_keep_the_course_layout(sources):
    import ast

    for name, files in sources.items():
        assert set(files) == set(FILES)
        for file, text in files.items():
            tree = ast.parse(text, filename=f"{name}/{file}")
            defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            want = ({"LinearClassifier", "LinearSVM", "Softmax", "svm_loss_naive", "svm_loss_vectorized",
                     "sample_batch", "train_linear_classifier", "predict_linear_classifier",
                     "svm_get_search_params", "test_one_param_set", "softmax_loss_naive",
                     "softmax_loss_vectorized", "softmax_get_search_params"} if file == LC else
                    {"TwoLayerNet", "nn_forward_pass", "nn_forward_backward", "nn_train", "nn_predict",
                     "nn_get_search_params", "find_best_net"})
            assert want <= defined, f"{name}/{file} lacks {want - defined}"
        assert "from linear_classifier import sample_batch" in files[TLN]
        assert "loss_history.append(loss.item())" in files[LC]
        assert "train_acc = (y_train_pred == y_batch).float().mean().item()" in files[TLN]
        moves = [c.func.attr for text in files.values() for c in ast.walk(ast.parse(text))
                 if isinstance(c, ast.Call) and getattr(c.func, "attr", None) in ("cuda", "cpu", "to")
                 and (c.func.attr != "to" or any(k.arg == "device" for k in c.keywords)
                      or any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in c.args))]
        assert not moves, f"{name} moves tensors between devices: {moves}"
        term = STYLES[name].term
        indent = "  " if term == "f20" else "    "
        assert f"\n{indent}dW = torch.zeros_like(W)" in files[LC], f"{name}: not {term}'s indentation"
        if term == "w22":
            assert "from typing import" in files[LC] and "X: torch.Tensor" in files[LC]
            assert 'device: str = "cuda"' in files[TLN] and "Failed to load your checkpoint" in files[TLN]
        else:
            assert "from typing import" not in files[LC] and "device='cuda'" in files[TLN]
            assert "Failed to load" not in files[LC] + files[TLN] and "load checkpoint file" in files[TLN]


def _count(sources, pattern, where=None):
    """How many styles have ``pattern`` (a regex) in the given file (both when None)."""
    found = 0
    for files in sources.values():
        text = "\n".join(files.values()) if where is None else files[where]
        found += bool(re.search(pattern, text, flags=re.M))
    return found


E = re.escape
# (what, regex, file or None for either, at least this many styles)
VARIETY = [
    ("in-place ReLU on a fresh tensor", E("h[h < 0] = 0"), TLN, 3),
    ("ReLU by torch.maximum", E("torch.maximum(pre_activation, torch.zeros_like("), TLN, 2),
    ("ReLU by clamp", r"clamp\(X\.mm\(W1\) \+ b1, min=0\)|z1\.clamp\(min=0\.0\)", TLN, 3),
    ("ReLU by a mask product", E("hidden = fc1 * (fc1 > 0)"), TLN, 2),
    ("ReLU by a module-level helper", r"^def relu\(x\):", TLN, 1),
    ("labels by torch.max(...)[1]", E("dim=1)[1]"), None, 3),
    ("labels by .indices", E(".max(dim=1).indices"), None, 3),
    ("labels by unpacking torch.max", E("_, y_pred = "), None, 3),
    ("nn_predict via nn_forward_pass", r"scores, _ = nn_forward_pass\(params, X\)|y_pred = nn_forward_pass\(", TLN, 3),
    ("nn_predict via loss_func(params, X)", E("loss_func(params, X)"), TLN, 3),
    ("nn_predict via nn_forward_backward(params, X)", E("scores = nn_forward_backward(params, X)"), TLN, 2),
    ("test_one_param_set with the given train written out",
     E("cls.W, _ = train_linear_classifier(cls.loss, cls.W, "), LC, 1),
    ("the notebook's log-scale scatter of the search", E("math.log10(x[1])"), TLN, 1),
    ("nn_predict with the forward pass inlined", E("X.mm(params[\"W1\"]) + params[\"b1\"]") + "|"
     + E("relu(X @ params['W1'] + params['b1'])"), TLN, 3),
    ("percent accuracies", E("100.0 * ("), LC, 3),
    ("percent by * 100 then .item()", E(".double().mean() * 100).item()"), LC, 2),
    ("fractions by .sum().item() / len(y)", E(".sum().item() / len("), LC, 2),
    ("fractions by float(torch.mean(...))", E("float(torch.mean(("), LC, 2),
    ("fractions by torch.eq(...).sum().item() / n",
     E("torch.eq(y_train_pred, data_dict['y_train']).sum().item()"), LC, 2),
    ("hard-coded 3 * 32 * 32 and 10", E("TwoLayerNet(3 * 32 * 32, hs, 10"), TLN, 5),
    ("TwoLayerNet without device or dtype", E("TwoLayerNet(3 * 32 * 32, hs, 10)"), TLN, 2),
    ("import eecs598 and reset_seed inside find_best_net", r"^import eecs598$(.|\n)*eecs598\.reset_seed\(0\)", TLN, 2),
    ("Fall 2020's from a2_helpers import", r"^from a2_helpers import ", None, 1),
    ("Winter 2022's from eecs598.a2_helpers import", r"^from eecs598\.a2_helpers import ", None, 1),
    ("naive softmax looping over range(num_classes)", r"for (j|c) in range\(num_classes\):", LC, 5),
    ("softmax by exp / sum, then log after the max shift", E("probs = exp_scores / exp_scores.sum("), None, 3),
    ("softmax by logsumexp", E("torch.logsumexp("), None, 3),
    ("one-hot by scatter_", r"\.scatter_\(1, y\.(view\(-1, 1\)|unsqueeze\(1\)), 1\.0\)", None, 2),
    ("one-hot by zeros_like then [range(N), y] = 1", E("indicator[range(num_train), y] = 1"), LC, 2),
    ("one-hot by torch.nn.functional.one_hot", E("F.one_hot(y, num_classes="), None, 2),
    ("one-hot by zeros_like of a fresh CPU tensor, given the inputs' device",
     E("torch.zeros_like(torch.empty(N, C), device=X.device, dtype=X.dtype)"), TLN, 1),
    ("from torch.nn import functional as F at the top", r"^from torch\.nn import functional as F$", None, 2),
    ("@ products", r"\w @ \w", None, 5),
    (".mm products", E(".mm("), None, 10),
    ("torch.matmul", E("torch.matmul("), None, 3),
    ("torch.einsum", E("torch.einsum("), None, 3),
    ("search lists as tuples", E("learning_rates = ("), None, 3),
    ("search lists built by append loops", E("learning_rates.append("), LC, 2),
    ("5 x 5 linear grid (25 combinations)", r"learning_rates = \[([^,\]]+, ){4}[^,\]]+\]\n\s*"
                                             r"regularization_strengths = \[([^,\]]+, ){4}[^,\]]+\]", LC, 3),
    (".double() casts in the linear losses", E("(margins > 0).double()"), LC, 3),
    ("(j == y[i]).double() in the naive softmax", E("(j == y[i]).double()"), LC, 1),
    (".item()-heavy naive loops", E("label = y[i].item()"), LC, 2),
    ("W = W - lr * grad", E("W = W - learning_rate * grad"), LC, 2),
    ("W -= lr * grad", E("W -= learning_rate * grad"), LC, 5),
    ("W += -lr * grad", E("W += -learning_rate * grad"), LC, 2),
    ("for key in params: params[key] -= ...", E("params[key] -= learning_rate * grads[key]"), TLN, 3),
    ("params[key] = params[key] - ...", E("params[key] = params[key] - learning_rate * grads[key]"), TLN, 2),
    ("params updated key by key", E("params['W1'] -= learning_rate * grads['W1']"), TLN, 2),
    ("sample_batch: randint(0, num_train, (B,)) without device",
     E("torch.randint(0, num_train, (batch_size,))"), LC, 3),
    ("sample_batch: randint with high= / size= keywords",
     E("torch.randint(high=num_train, size=(batch_size,))"), LC, 2),
    ("sample_batch: randperm", E("torch.randperm(num_train)"), LC, 2),
    ("search ranked by net.predict accuracy", E("net.predict("), TLN, 5),
    ("search ranked by stat['val_acc_history'][-1]", r"stat\['val_acc_history'\]\[-1\]", TLN, 3),
    ("itertools.product", E("itertools.product("), TLN, 5),
    ("nested search loops", r"for (decay|lrd) in (decays|learning_rate_decays):", TLN, 3),
    ("prints in find_best_net", r"^def find_best_net(.|\n)*print\(", TLN, 4),
    ("prints in test_one_param_set", r"^def test_one_param_set(.|\n)*print\((.|\n)*return cls, train_acc", LC, 2),
    ("verbose=True training", E("verbose=True"), None, 2),
    ("a pass left after working code", r"^\s+[^\s#][^\n]*\n\s+pass$", None, 1),
    ("device=X.device when making tensors", E("device=X.device"), None, 8),
    ("a module-level helper shared by graded functions", r"^def class_scores\(W, X\):", LC, 1),
    ("module-level eecs598 import", r"^import eecs598$", TLN, 2),
]


@pytest.mark.parametrize("what,pattern,where,least", VARIETY, ids=[v[0] for v in VARIETY])
def test_corpus_has_the_variety_it_claims(sources, what, pattern, where, least):
    assert _count(sources, pattern, where) >= least, f"fewer than {least} styles with {what}"


def test_module_level_helper_is_used_by_two_graded_functions(sources):
    import ast

    for name, files in sources.items():
        for file, helper in ((LC, "class_scores"), (TLN, "relu")):
            tree = ast.parse(files[file])
            if helper not in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}:
                continue
            users = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name != helper
                     and any(isinstance(c, ast.Call) and getattr(c.func, "id", None) == helper for c in ast.walk(n))}
            assert len(users) >= 2, f"{name}: {helper} is used by {users} only"


# ------------------------------------------------------------------ deliberate bugs

# Two SVM gradients whose loss is right, wrong only where some margins are negative (which the
# small public case, every margin positive, does not show): honest code that the hidden cases
# must name, never call hard-coded.
SVM_NEGATIVES_KEPT = [
    (LC, "svm_loss_vectorized", "    margins[margins < 0] = 0\n", ""),
    (LC, "svm_loss_vectorized", "loss = margins.sum() / num_train", "loss = margins[margins > 0].sum() / num_train"),
    (LC, "svm_loss_vectorized", "mask = (margins > 0).double()", "mask = margins.clone()\n    mask[margins > 0] = 1"),
]
SVM_CORRECT_CLASS_FIXED = [(LC, "svm_loss_vectorized", "y] = -row_sum", "y] = -(W.shape[1] - 1)")]

# bug -> (graded function, message regex, {style: [(file, function, old, new)]})
BUGS = {
    "dW not averaged": (
        "svm_loss_naive", r"Likely cause \(dW\): not averaged over N",
        {"f20_inplace_relu_percent": [(LC, "svm_loss_naive", "dW /= num_train", "pass  # forgot to average")],
         "w22_logsumexp_F_one_hot": [(LC, "svm_loss_naive", "dW = dW / num_train + 2 * reg * W",
                                      "dW = dW + 2 * reg * W")]}),
    "missing ReLU mask": (
        "nn_forward_backward", r"missing ReLU mask in the backward pass",
        {"f20_inplace_relu_percent": [(TLN, "nn_forward_backward", "dhidden[h1 <= 0] = 0", "pass  # mask forgotten")],
         "w22_logsumexp_F_one_hot": [(TLN, "nn_forward_backward", "dh = dh * (h1 > 0).to(dh.dtype)", "dh = dh")]}),
    "softmax without the max shift": (
        "softmax_loss_vectorized", r"inf or nan where the reference is finite(.|\n)*exp\(\) of scores this large "
                                   r"overflows",
        {"f20_inplace_relu_percent": [(LC, "softmax_loss_vectorized",
                                       "scores = scores - scores.max(dim=1, keepdim=True).values", "scores = scores")],
         "w22_item_heavy": [(LC, "softmax_loss_vectorized", "shifted = scores - max_scores", "shifted = scores")]}),
    "percent train accuracy, fraction val accuracy": (
        "test_one_param_set", r"use one unit for all accuracies",
        {"f20_inplace_relu_percent": [(LC, "test_one_param_set", 'val_acc = 100.0 * (data_dict["y_val"]',
                                       'val_acc = (data_dict["y_val"]')],
         "w22_item_heavy": [(LC, "test_one_param_set", "train_acc = torch.eq(", "train_acc = 100.0 * torch.eq(")]}),
    "best_net never stored": (
        "find_best_net", r"best_net is None, not one of the TwoLayerNets the search trained",
        {"f20_inplace_relu_percent": [(TLN, "find_best_net", "best_net = net\n", "best_model = net\n")],
         "w22_logsumexp_F_one_hot": [(TLN, "find_best_net", "best_val_acc, best_net, best_stat = val_acc, net, stat",
                                      "best_val_acc, best_stat = val_acc, stat")]}),
    "test_one_param_set trains every classifier with the SVM loss": (
        "test_one_param_set", r"loss_func=svm_loss_vectorized, not cls\.loss",
        {"w22_given_train_written_out_log_scatter": [(LC, "test_one_param_set", "train_linear_classifier(cls.loss,",
                                                      "train_linear_classifier(svm_loss_vectorized,")]}),
    "sample_batch never draws the last row": (
        "sample_batch", r"row 49 \(the last\) was never drawn",
        {"f20_inplace_relu_percent": [(LC, "sample_batch", "torch.randint(0, num_train, (batch_size,))",
                                       "torch.randint(0, num_train - 1, (batch_size,))")],
         "w22_logsumexp_F_one_hot": [(LC, "sample_batch", "torch.randint(high=num_train, size=(batch_size,))",
                                      "torch.randint(low=0, high=num_train - 1, size=(batch_size,))")]}),
    "nn_forward_backward reads y before returning the scores": (
        "nn_forward_backward", r"without y \(y=None\): raised AttributeError(.|\n)*if y is None: return scores",
        {"w22_given_train_written_out_log_scatter": [(TLN, "nn_forward_backward", "N, D = X.shape",
                                                      "N, D = X.shape\n    C = y.shape")],
         "w22_eecs598_reset_seed_percent": [(TLN, "nn_forward_backward", "N, D = X.shape",
                                             "N, D = X.shape\n    C = y.shape")]}),
    "softmax shifted by one max for the whole matrix": (
        "softmax_loss_vectorized", r"one max over the whole matrix instead of each row's",
        {"f20_inplace_relu_percent": [(LC, "softmax_loss_vectorized",
                                       "scores = scores - scores.max(dim=1, keepdim=True).values",
                                       "scores = scores - scores.max()")],
         "w22_item_heavy": [(LC, "softmax_loss_vectorized", "max_scores, _ = torch.max(scores, dim=1, keepdim=True)",
                             "max_scores = torch.max(scores)")]}),
    "net loss shifted by one max for the whole matrix": (
        "nn_forward_backward", r"one max over the whole matrix instead of each row's",
        {"f20_inplace_relu_percent": [(TLN, "nn_forward_backward",
                                       "shifted = scores - scores.max(dim=1, keepdim=True).values",
                                       "shifted = scores - scores.max()")],
         "w22_item_heavy": [(TLN, "nn_forward_backward",
                             "scores_shift = scores - torch.max(scores, dim=1, keepdim=True)[0]",
                             "scores_shift = scores - torch.max(scores)")]}),
    "SVM margins never clamped at 0": (
        "svm_loss_vectorized", r"margins not clamped at 0",
        {"f20_inplace_relu_percent": [(LC, "svm_loss_vectorized", "margins = (scores - correct_scores + 1).clamp(min=0)",
                                       "margins = scores - correct_scores + 1")],
         "w22_item_heavy": [(LC, "svm_loss_vectorized", "margins[margins < 0] = 0", "pass  # no clamp")]}),
    "SVM gradient mask keeps the negative margins": (
        "svm_loss_vectorized", r"negative margins left in the gradient's mask", {"w22_item_heavy": SVM_NEGATIVES_KEPT}),
    "SVM gradient gives the correct class -(C - 1)": (
        "svm_loss_vectorized", r"correct class weighted by C - 1 in the gradient",
        {"w22_logsumexp_F_one_hot": SVM_CORRECT_CLASS_FIXED}),
    "find_best_net compares only the last decay's nets": (
        "find_best_net", r"only the last decay's net of each combination is ever compared",
        {"w22_logsumexp_F_one_hot": [(TLN, "find_best_net",
                                      "                    val_acc = stat['val_acc_history'][-1]\n"
                                      "                    if val_acc > best_val_acc:\n"
                                      "                        best_val_acc, best_net, best_stat = val_acc, net, stat",
                                      "                val_acc = stat['val_acc_history'][-1]\n"
                                      "                if val_acc > best_val_acc:\n"
                                      "                    best_val_acc, best_net, best_stat = val_acc, net, stat")]}),
}

# Wrong on the course's GPU only: `loss = torch.tensor(0.0, dtype=torch.float64)` before the given
# loop's `loss += margin` accumulates CUDA values into a CPU 0-dim tensor in place, which raises
# there ("Expected all tensors to be on the same device"); the grader must see it on the CPU.
CUDA_BUGS = {
    "in-place accumulation into a CPU 0-dim SVM loss (crashes on CUDA)": (
        "svm_loss_naive", r"would crash on CUDA inputs",
        {"f20_inplace_relu_percent": [(LC, "svm_loss_naive", "loss = 0.0",
                                       "loss = torch.tensor(0.0, dtype=torch.float64)")]}),
    "in-place accumulation into a CPU 0-dim softmax loss (crashes on CUDA)": (
        "softmax_loss_naive", r"would crash on CUDA inputs",
        {"w22_device_everywhere": [(LC, "softmax_loss_naive", "loss = torch.zeros((), dtype=W.dtype, device=W.device)",
                                    "loss = torch.tensor(0.0, dtype=torch.float64)"),
                                   (LC, "softmax_loss_naive", "loss = loss - torch.log(probs[y[i]])",
                                    "loss -= torch.log(probs[y[i]])")]}),
}


# A device written out costs the device rule's case alone (graded on the CPU, code that names the
# GPU is given the CPU and its values keep their points); the message names the line.
# bug -> (function, words, style, edits)
NAMED_DEVICES = {
    "SVM rows on 'cuda'": ("svm_loss_vectorized", "torch.arange(..., device='cuda')", "w22_device_everywhere",
                           [(LC, "svm_loss_vectorized", "rows = torch.arange(num_train, device=X.device)",
                             "rows = torch.arange(num_train, device='cuda')")]),
    "softmax loss as torch.tensor(0, device='cuda')": (
        "softmax_loss_naive", "torch.tensor(..., device='cuda')", "w22_device_everywhere",
        [(LC, "softmax_loss_naive", "loss = torch.zeros((), dtype=W.dtype, device=W.device)",
          "loss = torch.tensor(0, dtype=W.dtype, device='cuda')")]),
    "net one-hot index on 'cuda:0'": ("nn_forward_backward", "torch.arange(..., device='cuda:0')",
                                      "w22_device_everywhere",
                                      [(TLN, "nn_forward_backward", "dscores[torch.arange(N, device=X.device), y]",
                                        "dscores[torch.arange(N, device='cuda:0'), y]")]),
    "batch indices moved by .cuda()": ("sample_batch", ".cuda() moves a tensor to the GPU", "w22_device_everywhere",
                                       [(LC, "sample_batch", "size=(batch_size,), device=y.device)",
                                         "size=(batch_size,)).cuda()")]),
}


@pytest.mark.parametrize("bug", sorted(NAMED_DEVICES))
def test_a_device_written_out_costs_only_the_device_rule(grade_style, bug):
    from grader.judges import DEVICE_RULE

    function, words, style, edits = NAMED_DEVICES[bug]
    report = grade_style(style, edits)
    failed = [r for r in report.results if r.status == "failed"]
    assert [(r.check, r.name) for r in failed] == [(function, DEVICE_RULE)], "\n".join(_failures(report))
    new = edits[0][3]
    text = apply_edits(render(style), edits)[edits[0][0]]
    line = 1 + text.split(new)[0].count("\n")
    assert f"line {line}: " in failed[0].message and words in failed[0].message, failed[0].message


# Following the inputs' device in the words of a .to() keeps every point.
FOLLOWING_DEVICES = {
    "labels to the inputs' device and long": [
        (LC, "svm_loss_vectorized", "rows = torch.arange(num_train, device=X.device)",
         "y = y.to(dtype=torch.long, device=X.device)\n    rows = torch.arange(num_train, device=X.device)")],
    "the device kept in a variable": [
        (TLN, "nn_forward_backward", "dscores[torch.arange(N, device=X.device), y]",
         "device = X.device\n    dscores[torch.arange(N).to(device), y]")],
    "a loss read back with .cpu().item() before it is returned": [
        (LC, "softmax_loss_naive", "loss = torch.zeros((), dtype=W.dtype, device=W.device)",
         "loss = torch.zeros((), dtype=W.dtype, device=W.device)\n    assert loss.cpu().item() == 0")],
}


@pytest.mark.parametrize("what", sorted(FOLLOWING_DEVICES))
def test_a_to_that_follows_the_inputs_keeps_full_marks(grade_style, what):
    report = grade_style("w22_device_everywhere", FOLLOWING_DEVICES[what])
    assert report.score == report.max_score, "\n".join(_failures(report))


def _bug_params():
    for table in (BUGS, CUDA_BUGS):
        for bug, (function, message, by_style) in table.items():
            for style, edits in by_style.items():
                yield pytest.param(bug, function, message, style, edits, id=f"{bug} / {style}")


@pytest.mark.parametrize("bug,function,message,style,edits", list(_bug_params()))
def test_deliberate_bug_loses_points_on_its_function(grade_style, bug, function, message, style, edits):
    report = grade_style(style, edits)
    scores = report.function_scores()
    got, out_of = scores[function]
    assert got < out_of, f"{bug} in {style}: {function} kept all its points"
    failed = [r for r in report.results if r.check == function and r.status == "failed"]
    assert any(re.search(message, r.details()) for r in failed), \
        f"{bug}: no message of {function} matches {message!r}:\n" + "\n".join(_failures(report))
    others = {name: s for name, s in scores.items() if name != function and s[0] < s[1]}
    assert not others, f"{bug} also cost points elsewhere: {others}\n" + "\n".join(_failures(report))
    assert not [r for r in report.results if r.status == "grader error"]


def test_bug_edits_apply_inside_their_function_and_still_parse():
    """Each edit finds its text exactly once inside the function it names (apply_edits raises
    otherwise), so a change to a style cannot silently turn a bug test into a no-op."""
    import ast

    from course_corpus import apply_edits

    for table in (BUGS, CUDA_BUGS):
        for _, _, by_style in table.values():
            for style, edits in by_style.items():
                before = render(style)
                after = apply_edits(before, edits)
                assert after != before
                for text in after.values():
                    ast.parse(text)


# A search that returns its best parameters after the three values: the notebook cannot unpack it,
# which costs the returns case; the search itself (its grid, the net it keeps) is judged on the
# first three values and keeps its points.
EXTRA_RETURNS = {
    "the best parameters returned fourth": (
        "w22_logsumexp_F_one_hot",
        [(TLN, "find_best_net", "return best_net, best_stat, best_val_acc",
          "best_params = {'note': 'kept for the report'}\n    return best_net, best_stat, best_val_acc, best_params")]),
    "a list of four": (
        "f20_inplace_relu_percent",
        [(TLN, "find_best_net", "return best_net, best_stat, best_val_acc",
          "return [best_net, best_stat, best_val_acc, None]")]),
}


@pytest.mark.parametrize("what", sorted(EXTRA_RETURNS))
def test_find_best_net_with_extra_returns_loses_only_the_returns_case(grade_style, what):
    style, edits = EXTRA_RETURNS[what]
    report = grade_style(style, edits, functions=["find_best_net"])
    failed = [r for r in report.results if r.status == "failed"]
    assert [(r.check, r.name) for r in failed] == [("find_best_net", "returns the kept net's stat and validation "
                                                                      "accuracy")], "\n".join(_failures(report))
    assert "returns 4 values" in failed[0].message and "unpacks exactly three" in failed[0].message
    got, out_of = report.function_scores()["find_best_net"]
    assert (got, out_of) == (4.0, 5.0)


@pytest.mark.parametrize("style,edits", [("w22_item_heavy", SVM_NEGATIVES_KEPT),
                                         ("w22_logsumexp_F_one_hot", SVM_CORRECT_CLASS_FIXED)])
def test_svm_gradient_wrong_only_for_negative_margins_is_not_called_hard_coded(grade_style, style, edits):
    report = grade_style(style, edits, functions=["svm_loss_vectorized"])
    assert not [r for r in report.results if r.reason == "hard-coded" or "hard-coded" in r.message], \
        "\n".join(_failures(report))
    assert report.function_scores()["svm_loss_vectorized"][0] < 9


# A search that takes its grid from the module's own nn_get_search_params() (what the notebook
# passes anyway) instead of get_param_set_fn(): that costs the grid case alone, named; the net it
# keeps and what it returns are judged on the same grid.
OWN_SEARCH_PARAMS = {
    "w22_logsumexp_F_one_hot": [(TLN, "find_best_net", "regs, decays = get_param_set_fn()",
                                 "regs, decays = nn_get_search_params()")],
    "f20_inplace_relu_percent": [(TLN, "find_best_net", "itertools.product(*get_param_set_fn())",
                                  "itertools.product(*nn_get_search_params())")],
}


@pytest.mark.parametrize("style", sorted(OWN_SEARCH_PARAMS))
def test_find_best_net_on_its_own_search_params_loses_only_the_grid_case(grade_style, style):
    report = grade_style(style, OWN_SEARCH_PARAMS[style], functions=["find_best_net"])
    failed = [r for r in report.results if r.status == "failed"]
    assert [(r.check, r.name) for r in failed] == [("find_best_net", "trains one net per combination of the grid, "
                                                                      "with its values")], "\n".join(_failures(report))
    assert "calls nn_get_search_params() itself instead of get_param_set_fn()" in failed[0].message
    assert report.function_scores()["find_best_net"] == (3.0, 5.0)


# Several bugs of one kind in one function: the message names each of them, not the first only.
EVERY_ONE_NAMED = {
    "two search lists of one value": (
        "nn_get_search_params",
        [(TLN, "nn_get_search_params", "hidden_sizes = [64, 128, 256]", "hidden_sizes = [128]"),
         (TLN, "nn_get_search_params", "learning_rate_decays = [0.9, 0.95]", "learning_rate_decays = [0.95]")],
        ["hidden_sizes has 1 value(s)", "learning_rate_decays has 1 value(s)"]),
    "both accuracies left as tensors": (
        "test_one_param_set",
        [(LC, "test_one_param_set", ".sum().item() / data_dict['y_train'].shape[0]",
          ".sum() / data_dict['y_train'].shape[0]"),
         (LC, "test_one_param_set", ".sum().item() / data_dict['y_val'].shape[0]",
          ".sum() / data_dict['y_val'].shape[0]")],
        ["train_acc must be a Python float", "val_acc must be a Python float"]),
    "trained in a loop, with its own num_iters": (
        "test_one_param_set",
        [(LC, "test_one_param_set", "    cls.train(data_dict['X_train'], data_dict['y_train'], lr, reg, num_iters, 200, False)",
          "    num_iters = 50\n    for _ in range(3):\n"
          "        cls.train(data_dict['X_train'], data_dict['y_train'], lr, reg, num_iters, 200, False)")],
        ["cls was trained 3 times (cls.train 3 times)", "got num_iters=50"]),
}


@pytest.mark.parametrize("what", sorted(EVERY_ONE_NAMED))
def test_every_bug_of_a_function_is_named(grade_style, what):
    function, edits, words = EVERY_ONE_NAMED[what]
    report = grade_style("w22_item_heavy", edits, functions=[function])
    failed = [r for r in report.results if r.status == "failed"]
    assert failed, f"{what}: nothing failed"
    text = "\n".join(r.details() for r in failed)
    assert all(w in text for w in words), text


# svm_loss_naive as the template hands it out: its loss loop is given code, its gradient is left to
# write. Only what the student writes earns points: the template's right loss credits nothing.
SVM_NAIVE_AS_HANDED_OUT = [
    (LC, "svm_loss_naive", "                label = y[i].item()\n                dW[:, j] += X[i]\n"
                           "                dW[:, label] -= X[i]\n", "                pass\n"),
    (LC, "svm_loss_naive", "    dW /= num_train\n    dW += 2 * reg * W\n", ""),
]


def test_svm_loss_naive_as_handed_out_earns_nothing(grade_style):
    report = grade_style("w22_item_heavy", SVM_NAIVE_AS_HANDED_OUT, functions=["svm_loss_naive"])
    assert report.function_scores()["svm_loss_naive"][0] == 0, "\n".join(_failures(report))
    device = [r for r in report.results if r.name == "rule: tensors follow the inputs' device"]
    assert device and "the template computes svm_loss_naive's loss" in device[0].message


def test_find_best_net_names_the_class_count_and_the_grid_bug_together(grade_style):
    edits = [(TLN, "find_best_net", "output_size=10,", "output_size=len(set(data_dict['y_train'])),"),
             (TLN, "find_best_net", "for decay in decays:", "for decay in decays[:1]:")]
    report = grade_style("w22_logsumexp_F_one_hot", edits, functions=["find_best_net"])
    grid = [r for r in report.results if r.name == "trains one net per combination of the grid, with its values"]
    assert grid and grid[0].status == "failed"
    message = grid[0].message
    assert "is the number of training samples" in message and "combinations of the grid" in message, message


def test_nn_train_without_the_learning_rate_is_named(grade_style):
    edits = [(TLN, "nn_train", "params[name] -= learning_rate * grad", "params[name] -= grad")]
    report = grade_style("w22_item_heavy", edits, functions=["nn_train"])
    failed = [r for r in report.results if r.status == "failed"]
    assert failed and "subtracted the gradient itself, without the learning rate" in failed[0].message, \
        "\n".join(_failures(report))


def test_find_best_net_without_its_decay_loop_names_the_fixed_decay(grade_style):
    edits = [(TLN, "find_best_net", "for decay in decays:", "for decay in decays[:1]:"),
             (TLN, "find_best_net", "lr, decay, reg, 3000, 1000", "lr, 0.95, reg, 3000, 1000")]
    report = grade_style("w22_logsumexp_F_one_hot", edits, functions=["find_best_net"])
    grid = [r for r in report.results if r.name == "trains one net per combination of the grid, with its values"]
    assert grid and "every net was trained with learning_rate_decay=0.95" in grid[0].message, grid[0].message


# A search over a grid written inside find_best_net, get_param_set_fn never called: the template's
# docstring asks for it ("You should get hyperparameters from get_param_set_fn."), so the grid case
# is lost and named; the net kept and what is returned are judged on the nets the search trained.
OWN_GRID = [(TLN, "find_best_net", "learning_rates, hidden_sizes, regs, decays = get_param_set_fn()",
             "learning_rates, hidden_sizes, regs, decays = [1.0, 1e-3], [16, 32], [1e-4], [0.95]")]
KEEPS_EVERY_NET = [(TLN, "find_best_net", "if val_acc > best_val_acc:", "if val_acc > best_val_acc or True:")]


def test_find_best_net_over_its_own_grid_loses_only_the_grid_case(grade_style):
    report = grade_style("w22_logsumexp_F_one_hot", OWN_GRID, functions=["find_best_net"])
    failed = [r for r in report.results if r.status == "failed"]
    assert [(r.check, r.name) for r in failed] == [("find_best_net", "trains one net per combination of the grid, "
                                                                      "with its values")], "\n".join(_failures(report))
    assert "never calls get_param_set_fn()" in failed[0].message
    assert "You should get hyperparameters from get_param_set_fn." in failed[0].message
    assert "hidden sizes 16/32" in failed[0].message, failed[0].message
    assert report.function_scores()["find_best_net"] == (3.0, 5.0)


def test_find_best_net_over_its_own_grid_that_keeps_the_last_net_loses_the_best_case(grade_style):
    report = grade_style("w22_logsumexp_F_one_hot", OWN_GRID + KEEPS_EVERY_NET, functions=["find_best_net"])
    failed = {r.name: r for r in report.results if r.status == "failed"}
    assert set(failed) == {"trains one net per combination of the grid, with its values",
                           "keeps the net that is best on validation after training"}, "\n".join(_failures(report))
    message = failed["keeps the net that is best on validation after training"].message
    assert "learning_rate=0.001" in message and "learning_rate=1.0" in message, message
    assert report.function_scores()["find_best_net"] == (1.0, 5.0)


# The number of classes counted from the labels: the grader's search data is a tensor of labels
# holding every class, as the course's, so the ways that count classes get every point; len(set())
# of the tensor itself counts samples (its 0-d elements hash by identity) and builds nets with one
# output per training sample: they train, so that costs the grid case alone.
CLASS_COUNTS = {
    "labels as a list": "len(set(data_dict['y_train'].tolist()))",
    "unique labels": "data_dict['y_train'].unique().numel()",
    "largest label": "int(data_dict['y_train'].max()) + 1",
}


@pytest.mark.parametrize("what", sorted(CLASS_COUNTS))
def test_find_best_net_counting_the_classes_from_the_labels_keeps_every_point(grade_style, what):
    edits = [(TLN, "find_best_net", "output_size=10,", f"output_size={CLASS_COUNTS[what]},")]
    report = grade_style("w22_logsumexp_F_one_hot", edits, functions=["find_best_net"])
    assert report.function_scores()["find_best_net"] == (5.0, 5.0), "\n".join(_failures(report))


def test_find_best_net_counting_tensor_elements_as_classes_loses_only_the_grid_case(grade_style):
    edits = [(TLN, "find_best_net", "output_size=10,", "output_size=len(set(data_dict['y_train'])),")]
    report = grade_style("w22_logsumexp_F_one_hot", edits, functions=["find_best_net"])
    failed = [r for r in report.results if r.status == "failed"]
    assert [r.name for r in failed] == ["trains one net per combination of the grid, with its values"], \
        "\n".join(_failures(report))
    assert "is the number of training samples" in failed[0].message
    assert report.function_scores()["find_best_net"] == (3.0, 5.0)


def test_find_best_net_that_trains_one_net_of_its_own_keeps_no_search_points(grade_style):
    edits = [(TLN, "find_best_net", "learning_rates, hidden_sizes, regs, decays = get_param_set_fn()",
              "learning_rates, hidden_sizes, regs, decays = [1.0], [16], [1e-4], [0.95]")]
    report = grade_style("w22_logsumexp_F_one_hot", edits, functions=["find_best_net"])
    failed = {r.name: r.message for r in report.results if r.status == "failed"}
    assert "trained a single net" in failed.get("keeps the net that is best on validation after training", ""), \
        "\n".join(_failures(report))
    assert report.function_scores()["find_best_net"][0] <= 1.0
