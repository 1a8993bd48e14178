"""A gradient computed outside torch (runs in the student process, inside the tracer).

A function that returns a gradient works in torch: the grader follows what torch computes
(autograd, a loss evaluated at moved weights, see :meth:`capture.Tracer._watch`), but it cannot
follow Python numbers, ``decimal``, ``fractions`` or numpy. A gradient measured by finite
differences there (every entry of ``W`` moved in a Python copy of it, the loss evaluated again)
looks, from torch, like this: the weights taken out of torch whole (``W.tolist()``,
``W.numpy()``, ``np.asarray(W)``, ``.item()`` of every entry, a row at a time, of a copy or a
view of ``W``) and the gradient brought back in from numbers (``torch.tensor(G)``,
``torch.from_numpy``, every entry of ``dW`` written from a Python number). Both together are
what :class:`OutsideTorch` reports; either alone (a weight printed, a table of constants made
into a tensor) is not. Honest code derives the gradient in torch and does neither.
"""
import gc
import numbers
from typing import Callable, Dict, List, Optional

import torch
from torch.utils.weak import WeakIdKeyDictionary

from .nested import tensors_in

# Calls that hand a tensor's numbers to Python or numpy.
# (printing counts too: a look at W is fine alone, and printed at full precision it is W)
TAKE = frozenset({"tolist", "numpy", "__array__", "item", "__float__", "__int__", "__index__", "__complex__",
                  "__format__", "__repr__", "__str__", "untyped_storage", "storage", "_typed_storage", "__dlpack__",
                  "__reduce_ex__", "data_ptr"})
WHOLE = frozenset({"untyped_storage", "storage", "_typed_storage", "__dlpack__", "__reduce_ex__", "data_ptr"})
# Calls that copy a tensor's numbers into new storage in the same order (or through an
# invertible map by one Python number): a copy of the weights is the weights.
COPY = frozenset({"clone", "contiguous", "to", "double", "float", "half", "bfloat16", "type", "type_as", "cpu",
                  "__deepcopy__", "mul", "__mul__", "__rmul__", "add", "__add__", "__radd__", "sub", "__sub__",
                  "__rsub__", "div", "__truediv__", "__rtruediv__", "neg", "__neg__", "reshape", "flatten", "ravel",
                  "t", "T", "mT", "transpose", "permute", "detach", "view", "view_as", "reshape_as",
                  "__getitem__", "select", "narrow", "squeeze", "unsqueeze", "unbind", "split", "chunk",
                  "movedim", "swapaxes", "swapdims", "expand", "expand_as", "flip", "roll", "cat", "stack"})
# Calls that bring numbers from outside torch into a tensor.
FROM_DATA = frozenset({"tensor", "as_tensor", "asarray", "from_numpy", "frombuffer", "new_tensor", "from_dlpack",
                       "full", "full_like", "new_full", "scalar_tensor"})
# Calls that write Python numbers into a tensor's entries.
WRITE = frozenset({"__setitem__", "fill_", "index_fill_", "masked_fill_", "add_", "sub_", "mul_", "div_",
                   "__iadd__", "__isub__", "__imul__", "__itruediv__", "copy_"})
# Calls whose result carries its operands' numbers on (a tensor made from numbers, rearranged,
# joined or shifted, is still made from numbers).
CARRY = COPY | WRITE | frozenset({"true_divide", "multiply", "subtract"})
RELEVANT = TAKE | COPY | FROM_DATA | WRITE
_ARITHMETIC = frozenset({"mul", "__mul__", "__rmul__", "add", "__add__", "__radd__", "sub", "__sub__", "__rsub__",
                         "div", "__truediv__", "__rtruediv__"})
_COPIES = 4096  # copies of the weights followed, at most, per call


def _number(value) -> bool:
    """A nonzero Python or numpy number."""
    try:
        return isinstance(value, numbers.Number) and not isinstance(value, bool) and bool(value != 0)
    except Exception:  # noqa: BLE001 - a number type whose comparison raises
        return False


