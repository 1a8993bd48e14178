"""A worker that cannot be set up for the grader's own reason (no thread to be had on an
overloaded machine, a setup step that raises) before any of the student's code ran: the cases
are "not graded, grade again", never failed, and the message says what happened. A student
who forges the grader's setup report, or crashes on purpose, still fails."""
import pytest

import grader.sandbox as sandbox
from grader.runner import flag_hardcoding
from grader.results import CaseResult
from grader.cases import HIDDEN, PUBLIC
from grader.sandbox import Limits, Request, Sandbox
from submissions import LC, make_submission

FAST = Limits(timeout=5.0, memory_gib=1.0, threads=1)

# A request the worker never gets to run when it cannot be set up.
REQUEST = Request("svm_loss_naive: x", "call", b"")


def _replies(sub, zygote, limits=FAST):
    box = Sandbox(sub / "a2", limits=limits, zygote=zygote, assignment="a2")
    try:
        return list(box.replies([REQUEST, REQUEST]))
    finally:
        box.close()


@pytest.mark.parametrize("threads, says", [
    (1, ["RuntimeError: can't start new thread", "serve.py"]),  # the watchdog thread, as the worker saw it
    (2, ["status 1", "libgomp: Thread creation failed"]),  # torch's OpenMP pool: it prints, then exits
])
def test_no_thread_for_the_worker_is_not_graded_and_says_why(tmp_path, zygote, monkeypatch, threads, says):
    # What an overloaded machine did: the user's task limit reached, so the worker's own
    # threads could not start. Only the grader's code had run in it.
    monkeypatch.setattr(sandbox, "tasks_of_user", lambda uid: -10**6)  # a limit of one task
    sub = make_submission(tmp_path / "s")
    replies = _replies(sub, zygote, Limits(timeout=5.0, memory_gib=1.0, threads=threads))
    assert len(replies) == 2
    for reply in replies:
        assert reply.grader_side and not reply.data
        assert reply.failure.startswith("not graded: the grading machine could not set up")
        assert "grade this submission again" in reply.failure
        for text in says:
            assert text in reply.failure


def test_a_setup_step_that_raises_is_reported_with_its_exception(tmp_path, zygote, monkeypatch):
    sub = make_submission(tmp_path / "s")
    box = Sandbox(sub / "a2", limits=FAST, zygote=zygote, assignment="a2")
    spec = dict(box.assignment.worker_spec(), probes="grader.no_such_probe_module")
    monkeypatch.setattr(type(box.assignment), "worker_spec", lambda self: spec)
    try:
        replies = list(box.replies([REQUEST]))
    finally:
        box.close()
    assert replies[0].grader_side
    assert "ModuleNotFoundError" in replies[0].failure and "grader.no_such_probe_module" in replies[0].failure


def test_the_setup_is_tried_twice(tmp_path, zygote, monkeypatch):
    sub = make_submission(tmp_path / "s")
    real, calls = sandbox.tasks_of_user, []

    def fails_once(uid):
        calls.append(uid)
        return -10**6 if len(calls) == 1 else real(uid)
    monkeypatch.setattr(sandbox, "tasks_of_user", fails_once)
    box = Sandbox(sub / "a2", limits=FAST, zygote=zygote, assignment="a2")
    try:
        hello = box._start(__import__("time").monotonic() + 60)
    finally:
        box.close()
    assert hello is None and len(calls) == 2  # the second worker was set up and said hello


FORGE = '''
import os as _os, sys as _sys
_frame = _sys._getframe()
while _frame is not None and "rep_fd" not in _frame.f_locals:
    _frame = _frame.f_back
_wire = _sys.modules["grader.student_side.wire"]
_wire.send_frame(_frame.f_locals["rep_fd"], _wire.encode_reply({"setup": "done"}))
_wire.send_frame(_frame.f_locals["rep_fd"], _wire.encode_reply(
    {"setup_error": {"type": "RuntimeError", "message": "can't start new thread", "where": []}}))
_os._exit(70)


def svm_loss_naive('''


@pytest.mark.parametrize("forged, says", [
    (FORGE, "did not say hello"),  # its "setup: done" is taken for the hello, which it is not
    (FORGE.replace('_wire.send_frame(_frame.f_locals["rep_fd"], _wire.encode_reply({"setup": "done"}))\n', ""),
     "did not say hello")])  # a setup error after "setup: done" is not one: it is no hello either
def test_a_forged_setup_error_is_the_students_crash(tmp_path, zygote, forged, says):
    # The student's code runs only after the worker said "setup: done": whatever it writes into
    # the pipe then, and however it ends the process, is its own failure.
    sub = make_submission(tmp_path / "s", [(LC, "def svm_loss_naive(", forged)])
    replies = _replies(sub, zygote)
    for reply in replies:
        assert not reply.grader_side
        assert "not graded" not in reply.failure
    assert says in replies[0].failure


def _row(name, visibility, status, reason="", points=1.0):
    return CaseResult("f", name, visibility, 1.0, points if status == "passed" else 0.0, status, "", reason=reason,
                      computed=("result",) if status == "passed" else ())


def test_hidden_cases_not_graded_do_not_make_public_ones_look_hard_coded():
    class Case:
        def __init__(self, name):
            self.function, self.name, self.probe = "f", name, "call"
    rows = [_row("pub", PUBLIC, "passed"), _row("hid", HIDDEN, "not graded", "grader side")]
    out = flag_hardcoding(rows, [Case("pub"), Case("hid")])
    assert out[0].status == "passed"
    failed_hidden = [_row("pub", PUBLIC, "passed"), _row("hid", HIDDEN, "failed", "crash")]
    assert flag_hardcoding(failed_hidden, [Case("pub"), Case("hid")])[0].reason == "hard-coded"  # still the rule


def test_a_grading_on_an_overloaded_machine_loses_no_points(tmp_path, grade_with, monkeypatch):
    monkeypatch.setattr(sandbox, "tasks_of_user", lambda uid: -10**6)
    sub = make_submission(tmp_path / "s")
    report = grade_with(sub, functions=["svm_loss_naive"], hidden=True, limits=FAST)
    statuses = {r.status for r in report.results}
    assert statuses == {"not graded"}, [(r.name, r.status, r.message) for r in report.results]
    assert report.not_graded_points > 0
    assert any("grade the submission again" in note for note in report.setup_notes)
    assert all("can't start new thread" in r.message or "not credited yet" in r.message for r in report.results)
