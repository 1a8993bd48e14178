"""What a graded function runs, as the similarity report compares it: the function's statements
that can affect its result, then every module-level definition it reaches through names
(helpers, lambdas, tables, classes, the module-level statements that change them), each with
its own statements that can affect a result. A graded method (``Class.method``) is read the same
way, and reaches, member by member, what it uses of classes that hold graded methods (``self.``,
``Linear.forward``: :mod:`.reach`). A class's docstring is words, not code: left out.

A statement is left out when it cannot affect what the function returns, raises or changes
outside itself: ``pass``, a docstring or any other expression without a call that changes
something, a ``print`` or other call whose result is dropped (unless it is an in-place method,
``name_()`` or ``append``-like, on a variable that counts), ``assert``, ``del``, ``global``,
an assignment to a name that nothing kept reads (through chains: ``a = 1; b = a`` with ``b``
unused goes), code after ``return``/``raise``/``break``/``continue`` in its block, the body of
``if``/``while`` under a constant false condition (``if False:``, ``if 0 > 1:``, ``if DEBUG:``
with ``DEBUG = False`` bound once in the module or the function, ``x and False``), of ``for _
in range(0):``, and a loop, ``if``, ``with`` or ``try`` whose statements all go; so are the
headers that decide nothing (``if True:``, ``with ...:``, ``for _ in range(1):``, a ``try:``
whose handlers all went, a bare ``raise`` re-raising). What is kept keeps its text, so the
report shows the student's own lines (left out: blank lines and long comment lines).

This is a backward slice on names, flow-insensitive (a name read anywhere counts), so it never
drops a statement that a kept one needs; it does not see through code that is live but does
nothing (``x = x + 0``, ``loss = loss + 0 * junk`` with junk computed for it, a guard that never
fires but could): that dilutes a comparison as before.

The parts, each built on the ones before it:

- :mod:`.names`: what expressions and targets read, call, bind and change;
- :mod:`.constant`: conditions known without running (``if False:``, ``DEBUG = False``);
- :mod:`.statements`: a function's reachable statements, each with what it evaluates and binds;
- :mod:`.dead_code`: which of them can affect a result (:func:`live_statements`);
- :mod:`.module`: reading a file (:func:`read_module`) and the kept text of a definition;
- :mod:`.reach`: what a graded function runs, as :class:`Piece` s (:class:`Reader`).
"""
from .dead_code import live_statements
from .module import Module, kept_text, read_module
from .reach import Piece, Reader

__all__ = ["Module", "Piece", "Reader", "kept_text", "live_statements", "read_module"]
