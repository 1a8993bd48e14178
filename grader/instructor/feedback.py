"""Feedback for one student, as Markdown: what failed and why. Hidden cases show only what the
instructor allows, and never expected values."""
from ..results import Report, redact

HIDDEN_LEVELS = ("none", "status", "full")


def feedback_markdown(student: str, report: Report, hidden_level: str = "status") -> str:
    if hidden_level not in HIDDEN_LEVELS:
        raise ValueError(f"hidden feedback level must be one of {HIDDEN_LEVELS}")
    lines = [f"# Assignment 2 feedback: {student}", "",
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
        lines += ["", "```text", text, "```", ""]
    for note in report.notes:
        lines += [f"> {note}", ""]
    if not problems:
        lines += ["", "Every graded case passed."]
    return "\n".join(lines).rstrip() + "\n"
