"""The one walk over nested values (tensors in dicts, lists and tuples, as payloads, arguments
and results hold them) that the student side and the grader share. It lives on the student side
(which imports nothing of the grader's) so that both may use it."""
from typing import Callable, List

import torch


def map_tensors(obj, fn: Callable[[torch.Tensor], object], sequence=None):
    """``obj`` with every tensor ``t`` in its nested dicts, lists and tuples replaced by ``fn(t)``;
    other leaves as they are. Lists and tuples keep their type, or all become ``sequence`` (say
    ``list``) when it is given."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: map_tensors(v, fn, sequence) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (sequence or type(obj))(map_tensors(v, fn, sequence) for v in obj)
    return obj


def tensors_in(obj, found: List[torch.Tensor] = None) -> List[torch.Tensor]:
    """Every tensor in ``obj``'s nested lists, tuples and dict values, in order (appended to ``found``)."""
    found = [] if found is None else found
    if isinstance(obj, torch.Tensor):
        found.append(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            tensors_in(item, found)
    elif isinstance(obj, dict):
        for item in obj.values():
            tensors_in(item, found)
    return found
