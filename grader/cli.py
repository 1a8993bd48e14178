"""``python -m grader``: thin commands over the grader's modules.

A student handout has ``check`` and ``points``; the instructor's repository adds the commands
of :mod:`grader.instructor.commands` (batch, merge, similarity, fixtures, release, Gradescope).
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from . import catalogue
from .assignment import REGISTRY, AssignmentError, owning, resolve
from .files import write_atomic
from .inert import inert_text
from .mode import InstructorSideBroken, instructor_module
from .options import add_assignment_option, add_grading_options, limits_from
from .paths import ROOT

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def print_protection(layers) -> None:
    from .protection import warning

    line = warning(layers)
    if line:
        print(line, file=sys.stderr)


def own_solutions():
    """The assignments whose solutions this repository holds (``python -m grader check`` with
    no submission grades each of them)."""
    return [a for a in REGISTRY.values() if a.holds(ROOT / a.student_dir)]


def cmd_check(args) -> int:
    from .runner import GradingError, grade
    from .sandbox import ZygoteHolder
    from .submission import SubmissionError

    if args.submission is None and args.assignment is None:
        owner = owning(args.only) if args.only else None  # --only names whose functions they are
        units = [owner] if owner else own_solutions() or [resolve(None)]
    else:
        units = [args.assignment]
    if args.json and len(units) > 1:
        print("error: --json writes one submission's results: say which assignment with --assignment", file=sys.stderr)
        return EXIT_USAGE
    zygotes = ZygoteHolder()
    reports = []
    try:
        print_protection(zygotes.layers())
        for unit in units:
            reports.append(grade(args.submission, functions=args.only, hidden=args.hidden, device=args.device,
                                 limits=limits_from(args), data_dir=args.data_dir, zygote=zygotes, assignment=unit))
    except (GradingError, SubmissionError, AssignmentError, KeyError) as exc:
        print(f"error: {inert_text(exc.args[0] if exc.args else exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - e.g. the zygote could not start
        print(f"error: {inert_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        zygotes.close()
    print("\n\n".join(report.summary() for report in reports))
    if args.json:
        write_atomic(Path(args.json), json.dumps(reports[0].to_gradescope(), indent=1))
        print(f"Wrote {args.json}")
    return EXIT_OK if all(report.all_passed for report in reports) else EXIT_FAILED


def cmd_points(args) -> int:
    from .tolerance import table_markdown

    units = [args.assignment] if args.assignment else list(REGISTRY)
    for unit in units:
        if len(units) > 1:
            print(f"## {resolve(unit).title}\n")
        print(points_markdown(unit))
        print()
    print(table_markdown())
    return EXIT_OK


def points_markdown(assignment=None) -> str:
    """The points per function of ``assignment`` (None: the kit's default one), as a table."""
    rows = ["| function | public | hidden | total |", "|---|---:|---:|---:|"]
    totals = [0.0, 0.0]
    cases = catalogue.all_cases(assignment)
    for name in resolve(assignment).functions:
        cs = [c for c in cases if c.function == name]
        pub = sum(c.points for c in cs if c.visibility == "public")
        hid = sum(c.points for c in cs if c.visibility == "hidden")
        totals[0] += pub
        totals[1] += hid
        rows.append(f"| `{name}` | {pub:g} | {hid:g} | {pub + hid:g} |")
    rows.append(f"| **all** | {totals[0]:g} | {totals[1]:g} | {sum(totals):g} |")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    titles = " and ".join(a.title for a in REGISTRY.values())
    parser = argparse.ArgumentParser(prog="python -m grader", description=f"The {titles} autograder.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the grader does")
    sub = parser.add_subparsers(dest="command", required=True)

    folders = ", ".join(f"{a.student_dir}/" for a in REGISTRY.values())
    check = sub.add_parser("check", help=f"grade one submission (default: this repository's own solutions, {folders})")
    check.add_argument("submission", nargs="?", default=None,
                       help=f"a folder holding {folders} a folder holding an assignment's .py files, or a "
                            "submission zip")
    check.add_argument("--only", nargs="+", metavar="FUNC", help="grade only these functions")
    check.add_argument("--json", metavar="FILE", help="also write Gradescope's results.json schema to FILE")
    add_assignment_option(check, "recognised from the submission's files (without a submission: every "
                                 "assignment whose solution this repository holds)")
    add_grading_options(check)
    check.set_defaults(func=cmd_check)

    points = sub.add_parser("points", help="print the points per function and the tolerance table")
    add_assignment_option(points, "every assignment")
    points.set_defaults(func=cmd_points)

    commands = instructor_module("commands")  # None in a student handout
    if commands is not None:
        commands.register(sub)
    return parser


def main(argv=None) -> int:
    try:  # an instructor's side that is here but broken stops every command, saying why
        args = build_parser().parse_args(argv)
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        if getattr(args, "without", None):
            from .launch import turn_off

            turn_off(args.without)
        return args.func(args)
    except InstructorSideBroken as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
