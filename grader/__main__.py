import sys

if len(sys.argv) > 1 and sys.argv[1] in ("check", "batch", "gradescope-run"):
    from .launch import layers_turned_off, start_early, turn_off

    turn_off(layers_turned_off(sys.argv[2:]))
    start_early()  # its torch import runs alongside this interpreter's

from .cli import main

sys.exit(main())
