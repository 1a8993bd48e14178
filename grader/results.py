"""Results that render themselves: text for terminals, HTML for notebooks, and Gradescope's
``results.json`` schema for machines."""
import html
import re
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

from .assignment import resolve
from .inert import inert_text

_GOT_LINE = re.compile(r"^\s*Got .*expected .*$", re.MULTILINE)
_GOT_CLAUSE = re.compile(r"got [^,;()]+, expected [^;()]+")


def redact(text: str) -> str:
    """Drop expected values from a message (for hidden cases)."""
    return _GOT_CLAUSE.sub("values differ", _GOT_LINE.sub("", text)).replace("\n\n", "\n").strip()


@dataclass(frozen=True)
class CaseResult:
    check: str
    name: str
    visibility: str
    max_points: float
    points: float
    status: str  # passed | failed | not graded | grader error
    message: str = ""
    diagnosis: str = ""
    warnings: Tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0
    vouches: bool = False  # failed, but some of its outputs are right
    setup_note: str = ""  # for whoever runs the grader (see Verdict.setup_note), not for students
    computed: Tuple[str, ...] = ()  # the outputs it shows computed (right, or a known mistake's)
    work: Tuple[int, ...] = ()  # (torch calls, lines run), where they were counted
    causes: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # the known mistakes named (see Verdict.causes)

    @property
    def graded(self) -> bool:
        return self.status != "not graded"

    def details(self) -> str:
        parts = [self.message] if self.message else []
        if self.diagnosis:
            parts.append(self.diagnosis)
        parts.extend(self.warnings)
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    submission: str
    device: str
    hidden: bool
    results: Tuple[CaseResult, ...]
    seconds: float = 0.0
    notes: Tuple[str, ...] = field(default_factory=tuple)
    assignment: str = ""  # whose cases these are (its name); "": the kit's default assignment

    @property
    def unit(self):
        """The graded assignment's description (its functions' order, its title)."""
        return resolve(self.assignment or None)

    # -------------------------------------------------------------- totals
    @property
    def score(self) -> float:
        return round(sum(r.points for r in self.results), 4)

    @property
    def max_score(self) -> float:
        """Points of every case that was graded (not-graded cases are listed apart)."""
        return round(sum(r.max_points for r in self.results if r.graded), 4)

    @property
    def not_graded_points(self) -> float:
        return round(sum(r.max_points for r in self.results if not r.graded), 4)

    @property
    def setup_notes(self) -> Tuple[str, ...]:
        """What whoever runs the grader must set right, each said once."""
        return tuple(dict.fromkeys(r.setup_note for r in self.results if r.setup_note))

    @property
    def all_passed(self) -> bool:
        return all(r.status in ("passed", "not graded") for r in self.results)

    def by_function(self) -> "OrderedDict[str, List[CaseResult]]":
        groups: "OrderedDict[str, List[CaseResult]]" = OrderedDict((name, []) for name in self.unit.functions)
        for result in self.results:
            groups.setdefault(result.check, []).append(result)
        return OrderedDict((k, v) for k, v in groups.items() if v)

    def function_scores(self) -> Dict[str, Tuple[float, float]]:
        return {name: (round(sum(r.points for r in rs), 4), round(sum(r.max_points for r in rs if r.graded), 4))
                for name, rs in self.by_function().items()}

    # -------------------------------------------------------------- renderings
    def summary(self) -> str:
        lines = [f"{self.unit.title} autograder: {self.submission} (device {self.device}, "
                 f"{'public and hidden' if self.hidden else 'public'} cases)", ""]
        width = max(len(n) for n in self.unit.functions)
        for name, results in self.by_function().items():
            got, out_of = self.function_scores()[name]
            mark = "ok " if all(r.status in ("passed", "not graded") for r in results) else "FAIL"
            if all(r.status == "not graded" for r in results):
                mark = "n/a"
            lines.append(f"  {mark:4} {name:<{width}}  {got:5.2f} / {out_of:5.2f}")
        lines.append("")
        lines.append(f"  Score: {self.score:.2f} / {self.max_score:.2f}")
        if self.not_graded_points:
            lines.append(f"  Not graded: {self.not_graded_points:.2f} points (see below)")
        failures = [r for r in self.results if r.status != "passed"]
        if failures:
            lines += ["", "Details:"]
            for r in failures:
                label = "NOT GRADED" if r.status == "not graded" else r.status.upper()
                lines.append(f"- [{label}] {r.check}: {r.name} ({r.points:g}/{r.max_points:g})")
                for text in r.details().splitlines():
                    lines.append(f"    {text}")
        warned = [r for r in self.results if r.status == "passed" and r.warnings]
        for r in warned:
            lines.append(f"- [note] {r.check}: {r.name}")
            lines.extend(f"    {w}" for w in r.warnings)
        lines.extend(f"Note: {n}" for n in self.notes + self.setup_notes)
        lines.append(f"\nGraded in {self.seconds:.1f} s.")
        return inert_text("\n".join(lines))  # nothing a submission wrote drives the terminal

    __str__ = summary

    def __repr__(self) -> str:
        return f"<Report {self.submission}: {self.score:g}/{self.max_score:g}>"

    def _repr_html_(self) -> str:
        rows = []
        colours = {"passed": "#e6f4ea", "failed": "#fce8e6", "not graded": "#f1f3f4", "grader error": "#fef7e0"}
        for r in self.results:
            details = html.escape(r.details()).replace("\n", "<br>")
            rows.append(
                f"<tr style='background:{colours.get(r.status, '#fff')}'><td><code>{html.escape(r.check)}</code></td>"
                f"<td>{html.escape(r.name)}</td><td>{r.status}</td><td>{r.points:g} / {r.max_points:g}</td>"
                f"<td style='text-align:left;font-family:monospace;font-size:90%'>{details}</td></tr>")
        head = (f"<p><b>Score: {self.score:g} / {self.max_score:g}</b>"
                + (f" &nbsp; ({self.not_graded_points:g} points not graded)" if self.not_graded_points else "")
                + "</p>")
        notes = "".join(f"<p>Note: {html.escape(n)}</p>" for n in self.notes + self.setup_notes)
        return (head + "<table><thead><tr><th>function</th><th>case</th><th>status</th><th>points</th>"
                "<th style='text-align:left'>details</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                + notes)

    def to_dict(self) -> dict:
        return {"submission": self.submission, "device": self.device, "hidden": self.hidden,
                "score": self.score, "max_score": self.max_score, "seconds": self.seconds,
                "results": [r.to_dict() for r in self.results], "notes": list(self.notes),
                "setup_notes": list(self.setup_notes)}

    def to_gradescope(self, hidden_level: str = "full") -> dict:
        """Gradescope's results.json: score, execution_time, tests[name, score, max_score,
        status, output, visibility, tags]. ``hidden_level`` says what hidden cases show:
        "none" (invisible to students), "status" (passed or failed) or "full" (the messages,
        expected values removed); the last two appear once grades are published."""
        tests = []
        for number, r in enumerate(self.results, start=1):
            output, visibility = r.details(), "visible"
            if r.visibility == "hidden":
                visibility = "hidden" if hidden_level == "none" else "after_published"
                if hidden_level == "full":
                    output = redact(output)
                else:
                    output = f"hidden case: {r.status}"
            if r.status == "not graded":
                output = f"not graded: {output}"
            tests.append({
                "name": f"{r.check}: {r.name}", "number": str(number),
                "score": r.points, "max_score": r.max_points if r.graded else 0.0,
                "status": "passed" if r.status == "passed" else "failed",
                "output": output, "visibility": visibility,
                "tags": [r.check],
            })
        output = list(self.notes)
        if self.setup_notes:
            # Said where the instructor looks first (the top of the results); the set-up's details
            # (paths, how to fix them) go to a test that only the course staff sees.
            output.insert(0, f"NOT GRADED: {self.not_graded_points:g} points were left out of this score because of "
                             "the autograder's set-up, not of this submission; the course staff must fix the "
                             "autograder and regrade (see the hidden test \"autograder set-up\").")
            tests.append({"name": "autograder set-up (course staff only)", "number": str(len(tests) + 1),
                          "score": 0.0, "max_score": 0.0, "status": "failed", "output": "\n".join(self.setup_notes),
                          "visibility": "hidden", "tags": ["setup"]})
        return {"score": self.score, "execution_time": round(self.seconds, 3), "tests": tests,
                "output": "\n".join(output)}
