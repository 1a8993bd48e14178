"""grader/sandbox.py with hostile submissions: exits, hangs, memory blow-ups, crashes, floods,
patched torch, leftover processes. Each costs only its own cases and the grader survives."""
import os
import sys
import time

import pytest

from grader.sandbox import Limits
from processes import processes_with
from submissions import LC, TLN, make_submission

FAST = Limits(timeout=3.0, memory_gib=1.0)


def _status(report, name):
    return {r.status for r in report.results if r.check == name}


def _messages(report, name):
    return "\n".join(r.message for r in report.results if r.check == name)


def test_sys_exit_at_import_fails_that_file_only_clearly(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [(TLN, "def hello_two_layer_net():", "import sys\nsys.exit(3)\n\n\ndef hello_two_layer_net():")])
    report = grade_with(sub, limits=FAST, hidden=False)
    assert _status(report, "nn_forward_pass") == {"failed"}
    assert "sys.exit(3)" in _messages(report, "nn_forward_pass")
    assert _status(report, "svm_loss_naive") == {"passed"}


def test_syntax_error_is_reported_with_its_line(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [(LC, "def hello_linear_classifier():", "def broken(:\n    pass\n\n\ndef hello_linear_classifier():")])
    report = grade_with(sub, functions=["svm_loss_naive", "nn_forward_pass"], limits=FAST, hidden=False)
    assert "SyntaxError" in _messages(report, "svm_loss_naive")
    assert "SyntaxError" in _messages(report, "nn_forward_pass")  # two_layer_net imports linear_classifier


def test_syntax_error_shows_the_students_line_not_the_import_machinery(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [(LC, "def hello_linear_classifier():", "def broken(:\n    pass\n\n\ndef hello_linear_classifier():")])
    report = grade_with(sub, functions=["svm_loss_naive"], limits=FAST, hidden=False)
    message = _messages(report, "svm_loss_naive")
    assert "def broken(:" in message and "^" in message and "importlib" not in message


def test_an_f_string_only_newer_pythons_accept_is_not_graded_as_a_syntax_error(tmp_path, grade_with):
    """Python 3.12 reads f-strings with line breaks, quotes or backslashes inside their braces
    (PEP 701); 3.10 and 3.11 refuse the file. Such a submission is correct code for the course's
    3.12 notebooks: no verdict from an older grader, but an error saying which Python to use."""
    from grader.runner import NeedsNewerPython

    fstring = 'def describe(x):\n    return f"value: {\n        x}"\n\n\ndef hello_two_layer_net():'
    sub = make_submission(tmp_path / "s", [(TLN, "def hello_two_layer_net():", fstring)])
    if sys.version_info >= (3, 12):
        report = grade_with(sub, functions=["nn_forward_pass"], limits=FAST, hidden=False)
        assert _status(report, "nn_forward_pass") == {"passed"}
    else:
        text = (sub / "a2" / "two_layer_net.py").read_text()
        line = text[:text.index('return f"value: {')].count("\n") + 1
        with pytest.raises(NeedsNewerPython, match=rf"two_layer_net\.py could not be loaded.*line {line}\b.*"
                                                   r"Python 3\.12 or newer"):
            grade_with(sub, functions=["nn_forward_pass"], limits=FAST, hidden=False)


def test_endless_loop_times_out_and_later_cases_still_run(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [(LC, "    dW = torch.zeros_like(W)  # (D, C)\n    num_classes",
                                            "    while True:\n        pass\n    dW = torch.zeros_like(W)  # (D, C)\n    num_classes")])
    start = time.monotonic()
    report = grade_with(sub, functions=["svm_loss_naive", "svm_loss_vectorized"], limits=FAST, hidden=False)
    assert "timed out after 3 s" in _messages(report, "svm_loss_naive")
    assert _status(report, "svm_loss_vectorized") == {"passed"}
    assert time.monotonic() - start < 3 * 4 + 10  # each hanging case costs its limit, no more


