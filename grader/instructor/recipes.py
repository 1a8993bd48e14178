"""What every assignment's recipes share: a case's seed salted with the submission, the payload
and answer of a case that calls one function and compares its result, and the known mistakes'
results made only when a failing case reads them.

Instructor side. Each assignment's recipes (``grader/assignments/<name>/instructor/recipes.py``)
hold its ``RECIPES`` ({recipe name: recipe(case) -> (payload, answer)}) and call :func:`make` with
them; the runner finds them through the assignment's instructor side, never by importing them.
Every payload :func:`make` makes is checked against the fields its probe declares (see
:mod:`grader.student_side.payloads`).
"""
import collections.abc
import dataclasses
import hashlib
from typing import Any, Callable, Dict, Tuple

from ..cases import FROM_OTHER_CASES, HIDDEN, Case, CatalogueError, probe_spec
from ..student_side.payloads import mismatches
from ..student_side.nested import map_tensors
from .mistakes import detached


def upcast(obj):
    """Floating tensors to float64 (the reference precision), recursively."""
    return map_tensors(obj, lambda t: t.double() if t.is_floating_point() else t)


def call_case(case, args, names, reference, *, ref, mistakes_of, probes=(), **extra):
    """Payload and answer of a case that calls one function and compares its result: ``reference(ref,
    args)`` is the right result (``ref``: the assignment's solution), ``mistakes_of(check,
    expected, args, probes=...)`` its known mistakes' results. ``probes``: (label, args) of
    further calls on inputs that tell mistakes apart (the student's function is called on them
    too; their results only explain a failure, they earn nothing)."""
    expected = detached(reference(ref, upcast(args)))
    payload = {"module": case.params["module"], "function": case.params["function"], "args": args,
               "arg_names": list(names), "dtype": case.dtype, **extra}
    if case.gradients:  # a loss function's case: its parameters, the first argument, are watched (see the call probe)
        payload["watch"] = 0
    probe_expected = [(label, detached(reference(ref, upcast(a))), upcast(a)) for label, a in probes]
    if probes:
        payload["probes"] = [[label, a] for label, a in probes]
    if case.visibility == HIDDEN:  # made for every submission: worked out only if a failing case reads them
        found = Later(mistakes_of, case.function, expected, kept(upcast(args)), (), kept(probe_expected))
    else:
        found = mistakes_of(case.function, expected, upcast(args), probes=probe_expected)
    answer = {"expected": expected, "mistakes": found}
    if probes:
        answer["probes"] = {label: value for label, value, _ in probe_expected}
    return payload, answer


def kept(obj):
    """``obj`` with its tensors copied (what a :class:`Later` keeps must not change with its
    source): a clone each, far cheaper than ``copy.deepcopy``'s walk through each tensor."""
    return map_tensors(obj, lambda t: t.detach().clone())


def per_submission(case: Case) -> bool:
    """Whether ``case``'s inputs are made for one submission (hidden, or salted with its
    content): what only a failing case reads is then best made when it reads it."""
    return case.visibility == HIDDEN or bool(case.params.get("salted"))


class Later(collections.abc.Sequence):
    """A list made on first use (the known mistakes' results: only the diagnosis of a failing
    case reads them, and most cases pass); pickled as the plain list."""

    def __init__(self, make, *args):
        self._make, self._args, self._items = make, args, None

    def _list(self) -> list:
        if self._items is None:
            self._items = list(self._make(*self._args))
            self._make = self._args = None
        return self._items

    def __getitem__(self, index):
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self):
        return iter(self._list())

    def __reduce__(self):
        return list, (self._list(),)


class LaterAfter(collections.abc.Sequence):
    """``first``, then the items of ``make(*args)``, made only when something reads past the
    first (a numeric check's losses: the right loss, then the known mistakes' losses, read only
    when the student's loss is not the right one); pickled as the plain list."""

    def __init__(self, first, make, *args):
        self._first, self._rest = first, Later(make, *args)

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, index):
        return self._first if index == 0 else list(self)[index]

    def __len__(self) -> int:
        return 1 + len(self._rest)

    def __iter__(self):
        yield self._first
        yield from self._rest

    def __reduce__(self):
        return list, (list(self),)


def salted(case: Case, salt: str) -> Case:
    """``case`` with its seed mixed with ``salt`` (a digest of the submission: fresh inputs for
    every version of every submission, the same for the same files), for a hidden case or a
    public case its maker marks ``fresh`` (a form case); other cases as they are."""
    if salt and (case.visibility == HIDDEN or case.fresh) and "seed" in case.params:
        digest = hashlib.sha256(f"{case.params['seed']}:{salt}".encode()).digest()
        case = dataclasses.replace(case, params={**case.params, "seed": int.from_bytes(digest[:4], "big") >> 1,
                                                 "salted": True})
    return case


def make(case: Case, recipes: Dict[str, Callable[[Case], Tuple[Any, Any]]], salt: str = ""):
    """(payload, answer) of one case, from its recipe among ``recipes``, salted (see :func:`salted`),
    the payload checked against the fields its probe declares (see :func:`check_payload`)."""
    if case.recipe not in recipes:
        raise CatalogueError(f"case {case.id!r}: no recipe is called {case.recipe!r}; the recipes are: "
                             f"{', '.join(sorted(recipes))}")
    payload, answer = recipes[case.recipe](salted(case, salt))
    check_payload(case, payload)
    return payload, answer


def check_payload(case: Case, payload) -> None:
    """CatalogueError, naming the recipe, the probe and each field, when ``payload`` is not what
    ``case.probe`` declares it reads (a field missing, one it does not declare, a wrong type)."""
    if case.probe is None or case.probe in FROM_OTHER_CASES:
        return
    problems = mismatches(probe_spec(case.probe), payload)
    if problems:
        raise CatalogueError(f"recipe {case.recipe!r} made a payload that probe {case.probe!r} does not declare "
                             f"(case {case.id!r}): {'; '.join(problems)}")
