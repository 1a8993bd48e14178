"""The kit's autograder: one engine, each assignment a unit (see :mod:`grader.assignment`).

In a notebook (Assignment 2's functions as examples)::

    import grader
    grader.check("nn_forward_pass")          # one function
    grader.check(["svm_loss_naive", "svm_loss_vectorized"])
    grader.check()                           # everything
    grader.check(assignment="a2")            # say which assignment

From a terminal: ``python -m grader check`` (see ``python -m grader --help``).
"""


def check(functions=None, submission=None, device="cpu", hidden=False, **options):
    """Grade ``functions`` (a name, a list of names, or None for all) of ``submission``
    (default: this repository's own solution; ``assignment=`` says which assignment) and return
    a report that renders as an HTML table in a notebook and as text elsewhere."""
    from .api import check as _check

    return _check(functions, submission=submission, device=device, hidden=hidden, **options)
