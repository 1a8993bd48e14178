"""``python -m grader``: thin commands over the grader's modules."""
import argparse
import json
import logging
import sys
from pathlib import Path

from . import cases as cases_module
from .sandbox import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT, Limits

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where student code runs (default cpu)")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden cases (needs the solution)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per case (default {DEFAULT_TIMEOUT:g}; slow cases allow more)")
    parser.add_argument("--memory", type=float, default=DEFAULT_MEMORY_GIB,
                        help=f"GiB of memory per submission beyond the warm interpreter (default {DEFAULT_MEMORY_GIB:g})")
    parser.add_argument("--data-dir", default=None, help="folder holding cifar-10-batches-py (default $A2_DATA_DIR "
                        "or ~/.cache/a2kit)")


def cmd_check(args) -> int:
    from .runner import GradingError, grade
    from .submission import SubmissionError

    try:
        report = grade(args.submission, functions=args.only, hidden=args.hidden, device=args.device,
                       limits=Limits(timeout=args.timeout, memory_gib=args.memory), data_dir=args.data_dir)
    except (GradingError, SubmissionError, KeyError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - e.g. the solution missing for --hidden
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.summary())
    if args.json:
        from .batch import write_atomic

        write_atomic(Path(args.json), json.dumps(report.to_gradescope(), indent=1))
        print(f"Wrote {args.json}")
    return EXIT_OK if report.all_passed else EXIT_FAILED


def cmd_fixtures(args) -> int:
    from . import fixtures

    if args.action == "build":
        for path in fixtures.build():
            print(f"wrote {path}")
        return EXIT_OK
    problems = fixtures.verify()
    if problems:
        print("fixtures differ from a rebuild:\n  " + "\n  ".join(problems))
        return EXIT_FAILED
    print(f"fixtures rebuild bit for bit ({sum(len(v) for v in fixtures.load().values())} public cases)")
    return EXIT_OK


def cmd_points(args) -> int:
    from .tolerance import table_markdown

    print(points_markdown())
    print()
    print(table_markdown())
    return EXIT_OK


def points_markdown() -> str:
    rows = ["| function | public | hidden | total |", "|---|---:|---:|---:|"]
    totals = [0.0, 0.0]
    for name in cases_module.FUNCTIONS:
        cs = [c for c in cases_module.all_cases() if c.check == name]
        pub = sum(c.points for c in cs if c.visibility == "public")
        hid = sum(c.points for c in cs if c.visibility == "hidden")
        totals[0] += pub
        totals[1] += hid
        rows.append(f"| `{name}` | {pub:g} | {hid:g} | {pub + hid:g} |")
    rows.append(f"| **all** | {totals[0]:g} | {totals[1]:g} | {sum(totals):g} |")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="The Assignment 2 autograder.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the grader does")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="grade one submission (default: this repository's a2/)")
    check.add_argument("submission", nargs="?", default=None,
                       help="a folder holding a2/, a folder holding the two .py files, or a submission zip")
    check.add_argument("--only", nargs="+", metavar="FUNC", help="grade only these functions")
    check.add_argument("--json", metavar="FILE", help="also write Gradescope's results.json schema to FILE")
    add_grading_options(check)
    check.set_defaults(func=cmd_check)

    fixtures = sub.add_parser("fixtures", help="rebuild or verify the public reference fixtures")
    fixtures.add_argument("action", choices=["build", "verify"])
    fixtures.set_defaults(func=cmd_fixtures)

    points = sub.add_parser("points", help="print the points per function and the tolerance table")
    points.set_defaults(func=cmd_points)

    from . import extra_commands

    extra_commands.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)
