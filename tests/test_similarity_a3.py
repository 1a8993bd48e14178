"""The similarity check for Assignment 3, function by function and method by method
(``Linear.forward``, ``FullyConnectedNet.loss``, ``adam``, ...), on the course-layout corpus of
``tests/a3_course_corpus.py``:

- styles that share no TODO body score low with each other;
- a copy with renamed variables and rewritten comments scores near 100 %, and so does a copy
  whose method runs its body from a helper method (``self._run``) or a module helper;
- a copy of one method only names that method as shared;
- the given code of both terms (and the kit's own stub) never counts: untouched templates share
  nothing; the course's given code as the grader writes it is the corpus's, line for line;
- ``batch --similarity`` on an A3 folder.
"""
import ast
import csv
import io
import itertools
import re
import textwrap

import pytest

import a3_course_corpus as corpus
from grader.instructor.similarity import MIN_TOKENS, SimilarityError, run_similarity, scope_of
from grader.instructor.similarity.live import Reader, read_module
from grader.instructor.stubs import make_stub
from grader.paths import ROOT

pytest.importorskip("copydetect")

FILE = corpus.FILE
SCOPE = scope_of(assignment="a3")
METHODS = ("Linear.forward", "Linear.backward", "ReLU.forward", "ReLU.backward", "TwoLayerNet.__init__",
           "TwoLayerNet.loss", "FullyConnectedNet.__init__", "FullyConnectedNet.loss", "Dropout.forward",
           "Dropout.backward")
FUNCTIONS = ("create_solver_instance", "get_three_layer_network_params", "get_five_layer_network_params",
             "sgd_momentum", "rmsprop", "adam")
# What A writes that is long enough to fingerprint (its one-line ReLU and search values are not).
LONG = {"Linear.backward", "TwoLayerNet.__init__", "TwoLayerNet.loss", "FullyConnectedNet.__init__",
        "FullyConnectedNet.loss", "Dropout.forward", "create_solver_instance", "rmsprop", "adam"}
A, B = "w22_reshape_at_clamp", "w22_flatten_clamp_min_tuple_caches"  # no TODO body in common but one

# The course's template leaves these starting values in the two search functions' TODO regions.
GIVEN_BODIES = {"three_layer": "weight_scale = 1e-2\nlearning_rate = 1e-4\npass",
                "five_layer": "learning_rate = 2e-3\nweight_scale = 1e-5\npass"}

SOLVER_LINE = "solver = Solver(model, data_dict, update_rule=sgd, device=device)"

# Local names a copier renames (never a method, an attribute or a key).
RENAMES = {"out": "result", "cache": "memo", "caches": "memos", "mask": "keep", "scores": "logits",
           "dout": "upstream", "dx": "d_in", "dw": "d_weight", "db": "d_bias", "next_w": "w_new", "v": "vel",
           "dims": "sizes", "N": "n_rows", "solver": "trainer", "model": "net", "h": "hid", "i": "k"}
COMMENT = re.compile(r"(?m)^(?P<indent>[ \t]*)#(?P<text>.*)$")


def disguise(source):
    """What a copier does: rename local variables, rewrite every comment, add comment lines."""
    for old, new in RENAMES.items():
        source = re.sub(rf"(?<![.\w\"']){re.escape(old)}\b(?![\"'(])", new, source)
    source = COMMENT.sub(lambda m: f"{m['indent']}# my own notes, line {len(m['text'])}", source)
    source = re.sub(r"(?m)^(?P<indent>[ \t]+)return ", lambda m: f"{m['indent']}# done\n{m[0]}", source)
    ast.parse(source)
    return source


def blank_template(term, bodies=None):
    """The course's template of ``term`` ("f20" or "w22") handed in with nothing filled in (but
    ``bodies``: region -> body)."""
    style = next(s for s in corpus.STYLE_LIST if s.term == term and not s.imports and not s.given_edits)
    style = corpus.Style("blank", term, "nothing filled in", style.choices)
    real = corpus._body
    filled = {**GIVEN_BODIES, **(bodies or {})}
    corpus._body = lambda region, variant: filled.get(region, "pass")
    try:
        return corpus.render_file(style)
    finally:
        corpus._body = real


def method_text(source, name):
    start, end = corpus.function_span(source, name)
    return source[start:end]


def with_method(source, name, text):
    """``source`` with method ``name`` replaced by ``text`` (a method of the same indentation)."""
    start, end = corpus.function_span(source, name)
    return source[:start] + text + source[end:]


