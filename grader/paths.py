"""Where the kit lives: the folder that holds ``a2/``, ``helpers/`` and ``grader/`` (this
repository, a student handout, or an install's site-packages)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
