"""What crosses between the grader and the student process, and how.

Student values are turned into plain *descriptions* before they leave the student process
(tensors as plain CPU tensors plus their original device and dtype; anything else as its type
name and a short repr), and cross as JSON plus raw tensor bytes: nothing is unpickled on the
grader's side, so nothing the student process sends can run code there.

Frames are length-prefixed bytes on a pipe.
"""
import copyreg
import io
import json
import os
import pickle
import select
import struct
import time
from typing import Any, Optional

import torch

MAX_FRAME = 512 * 1024 * 1024  # a frame larger than this is refused as a flood
MAX_REPLY = 64 * 1024 * 1024  # a reply's whole frame (grading the solution sends at most ~30 KB)
MAX_SKELETON = 4 * 1024 * 1024  # its JSON part: JSON of tiny containers costs ~50x its size to decode
MAX_TENSORS = 4096  # tensors in one reply
MAX_ITEMS = 10_000  # items kept of one list or dict
MAX_DEPTH = 6
_HEADER = struct.Struct("!Q")


class ChannelClosed(EOFError):
    """The other process closed the pipe (it exited, crashed or was killed)."""


class ChannelTimeout(TimeoutError):
    """No complete frame arrived before the deadline."""


# ------------------------------------------------------------------ descriptions

def describe(value: Any, depth: int = 0) -> Any:
    """A safe, loadable description of any student value."""
    if depth > MAX_DEPTH:
        return {"kind": "other", "type": "nested too deeply", "repr": ""}
    if isinstance(value, torch.Tensor):
        try:
            if value.layout != torch.strided:
                return {"kind": "other", "type": f"torch.Tensor ({value.layout})", "repr": ""}
            plain = value.detach().as_subclass(torch.Tensor)
            return {"kind": "tensor", "value": plain.to("cpu", copy=True).contiguous(),
                    "device": str(value.device), "dtype": str(value.dtype).replace("torch.", ""),
                    "requires_grad": bool(value.requires_grad)}
        except Exception as exc:  # an exotic subclass that refuses to be copied
            return {"kind": "other", "type": type(value).__name__, "repr": f"(unreadable: {exc})"[:200]}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool):
        return {"kind": "number", "type": "bool", "value": bool(value)}
    if isinstance(value, int):
        return {"kind": "number", "type": "int", "value": int(value) if abs(value) < 2**62 else float(value)}
    if isinstance(value, float):
        return {"kind": "number", "type": "float", "value": float(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": str(value)[:1000]}
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "item"):
        item = value.item()  # a numpy scalar (np.float32(0.5)): a number, named by its type
        if isinstance(item, (bool, int, float)):
            return {**describe(item, depth), "type": f"numpy.{type(value).__name__}"}
    if isinstance(value, (list, tuple)):
        items = [describe(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
        return {"kind": "seq", "type": "tuple" if isinstance(value, tuple) else "list", "items": items,
                "length": len(value)}
    if isinstance(value, dict):
        items = {}
        for key in list(value)[:MAX_ITEMS]:
            items[str(key)] = describe(value[key], depth + 1)
        return {"kind": "map", "items": items}
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001
        text = "(repr failed)"
    return {"kind": "other", "type": kind, "repr": text}


def type_name(desc: Any) -> str:
    """Short type name of a description, for messages."""
    kind = desc.get("kind")
    if kind == "tensor":
        return "torch.Tensor"
    if kind in ("number", "seq", "other"):
        return desc["type"]
    return {"none": "None", "str": "str", "map": "dict"}.get(kind, str(kind))


# ------------------------------------------------------------------ encoding

_DTYPES = {str(d).replace("torch.", ""): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
    torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128)}
_LEN = struct.Struct("!Q")


def encode_reply(obj: Any) -> bytes:
    """Student process -> grader: the structure as JSON, tensors as raw bytes after it.

    Only plain containers, numbers, strings, None and CPU tensors of the usual dtypes can be
    encoded; nothing is pickled, so decoding cannot run code."""
    tensors: list = []

    def tensor_ref(value):
        # Called by the JSON encoder for what it cannot write itself: a tensor goes after the
        # structure, which refers to it by its index.
        if isinstance(value, torch.Tensor):
            tensors.append(value.detach().to("cpu").contiguous())
            return {"$tensor": len(tensors) - 1}
        raise TypeError(f"cannot send a {type(value).__name__}")

    try:
        skeleton = json.dumps(obj, default=tensor_ref).encode()
    except TypeError:  # a key that is no string, or a value that cannot be sent: said as before
        tensors.clear()
        skeleton = json.dumps(_strip(obj, tensors)).encode()
    parts = [_LEN.pack(len(skeleton)), skeleton]
    for tensor in tensors:
        # What json.dumps({"dtype": ..., "shape": [...]}) writes, without its encoder.
        header = ('{"dtype": "%s", "shape": [%s]}' % (str(tensor.dtype).replace("torch.", ""),
                                                    ", ".join(str(int(n)) for n in tensor.shape))).encode()
        raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        parts += [_LEN.pack(len(header)), header, _LEN.pack(len(raw)), raw]
    return b"".join(parts)


def _strip(value, tensors: list):
    """``value`` with its tensors replaced by references into ``tensors`` and every key a string."""
    if isinstance(value, torch.Tensor):
        tensors.append(value.detach().to("cpu").contiguous())
        return {"$tensor": len(tensors) - 1}
    if isinstance(value, dict):
        return {str(k): _strip(v, tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strip(v, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__}")


def decode_reply(data: bytes) -> Any:
    """Grader side: rebuild the structure and the tensors; anything malformed raises ValueError."""
    view, position, tensors = memoryview(data), 0, []

    def take(size):
        nonlocal position
        if position + size > len(view):
            raise ValueError("truncated reply")
        chunk = view[position:position + size]
        position += size
        return chunk

    def take_block():
        return take(_LEN.unpack(take(_LEN.size))[0])

    block = take_block()
    if len(block) > MAX_SKELETON:
        raise ValueError(f"a reply's structure of {len(block)} bytes is larger than the {MAX_SKELETON} allowed")
    skeleton = bytes(block)  # parsed once the tensors are known, which replace their references on the way
    while position < len(view):
        if len(tensors) >= MAX_TENSORS:
            raise ValueError(f"a reply with more than {MAX_TENSORS} tensors")
        block = take_block()
        if len(block) > 1024:
            raise ValueError("a tensor header longer than 1 KiB")
        dtype, shape = _tensor_header(bytes(block))
        raw = take_block()
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if len(raw) else torch.empty(0, dtype=torch.uint8)
        tensor = flat.view(dtype) if len(raw) else torch.empty(0, dtype=dtype)
        tensors.append(tensor.reshape(shape))

    def resolve(value: dict):
        # Called by the JSON parser for every object, innermost first: a {"$tensor": i} becomes
        # tensor i (any other object is kept as it is).
        if len(value) == 1 and "$tensor" in value:
            index = value["$tensor"]
            if type(index) is not int or not 0 <= index < len(tensors):
                raise ValueError(f"a reply names tensor {index!r} of {len(tensors)}"[:200])
            return tensors[index]
        return value

    return json.loads(skeleton, object_hook=resolve)


_HEADERS: dict = {}  # tensor header bytes -> (dtype, shape): replies repeat a handful of them


def _tensor_header(block: bytes):
    """(dtype, shape) of a tensor's JSON header; anything unexpected raises ValueError."""
    known = _HEADERS.get(block)
    if known is not None:
        return known
    header = json.loads(block)
    if not isinstance(header, dict) or not isinstance(header.get("shape", []), list):
        raise ValueError(f"unexpected tensor header {header!r}"[:200])
    dtype = _DTYPES.get(header.get("dtype"))
    shape = [int(n) for n in header.get("shape", [])]
    if dtype is None or any(n < 0 for n in shape):
        raise ValueError(f"unexpected tensor header {header!r}")
    if len(_HEADERS) >= 1024:
        _HEADERS.clear()
    _HEADERS[block] = (dtype, tuple(shape))
    return dtype, tuple(shape)


def encode_request(obj: Any) -> bytes:
    """Grader -> student process (trusted direction). Plain CPU tensors travel as their dtype,
    shape and bytes (torch's own pickling goes through its serialization machinery, several
    times slower, and carries a view's whole storage)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REQUEST_REDUCERS
    pickler.dump(obj)
    return buffer.getvalue()


def _reduce_tensor(tensor):
    if (type(tensor) is not torch.Tensor or tensor.layout != torch.strided or tensor.device.type != "cpu"
            or tensor.is_quantized or tensor.is_conj() or tensor.is_neg()
            or str(tensor.dtype).replace("torch.", "") not in _DTYPES):
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    flat = tensor.detach().contiguous().reshape(-1)
    raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    return _tensor_from, (str(tensor.dtype).replace("torch.", ""), tuple(tensor.shape), raw, tensor.requires_grad)


def _tensor_from(dtype: str, shape, raw: bytes, requires_grad: bool) -> torch.Tensor:
    kind = _DTYPES[dtype]
    tensor = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(kind) if raw else torch.empty(0, dtype=kind)
    tensor = tensor.reshape(shape)
    return tensor.requires_grad_() if requires_grad else tensor


_REQUEST_REDUCERS = {**copyreg.dispatch_table, torch.Tensor: _reduce_tensor}


def decode_request(data: bytes) -> Any:
    return pickle.loads(data)


# ------------------------------------------------------------------ framing

def send_frame(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: Optional[float]) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise ChannelTimeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(fd: int, deadline: Optional[float] = None, limit: int = MAX_FRAME) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > limit:
        raise ChannelClosed(f"a frame of {size} bytes is larger than the {limit} allowed")
    return _read_exact(fd, size, deadline)
