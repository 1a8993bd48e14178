"""The tiny data set of the two-layer net's first checks."""
import torch

TOY_LABELS = (0, 1, 2, 2, 1)


def get_toy_data(num_inputs: int = 5, input_size: int = 4, hidden_size: int = 10,
                 num_classes: int = 3, dtype: torch.dtype = torch.float32, device="cpu"):
    """Return ``(toy_X (N, D), toy_y (N,), params)`` for the toy checks.

    X = 10 * randn(N, D); W1 = 1e-4 * randn(D, H), W2 = 1e-4 * randn(H, C), biases zero;
    y = [0, 1, 2, 2, 1] for the default five inputs.

    Values come from a fixed CPU generator in float64 and are then cast and moved, so the
    toy data is the same on every device and, up to rounding, in every dtype. (The course
    original drew on the target device's generator, so CPU and CUDA disagreed.)
    """
    N, D, H, C = num_inputs, input_size, hidden_size, num_classes
    gen = torch.Generator().manual_seed(0)

    def draw(*shape, scale):
        values = scale * torch.randn(*shape, generator=gen, dtype=torch.float64)
        return values.to(device=device, dtype=dtype)

    params = {
        "W1": draw(D, H, scale=1e-4),
        "b1": torch.zeros(H, dtype=dtype, device=device),
        "W2": draw(H, C, scale=1e-4),
        "b2": torch.zeros(C, dtype=dtype, device=device),
    }
    toy_X = draw(N, D, scale=10.0)
    if N == len(TOY_LABELS) and C >= 3:
        labels = torch.tensor(TOY_LABELS, dtype=torch.int64)
    else:
        labels = torch.randint(C, (N,), generator=gen)
    toy_y = labels.to(device=device)
    return toy_X, toy_y, params
