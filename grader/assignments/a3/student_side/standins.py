"""Stand-ins for Assignment 3's layers and loss while a network's ``loss`` is graded: each answers
from a table the grader made for this case's inputs (never computing a layer itself), so that a
bug in ``Linear`` or ``ReLU`` costs points only there, and every call is recorded in order.

A stand-in asked about an input it holds no answer for does not raise: it records the miss
(with what the input is, when it is another known tensor of the case: "the output of layer 1's
ReLU") and answers with zeros of the right shape, so that the network's result comes out wrong
and the judge can say where the chain broke.
"""
import torch

from ....student_side.standins import same_tensor, unseen


def _flat(t):
    return t.reshape(t.shape[0], -1) if isinstance(t, torch.Tensor) and t.dim() > 1 else t


def _close(key, value) -> bool:
    """Whether ``value`` holds ``key``'s numbers up to rounding: a student who computes a tensor
    the stand-ins also hold (the softmax's gradient written out by hand, a sum taken in another
    order) passes on the same numbers but for the last bits."""
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(key.shape):
        return False
    if not key.is_floating_point():
        return same_tensor(key, value)
    try:
        got = value.detach().to("cpu", torch.float64)
    except (RuntimeError, TypeError):
        return False
    want = key.to(torch.float64)
    scale = max(1.0, float(want.abs().max())) if want.numel() else 1.0
    return bool(((got - want).abs() <= 1e-6 * scale + 1e-5 * want.abs()).all())


def _same(key, value, flatten=False) -> bool:
    if flatten and isinstance(value, torch.Tensor) and isinstance(key, torch.Tensor) and value.dim() >= 1:
        if value.numel() != key.numel() or value.shape[0] != key.shape[0]:
            return False
        return _close(_flat(key), _flat(value))
    return _close(key, value)


def _copy(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device, copy=True)
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v, device) for v in value)
    return value


# What each key of a layer's table is, as the student's call passes it (the backward passes'
# keys come from their caches)
ARGUMENTS = {"Linear.forward": ("x", "w", "b"), "Linear_ReLU.forward": ("x", "w", "b"),
             "Linear.backward": ("dout", "the cache's x", "the cache's w"),
             "Linear_ReLU.backward": ("dout", "the cache's x", "the cache's w"),
             "ReLU.backward": ("dout", "the cache"), "Dropout.backward": ("dout", "the cache's mask")}


