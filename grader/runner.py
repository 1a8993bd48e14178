"""Grading one submission: select the cases, get their inputs and expected values (fixtures
for public cases, the solution for hidden ones), run each in the sandbox and judge it."""
import logging
import time
import traceback
from pathlib import Path
from typing import List, Optional

import torch

from .cases import HIDDEN, PUBLIC, Case, Verdict, all_cases, select
from .fixtures import load as load_fixtures
from .reference import load_reference
from .results import CaseResult, Report
from .sandbox import Limits, Sandbox
from .submission import Prepared, prepare

log = logging.getLogger(__name__)


class GradingError(RuntimeError):
    """The grading request itself is wrong (bad device, missing solution for hidden cases...)."""


def check_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise GradingError(f"unknown device {device!r}: use cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise GradingError("--device cuda was asked for, but torch sees no CUDA device on this machine "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); grade with --device cpu")
    return device


def _inputs(case: Case, fixtures, ref_getter):
    """(payload, expected) for one case."""
    if case.needs_fixture:
        try:
            entry = fixtures[case.check][case.name]
        except KeyError:
            raise GradingError(f"no fixture for {case.key}: run `python -m grader fixtures build`") from None
        return entry["payload"], entry["expected"]
    payload = case.build()
    expected = case.expect(ref_getter(), payload) if case.expect is not None else None
    return payload, expected


def _grader_error(case: Case, exc: BaseException) -> Verdict:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    log.error("grader error in %s:\n%s", case.key, "".join(traceback.format_exception(exc)))
    return Verdict("grader error", f"internal grader error (not your code's fault; please report it): {detail}",
                   reason="grader error")


def flag_hardcoding(results: List[CaseResult]) -> List[CaseResult]:
    """Public points of a function whose public value cases all pass while every hidden value
    case fails on values are withdrawn: the outputs only fit the published inputs."""
    out = list(results)
    for check in {r.check for r in results}:
        public = [r for r in results if r.check == check and r.visibility == PUBLIC and r.reason in ("", "values")]
        hidden = [r for r in results if r.check == check and r.visibility == HIDDEN]
        if (hidden and public and all(r.status == "passed" for r in public)
                and all(r.status == "failed" and r.reason == "values" for r in hidden)):
            for i, r in enumerate(out):
                if r in public:
                    out[i] = CaseResult(r.check, r.name, r.visibility, r.max_points, 0.0, "failed",
                                        "passes only on the published inputs and on none of the fresh hidden ones: "
                                        "the outputs look hard-coded", reason="hard-coded")
    return out


def precompute_inputs(cases) -> dict:
    """(payload, expected) of every case, once: a batch shares them between submissions."""
    fixtures = load_fixtures()
    return {case.key: _inputs(case, fixtures, load_reference) for case in cases if case.probe is not None}


def grade(submission=None, functions=None, hidden: bool = False, device: str = "cpu",
          limits: Optional[Limits] = None, data_dir=None, zygote=None,
          prepared: Optional[Prepared] = None, protect=(), inputs=None) -> Report:
    """Grade one submission and return its :class:`Report`."""
    start = time.monotonic()
    device = check_device(device)
    cases = select(all_cases(), functions, hidden)
    if hidden:
        load_reference()  # fail early, with the reason, in a handout
    own = prepared is None
    prepared = prepared or prepare(submission)
    sandbox = Sandbox(prepared.code_dir, device, limits or Limits(), zygote, tuple(protect))
    fixtures = load_fixtures()
    from helpers.data import default_data_dir

    data_dir = Path(data_dir) if data_dir else default_data_dir()
    results = []
    prepared_cases = []  # (case, payload, expected, verdict when the inputs could not be had)
    for case in cases:
        try:
            payload, expected = inputs[case.key] if inputs and case.key in inputs else \
                _inputs(case, fixtures, load_reference)
            prepared_cases.append((case, payload, expected, None))
        except GradingError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not hide the other cases
            prepared_cases.append((case, None, None, _grader_error(case, exc)))
    requests = [(case.key, case.probe, payload, case.timeout)
                for case, payload, _, verdict in prepared_cases if case.probe is not None and verdict is None]
    try:
        replies = sandbox.replies(requests)
        for case, payload, expected, verdict in prepared_cases:
            t0 = time.monotonic()
            if verdict is None:
                try:
                    if case.probe is None:
                        payload = {"checkpoint_dirs": prepared.checkpoint_dirs, "data_dir": str(data_dir)}
                        reply = None
                    else:
                        reply = next(replies)
                        t0 = time.monotonic() - reply.seconds  # the case's own time, from when its turn came
                    verdict = case.judge(case, payload, reply, expected, device)
                except Exception as exc:  # noqa: BLE001
                    verdict = _grader_error(case, exc)
            points = case.points if verdict.passed else 0.0
            results.append(CaseResult(case.check, case.name, case.visibility, case.points, points, verdict.status,
                                      verdict.message, verdict.diagnosis, verdict.warnings, verdict.reason,
                                      round(time.monotonic() - t0, 4)))
    finally:
        sandbox.close()
        if own:
            prepared.cleanup()
    if hidden:
        results = flag_hardcoding(results)
    notes = []
    if sandbox.load_errors:
        for module, error in sandbox.load_errors.items():
            notes.append(f"{module}.py could not be loaded: {error['type']}: {error['message']}")
    label = prepared.origin if submission is not None else "this repository's a2/"
    return Report(label, device, hidden, tuple(results), round(time.monotonic() - start, 3), tuple(notes))
