"""Code that runs inside the student's process: it loads the submission, runs the probes and
sends back descriptions. It ships in the student handout, imports nothing from the rest of
``grader`` and holds nothing that computes a graded function's answer."""
