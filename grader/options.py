"""Command-line options shared by the commands that grade (check, batch, gradescope-run)."""
import argparse

from .assignment import AssignmentError, get, names

from .protection import LAYERS
from .sandbox import DEFAULT_BUDGET, DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT, Limits


def assignment_name(text: str) -> str:
    """``--assignment``'s value: the name of an assignment this kit grades."""
    try:
        return get(text).name
    except AssignmentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_assignment_option(parser: argparse.ArgumentParser, default_help: str) -> None:
    parser.add_argument("--assignment", type=assignment_name, default=None, metavar="NAME",
                        help=f"which assignment ({', '.join(names())}); default: {default_help}")


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where student code runs (default cpu)")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden cases (needs the solution)")
    add_limit_options(parser)
    parser.add_argument("--data-dir", default=None, help="folder holding cifar-10-batches-py (default $A2_DATA_DIR "
                        "or ~/.cache/a2kit)")


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per case (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help=f"seconds per submission, loading included; what is left unrun when it is spent "
                             f"scores 0 (default {DEFAULT_BUDGET:g})")
    parser.add_argument("--memory", type=float, default=DEFAULT_MEMORY_GIB,
                        help=f"GiB of memory per submission beyond the warm interpreter (default {DEFAULT_MEMORY_GIB:g})")
    parser.add_argument("--without", action="append", choices=LAYERS, default=[], metavar="LAYER",
                        help="turn one confinement layer off (namespaces, landlock or seccomp), for kernels that "
                             "misbehave; the command then says what is no longer protected")


def limits_from(args) -> Limits:
    return Limits(timeout=args.timeout, memory_gib=args.memory, budget=args.budget)
