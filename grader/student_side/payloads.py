"""What a probe's payload holds, declared beside the probe: ``@probe("sample_batch", Field("X",
TENSOR), Field("seed", int), ...)``. The recipe that makes a payload is checked against it when the
payload is made (instructor side), and the probe and the judge read the payload by these names.

Student side: plain data, nothing that computes an answer. The payload itself stays a plain dict
on the wire; only its top-level fields are declared (what a field holds inside is its recipe's
and its probe's business, as the stand-in tables are).
"""
from typing import Any, List, Mapping, NamedTuple, Tuple, Union

import torch

TENSOR = torch.Tensor
SEQUENCE = (list, tuple)
NUMBER = (int, float)


class Field(NamedTuple):
    name: str
    type: Union[type, Tuple[type, ...]]  # what ``isinstance`` accepts
    optional: bool = False  # may be left out, or None


class Spec(NamedTuple):
    """The fields of one probe's payload."""

    probe: str
    module: str  # where the probe is registered: the engine's student side or an assignment's
    fields: Tuple[Field, ...]

    def with_field(self, field: Field) -> "Spec":
        return self._replace(fields=tuple(f for f in self.fields if f.name != field.name) + (field,))


def _type_name(t) -> str:
    names = [getattr(x, "__name__", str(x)) for x in (t if isinstance(t, tuple) else (t,))]
    return " or ".join("tensor" if n == "Tensor" else n for n in names)


def mismatches(spec: Spec, payload: Any) -> List[str]:
    """What differs between ``payload`` and the fields ``spec`` declares, one sentence each
    (none when they agree): a field missing, one the probe does not read, a value of another type."""
    if not isinstance(payload, Mapping):
        return [f"the payload is a {type(payload).__name__}, not a dict of fields"]
    problems = []
    for f in spec.fields:
        value = payload.get(f.name)
        if value is None and not f.optional:
            problems.append(f"field {f.name!r} ({_type_name(f.type)}) is {'None' if f.name in payload else 'missing'}")
        elif value is not None and not isinstance(value, f.type):
            problems.append(f"field {f.name!r} is a {type(value).__name__}, the probe reads a {_type_name(f.type)}")
    declared = {f.name for f in spec.fields}
    problems += [f"field {name!r} is not one the probe declares" for name in payload if name not in declared]
    return problems
