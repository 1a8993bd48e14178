"""Call student code and capture whatever happens, as a value (runs in the student process).

``call_captured`` is the one way student code is called: it returns an :class:`Outcome` with
the value or the exception, the time taken and, when asked, a trace of the torch calls made
(``TorchFunctionMode``) and of the Python lines executed in the student's files.
"""
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

import torch
from torch.overrides import TorchFunctionMode

# Factories that create a tensor from nothing: their dtype and device must follow the inputs'.
FACTORIES = {
    "zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "eye", "tensor",
    "linspace", "logspace", "as_tensor",
}


def func_name(func) -> str:
    """A readable name for a function seen by the tracer: ``torch.clamp``, ``Tensor.relu``,
    ``torch.nn.functional.relu``, ``Tensor.shape``."""
    owner = getattr(func, "__self__", None)
    if type(func).__name__ == "method-wrapper" and owner is not None:  # property getter
        return f"Tensor.{getattr(owner, '__name__', '?')}"
    name = getattr(func, "__name__", None) or repr(func)
    if getattr(func, "__objclass__", None) is not None:
        return f"Tensor.{name}"
    module = getattr(func, "__module__", None) or "torch"
    if module.startswith("torch._C._VariableFunctions") or module == "torch._VariableFunctionsClass":
        module = "torch"
    return f"{module}.{name}"


def _names_device(args, kwargs) -> bool:
    if "device" in kwargs:
        return True
    return any(isinstance(a, (str, torch.device)) for a in args)


class Tracer(TorchFunctionMode):
    """Records every torch function and Tensor method the student's code calls."""

    def __init__(self, dtype: Optional[torch.dtype], device: Optional[torch.device]):
        super().__init__()
        self.dtype, self.device = dtype, device
        self.count = 0
        self.names: Set[str] = set()
        self.device_moves: List[str] = []
        self.factory_dtype: List[str] = []
        self.factory_no_device: List[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func_name(func)
        self.count += 1
        self.names.add(name)
        if name in ("Tensor.cuda", "Tensor.cpu") or (name == "Tensor.to" and _names_device(args[1:], kwargs)):
            self.device_moves.append(name)
        result = func(*args, **kwargs)
        short = name.rsplit(".", 1)[-1]
        if name.startswith("torch.") and short in FACTORIES and isinstance(result, torch.Tensor):
            if result.is_floating_point() and self.dtype is not None and result.dtype != self.dtype:
                self.factory_dtype.append(f"{name} made {result.dtype} while the inputs are {self.dtype}")
            if self.device is not None and result.device.type != self.device.type:
                self.device_moves.append(f"{name} on {result.device}")
            elif result.is_floating_point() and "device" not in kwargs:
                self.factory_no_device.append(name)
        return result


class LineCounter:
    """Counts Python lines executed in the given files (to spot loops that make no torch call)."""

    def __init__(self, filenames):
        self.filenames = set(filenames)
        self.lines = 0

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename in self.filenames:
            return self._local
        return None

    def __enter__(self):
        self._previous = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._previous)


@dataclass
class Outcome:
    """What one call of student code did."""

    value: Any = None
    error: Optional[Dict[str, str]] = None  # {"type", "message", "traceback"}
    seconds: float = 0.0
    trace: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_error(exc: BaseException, student_files=()) -> Dict[str, str]:
    """The exception as plain strings, its traceback cut to the student's own frames."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename in student_files] or frames[-3:]
    lines = traceback.format_list(own)
    if isinstance(exc, SystemExit):
        message = f"the code called sys.exit({exc.code!r}); grading code must return, not exit"
    else:
        message = str(exc)[:2000]
    return {"type": type(exc).__name__, "message": message, "traceback": "".join(lines)[-4000:]}


def call_captured(fn, *args, trace: bool = False, count_lines=(), trace_dtype=None, trace_device=None,
                  **kwargs) -> Outcome:
    """Call ``fn(*args, **kwargs)``; never raises (SystemExit and KeyboardInterrupt included).

    With ``trace``, torch calls are recorded and judged against ``trace_dtype`` and
    ``trace_device`` (the inputs'); with ``count_lines``, lines run in those files are counted."""
    tracer = Tracer(trace_dtype, trace_device) if trace else None
    counter = LineCounter(count_lines) if count_lines else None
    start = time.perf_counter()
    try:
        if tracer is not None and counter is not None:
            with tracer, counter:
                value = fn(*args, **kwargs)
        elif tracer is not None:
            with tracer:
                value = fn(*args, **kwargs)
        else:
            value = fn(*args, **kwargs)
        outcome = Outcome(value=value)
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        outcome = Outcome(error=describe_error(exc, count_lines or ()))
    outcome.seconds = time.perf_counter() - start
    if tracer is not None:
        outcome.trace = {
            "torch_calls": tracer.count,
            "names": sorted(tracer.names),
            "device_moves": tracer.device_moves[:10],
            "factory_dtype": tracer.factory_dtype[:10],
            "factory_no_device": sorted(set(tracer.factory_no_device)),
        }
    if counter is not None:
        outcome.trace["lines"] = counter.lines
    return outcome
