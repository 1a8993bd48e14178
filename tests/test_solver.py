"""helpers/solver.py: the course's Solver interface on a linear softmax classifier whose
gradient is derived by hand below (and checked against autograd)."""
import pickle

import pytest
import torch

from conftest import needs_cuda
from helpers.solver import Solver, sgd


class LinearSoftmax:
    """scores = X W + b; softmax loss averaged over the batch plus reg * sum(W^2)."""

    def __init__(self, D, C, reg=0.0, seed=0, dtype=torch.float64, device="cpu"):
        gen = torch.Generator().manual_seed(seed)
        self.params = {"W": (1e-2 * torch.randn(D, C, generator=gen, dtype=dtype)).to(device),
                       "b": torch.zeros(C, dtype=dtype, device=device)}
        self.reg = reg
        self.seen = []  # (rows, device) of every call, for the batching and device tests

    def loss(self, X, y=None):
        self.seen.append((X.shape[0], X.device, y is None))
        X = X.reshape(X.shape[0], -1)
        scores = X @ self.params["W"] + self.params["b"]  # (N, C)
        if y is None:
            return scores
        N = X.shape[0]
        shifted = scores - scores.max(dim=1, keepdim=True).values
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        loss = -log_probs[torch.arange(N), y].mean() + self.reg * (self.params["W"] ** 2).sum()
        dscores = log_probs.exp()
        dscores[torch.arange(N), y] -= 1
        dscores /= N  # (N, C)
        grads = {"W": X.t() @ dscores + 2 * self.reg * self.params["W"], "b": dscores.sum(dim=0)}
        return loss, grads


