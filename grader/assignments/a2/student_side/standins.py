"""A2's stand-ins: the recording losses and predictions, the tables of scores, the classifier
and the search world that take the place of what A2's graded functions call (see
:mod:`grader.student_side.standins` for the ones every assignment shares).

None of them computes an answer. Where a stand-in must answer (scores, labels, batches), it
looks the answer up in a table the grader built beforehand for this case's inputs, and for
any other input it says it has no answer.
"""
import torch

from ....student_side.standins import NoAnswer, Recorder, Substitutes, Table, plain, same_tensor, unseen  # noqa: F401
from ....student_side.wire import describe


# ------------------------------------------------------------------ training loops

class TableSampler:
    """Takes ``sample_batch``'s place inside a training loop: the k-th call returns the rows of
    X (and their labels) at the k-th list of indices the grader drew beforehand."""

    def __init__(self, batches):
        self.batches, self.calls = [torch.as_tensor(b, dtype=torch.int64) for b in batches], 0

    @unseen
    def __call__(self, X, y, num_train, batch_size, *extra):
        idx = self.batches[self.calls % len(self.batches)].to(X.device)
        self.calls += 1
        return X[idx], y[idx]


def _linear_loss(k: int, dtype) -> torch.Tensor:
    return torch.tensor(1.0 + 0.5 ** k, dtype=dtype)


def _net_loss(k: int, dtype) -> torch.Tensor:
    return torch.tensor(2.0 - 0.01 * k, dtype=dtype)


def standin_linear_outputs(seed, W, n):
    """The gradients and losses :class:`RecordingLinearLoss` returns in its first ``n`` calls,
    made again (by the grader, from the seed: what the student's process reports of them could
    have been rewritten)."""
    gen = torch.Generator().manual_seed(seed)
    grads = [torch.randn(W.shape, generator=gen, dtype=torch.float64).to(W.dtype) for _ in range(n)]
    return grads, [float(_linear_loss(k, W.dtype)) for k in range(n)]


def standin_net_outputs(seed, params, dtype, n):
    """The gradients and losses :class:`RecordingNetLoss` returns in its first ``n`` calls with
    labels, made again by the grader from the seed."""
    gen = torch.Generator().manual_seed(seed)
    grads = [{k: torch.randn(v.shape, generator=gen, dtype=torch.float64).to(v.dtype) for k, v in params.items()}
             for _ in range(n)]
    return grads, [float(_net_loss(k, dtype)) for k in range(n)]


class RecordingLinearLoss:
    """A ``loss_func(W, X_batch, y_batch, reg)`` that records its calls and returns known
    losses and gradients (random numbers), so that every SGD step can be checked exactly."""

    def __init__(self, seed):
        self.calls, self.gen = [], torch.Generator().manual_seed(seed)

    @unseen
    def __call__(self, W, X_batch, y_batch, reg, *extra):
        grad = torch.randn(W.shape, generator=self.gen, dtype=torch.float64).to(W)
        loss = _linear_loss(len(self.calls), W.dtype).to(W.device)
        self.calls.append({"W": describe(W), "X_batch": describe(X_batch), "y_batch": describe(y_batch),
                           "reg": describe(reg)})  # the grader makes the gradients and losses again
        return loss, grad


class RecordingNetLoss:
    """``loss_func(params, X, y=None, reg=0.0)`` for nn_train: records its calls and returns
    known gradients (random numbers) with labels, or scores from a table without."""

    def __init__(self, seed, scores: Table = None):
        self.calls, self.score_calls = [], []
        self.gen = torch.Generator().manual_seed(seed)
        self.scores = scores

    @unseen
    def __call__(self, params, X, y=None, reg=0.0, *extra):
        if y is None:
            self.score_calls.append({"X": describe(X)})
            if self.scores is not None:
                return self.scores.lookup(X)
            return X[:, :3] * torch.tensor([1.0, -1.0, 0.5], device=X.device, dtype=X.dtype)
        grads = {k: torch.randn(v.shape, generator=self.gen, dtype=torch.float64).to(v)
                 for k, v in params.items()}
        loss = _net_loss(len(self.calls), X.dtype).to(X.device)
        self.calls.append({"params": {k: describe(v) for k, v in params.items()}, "X_batch": describe(X),
                           "y_batch": describe(y), "reg": describe(reg)})  # grads and loss: made again by the grader
        return loss, grads


class RecordingPred:
    """``pred_func(params, loss_func, X)`` returning known labels: class 1 where X[:, 0] > 0."""

    def __init__(self):
        self.calls = []

    @unseen
    def __call__(self, params, loss_func, X, *extra):
        labels = (X[:, 0] > 0).long()
        self.calls.append({"X": describe(X), "labels": labels.cpu().clone()})
        return labels


