"""helpers/: toy data, gradient checks, data sets, plots and the submission zip."""
import pickle
import zipfile

import numpy as np
import pytest
import torch

import helpers
from helpers import data as hdata
from conftest import needs_cuda


# ---------------------------------------------------------------- toy data and gradients

def test_toy_data_is_identical_across_dtypes_and_calls():
    X32, y32, p32 = helpers.get_toy_data(dtype=torch.float32)
    X64, y64, p64 = helpers.get_toy_data(dtype=torch.float64)
    assert torch.equal(X32, X64.float()) and torch.equal(y32, y64)
    assert all(torch.equal(p32[k], p64[k].float()) for k in p32)
    assert y64.tolist() == [0, 1, 2, 2, 1] and X64.shape == (5, 4) and p64["W2"].shape == (10, 3)
    X_again, _, _ = helpers.get_toy_data(dtype=torch.float64)
    assert torch.equal(X64, X_again)


def test_toy_data_leaves_the_global_generator_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    helpers.get_toy_data()
    assert torch.equal(torch.rand(3), expected)


@needs_cuda
def test_toy_data_on_cuda_equals_cpu():
    X_cpu, _, p_cpu = helpers.get_toy_data(dtype=torch.float64)
    X_gpu, _, p_gpu = helpers.get_toy_data(dtype=torch.float64, device="cuda")
    assert torch.equal(X_cpu, X_gpu.cpu()) and torch.equal(p_cpu["W1"], p_gpu["W1"].cpu())


def test_numeric_gradient_matches_autograd_and_restores_x():
    x = torch.randn(3, 4, dtype=torch.float64)
    before = x.clone()
    f = lambda t: (t.sin() * t).sum()  # noqa: E731
    numeric = helpers.compute_numeric_gradient(f, x, h=1e-6)
    x_req = x.clone().requires_grad_(True)
    f(x_req).backward()
    assert helpers.rel_error(numeric, x_req.grad) < 1e-7
    assert torch.equal(x, before)


def test_grad_check_sparse_reports_each_entry(capsys):
    x = torch.randn(4, 5, dtype=torch.float64)
    checks = helpers.grad_check_sparse(lambda t: (t ** 2).sum(), x, 2 * x, num_checks=4)
    assert len(checks) == 4 and max(c.rel_error for c in checks) < 1e-4
    assert capsys.readouterr().out.count("relative error") == 4
    wrong = helpers.grad_check_sparse(lambda t: (t ** 2).sum(), x, x, num_checks=3, verbose=False)
    assert min(c.rel_error for c in wrong) > 0.3


def test_rel_error_definition():
    x = torch.tensor([1.0, 2.0])
    y = torch.tensor([1.0, 3.0])
    assert helpers.rel_error(x, y) == pytest.approx(1.0 / 5.0)
    assert helpers.rel_error(torch.zeros(2), torch.zeros(2)) == 0.0


# ---------------------------------------------------------------- data sets

def write_cifar10(root, per_batch=4, num_test=6, seed=0):
    """A small CIFAR-10 folder in the genuine python format (pickled dicts of uint8 rows)."""
    folder = root / hdata.CIFAR10_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def batch(name, n):
        images = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": images,
                         "filenames": [f"img{i}.png" for i in range(n)]}, f, protocol=2)
        return images, labels

    train = [batch(f"data_batch_{i}", per_batch) for i in range(1, 6)]
    test = batch("test_batch", num_test)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(hdata.CIFAR10_CLASSES), "num_cases_per_batch": per_batch,
                     "num_vis": 3072}, f, protocol=2)
    return train, test


def test_cifar10_loader_reads_the_genuine_format(tmp_path):
    train, test = write_cifar10(tmp_path)
    x_train, y_train, x_test, y_test = hdata.cifar10(root=tmp_path, download=False, verify=False)
    assert x_train.shape == (20, 3, 32, 32) and x_test.shape == (6, 3, 32, 32)
    first = torch.tensor(train[0][0][0], dtype=torch.float32).reshape(3, 32, 32) / 255
    torch.testing.assert_close(x_train[0], first)  # channel-major rows, as the format stores them
    assert y_train.tolist() == sum((labels for _, labels in train), [])
    assert y_test.tolist() == test[1] and y_test.dtype == torch.int64