class OutsideTorch:
    """Which of the watched parameters were taken out of torch whole, and how many numbers were
    brought into torch from outside it, during one call."""

    def __init__(self, params, where: Callable[[], str]):
        self.params = [p for p in params if isinstance(p, torch.Tensor) and p.is_floating_point() and p.numel() > 1]
        self.where = where
        # storage (by data pointer) -> (parameter, the parameter's flat index at each storage position, -1 none)
        self.stores: Dict[int, tuple] = {}
        self.kept: List[torch.Tensor] = []  # the copies followed, kept alive so no pointer is reused
        self.covered: List[Optional[torch.Tensor]] = [None for _ in self.params]  # made when first needed
        self.count = [0 for _ in self.params]  # entries covered, per parameter
        self.taken: Dict[int, str] = {}  # parameter -> where its last entries were taken out
        # once a parameter is taken out whole: the tensors made from numbers since (-> where),
        # the Python numbers written into each tensor, and the tensors of a taken parameter's
        # size made from numbers that vary (a gradient brought back: where)
        self.marked = WeakIdKeyDictionary()
        self.writes = WeakIdKeyDictionary()
        self.hits: Dict[int, str] = {}
        # storages whose memory was handed to numpy or to raw pointers (numpy may write them)
        self.exposed: Dict[int, str] = {}
        # Once a parameter is taken out whole: every tensor that existed then or that torch made
        # since. A tensor used or returned that is neither was made from numbers by a call the
        # tracer does not see (torch.from_numpy, torch.Tensor(list), torch.DoubleTensor(list)).
        self.known: Optional[WeakIdKeyDictionary] = None
        # the parameters' own tables are made when first needed (most calls never need them)
        self.lazy: Dict[int, torch.Tensor] = {}
        for which, p in enumerate(self.params):
            ptr = p.untyped_storage().data_ptr()
            if ptr not in self.stores:
                self.stores[ptr], self.lazy[ptr] = (which, None), p

    def _table(self, ptr: int) -> tuple:
        """(parameter, table) of a followed storage, a parameter's table made on first use."""
        which, table = self.stores[ptr]
        if table is None and ptr in self.lazy:
            p = self.lazy.pop(ptr)
            del self.stores[ptr]
            self._follow(p, which, torch.arange(p.numel()).view(p.shape))
            which, table = self.stores.get(ptr, (which, None))
        return which, table

    @staticmethod
    def _positions(t: torch.Tensor) -> torch.Tensor:
        """The storage position of each entry of ``t`` (work in proportion to its size)."""
        positions = torch.tensor(t.storage_offset())
        for size, stride in zip(t.shape, t.stride()):
            positions = positions.unsqueeze(-1) + torch.arange(size) * stride
        return positions

    def _map(self, t) -> Optional[tuple]:
        """(parameter, its flat index at each entry of ``t``) for a tensor that holds weights."""
        if not isinstance(t, torch.Tensor) or t.is_sparse or t.device.type == "meta":
            return None
        try:
            ptr = t.untyped_storage().data_ptr()
            if ptr not in self.stores or t.numel() == 0:
                return None
            which, table = self._table(ptr)
            if table is None:
                return None
            positions = self._positions(t)
            if int(positions.max()) >= table.numel():
                return None
            return which, table[positions]
        except (RuntimeError, TypeError, ValueError):
            return None

    def _follow(self, t: torch.Tensor, which: int, index: torch.Tensor) -> None:
        try:
            size = t.untyped_storage().nbytes() // max(t.element_size(), 1)
            table = self.stores.get(t.untyped_storage().data_ptr(), (which, None))[1]
            if table is None:
                table = torch.full((size,), -1, dtype=torch.long)
            table[self._positions(t).reshape(-1)] = index.reshape(-1)
            self.stores[t.untyped_storage().data_ptr()] = (which, table)
        except (RuntimeError, TypeError, ValueError):
            pass

    def after(self, name: str, short: str, args, kwargs, result) -> None:
        if self.known is not None:  # a parameter was taken out whole: what comes back from numbers
            self._unknown(name, list(args) + list(kwargs.values()))
            results = tensors_in(result, [])
            for r in results:
                self.known[r] = True
            if short in FROM_DATA:
                for r in results:
                    self._brought(r, f"{name} at {self.where()}")
            elif short in WRITE:
                self._written(name, short, args, kwargs)
            if len(self.marked) and short in CARRY:
                marked = [t for t in tensors_in(list(args[:2]), []) if t in self.marked]
                if marked:  # carried on where the numbers made outside fill the result
                    supplied = sum(t.numel() for t in marked)
                    for r in results:
                        if supplied >= r.numel():
                            self._brought(r, self.marked[marked[0]])
        if short in TAKE:
            if args and isinstance(args[0], torch.Tensor):
                self._taken(name, short, args[0])
                if short in ("numpy", "__array__", "__dlpack__", "untyped_storage", "data_ptr") \
                        and len(self.exposed) < _COPIES:
                    self.exposed.setdefault(args[0].untyped_storage().data_ptr(), f"{name} at {self.where()}")
        if short in COPY and len(self.kept) < _COPIES and args:
            self._copied(short, args, result)

    def _copied(self, short, args, result) -> None:
        """A result that holds weights (a copy, a view, a stack of them) is followed."""
        if short in _ARITHMETIC and not (_number(args[1]) if len(args) > 1 else False) and not _number(args[0]):
            return  # with a tensor: a computation, not a copy
        if short not in ("cat", "stack") and not any(
                isinstance(a, torch.Tensor) and a.untyped_storage().data_ptr() in self.stores for a in args[:2]):
            return  # no operand holds weights (most calls: checked first, once per operand)
        outs = [r for r in (result if isinstance(result, (tuple, list)) else [result]) if isinstance(r, torch.Tensor)
                and self.stores.get(r.untyped_storage().data_ptr()) is None]  # a view is followed already
        if not outs:
            return
        if short in ("cat", "stack"):
            return self._joined(short, args, outs[0])
        sources = [a for a in args[:2] if isinstance(a, torch.Tensor)]
        for source in sources:
            mapped = self._map(source)
            if mapped is None:
                continue
            which, index = mapped
            for out in outs:
                if out.shape == source.shape:
                    self._keep(out, which, index)
                elif short in ("reshape", "flatten", "ravel", "view", "view_as", "reshape_as") \
                        and out.numel() == source.numel():
                    self._keep(out, which, index.reshape(out.shape))
                else:
                    try:  # the same call on the indices: where each entry came from
                        moved = getattr(torch.Tensor, short)(index, *args[1:]) if short not in ("T", "mT") \
                            else getattr(index, short)
                        pieces = moved if isinstance(moved, (tuple, list)) else [moved]
                        for out_piece, piece in zip(outs, pieces):
                            if isinstance(piece, torch.Tensor) and piece.shape == out_piece.shape:
                                self._keep(out_piece, which, piece)
                    except Exception:  # noqa: BLE001 - arguments only the tensor's own call takes
                        pass
            return

    def _joined(self, short, args, out) -> None:
        parts = args[0] if args and isinstance(args[0], (list, tuple)) else []
        dim = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
        indices, which = [], None
        for part in parts:
            mapped = self._map(part) if isinstance(part, torch.Tensor) else None
            if mapped is None:
                if not isinstance(part, torch.Tensor):
                    return
                indices.append(torch.full(part.shape, -1, dtype=torch.long))
            else:
                which = mapped[0] if which is None else which
                indices.append(mapped[1])
        if which is None:
            return
        try:
            self._keep(out, which, torch.cat(indices, dim) if short == "cat" else torch.stack(indices, dim))
        except Exception:  # noqa: BLE001
            pass

    def _keep(self, out, which, index) -> None:
        self.kept.append(out)
        self._follow(out, which, index)

    def _taken(self, name, short, t) -> None:
        mapped = self._map(t)
        if mapped is None:
            if short in ("tolist", "numpy", "__array__"):
                self._taken_equal(name, t)
            return
        which, index = mapped
        if short in WHOLE:
            index = self._table(t.untyped_storage().data_ptr())[1]
        if which in self.taken:
            return
        if self.covered[which] is None:
            self.covered[which] = torch.zeros(self.params[which].numel(), dtype=torch.bool)
        index = index.reshape(-1)
        index = index[index >= 0]
        fresh = index[~self.covered[which][index]].unique()
        if fresh.numel():
            self.covered[which][fresh] = True
            self.count[which] += fresh.numel()
            if self.count[which] >= self.params[which].numel():
                self._take(which, f"{name} at {self.where()}")

    def _taken_equal(self, name, t) -> None:
        """A tensor not followed that holds the same numbers as a parameter (``W * 1``)."""
        for which, p in enumerate(self.params):
            if which in self.taken or t.numel() != p.numel() or t.dtype != p.dtype:
                continue
            try:
                if torch.equal(t.detach().reshape(-1).sort().values, p.detach().reshape(-1).sort().values):
                    self._take(which, f"{name} at {self.where()}")
            except (RuntimeError, TypeError):
                pass

    def _take(self, which: int, where: str) -> None:
        self.taken[which] = where
        if self.known is None:
            self.known = WeakIdKeyDictionary()
            tensor = torch.Tensor
            for thing in gc.get_objects():
                if issubclass(type(thing), tensor):  # type(): an object's __class__ may warn
                    self.known[thing] = True

    def _unknown(self, name, values) -> None:
        """Tensors that torch did not make (nor existed before): made from numbers by a call the
        tracer does not see (torch.from_numpy, torch.Tensor(list))."""
        for t in tensors_in(values, []):
            if t not in self.known:
                self.known[t] = True
                base = t._base
                if base is not None and base in self.known:
                    continue  # a view of a known tensor (the tracer's own, as after .cpu())
                self._brought(t, f"a tensor made from numbers, first used by {name} at {self.where()}")

    def _brought(self, t, where: str) -> None:
        if not isinstance(t, torch.Tensor) or not (t.is_floating_point() or t.is_complex()) or t in self.marked:
            return
        self.marked[t] = where
        numel = t.numel()
        if numel not in self.hits and any(self.params[w].numel() == numel for w in self.taken):
            try:  # a gradient's numbers vary: not a constant, a mask or a one-hot table
                if torch.unique(t.detach().reshape(-1)[:4096]).numel() > 2:
                    self.hits[numel] = where
            except (RuntimeError, TypeError):
                pass

    def _written(self, name, short, args, kwargs) -> None:
        """A Python number written into an entry: a tensor of a taken parameter's size every
        entry of which is written so is a gradient brought back."""
        values = list(args[1:]) + list(kwargs.values())
        if short == "__setitem__":
            values = values[1:]  # the index is not a value
        if not (any(_number(v) or (isinstance(v, torch.Tensor) and v in self.marked) for v in values)
                or (short == "__setitem__" and values and isinstance(values[0], (list, tuple)))):
            return
        target = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if target is None:
            return
        base = target._base if target._base is not None else target
        count = self.writes.get(base, 0) + 1
        self.writes[base] = count
        numel = base.numel()
        if count >= numel and numel not in self.hits and any(self.params[w].numel() == numel for w in self.taken):
            self.hits[numel] = f"every entry written from a Python number ({name} at {self.where()})"

    def returned(self, value) -> None:
        self._unknown("return", [value])
        for t in tensors_in([value], []):
            # returned in memory numpy shares (torch.from_numpy of a buffer made before, a
            # tensor's .numpy() written in numpy): its numbers may come from outside torch
            if not (t.is_floating_point() or t.is_complex()) or t.numel() in self.hits:
                continue
            storage = t.untyped_storage()
            where = self.exposed.get(storage.data_ptr())
            if where is None and not storage.resizable():
                where = "a tensor on memory numpy owns"
            if where is not None and any(self.params[w].numel() == t.numel() for w in self.taken) \
                    and storage.data_ptr() not in {self.params[w].untyped_storage().data_ptr() for w in self.taken}:
                if torch.unique(t.detach().reshape(-1)[:4096]).numel() > 2:
                    self.hits[t.numel()] = f"returned in memory written through numpy ({where})"

    def found(self) -> List[str]:
        """Where a parameter was taken out whole and where a tensor of its size came back from
        numbers; else nothing."""
        for which, where in self.taken.items():
            hit = self.hits.get(self.params[which].numel())
            if hit is not None:
                return [where, hit]
        return []
