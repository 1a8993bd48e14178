"""The instructor's commands: batch grading, merging shards, fixtures, the student handout and
the Gradescope autograder. Registered by ``grader.cli`` when this package is present."""
import sys
from pathlib import Path

from ..assignment import REGISTRY, resolve
from ..files import write_atomic
from ..inert import inert_text
from ..options import add_assignment_option, add_grading_options, add_limit_options, limits_from

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_batch(args) -> int:
    from ..runner import GradingError
    from ..submission import SubmissionError
    from .batch import parse_shard, run_batch

    try:
        summary = run_batch(args.submissions, args.out, jobs=args.jobs, hidden=args.hidden, device=args.device,
                            limits=limits_from(args), force=args.force, shard=parse_shard(args.shard),
                            feedback_hidden=args.feedback_hidden, data_dir=args.data_dir,
                            similarity=args.similarity, assignment=args.assignment)
    except (GradingError, SubmissionError, ValueError) as exc:
        print(f"error: {inert_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{summary['total']} submissions: {summary['graded']} graded now, {summary['skipped']} already graded "
          f"(unchanged), {summary['errors']} could not be graded; mean score {summary['mean_score']}")
    extra = ", similarity.html" if args.similarity else ""
    print(f"Wrote {Path(args.out) / 'grades.csv'}, {Path(args.out) / 'report.html'}{extra}, results/ and feedback/")
    return EXIT_OK


def cmd_merge(args) -> int:
    from .report import write_outputs

    out = Path(args.out)
    ids, sources = [], {}
    for shard in map(Path, args.shards):
        results = shard / "results"
        if not results.is_dir():
            print(f"error: {shard} has no results/ folder: is it a batch output?", file=sys.stderr)
            return EXIT_USAGE
        for path in sorted(results.glob("*.json")):
            if path.stem in sources:
                print(f"warning: {path.stem} is in {sources[path.stem]} and {shard}; keeping {shard}", file=sys.stderr)
            else:
                ids.append(path.stem)
            sources[path.stem] = shard
    for student, shard in sources.items():
        write_atomic(out / "results" / f"{student}.json", (shard / "results" / f"{student}.json").read_text())
        feedback = shard / "feedback" / f"{student}.md"
        if feedback.exists():
            write_atomic(out / "feedback" / f"{student}.md", feedback.read_text())
    summary = write_outputs(out, ids)
    print(f"Merged {len(ids)} results from {len(args.shards)} shards into {out} ({summary['errors']} could not be graded)")
    return EXIT_OK


def cmd_fixtures(args) -> int:
    from ..fixtures import load
    from . import fixtures_build

    units = [args.assignment] if getattr(args, "assignment", None) else list(REGISTRY)
    if args.action == "build":
        for unit in units:
            for path in fixtures_build.build(unit):
                print(f"wrote {path}")
        return EXIT_OK
    code = EXIT_OK
    for unit in units:
        if len(units) > 1:
            print(f"{resolve(unit).title}:")
        code = max(code, _verify(fixtures_build, load, unit))
    return code


def _verify(fixtures_build, load, unit) -> int:
    found = fixtures_build.verify(unit)
    cases = sum(len(v) for v in load(unit).values())
    if found.rounded:
        print(f"{len(found.rounded)} of {found.compared} entries are not bit-identical "
              "(float rounding: this CPU's kernels round differently in the last bits; within the tolerance table):\n  "
              + "\n  ".join(found.rounded))
    if found.problems:
        print("fixtures differ from a rebuild beyond the tolerance table or in structure "
              "(run `python -m grader fixtures build` if the cases changed):\n  " + "\n  ".join(found.problems))
        return EXIT_FAILED
    if found.rounded:
        print(f"fixtures match a rebuild within the tolerance table ({cases} public cases)")
    else:
        print(f"fixtures rebuild bit for bit ({cases} public cases)")
    return EXIT_OK