def blobs(n_train=200, n_val=90, D=5, C=3, seed=0, device="cpu"):
    """C well-separated Gaussian clusters in D dimensions, float64."""
    gen = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(C, D, generator=gen, dtype=torch.float64)

    def split(n):
        y = torch.arange(n) % C
        X = centres[y] + torch.randn(n, D, generator=gen, dtype=torch.float64)
        return X.to(device), y.to(device)

    X_train, y_train = split(n_train)
    X_val, y_val = split(n_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


# Update rules that live in this module, so that update_rule="<name>" finds them here.
def momentum_rule(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    v = config.get("velocity", torch.zeros_like(w))
    v = 0.9 * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def ascent_rule(w, dw, config):
    """Climbs the loss: every step makes the model worse."""
    return w + config["learning_rate"] * dw, config


def course_inplace_sgd(w, dw, config=None):
    """The course's given sgd mutates w in place; the Solver must cope."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def quiet(**options):
    return {"verbose": False, "generator": torch.Generator().manual_seed(0), **options}


def test_the_test_models_hand_derived_gradient_matches_autograd():
    data = blobs()
    model = LinearSoftmax(5, 3, reg=0.3)
    loss, grads = model.loss(data["X_train"][:20], data["y_train"][:20])
    for name in ("W", "b"):
        model.params[name].requires_grad_(True)
    again, _ = model.loss(data["X_train"][:20], data["y_train"][:20])
    again.backward()
    assert torch.allclose(loss, again.detach())
    for name in ("W", "b"):
        torch.testing.assert_close(grads[name], model.params[name].grad)


def test_training_lowers_the_loss_and_learns_the_blobs():
    data = blobs()
    model = LinearSoftmax(5, 3)
    solver = Solver(model, data, optim_config={"learning_rate": 0.5}, num_epochs=5, batch_size=50, **quiet())
    solver.train()
    first, last = solver.loss_history[:4], solver.loss_history[-4:]
    assert sum(last) / 4 < 0.5 * sum(first) / 4
    assert solver.best_val_acc > 0.9 and solver.val_acc_history[0] < solver.best_val_acc


@pytest.mark.parametrize("n_train, batch_size, epochs, iterations, checks", [
    (200, 50, 3, 12, 4),   # 4 iterations an epoch: after iteration 1, then each epoch's end
    (230, 50, 2, 8, 3),    # a partial last batch is dropped: 230 // 50 = 4 iterations an epoch
    (30, 50, 3, 3, 3),     # batch larger than the data: 1 iteration an epoch, the first is an end
    (200, 50, 0, 0, 0),    # no epochs: nothing happens, the parameters stay
])
def test_history_lengths_follow_epochs_and_iterations(n_train, batch_size, epochs, iterations, checks):
    model = LinearSoftmax(5, 3)
    before = {k: v.clone() for k, v in model.params.items()}
    solver = Solver(model, blobs(n_train=n_train), batch_size=batch_size, num_epochs=epochs, **quiet())
    solver.train()
    assert len(solver.loss_history) == iterations
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == checks
    assert solver.epoch == epochs
    assert all(isinstance(v, float) for v in solver.loss_history + solver.val_acc_history)
    if epochs == 0:
        assert all(torch.equal(before[k], model.params[k]) for k in before)


def test_best_parameters_are_swapped_in_at_the_end_unless_asked_not_to():
    data = blobs()
    trained = LinearSoftmax(5, 3)
    Solver(trained, data, optim_config={"learning_rate": 0.5}, num_epochs=3, batch_size=50, **quiet()).train()

    for keep_best in (True, False):
        model = LinearSoftmax(5, 3)
        model.params = {k: v.clone() for k, v in trained.params.items()}
        solver = Solver(model, data, update_rule=ascent_rule, optim_config={"learning_rate": 2.0},
                        num_epochs=4, batch_size=50, **quiet())
        solver.train(return_best_params=keep_best)
        assert solver.best_val_acc == max(solver.val_acc_history) > solver.val_acc_history[-1]
        final_acc = solver.check_accuracy(data["X_val"], data["y_val"])
        if keep_best:
            assert all(torch.equal(model.params[k], solver.best_params[k]) for k in model.params)
            assert final_acc == solver.best_val_acc
        else:
            assert final_acc == solver.val_acc_history[-1] < solver.best_val_acc


def test_training_on_after_the_swap_leaves_the_recorded_best_alone():
    """The swapped-in parameters are copies: an in-place rule or a second train() that never
    beats the best cannot rewrite best_params."""
    data = blobs()
    model = LinearSoftmax(5, 3)
    solver = Solver(model, data, update_rule=course_inplace_sgd, optim_config={"learning_rate": 0.5},
                    num_epochs=3, batch_size=50, **quiet())
    solver.train()
    best = {k: v.clone() for k, v in solver.best_params.items()}
    solver.update_rule = ascent_rule
    solver.train(return_best_params=False)
    assert all(torch.equal(best[k], solver.best_params[k]) for k in best)
    assert not torch.equal(model.params["W"], best["W"])


def test_best_parameters_exist_even_when_every_check_scores_zero():
    data = blobs()
    data["y_val"] = torch.full_like(data["y_val"], 7)  # a class the model has no score for
    model = LinearSoftmax(5, 3)
    solver = Solver(model, data, num_epochs=2, batch_size=100, **quiet())
    solver.train()
    assert solver.val_acc_history == [0.0, 0.0, 0.0] and set(model.params) == {"W", "b"}


def test_lr_decay_is_applied_at_each_epochs_end():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    solver = Solver(LinearSoftmax(5, 3), blobs(), update_rule=recording_sgd,
                    optim_config={"learning_rate": 0.1}, lr_decay=0.5, num_epochs=3, batch_size=50,
                    **quiet())
    solver.train()
    # Two parameters, four iterations an epoch: 8 calls per epoch at one rate.
    assert seen == pytest.approx([0.1] * 8 + [0.05] * 8 + [0.025] * 8)
    assert all(c["learning_rate"] == pytest.approx(0.0125) for c in solver.optim_configs.values())
    assert solver.optim_config == {"learning_rate": 0.1}  # the caller's dict is not touched


def test_update_rule_by_function_and_by_name():
    data = blobs()
    by_function = Solver(LinearSoftmax(5, 3), data, update_rule=momentum_rule, num_epochs=2, **quiet())
    by_name = Solver(LinearSoftmax(5, 3), data, update_rule="momentum_rule", num_epochs=2, **quiet())
    assert by_name.update_rule is momentum_rule
    by_function.train()
    by_name.train()
    assert by_function.loss_history == by_name.loss_history
    assert "velocity" in by_name.optim_configs["W"]
    assert by_name.optim_configs["W"]["velocity"].shape == (5, 3)
    assert by_name.optim_configs["b"]["velocity"].shape == (3,)  # one state per parameter
    assert Solver(LinearSoftmax(5, 3), data, **quiet()).update_rule is sgd
    assert Solver(LinearSoftmax(5, 3), data, update_rule="sgd", **quiet()).update_rule is momentum_rule.__globals__["sgd"]
    assert Solver.sgd is sgd


def test_an_unknown_rule_name_or_a_non_function_is_a_clear_error():
    with pytest.raises(ValueError, match=r"update_rule 'adamw' is neither a function in module .*test_solver"):
        Solver(LinearSoftmax(5, 3), blobs(), update_rule="adamw", **quiet())
    with pytest.raises(TypeError, match="update_rule must be a function"):
        Solver(LinearSoftmax(5, 3), blobs(), update_rule=0.1, **quiet())


def test_the_courses_in_place_update_rule_trains_too():
    model = LinearSoftmax(5, 3)
    solver = Solver(model, blobs(), update_rule=course_inplace_sgd, optim_config={"learning_rate": 0.5},
                    num_epochs=3, batch_size=50, **quiet())
    solver.train()
    assert solver.best_val_acc > 0.9
    assert solver.check_accuracy(solver.X_val, solver.y_val) == solver.best_val_acc


def test_check_accuracy_scores_in_batches_and_on_a_subsample():
    data = blobs(n_train=237)
    model = LinearSoftmax(5, 3)
    solver = Solver(model, data, **quiet())
    X, y = data["X_train"], data["y_train"]
    predicted = model.loss(X).argmax(dim=1)
    model.seen.clear()
    assert solver.check_accuracy(X, y) == pytest.approx((predicted == y).double().mean().item())
    assert [rows for rows, _, _ in model.seen] == [100, 100, 37]
    model.seen.clear()
    solver.check_accuracy(X, y, batch_size=64)
    assert [rows for rows, _, _ in model.seen] == [64, 64, 64, 45]

    model.seen.clear()
    acc = solver.check_accuracy(X, y, num_samples=50, batch_size=20)
    assert [rows for rows, _, _ in model.seen] == [20, 20, 10]
    assert round(acc * 50) == pytest.approx(acc * 50)  # a fraction of 50 rows
    model.seen.clear()
    solver.check_accuracy(X, y, num_samples=500)  # more than there is: all of it
    assert sum(rows for rows, _, _ in model.seen) == 237
    # A subsample that differs from the whole: the right labels on the first 100 rows only.
    half_right = y.clone()
    half_right[100:] = (predicted[100:] + 1) % 3
    half_right[:100] = predicted[:100]
    subs = {solver.check_accuracy(X, half_right, num_samples=30) for _ in range(5)}
    assert len(subs) > 1 and all(0 < a < 1 for a in subs)


def test_the_generator_makes_runs_repeatable_and_leaves_the_global_one_alone():
    data = blobs()
    runs = []
    for _ in range(2):
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        solver = Solver(LinearSoftmax(5, 3), data, optim_config={"learning_rate": 0.5}, num_epochs=2,
                        batch_size=30, num_train_samples=50, **quiet())
        solver.train()
        assert torch.equal(torch.rand(3), expected)
        runs.append((solver.loss_history, solver.train_acc_history))
    assert runs[0] == runs[1]
    other = Solver(LinearSoftmax(5, 3), data, optim_config={"learning_rate": 0.5}, num_epochs=2,
                   batch_size=30, num_train_samples=50, verbose=False,
                   generator=torch.Generator().manual_seed(1))
    other.train()
    assert other.loss_history != runs[0][0]


def test_without_a_generator_reset_seed_repeats_a_run_as_in_the_course():
    from helpers import reset_seed

    histories = []
    for _ in range(2):
        reset_seed(0)
        solver = Solver(LinearSoftmax(5, 3), blobs(), num_epochs=2, batch_size=30, verbose=False)
        solver.train()
        histories.append(solver.loss_history)
    assert histories[0] == histories[1]


def test_batches_follow_the_solvers_device():
    model = LinearSoftmax(5, 3)
    solver = Solver(model, blobs(), device="cpu", num_epochs=1, **quiet())
    solver.train()
    assert {device for _, device, _ in model.seen} == {torch.device("cpu")}


@needs_cuda
def test_batches_move_to_cuda_when_the_data_is_on_the_cpu():
    model = LinearSoftmax(5, 3, device="cuda")
    solver = Solver(model, blobs(), device="cuda", optim_config={"learning_rate": 0.5},
                    num_epochs=3, batch_size=50, **quiet())
    solver.train()
    assert {device.type for _, device, _ in model.seen} == {"cuda"}
    assert solver.best_val_acc > 0.9 and model.params["W"].device.type == "cuda"
    # Data already on the GPU is indexed there.
    data = blobs(device="cuda")
    acc = solver.check_accuracy(data["X_val"], data["y_val"], num_samples=40)
    assert 0.0 <= acc <= 1.0


def test_verbose_prints_the_courses_lines_and_quiet_prints_nothing(capsys):
    Solver(LinearSoftmax(5, 3), blobs(), num_epochs=2, batch_size=50, print_every=3,
           generator=torch.Generator().manual_seed(0)).train()
    out = capsys.readouterr().out.splitlines()
    assert [line.split(")")[0].split("; ")[1] for line in out if line.startswith("(Time")] == \
        ["Iteration 1 / 8", "Iteration 4 / 8", "Iteration 7 / 8"]
    assert [line.split(")")[0] for line in out if line.startswith("(Epoch")] == \
        ["(Epoch 0 / 2", "(Epoch 1 / 2", "(Epoch 2 / 2"]
    Solver(LinearSoftmax(5, 3), blobs(), num_epochs=2, **quiet()).train()
    assert capsys.readouterr().out == ""


def test_print_acc_every_thins_the_accuracy_lines(capsys):
    Solver(LinearSoftmax(5, 3), blobs(), num_epochs=4, batch_size=50, print_every=1000,
           print_acc_every=2, generator=torch.Generator().manual_seed(0)).train()
    out = capsys.readouterr().out
    assert [l.split(")")[0] for l in out.splitlines() if l.startswith("(Epoch")] == \
        ["(Epoch 0 / 4", "(Epoch 2 / 4", "(Epoch 4 / 4"]


def test_checkpoints_are_pickled_at_each_accuracy_check(tmp_path):
    name = str(tmp_path / "run")
    solver = Solver(LinearSoftmax(5, 3), blobs(), num_epochs=2, batch_size=100,
                    checkpoint_name=name, **quiet())
    solver.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["run_epoch_0.pkl", "run_epoch_1.pkl", "run_epoch_2.pkl"]
    with open(tmp_path / "run_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2 and len(checkpoint["val_acc_history"]) == 3
    assert set(checkpoint["model"].params) == {"W", "b"}


def test_time_limit_stops_before_running_past_it(capsys):
    solver = Solver(LinearSoftmax(5, 3), blobs(), num_epochs=1000, batch_size=50, **quiet())
    solver.train(time_limit=0.0)
    assert len(solver.loss_history) == 1
    assert "End of training; next iteration will exceed the time limit." in capsys.readouterr().out


def test_unknown_options_and_bad_data_are_named():
    data = blobs()
    with pytest.raises(ValueError, match=r"unknown option\(s\) 'learning_rate', 'num_epoch' \(did you mean 'num_epochs'\?\)"):
        Solver(LinearSoftmax(5, 3), data, learning_rate=1e-3, num_epoch=3)
    partial = {k: v for k, v in data.items() if k != "y_val"}
    with pytest.raises(ValueError, match="data lacks y_val"):
        Solver(LinearSoftmax(5, 3), partial)
    short = {**data, "y_train": data["y_train"][:10]}
    with pytest.raises(ValueError, match="X_train has 200 rows but y_train has 10 labels"):
        Solver(LinearSoftmax(5, 3), short)
    for option, value in (("batch_size", 0), ("num_epochs", -1), ("print_every", 2.5)):
        with pytest.raises(ValueError, match=option):
            Solver(LinearSoftmax(5, 3), data, **{option: value})
    with pytest.raises(TypeError, match="needs a dict `params`"):
        Solver(object(), data)


def test_a_missing_gradient_names_the_parameter():
    class Forgetful(LinearSoftmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            return out if y is None else (out[0], {"W": out[1]["W"]})

    solver = Solver(Forgetful(5, 3), blobs(), **quiet())
    with pytest.raises(KeyError, match="no gradient for parameter 'b'"):
        solver.train()
