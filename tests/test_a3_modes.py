"""Assignment 3 graded in the other ways the grader runs (tests/test_attacks.py's modes for A2):
as an unprivileged user with user namespaces, as an unprivileged user where namespaces are
refused (Docker's default profile), and as root in such a container. In each, the kit's own
solution (course layout) keeps every public point, and the A3 escapes (reading the solution or
the fixtures, walking the disk, importing the instructor side, writing outside scratch) get
nothing and stop nothing."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import a3_attacks
import unprivileged as up
from test_attacks import MODES, world_python  # noqa: F401 - the fixture, shared

REPO = Path(__file__).resolve().parents[1]
ESCAPES = ("read_solution", "walk_for_solution", "import_instructor", "read_fixtures", "write_outside")
OTHER_MODES = ("nobody_userns", "nobody_docker", "root_docker_caps")


def _points(out: Path, entry: str):
    data = json.loads((out / "results" / f"{entry}.json").read_text())
    return sum(t["score"] for t in data["tests"]), sum(t["max_score"] for t in data["tests"]), data


@pytest.mark.parametrize("name", OTHER_MODES)
def test_a3_in_every_way_the_grader_runs(name, request):
    mode = MODES[name]
    if mode.why_not:
        pytest.skip(f"{name}: {mode.why_not}")
    python = mode.python or request.getfixturevalue("world_python")
    prefix = mode.prefix + (up.docker_like(python) if mode.docker else [])
    base = up.world_tmpdir(f"a3-modes-{name}-")
    try:
        subs, out, home, temp = base / "subs", base / "out", base / "home", base / "tmp"
        for name_ in ESCAPES:
            a3_attacks.materialize_escape(subs, name_)
        solution = subs / "zz_solution"
        solution.mkdir()
        text = a3_attacks.SOLUTION.read_text().replace("from helpers.losses import softmax_loss", "from a3_helper import "
                                                      "softmax_loss").replace("from helpers.solver import Solver",
                                                                              "from eecs598 import Solver")
        (solution / "fully_connected_networks.py").write_text(text)
        for folder in (out, home, temp):
            folder.mkdir()
            os.chown(folder, mode.user, mode.user)
        for path in [subs] + list(subs.rglob("*")):
            path.chmod(0o777 if path.is_dir() else 0o666)
        env = {**os.environ, "HOME": str(home), "TMPDIR": str(temp), "A2_SOURCE_RULES": "off"}
        env.pop("A2_SANDBOX_WITHOUT", None)
        done = subprocess.run(prefix + [python, "-m", "grader", "batch", str(subs), "--out", str(out), "--assignment",
                                        "a3", "--jobs", "2", "--timeout", "8"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        got, most, _ = _points(out, "zz_solution")
        assert got == most and most >= 90, f"{name}: the solution got {got} of {most}"  # CIFAR-10 cases aside
        for escape in ESCAPES:
            _, _, data = _points(out, f"escape_{escape}")
            text = json.dumps(data)
            assert "A3LEAK" not in text, f"{name}: {escape}: {text[text.index('A3LEAK'):][:300]}"
        for escape in ("read_solution", "import_instructor", "read_fixtures", "write_outside"):
            _, _, data = _points(out, f"escape_{escape}")
            assert f"A3ATTACK {escape} got nothing" in json.dumps(data), f"{name}: {escape} did not run to the end"
        sandbox = json.loads((out / "sandbox.json").read_text())
        assert sandbox["namespaces"] == mode.namespaces, sandbox
    finally:
        shutil.rmtree(base, ignore_errors=True)
