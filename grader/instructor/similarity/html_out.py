"""``similarity.html``: pairs ranked by score with the functions they share, clusters, common
code, reference matches, the entries that could not be read, and side-by-side views of the top
pairs with the matched passages highlighted (copydetect's ``compare_files`` finds them). Every
text that comes from a submission (names, code, notes) is escaped: the page is inert whatever
the student wrote."""
import html
import itertools
from types import SimpleNamespace
from typing import Dict, List, Sequence

from .cluster import CLUSTER_SCORE
from .fingerprint import NOISE
from .measure import MIN_TOKENS, Match
from .read import Broken, Code

TABLE_ROWS = 200  # rows of each table in the HTML (the CSV has every pair)
SIDE_BY_SIDE = 20  # pairs (and reference matches) shown side by side
STYLE = ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:3px 8px;font-size:90%;vertical-align:top}"
         "table.sbs{width:100%;table-layout:fixed}pre{white-space:pre-wrap;font-size:85%;margin:0}"
         "mark{background:#ffd27f}</style>")


def _highlight(text: str, mine: str, slices) -> str:
    """``text`` escaped, with the copied slices marked, except the given code blanked in
    ``mine`` (the fingerprinted text, same positions) that a slice spans or ends on."""
    marked = [False] * len(text)
    for start, end in zip(slices[0].tolist(), slices[1].tolist()) if len(slices[0]) else []:
        for i in range(max(int(start), 0), min(int(end), len(text))):
            marked[i] = True
    for i, (ours, given) in enumerate(zip(mine, text)):
        if ours.isspace() and not given.isspace():
            marked[i] = False
    parts = []
    for flag, run in itertools.groupby(range(len(text)), key=marked.__getitem__):
        run = list(run)
        chunk = html.escape(text[run[0]:run[-1] + 1])
        parts.append(f"<mark>{chunk}</mark>" if flag and text[run[0]:run[-1] + 1].strip() else chunk)
    return "".join(parts)


def _side_by_side(match: Match, anchor: str, common: Dict[str, set]) -> str:
    from copydetect.detector import compare_files

    e = html.escape
    parts = [f"<h3 id='{anchor}'>{e(match.a.id)} and {e(match.b.id)}: {match.score:.1f}% "
             f"({match.tokens_a} / {match.tokens_b} tokens)</h3>"]
    for function in sorted(match.tokens, key=lambda f: -sum(match.tokens[f])):
        ba, bb = match.a.bodies[function], match.b.bodies[function]
        drop = set() if match.reference else common.get(function, set())
        sides = [SimpleNamespace(k=b.fp.k, hashes=b.fp.hashes - drop, hash_idx=b.fp.hash_idx,
                                 filtered_code=b.fp.filtered_code, offsets=b.fp.offsets,
                                 token_coverage=b.fp.token_coverage) for b in (ba, bb)]
        _, _, (sa, sb) = compare_files(*sides)
        ta, tb = match.tokens[function]
        parts.append(f"<p><code>{e(function)}</code>: {ta} / {tb} tokens shared</p>"
                     "<table class='sbs'><tr>"
                     f"<th>{e(match.a.id)}, line {ba.line}</th><th>{e(match.b.id)}, line {bb.line}</th></tr><tr>"
                     f"<td><pre>{_highlight(ba.text, ba.fp.raw_code, sa)}</pre></td>"
                     f"<td><pre>{_highlight(bb.text, bb.fp.raw_code, sb)}</pre></td>"
                     "</tr></table>")
    return "\n".join(parts)


def _figure(percent: float, shared: int, written: int) -> str:
    return f"{percent:.1f}% <small>({shared} of {written} tokens)</small>"