class TableForwardPass:
    """``nn_forward_pass(params, X)`` answering from a table: (scores, hidden) for known X."""

    def __init__(self, table: Table):
        self.table, self.calls = table, 0

    @unseen
    def __call__(self, params, X, *extra):
        self.calls += 1
        return self.table.lookup(X)


class TableClassifier:
    """Stands in for a LinearClassifier in test_one_param_set, with the given class's interface
    (``W``, ``loss``, ``train``, ``predict``), and for the module's ``train_linear_classifier``
    and ``predict_linear_classifier`` while it runs (:meth:`replacements`): ``cls.train(...)``
    and the given train written out (``cls.W, _ = train_linear_classifier(cls.loss, cls.W,
    ...)``, then ``predict_linear_classifier(cls.W, X)``) are both recorded as trainings, each
    with the loss_func it got. Training hands out the weights the grader chose (``trained``);
    predictions answer from a table of labels for the case's own data (``predict_linear_classifier``
    only for those trained weights)."""

    def __init__(self, trained, labels: Table):
        self.W, self.labels, self.trainings = None, labels, []
        self._trained = trained  # on the grading device; its CPU copy identifies it
        self._key = trained.detach().cpu().clone()

    def loss(self, W, X_batch, y_batch, reg):
        raise NoAnswer("the grading stand-in for cls.loss computes no loss: train cls through cls.train(...) "
                       "or train_linear_classifier(cls.loss, cls.W, ...)")

    @unseen
    def train(self, X_train, y_train, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200,
              verbose=False):
        self.W, loss_history = self._train("cls.train", self.loss, X_train, y_train, learning_rate, reg, num_iters)
        return loss_history

    @unseen
    def predict(self, X):
        return self.labels.lookup(X)

    @unseen
    def train_linear_classifier(self, loss_func, W, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100,
                                batch_size=200, verbose=False, *extra):
        return self._train("train_linear_classifier", loss_func, X, y, learning_rate, reg, num_iters)

    @unseen
    def predict_linear_classifier(self, W, X, *extra):
        if not same_tensor(self._key, W):
            raise NoAnswer("the grading stand-in for predict_linear_classifier only knows the trained weights "
                           "(what training returned, kept in cls.W)")
        return self.labels.lookup(X)

    def replacements(self):
        return {"train_linear_classifier": self.train_linear_classifier,
                "predict_linear_classifier": self.predict_linear_classifier}

    def is_trained(self) -> bool:
        """Whether cls.W holds the weights training handed out."""
        return same_tensor(self._key, self.W)

    def _train(self, route, loss_func, X_train, y_train, learning_rate, reg, num_iters):
        own = (getattr(loss_func, "__func__", None) is TableClassifier.loss
               and getattr(loss_func, "__self__", None) is self)
        name = getattr(loss_func, "__qualname__", None) or type(loss_func).__name__
        self.trainings.append({"route": route, "own_loss": own, "loss_func": str(name)[:80],
                               "X_train": describe(X_train), "y_train": describe(y_train),
                               "learning_rate": describe(learning_rate), "reg": describe(reg),
                               "num_iters": describe(num_iters)})
        history = [1.0] * num_iters if isinstance(num_iters, int) and not isinstance(num_iters, bool) else []
        return self._trained.clone(), history


