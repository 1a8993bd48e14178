"""Call student code and capture whatever happens, as a value (runs in the student process).

``call_captured`` is the one way student code is called: it returns an :class:`Outcome` with
the value or the exception, the time taken and, when asked, a trace of the torch calls made
(``TorchFunctionMode``) and of the Python lines executed in the student's files.

The trace also answers a question a CPU cannot answer by running the code: would it crash on
the GPU? A tensor made from nothing without ``device=`` (``torch.zeros(N, C)``) lives on the
CPU even when the inputs are on CUDA; the course's notebooks run on CUDA, where using such a
tensor together with an input raises. The tracer follows those tensors through the
operations and reports where one meets an input.

It also records where the code breaks the template's rule that tensors follow the inputs'
device (:meth:`Tracer._device_rule`): a device written out (``device="cuda"``,
``.to("cpu")``, ``torch.device("cuda")``), ``.cuda()``, or a ``.cpu()`` whose result is used
as a tensor. A device read from a tensor (``X.device``, kept in a variable or not) is the
inputs'; a ``.cpu()`` whose result is only read back as Python numbers (``.item()``,
``.tolist()``) moves nothing the computation uses.
"""
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from .nested import tensors_in as _tensors
from .outside import RELEVANT as _OUTSIDE_RELEVANT, OutsideTorch

# Factories that create a tensor from nothing: their dtype and device must follow the inputs'.
FACTORIES = {
    "zeros", "ones", "empty", "full", "rand", "randn", "randint", "randperm", "arange", "eye", "tensor",
    "linspace", "logspace", "as_tensor", "from_numpy", "range",
}
LIKE = {"zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like"}
# Calls that never combine devices: reading attributes, converting, moving, copying.
HARMLESS = {
    "shape", "dtype", "device", "is_cuda", "requires_grad", "grad", "ndim", "T", "mT", "data", "layout",
    "size", "dim", "numel", "item", "tolist", "__len__", "__repr__", "__format__", "__bool__", "__index__",
    "__int__", "__float__", "__hash__", "__iter__", "__contains__", "is_floating_point", "element_size",
    "stride", "storage_offset", "is_contiguous", "data_ptr", "copy_", "__get__", "__set__", "detach",
    "clone", "contiguous", "__deepcopy__", "__reduce_ex__", "__setstate__",
}
MOVES = {"to", "cuda", "cpu", "type_as"}
# What may be done with a .cpu() result without using it as a tensor: read it back as Python
# values, or look at it.
READS = {
    "item", "tolist", "__int__", "__float__", "__bool__", "__index__", "__format__", "__repr__", "__str__",
    "shape", "dtype", "device", "is_cuda", "ndim", "size", "dim", "numel", "__len__", "__get__",
}
# Calls whose result is the same data (still only to be read): .cpu().detach().item().
SAME_DATA = {"detach", "clone", "contiguous", "squeeze", "flatten", "reshape", "view", "__getitem__"}
_DEVICES_KEPT = 4096  # devices read from tensors that the tracer remembers
# The only calls that can name a device other than through a device= keyword.
_NAMES_THAT_MAY_NAME_A_DEVICE = {"Tensor.cuda", "Tensor.to", "Tensor.type"}
# Calls that may move a tensor between devices (besides any with a device= keyword).
_MAY_MOVE = _NAMES_THAT_MAY_NAME_A_DEVICE | {"Tensor.cpu", "Tensor.to", "Tensor.type_as"}


_NAMES: Dict[Any, str] = {}


def func_name(func) -> str:
    """A readable name for a function seen by the tracer: ``torch.clamp``, ``Tensor.relu``,
    ``torch.nn.functional.relu``, ``Tensor.shape``. Remembered per function (a naive loop makes
    thousands of calls of a few functions)."""
    try:
        return _NAMES[func]
    except KeyError:
        name = _NAMES[func] = _func_name(func)
        return name
    except TypeError:  # not hashable
        return _func_name(func)


def _func_name(func) -> str:
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
    """Whether a ``.to(...)`` call names a device (``.to("cuda")``, ``.to(device=...)``)."""
    if "device" in kwargs:
        return True
    return any(isinstance(a, (str, torch.device)) for a in args)


def _moves(args, kwargs) -> bool:
    """Whether a ``.to(...)`` call may change the device: it names one, or follows a tensor."""
    return _names_device(args, kwargs) or any(isinstance(a, torch.Tensor) for a in args)


def _in_place(short: str) -> bool:
    """Whether a Tensor method writes into its own tensor (``add_``, ``__iadd__``, ...)."""
    return (short.endswith("_") and not short.startswith("_")) or (short.startswith("__i") and short.endswith("__"))


def _student_line(files: Set[str], skip: int = 2) -> str:
    """'line N' of the innermost frame in the student's files, or 'a line'."""
    frame = sys._getframe(skip)
    while frame is not None:
        if frame.f_code.co_filename in files:
            return f"line {frame.f_lineno}"
        frame = frame.f_back
    return "a line"