def test_endless_loop_at_import_costs_one_load_limit_for_the_whole_file(tmp_path, grade_with):
    """Loading is the same for every case: a hanging import is waited for once, not per case."""
    sub = make_submission(tmp_path / "s", [(TLN, "def hello_two_layer_net():", "while True:\n    pass\n\n\ndef hello_two_layer_net():")])
    start = time.monotonic()
    limits = Limits(timeout=3.0, memory_gib=1.0, load_timeout=2.0)
    report = grade_with(sub, functions=["nn_forward_pass", "nn_predict", "svm_loss_naive"], limits=limits, hidden=False)
    cases = [r for r in report.results]
    assert len(cases) > 5 and report.score == 0
    assert all("loading the submission took longer than 2 s" in r.message for r in cases), report.summary()
    assert time.monotonic() - start < 2 + 8


def test_workers_use_several_threads_without_hanging(tmp_path, grade_with):
    """The zygote never starts an OpenMP pool (it would not survive fork), so a worker's
    multi-threaded torch calls run."""
    big = ("    A = torch.randn(700, 700, dtype=X.dtype, device=X.device)\n    _ = (A @ A).sum() + A.exp().sum()\n"
           "    y_pred = X.mm(W).argmax(dim=1)")
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)", big)])
    report = grade_with(sub, functions=["predict_linear_classifier"], limits=Limits(timeout=5.0, threads=2), hidden=True)
    assert report.score == report.max_score, report.summary()


@pytest.mark.parametrize("blowup", [
    "torch.ones(2 ** 33)",  # 32 GiB in one tensor
    "[bytearray(10 ** 8) for _ in range(400)]",  # 40 GB in Python objects
])
def test_memory_blowup_fails_its_case_only(tmp_path, grade_with, blowup):
    sub = make_submission(tmp_path / "s", [(LC, "    N = X.shape[0]\n    rows = torch.arange(N, device=X.device)\n    # (N, C) scores",
                                            f"    _ = {blowup}\n    N = X.shape[0]\n    rows = torch.arange(N, device=X.device)\n    # (N, C) scores")])
    report = grade_with(sub, functions=["svm_loss_vectorized", "softmax_loss_vectorized"], limits=FAST, hidden=False)
    text = _messages(report, "svm_loss_vectorized")
    assert _status(report, "svm_loss_vectorized") == {"failed"}
    assert "MemoryError" in text or "can't allocate memory" in text or "died" in text, text
    assert _status(report, "softmax_loss_vectorized") == {"passed"}


def test_os_exit_and_segfault_cost_only_their_case(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [
        (TLN, "    y_pred = loss_func(params, X).argmax(dim=1)", "    import os\n    os._exit(7)"),
        (LC, "    y_pred = X.mm(W).argmax(dim=1)", "    import ctypes\n    ctypes.string_at(0)\n    y_pred = None"),
    ])
    report = grade_with(sub, functions=["nn_predict", "predict_linear_classifier", "nn_train"], limits=FAST, hidden=False)
    assert "exited with status 7" in _messages(report, "nn_predict")
    assert "SIGSEGV" in _messages(report, "predict_linear_classifier")
    assert _status(report, "nn_train") == {"passed"}


def test_patching_torch_in_the_student_process_gains_nothing(tmp_path, grade_with):
    patch = ("import torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
             "torch.testing.assert_close = lambda *a, **k: None\nimport grader.student_side.wire\n"
             "grader.student_side.wire.MAX_DEPTH = -1\n\n\ndef hello_linear_classifier():")
    sub = make_submission(tmp_path / "s", [(LC, "def hello_linear_classifier():", patch),
                                           (LC, "    dW /= num_train\n", "")])
    report = grade_with(sub, functions=["svm_loss_naive"], limits=FAST, hidden=True)
    assert report.score < report.max_score


def test_flooding_output_does_not_block(tmp_path, grade_with):
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)",
                                            "    import sys\n    for _ in range(2000):\n        sys.stdout.write('x' * 50000)\n"
                                            "    y_pred = X.mm(W).argmax(dim=1)")])
    report = grade_with(sub, functions=["predict_linear_classifier"], limits=Limits(timeout=20), hidden=False)
    assert report.score == report.max_score