def _match_rows(matches: List[Match], anchors: Dict[int, str], reference: bool) -> str:
    e = html.escape
    head = ("<tr><th>#</th><th>student</th><th>reference</th><th>% of student</th><th>% of reference</th>"
            if reference else "<tr><th>#</th><th>a</th><th>b</th><th>score</th><th>% of a</th><th>% of b</th>")
    rows = [head + "<th>shared functions (tokens a / b)</th></tr>"]
    for rank, m in enumerate(matches, start=1):
        functions = ", ".join(f"<code>{e(f)}</code> ({m.tokens[f][0]} / {m.tokens[f][1]})" for f in m.shared)
        if not m.counts:
            functions += f" <em>(fewer than {MIN_TOKENS} tokens shared: ranked after the others)</em>"
        link = f"<a href='#{anchors[id(m)]}'>{rank}</a>" if id(m) in anchors else str(rank)
        score = "" if reference else \
            f"<td>{_figure(m.score, m.tokens_a + m.tokens_b, m.a.written + m.b.written)}</td>"
        rows.append(f"<tr><td>{link}</td><td>{e(m.a.id)}</td><td>{e(m.b.id)}</td>{score}"
                    f"<td>{_figure(m.percent_a, m.tokens_a, m.a.written)}</td>"
                    f"<td>{_figure(m.percent_b, m.tokens_b, m.b.written)}</td><td>{functions}</td></tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def _template_names(names: Sequence[str]) -> str:
    """The templates named as the report names them: "the kit's and the course's Fall 2020 and Winter 2022"."""
    others = [n for n in names if n != "kit"]
    parts = (["the kit's"] if "kit" in names else []) + ([f"the course's {' and '.join(others)}"] if others else [])
    return " and ".join(parts) or "none"


def _method(templates: Sequence[str], limit: int) -> str:
    """The paragraph that says what is compared and how it is measured."""
    return ("<p>Compared: what every graded function runs (its statements that can affect its result, then "
            "the helpers, lambdas, tables and classes it reaches at module level), with the same function of the "
            "other submissions. Statements that cannot affect a result (dead assignments, <code>pass</code>, "
            "prints, code after <code>return</code>, <code>if False:</code> blocks) are left out. The templates "
            f"({html.escape(_template_names(templates), quote=False)}: signatures, docstrings, given code) never "
            "count; names, strings and comments are normalized away (copydetect: MOSS's winnowing over Pygments "
            f"tokens). A passage counts from {NOISE} normalized characters (<em>tokens</em>: a name is one). "
            f"Passages found in more than {limit} submissions are common code and do not count between students. "
            "Score: shared tokens of both sides over the code both wrote (both figures beside it). A pair that "
            f"shares fewer than {MIN_TOKENS} tokens on either side ranks after every pair that shares more, "
            f"whatever its percent, and joins no cluster. Clusters link pairs scoring {CLUSTER_SCORE * 100:g}% or "
            "more.</p>")


def _clusters(groups: List[List[str]]) -> List[str]:
    e = html.escape
    parts = [f"<h2>Clusters of three or more (pairs scoring {CLUSTER_SCORE * 100:g}% or more)</h2>"]
    if groups:
        parts.append("<ol>" + "".join(f"<li>{len(g)} submissions: {e(', '.join(g))}</li>" for g in groups) + "</ol>")
    else:
        parts.append("<p>None.</p>")
    return parts


def _common(common: Dict[str, set], limit: int) -> List[str]:
    e = html.escape
    parts = [f"<h2>Common code (in more than {limit} submissions: not counted between students)</h2>"]
    dropped = {f: len(v) for f, v in common.items() if v}
    if dropped:
        parts.append("<p>Fingerprints dropped, per function: " + ", ".join(
            f"<code>{e(f)}</code> {n}" for f, n in sorted(dropped.items(), key=lambda x: -x[1])) + ". Code that "
            "this many hand in is usually the obvious way to write it; if many copied one source, give that source "
            "as <code>--reference</code> (reference matches count common code).</p>")
    else:
        parts.append("<p>None.</p>")
    return parts


def _references(references: List[Code], shown_refs: List[Match], anchors: Dict[int, str]) -> List[str]:
    e = html.escape
    parts = ["<h2>Matches with reference code</h2>"]
    if not references:
        parts.append("<p>No reference given (<code>--reference DIR</code>).</p>")
    else:
        parts.append(f"<p>References: {e(', '.join(r.id for r in references))}. Ranked by the percent of the "
                     "student's written code found in the reference.</p>")
        parts.append(_match_rows(shown_refs, anchors, True) if shown_refs else "<p>No match.</p>")
    return parts


def _unread(broken: List[Broken], codes: List[Code]) -> List[str]:
    """The entries that could not be compared, and the notes on those that were."""
    e = html.escape
    parts = ["<h2>Entries that could not be compared</h2>"]
    if broken:
        parts.append("<table><tr><th>entry</th><th>kind</th><th>why</th></tr>" + "".join(
            f"<tr><td>{e(b.id)}</td><td>{e(b.kind)}</td><td>{e(b.why)}</td></tr>" for b in broken) + "</table>")
    else:
        parts.append("<p>None.</p>")
    noted = [c for c in codes if c.notes]
    if noted:
        parts.append("<h2>Notes</h2><table><tr><th>entry</th><th>note</th></tr>" + "".join(
            f"<tr><td>{e(c.id)}</td><td>{e('; '.join(c.notes))}</td></tr>" for c in noted) + "</table>")
    return parts


def similarity_html(summary: str, students: List[Code], references: List[Code], ranked: List[Match],
                    ranked_refs: List[Match], groups: List[List[str]], broken: List[Broken],
                    image: str, common: Dict[str, set], limit: int, *, title: str,
                    templates: Sequence[str]) -> str:
    """The page. ``title``: the assignment's ("Assignment 2"); ``templates``: their names."""
    e = html.escape
    heading = e(f"{title} similarity report")
    parts = [f"<!doctype html><meta charset='utf-8'><title>{heading}</title>", STYLE,
             f"<h1>{heading}</h1>", f"<p>{e(summary)}</p>", _method(templates, limit),
             f"<img src='{e(image)}' alt='histogram of pair scores'>"]
    shown = [m for m in ranked if m.tokens_a or m.tokens_b][:TABLE_ROWS]
    shown_refs = [m for m in ranked_refs if m.tokens_a or m.tokens_b][:TABLE_ROWS]
    anchors = {id(m): f"pair-{k}" for k, m in enumerate(shown[:SIDE_BY_SIDE], start=1)}
    anchors.update({id(m): f"ref-{k}" for k, m in enumerate(shown_refs[:SIDE_BY_SIDE], start=1)})
    parts.append(f"<h2>Student pairs, most shared first</h2><p>{len(shown)} of {len(ranked)} pairs that share "
                 "anything are listed (similarity.csv has every pair).</p>")
    parts.append(_match_rows(shown, anchors, False) if shown else "<p>No pair shares student-written code.</p>")
    parts += _clusters(groups) + _common(common, limit) + _references(references, shown_refs, anchors)
    parts += _unread(broken, students + references)
    parts.append("<h2>Side by side</h2>")
    for m in shown[:SIDE_BY_SIDE] + shown_refs[:SIDE_BY_SIDE]:
        parts.append(_side_by_side(m, anchors[id(m)], common))
    return "\n".join(parts) + "\n"
