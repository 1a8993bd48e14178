"""The registry of assignments: each is found by name, and recognised from the files handed in."""
import pytest

from grader.assignment import REGISTRY, AssignmentError, get, matching, recognise
from grader.paths import ROOT


def _write(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("# student code\n")


def test_a2_is_registered_with_its_files_and_functions():
    a2 = get("a2")
    assert REGISTRY["a2"] is a2
    assert a2.code_files == ("linear_classifier.py", "two_layer_net.py")
    assert a2.modules == ("linear_classifier", "two_layer_net")
    assert list(a2.functions)[0] == "svm_loss_naive" and "TwoLayerNet" in a2.functions
    assert a2.package == "grader.assignments.a2"


def test_unknown_name_is_a_clear_error_naming_the_known_ones():
    with pytest.raises(AssignmentError, match=r"unknown assignment 'a9'.*a2"):
        get("a9")


def test_this_repository_holds_both_assignments():
    """a2/ and a3/ both hold their files here: recognising one needs --assignment."""
    assert [a.name for a in matching(ROOT)] == ["a2", "a3"]
    with pytest.raises(AssignmentError, match=r"several assignments \(a2, a3\)"):
        recognise(ROOT)


def test_kit_and_course_layouts_are_both_recognised(tmp_path):
    _write(tmp_path / "kit" / "a2", get("a2").code_files)
    _write(tmp_path / "course", get("a2").code_files)
    _write(tmp_path / "zip" / "janedoe", get("a2").code_files)  # one level down, as a zip's top folder
    for name in ("kit", "course", "zip"):
        assert recognise(tmp_path / name) is get("a2")


def test_a_folder_with_no_assignment_says_what_was_looked_for(tmp_path):
    _write(tmp_path, ["linear_classifier.py"])  # one file of two
    with pytest.raises(AssignmentError, match=r"no assignment.*linear_classifier.py and two_layer_net.py"):
        recognise(tmp_path, "sub")


# ------------------------------------------------------------------ several assignments

def _with_second_assignment(monkeypatch):
    """The registry as it reads once a second assignment is added: a2 and a made-up a9 whose
    one file is ``fake_net.py`` (no unit of its own: only recognition and batch folders use it)."""
    import grader.assignment as registry

    a2 = get("a2")
    a9 = registry.Assignment(name="a9", title="Assignment 9", student_dir="a9", code_files=("fake_net.py",),
                             functions={"FakeNet": "fake_net"}, package=a2.package)
    monkeypatch.setattr(registry, "_registry", lambda: {"a2": a2, "a9": a9})
    return a2, a9


def test_each_assignment_is_recognised_and_a_folder_of_both_is_refused(tmp_path, monkeypatch):
    a2, a9 = _with_second_assignment(monkeypatch)
    _write(tmp_path / "kit" / "a9", a9.code_files)
    _write(tmp_path / "course", a9.code_files)
    assert recognise(tmp_path / "kit") is a9 and recognise(tmp_path / "course") is a9
    _write(tmp_path / "both" / "a2", a2.code_files)
    _write(tmp_path / "both" / "a9", a9.code_files)
    with pytest.raises(AssignmentError, match=r"several assignments \(a2, a9\).*--assignment"):
        recognise(tmp_path / "both")


def test_a_submission_is_prepared_as_the_assignment_its_files_are_of(tmp_path, monkeypatch):
    from grader.submission import SubmissionError, prepare

    a2, a9 = _with_second_assignment(monkeypatch)
    _write(tmp_path / "course", a9.code_files)
    prepared = prepare(tmp_path / "course")
    try:
        assert prepared.assignment is a9 and [p.name for p in prepared.code_dir.glob("*.py")] == ["fake_net.py"]
    finally:
        prepared.cleanup()
    _write(tmp_path / "neither", ["notes.py"])
    with pytest.raises(SubmissionError, match="no assignment this kit grades.*fake_net.py"):
        prepare(tmp_path / "neither")
    with pytest.raises(SubmissionError, match=r"no fake_net.py in .*\./a9/"):
        prepare(tmp_path / "neither", assignment="a9")


def test_a_batch_folder_mixing_assignments_is_refused_naming_the_entries_of_each(tmp_path, monkeypatch):
    import zipfile

    from grader.instructor.batch import run_batch
    from grader.instructor.entries import batch_assignment
    from grader.instructor.entries import discover
    from grader.submission import SubmissionError

    a2, a9 = _with_second_assignment(monkeypatch)
    subs = tmp_path / "subs"
    _write(subs / "alice" / "a2", a2.code_files)
    _write(subs / "bob", a2.code_files)
    _write(subs / "carol", a9.code_files)
    with zipfile.ZipFile(subs / "dave_A9.zip", "w") as zf:
        zf.writestr("dave/a9/fake_net.py", "# student code\n")
    _write(subs / "erin", ["readme.py"])  # of no assignment: graded, and fails saying what is missing
    entries = discover(subs)
    with pytest.raises(SubmissionError, match=r"several assignments \(a2: alice, bob; a9: carol, dave\)"):
        batch_assignment(subs, entries)
    with pytest.raises(SubmissionError, match="several assignments"):
        run_batch(subs, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before anything is written
    assert batch_assignment(subs, entries, "a9") is a9  # said outright: the others fail one by one
    (subs / "dave_A9.zip").unlink()
    for name in a9.code_files:
        (subs / "carol" / name).unlink()
    assert batch_assignment(subs, discover(subs)) is a2  # carol's folder, empty now, is of none


# ------------------------------------------------------------------ commands

COMMANDS = {
    "check": ["check"], "points": ["points"], "batch": ["batch", "SUBS", "--out", "OUT"],
    "similarity": ["similarity", "SUBS", "--out", "OUT"], "fixtures": ["fixtures", "verify"],
    "gradescope-bundle": ["gradescope-bundle", "ag.zip"], "gradescope-run": ["gradescope-run", "SUB", "res.json"],
    "release": ["release", "OUT"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_the_assignment_and_refuses_an_unknown_one(command, capsys):
    from grader.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(COMMANDS[command] + ["--assignment", "a2"]).assignment == "a2"
    assert parser.parse_args(COMMANDS[command]).assignment is None
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(COMMANDS[command] + ["--assignment", "a9"])
    assert stop.value.code == 2
    assert "unknown assignment 'a9': this kit grades a2" in capsys.readouterr().err


def test_points_of_the_kit_are_each_assignments_points(capsys):
    from grader.cli import main

    assert main(["points"]) == 0
    everything = capsys.readouterr().out
    assert main(["points", "--assignment", "a2"]) == 0
    a2 = capsys.readouterr().out
    assert main(["points", "--assignment", "a3"]) == 0
    a3 = capsys.readouterr().out
    assert "| `nn_forward_backward` |" in a2 and "| `Linear.backward` |" in a3
    assert a2.split("|---", 1)[1].split("\n\n")[0] in everything and a3.split("|---", 1)[1].split("\n\n")[0] in everything


def test_check_of_a2_grades_this_repository_s_solution(capsys):
    from grader.cli import main

    assert main(["check", "--assignment", "a2", "--only", "predict_linear_classifier"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Assignment 2 autograder: this repository's a2/") and "Score: 1.50 / 1.50" in out


# ------------------------------------------------------------------ the engine names no student function

def _engine_files():
    from grader.assignment import UNITS_DIR

    grader_dir = UNITS_DIR.parent
    return [p for p in sorted(grader_dir.rglob("*.py")) if UNITS_DIR not in p.parents]


def _named(path, names, files):
    """Where ``path``'s code (not its docstrings and comments) names one of ``names`` (as an
    identifier, an attribute, a definition or a whole string) or one of ``files`` (in a string)."""
    import ast

    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        word = None
        if isinstance(node, ast.Name):
            word = node.id
        elif isinstance(node, ast.Attribute):
            word = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            word = node.name
        elif isinstance(node, ast.arg):
            word = node.arg
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in names or any(f in node.value for f in files):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
            continue
        if word in names:
            found.append(f"{path.name}:{node.lineno}: {word}")
    return found


def test_the_scan_finds_a_student_function_named_in_code(tmp_path):
    path = tmp_path / "engine.py"
    path.write_text('"""nn_train in a docstring is prose."""\nGRADED = ("nn_train",)\n'
                    'def f(m):\n    return m.nn_predict, open("two_layer_net.py")\n')
    assert _named(path, {"nn_train", "nn_predict"}, {"two_layer_net.py"}) == [
        "engine.py:2: 'nn_train'", "engine.py:4: nn_predict", "engine.py:4: 'two_layer_net.py'"]


def test_the_engine_names_no_student_function_nor_file():
    """Everything under grader/ outside grader/assignments/ serves every assignment: an
    assignment's graded functions, entry points and student files are named in its unit only."""
    names, files = set(), set()
    for unit in REGISTRY.values():
        names |= set(unit.functions) | {n for points in unit.entry_points.values() for n in points}
        names |= set(unit.modules)
        files |= set(unit.code_files)
    found = [hit for path in _engine_files() for hit in _named(path, names, files)]
    assert not found, found
    assert len(_engine_files()) > 40  # the scan reads the engine, not an empty list


def test_the_layers_turned_off_are_written_in_one_place():
    """--without reaches the zygote through one environment variable, written by launch.turn_off
    alone (the early start in __main__ and the parsed command both call it)."""
    import re

    from grader.assignment import UNITS_DIR
    from grader.launch import WITHOUT

    writers = [p.relative_to(UNITS_DIR.parent).as_posix() for p in sorted(UNITS_DIR.parent.rglob("*.py"))
               if re.search(r"environ\[\s*(WITHOUT|[\"']" + WITHOUT + r"[\"'])\s*\]\s*=", p.read_text())]
    assert writers == ["launch.py"]


def _grader_imports():
    """{module of grader: the grader modules it imports, at its top or inside a function}."""
    import ast

    from grader.assignment import UNITS_DIR

    root = UNITS_DIR.parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("grader",) + path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
                found |= {f"{base}.{a.name}" for a in node.names} | {base}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_module_of_the_grader_imports_itself_back():
    """No import circles, lazy imports inside functions included (two modules that need each
    other are one concept, or a third holds what they share)."""
    graph = _grader_imports()
    assert {"grader.runner", "grader.instructor.report"} <= graph["grader.instructor.batch"]  # lazy ones too

    def path_back(start):
        todo, seen = [(start, [start])], set()
        while todo:
            node, path = todo.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, path + [nxt]))
        return None

    circles = [c for c in map(path_back, sorted(graph)) if c]
    assert not circles, circles[:3]


def test_the_student_side_imports_nothing_of_the_instructor_side():
    graph = _grader_imports()
    student = [m for m in graph if ".student_side" in m]
    assert len(student) > 10
    for module in student:
        assert not [m for m in graph[module] if "instructor" in m.split(".")], module


def test_a_handout_leaves_out_every_instructor_side_and_the_units_not_released(monkeypatch):
    from grader.instructor.release import left_out

    a2, a9 = _with_second_assignment(monkeypatch)
    assert left_out([a2, a9]) == ("grader/instructor", "grader/assignments/a2/instructor",
                                  "grader/assignments/a9/instructor")
    assert left_out([a2]) == ("grader/instructor", "grader/assignments/a2/instructor", "grader/assignments/a9")


def test_names_of_functions_say_whose_they_are(monkeypatch):
    from grader.assignment import owning

    a2, a9 = _with_second_assignment(monkeypatch)
    assert owning(["nn_predict", "svm_loss_naive"]) is a2 and owning(["FakeNet"]) is a9
    assert owning(["nn_predict", "FakeNet"]) is None and owning(["nothing"]) is None and owning([]) is None
