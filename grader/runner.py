"""Grading one submission: select the cases, get their payloads and answers (fixtures for public
cases, the instructor's recipes for hidden ones), run each in the sandbox and judge it."""
import hashlib
import logging
import os
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import torch

from .assignment import Assignment, resolve
from .cases import FROM_OTHER_CASES, HIDDEN, PUBLIC, Case, Verdict, not_graded_grader_side, select
from .catalogue import all_cases
from .fixtures import load as load_fixtures
from .inert import inert_text
from .inspection import Inspection, inspect_files, inspect_sources
from .judges import hand_gradient_violation, without_gradients
from .mode import instructor_module
from .results import CaseResult, Report
from .sandbox import Limits, Request, Sandbox
from .student_side.capture import needs_newer_python
from .student_side.wire import encode_request
from .submission import Prepared, prepare

log = logging.getLogger(__name__)

class GradingError(RuntimeError):
    """The grading request itself is wrong (bad device, missing solution for hidden cases...)."""


class NeedsNewerPython(GradingError):
    """A student file uses syntax that this Python refuses and a newer one may accept: no
    verdict from this interpreter would be fair, so the submission is not graded here."""


def check_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise GradingError(f"unknown device {device!r}: use cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise GradingError("--device cuda was asked for, but torch sees no CUDA device on this machine "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); grade with --device cpu")
    return device


def hidden_available(assignment=None) -> None:
    """Raise GradingError unless hidden cases of ``assignment`` can be graded here (the
    instructor's repository)."""
    reference = instructor_module("reference", resolve(assignment).name)
    if reference is None:
        raise GradingError("hidden cases are graded with the instructor's repository; this is a student handout, "
                           "which has the public cases only (drop --hidden)")
    try:
        reference.load_reference()
    except reference.ReferenceUnavailable as exc:
        raise GradingError(str(exc)) from None


@dataclass(frozen=True)
class Inputs:
    """A case's payload (sent to the student process, pickled once as ``blob``) and its answer
    key (kept here)."""

    payload: Any
    answer: Any
    blob: bytes


def case_inputs(case: Case, fixtures, salt: str = "", assignment=None) -> Inputs:
    """A case's inputs: from the fixtures for a public case; for a hidden one, and with a salt
    for a public case marked ``fresh`` (a form case), from the instructor's recipes with seeds salted by
    the submission's content (inputs learnt from one grading cannot be replayed in the next, and
    the same files always get the same inputs)."""
    if case.probe is None or case.probe in FROM_OTHER_CASES:
        return Inputs(None, None, b"")
    if case.visibility == PUBLIC and not (salt and case.fresh):
        try:
            entry = fixtures[case.function][case.name]
        except KeyError:
            raise GradingError(f"no fixture for {case.id}: run `python -m grader fixtures build`") from None
        payload, answer = entry["payload"], entry["key"]
    else:
        payload, answer = instructor_module("recipes", resolve(assignment).name).make(case, salt=salt)
    return Inputs(payload, answer, encode_request(payload))