def test_leftover_processes_and_threads_are_gone_after_grading(tmp_path, grade_with, monkeypatch):
    # The source reading would fail the case for its subprocesses and threads: set aside here, so
    # that the sandbox is shown to clear them by itself.
    monkeypatch.setenv("A2_SOURCE_RULES", "off")
    marker = f"{300 + os.getpid() % 1000}.{int(time.time()) % 100000}"  # a unique sleep length
    code = (f"    import subprocess, threading\n"
            f"    subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
            f"    subprocess.Popen(['sh', '-c', 'sleep {marker} & exit 0'])\n"
            f"    threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()\n"
            f"    y_pred = X.mm(W).argmax(dim=1)")
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)", code)])
    report = grade_with(sub, functions=["predict_linear_classifier"], limits=FAST, hidden=False)
    assert report.score == report.max_score, report.summary()
    time.sleep(0.3)
    assert processes_with(f"sleep\x00{marker}") == []


def test_killing_the_zygote_is_survived(tmp_path):
    from grader.runner import grade

    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)",
                                            "    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                                            "    y_pred = X.mm(W).argmax(dim=1)")])
    report = grade(sub, functions=["predict_linear_classifier", "nn_predict"], limits=FAST)
    assert _status(report, "nn_predict") == {"passed"}


def test_a_returned_object_with_a_malicious_reduce_is_only_described(tmp_path, grade_with):
    marker = tmp_path / "pwned"
    code = (f"    class Evil:\n        def __reduce__(self):\n"
            f"            return (open, ({str(marker)!r}, 'w'))\n    return Evil()")
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)\n    # END SOLUTION\n    return y_pred",
                                            "    y_pred = X.mm(W).argmax(dim=1)\n    # END SOLUTION\n" + code)])
    report = grade_with(sub, functions=["predict_linear_classifier"], limits=FAST, hidden=False)
    assert "Evil" in _messages(report, "predict_linear_classifier")
    assert not marker.exists()


def _confined(zygote):
    zygote.wait_ready()
    return os.geteuid() == 0 and zygote.namespaced


def test_writing_into_the_repository_is_refused(tmp_path, grade_with, zygote):
    if not _confined(zygote):
        pytest.skip("mount and PID namespaces need root")
    from submissions import REPO

    target = REPO / "grader" / f"written_by_student_{os.getpid()}.py"
    code = (f"    try:\n        open({str(target)!r}, 'w').write('x')\n    except OSError:\n        pass\n"
            f"    y_pred = X.mm(W).argmax(dim=1)")
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)", code)])
    try:
        report = grade_with(sub, functions=["predict_linear_classifier"], limits=FAST, hidden=False)
        assert not target.exists()
        assert report.score == report.max_score
    finally:
        target.unlink(missing_ok=True)


