"""The training loop of Assignment 3: minibatch descent with a pluggable update rule, accuracy
checks once per epoch, and the parameters that scored best on the validation set kept.

``Solver`` has the course's interface (``eecs598.Solver``), so course code runs unchanged; its
docstring says how to use it. What it adds to the course's: ``update_rule`` may also be a name
(looked up in the module that defines the model's class, so ``"adam"`` finds the assignment's
``adam``); a ``generator`` makes the minibatch and subsample draws independent of torch's
global generator; the best parameters are recorded at the first accuracy check even when it
scores 0 (the course swapped in an empty dict then) and handed to the model as copies; bad
options and bad data are told apart by name.
"""
import difflib
import pickle
import sys
import time
from typing import Callable, Dict, Optional

import torch

UpdateRule = Callable[[torch.Tensor, torch.Tensor, Optional[dict]], tuple]

DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


def sgd(w: torch.Tensor, dw: torch.Tensor, config: Optional[dict] = None):
    """Plain stochastic gradient descent, ``w - learning_rate * dw`` (default rate 1e-2).

    Returns a new tensor; the caller's ``w`` is left as it was.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


BUILTIN_RULES: Dict[str, UpdateRule] = {"sgd": sgd}

# option -> default, in the course's order; anything else handed to Solver is an error.
DEFAULTS = {
    "update_rule": sgd,
    "optim_config": None,        # {} per parameter when None
    "lr_decay": 1.0,             # the learning rate is multiplied by this after each epoch
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,   # training accuracy on a subsample of this size (None: all)
    "num_val_samples": None,     # validation accuracy on all of it by default
    "checkpoint_name": None,     # pickle a checkpoint at each accuracy check when set
    "print_every": 10,           # iterations between loss lines
    "print_acc_every": 1,        # epochs between accuracy lines
    "verbose": True,
    "device": "cpu",
    "generator": None,           # torch.Generator for the draws; None: torch's default one
}


def resolve_update_rule(rule, model=None) -> UpdateRule:
    """A callable as it is; a name from the model's own module, else a built-in rule."""
    if callable(rule):
        return rule
    if not isinstance(rule, str):
        raise TypeError(f"update_rule must be a function (w, dw, config) -> (next_w, config) "
                        f"or its name, got {type(rule).__name__}")
    module = sys.modules.get(type(model).__module__) if model is not None else None
    found = getattr(module, rule, None) if module is not None else None
    # a function defined in the model's own module (not one it imported, nor torch's)
    if callable(found) and getattr(found, "__module__", None) == module.__name__ \
            and module.__name__.split(".")[0] not in ("torch", "numpy", "builtins"):
        return found
    if rule in BUILTIN_RULES:
        return BUILTIN_RULES[rule]
    where = f"module {module.__name__!r} (where the model's class is defined)" if module else "the model's module"
    raise ValueError(f"update_rule {rule!r} is neither a function in {where} nor a built-in rule "
                     f"({', '.join(sorted(BUILTIN_RULES))}); pass the function itself, e.g. "
                     f"update_rule=sgd_momentum")