def into_helper_method(source):
    """FullyConnectedNet.loss's body moved into ``self._run``, loss only calling it."""
    text = method_text(source, "FullyConnectedNet.loss")
    helper = text.replace("def loss(self, X, y=None):", "def _run(self, X, y=None):", 1)
    glue = "    def loss(self, X, y=None):\n        return self._run(X, y)\n\n"
    return with_method(source, "FullyConnectedNet.loss", helper + glue)


def into_module_helper(source):
    """Linear.forward's and Linear.backward's bodies moved into module functions, each method
    only handing its arguments over."""
    for method, helper, args in (("Linear.forward", "_affine", "x, w, b"),
                                 ("Linear.backward", "_affine_back", "dout, cache")):
        text = method_text(source, method)
        body = textwrap.dedent(text.split('"""', 2)[2].split("\n", 1)[1]).strip("\n")
        glue = f"    def {method.split('.')[1]}({args}):\n        return {helper}({args})\n\n"
        source = with_method(source, method, glue) + f"\n\ndef {helper}({args}):\n{textwrap.indent(body, '    ')}\n"
    ast.parse(source)
    return source


def write(root, name, text, layout="course"):
    folder = root / name / ("a3" if layout == "kit" else "")
    folder.mkdir(parents=True)
    (folder / FILE).write_text(text)


def read_csv(path):
    rows = list(csv.DictReader(path.open()))
    return rows, {frozenset((r["a"], r["b"])): r for r in rows if r["kind"] == "pair"}


def shares_nothing(a, b):
    """Two corpus styles that share no TODO body (but the one-line test-mode dropout)."""
    ra, rb = corpus.STYLES[a].regions(), corpus.STYLES[b].regions()
    return all(ra[k] != rb[k] for k in ra if k != "dropout_test")


def independent_pairs():
    """The pairs of corpus styles that share no TODO body."""
    return [pair for pair in itertools.combinations([s.name for s in corpus.STYLE_LIST], 2) if shares_nothing(*pair)]


def run(subs, assignment="a3"):
    out = subs.parent / "out"
    summary = run_similarity(subs, out, assignment=assignment)
    rows, pairs = read_csv(out / "similarity.csv")
    return {"summary": summary, "rows": rows, "pairs": pairs, "html": (out / "similarity.html").read_text()}


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """A and its copies, B and B with A's FullyConnectedNet.loss: fewer than ten submissions,
    so no code is common code."""
    subs = tmp_path_factory.mktemp("a3_copies") / "subs"
    a = corpus.render(A)[FILE]
    b = corpus.render(B)[FILE]
    write(subs, "A", a)
    write(subs, "A_disguised", disguise(a))
    write(subs, "A_helper_method", disguise(into_helper_method(a)))
    write(subs, "A_module_helper", into_module_helper(a), layout="kit")
    write(subs, "B", b)
    write(subs, "B_with_A_loss", with_method(b, "FullyConnectedNet.loss", method_text(a, "FullyConnectedNet.loss")))
    return run(subs, assignment=None)  # recognised from the files


