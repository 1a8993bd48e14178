"""Batch outputs built from the per-student results: ``grades.csv`` for spreadsheets and
gradebooks, and ``report.html`` with PNG plots: the score histogram, the pass rate of every
case with its most common diagnosed mistake, and the submissions that could not be graded."""
import collections
import html
import io
import json
import re
import statistics
from pathlib import Path
from typing import Dict, List

from ..assignment import resolve
from ..files import write_atomic
from ..inert import InertWriter, inert_text


def load_results(out: Path, ids: List[str]) -> Dict[str, dict]:
    results = {}
    for student in ids:
        path = out / "results" / f"{student}.json"
        try:
            results[student] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return results


def assignment_of(results: Dict[str, dict]):
    """The assignment a batch's results are of (each graded result names it; a batch holds one);
    the kit's default one when none says."""
    named = [r.get("extra_data", {}).get("assignment") for r in results.values()]
    return resolve(next((n for n in named if n), None))


def grades_csv(results: Dict[str, dict], assignment=None) -> str:
    functions = list(resolve(assignment).functions if assignment else assignment_of(results).functions)
    buffer = io.StringIO()
    writer = InertWriter(buffer, lineterminator="\n")  # no cell starts a spreadsheet formula
    writer.writerow(["submission", "score", "max_score", *functions, "error"])
    for student, result in sorted(results.items()):
        extra = result.get("extra_data", {})
        scores = extra.get("function_scores", {})
        writer.writerow([student, f"{result.get('score', 0):g}", f"{extra.get('max_score', 0):g}",
                         *[f"{scores[f][0]:g}" if f in scores else "" for f in functions], extra.get("error") or ""])
    return buffer.getvalue()


def _cause(case: dict) -> str:
    """The case's first named mistake, as the judge recorded it (``causes``); for a hint written
    as text alone (``Likely cause: ...``, or a result written before causes were recorded), the
    hint's first words."""
    causes = case.get("causes")
    if isinstance(causes, list) and causes and isinstance(causes[0], list) and causes[0] \
            and isinstance(causes[0][0], str):
        return causes[0][0]
    match = re.search(r"Likely cause(?: \([^)]*\))?: ([^:.]+)", case.get("diagnosis") or "")
    return match[1].strip() if match else ""


# A case is flagged "check this case" when (almost) nobody who tried the function passes it,
# or when it fails many submissions whose other cases of the same function all pass: either
# can be a grading problem (or a mistake the whole class makes), and is worth a look before
# grades go out.
FLAG_PASS_RATE = 0.1  # at most this share of the submissions that tried the function pass
FLAG_LONE = 0.25  # at least this share of them fail this case alone
FLAG_MIN = 3  # submissions, for either rule


def _first_line(message: str) -> str:
    return (message or "").strip().splitlines()[0][:160] if (message or "").strip() else ""


def case_table(results: Dict[str, dict]) -> List[dict]:
    """Per case: how many passed, the most common failure reason, diagnosed mistake and message,
    and whether it should be checked (see FLAG_*)."""
    rows: Dict[str, dict] = {}
    for result in results.values():
        cases = [c for c in result.get("extra_data", {}).get("cases", []) if c["status"] != "not graded"]
        tried = {c["check"] for c in cases if c.get("reason") != "not implemented"}
        for case in cases:
            row = rows.setdefault(f"{case['check']}: {case['name']}", {
                "check": case["check"], "name": case["name"], "passed": 0, "total": 0, "tried": 0, "lone": 0,
                "reasons": collections.Counter(), "causes": collections.Counter(), "messages": collections.Counter()})
            row["total"] += 1
            row["tried"] += case["check"] in tried
            if case["status"] == "passed":
                row["passed"] += 1
                continue
            row["reasons"][case["reason"] or "failed"] += 1
            if _cause(case):
                row["causes"][_cause(case)] += 1
            if _first_line(case.get("message", "")):
                row["messages"][_first_line(case["message"])] += 1
            siblings = [c for c in cases if c["check"] == case["check"] and c is not case and c["max_points"] > 0]
            if siblings and all(c["status"] == "passed" for c in siblings):
                row["lone"] += 1
    for row in rows.values():
        rare = row["tried"] >= FLAG_MIN and row["passed"] <= FLAG_PASS_RATE * row["tried"]
        lone = row["lone"] >= max(FLAG_MIN, FLAG_LONE * row["tried"])
        row["flag"] = ("almost nobody passes it" if rare else
                       f"it alone fails {row['lone']} submissions whose other cases of {row['check']} pass" if lone
                       else "")
    return sorted(rows.values(), key=lambda r: (not r["flag"], r["passed"] / max(r["total"], 1), r["check"]))


