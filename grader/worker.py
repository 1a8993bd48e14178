"""The student process's side of grading: load the submission by path, then answer probe
requests until the grader closes the pipe. Runs only in a process forked for one submission."""
import importlib
import importlib.util
import os
import sys
import types

from .capture import describe_error
from .probes import PROBES, Context
from .wire import ChannelClosed, decode_request, encode_reply, recv_frame, send_frame

MODULES = ("linear_classifier", "two_layer_net")

# Case inputs the zygote was given ({key: (probe, payload)}, each decoded on its own so no two
# cases share an object): a forked worker inherits them, so a request names its case instead
# of carrying the inputs: a request is a case key.
PRELOADED = {}


def load_student(folder):
    """Import the submission's two files from ``folder``.

    They are loaded as the package ``a2`` (so the kit's ``from .linear_classifier import``
    works) with ``folder`` also on sys.path (so the course's ``from linear_classifier import``
    works). Returns ``(modules, errors, files)``.
    """
    folder = os.path.abspath(folder)
    package = types.ModuleType("a2")
    package.__path__ = [folder]
    package.__file__ = os.path.join(folder, "__init__.py")
    sys.modules["a2"] = package
    sys.path.insert(0, folder)
    modules, errors, files = {}, {}, []
    for name in MODULES:
        path = os.path.join(folder, f"{name}.py")
        files.append(path)
        try:
            modules[name] = importlib.import_module(f"a2.{name}")
            sys.modules.setdefault(name, modules[name])
        except BaseException as exc:  # noqa: BLE001 - syntax errors, exits, anything
            errors[name] = describe_error(exc, (path,))
    return modules, errors, files


def serve(folder, device, req_fd, rep_fd) -> None:
    modules, errors, files = load_student(folder)
    ctx = Context(modules, errors, files, device)
    send_frame(rep_fd, encode_reply({"hello": True, "errors": errors}))
    while True:
        try:
            key = decode_request(recv_frame(req_fd))
        except ChannelClosed:
            return
        try:
            name, payload = PRELOADED[key]
            result = PROBES[name](ctx, payload)
        except BaseException as exc:  # noqa: BLE001 - the probe itself broke, or the student sabotaged it
            result = {"probe_error": describe_error(exc)}
        try:
            data = encode_reply(result)
        except BaseException as exc:  # noqa: BLE001
            data = encode_reply({"probe_error": describe_error(exc)})
        send_frame(rep_fd, data)
