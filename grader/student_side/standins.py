"""Stand-ins every assignment may use: what takes the place of the functions a graded function
calls, so that every function is graded on its own (a bug costs points only where it lives) and
every call can be observed. An assignment's own stand-ins (its recording losses, its tables of
scores) live in its unit's ``student_side/standins.py`` and are built from these.

None of them computes an answer. Where a stand-in must answer (scores, labels, batches), it
looks the answer up in a table the grader built beforehand for this case's inputs, and for
any other input it says it has no answer.
"""
import functools

import torch


def unseen(fn):
    """Run a stand-in's own torch work out of sight of the tracer watching the student's code
    (it is not the student's, and must not count as theirs)."""
    @functools.wraps(fn)
    def hidden(*args, **kwargs):
        # torch's own context, not the watched one a worker puts in its place (which records
        # where student code enters it: see capture.watch_disable)
        disable = getattr(torch._C.DisableTorchFunction, "_original", None) or torch._C.DisableTorchFunction
        with disable():
            return fn(*args, **kwargs)
    return hidden


class NoAnswer(RuntimeError):
    """A stand-in was asked about an input it holds no answer for."""


def same_tensor(key: torch.Tensor, value) -> bool:
    """Whether ``value`` holds the same numbers as ``key`` (any device, float dtype)."""
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(key.shape):
        return False
    try:
        return bool(torch.equal(value.detach().to("cpu", key.dtype), key))
    except (RuntimeError, TypeError):
        return False


class Table:
    """Answers for known inputs, looked up by equal contents: ``Table([(X, answer), ...])``."""

    def __init__(self, pairs, what: str):
        self.pairs, self.what = list(pairs), what

    @unseen
    def lookup(self, X, device=None):
        for key, answer in self.pairs:
            if same_tensor(key, X):
                return _to(answer, device if device is not None else X.device)
        raise NoAnswer(f"the grading stand-in for {self.what} only knows this case's own inputs")


def _to(value, device):
    """A fresh copy on ``device`` (student code may write into what a stand-in returns)."""
    if isinstance(value, torch.Tensor):
        return value.to(device, copy=True)
    if isinstance(value, tuple):
        return tuple(_to(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


class Substitutes:
    """Puts stand-ins in place of a module's attributes for the length of a ``with`` block
    (in every given module that has the name), then restores what was there. ``generation``
    counts the changes, so that what was read from the modules' names (which functions a
    function reaches) is known to be stale."""

    generation = 0

    def __init__(self, modules, replacements):
        self.modules, self.replacements, self.saved = [m for m in modules if m is not None], replacements, []

    def __enter__(self):
        Substitutes.generation += 1
        for module in self.modules:
            for name, value in self.replacements.items():
                self.saved.append((module, name, module.__dict__.get(name, _MISSING)))
                setattr(module, name, value)
        return self

    def __exit__(self, *exc):
        Substitutes.generation += 1
        for module, name, old in reversed(self.saved):
            if old is _MISSING:
                module.__dict__.pop(name, None)
            else:
                setattr(module, name, old)
        self.saved = []


_MISSING = object()


def plain(value):
    """A value as it may be reported back: plain Python, or its type's name."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return f"<{type(value).__name__}>"



class Recorder:
    """A stand-in that records its calls and returns a fixed answer (or the result of ``make``)."""

    def __init__(self, make):
        self.make, self.calls = make, []

    @unseen
    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.make(*args, **kwargs)