def test_cifar10_verify_refuses_files_that_are_not_the_release(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(hdata.DatasetUnavailable, match="incomplete or corrupted"):
        hdata.cifar10(root=tmp_path, download=False, verify=True)


def test_the_md5_check_is_on_unless_the_environment_turns_it_off(tmp_path, monkeypatch):
    write_cifar10(tmp_path)
    monkeypatch.delenv("A2_DATA_VERIFY", raising=False)
    with pytest.raises(hdata.DatasetUnavailable, match="incomplete or corrupted"):
        hdata.cifar10(root=tmp_path, download=False)
    monkeypatch.setenv("A2_DATA_VERIFY", "0")
    assert hdata.cifar10(root=tmp_path, download=False)[0].shape == (20, 3, 32, 32)
    with pytest.raises(hdata.DatasetUnavailable, match="incomplete or corrupted"):
        hdata.cifar10(root=tmp_path, download=False, verify=True)  # an explicit verify wins


def test_preprocess_cifar10_splits_centres_and_adds_bias(tmp_path):
    write_cifar10(tmp_path, per_batch=10)
    data = helpers.preprocess_cifar10(show_examples=False, bias_trick=True, root=tmp_path,
                                      download=False, verify=False, dtype=torch.float64)
    assert data["X_train"].shape == (40, 3073) and data["X_val"].shape == (10, 3073)
    assert data["X_test"].shape == (6, 3073) and data["X_train"].dtype == torch.float64
    assert torch.all(data["X_train"][:, -1] == 1)
    pixels = torch.cat([data["X_train"], data["X_val"]])[:, :-1].reshape(50, 3, 1024)
    torch.testing.assert_close(pixels.mean(dim=(0, 2)), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)


def test_missing_cifar10_says_where_and_how(tmp_path):
    with pytest.raises(hdata.DatasetUnavailable) as info:
        hdata.cifar10(root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / hdata.CIFAR10_FOLDER) in message and hdata.CIFAR10_URL in message


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    def offline(self):
        raise OSError("network is unreachable")

    monkeypatch.setattr(CIFAR10, "download", offline)
    with pytest.raises(hdata.DatasetUnavailable, match="download failed: network is unreachable"):
        hdata.cifar10(root=tmp_path, download=True)


def test_digits_has_the_cifar_layout(digits64):
    assert set(digits64) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}
    total = sum(digits64[k].shape[0] for k in ("X_train", "X_val", "X_test"))
    assert total == 1797 and digits64["X_train"].shape[1] == 64
    pixels = torch.cat([digits64["X_train"], digits64["X_val"]])
    assert abs(pixels.mean().item()) < 1e-12  # one channel: its training mean is subtracted
    assert set(digits64["y_train"].unique().tolist()) == set(range(10))


def test_digits_in_cifar_shape_are_the_same_images_blown_up(digits64):
    """Each 8x8 digit becomes 3 x 32 x 32 (4x4 blocks, three equal channels), same split."""
    big = hdata.load_digits_data(dtype=torch.float64, cifar_shape=True)
    assert big["X_train"].shape == (digits64["X_train"].shape[0], 3 * 32 * 32)
    assert torch.equal(big["y_val"], digits64["y_val"])
    images = big["X_test"].reshape(-1, 3, 32, 32)
    small = digits64["X_test"].reshape(-1, 8, 8)
    torch.testing.assert_close(images[:, 2, 4 * 5 + 3, 4 * 6 + 1], small[:, 5, 6])
    torch.testing.assert_close(images[:, 0], images[:, 1])
    unflat = hdata.load_digits_data(cifar_shape=True, flatten=False)
    assert unflat["X_val"].shape[1:] == (3, 32, 32) and unflat["X_val"].dtype == torch.float32