class SearchWorld:
    """Everything find_best_net may touch, standing in for the real thing while it runs.

    The grader trained nets beforehand for each learning rate of the case's grid; ``states``
    holds what each trained net answers on the case's data (scores and hidden activations on
    X_train and X_val) and ``histories`` what its ``train()`` returned. A net starts in the
    state "initial"; training with a learning rate of the table moves it to that state. Every
    net built, every training and every prediction is recorded.
    """

    def __init__(self, payload, default_device):
        self.data = payload["data"]
        self.states = {name: Table([(self.data[split], (s["scores"][split], s["hidden"][split]))
                                    for split in ("X_train", "X_val")], "a trained TwoLayerNet")
                       for name, s in payload["states"].items()}
        self.histories = payload["histories"]  # {str(lr): {"state": name, "stat": {...}}}
        self.default_device = default_device
        self.nets = []  # records, in the order the nets were built
        self.by_params = {}  # id(params dict) -> record
        self.stats = []  # (index of the net, a copy of the dict its training returned)

    # -- what the student's code calls
    def net_class(self):
        world = self

        class TwoLayerNet:
            @unseen
            def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device=None, std=1e-4):
                device = world.default_device if device is None else device
                self.record = {"sizes": [plain(input_size), plain(hidden_size), plain(output_size)],
                               "dtype": str(dtype), "device": str(device), "trains": [], "state": "initial",
                               "serial": len(world.nets)}
                world.nets.append(self.record)
                if str(device).startswith("cuda") and world.default_device.type == "cpu":
                    device = "cpu"  # written for the course's GPU, graded on the CPU
                torch.manual_seed(0)
                self.params = {"W1": std * torch.randn(input_size, hidden_size, dtype=dtype, device=device),
                               "b1": torch.zeros(hidden_size, dtype=dtype, device=device),
                               "W2": std * torch.randn(hidden_size, output_size, dtype=dtype, device=device),
                               "b2": torch.zeros(output_size, dtype=dtype, device=device)}
                world.by_params[id(self.params)] = self.record

            def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
                      num_iters=100, batch_size=200, verbose=False):
                return world.train(self.params, X, y, X_val, y_val, learning_rate, learning_rate_decay, reg,
                                   num_iters, batch_size)

            def loss(self, X, y=None, reg=0.0):
                return world.forward_backward(self.params, X, y, reg)

            def predict(self, X):
                return world.predict(self.params, None, X)

            def save(self, path):
                torch.save(self.params, path)

            def load(self, path):
                self.params = torch.load(path, map_location="cpu", weights_only=True)

        return TwoLayerNet

    @unseen
    def train(self, params, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, *extra, **more):
        record = self._record(params)
        record["trains"].append({
            "learning_rate": plain(learning_rate), "reg": plain(reg),
            "learning_rate_decay": plain(learning_rate_decay), "num_iters": plain(num_iters),
            "data": [list(v.shape) if torch.is_tensor(v) else plain(v) for v in (X, y, X_val, y_val)]})
        entry = None
        if isinstance(plain(learning_rate), (int, float)):
            lr = repr(float(plain(learning_rate)))
            decay = plain(learning_rate_decay)
            if isinstance(decay, (int, float)):
                entry = self.histories.get(f"{lr} {float(decay)!r}")
            entry = entry or self.histories.get(lr)
        record["state"] = entry["state"] if entry else "initial"
        stat = {k: list(v) for k, v in (entry or self.histories["untrained"])["stat"].items()}
        self.stats.append((self.index(record), {k: list(v) for k, v in stat.items()}))
        return stat

    def stat_owners(self, stat) -> list:
        """The nets whose train() returned a dict equal to ``stat`` (a copy of one counts too)."""
        if not isinstance(stat, dict):
            return []
        try:
            return [index for index, returned in self.stats if returned == {k: list(v) for k, v in stat.items()}]
        except TypeError:
            return []

    def stat_members(self, stat):
        """When ``stat`` is a collection of stats rather than one (a list, or a dict of them): how
        many it holds and how many of them some net's train() returned; else None."""
        if isinstance(stat, dict) and stat and all(isinstance(v, dict) for v in stat.values()):
            members = list(stat.values())
        elif isinstance(stat, (list, tuple)) and stat and all(isinstance(v, dict) for v in stat):
            members = list(stat)
        else:
            return None
        return {"members": len(members), "owned": sum(1 for m in members if self.stat_owners(m))}

    def kept(self, net):
        """Which of the nets built ``net`` is (itself or a copy), or None."""
        record = getattr(net, "record", None)
        serial = record.get("serial") if isinstance(record, dict) else None
        return serial if isinstance(serial, int) and 0 <= serial < len(self.nets) else None

    def index(self, record) -> int:
        return next(i for i, r in enumerate(self.nets) if r is record)

    def nn_train(self, params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3,
                 learning_rate_decay=0.95, reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        return self.train(params, X, y, X_val, y_val, learning_rate, learning_rate_decay, reg, num_iters,
                          batch_size)

    @unseen
    def forward_pass(self, params, X, *extra):
        return self.states[self._record(params)["state"]].lookup(X)

    def forward_backward(self, params, X, y=None, reg=0.0, *extra):
        if y is not None:
            raise NoAnswer("while find_best_net is graded, nets train through the grader's stand-in only")
        return self.forward_pass(params, X)[0]

    def predict(self, params, loss_func, X, *extra):
        return self.forward_pass(params, X)[0].argmax(dim=1)

    def _record(self, params):
        record = self.by_params.get(id(params))
        if record is None:
            raise NoAnswer("these params do not belong to a TwoLayerNet built by find_best_net: the docstring asks "
                           "for a TwoLayerNet per combination (net = TwoLayerNet(...), then net.train(...)), kept "
                           "whole in best_net; a params dict made by hand is not one")
        return record

    def replacements(self):
        return {"TwoLayerNet": self.net_class(), "nn_train": self.nn_train, "nn_predict": self.predict,
                "nn_forward_pass": self.forward_pass, "nn_forward_backward": self.forward_backward}
