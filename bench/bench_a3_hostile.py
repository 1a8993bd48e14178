"""A3 submissions that misbehave in one graded function each, graded end to end by
``python -m grader check SUB --hidden --assignment a3`` with the CLI's default limits (or those
given): each must be graded within the submission's time budget (plus the interpreter's start
and the report), lose only the function it breaks (and what its calls reach), and say so.

Each submission is a correct corpus style (``tests/a3_course_corpus.py``) with one edit: an
endless loop in ``Linear.forward``, in ``FullyConnectedNet.loss`` and in ``adam``; a sleep in
``TwoLayerNet.__init__``; a huge allocation in ``Linear.backward``; a fork storm in
``Dropout.forward``; a thread storm in ``rmsprop``.

Usage: python bench/bench_a3_hostile.py [NAME ...] [-- CHECK OPTIONS]   (e.g. -- --budget 20)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from a3_course_corpus import course_submission  # noqa: E402

STYLE = "w22_reshape_at_clamp"
LOOP = "while True:\n            pass\n        "
HOSTILE = {
    "loop in Linear.forward": ("Linear.forward", [("Linear.forward", "x_rows = x.reshape(x.shape[0], -1)",
                                                   "while True:\n            pass\n        x_rows = x.reshape(x.shape[0], -1)")]),
    "loop in FullyConnectedNet.loss": ("FullyConnectedNet.loss", [("FullyConnectedNet.loss", "        caches = []\n",
                                                                   "        while True:\n            pass\n        caches = []\n")]),
    "loop in adam": ("adam", [("adam", "    config['t'] += 1\n", "    while True:\n        pass\n    config['t'] += 1\n")]),
    "sleep in TwoLayerNet.__init__": ("TwoLayerNet.__init__", [("TwoLayerNet.__init__", "        self.params['W1'] =",
                                                                 "        import time\n        time.sleep(3600)\n        self.params['W1'] =")]),
    "huge allocation in Linear.backward": ("Linear.backward", [("Linear.backward", "db = dout.sum(0)",
                                                                "hog = [torch.ones(1 << 28) for _ in range(400)]\n        db = dout.sum(0)")]),
    "fork storm in Dropout.forward": ("Dropout.forward", [("Dropout.forward", "            out = x * mask\n",
                                                           "            import os\n            while True:\n"
                                                           "                try:\n                    os.fork()\n"
                                                           "                except OSError:\n                    pass\n"
                                                           "            out = x * mask\n")]),
    "thread storm in rmsprop": ("rmsprop", [("rmsprop", "    next_w = None\n",
                                             "    import threading\n    while True:\n        try:\n"
                                             "            threading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()\n"
                                             "        except RuntimeError:\n            pass\n    next_w = None\n")]),
}


def grade(name, options, tmp: Path):
    function, edits = HOSTILE[name]
    folder = course_submission(tmp / name.replace(" ", "_").replace(".", "_"), STYLE, edits)
    out = tmp / (folder.parent.name + ".json")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(folder), "--hidden", "--assignment", "a3",
                           "--json", str(out), *options], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    tests = json.loads(out.read_text())["tests"] if out.exists() else []
    broken = [t for t in tests if t.get("score", 0) < t.get("max_score", 0)]
    return wall, done.returncode, function, broken, done.stdout


def main(argv):
    names, options = argv, []
    if "--" in argv:
        names, options = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    names = names or list(HOSTILE)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; check options: {' '.join(options) or '(defaults)'}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            wall, code, function, broken, stdout = grade(name, options, Path(tmp))
            lost = sorted({t["name"].split(":")[0] for t in broken})
            graded = next((l.strip() for l in stdout.splitlines() if l.startswith("Graded in")), "")
            print(f"{name:<38} {wall:6.1f} s end to end ({graded or 'no timing printed'})  exit {code}  "
                  f"lost points in: {', '.join(lost) or 'nothing'}")
            for t in broken:
                print(f"    {t['name']}: {t.get('output', '').splitlines()[0] if t.get('output') else ''}"[:220])


if __name__ == "__main__":
    main(sys.argv[1:])
