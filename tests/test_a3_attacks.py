"""Assignment 3's grading attacked as a hostile student would (tests/a3_attacks.py).

Points without the work: one batch, with hidden cases, grades every attack of ``ATTACKS`` (kit
layout), the solution and two correct submissions of the course corpus (course layout); each
attack keeps at most its ceiling on the functions it attacks, and correct code keeps every point.

The student process escaping: every attack of ``ESCAPES`` (course layout) is graded by the
sandbox alone (the grader's reading of the source set aside, as in tests/test_attacks.py) with
every confinement layer, and with each layer switched off by ``--without``: none reports a leak,
none writes outside its scratch folder, and the batch grades every entry.
"""
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import a3_attacks
from a3_attacks import ATTACKS, ESCAPES
from a3_course_corpus import course_submission

REPO = Path(__file__).resolve().parents[1]
CORPUS_STYLES = ("f20_first_middle_last_inplace_opt", "w22_while_pop_train_only")


def _batch(subs: Path, out: Path, *extra, env=None, timeout=900):
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--hidden",
                           "--jobs", "2", "--assignment", "a3", *extra], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def _scores(out: Path, entry: str):
    """({function: points}, {function: [messages of the cases short of full points]})."""
    data = json.loads((out / "results" / f"{entry}.json").read_text())
    points, messages = collections.defaultdict(float), collections.defaultdict(list)
    for test in data["tests"]:
        function = test["tags"][0]
        points[function] += test["score"]
        if test["score"] < test["max_score"]:
            messages[function].append(f"{test['name']}: {test['output'][:300]}")
    return points, messages


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("a3_attacks")
    subs = root / "subs"
    for name in ATTACKS:
        a3_attacks.materialize(subs, name)
    solution = subs / "zz_solution" / "a3"
    solution.mkdir(parents=True)
    (solution / "fully_connected_networks.py").write_text(a3_attacks.SOLUTION.read_text())
    for style in CORPUS_STYLES:
        course_submission(subs, style)
    return _batch(subs, root / "out")


def test_correct_submissions_keep_every_point(graded):
    right, _ = _scores(graded, "zz_solution")
    assert sum(right.values()) > 100
    for style in CORPUS_STYLES:
        got, messages = _scores(graded, style)
        assert dict(got) == dict(right), {f: messages[f] for f in right if got[f] < right[f]}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_keeps_no_more_than_its_honest_part(graded, attack):
    got, messages = _scores(graded, attack)
    right, _ = _scores(graded, "zz_solution")
    for function, ceiling in ATTACKS[attack].ceiling.items():
        assert got[function] <= ceiling + 1e-9, (function, got[function], right[function], messages[function])
    # what an attack cannot have is named: the function's messages say why its points went
    for function, ceiling in ATTACKS[attack].ceiling.items():
        if ceiling < right[function]:
            assert messages[function], function


@pytest.mark.parametrize("attack,words", [
    ("finite_differences_linear", "measures it by finite differences"),
    ("finite_differences_relu", "ReLU.forward called"),
    ("outside_linear", "outside torch"),
    ("outside_relu", "outside torch"),
    ("autograd_grad_relu", "autograd"),
    ("nn_cross_entropy", "torch.nn"),
    ("dropout_reseeds", "two calls without a seed"),
    ("solver_subclass", "a subclass of Solver"),
    ("table_linear_backward", "right only on the published inputs"),
])
def test_the_message_names_what_was_done(graded, attack, words):
    _, messages = _scores(graded, attack)
    function = next(iter(ATTACKS[attack].ceiling))
    assert any(words in m for m in messages[function]), messages[function][:3]


# ------------------------------------------------------------------ the student process escaping

SANDBOX_ALONE = {"A2_SOURCE_RULES": "off"}


@pytest.fixture(scope="module")
def escape_subs(tmp_path_factory):
    subs = tmp_path_factory.mktemp("a3_escapes") / "subs"
    for name in ESCAPES:
        a3_attacks.materialize_escape(subs, name)
    return subs


def _files_named(root: Path, name: str):
    return [p for p in root.rglob(name)]


@pytest.mark.parametrize("without", [None, "namespaces", "landlock", "seccomp"])
def test_escapes_get_nothing_in_every_mode(escape_subs, tmp_path, without):
    out = _batch(escape_subs, tmp_path / "out", "--timeout", "8",
                 *(["--without", without] if without else []), env=SANDBOX_ALONE)
    texts = {p.stem: p.read_text() for p in (out / "results").glob("*.json")}
    assert set(texts) == {f"escape_{n}" for n in ESCAPES}  # every entry graded, none stopped the batch
    leaks = {name: text[text.index("A3LEAK"):][:300] for name, text in texts.items() if "A3LEAK" in text}
    assert not leaks
    # the attempts ran and were refused (their reports reached the messages)
    for name in ("read_solution", "import_instructor", "read_fixtures", "network", "write_outside"):
        assert f"A3ATTACK {name} got nothing" in texts[f"escape_{name}"], name
    assert not _files_named(REPO, "a3attack_probe.txt") and not _files_named(escape_subs, "a3attack_probe.txt")
    # the attacks cost Linear.forward, which they replace, and leave the update rules and Dropout whole
    for name in ESCAPES:
        points, _ = _scores(out, f"escape_{name}")
        assert points["Linear.forward"] == 0
        assert points["adam"] == 11 and points["Dropout.forward"] == 9.5, name

