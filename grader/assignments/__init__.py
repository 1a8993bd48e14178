"""The assignments this kit grades, one unit each (see :mod:`grader.assignment`)."""
