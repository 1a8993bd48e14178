"""a2/two_layer_net.py: forward, backward, training and search of the solution."""
import math

import pytest
import torch

from a2 import two_layer_net as tln
from helpers import compute_numeric_gradient, get_toy_data, rel_error
from oracles import two_layer_autograd


def random_params(D, H, C, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    params = {
        "W1": 0.1 * torch.randn(D, H, generator=gen, dtype=torch.float64),
        "b1": 0.1 * torch.randn(H, generator=gen, dtype=torch.float64),
        "W2": 0.1 * torch.randn(H, C, generator=gen, dtype=torch.float64),
        "b2": 0.1 * torch.randn(C, generator=gen, dtype=torch.float64),
    }
    X = scale * torch.randn(13, D, generator=gen, dtype=torch.float64)
    y = torch.randint(C, (13,), generator=gen)
    return params, X, y


@pytest.mark.parametrize("shape", [(3, 4, 2), (8, 16, 5), (30, 7, 10)])
@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e3])
def test_forward_backward_equals_autograd(shape, scale):
    """Loss and every gradient equal autograd's in float64, including huge scores."""
    params, X, y = random_params(*shape, scale=scale, seed=shape[0])
    loss, grads = tln.nn_forward_backward(params, X, y, reg=0.2)
    ref_loss, ref_grads = two_layer_autograd(params, X, y, 0.2)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-10)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], rtol=1e-9, atol=1e-10, msg=name)


def test_forward_pass_returns_scores_and_relu_hidden():
    params, X, _ = random_params(5, 6, 3, 1.0, seed=4)
    scores, hidden = tln.nn_forward_pass(params, X)
    expected_hidden = torch.relu(X @ params["W1"] + params["b1"])
    torch.testing.assert_close(hidden, expected_hidden)
    torch.testing.assert_close(scores, expected_hidden @ params["W2"] + params["b2"])
    assert torch.equal(tln.nn_forward_backward(params, X), scores)


def test_toy_loss_is_log3_and_gradients_check_numerically():
    """The course's toy checks: loss(reg=0.05) = log 3; gradients match numerics < 1e-4."""
    X, y, params = get_toy_data(dtype=torch.float64)
    loss, grads = tln.nn_forward_backward(params, X, y, reg=0.05)
    assert abs(loss.item() - math.log(3)) < 1e-5
    for name, value in params.items():
        f = lambda _: tln.nn_forward_backward(params, X, y, reg=0.05)[0]  # noqa: E731
        numeric = compute_numeric_gradient(f, value, h=1e-6)
        assert rel_error(numeric, grads[name]) < 1e-4, name


def test_toy_training_drops_loss_below_one():
    X, y, params = get_toy_data(dtype=torch.float64)
    stats = tln.nn_train(params, tln.nn_forward_backward, tln.nn_predict, X, y, X, y,
                         learning_rate=1e-1, reg=1e-6, num_iters=200)
    assert stats["loss_history"][-1] < 1.0
    assert len(stats["loss_history"]) == 200
    assert len(stats["train_acc_history"]) == 200  # 5 samples // batch 200 -> one iteration per epoch


def test_nn_train_decays_learning_rate_once_per_epoch_including_iteration_zero():
    """With constant gradients, the step sizes follow lr, lr*d, ... changing every epoch."""
    params = {"W1": torch.zeros(2, 1, dtype=torch.float64)}
    grad = {"W1": torch.ones(2, 1, dtype=torch.float64)}
    X = torch.randn(40, 2, dtype=torch.float64)
    y = torch.zeros(40, dtype=torch.int64)
    snapshots = []

    def loss_func(p, X_batch, y=None, reg=0.0):
        if y is None:
            return torch.zeros(X_batch.shape[0], 2, dtype=torch.float64)
        snapshots.append(p["W1"][0, 0].item())
        return torch.tensor(0.0), grad

    tln.nn_train(params, loss_func, tln.nn_predict, X, y, X, y, learning_rate=1.0,
                 learning_rate_decay=0.5, num_iters=7, batch_size=20)  # 2 iterations per epoch
    steps = [a - b for a, b in zip(snapshots, snapshots[1:] + [params["W1"][0, 0].item()])]
    # it=0 uses lr, then decays; it=1 uses lr/2; it=2 (epoch end) lr/2 then decays, ...
    assert steps == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125])


def test_two_layer_net_learns_real_digits(digits64):
    """Real learning: >= 95 % validation accuracy on digits with the stated settings."""
    data = {k: v.float() if v.is_floating_point() else v for k, v in digits64.items()}
    net = tln.TwoLayerNet(64, 64, 10)
    net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], learning_rate=0.5,
              learning_rate_decay=1.0, reg=1e-4, num_iters=1000, batch_size=200)
    val_acc = (net.predict(data["X_val"]) == data["y_val"]).double().mean().item()
    assert val_acc >= 0.95, val_acc


def test_find_best_net_keeps_the_best_combination(digits64):
    data = {k: v.float() if v.is_floating_point() else v for k, v in digits64.items()}
    net, stat, acc = tln.find_best_net(data, lambda: ([0.0, 0.5], [16], [1e-4], [1.0]))
    assert acc > 0.9  # lr = 0 cannot learn, so the winner is the lr = 0.5 net
    assert acc == (net.predict(data["X_val"]) == data["y_val"]).double().mean().item()
    assert set(stat) == {"loss_history", "train_acc_history", "val_acc_history"}


def test_search_params_respect_the_limits():
    values = tln.nn_get_search_params()
    assert len(values) == 4 and all(len(v) >= 2 for v in values)
    assert math.prod(len(v) for v in values) < 256


def test_net_init_is_seeded_and_defaults_to_cpu():
    a, b = tln.TwoLayerNet(6, 4, 3), tln.TwoLayerNet(6, 4, 3)
    assert a.params["W1"].device.type == "cpu"
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert a.params["W1"].abs().max() < 1e-3 and not a.params["b1"].any()


def test_checkpoint_needs_exactly_four_tensors(tmp_path):
    net = tln.TwoLayerNet(6, 4, 3)
    net.save(tmp_path / "net.pt")
    other = tln.TwoLayerNet(6, 4, 3, std=1.0)
    other.load(tmp_path / "net.pt")
    assert torch.equal(other.params["W1"], net.params["W1"])
    torch.save({**net.params, "extra": torch.ones(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="exactly the tensors"):
        other.load(tmp_path / "bad.pt")
