"""The Gradescope autograder: a zip with ``setup.sh``, ``run_autograder`` and this kit (with the
solution, for hidden cases), grading ``/autograder/submission`` into
``/autograder/results/results.json``."""
import json
import zipfile
from pathlib import Path

from ..assignment import REGISTRY, resolve
from ..files import write_atomic
from ..paths import ROOT
from ..submission import SubmissionError

PACKAGES = ("helpers", "grader")  # and the assignments' solution folders (see build_bundle)
TOP_FILES = ("pyproject.toml", "README.md")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv libseccomp2
cd /autograder/source
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
# CPU wheels: the autograder has no GPU, and they are a tenth of the size.
/autograder/venv/bin/pip install -q torch torchvision --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q -e .
# CIFAR-10 for the cases that need it (A2's best models, 15 points; A3's searches and best
# models, 7 points): the image is not built without it.
bash /autograder/fetch_data.sh
# Student code runs as this user: it cannot read what harden.sh makes root's alone.
id -u a2student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin a2student
bash /autograder/harden.sh
"""

# Docker refuses namespaces to Gradescope's containers, and an old kernel may lack Landlock:
# then file permissions are what keeps the solution from student code. Everything in source/
# is root's alone, except what a worker imports lazily (the course helpers) and the folders
# on the way to it.
HARDEN_SH = """#!/usr/bin/env bash
# Makes the kit's solution, fixtures and instructor code readable by root only.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
chmod -R go-rwx "$ROOT/source"
chmod go+x "$ROOT/source"
chmod -R go+rX "$ROOT/source/helpers"
"""

# Without CIFAR-10 every submission would be graded out of less than Gradescope's total (A2: 85 of 100):
# a failed download is tried again, and then fails the image build, saying why.
FETCH_DATA_SH = """#!/usr/bin/env bash
# Downloads CIFAR-10 into the image, trying again after a pause; fails the build if it cannot.
# AUTOGRADER_ROOT, PYTHON, A2_FETCH_TRIES and A2_FETCH_PAUSE exist for local testing.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-$ROOT/venv/bin/python}"
TRIES="${A2_FETCH_TRIES:-5}"
PAUSE="${A2_FETCH_PAUSE:-20}"
cd "$ROOT/source" || exit 1
for try in $(seq 1 "$TRIES"); do
    if "$PYTHON" -m helpers.data cifar10 --root "$ROOT/data"; then
        exit 0
    fi
    if [ "$try" -lt "$TRIES" ]; then
        echo "CIFAR-10 download failed (try $try of $TRIES); trying again in $((PAUSE * try)) s" >&2
        sleep $((PAUSE * try))
    fi
done
echo "error: CIFAR-10 could not be downloaded in $TRIES tries, so the autograder image is not built:" >&2
echo "without it the cases that need CIFAR-10 would be left out of every score. Rebuild the" >&2
echo "autograder on Gradescope once the download works again." >&2
exit 1
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and PYTHON exist for local testing.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-$ROOT/venv/bin/python}}"
export A2_WORKER_USER="${{A2_WORKER_USER:-a2student}}"
mkdir -p "$ROOT/results"
cd "$ROOT/source" || exit 1
exec "$PYTHON" -m grader gradescope-run "$ROOT/submission" "$ROOT/results/results.json" \\
    --feedback-hidden {level} --data-dir "$ROOT/data"{assignment}
"""


def build_bundle(output: Path, feedback_hidden: str = "status", assignment=None) -> Path:
    """Write the autograder zip for ``assignment`` (None: every assignment, each submission's
    recognised from its files); the kit inside keeps the solution (the autograder is private)."""
    units = [resolve(assignment)] if assignment is not None else list(REGISTRY.values())
    option = f" \\\n    --assignment {units[0].name}" if assignment is not None else ""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        scripts = (("setup.sh", SETUP_SH), ("harden.sh", HARDEN_SH), ("fetch_data.sh", FETCH_DATA_SH),
                   ("run_autograder", RUN_AUTOGRADER.format(level=feedback_hidden, assignment=option)))
        for name, text in scripts:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            zf.writestr(info, text)
        for name in TOP_FILES:
            zf.write(ROOT / name, f"source/{name}")
        for package in tuple(dict.fromkeys(u.student_dir for u in units)) + PACKAGES:
            for path in sorted((ROOT / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    zf.write(path, f"source/{path.relative_to(ROOT)}")
    tmp.replace(output)
    return output


def run_autograder(submission: Path, results: Path, feedback_hidden: str = "status", data_dir=None,
                   limits=None, assignment=None) -> dict:
    """Grade ``submission`` with hidden cases into ``results``; always writes a results.json."""
    import sys

    from ..protection import warning
    from ..runner import NeedsNewerPython, grade
    from ..sandbox import ZygoteHolder

    zygotes = ZygoteHolder()
    try:
        line = warning(zygotes.layers())
        if line:
            print(line, file=sys.stderr)
        report = grade(submission, hidden=True, data_dir=data_dir, limits=limits, zygote=zygotes, assignment=assignment)
        result = report.to_gradescope(hidden_level=feedback_hidden)
    except SubmissionError as exc:
        result = {"score": 0.0, "execution_time": 0.0, "tests": [],
                  "output": f"Your submission could not be graded: {exc}"}
    except NeedsNewerPython as exc:
        result = {"score": 0.0, "execution_time": 0.0, "tests": [],
                  "output": f"Your submission could not be graded by this autograder: {exc}. Please tell the "
                            "course staff, or write that line so that older Pythons accept it too."}
    except Exception as exc:  # noqa: BLE001 - Gradescope must always get a results.json
        result = {"score": 0.0, "execution_time": 0.0, "tests": [],
                  "output": f"The autograder failed ({type(exc).__name__}: {exc}); please tell the course staff."}
    finally:
        zygotes.close()
    write_atomic(results, json.dumps(result, indent=1))
    return result