def _device_text(value) -> str:
    """How a device argument reads in the student's code: ``'cuda'``, ``torch.device('cpu')``."""
    if isinstance(value, torch.device):
        return f"torch.device({str(value)!r})"
    return repr(value)


def _type_text(target) -> str:
    """How a tensor type argument reads: ``torch.FloatTensor`` or ``'torch.FloatTensor'``."""
    return repr(target) if isinstance(target, str) else f"{target.__module__}.{target.__name__}"


def _device_target(args, kwargs):
    """The device a ``.to(...)`` call names (``.to("cuda")``, ``.to(device=...)``), or None."""
    if kwargs.get("device") is not None:
        return kwargs["device"]
    return next((a for a in args if isinstance(a, (str, torch.device))), None)


def _is_cpu(value) -> bool:
    if isinstance(value, torch.device):
        return value.type == "cpu"
    return isinstance(value, str) and value.split(":")[0] == "cpu"


def _cuda_tensor_type(args, kwargs):
    """The GPU tensor type a ``.type(...)`` call names (``torch.cuda.FloatTensor``, or its
    name as a string), or None."""
    target = kwargs.get("dtype", args[0] if args else None)
    name = target if isinstance(target, str) else (
        f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', '')}" if isinstance(target, type) else "")
    return target if name.startswith("torch.cuda.") else None


def _cpu_tensor_type_named(args, kwargs):
    """The CPU tensor type a ``.type(...)`` call names (``torch.FloatTensor``, or its name as a
    string): on a GPU tensor that is a move to the CPU. None for a dtype or anything else."""
    target = kwargs.get("dtype", args[0] if args else None)
    name = target if isinstance(target, str) else (
        f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', '')}" if isinstance(target, type) else "")
    return target if name.startswith("torch.") and name.endswith("Tensor") and name.count(".") == 1 else None


def _cpu_tensor_type(target):
    """The CPU tensor type of the same dtype as a GPU one (``torch.FloatTensor``)."""
    name = target if isinstance(target, str) else f"torch.cuda.{target.__name__}"
    return getattr(torch, name[len("torch.cuda."):], target)


def _is_cuda(value) -> bool:
    if isinstance(value, torch.device):
        return value.type == "cuda"
    return isinstance(value, str) and value.split(":")[0] == "cuda"


class CudaOnCpu(TorchFunctionMode):
    """While grading on the CPU, code that names the GPU (``device="cuda"``, ``.cuda()``,
    ``.to("cuda")``) gets the CPU instead, as if the GPU it was written for were there; each
    such place is recorded. (The course's notebooks run on CUDA, where that code works.)"""

    def __init__(self, files: Sequence[str] = ()):
        super().__init__()
        self.files = set(files)
        self.cuda_named: List[str] = []

    def remap(self, func, args, kwargs, name=None):
        name = name or func_name(func)
        if name not in _NAMES_THAT_MAY_NAME_A_DEVICE and "device" not in kwargs:
            return func, args, kwargs
        if name == "Tensor.cuda":
            self.cuda_named.append(_student_line(self.files, 3))
            return (lambda tensor, *a, **k: tensor), args, {}
        if _is_cuda(kwargs.get("device")):
            self.cuda_named.append(_student_line(self.files, 3))
            kwargs = {**kwargs, "device": "cpu"}
        if name == "Tensor.to" and any(_is_cuda(a) for a in args[1:]):
            self.cuda_named.append(_student_line(self.files, 3))
            args = tuple("cpu" if _is_cuda(a) else a for a in args)
        if name == "Tensor.type" and _cuda_tensor_type(args[1:], kwargs) is not None:
            self.cuda_named.append(_student_line(self.files, 3))
            target = _cpu_tensor_type(_cuda_tensor_type(args[1:], kwargs))
            args, kwargs = (args[:1], {**kwargs, "dtype": target}) if "dtype" in kwargs else ((args[0], target) + args[2:], kwargs)
        return func, args, kwargs

    def __torch_function__(self, func, types, args=(), kwargs=None):
        func, args, kwargs = self.remap(func, args, kwargs or {})
        return func(*args, **kwargs)


def _in_a_gradient_transform() -> bool:
    """Whether a functorch transform that differentiates (grad, jvp, jacfwd, ...: any but
    vmap's) is running: torch calls inside it are the transform's work."""
    try:
        top = torch._C._functorch.peek_interpreter_stack()
    except (AttributeError, RuntimeError):
        return False
    return top is not None and top.key() != torch._C._functorch.TransformType.Vmap


def _autograd_call(name, args, kwargs) -> bool:
    """Whether a call has torch compute gradients: autograd itself, ``.backward()``, reading
    ``.grad``, or a tensor made to require gradients."""
    short = name.rsplit(".", 1)[-1]
    if "backward" in short and not name.startswith("Tensor."):  # torch's derivative kernels (_softmax_backward_data)
        return True  # (a tensor's _backward_hooks is read by copy.deepcopy: not a derivative)
    if _in_a_gradient_transform():  # forward mode, or torch.func.grad, however it was reached
        return True
    if short == "requires_grad_":  # .requires_grad_(False) turns gradients off
        return bool(args[1] if len(args) > 1 else kwargs.get("requires_grad", True))
    if name.startswith("torch.autograd.") or short in ("backward", "grad"):
        return True
    if name.startswith(("torch.func.", "torch._functorch.")):  # vmap vectorises: it is not autograd
        return short not in ("vmap", "functional_call", "stack_module_state")
    if name == "Tensor.requires_grad" and len(args) > 1 and args[1]:
        return True
    return bool(kwargs.get("requires_grad"))


_WATCH_CHECKS = 20000  # operands compared with the watched parameters, at most, per call


class Tracer(CudaOnCpu):
    """Records every torch function and Tensor method the student's code calls, follows
    tensors made on the CPU without ``device=`` to where they would meet a GPU input, and
    records where the code names a device or moves a tensor instead of following the inputs'."""

    def __init__(self, dtype: Optional[torch.dtype], device: Optional[torch.device], files: Sequence[str] = (),
                 watch: Sequence[torch.Tensor] = ()):
        super().__init__(files)
        self.dtype, self.device = dtype, device
        self.count = 0
        # The weights a loss function's gradient is taken for, as they came in: an operand
        # equal to one of them but for one entry, at two entries or more, is the loss evaluated
        # at a perturbed parameter (a gradient measured by finite differences).
        # (weight matrices only: a bias's shape is a row of activations too, often all zeros)
        self.watched = [(t, t.detach().clone(), t._version, t.dim(), t.shape) for t in watch
                        if isinstance(t, torch.Tensor) and t.dim() >= 2 and t.numel() > 1]
        self.perturbed: Dict[Tuple[int, int], str] = {}  # (parameter, entry) -> where it was seen
        self.watch_checks = 0
        # the same weights in any other shape (flattened, transposed, viewed): (flat copy, its
        # entry's index in the weights' own order) per parameter
        self.layouts = [[(before.reshape(-1), None)] + ([(before.t().reshape(-1), torch.arange(before.numel()).view(
            before.shape).t().reshape(-1))] if dims == 2 and min(before.shape) > 1 else [])
            for _, before, _, dims, _ in self.watched]
        # the weights taken out of torch whole and the gradient brought back from numbers
        self.outside = OutsideTorch(watch, lambda: _student_line(self.files)) if watch else None
        # operands found to differ from a parameter in several entries (a gradient being
        # accumulated), by id: compared again only at their 2nd, 4th, 8th, ... appearance
        self.far: Dict[int, int] = {}
        self.names: Set[str] = set()
        self.device_breaks: Dict[str, None] = {}  # where the device rule is broken, once each
        self.factory_dtype: List[str] = []
        self.factory_no_device: List[str] = []
        self.cuda_crashes: List[str] = []
        self.autograd: List[str] = []  # gradients computed by torch (a loss function must derive them)
        # Only meaningful while grading on the CPU: on CUDA, such code simply raises.
        self.follow_devices = device is None or device.type == "cpu"
        self.pinned = WeakIdKeyDictionary()  # tensor -> where it was made on the CPU
        # Devices read from tensors (X.device), kept alive: id -> (device, read from a CPU-made tensor)
        self.devices_read: Dict[int, Tuple[torch.device, bool]] = {}
        self.cpu_results = WeakIdKeyDictionary()  # result of .cpu() -> the break, should it be used as a tensor

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func_name(func)
        self.count += 1
        self.names.add(name)
        if _autograd_call(name, args, kwargs):
            self.autograd.append(f"{name} at {_student_line(self.files)}")
        if self.watched and len(self.perturbed) < 2 and self.watch_checks < _WATCH_CHECKS \
                and torch._C._functorch.peek_interpreter_stack() is None:  # (a vmap's tensors are not read)
            self._watch(name, args, kwargs)
        short = name.rsplit(".", 1)[-1]
        to_cpu = (name in _MAY_MOVE or "device" in kwargs or len(self.cpu_results) > 0) and \
            self._device_rule(name, short, args, kwargs)
        to_gpu = False
        if self.follow_devices:
            to_gpu = name == "Tensor.cuda" or (name == "Tensor.to" and (
                _is_cuda(kwargs.get("device")) or any(_is_cuda(a) for a in args[1:]))) or (
                name == "Tensor.type" and _cuda_tensor_type(args[1:], kwargs) is not None)
            func, args, kwargs = self.remap(func, args, kwargs, name)
            # Until a tensor has been made on the CPU there is nothing to follow: only
            # numpy() of an input can crash.
            if short not in HARMLESS and (len(self.pinned) or short in ("numpy", "__array__")):
                self._check_devices(name, short, args, kwargs)
        result = func(*args, **kwargs)
        if self.outside is not None and (short in _OUTSIDE_RELEVANT or self.outside.known is not None):
            try:
                self.outside.after(name, short, args, kwargs, result)
            except Exception:  # noqa: BLE001 - a student's tensor subclass may raise on any access
                pass
        if isinstance(result, torch.Tensor) and result.is_complex() and len(self.autograd) < 5:
            # the complex-step derivative, Im f(W + ih) / h: a gradient measured, not derived
            self.autograd.append(f"{name} made a complex tensor at {_student_line(self.files)}")
        if name == "Tensor.device":
            if isinstance(result, torch.device) and len(self.devices_read) < _DEVICES_KEPT:
                self.devices_read[id(result)] = (result, bool(args) and args[0] in self.pinned)
            return result
        if to_gpu and isinstance(result, torch.Tensor):
            # .to("cuda") would make a GPU tensor: never the CPU-made one itself (on the CPU
            # the move returns its own tensor, so it is told apart as a view).
            return result.view_as(result) if args and result is args[0] else result
        if to_cpu and isinstance(result, torch.Tensor):
            # On the CPU, .cpu() returns its own tensor: the moved one is told apart as a view.
            result = result.view_as(result) if args and result is args[0] else result
            line = _student_line(self.files)
            what = ".cpu()" if name == "Tensor.cpu" else (
                f".type({_type_text(_cpu_tensor_type_named(args[1:], kwargs))})" if name == "Tensor.type"
                else f".{short}(a tensor made on the CPU)" if self._follows_a_cpu_tensor(name, args, kwargs)
                else f".to({_device_text(_device_target(args[1:], kwargs))})")
            self.cpu_results[result] = (f"{line}: {what} moves a tensor off the inputs' device and uses it as a "
                                        "tensor (reading a number back, as in .cpu().item(), is fine)")
            if self.follow_devices:
                self.pinned[result] = f"{name}(...) at {line}"
            return result
        if self.follow_devices and name in ("Tensor.to", "Tensor.type_as") and args and result is args[0] \
                and args[0] in self.pinned and self._follows(args[1:], kwargs):
            # .to(X.device) of a CPU-made tensor would move it to the GPU: on the CPU it returns
            # its own tensor, told apart as a view (which _tag_result leaves unpinned).
            result = result.view_as(result)
        if len(self.cpu_results) and short in SAME_DATA and isinstance(result, torch.Tensor) and args \
                and isinstance(args[0], torch.Tensor) and args[0] in self.cpu_results:
            self.cpu_results[result] = self.cpu_results[args[0]]
        factory = name.startswith("torch.") and short in FACTORIES and isinstance(result, torch.Tensor)
        if factory:
            if result.is_floating_point() and self.dtype is not None and result.dtype != self.dtype:
                self.factory_dtype.append(f"{name} made {result.dtype} while the inputs are {self.dtype}")
            if "device" not in kwargs or self._read_from_a_cpu_tensor(kwargs["device"]):
                if result.is_floating_point() and "device" not in kwargs:
                    self.factory_no_device.append(name)
                if self.follow_devices:
                    self.pinned[result] = f"{name}(...) at {_student_line(self.files)}"
        elif self.follow_devices and isinstance(result, torch.Tensor) and len(self.pinned):
            self._tag_result(name, short, args, kwargs, result)
        return result

    # -------------------------------------------------------------- finite differences
    def _watch(self, name, args, kwargs) -> None:
        """Record an operand that holds a watched parameter's numbers but for exactly one entry,
        in its own shape or any other (flattened, transposed, viewed: its last dimensions hold
        as many numbers), or a stack of such copies, every perturbation at once."""
        for tensor in (*args, *kwargs.values()) if kwargs else args:
            if not isinstance(tensor, torch.Tensor):
                continue
            shape = tensor.shape
            for which, (original, before, version, dims, wanted) in enumerate(self.watched):
                if tensor is original and tensor._version == version:
                    continue  # the parameter itself, untouched
                numel, size, last = before.numel(), 1, len(shape)
                while last > 0 and size < numel:
                    last -= 1
                    size *= shape[last]
                if size != numel or tensor.dtype != before.dtype or tensor.device != before.device:
                    continue  # its last dimensions do not hold the parameter's numbers
                seen = self.far.get(id(tensor))
                if seen is not None:
                    self.far[id(tensor)] = seen + 1
                    if (seen + 1) & seen:
                        continue
                self.watch_checks += 1
                rows = tensor.detach().reshape(-1, numel)
                nearest = None
                for layout, order in self.layouts[which]:
                    differ = torch.ne(rows, layout)
                    counts = differ.sum(dim=1)
                    nearest = int(counts.min()) if nearest is None else min(nearest, int(counts.min()))
                    ones = (counts == 1).nonzero()[:2, 0].tolist()
                    for copy in ones:
                        entry = int(differ[copy].nonzero()[0, 0])
                        entry = entry if order is None else int(order[entry])
                        self.perturbed.setdefault((which, entry), f"{name} at {_student_line(self.files)}")
                    if ones or nearest == 0:
                        break
                if seen is None and rows.shape[0] == 1 and nearest > 1:
                    self.far[id(tensor)] = 1

    def finite_differences(self) -> List[str]:
        """Where the code computed with a parameter moved at one entry, for two entries or more."""
        return list(dict.fromkeys(self.perturbed.values()))[:2] if len(self.perturbed) >= 2 else []

    # -------------------------------------------------------------- the inputs' device
    def _read_from_a_tensor(self, device) -> bool:
        """Whether ``device`` is one the code read from a tensor (``X.device``), directly or
        through a variable. Past the number kept, any device object counts as read."""
        if not isinstance(device, torch.device):
            return False
        return self.devices_read.get(id(device), (None,))[0] is device or len(self.devices_read) >= _DEVICES_KEPT

    def _read_from_a_cpu_tensor(self, device) -> bool:
        """Whether ``device`` was read from a tensor made on the CPU (``t.device``): it is the CPU."""
        kept = self.devices_read.get(id(device))
        return kept is not None and kept[0] is device and kept[1]

    def _follows(self, args, kwargs) -> bool:
        """Whether a ``.to(...)``/``.type_as(...)`` call takes its device from a tensor
        (``.to(X)``, ``.to(X.device)``, ``.to(device=dev)`` with ``dev = X.device``) that is not
        itself made on the CPU."""
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        if tensors:
            return all(t not in self.pinned for t in tensors)
        target = _device_target(args, kwargs)
        return self._read_from_a_tensor(target) and not self._read_from_a_cpu_tensor(target)

    def _device_rule(self, name, short, args, kwargs) -> bool:
        """Record where this call breaks the rule that tensors follow the inputs' device: a
        device written out (``device="cuda"``, ``.to("cuda")``, ``torch.device("cpu")``, even
        one that is the inputs' own), ``.cuda()``, a ``.cpu()`` result used as a tensor. Returns
        whether the call moves a tensor to the CPU (``.cpu()``, ``.to("cpu")``): that is judged
        by what is done with its result."""
        if len(self.cpu_results) and short not in READS and short not in SAME_DATA:
            for tensor in _tensors(list(args) + list(kwargs.values()), []):
                if tensor in self.cpu_results:
                    self.device_breaks[self.cpu_results[tensor]] = None
        if name == "Tensor.cuda":
            self.device_breaks[f"{_student_line(self.files)}: .cuda() moves a tensor to the GPU"] = None
            return False
        if name == "Tensor.type":
            target = _cuda_tensor_type(args[1:], kwargs)
            if target is not None:
                shown = repr(target) if isinstance(target, str) else f"torch.cuda.{target.__name__}"
                self.device_breaks[f"{_student_line(self.files)}: .type({shown}) moves a tensor to the GPU"] = None
            return _cpu_tensor_type_named(args[1:], kwargs) is not None
        if name == "Tensor.cpu":
            return True
        if self._follows_a_cpu_tensor(name, args, kwargs):
            return True  # .to(t) / .type_as(t) with t made on the CPU: a move there, judged by its use
        if name == "Tensor.type_as":
            return False
        if name == "Tensor.to":
            target = _device_target(args[1:], kwargs)
        elif "device" in kwargs:
            target = kwargs["device"]
        else:
            return False
        if target is None or self._read_from_a_tensor(target):
            return False
        if name == "Tensor.to" and _is_cpu(target):
            return True
        what = f".to({_device_text(target)})" if name == "Tensor.to" else f"{name}(..., device={_device_text(target)})"
        self.device_breaks[f"{_student_line(self.files)}: {what} names a device instead of following the "
                           "inputs' (X.device)"] = None
        return False

    def _follows_a_cpu_tensor(self, name, args, kwargs) -> bool:
        """``.to(t)`` or ``.type_as(t)`` where ``t`` is a tensor made on the CPU (no device=)."""
        if name not in ("Tensor.to", "Tensor.type_as") or not self.follow_devices or not len(self.pinned):
            return False
        return any(isinstance(t, torch.Tensor) and t in self.pinned for t in list(args[1:]) + list(kwargs.values()))

    def returned(self, value) -> None:
        """A .cpu() result handed back to the caller is used as a tensor too."""
        if self.outside is not None and self.outside.known is not None:
            self.outside.returned(value)
        if len(self.cpu_results):
            for tensor in _tensors(value, []):
                if tensor in self.cpu_results:
                    self.device_breaks[self.cpu_results[tensor]] = None

    # -------------------------------------------------------------- following CPU tensors
    def _check_devices(self, name, short, args, kwargs) -> None:
        """Record a crash that this call would cause with the inputs on a GPU."""
        if short in MOVES or short in LIKE or short.startswith("new_"):
            return
        if short in ("numpy", "__array__"):
            if args and isinstance(args[0], torch.Tensor) and args[0] not in self.pinned:
                self._crash(f"{name}() of a tensor on the inputs' device (numpy takes CPU tensors only)")
            return
        if short == "__getitem__":  # a GPU tensor may be indexed by CPU indices, not the reverse
            base, index = args[0], _tensors(args[1:], [])
            if base in self.pinned and base.dim() > 0 and any(t not in self.pinned for t in index):
                self._crash(f"indexes the tensor made by {self.pinned[base]} with a tensor on the inputs' device")
            return
        if short == "__setitem__":
            base, index, value = args[0], _tensors(args[1:2], []), _tensors(args[2:], [])
            if base in self.pinned and base.dim() > 0 and any(t not in self.pinned for t in index + value):
                self._crash(f"writes into the tensor made by {self.pinned[base]} with indices or values on the "
                            "inputs' device")
            return
        tensors = _tensors(list(args) + list(kwargs.values()), [])
        following = [t for t in tensors if t not in self.pinned]
        target = args[0] if args and isinstance(args[0], torch.Tensor) and _in_place(short) else None
        if target is not None and target in self.pinned and following:
            # A CPU scalar may join GPU operands as an input, never as the output.
            self._crash(f"{name} writes a result on the inputs' device into the tensor made by {self.pinned[target]}")
            return
        pinned = [t for t in tensors if t in self.pinned and t.dim() > 0]
        if pinned and following:
            self._crash(f"{name} combines the tensor made by {self.pinned[pinned[0]]} with a tensor on the "
                        "inputs' device")

    def _crash(self, what: str) -> None:
        self.cuda_crashes.append(f"{_student_line(self.files)}: {what}")

    def _tag_result(self, name, short, args, kwargs, result) -> None:
        """A result made only from CPU-made tensors stays on the CPU; anything else follows the inputs."""
        if short in MOVES:
            if short == "type_as" and len(args) > 1 and args[1] in self.pinned:
                self.pinned[result] = self.pinned[args[1]]
            elif short == "to" and not _moves(args[1:], kwargs) and args[0] in self.pinned:
                self.pinned[result] = self.pinned[args[0]]
            return
        if short in LIKE or short.startswith("new_") or short == "__getitem__":
            # zeros_like(t, device=X.device) is made where it is told, whatever t is.
            if "device" not in kwargs and args and isinstance(args[0], torch.Tensor) and args[0] in self.pinned:
                self.pinned[result] = self.pinned[args[0]]
            return
        tensors = _tensors(list(args) + list(kwargs.values()), [])
        if tensors and all(t in self.pinned for t in tensors):
            self.pinned[result] = self.pinned[tensors[0]]


_COUNTING: List["LineCounter"] = []  # the counters running now, for the audit hook below
_OWN = [False]  # a counter setting or putting back its own hook


def _audit(event, args):
    # Any other sys.settrace/setprofile while a counter runs switched it off for a while, even
    # if put back after.
    if _COUNTING and not _OWN[0] and event in ("sys.settrace", "sys.setprofile"):
        for counter in _COUNTING:
            counter.interfered = True


class LineCounter:
    """Counts Python lines executed in the given files (to spot loops that make no torch call)."""

    _hooked = False

    def __init__(self, filenames):
        self.filenames = set(filenames)
        self.lines = 0
        self.interfered = False
        if not LineCounter._hooked:  # an audit hook cannot be removed, by the student's code either
            sys.addaudithook(_audit)
            LineCounter._hooked = True

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        elif event == "return" and not frame.f_trace_lines:  # its lines were hidden from the count
            self.interfered = True
        return self._local

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename in self.filenames:
            return self._local
        return None

    def __enter__(self):
        self._previous = sys.gettrace()
        self._hook = self._global  # one bound method, to know it again on the way out
        _OWN[0] = True
        try:
            sys.settrace(self._hook)
        finally:
            _OWN[0] = False
        _COUNTING.append(self)
        return self

    def __exit__(self, *exc):
        # Code that switched the counter off (sys.settrace(None), another tracer), for the whole
        # call or only around its loop, ran lines that were not counted: said so, never read as
        # a loop-free run.
        if self in _COUNTING:
            _COUNTING.remove(self)
        self.switched_off = sys.gettrace() is not self._hook or self.interfered
        _OWN[0] = True
        try:
            sys.settrace(self._previous)
        finally:
            _OWN[0] = False


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


_STRING_START = re.compile(r"""([rRbBuUfF]{0,2})('\'\'|\"\"\"|'|\")""")


def _string_end(source: str, i: int):
    """(index after the string literal starting at ``i``, whether it is an f-string), read
    with Python 3.12's rules (PEP 701: an f-string's braces hold any expression, quotes,
    comments and line breaks included); (None, False) if no string starts at ``i``."""
    match = _STRING_START.match(source, i)
    if not match or (i and (source[i - 1].isalnum() or source[i - 1] == "_")):
        return None, False
    prefix, quote = match.group(1), match.group(2)
    if set(prefix.lower()) - set("rbuf") or len(set(prefix.lower())) < len(prefix):
        return None, False
    is_f, j, depth, n = "f" in prefix.lower(), match.end(), 0, len(source)
    while j < n:
        c = source[j]
        if depth == 0:
            if source.startswith(quote, j):
                return j + len(quote), is_f
            if c == "\\":
                j += 2
                continue
            if c == "\n" and len(quote) == 1:
                return j, is_f  # unterminated: let the compiler say so
            if is_f and c == "{":
                if source.startswith("{{", j):
                    j += 2
                    continue
                depth = 1
            j += 1
            continue
        end, _ = _string_end(source, j)  # a string inside the braces
        if end is not None:
            j = end
            continue
        if c == "#":  # a comment inside the braces runs to the end of its line
            j = source.find("\n", j)
            j = n if j < 0 else j
            continue
        if c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
        j += 1
    return n, is_f


def _without_fstrings(source: str) -> str:
    """The source with every f-string literal replaced by ``""``, read as Python 3.12 reads it."""
    out, i, n = [], 0, len(source)
    while i < n:
        c = source[i]
        if c == "#":
            j = source.find("\n", i)
            j = n if j < 0 else j
            out.append(source[i:j])
            i = j
            continue
        end, is_f = _string_end(source, i) if c in "'\"rRbBuUfF" else (None, False)
        if end is None:
            out.append(c)
            i += 1
            continue
        out.append('""' if is_f else source[i:end])
        i = end
    return "".join(out)


def needs_newer_python(exc: SyntaxError, source: str = "") -> str:
    """The Python version that may accept what this one refused, or "". Python 3.12 (PEP 701)
    reads f-strings with the enclosing quotes, backslashes, comments or line breaks inside
    their braces; 3.10 and 3.11 refuse them, with messages of all kinds. Told apart by
    reading the file as 3.12 would: if it compiles once its f-strings are set aside, they
    were all that was wrong."""
    if sys.version_info >= (3, 12) or not isinstance(exc, SyntaxError):
        return ""
    if not source:
        try:
            with open(exc.filename, encoding="utf-8") as handle:
                source = handle.read()
        except (OSError, TypeError, ValueError):
            return ""
    message = str(getattr(exc, "msg", "") or "")
    if any(still in message for still in ("empty expression", "invalid conversion character", "single '}'")):
        return ""  # wrong on every Python
    stripped = _without_fstrings(source)
    if stripped == source:
        return ""
    try:
        compile(stripped, "<student file>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return ""
    return "3.12"


def describe_error(exc: BaseException, student_files=()) -> Dict[str, str]:
    """The exception as plain strings, its traceback cut to the student's own frames; a
    syntax error as its line and caret (the frames are the import machinery's)."""
    if isinstance(exc, SyntaxError):
        described = {"type": type(exc).__name__, "message": str(exc)[:2000],
                     "traceback": "".join(traceback.format_exception_only(type(exc), exc))[-4000:]}
        newer = needs_newer_python(exc)
        if newer:
            described["needs_python"] = newer
        return described
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename in student_files] or frames[-3:]
    lines = traceback.format_list(own)
    if isinstance(exc, SystemExit):
        message = f"the code called sys.exit({exc.code!r}); grading code must return, not exit"
    else:
        try:
            message = str(exc)[:2000]
        except Exception:  # noqa: BLE001 - an exception whose __str__ raises
            message = "(its message could not be read)"
    return {"type": type(exc).__name__, "message": message, "traceback": "".join(lines)[-4000:]}


_SWITCHED_OFF: List[str] = []  # where student code entered DisableTorchFunction (this call)
_ACTIVE_FILES: List[str] = []  # the student's files of the traced call running now


class _WatchedDisable:
    """``torch._C.DisableTorchFunction`` as the worker offers it: the same context, which also
    records where student code entered it (it switches the tracer off, however it was reached:
    by name, or through a string some library resolves). Torch's own code enters it only in
    torch._dynamo and its debugging modes."""

    _original = None

    def __init__(self, *args, **kwargs):
        self._inner = type(self)._original(*args, **kwargs)

    def __enter__(self):
        files = set(_ACTIVE_FILES)
        frame = sys._getframe(1)
        for _ in range(40):
            if frame is None:
                break
            if frame.f_code.co_filename in files:
                _SWITCHED_OFF.append(f"torch._C.DisableTorchFunction entered at line {frame.f_lineno}")
                break
            frame = frame.f_back
        return self._inner.__enter__()

    def __exit__(self, *exc):
        return self._inner.__exit__(*exc)


def watch_disable() -> None:
    """Put :class:`_WatchedDisable` in place of torch._C.DisableTorchFunction, once."""
    if _WatchedDisable._original is None:
        _WatchedDisable._original = torch._C.DisableTorchFunction
        torch._C.DisableTorchFunction = _WatchedDisable


def call_captured(fn, *args, trace: bool = False, count_lines=(), trace_dtype=None, trace_device=None,
                  files=(), remap_cuda: bool = True, watch=(), **kwargs) -> Outcome:
    """Call ``fn(*args, **kwargs)``; never raises (SystemExit and KeyboardInterrupt included).

    With ``trace``, torch calls are recorded and judged against ``trace_dtype`` and
    ``trace_device`` (the inputs'); with ``count_lines``, lines run in those files are counted.
    ``files`` are the student's files, for line numbers in messages; ``watch``, the parameters
    of a loss function, whose evaluation at perturbed copies the tracer names. Without ``trace``, code
    that names the GPU is given the CPU unless ``remap_cuda`` is false (code that cannot name
    it, see :func:`may_name_the_gpu`, runs without that layer's cost)."""
    files = tuple(files) or tuple(count_lines)
    on_cpu = trace_device is None or torch.device(trace_device).type == "cpu"
    mode = Tracer(trace_dtype, trace_device, files, watch) if trace else CudaOnCpu(files) if on_cpu and remap_cuda else None
    counter = LineCounter(count_lines) if count_lines else None
    if trace:
        watch_disable()
        _SWITCHED_OFF.clear()
        _ACTIVE_FILES[:] = list(files)
    start = time.perf_counter()
    try:
        if mode is not None and counter is not None:
            with mode, counter:
                value = fn(*args, **kwargs)
        elif mode is not None:
            with mode:
                value = fn(*args, **kwargs)
        else:
            value = fn(*args, **kwargs)
        outcome = Outcome(value=value)
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        outcome = Outcome(error=describe_error(exc, files))
    outcome.seconds = time.perf_counter() - start
    tracer = mode if isinstance(mode, Tracer) else None
    if tracer is not None and outcome.ok:
        try:
            tracer.returned(outcome.value)
        except Exception:  # noqa: BLE001 - a structure too deep to walk is judged by its values
            pass
    if mode is not None and mode.cuda_named:
        outcome.trace["cuda_named"] = list(dict.fromkeys(mode.cuda_named))[:5]
    if tracer is not None:
        outcome.trace.update({
            "torch_calls": tracer.count,
            "names": sorted(tracer.names),
            "device_breaks": list(tracer.device_breaks)[:5],
            "factory_dtype": tracer.factory_dtype[:10],
            "factory_no_device": sorted(set(tracer.factory_no_device)),
            "cuda_crashes": list(dict.fromkeys(tracer.cuda_crashes))[:5],
        })
    if tracer is not None and _SWITCHED_OFF:
        outcome.trace["switched_off"] = list(dict.fromkeys(_SWITCHED_OFF))[:3]
    _ACTIVE_FILES.clear()
    if tracer is not None and tracer.autograd:
        outcome.trace["autograd"] = list(dict.fromkeys(tracer.autograd))[:5]
    if tracer is not None and tracer.finite_differences():
        outcome.trace["finite_differences"] = tracer.finite_differences()
    if tracer is not None and tracer.outside is not None and tracer.outside.found():
        outcome.trace["outside_torch"] = tracer.outside.found()
    if counter is not None:
        outcome.trace["lines"] = counter.lines
        outcome.trace["tracing_off"] = getattr(counter, "switched_off", False)
    return outcome


def may_name_the_gpu(fn, files) -> bool:
    """Whether ``fn``, or the student's code it reaches, could name the GPU: ``cuda`` among the
    names or strings of its code, its default arguments, or the module-level values it reads
    (``DEVICE = "cuda"``, ``torch.device("cuda")``). Errs towards yes: anything it cannot read
    through (a callable object, a builtin) counts as naming it. Code that hides the word from
    this reading only loses the CPU stand-in for the GPU, as code graded on a CPU would."""
    files, seen = set(files), set()

    def value_names(value, depth=0) -> bool:
        if isinstance(value, str):
            return "cuda" in value.lower()
        if isinstance(value, torch.device):
            return value.type != "cpu"
        if isinstance(value, (list, tuple, set, frozenset)) and depth < 2:
            return any(value_names(v, depth + 1) for v in list(value)[:64])
        if isinstance(value, dict) and depth < 2:
            return any(value_names(v, depth + 1) for v in list(value.values())[:64])
        if isinstance(value, type):
            own = getattr(value, "__module__", None)
            return any(student(v) for v in vars(value).values()) if own and own != "builtins" else False
        return student(value)

    def student(value) -> bool:
        """For a function of the student's files, whether it may name the GPU; else False."""
        value = getattr(value, "__func__", value)  # methods: the function
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        code = getattr(value, "__code__", None)
        if not isinstance(code, type(student.__code__)) or code.co_filename not in files:
            return False
        if code in seen:
            return False
        seen.add(code)
        return reads(value, code)

    def reads(function, code) -> bool:
        defaults = list(getattr(function, "__defaults__", None) or ()) + list(
            (getattr(function, "__kwdefaults__", None) or {}).values())
        if any(value_names(v) for v in defaults):
            return True
        namespace = getattr(function, "__globals__", {}) or {}
        todo = [code]
        while todo:
            code = todo.pop()
            for const in code.co_consts:
                if isinstance(const, type(code)):
                    todo.append(const)
                elif isinstance(const, str) and "cuda" in const.lower() and const != function.__doc__:
                    return True
            for name in code.co_names:
                if "cuda" in name.lower():
                    return True
                if name in namespace and value_names(namespace[name]):
                    return True
        return False

    try:
        target = getattr(fn, "__func__", fn)
        code = getattr(target, "__code__", None)
        if not isinstance(code, type(may_name_the_gpu.__code__)) or code.co_filename not in files:
            return True  # a callable object, a builtin, a wrapper: not read through
        seen.add(code)
        return reads(target, code)
    except Exception:  # noqa: BLE001 - student objects may raise on any attribute access
        return True