# ---------------------------------------------------------------- plots

def _png(fig, path):
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_plots_render_to_png(tmp_path):
    from a2.two_layer_net import TwoLayerNet

    stats = {"loss_history": [2.3, 1.0], "train_acc_history": [0.1, 0.5], "val_acc_history": [0.1, 0.4]}
    _png(helpers.plot_stats(stats), tmp_path / "stats.png")
    _png(helpers.plot_acc_curves({36: stats, 64: stats}), tmp_path / "acc.png")
    _png(helpers.show_net_weights(TwoLayerNet(3072, 9, 10)), tmp_path / "w.png")
    X = torch.rand(30, 3, 32, 32)
    y = torch.arange(30) % 10
    _png(helpers.visualize_dataset(X, y, 2, hdata.CIFAR10_CLASSES), tmp_path / "ds.png")
    grid = helpers.visualize_grid(torch.rand(5, 4, 4, 3), padding=1)
    assert grid.shape == (3 * 4 + 2, 3 * 4 + 2, 3) and grid.max() <= 255.0
    image = helpers.tensor_to_image(torch.rand(3, 8, 8))
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8


# ---------------------------------------------------------------- submission

def _kit_tree(root):
    import shutil
    from pathlib import Path

    from a2.linear_classifier import LinearSVM
    from a2.two_layer_net import TwoLayerNet

    repo = Path(__file__).resolve().parents[1]
    (root / "a2").mkdir()
    (root / "notebooks").mkdir()
    for name in ("linear_classifier.py", "two_layer_net.py"):
        shutil.copy(repo / "a2" / name, root / "a2" / name)
    import nbformat

    for name in ("linear_classifier.ipynb", "two_layer_net.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), str(root / "notebooks" / name))
    svm = LinearSVM()
    svm.W = torch.zeros(3073, 10)
    svm.save(root / "svm_best_model.pt")
    svm.save(root / "softmax_best_model.pt")
    TwoLayerNet(3072, 4, 10).save(root / "nn_best_model.pt")


def test_submission_zip_holds_the_seven_files(tmp_path):
    _kit_tree(tmp_path)
    path = helpers.make_a2_submission(tmp_path, "janedoe", "12345678")
    assert path.name == "janedoe_12345678_A2.zip"
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted([
            "linear_classifier.py", "two_layer_net.py", "linear_classifier.ipynb",
            "two_layer_net.ipynb", "svm_best_model.pt", "softmax_best_model.pt", "nn_best_model.pt"])


@pytest.mark.parametrize("breakage,message", [
    (lambda root: (root / "nn_best_model.pt").unlink(), "nn_best_model.pt is missing"),
    (lambda root: (root / "a2" / "two_layer_net.py").write_text("def broken(:\n"), "does not parse"),
    (lambda root: torch.save({"W": torch.ones(1)}, root / "nn_best_model.pt"), "exactly the tensors"),
    (lambda root: (root / "svm_best_model.pt").write_bytes(b"not a checkpoint"), "does not load"),
])
def test_submission_refuses_clearly_and_writes_nothing(tmp_path, breakage, message):
    _kit_tree(tmp_path)
    breakage(tmp_path)
    with pytest.raises(helpers.SubmissionError, match=message):
        helpers.make_a2_submission(tmp_path, "janedoe", "12345678")
    assert not list(tmp_path.glob("*.zip*"))


def test_submission_rejects_odd_ids(tmp_path):
    _kit_tree(tmp_path)
    with pytest.raises(helpers.SubmissionError, match="not a valid id"):
        helpers.make_a2_submission(tmp_path, "../evil", "1")


# ---------------------------------------------------------------- losses (Assignment 3)

@pytest.mark.parametrize("N, C, scale", [(1, 2, 1.0), (6, 4, 1.0), (9, 10, 1e3), (5, 3, 1e-3)])
def test_softmax_loss_equals_autograd_of_cross_entropy(N, C, scale):
    gen = torch.Generator().manual_seed(N * C)
    x = scale * torch.randn(N, C, generator=gen, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=gen)
    x_before = x.clone()
    loss, dx = helpers.softmax_loss(x, y)
    leaf = x.clone().requires_grad_(True)
    ref = torch.nn.functional.cross_entropy(leaf, y)
    (ref_dx,) = torch.autograd.grad(ref, leaf)
    assert loss.dim() == 0 and torch.isfinite(loss)
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dx, ref_dx, rtol=1e-10, atol=1e-14)
    assert torch.equal(x, x_before)