class Solver:
    """Trains a classification model by minibatch gradient descent::

        solver = Solver(model, data, update_rule=sgd_momentum, optim_config={"learning_rate": 1e-2},
                        lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, device="cuda")
        solver.train()          # model.params now holds the best validation parameters
        solver.loss_history     # one float per iteration
        solver.train_acc_history, solver.val_acc_history
                                # one float per accuracy check: after the first iteration,
                                # then at the end of every epoch

    The model needs ``model.params`` (a dict of name -> tensor) and ``model.loss(X, y=None)``:
    scores ``(N, C)`` when ``y`` is None, else ``(loss, grads)`` with one gradient per
    parameter. ``data`` holds 'X_train', 'y_train', 'X_val', 'y_val'.

    An update rule is ``rule(w, dw, config) -> (next_w, config)``; ``config`` carries the
    hyperparameters and whatever state the rule keeps between steps (``optim_configs`` holds
    one per parameter, each starting as a copy of ``optim_config``).

    Options (all keywords, defaults in brackets):
    - update_rule [sgd]: the rule, or its name (found in the model's module, else built in);
    - optim_config [{}]: hyperparameters for the rule, 'learning_rate' among them;
    - lr_decay [1.0]: every learning rate is multiplied by this after each epoch;
    - batch_size [100], num_epochs [10]: an epoch is max(N_train // batch_size, 1) iterations;
    - num_train_samples [1000], num_val_samples [None]: accuracy measured on a random subset
      of this many rows (None: all of them);
    - checkpoint_name [None]: if set, pickle a checkpoint at each accuracy check;
    - print_every [10] iterations between loss lines, print_acc_every [1] epochs between
      accuracy lines, verbose [True] (False prints nothing);
    - device ['cpu']: where minibatches go before ``model.loss`` sees them;
    - generator [None]: a torch.Generator for the random draws (None: torch's global one, so
      ``reset_seed`` before training repeats a run).

    After :meth:`train`, ``model.params`` holds (copies of) the parameters with the best
    validation accuracy, ``best_params`` and ``best_val_acc``; ``train(return_best_params=False)``
    keeps the last ones.
    """

    sgd = staticmethod(sgd)  # the default rule, where the course's Solver keeps it

    def __init__(self, model, data: dict, **kwargs):
        """Check the model, the data and the options (above); an unknown option is an error."""
        unknown = sorted(set(kwargs) - set(DEFAULTS))
        if unknown:
            hints = [f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
                     for name in unknown
                     for close in [difflib.get_close_matches(name, DEFAULTS, n=1)]]
            raise ValueError(f"Solver got unknown option(s) {', '.join(hints)}; "
                             f"it accepts {', '.join(DEFAULTS)}")
        if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
            raise TypeError("the model needs a dict `params` and a method `loss(X, y=None)`; "
                            f"got a {type(model).__name__} without them")
        missing = [key for key in DATA_KEYS if key not in data]
        if missing:
            raise ValueError(f"data lacks {', '.join(missing)}: it must hold {', '.join(DATA_KEYS)}")
        for split in ("train", "val"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            if X.shape[0] != y.shape[0]:
                raise ValueError(f"X_{split} has {X.shape[0]} rows but y_{split} has {y.shape[0]} labels")

        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        options = {**DEFAULTS, **kwargs}
        self.update_rule = resolve_update_rule(options["update_rule"], model)
        self.optim_config = dict(options["optim_config"] or {})
        self.lr_decay = options["lr_decay"]
        self.batch_size = options["batch_size"]
        self.num_epochs = options["num_epochs"]
        self.num_train_samples = options["num_train_samples"]
        self.num_val_samples = options["num_val_samples"]
        self.checkpoint_name = options["checkpoint_name"]
        self.print_every = options["print_every"]
        self.print_acc_every = options["print_acc_every"]
        self.verbose = options["verbose"]
        self.device = options["device"]
        self.generator = options["generator"]
        for name in ("batch_size", "print_every", "print_acc_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.num_epochs, int) or self.num_epochs < 0:
            raise ValueError(f"num_epochs must be a non-negative integer, got {self.num_epochs!r}")
        self._reset()

    # ------------------------------------------------------------------ book-keeping

    def _reset(self) -> None:
        """Fresh histories and one copy of ``optim_config`` per parameter (called by __init__)."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        # Each parameter keeps its own state (velocity, moments) in its own config.
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _draw(self, n: int, k: int) -> torch.Tensor:
        """``k`` distinct indices out of ``n`` (all of them, shuffled, when ``k >= n``), on the CPU."""
        return torch.randperm(n, generator=self.generator)[:k]

    def _step(self) -> None:
        """One update: a random minibatch, its loss and grads, the rule applied to each parameter."""
        rows = self._draw(self.X_train.shape[0], self.batch_size)
        X_batch = self.X_train[rows.to(self.X_train.device)].to(self.device)  # (B, ...)
        y_batch = self.y_train[rows.to(self.y_train.device)].to(self.device)  # (B,)

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))

        with torch.no_grad():
            for name, w in list(self.model.params.items()):
                if name not in grads:
                    raise KeyError(f"model.loss returned no gradient for parameter {name!r} "
                                   f"(grads has {', '.join(sorted(grads)) or 'nothing'})")
                next_w, next_config = self.update_rule(w, grads[name], self.optim_configs[name])
                self.model.params[name] = next_w
                self.optim_configs[name] = next_config

    def _save_checkpoint(self) -> None:
        """Pickle the model and the run so far to ``<checkpoint_name>_epoch_<epoch>.pkl``."""
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model, "update_rule": self.update_rule, "lr_decay": self.lr_decay,
            "optim_config": self.optim_config, "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples, "num_val_samples": self.num_val_samples,
            "epoch": self.epoch, "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history, "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(f'Saving checkpoint to "{filename}"')
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    # ------------------------------------------------------------------ accuracy and training

    def check_accuracy(self, X: torch.Tensor, y: torch.Tensor, num_samples: Optional[int] = None,
                       batch_size: int = 100) -> float:
        """Fraction of ``X`` the model classifies as ``y``: on a random subset of ``num_samples``
        rows when given and smaller than ``X``, scored ``batch_size`` rows at a time."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if num_samples is not None and X.shape[0] > num_samples:
            rows = self._draw(X.shape[0], num_samples)
            X, y = X[rows.to(X.device)], y[rows.to(y.device)]
        X, y = X.to(self.device), y.to(self.device)
        with torch.no_grad():
            predicted = [self.model.loss(X[start:start + batch_size]).argmax(dim=1)
                         for start in range(0, X.shape[0], batch_size)]
        y_pred = torch.cat(predicted)  # (N,)
        return (y_pred == y).float().mean().item()

    def _record_accuracy(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose and self.epoch % self.print_acc_every == 0:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: w.clone() for name, w in self.model.params.items()}

    def train(self, time_limit: Optional[float] = None, return_best_params: bool = True) -> None:
        """Run ``num_epochs`` epochs of ``max(N_train // batch_size, 1)`` iterations each.

        Accuracy is checked after the first iteration and at the end of every epoch; the
        learning rate of every config that has one is multiplied by ``lr_decay`` at the end of
        every epoch. ``time_limit`` (seconds) stops before an iteration that would run past
        it. With ``return_best_params`` the best validation parameters replace the model's.
        """
        iterations_per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        start = previous = time.time()

        for t in range(num_iterations):
            now = time.time()
            # Stop if one more iteration, as long as the last one, would cross the limit.
            if time_limit is not None and t > 0 and (now - start) + (now - previous) > time_limit:
                print(f"(Time {now - start:.2f} sec; Iteration {t} / {num_iterations}) "
                      f"loss: {self.loss_history[-1]:f}")
                print("End of training; next iteration will exceed the time limit.")
                break
            previous = now

            self._step()
            if self.verbose and t % self.print_every == 0:
                print(f"(Time {time.time() - start:.2f} sec; Iteration {t + 1} / {num_iterations}) "
                      f"loss: {self.loss_history[-1]:f}")

            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
            if t == 0 or epoch_end or t == num_iterations - 1:
                self._record_accuracy()

        if return_best_params and self.best_params:
            # Copies: training the model further (a second train(), an in-place rule) must not
            # change what best_params recorded.
            self.model.params = {name: w.clone() for name, w in self.best_params.items()}