class Chain:
    """The tables of one case and the record of the calls made to them.

    ``entries``: {layer name: [(key tensors, answer)]}; ``known``: [(label, tensor)] of the
    case's intermediate values, to name what a missed input is."""

    def __init__(self, entries, known=()):
        self.entries, self.known, self.calls, self.misses = entries, list(known), [], []

    @unseen
    def lookup(self, name, keys, flatten_first=False, flatten_at=None):
        """The answer for these inputs; ``flatten_first`` (or ``flatten_at``, another index) marks
        the input that may come as rows (N, D) as well as in its own shape (N, d_1, ..., d_k): a
        Linear's x, and the x of a cache put together by hand from the rows."""
        flat = 0 if flatten_first else flatten_at
        for index, (stored, answer) in enumerate(self.entries.get(name, [])):
            if len(stored) == len(keys) and all(
                    _same(s, k, i == flat) for i, (s, k) in enumerate(zip(stored, keys))):
                self.calls.append([name, index])
                return answer
        self.calls.append([name, None])
        self.misses.append({"call": name, "number": len(self.calls), "input": self._named(keys),
                            "instead": self._instead(name, keys), "argument": self._argument(name, keys)})
        return None

    @unseen
    def _argument(self, name, keys):
        """When every input but one, not the first, is what the right chain gives this layer:
        which argument is not, what it is instead and what it should be (known tensors of the
        case, by name), e.g. a ReLU.backward handed the ReLU's output as its cache instead of its
        input."""
        labels = ARGUMENTS.get(name)
        if not labels:
            return None
        for stored, _ in self.entries.get(name, []):
            if len(stored) != len(keys):
                continue
            flat = 0 if name.endswith("forward") else 1 if name.startswith("Linear") else None
            wrong = [i for i, (s, k) in enumerate(zip(stored, keys)) if not _same(s, k, i == flat)]
            if len(wrong) == 1 and 0 < wrong[0] < len(labels):  # a wrong first input: `_named` says what it is
                i = wrong[0]
                return {"name": labels[i], "given": self._label(keys[i]), "expected": self._label(stored[i])}
        return None

    @unseen
    def _label(self, value) -> str:
        for label, tensor in self.known:
            if _same(tensor, value, flatten=True):
                return label.split(":")[0]
        return ""

    @unseen
    def _instead(self, name, keys) -> str:
        """The layer the right chain calls on these very inputs, when it is another one (a
        Linear_ReLU where the last layer has no ReLU, say)."""
        direction = name.rsplit(".", 1)[-1]
        for other, entries in self.entries.items():
            if other == name or not other.endswith(direction):
                continue
            for stored, _ in entries:
                if len(stored) == len(keys) and all(
                        _same(s, k, i == 0 and direction == "forward") for i, (s, k) in enumerate(zip(stored, keys))):
                    return other
        return ""

    @unseen
    def _named(self, keys) -> str:
        """What the first input of a missed call is, when it is a known tensor of the case."""
        first = keys[0] if keys else None
        for label, tensor in self.known:
            if _same(tensor, first, flatten=True):
                return label
        return ""

    def replacements(self):
        chain = self

        class Linear:
            @staticmethod
            @unseen
            def forward(x, w, b):
                out = chain.lookup("Linear.forward", (x, w, b), flatten_first=True)
                if out is None:
                    out = torch.zeros(x.shape[0], w.shape[-1], dtype=x.dtype, device=x.device)
                return _copy(out, x.device), (x, w, b)

            @staticmethod
            @unseen
            def backward(dout, cache):
                x, w, b = cache
                grads = chain.lookup("Linear.backward", (dout, x, w), flatten_at=1)
                if grads is None:
                    return torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b)
                dx, dw, db = _copy(grads, dout.device)
                return dx.reshape(x.shape) if dx.numel() == x.numel() else dx, dw, db

        class ReLU:
            @staticmethod
            @unseen
            def forward(x):
                out = chain.lookup("ReLU.forward", (x,))
                return (_copy(out, x.device) if out is not None else torch.zeros_like(x)), x

            @staticmethod
            @unseen
            def backward(dout, cache):
                dx = chain.lookup("ReLU.backward", (dout, cache))
                return _copy(dx, dout.device) if dx is not None else torch.zeros_like(dout)

        class Linear_ReLU:
            @staticmethod
            @unseen
            def forward(x, w, b):
                answer = chain.lookup("Linear_ReLU.forward", (x, w, b), flatten_first=True)
                if answer is None:
                    zeros = torch.zeros(x.shape[0], w.shape[-1], dtype=x.dtype, device=x.device)
                    return zeros, ((x, w, b), zeros.clone())
                out, a = _copy(answer, x.device)
                return out, ((x, w, b), a)

            @staticmethod
            @unseen
            def backward(dout, cache):
                (x, w, b), _ = cache
                grads = chain.lookup("Linear_ReLU.backward", (dout, x, w), flatten_at=1)
                if grads is None:
                    return torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b)
                dx, dw, db = _copy(grads, dout.device)
                return dx.reshape(x.shape) if dx.numel() == x.numel() else dx, dw, db

        class Dropout:
            @staticmethod
            @unseen
            def forward(x, dropout_param):
                mode = dropout_param.get("mode") if isinstance(dropout_param, dict) else None
                chain.calls.append(["Dropout.mode", str(mode)])
                if mode != "train":
                    return x, (dropout_param, None)
                answer = chain.lookup("Dropout.forward", (x,))
                if answer is None:
                    return torch.zeros_like(x), (dropout_param, torch.zeros_like(x))
                out, mask = _copy(answer, x.device)
                return out, (dropout_param, mask)

            @staticmethod
            @unseen
            def backward(dout, cache):
                dropout_param, mask = cache
                if mask is None:
                    return dout
                dx = chain.lookup("Dropout.backward", (dout, mask))
                return _copy(dx, dout.device) if dx is not None else torch.zeros_like(dout)

        @unseen
        def softmax_loss(x, y):
            answer = chain.lookup("softmax_loss", (x,))
            if answer is None:
                return torch.zeros((), dtype=x.dtype, device=x.device), torch.zeros_like(x)
            loss, dx = _copy(answer, x.device)
            return loss, dx

        for cls in (Linear, ReLU, Linear_ReLU, Dropout):
            cls.__qualname__ = cls.__name__ = f"{cls.__name__} (grading stand-in)"
        return {"Linear": Linear, "ReLU": ReLU, "Linear_ReLU": Linear_ReLU, "Dropout": Dropout,
                "softmax_loss": softmax_loss}


def _not_run(*args, **kwargs):
    raise RuntimeError("the grading stand-in for Solver does not train")


class RecordingSolver:
    """Takes ``Solver``'s place while ``create_solver_instance`` runs: records what it was built
    with and trains nothing. ``Solver.sgd`` is there, as in the course's Solver (some students
    pass ``update_rule=Solver.sgd``)."""

    made = []
    sgd = staticmethod(_not_run)

    def __init__(self, model, data, **kwargs):
        self.model, self.data, self.kwargs = model, data, kwargs
        RecordingSolver.made.append(self)

    def train(self, *args, **kwargs):  # the template returns the Solver untrained
        self.trained = True


class RecordingTwoLayerNet:
    """Takes ``TwoLayerNet``'s place while ``create_solver_instance`` runs (the given line builds
    one): a bug in the student's constructor is charged to the constructor alone."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.params, self.reg = args, kwargs, {}, kwargs.get("reg", 0.0)

    def loss(self, X, y=None):
        raise RuntimeError("the grading stand-in for TwoLayerNet computes nothing")


RecordingTwoLayerNet.__name__ = RecordingTwoLayerNet.__qualname__ = "TwoLayerNet"