@pytest.fixture(scope="module")
def a3_class(tmp_path_factory):
    """Every style of the corpus."""
    subs = tmp_path_factory.mktemp("a3_class") / "subs"
    for style in corpus.STYLE_LIST:
        write(subs, style.name, corpus.render(style.name)[FILE])
    return run(subs)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Untouched templates of both terms and the kit's stub, beside A and a copy of it: fewer
    than ten submissions, so the given code is not common code (only the templates blank it)."""
    subs = tmp_path_factory.mktemp("a3_templates") / "subs"
    write(subs, "A", corpus.render(A)[FILE])
    write(subs, "A_disguised", disguise(corpus.render(A)[FILE]))
    for name, term in (("blank_f20_a", "f20"), ("blank_w22_a", "w22")):
        write(subs, name, blank_template(term))
    # the same line in the Solver's TODO: the function now reaches the given TwoLayerNet (its
    # save and load) and the given sgd, which are template too
    for name, term in (("blank_f20_b", "f20"), ("blank_w22_b", "w22")):
        write(subs, name, blank_template(term, {"create_solver": SOLVER_LINE}))
    write(subs, "blank_kit_stub", make_stub((ROOT / "a3" / FILE).read_text(), FILE), layout="kit")
    return run(subs)


def test_methods_and_functions_are_compared():
    assert set(SCOPE.compared) == set(METHODS) | set(FUNCTIONS)
    assert set(SCOPE.file_of.values()) == {FILE}


def test_independent_styles_score_low(a3_class):
    """Styles that share no TODO body (each written its own way) score below 25 %."""
    pairs = independent_pairs()
    assert len(pairs) >= 10
    for pair in pairs:
        row = a3_class["pairs"][frozenset(pair)]
        assert float(row["score"]) < 25, row


@pytest.mark.parametrize("copy", ["A_disguised", "A_helper_method", "A_module_helper"])
def test_copies_score_near_100(copies, copy):
    """Renamed variables, rewritten comments, a method's body run from a helper method of its
    class or from a module function: still a copy, every function and method named."""
    row = copies["pairs"][frozenset(("A", copy))]
    assert float(row["score"]) >= 95 and float(row["percent_b"]) >= 95, row
    # every function and method long enough to fingerprint (a one-line ReLU is not)
    assert set(row["shared_functions"].split()) >= LONG, row
    assert float(copies["pairs"][frozenset(("B", copy))]["score"]) < 25


def test_a_copied_method_is_named_alone(copies):
    """B handed in A's FullyConnectedNet.loss and nothing else of A: that method is what the pair
    shares beyond what A and B share anyway (their zero biases, written alike)."""
    def shared(a, b):
        return set(copies["pairs"][frozenset((a, b))]["shared_functions"].split())

    assert "FullyConnectedNet.loss" not in shared("A", "B")
    assert shared("A", "B_with_A_loss") - shared("A", "B") == {"FullyConnectedNet.loss"}
    tokens = re.findall(r"<p><code>FullyConnectedNet\.loss</code>: (\d+) / (\d+) tokens shared", copies["html"])
    assert tokens and min(map(int, tokens[-1])) >= MIN_TOKENS, tokens
    # and with B itself it shares everything but that method
    assert "FullyConnectedNet.loss" not in shared("B", "B_with_A_loss")
    assert shared("B", "B_with_A_loss") >= {"Linear.backward", "FullyConnectedNet.__init__", "Dropout.forward"}
    assert float(copies["pairs"][frozenset(("A", "B_with_A_loss"))]["score"]) > \
        float(copies["pairs"][frozenset(("A", "B"))]["score"]) + 20


def test_copies_rank_above_the_corpus_styles(a3_class, copies):
    """Every copy of A scores above every pair of corpus styles, even those that reuse some of
    the same TODO bodies."""
    styles = [float(r["score"]) for r in a3_class["pairs"].values()]
    assert len(styles) == len(corpus.STYLE_LIST) * (len(corpus.STYLE_LIST) - 1) // 2
    lowest_copy = min(float(copies["pairs"][frozenset(("A", c))]["score"])
                      for c in ("A_disguised", "A_helper_method", "A_module_helper"))
    assert lowest_copy > max(styles) + 20


def test_the_given_code_never_counts(templates):
    """Untouched templates of both terms and the kit's stub share nothing they wrote, and count
    nothing as written, even where the Solver's TODO holds one line that reaches the given
    TwoLayerNet (its docstring, save and load) and the given sgd."""
    blanks = [k for k in templates["pairs"] if all(x.startswith("blank") for x in k)]
    assert len(blanks) == 10
    for key in blanks:
        row = templates["pairs"][key]
        assert float(row["score"]) <= 2 and int(row["tokens_a"]) < MIN_TOKENS, row
    for row in templates["rows"]:
        for side in "ab":
            if row["kind"] == "pair" and row[side].startswith("blank"):
                assert int(row[f"written_{side}"]) == 0, row
    ranked = [frozenset((r["a"], r["b"])) for r in templates["rows"] if r["kind"] == "pair"]
    assert min(i for i, k in enumerate(ranked) if all(x.startswith("blank") for x in k)) > 0


def test_report_names_methods_and_what_they_run(copies, a3_class):
    text = copies["html"]
    assert "Assignment 3, part 1" in text
    assert "<code>FullyConnectedNet.loss</code>" in text
    assert "_run (fully_connected_networks.py, line" in text and "which FullyConnectedNet.loss runs" in text
    assert not [r for r in a3_class["rows"] if r["kind"] == "not compared"]


def test_the_assignment_is_recognised_from_the_files(copies, tmp_path):
    """Without --assignment the report compares A3 folders as A3 (the copies' report above);
    a folder mixing A2 and A3 entries is refused, naming them."""
    assert "Assignment 3, part 1 (fully connected networks) similarity report" in copies["html"]
    subs = tmp_path / "subs"
    write(subs, "three", corpus.render(A)[FILE])
    (subs / "two").mkdir()
    for name in ("linear_classifier.py", "two_layer_net.py"):
        (subs / "two" / name).write_text("import torch\n")
    with pytest.raises(SimilarityError, match=r"mixes submissions of several assignments \(a2: two; a3: three\)"):
        run_similarity(subs, tmp_path / "out")


def test_course_given_code_matches_the_corpus():
    """The grader's rendition of the course's given code of A3 is the tests' course corpus, line
    for line (docstrings, comments and blank lines left out)."""
    from grader.assignments.a3.instructor.course_given import COURSE_TEMPLATES

    def strip(source):
        tree = ast.parse(source)
        drop = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                        isinstance(first.value.value, str):
                    drop.update(range(first.lineno, first.end_lineno + 1))
        return "".join(line.rstrip() + "\n" for i, line in enumerate(source.splitlines(), start=1)
                       if i not in drop and line.strip() and not line.strip().startswith("#"))

    for label, term in (("Fall 2020", "f20"), ("Winter 2022", "w22")):
        assert list(COURSE_TEMPLATES[label]) == [FILE]
        assert COURSE_TEMPLATES[label][FILE] == strip(blank_template(term)), label


def pieces(source, function):
    module = read_module(FILE, textwrap.dedent(source))
    found = Reader({FILE: module}, set(SCOPE.compared)).pieces(FILE, function)
    return None if found is None else [(p.name, p.text) for p in found]


def test_what_a_method_reaches():
    """A method's piece is its own kept statements; it reaches module helpers, the members of its
    class it uses through ``self`` (methods, class-level tables) and the non-graded members of
    classes with graded methods it names (``Linear.backward`` here, not graded in this test), a
    class without graded methods whole (``Linear_ReLU``), never a graded method (compared on its
    own) nor a whole class with graded methods."""
    source = '''
        import torch
        SCALE = 2.0

        def _helper(x):
            return x * SCALE

        class Linear(object):
            @staticmethod
            def forward(x, w, b):
                out = _helper(x.reshape(x.shape[0], -1)) @ w + b
                return out, (x, w, b)

            backward = staticmethod(lambda dout, cache: _helper(dout))

        class Linear_ReLU(object):
            @staticmethod
            def forward(x, w, b):
                a, c = Linear.forward(x, w, b)
                return a.clamp(min=0), c

        class FullyConnectedNet(object):
            KEYS = ("W", "b")

            def __init__(self, hidden_dims):
                self.params = {}
                unused = 3

            def _layer(self, x, i):
                return Linear_ReLU.forward(x, self.params[self.KEYS[0] + str(i)], 0)

            def loss(self, X, y=None):
                h, c = self._layer(X, 1)
                scores, c2 = Linear.forward(h, self.params["W2"], 0)
                return scores
        '''
    found = pieces(source, "FullyConnectedNet.loss")
    names = [n for n, _ in found]
    assert names[0] == "FullyConnectedNet.loss" and found[0][1].startswith("h, c = self._layer(X, 1)\n")
    assert set(names) == {"FullyConnectedNet.loss", "FullyConnectedNet._layer", "FullyConnectedNet.KEYS",
                          "Linear_ReLU"}, names
    assert "Linear.forward" not in dict(found)["Linear_ReLU"] or "def forward" in dict(found)["Linear_ReLU"]
    assert pieces(source, "Linear.forward")[1:] == [("_helper", "return x * SCALE\n"), ("SCALE", "SCALE = 2.0\n")]
    init = pieces(source, "FullyConnectedNet.__init__")
    assert init == [("FullyConnectedNet.__init__", "self.params = {}\n")]
    # a method bound by assignment in the class body runs what it names
    assert pieces(source, "Linear.backward") == [
        ("Linear.backward", "backward = staticmethod(lambda dout, cache: _helper(dout))\n"),
        ("_helper", "return x * SCALE\n"), ("SCALE", "SCALE = 2.0\n")]
    assert pieces(source, "Dropout.forward") is None and pieces(source, "FullyConnectedNet.nothing") is None
    # a class with graded methods named bare (an instance) comes without them
    text = dict(pieces(source.replace("Linear.forward(h,", "Linear().forward(h,"), "FullyConnectedNet.loss"))
    assert "class Linear(object):" in text["Linear"] and "_helper" not in text["Linear"]


@pytest.mark.slow
def test_batch_with_similarity(tmp_path):
    from grader.instructor.batch import run_batch

    subs = tmp_path / "subs"
    a = corpus.render(A)[FILE]
    write(subs, "a", a)
    write(subs, "b", disguise(a))
    write(subs, "c", corpus.render(next(b for a, b in independent_pairs() if a == A))[FILE])
    run_batch(subs, tmp_path / "out", similarity=True, progress_stream=io.StringIO())
    rows, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert set(pairs) == {frozenset(p) for p in itertools.combinations("abc", 2)}
    assert float(pairs[frozenset("ab")]["score"]) >= 90 and float(pairs[frozenset("ac")]["score"]) < 25
    assert "FullyConnectedNet.loss" in pairs[frozenset("ab")]["shared_functions"].split()
    html = (tmp_path / "out" / "similarity.html").read_text()
    assert "Assignment 3, part 1" in html and (tmp_path / "out" / "report.html").is_file()