def test_a_submission_cannot_signal_the_grader_even_knowing_its_pid(tmp_path, grade_with, zygote):
    if not _confined(zygote):
        pytest.skip("PID namespaces need root")
    import signal

    code = (f"    import os\n    try:\n        os.kill({os.getpid()}, {int(signal.SIGTERM)})\n    except OSError:\n        pass\n"
            f"    y_pred = X.mm(W).argmax(dim=1)")
    sub = make_submission(tmp_path / "s", [(LC, "    y_pred = X.mm(W).argmax(dim=1)", code)])
    received = []
    previous = signal.signal(signal.SIGTERM, lambda *a: received.append(True))
    try:
        report = grade_with(sub, functions=["predict_linear_classifier"], limits=FAST, hidden=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not received
    assert report.score == report.max_score


@pytest.mark.slow
def test_an_endless_loop_costs_one_time_limit_with_default_limits(tmp_path):
    """A hang in nn_forward_pass is waited for once: the cases that would run it again are not
    run, and the rest of the submission (and the next submission) is graded as usual."""
    from grader.instructor.batch import run_batch

    subs = tmp_path / "subs"
    make_submission(subs / "looping", [(TLN, "    # BEGIN SOLUTION: compute hidden (after ReLU) and scores\n",
                                        "    # BEGIN SOLUTION: compute hidden (after ReLU) and scores\n"
                                        "    while True:\n        pass\n")])
    make_submission(subs / "good")
    start = time.monotonic()
    run_batch(subs, tmp_path / "out", jobs=1, hidden=True, progress_stream=open(os.devnull, "w"))
    assert time.monotonic() - start < 120
    import json

    looping = json.loads((tmp_path / "out" / "results" / "looping.json").read_text())
    good = json.loads((tmp_path / "out" / "results" / "good.json").read_text())
    assert good["score"] == good["extra_data"]["max_score"] == 85
    outputs = {t["name"]: t["output"] for t in looping["tests"]}
    assert "timed out after 30 s" in outputs["nn_forward_pass: toy data (float64)"]
    assert "(it was in nn_forward_pass, two_layer_net.py line" in outputs["nn_forward_pass: toy data (float64)"]
    skipped = [n for n, o in outputs.items() if o.startswith("not run: nn_forward_pass timed out")]
    # the other forward case, and the numeric checks (they run the student's own forward pass)
    assert len(skipped) == 5 and sum(n.startswith("nn_forward_backward: grads") for n in skipped) == 4
    # the device rule runs nothing: with no call of nn_forward_pass to judge, it says why
    assert outputs["nn_forward_pass: rule: tensors follow the inputs' device"].startswith("not checked: timed out")
    scores = looping["extra_data"]["function_scores"]
    assert scores["nn_train"][0] == 6 and scores["find_best_net"][0] == 5 and scores["svm_loss_naive"][0] == 7
    assert scores["nn_forward_backward"][0] == 15 - 4 * 0.5  # its value cases use the true forward pass


def test_the_time_budget_stops_the_rest_and_keeps_what_was_graded(tmp_path, grade_with):
    hang = "    while True:\n        pass\n"
    sub = make_submission(tmp_path / "s", [
        (LC, "    # BEGIN SOLUTION: compute the SVM loss and dW without any Python loop\n",
         "    # BEGIN SOLUTION: compute the SVM loss and dW without any Python loop\n" + hang),
        (LC, "    # BEGIN SOLUTION: compute the softmax loss and dW without any Python loop\n",
         "    # BEGIN SOLUTION: compute the softmax loss and dW without any Python loop\n" + hang),
    ])
    start = time.monotonic()
    report = grade_with(sub, functions=["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_vectorized",
                                        "predict_linear_classifier"], limits=Limits(timeout=3.0, budget=5.0),
                        hidden=False)
    assert time.monotonic() - start < 5 + 6
    assert _status(report, "svm_loss_naive") == {"passed"}  # graded before the budget ran out
    assert "timed out after 3 s" in _messages(report, "svm_loss_vectorized")
    assert "time budget of 5 s" in _messages(report, "softmax_loss_vectorized")
    assert "not run: the submission used up its time budget of 5 s" in _messages(report, "predict_linear_classifier")
    assert report.score == sum(r.max_points for r in report.results if r.check == "svm_loss_naive")


def test_a_process_named_with_invalid_utf8_stays_in_sight():
    """A process may name itself with any bytes (prctl PR_SET_NAME): the process-tree reading
    that teardown relies on still sees it, and tells whether it is alive."""
    import subprocess

    from grader.student_side.procs import alive, children_map

    child = subprocess.Popen([sys.executable, "-c", "import ctypes, time; "
                              "ctypes.CDLL(None).prctl(15, b'x\\xff\\xfe)y', 0, 0, 0); time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while b"\xff" not in open(f"/proc/{child.pid}/stat", "rb").read() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.pid in children_map().get(os.getpid(), [])
        assert alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not alive(child.pid)


def test_a_worker_notes_the_kit_sources_it_cannot_read_once(tmp_path):
    """What a confined worker tells linecache: a source file it cannot read has no lines (as
    linecache finds anyway, but at every frame of every traceback), and is never looked up
    again; a readable one, or lines linecache keeps, are left as they are."""
    import linecache

    from grader.student_side.zygote import _note_hidden_sources

    readable, gone, cached = tmp_path / "readable.py", tmp_path / "gone.py", tmp_path / "cached.py"
    readable.write_text("x = 1\n")
    cached.write_text("y = 2\n")
    assert linecache.getline(str(cached), 1) == "y = 2\n"
    cached.unlink()  # read before, now out of reach
    try:
        _note_hidden_sources([str(readable), str(gone), str(cached)])
        assert str(readable) not in linecache.cache
        for path in (gone, cached):
            assert linecache.cache[str(path)] == (0, None, [], str(path))
            linecache.checkcache(str(path))
            assert linecache.getline(str(path), 1) == ""
            assert str(path) in linecache.cache  # not dropped: never looked up again
    finally:
        for path in (readable, gone, cached):
            linecache.cache.pop(str(path), None)


def test_a_batchs_threads_asking_for_the_work_folder_at_once_share_one(tmp_path, monkeypatch):
    """A batch's threads ask for the grading folder together: one folder is made and locked, the
    others wait for it (two made at once renamed one lock file twice, and one submission of a
    200-submission batch ended in an internal error)."""
    import tempfile
    import threading

    from grader import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sandbox, "_WORK_ROOT", None)
    monkeypatch.setattr(sandbox, "_WORK_LOCK", None)
    made = tempfile.mkdtemp

    def slow_mkdtemp(*args, **kwargs):
        folder = made(*args, **kwargs)
        time.sleep(0.05)  # widens the window in which a second thread would make its own
        return folder

    monkeypatch.setattr(tempfile, "mkdtemp", slow_mkdtemp)
    start, got, errors = threading.Barrier(6), [], []

    def ask():
        start.wait()
        try:
            got.append(sandbox.work_root())
        except Exception as exc:  # noqa: BLE001 - what the test is about
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(set(got)) == 1, (errors, got)
        assert [p.name for p in tmp_path.iterdir()] == [got[0].name]
        assert (got[0] / ".lock").exists() and not (got[0] / ".lock-new").exists()
    finally:
        if sandbox._WORK_LOCK is not None:
            os.close(sandbox._WORK_LOCK)


def test_an_a3_method_that_hangs_costs_that_method_and_what_runs_it_only(tmp_path, grade_with):
    """An endless loop in Linear.forward (a method, not a top-level function): its cases time
    out or are skipped naming Linear.forward, and so are the cases that run it (Linear.backward's
    checks against its own forward); the class's other users graded with stand-ins
    (Linear_ReLU, TwoLayerNet.loss) and the constructors, which never run it, keep every point."""
    from a3_course_corpus import course_submission

    sub = course_submission(tmp_path, "w22_reshape_at_clamp", [
        ("Linear.forward", "x_rows = x.reshape(x.shape[0], -1)",
         "while True:\n            pass\n        x_rows = x.reshape(x.shape[0], -1)")])
    start = time.monotonic()
    report = grade_with(sub, functions=["Linear.forward", "Linear.backward", "Linear_ReLU", "TwoLayerNet.__init__",
                                        "TwoLayerNet.loss", "FullyConnectedNet.__init__"],
                        limits=Limits(timeout=3.0, budget=30.0), hidden=False)
    assert time.monotonic() - start < 30 + 6
    forward = [r for r in report.results if r.check == "Linear.forward"]
    assert "timed out after 3 s" in forward[0].message and "it was in Linear.forward" in forward[0].message
    assert all(r.status != "passed" for r in forward)
    assert all("Linear.forward timed out" in r.message or "timed out after 3 s" in r.message for r in forward)
    assert all(r.status != "passed" for r in report.results if r.check == "Linear.backward")
    for graded in ("Linear_ReLU", "TwoLayerNet.__init__", "TwoLayerNet.loss", "FullyConnectedNet.__init__"):
        assert _status(report, graded) == {"passed"}, (graded, _messages(report, graded))
