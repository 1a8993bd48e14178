"""Hostile submissions, as edits to the solution: each breaks one function in a way that must
cost only its own cases. Materialize one with submissions.make_submission(root, edits)."""
from submissions import LC, TLN

PREDICT = "    y_pred = X.mm(W).argmax(dim=1)"


def _in_predict(code: str):
    return [(LC, PREDICT, code + "\n" + PREDICT)]


# The ones that break their own function (the others must simply do no harm).
BREAKS_ITSELF = {"segfault", "endless_loop", "ignores_sigterm", "memory_blowup", "os_exit", "exit_at_import"}

HOSTILE = {
    "segfault": _in_predict("    import ctypes\n    ctypes.string_at(0)"),
    "endless_loop": _in_predict("    while True:\n        pass"),
    "ignores_sigterm": _in_predict("    import signal, time\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                   "    while True:\n        time.sleep(1)"),
    "memory_blowup": _in_predict("    hog = [bytearray(10 ** 8) for _ in range(1000)]"),
    "os_exit": _in_predict("    import os\n    os._exit(0)"),
    "kills_parent": _in_predict("    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)"),
    "output_flood": _in_predict("    import sys\n    for _ in range(400):\n        sys.stdout.write('spam' * 100000)"),
    "leaves_processes": _in_predict("    import subprocess, threading\n"
                                    "    for _ in range(20):\n        subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
                                    "    threading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()"),
    "writes_everywhere": _in_predict("    import glob\n"
                                     "    for pattern in ('/tmp/pytest-of-*/*/*/*/*.json', '/tmp/pytest-of-*/*/*/*/*/*.py',\n"
                                     "                    '/tmp/pytest-of-*/*/*/*/*.csv', '/tmp/a2-grading-*/*/*.py'):\n"
                                     "        for path in glob.glob(pattern)[:500]:\n"
                                     "            try:\n                open(path, 'a').write('# tampered')\n"
                                     "            except OSError:\n                pass"),
    "exit_at_import": [(TLN, "def hello_two_layer_net():", "raise SystemExit(1)\n\n\ndef hello_two_layer_net():")],
}