@pytest.mark.parametrize("N, C, scale", [(1, 2, 1.0), (6, 4, 1.0), (9, 10, 30.0)])
def test_svm_loss_equals_autograd_of_the_hinge(N, C, scale):
    gen = torch.Generator().manual_seed(N + C)
    x = scale * torch.randn(N, C, generator=gen, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=gen)
    x_before = x.clone()
    loss, dx = helpers.svm_loss(x, y)
    leaf = x.clone().requires_grad_(True)
    margins = (leaf - leaf[torch.arange(N), y].unsqueeze(1) + 1).clamp(min=0)
    ref = (margins.sum() - N) / N  # each correct class contributes a margin of exactly 1
    (ref_dx,) = torch.autograd.grad(ref, leaf)
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dx, ref_dx, rtol=1e-12, atol=1e-14)
    assert torch.equal(x, x_before)


@pytest.mark.parametrize("loss_fn", ["softmax_loss", "svm_loss"])
def test_losses_follow_the_scores_dtype(loss_fn):
    x, y = torch.randn(4, 3, dtype=torch.float32), torch.tensor([0, 2, 1, 2])
    loss, dx = getattr(helpers, loss_fn)(x, y)
    assert loss.dtype == dx.dtype == torch.float32 and dx.shape == x.shape


# ---------------------------------------------------------------- submission (Assignment 3)

def _a3_tree(root):
    import shutil
    from pathlib import Path

    import nbformat

    from a3.fully_connected_networks import FullyConnectedNet, TwoLayerNet

    repo = Path(__file__).resolve().parents[1]
    (root / "a3").mkdir()
    (root / "notebooks").mkdir()
    shutil.copy(repo / "a3" / "fully_connected_networks.py", root / "a3" / "fully_connected_networks.py")
    nbformat.write(nbformat.v4.new_notebook(), str(root / "notebooks" / "fully_connected_networks.ipynb"))
    TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3).save(root / "best_two_layer_net.pth")
    FullyConnectedNet([4] * 4, input_dim=6, num_classes=3).save(root / "best_overfit_five_layer_net.pth")


def test_a3_submission_zip_holds_the_four_files(tmp_path):
    _a3_tree(tmp_path)
    path = helpers.make_a3_submission(tmp_path, "janedoe", "12345678")
    assert path.name == "janedoe_12345678_A3.zip"
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted([
            "fully_connected_networks.py", "fully_connected_networks.ipynb",
            "best_two_layer_net.pth", "best_overfit_five_layer_net.pth"])


@pytest.mark.parametrize("breakage,message", [
    (lambda root: (root / "best_two_layer_net.pth").unlink(), "best_two_layer_net.pth is missing"),
    (lambda root: (root / "a3" / "fully_connected_networks.py").write_text("def broken(:\n"), "does not parse"),
    (lambda root: torch.save({"W1": torch.ones(1)}, root / "best_two_layer_net.pth"), "a model's save"),
    (lambda root: torch.save({"reg": 0.0, "params": {"W1": torch.ones(1)}}, root / "best_overfit_five_layer_net.pth"),
     "in 'params' exactly the tensors"),
])
def test_a3_submission_refuses_clearly_and_writes_nothing(tmp_path, breakage, message):
    _a3_tree(tmp_path)
    breakage(tmp_path)
    with pytest.raises(helpers.SubmissionError, match=message):
        helpers.make_a3_submission(tmp_path, "janedoe", "12345678")
    assert not list(tmp_path.glob("*.zip*"))
