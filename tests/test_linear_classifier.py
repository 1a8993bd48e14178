"""a2/linear_classifier.py: do the solution's losses, gradients, training and prediction do
what the contract says?"""
import pytest
import torch

from a2 import linear_classifier as lc
from helpers import rel_error
from conftest import random_problem
from oracles import softmax_autograd, svm_autograd

LOSSES = [
    (lc.svm_loss_naive, svm_autograd),
    (lc.svm_loss_vectorized, svm_autograd),
    (lc.softmax_loss_naive, softmax_autograd),
    (lc.softmax_loss_vectorized, softmax_autograd),
]
SHAPES = [(1, 3, 2), (7, 5, 3), (40, 30, 10), (25, 65, 10)]
SCALES = [1e-3, 1.0, 1e3]  # 1e3 makes scores of ~1e4: exp overflows without the max shift


@pytest.mark.parametrize("func,oracle", LOSSES, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", SCALES)
def test_loss_and_gradient_equal_autograd(func, oracle, shape, scale):
    """Does each loss and gradient equal torch autograd's in float64, at every scale?"""
    W, X, y = random_problem(*shape, scale=scale, seed=sum(shape))
    reg = 0.3
    loss, dW = func(W, X, y, reg)
    ref_loss, ref_dW = oracle(W, X, y, reg)
    assert torch.isfinite(torch.as_tensor(loss))
    torch.testing.assert_close(torch.as_tensor(loss, dtype=torch.float64), ref_loss, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dW, ref_dW, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("naive,vectorized", [
    (lc.svm_loss_naive, lc.svm_loss_vectorized),
    (lc.softmax_loss_naive, lc.softmax_loss_vectorized),
])
def test_naive_and_vectorized_agree_on_real_data(naive, vectorized, digits64):
    """Do naive and vectorized agree within the course's figures (1e-6 loss, 1e-5 rel. grad)?"""
    X, y = digits64["X_train"][:200], digits64["y_train"][:200]
    W = 1e-3 * torch.randn(X.shape[1], 10, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    l1, g1 = naive(W, X, y, 0.05)
    l2, g2 = vectorized(W, X, y, 0.05)
    assert abs(float(l1) - float(l2)) < 1e-6
    assert rel_error(g1, g2) < 1e-5


@pytest.mark.parametrize("func", [f for f, _ in LOSSES], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_outputs_follow_input_dtype_and_leave_inputs_alone(func, dtype):
    """float64 in gives float64 out; float32 in gives float32 out; no input is modified."""
    W, X, y = random_problem(6, 4, 3, dtype=dtype)
    copies = [t.clone() for t in (W, X, y)]
    loss, dW = func(W, X, y, 0.1)
    assert torch.as_tensor(loss).dtype == dtype and dW.dtype == dtype
    assert dW.shape == W.shape
    for before, after in zip(copies, (W, X, y)):
        assert torch.equal(before, after)


def test_softmax_loss_near_zero_weights_is_log_c(digits64):
    """With W near zero every class has probability 1/C, so the loss is about log(10)."""
    X, y = digits64["X_train"][:300], digits64["y_train"][:300]
    W = 1e-7 * torch.ones(X.shape[1], 10, dtype=torch.float64)
    loss, _ = lc.softmax_loss_vectorized(W, X, y, 0.0)
    assert abs(float(loss) - torch.log(torch.tensor(10.0)).item()) < 1e-3


def test_softmax_loss_is_finite_for_huge_weights(digits64):
    """W = ones with reg = 2.5e4 is finite (the course's stability check)."""
    X, y = digits64["X_train"][:50], digits64["y_train"][:50]
    W = torch.ones(X.shape[1], 10, dtype=torch.float64) * 100
    for func in (lc.softmax_loss_naive, lc.softmax_loss_vectorized):
        loss, dW = func(W, X * 100, y, 2.5e4)
        assert torch.isfinite(torch.as_tensor(loss)) and torch.isfinite(dW).all()


def test_sample_batch_draws_with_replacement_reproducibly():
    """Rows come from X with their labels, repeat, and a seed reproduces them."""
    X = torch.arange(20.0).reshape(10, 2)
    y = torch.arange(10)
    torch.manual_seed(3)
    xb, yb = lc.sample_batch(X, y, 10, 50)
    assert xb.shape == (50, 2) and yb.shape == (50,)
    assert torch.equal(xb[:, 0], 2.0 * yb)  # each row travels with its own label
    assert yb.unique().numel() < 50  # with replacement
    torch.manual_seed(3)
    xb2, yb2 = lc.sample_batch(X, y, 10, 50)
    assert torch.equal(yb, yb2)
    assert torch.equal(yb, torch.randint(10, (50,), generator=torch.Generator().manual_seed(3)))


def test_train_linear_classifier_takes_plain_sgd_steps():
    """With a loss whose gradient is constant, W moves by exactly -lr * grad per iteration."""
    X = torch.randn(30, 4, dtype=torch.float64)
    y = torch.randint(3, (30,))
    W0 = torch.zeros(4, 3, dtype=torch.float64)
    grad = torch.full((4, 3), 0.5, dtype=torch.float64)
    calls = []

    def loss_func(W, X_batch, y_batch, reg):
        calls.append((X_batch.shape[0], reg))
        return torch.tensor(float(len(calls))), grad

    W, history = lc.train_linear_classifier(loss_func, W0.clone(), X, y, learning_rate=0.1,
                                            reg=0.7, num_iters=5, batch_size=8)
    torch.testing.assert_close(W, -0.1 * 5 * grad)
    assert history == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert calls == [(8, 0.7)] * 5


def test_train_linear_classifier_initialises_small_weights_on_x_dtype():
    """W=None starts as 1e-6 * randn(D, max(y)+1) in X's dtype."""
    X = torch.randn(20, 6, dtype=torch.float64)
    y = torch.tensor([0, 4] * 10)
    W, _ = lc.train_linear_classifier(lambda W, *a: (W.sum(), torch.zeros_like(W)), None, X, y, num_iters=1)
    assert W.shape == (6, 5) and W.dtype == torch.float64
    assert 0 < W.abs().max() < 1e-5


def test_predict_is_argmax_over_classes():
    W = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    pred = lc.predict_linear_classifier(W, X)
    assert pred.dtype == torch.int64 and pred.tolist() == [0, 1, 2]


@pytest.mark.parametrize("get", [lc.svm_get_search_params, lc.softmax_get_search_params])
def test_search_params_respect_the_limits(get):
    lrs, regs = get()
    assert len(lrs) >= 2 and len(regs) >= 2 and len(lrs) * len(regs) < 25


@pytest.mark.parametrize("cls,lr,reg", [(lc.LinearSVM, 1e-2, 1e-3), (lc.Softmax, 0.5, 1e-4)])
def test_linear_classifiers_learn_real_digits(cls, lr, reg, digits32_bias):
    """Real learning: SVM and softmax reach >= 90 % validation accuracy on digits."""
    model, train_acc, val_acc = lc.test_one_param_set(cls(), digits32_bias, lr, reg, num_iters=1000)
    assert 0.0 <= train_acc <= 1.0
    assert val_acc >= 0.90, f"{cls.__name__} validation accuracy {val_acc:.3f}"
    assert (model.predict(digits32_bias["X_test"]) == digits32_bias["y_test"]).double().mean() >= 0.88


def test_checkpoint_round_trip_and_refusal(tmp_path):
    model = lc.LinearSVM()
    model.W = torch.randn(5, 3)
    model.save(tmp_path / "m.pt")
    other = lc.Softmax()
    other.load(tmp_path / "m.pt")
    assert torch.equal(other.W, model.W)
    torch.save({"V": torch.ones(2)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a linear classifier checkpoint"):
        other.load(tmp_path / "bad.pt")


def test_only_hello_prints(capsys):
    lc.hello_linear_classifier()
    W, X, y = random_problem(5, 3, 2)
    lc.svm_loss_vectorized(W, X, y, 0.1)
    assert capsys.readouterr().out == "Hello from linear_classifier.py!\n"
