"""Shared fixtures: the digits data set and small random problems."""
import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def digits64():
    from helpers import load_digits_data

    return load_digits_data(dtype=torch.float64)


@pytest.fixture(scope="session")
def digits32_bias():
    from helpers import load_digits_data

    return load_digits_data(dtype=torch.float32, bias_trick=True)


def random_problem(N, D, C, scale=1.0, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    W = 0.01 * torch.randn(D, C, generator=gen, dtype=dtype)
    X = scale * torch.randn(N, D, generator=gen, dtype=dtype)
    y = torch.randint(C, (N,), generator=gen)
    return W, X, y


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@pytest.fixture(scope="session")
def zygote():
    """One warm student-process parent for the whole test session."""
    from grader.sandbox import Zygote

    z = Zygote()
    yield z
    z.close()


@pytest.fixture()
def grade_with(zygote):
    """grade(...) sharing the session's zygote."""
    from grader.runner import grade

    def run(submission, functions=None, hidden=True, **kwargs):
        return grade(submission, functions=functions, hidden=hidden, zygote=zygote, **kwargs)
    return run