def _plots(out: Path, scores: List[float], table: List[dict]) -> List[str]:
    from helpers.plots import plt

    names = []
    if scores:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.hist(scores, bins=20, range=(0, max(100.0, max(scores))), color="#4c72b0")
        ax.set(title="Scores", xlabel="score", ylabel="submissions")
        fig.tight_layout()
        names.append(save_figure(fig, out / "score_histogram.png"))
    if table:
        fig, ax = plt.subplots(figsize=(11, max(3, 0.22 * len(table))))
        labels = [f"{r['check']}: {r['name']}"[:70] for r in table]
        ax.barh(range(len(table)), [100 * r["passed"] / max(r["total"], 1) for r in table], color="#55a868")
        ax.set_yticks(range(len(table)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set(title="Pass rate per case (hardest first)", xlabel="% of submissions passing", xlim=(0, 100))
        fig.subplots_adjust(left=0.45, right=0.97, top=0.95, bottom=0.08)
        names.append(save_figure(fig, out / "pass_rates.png"))
    plt.close("all")
    return names


def save_figure(fig, path: Path) -> str:
    tmp = path.with_name(f".{path.name}.part")
    fig.savefig(tmp, format="png", dpi=110)
    tmp.replace(path)
    return path.name


def report_html(results: Dict[str, dict], table: List[dict], images: List[str], protection: str = "") -> str:
    scores = [r.get("score", 0.0) for r in results.values() if not r.get("extra_data", {}).get("error")]
    errors = {s: r["extra_data"]["error"] for s, r in results.items() if r.get("extra_data", {}).get("error")}
    stats = (f"{len(results)} submissions, {len(scores)} graded, {len(errors)} could not be graded"
             + (f"; score mean {statistics.mean(scores):.1f}, median {statistics.median(scores):.1f}, "
                f"min {min(scores):g}, max {max(scores):g}" if scores else ""))
    title = html.escape(assignment_of(results).title)
    parts = [f"<!doctype html><meta charset='utf-8'><title>{title} batch report</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:90%}</style>",
             f"<h1>{title} batch report</h1>", f"<p>{html.escape(stats)}</p>"]
    if protection:
        parts.append(f"<p class='warning'><b>Sandbox:</b> {html.escape(protection)}</p>")
    parts += [f"<img src='{name}' alt='{name}'>" for name in images]
    flagged = [row for row in table if row["flag"]]
    if flagged:
        parts.append("<h2>Check these cases before grades go out</h2><table><tr><th>case</th><th>why</th>"
                     "<th>passed</th><th>most common message</th></tr>")
        for row in flagged:
            message = row["messages"].most_common(1)
            parts.append(f"<tr class='check'><td><code>{html.escape(row['check'])}</code>: {html.escape(row['name'])}"
                         f"</td><td>check this case: {html.escape(row['flag'])}</td>"
                         f"<td>{row['passed']} / {row['total']}</td>"
                         f"<td>{html.escape(f'{message[0][0]} ({message[0][1]})') if message else ''}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Cases, hardest first</h2><table><tr><th>case</th><th>passed</th>"
                 "<th>most common failure</th><th>most common diagnosed mistake</th></tr>")
    for row in table:
        reason = row["reasons"].most_common(1)
        cause = row["causes"].most_common(1)
        parts.append(f"<tr><td><code>{html.escape(row['check'])}</code>: {html.escape(row['name'])}</td>"
                     f"<td>{row['passed']} / {row['total']}</td>"
                     f"<td>{html.escape(f'{reason[0][0]} ({reason[0][1]})') if reason else ''}</td>"
                     f"<td>{html.escape(f'{cause[0][0]} ({cause[0][1]})') if cause else ''}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Submissions that could not be graded</h2>")
    if errors:
        parts.append("<table><tr><th>submission</th><th>why</th></tr>" + "".join(
            f"<tr><td>{html.escape(s)}</td><td>{html.escape(e)}</td></tr>" for s, e in sorted(errors.items())) + "</table>")
    else:
        parts.append("<p>None.</p>")
    return inert_text("\n".join(parts)) + "\n"  # the results' text is JSON a submission's process shaped


def _protection(out: Path) -> str:
    """The sandbox's warning for the machine the batch ran on (``sandbox.json``), if any."""
    from ..protection import warning

    try:
        return warning(json.loads((out / "sandbox.json").read_text())) or ""
    except (OSError, ValueError):
        return ""


def write_outputs(out: Path, ids: List[str]) -> dict:
    """Rebuild grades.csv and report.html (with plots) from the results of ``ids``."""
    results = load_results(out, ids)
    write_atomic(out / "grades.csv", grades_csv(results))
    table = case_table(results)
    scores = [r.get("score", 0.0) for r in results.values() if not r.get("extra_data", {}).get("error")]
    images = _plots(out, scores, table)
    write_atomic(out / "report.html", report_html(results, table, images, _protection(out)))
    errors = sum(1 for r in results.values() if r.get("extra_data", {}).get("error"))
    return {"results": len(results), "errors": errors,
            "mean_score": round(statistics.mean(scores), 3) if scores else None}
