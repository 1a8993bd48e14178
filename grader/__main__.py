import os
import sys

if len(sys.argv) > 1 and sys.argv[1] in ("check", "batch", "gradescope-run"):
    from .launch import layers_turned_off, start_early

    off = layers_turned_off(sys.argv[2:])
    if off:
        os.environ["A2_SANDBOX_WITHOUT"] = ",".join(off)
    start_early()  # its torch import runs alongside this interpreter's

from .cli import main

sys.exit(main())
