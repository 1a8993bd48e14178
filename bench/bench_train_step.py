"""One SGD iteration of the hand-written two-layer net (sample_batch, nn_forward_backward,
in-place update) next to the same net as torch.nn.Linear + autograd + torch.optim.SGD.
CIFAR-sized: batch 200, D 3072, H 100, C 10, float32, CPU. Goal: ratio <= 1.0."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from a2.linear_classifier import sample_batch  # noqa: E402
from a2.two_layer_net import TwoLayerNet, nn_forward_backward  # noqa: E402
from common import alternate, report  # noqa: E402

N, D, H, C, B, LR, REG = 5000, 3072, 100, 10, 200, 1e-3, 5e-6


def main():
    torch.manual_seed(0)
    X = torch.randn(N, D)
    y = torch.randint(C, (N,))
    net = TwoLayerNet(D, H, C)
    params = net.params

    def hand_step():
        X_batch, y_batch = sample_batch(X, y, N, B)
        loss, grads = nn_forward_backward(params, X_batch, y=y_batch, reg=REG)
        for name in params:
            params[name] -= LR * grads[name]

    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def torch_step():
        X_batch, y_batch = sample_batch(X, y, N, B)
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(X_batch), y_batch)
        loss = loss + REG * (model[0].weight.square().sum() + model[2].weight.square().sum())
        loss.backward()
        optimizer.step()

    medians = alternate({"hand-written nn_train step": hand_step, "nn.Linear + autograd + optim.SGD": torch_step},
                        rounds=41, inner=5)
    report(f"Training step, batch {B}, D {D}, H {H}, C {C}, float32, CPU ({torch.get_num_threads()} threads)",
           medians, "nn.Linear + autograd + optim.SGD", "hand-written nn_train step")


if __name__ == "__main__":
    main()
