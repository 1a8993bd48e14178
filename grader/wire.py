"""What crosses between the grader and the student process, and how.

Student values are turned into plain *descriptions* before they leave the student process
(tensors as plain CPU tensors plus their original device and dtype; anything else as its type
name and a short repr), and the grader reads them back with ``torch.load(weights_only=True)``,
so nothing the student process sends can run code in the grader.

Frames are length-prefixed bytes on a pipe.
"""
import io
import os
import pickle
import select
import struct
import time
from typing import Any, Optional

import torch

MAX_FRAME = 512 * 1024 * 1024  # a reply larger than this is refused as a flood
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

def encode_reply(obj: Any) -> bytes:
    """Student process -> grader: torch.save of plain containers and tensors."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def decode_reply(data: bytes) -> Any:
    """Grader side: only tensors and plain containers load (weights_only)."""
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def encode_request(obj: Any) -> bytes:
    """Grader -> student process (trusted direction)."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


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


def recv_frame(fd: int, deadline: Optional[float] = None) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > MAX_FRAME:
        raise ChannelClosed(f"a reply of {size} bytes is larger than the {MAX_FRAME} allowed")
    return _read_exact(fd, size, deadline)