def content_salt(code_dir: Path, assignment=None) -> str:
    """A digest of the submission's files: the salt of its hidden cases' seeds."""
    digest = hashlib.sha256()
    for name in resolve(assignment).code_files:
        digest.update((code_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _judge(case: Case, payload, reply, answer, device) -> Verdict:
    """The case's verdict. A reply from the student's process that the judge cannot read
    (fields missing or of the wrong kind: its code can rewrite what the probes send) fails
    the case as such, not as a grader error."""
    try:
        return case.judge(case, payload, reply, answer, device)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        if reply is None or reply.data is None:
            raise
        log.warning("unreadable reply in %s:\n%s", case.id, "".join(traceback.format_exception(exc)))
        return Verdict("failed", "the submission's process sent back a reply in a form the grader cannot read "
                                 f"({type(exc).__name__}); code that rewrites the grading probes gets this. If "
                                 "the submission does nothing of the kind, please report it", reason="malformed")


def _grader_error(case: Case, exc: BaseException) -> Verdict:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    log.error("grader error in %s:\n%s", case.id, "".join(traceback.format_exception(exc)))
    return Verdict("grader error", f"internal grader error (not your code's fault; please report it): {detail}",
                   reason="grader error")


def _result(case: Case, verdict: Verdict, seconds: float, shown=str) -> CaseResult:
    points = case.points if verdict.passed else 0.0
    # Messages may quote what the student's process sent: bounded before they are kept;
    # ``shown`` names the student's files as handed in, not the grader's private copy.
    return CaseResult(case.function, case.name, case.visibility, case.points, points, verdict.status,
                      _bounded(shown(verdict.message), 6000), _bounded(shown(verdict.diagnosis), 1000),
                      tuple(_bounded(shown(w), 1000) for w in verdict.warnings[:20]), verdict.reason, round(seconds, 4),
                      verdict.vouches, setup_note=_bounded(verdict.setup_note, 2000), computed=verdict.computed,
                      work=tuple(int(w) for w in verdict.work[:2]),
                      causes=tuple((_bounded(label, 200), tuple(_bounded(p, 200) for p in paths[:20]))
                                   for label, paths in verdict.causes[:20]))


def _bounded(text, limit: int) -> str:
    """``text`` cut to ``limit`` characters, its control characters shown, not obeyed (see grader.inert)."""
    text = str(text)
    return inert_text(text if len(text) <= limit else text[:limit] + f" ... ({len(text) - limit} more characters)")


def _refuse_if_newer_python(load_errors, code_dir: Path) -> None:
    """Raise NeedsNewerPython when a file could not be loaded only because it is written for a
    newer Python. The worker's claim is checked here, by compiling the file (nothing is run):
    what the student's process says cannot decide it."""
    for module, error in load_errors.items():
        if not error.get("needs_python"):
            continue
        path = Path(code_dir) / f"{module}.py"
        try:
            source = path.read_text(encoding="utf-8")
            with _PARSE:
                compile(source, str(path), "exec", dont_inherit=True)
            continue  # it compiles: the claim was not the interpreter's
        except SyntaxError as exc:
            newer = needs_newer_python(exc, source)
            message = f"{exc.msg} ({path.name}, line {exc.lineno})"
        except (OSError, ValueError, RecursionError, MemoryError):
            continue
        if newer:
            version = ".".join(map(str, sys.version_info[:2]))
            raise NeedsNewerPython(
                f"{module}.py could not be loaded: SyntaxError: {message}. That line may be valid on Python "
                f"{newer} or newer, which accepts f-strings with quotes, backslashes, comments or line breaks "
                f"inside their braces (PEP 701); this grader runs Python {version}: grade this submission with "
                f"Python {newer} or newer")


def _vouched_outputs(values: List[CaseResult], hidden: bool) -> Set[str]:
    """The outputs that a function's value cases show computed: right, or wrong the way a known
    mistake is (a right loss vouches for the loss, not for dW), on inputs the student's process
    could not know beforehand (the hidden ones, when they were graded: the public answers and
    mistakes' results ship with the handout). "*" stands for all of them, from a case whose
    judge does not name its outputs (a prediction's labels) and that passes or names a mistake."""
    found: Set[str] = set()
    for r in values:
        if hidden and r.visibility != HIDDEN:
            continue
        if r.computed:
            found.update(r.computed)
        elif r.status == "passed" or r.vouches or r.causes:
            found.add("*")
    return found


def _unvouched(outputs, vouched: Set[str]) -> List[str]:
    """The outputs not shown computed. A case whose judge names no outputs (an update rule's
    steps) is vouched for by any output the hidden cases show computed (a known mistake's
    next_w, say)."""
    if "*" in vouched or (not outputs and vouched):
        return []
    return [p for p in (outputs or ("*",)) if p not in vouched]


def _result_path(path: str) -> str:
    return "the result" if path in ("*", "result") else path


def flag_hardcoding(results: List[CaseResult], cases: List[Case], assignment=None) -> List[CaseResult]:
    """A public value case that passes keeps its points only when the hidden cases show each of
    its outputs computed (right, or wrong the way a known mistake is: honest code with a bug the
    public cases happen to miss): a right loss vouches for the loss, never for a dW that is right
    only on the published inputs, which a handout carries, answers included. A hidden case that
    failed, timed out or did not run shows nothing."""
    probe = {(c.function, c.name): c.probe for c in cases}
    value_probes = VALUE_PROBES | resolve(assignment).value_probes
    out = list(results)
    for check in {r.check for r in results}:
        values = [r for r in results if r.check == check and probe.get((r.check, r.name)) in value_probes]
        public = [r for r in values if r.visibility == PUBLIC and r.status == "passed"]
        # A hidden case not graded (the grading machine could not run it) shows nothing either way.
        hidden = [r for r in values if r.visibility == HIDDEN and r.status != "not graded"]
        if not (hidden and public):
            continue
        vouched = _vouched_outputs(hidden, hidden=True)
        for i, r in enumerate(out):
            missing = _unvouched(r.computed, vouched) if r in public and r.max_points else []
            if not missing:
                continue
            if not vouched:
                message = ("passes only on the published inputs and on none of the fresh hidden ones: the outputs "
                           "look hard-coded")
            else:
                named = ", ".join(_result_path(p) for p in missing)
                message = (f"{named} right only on the published inputs: on every fresh hidden input "
                           f"{'it is' if len(missing) == 1 else 'they are'} wrong, in no known mistake's way, while "
                           "the function's other outputs are right there: "
                           f"{'it looks' if len(missing) == 1 else 'they look'} hard-coded (each output earns "
                           "points only where the hidden cases show it computed)")
            out[i] = CaseResult(r.check, r.name, r.visibility, r.max_points, 0.0, "failed", message,
                                reason="hard-coded", seconds=r.seconds)
    return out


# Cases that judge a function's values against expected ones: a plain call's, and those of the
# probes an assignment names in its ``value_probes``.
VALUE_PROBES = frozenset({"call"})

def _form_needs(case: Optional[Case], given_outputs_need) -> Optional[str]:
    """The output a form case is about, when it is about one: the case's own ``output`` (the
    numeric gradient check of dW checks dW, so only dW shown computed credits it); else, for a
    function whose template computes some outputs itself (the assignment's
    ``given_outputs_need``), the output that is the student's work (a template left as handed
    out computes the given outputs and earns nothing)."""
    if case is None:
        return None
    return case.output or given_outputs_need.get(case.function)


def credit_form_with_values(results: List[CaseResult], cases: List[Case], hidden: bool = False,
                            assignment=None) -> List[CaseResult]:
    """A function's form cases earn points only when the function computes something (see
    :func:`_vouched_outputs`); one that names its ``output`` (a numeric gradient check) only when
    that output is shown computed. Form cases are the cases marked ``form`` by their makers.
    What the student's process measures about itself can be forged; its values cannot, without
    computing them."""
    probe = {(c.function, c.name): c.probe for c in cases}
    by_key = {(c.function, c.name): c for c in cases}
    unit = resolve(assignment)
    value_probes, given = VALUE_PROBES | unit.value_probes, unit.given_outputs_need
    form = {key for key, c in by_key.items() if c.form}
    out = list(results)
    for check in {r.check for r in results}:
        values = [r for r in results if r.check == check and probe.get((r.check, r.name)) in value_probes]
        if not values:
            continue
        vouched = _vouched_outputs(values, hidden and any(r.visibility == HIDDEN for r in values))
        lost = next((r for r in values if r.reason == "grader side"), None)  # not graded: the machine's fault
        for i, r in enumerate(out):
            if not (r.check == check and (r.check, r.name) in form and r.status == "passed" and r.max_points):
                continue
            need = _form_needs(by_key[(r.check, r.name)], given)
            if vouched and (need is None or not _unvouched((need,), vouched)):
                continue
            if lost is not None:  # the cases that would vouch for it could not be run: neither credit nor loss
                out[i] = CaseResult(r.check, r.name, r.visibility, r.max_points, 0.0, "not graded",
                                    f"not credited yet: {check}'s value cases were not graded ({lost.message})",
                                    reason="grader side", seconds=r.seconds, setup_note=lost.setup_note)
                continue
            if not vouched:
                message = (f"not credited: no value case of {check} passes (nor names a known mistake), and this "
                           "case earns its points only for code that computes the right thing")
            elif r.check in given and not by_key[(r.check, r.name)].output:
                message = (f"not credited: the template computes {check}'s loss as handed out; {need} is the part "
                           f"to write, and no value case shows {need} computed (right, or wrong the way a known "
                           "mistake is)")
            else:
                message = (f"not credited: no value case of {check} shows {need} computed (right, or wrong the way "
                           f"a known mistake is), and this case checks {need}")
            out[i] = CaseResult(r.check, r.name, r.visibility, r.max_points, 0.0, "failed", message,
                                reason="no values", seconds=r.seconds)
    return out


def _listed(findings) -> str:
    return "; ".join(str(f) for f in findings[:3]) + (f"; and {len(findings) - 3} more" if len(findings) > 3 else "")


def apply_inspection(case: Case, verdict: Verdict, inspection: Inspection, assignment=None) -> Verdict:
    """What the grader read in the student's source (see :mod:`grader.inspection`) over what the
    student's process reported: code that switches off or reaches around the checks fails every
    case of the function that reaches it; a loss function's gradient from autograd earns
    nothing; builtins that iterate break the no-loop rule."""
    if case.probe is None or verdict.status in ("grader error", "not graded"):
        return verdict
    unit = resolve(assignment)
    found = inspection.found(unit.entry_points.get(case.function, (case.function,)), case.standins)
    tamper = [f for f in found if f.kind == "tamper"]
    if tamper:
        return Verdict("failed", f"rule broken: this code switches off or reaches around how the grader checks the "
                                 f"rules ({_listed(tamper)}): tracing, torch's function layer, code run from strings, "
                                 "other threads, frames and the interpreter's internals are out of bounds in this "
                                 "assignment, and code that uses them earns nothing here"
                       + (f"\n{verdict.message}" if verdict.message else ""), reason="rule")
    autograd = [str(f) for f in found if f.kind == "autograd"]
    if autograd and case.function in unit.loss_functions:
        if case.probe == "call":
            return without_gradients(verdict, case, autograd)
        if case.probe == "numeric_grad":
            return Verdict("failed", hand_gradient_violation(autograd), reason="rule")
    iterating = [f for f in found if f.kind == "iteration"]
    if iterating and case.probe == "loop_scaling":
        return Verdict("failed", f"rule broken: no explicit loops. {_listed(iterating)} iterates in Python (a loop run "
                                 "by a builtin is still a loop: Python's sum(...) of a tensor adds its rows one by "
                                 "one, where torch.sum and .sum() do not): write it with tensor operations",
                       reason="rule")
    return verdict


def flag_loops_across_values(results: List[CaseResult], cases: List[Case]) -> List[CaseResult]:
    """The no-loop rule judged on the calls whose values are judged too: a vectorized function's
    value cases (all but the stability ones, whose scores may take other branches) have
    different sizes, so their counts of torch calls and lines must agree. Code that recognises
    the no-loop case's own calls (by their order, their sizes, their rhythm) and answers them
    without its loops meets the same rule in the cases it must answer with its values."""
    by_key = {(c.function, c.name): c for c in cases}
    out = list(results)
    for check in {r.check for r in results}:
        counted = [r for r in results if r.check == check and r.work and by_key.get((r.check, r.name)) is not None
                   and by_key[(r.check, r.name)].probe == "call"
                   and not by_key[(r.check, r.name)].params.get("stability")]
        if len({r.work for r in counted}) < 2:
            continue
        sizes = "; ".join(f"{r.name}: {r.work[0]} torch calls, {r.work[1]} lines run" for r in counted)
        for i, r in enumerate(out):
            case = by_key.get((r.check, r.name))
            if r.check == check and case is not None and case.probe == "loop_scaling" and r.status == "passed":
                out[i] = CaseResult(r.check, r.name, r.visibility, r.max_points, 0.0, "failed",
                                    f"rule broken: no explicit loops. The work grows with the input size across the "
                                    f"value cases ({sizes}), so there is a Python loop over samples, features or "
                                    "classes.", reason="rule", seconds=r.seconds)
    return out


def precompute_inputs(cases, assignment=None) -> dict:
    """The inputs of every public case, once: a batch shares them between submissions (hidden
    cases are made for each submission)."""
    fixtures = load_fixtures(assignment)
    return {case.id: case_inputs(case, fixtures, assignment=assignment) for case in cases
            if case.probe is not None and case.visibility == PUBLIC}


# ------------------------------------------------------------------ what a case may run

_PARSE = threading.Lock()  # CPython 3.11's parser is not safe to run from two threads at once


def call_graph(files) -> Dict[str, Set[str]]:
    """{function or class defined at the top of the student's files: the global and attribute
    names its code uses (what it calls, and functions it passes along, as in
    ``train(..., loss_func, ...)``)}. A class's names are those of all its methods.
    Read from the compiled code (nothing is run); unparsable files give nothing."""
    graph: Dict[str, Set[str]] = {}
    for path in files:
        try:
            with _PARSE:
                code = compile(Path(path).read_text(errors="replace"), str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
            continue
        methods: Dict[str, Dict[str, Set[str]]] = {}
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                graph.setdefault(const.co_name, set()).update(_names_used(const))
                own = {c.co_name: _names_used(c) for c in const.co_consts if isinstance(c, types.CodeType)
                       and c.co_name != "<lambda>" and "." not in c.co_name}
                if own and "__qualname__" in const.co_names:  # a top-level class's body: its methods
                    methods.setdefault(const.co_name, {}).update(own)
        graph.update(_method_nodes(methods))
    return graph


def _method_nodes(methods: Dict[str, Dict[str, Set[str]]]) -> Dict[str, Set[str]]:
    """A node per method, "Class.method", besides the class's own node (which unites them): a
    method's names with each class it names narrowed to the methods it names of that class
    (``Linear.forward(...)`` runs Linear.forward, not Linear.backward), and its own class's
    methods it names (``self.loss``) added. A class named with none of its methods named stays
    whole (``Net(...)`` may run any of them). Nothing reaches these nodes from a function's or
    a class's own node, which name classes whole: only an entry point naming a method does."""
    nodes = {}
    for cls, members in methods.items():
        for method, names in members.items():
            out = set()
            for name in names:
                picked = {f"{name}.{a}" for a in names if a in methods.get(name, {})}
                out |= picked or {name}
            out |= {f"{cls}.{a}" for a in names if a in members and a != method}
            nodes[f"{cls}.{method}"] = out
    return nodes


def inspect_student_files(code_dir: Path, assignment=None) -> Inspection:
    """The student's files read by :mod:`grader.inspection` (under the parser's lock).
    ``A2_SOURCE_RULES=off`` in the grader's environment sets the reading aside: the sandbox's
    own tests use it to show that the confinement holds by itself."""
    if os.environ.get("A2_SOURCE_RULES") == "off":
        return inspect_sources({})
    with _PARSE:
        return inspect_files(Path(code_dir) / name for name in resolve(assignment).code_files)


def _names_used(code) -> Set[str]:
    names, todo = set(), [code]
    while todo:
        code = todo.pop()
        names.update(code.co_names)
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


def reachable(graph: Dict[str, Set[str]], start, cut=()) -> Set[str]:
    """Student functions that running ``start`` may run, not going through ``cut`` (stand-ins)."""
    def kept(name):  # a method of a class replaced by a stand-in is replaced with it
        return name in graph and name not in cut and name.split(".")[0] not in cut

    seen, todo = set(), [s for s in start if kept(s)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(n for n in graph.get(name, ()) if kept(n) and n not in seen)
    return seen


def _runs(case: Case, graph, unit: Assignment) -> Set[str]:
    # a method its student file does not define as such counts as its whole class
    starts = [s if s in graph else s.split(".")[0] for s in unit.entry_points.get(case.function, (case.function,))]
    return reachable(graph, starts, case.standins)


# ------------------------------------------------------------------ grading
#
# grade() is a pipeline of named steps: recognise the assignment, select its cases, launch the
# sandbox, read what the cases share (fixtures, data, call graph, source inspection, salt), get
# each case's inputs, send the requests, judge the replies (the cases judged from other cases'
# replies last), credit across cases, and report.


@dataclass
class _Grading:
    """What every case of one submission's grading shares, read once before its cases run."""

    unit: Assignment
    prepared: Prepared
    device: str
    fixtures: dict
    data_dir: Path
    graph: Dict[str, Set[str]]
    inspection: Inspection
    salt: str  # the submission's content digest with --hidden (its hidden and fresh cases' seeds); else ""


def _assignment_of(submission, prepared: Optional[Prepared], assignment):
    """(prepared, assignment, whether grade() prepared the files itself): the assignment from
    ``prepared``, or recognised from the files, which are then read before anything else."""
    if prepared is not None and assignment is None:
        assignment = prepared.assignment
    if assignment is None and submission is None:
        assignment = resolve(None)
    own = prepared is None
    if own and assignment is None:
        prepared = prepare(submission)
        assignment = prepared.assignment
    return prepared, resolve(assignment), own


def _select_cases(unit: Assignment, functions, hidden: bool) -> List[Case]:
    """The cases to grade, in the assignment's order of functions; hidden ones checked to be
    gradable here first (fail early, with the reason, in a handout)."""
    if hidden:
        hidden_available(unit)
    order = {name: i for i, name in enumerate(unit.functions)}
    return sorted(select(all_cases(unit), functions, hidden, unit), key=lambda c: order[c.function])


def _shared(prepared: Prepared, unit: Assignment, hidden: bool, device: str, data_dir) -> _Grading:
    from helpers.data import default_data_dir

    return _Grading(unit, prepared, device, load_fixtures(unit),
                    Path(data_dir) if data_dir else default_data_dir(),
                    call_graph(prepared.code_dir / name for name in unit.code_files),
                    inspect_student_files(prepared.code_dir, unit),
                    content_salt(prepared.code_dir, unit) if hidden else "")


def _inputs_of(cases: List[Case], g: _Grading, inputs=None) -> list:
    """[(case, inputs, verdict when the inputs could not be had)]: a public case's from the
    batch's shared ``inputs`` where it has them (not a fresh case's under --hidden), else made."""
    out = []
    for case in cases:
        try:
            shared = inputs and case.id in inputs and not (g.salt and case.fresh)
            got = inputs[case.id] if shared else case_inputs(case, g.fixtures, g.salt, g.unit)
            out.append((case, got, None))
        except GradingError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not hide the other cases
            out.append((case, None, _grader_error(case, exc)))
    return out


def _requests(prepared_cases, g: _Grading) -> List[Request]:
    """What the student process runs: one request per case with a probe of its own, naming the
    student functions it may run (the rest may not: a hang there is not this case's)."""
    return [Request(case.id, case.probe, got.blob, case.timeout,
                    frozenset(_runs(case, g.graph, g.unit)) | {case.function}, ahead=not case.standins)
            for case, got, verdict in prepared_cases
            if case.probe is not None and case.probe not in FROM_OTHER_CASES and verdict is None]


def _judge_one(case: Case, got: Inputs, replies, g: _Grading, seen: Dict[str, list], unplaced=None) -> CaseResult:
    """A case with a reply of its own (or none: judged in the grader alone), judged; a value
    case's reply is kept in ``seen`` for the cases judged from it. A case that fails and whose
    probe inputs were left for later (its reply says ``probes_later``; judged without a
    diagnosis so far) is added to ``unplaced`` with its reply: its probes are asked for once
    every case has been answered, and it is judged again (see :func:`_place_failures`)."""
    t0 = time.monotonic()
    try:
        payload, answer = got.payload, got.answer
        if case.probe is None:
            payload = {"checkpoint_dirs": g.prepared.checkpoint_dirs, "data_dir": str(g.data_dir)}
            reply = None
        else:
            reply = next(replies)
            if case.needs_data:
                payload = {**payload, "data_dir": str(g.data_dir)}
            if case.probe in VALUE_PROBES | g.unit.value_probes:
                seen.setdefault(case.function, []).append(reply)
            t0 = time.monotonic() - reply.seconds  # the case's own time, from when its turn came
        later = reply is not None and isinstance(reply.data, dict) and reply.data.get("probes_later") is True
        if later and unplaced is None:  # no one to ask them later: judged in full now, without them
            reply.data.pop("probes_later")
            later = False
        if reply is not None and reply.grader_side:
            verdict = not_graded_grader_side(reply)
        elif reply is not None and reply.not_run:
            verdict = Verdict("failed", reply.failure, reason="not run")
        else:
            verdict = apply_inspection(case, _judge(case, payload, reply, answer, g.device), g.inspection, g.unit)
            if later and not verdict.passed:
                unplaced.append((case, got, reply))
    except Exception as exc:  # noqa: BLE001
        verdict = _grader_error(case, exc)
    return _result(case, verdict, time.monotonic() - t0, g.prepared.shown)


def _place_failures(unplaced, results, more, g: _Grading) -> None:
    """The failing value cases' calls on their probe inputs (``unplaced``: (index in results,
    case, inputs, reply)), asked for from ``more(requests)`` (the same worker, within the same
    budget) once every case has been answered, and each such case judged again with them: they
    place a wrong output (see grader.localise) and tell apart mistakes whose results overflow
    alike; they earn nothing. Asked only now, they cannot change any case's answer: what the
    student's process learns from which probes are asked comes after all of them."""
    asked = [Request(f"{case.id} (probes)", "call_probes", got.blob, case.timeout,
                     frozenset(_runs(case, g.graph, g.unit)) | {case.function}, ahead=not case.standins)
             for _, case, got, _ in unplaced]
    for (index, case, got, reply), extra in zip(unplaced, more(asked)):
        probed = extra.data.get("probes") if isinstance(extra.data, dict) else None
        # not run, timed out, unreadable: the failure is judged without them
        reply.data["probes"] = probed if isinstance(probed, dict) else {}  # the cases judged from it see them too
        reply.data.pop("probes_later", None)
        results[index] = _judge_one(case, got, iter([reply]), g, {})


def _judge_from_others(case: Case, g: _Grading, seen: Dict[str, list]) -> CaseResult:
    """A case that runs nothing of its own, judged from its function's value cases' replies."""
    t0 = time.monotonic()
    try:
        verdict = apply_inspection(case, _judge(case, seen.get(case.function, []), None, None, g.device), g.inspection,
                                   g.unit)
    except Exception as exc:  # noqa: BLE001
        verdict = _grader_error(case, exc)
    return _result(case, verdict, time.monotonic() - t0, g.prepared.shown)


def _judge_all(prepared_cases, replies, g: _Grading, more=None) -> List[CaseResult]:
    """Every case's result, in the cases' order: the replies in the order they were requested,
    then the cases judged from other cases' replies (the device rule), once those are in. With
    ``more`` (the sandbox's ``replies``), failing cases' probes are asked for at the end."""
    seen: Dict[str, list] = {}  # function -> its value cases' replies, for the cases judged from them
    results: List[Optional[CaseResult]] = []
    later = []  # (index in results, case) of those cases
    unplaced: list = []
    for case, got, verdict in prepared_cases:
        if verdict is not None:
            results.append(_result(case, verdict, 0.0, g.prepared.shown))
        elif case.probe in FROM_OTHER_CASES:
            later.append((len(results), case))
            results.append(None)
        else:
            asked = len(unplaced)
            results.append(_judge_one(case, got, replies, g, seen, unplaced if more else None))
            if len(unplaced) > asked:
                unplaced[-1] = (len(results) - 1,) + unplaced[-1]
    if unplaced:
        _place_failures(unplaced, results, more, g)
    for index, case in later:
        results[index] = _judge_from_others(case, g, seen)
    return results


def _credit(results: List[CaseResult], cases: List[Case], hidden: bool, unit: Assignment) -> List[CaseResult]:
    """What is judged across cases: form cases credited by value cases, the no-loop rule across
    the value cases' work, and, with hidden cases, public outputs they do not show computed."""
    results = credit_form_with_values(results, cases, hidden, unit)
    results = flag_loops_across_values(results, cases)
    if hidden:
        results = flag_hardcoding(results, cases, unit)
    return results


def _notes(sandbox: Sandbox, prepared: Prepared) -> List[str]:
    """The report's notes: files that could not be loaded, imports the grader lacks, and what the
    confinement could not set up."""
    notes = [inert_text(prepared.shown(f"{module}.py could not be loaded: {error['type']}: {error['message']}"))
             for module, error in sandbox.load_errors.items()]
    notes += [inert_text(prepared.shown(f"{module}.py imports {name} (line {line}), which the grader does not have: "
                                        f"loaded without it; a graded function that uses {name} fails"))
              for module, name, line in sandbox.absent_imports]
    return notes + [inert_text(note) for note in sandbox.confinement_notes()]  # the hello can be forged


def grade(submission=None, functions=None, hidden: bool = False, device: str = "cpu",
          limits: Optional[Limits] = None, data_dir=None, zygote=None,
          prepared: Optional[Prepared] = None, protect=(), inputs=None, assignment=None) -> Report:
    """Grade one submission and return its :class:`Report`. ``assignment`` (a name or an
    Assignment) says whose files these are; None: recognised from the files (this repository's
    own solution: the kit's default assignment)."""
    start = time.monotonic()
    device = check_device(device)
    prepared, unit, own = _assignment_of(submission, prepared, assignment)
    try:
        cases = _select_cases(unit, functions, hidden)
    except BaseException:
        if own and prepared is not None:
            prepared.cleanup()
        raise
    prepared = prepared or prepare(submission, assignment=unit)
    sandbox = Sandbox(prepared.code_dir, device, limits or Limits(), zygote, tuple(protect), assignment=unit)
    try:
        sandbox.launch()  # it loads the submission while the inputs below are prepared
        g = _shared(prepared, unit, hidden, device, data_dir)
        prepared_cases = _inputs_of(cases, g, inputs)
        results = _judge_all(prepared_cases, sandbox.replies(_requests(prepared_cases, g)), g, sandbox.replies)
        _refuse_if_newer_python(sandbox.load_errors, prepared.code_dir)
    finally:
        sandbox.close()
        if own:
            prepared.cleanup()
    results = _credit(results, cases, hidden, unit)
    label = prepared.origin if submission is not None else f"this repository's {unit.student_dir}/"
    return Report(label, device, hidden, tuple(results), round(time.monotonic() - start, 3),
                  tuple(_notes(sandbox, prepared)), assignment=unit.name)
