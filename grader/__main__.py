import sys

if len(sys.argv) > 1 and sys.argv[1] in ("check", "batch", "gradescope-run"):
    from .launch import start_early

    start_early()  # its torch import runs alongside this interpreter's

from .cli import main

sys.exit(main())