def cmd_gradescope_bundle(args) -> int:
    from .gradescope import build_bundle

    path = build_bundle(Path(args.output), feedback_hidden=args.feedback_hidden, assignment=args.assignment)
    print(f"Wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return EXIT_OK


def cmd_gradescope_run(args) -> int:
    from .gradescope import run_autograder

    result = run_autograder(Path(args.submission), Path(args.results), feedback_hidden=args.feedback_hidden,
                            data_dir=args.data_dir, limits=limits_from(args), assignment=args.assignment)
    print(f"score {result['score']:g}; wrote {args.results}")
    return EXIT_OK


def cmd_release(args) -> int:
    from .release import ReleaseError, release

    try:
        path = release(args.out, force=args.force, assignment=args.assignment)
    except ReleaseError as exc:
        print(f"error: {inert_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Wrote the student handout to {path}")
    return EXIT_OK


def cmd_similarity(args) -> int:
    from .similarity import SimilarityError, run_similarity

    try:
        summary = run_similarity(args.submissions, args.out, references=args.reference, assignment=args.assignment)
    except SimilarityError as exc:
        print(f"error: {inert_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    print(summary)
    return EXIT_OK


def register(sub) -> None:
    from .feedback import HIDDEN_LEVELS

    batch = sub.add_parser("batch", help="grade a folder of submissions (one folder or zip per student)")
    batch.add_argument("submissions", help="folder with one entry per student")
    batch.add_argument("--out", required=True, help="output folder (results/, feedback/, grades.csv, report.html)")
    batch.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    again = batch.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="skip submissions whose content already has a result (the default)")
    again.add_argument("--force", action="store_true", help="regrade everything")
    batch.add_argument("--shard", metavar="K/N", help="grade only shard K of N (stable split by student id)")
    batch.add_argument("--feedback-hidden", choices=HIDDEN_LEVELS, default="status",
                       help="what feedback shows of hidden cases: none, status (pass/fail, the default) or "
                            "full (messages without expected values)")
    batch.add_argument("--similarity", action="store_true",
                       help="also write similarity.html and similarity.csv (who shares code beyond the template)")
    add_assignment_option(batch, "the one the entries' files are of (a folder mixing assignments is refused)")
    add_grading_options(batch)
    batch.set_defaults(func=cmd_batch)

    merge = sub.add_parser("merge", help="combine the outputs of sharded batches")
    merge.add_argument("shards", nargs="+", help="batch output folders")
    merge.add_argument("--out", required=True)
    merge.set_defaults(func=cmd_merge)

    similarity = sub.add_parser("similarity", help="who shares student-written code beyond the template")
    similarity.add_argument("submissions", help="folder with one entry per student (as batch takes)")
    similarity.add_argument("--out", required=True, help="output folder (similarity.html, similarity.csv)")
    similarity.add_argument("--reference", action="append", default=[], metavar="DIR",
                            help="code nobody should hand in (earlier terms, solutions known to be public): "
                                 "matches are listed apart; repeatable")
    add_assignment_option(similarity, "recognised from the submissions' files, as batch does")
    similarity.set_defaults(func=cmd_similarity)

    fixtures = sub.add_parser("fixtures", help="rebuild or verify the public reference fixtures")
    fixtures.add_argument("action", choices=["build", "verify"])
    add_assignment_option(fixtures, "every assignment")
    fixtures.set_defaults(func=cmd_fixtures)

    bundle = sub.add_parser("gradescope-bundle", help="write a Gradescope autograder zip")
    bundle.add_argument("output", help="the zip to write, e.g. autograder.zip")
    bundle.add_argument("--feedback-hidden", choices=HIDDEN_LEVELS, default="status")
    add_assignment_option(bundle, "every assignment, each submission's recognised from its files")
    bundle.set_defaults(func=cmd_gradescope_bundle)

    handout = sub.add_parser("release", help="write the student handout (stubs, public fixtures, notebooks)")
    handout.add_argument("out", help="an empty or new folder outside this repository")
    handout.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    add_assignment_option(handout, "every assignment")
    handout.set_defaults(func=cmd_release)

    run = sub.add_parser("gradescope-run", help="grade one submission folder into results.json (used by run_autograder)")
    run.add_argument("submission")
    run.add_argument("results")
    run.add_argument("--feedback-hidden", choices=HIDDEN_LEVELS, default="status")
    run.add_argument("--data-dir", default=None)
    add_assignment_option(run, "recognised from the submission's files")
    add_limit_options(run)
    run.set_defaults(func=cmd_gradescope_run)
