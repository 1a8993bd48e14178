"""Feedback for one student, as Markdown: what failed and why. Hidden cases show only what the
instructor allows, and never expected values."""
from ..inert import inert_text
from ..results import Report, redact

HIDDEN_LEVELS = ("none", "status", "full")


def feedback_markdown(student: str, report: Report, hidden_level: str = "status") -> str:
    if hidden_level not in HIDDEN_LEVELS:
        raise ValueError(f"hidden feedback level must be one of {HIDDEN_LEVELS}")
    lines = [f"# {report.unit.title} feedback: {student}", "",
             f"**Score: {report.score:g} / {report.max_score:g}**"
             + (f" ({report.not_graded_points:g} points not graded)" if report.not_graded_points else ""), "",
             "| function | points |", "|---|---:|"]
    for name, (got, out_of) in report.function_scores().items():
        lines.append(f"| `{name}` | {got:g} / {out_of:g} |")
    problems = [r for r in report.results if r.status != "passed"]
    shown = [r for r in problems if r.visibility == "public" or hidden_level != "none"]
    if shown:
        lines += ["", "## What to look at", ""]
    for r in shown:
        lines.append(f"### `{r.check}`: {r.name} ({r.points:g} / {r.max_points:g})")
        if r.visibility == "hidden" and hidden_level == "status":
            lines += ["", f"Hidden case: {r.status}.", ""]
            continue
        text = r.details() if r.visibility == "public" else redact(r.details())
        fence = _fence(text)
        lines += ["", f"{fence}text", text, fence, ""]
    noted = [r for r in report.results if r.status == "passed" and r.warnings
             and (r.visibility == "public" or hidden_level == "full")]
    if noted:  # notes on passing cases (given code, dtypes, ...): no points, but worth knowing
        lines += ["", "## Notes (no points lost)", ""]
    for r in noted:
        text = "\n".join(r.warnings) if r.visibility == "public" else redact("\n".join(r.warnings))
        fence = _fence(text)
        lines += [f"### `{r.check}`: {r.name}", "", f"{fence}text", text, fence, ""]
    for note in report.notes:  # every line quoted: a note may carry the student's text
        lines += ["\n".join(f"> {line}" for line in str(note).splitlines() or [""]), ""]
    if not problems:
        lines += ["", "Every graded case passed."]
    return inert_text("\n".join(lines).rstrip()) + "\n"  # control characters shown, not obeyed


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``, so that text from the
    student's process (an exception's message) cannot close it and write Markdown of its own."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)
