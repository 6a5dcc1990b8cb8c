"""The checks of the scripts: unlike `assert`, never stripped by `python -O` (PYTHONOPTIMIZE)."""

import sys


def check(condition, *detail):
    """Stops the script with `detail` when `condition` is false."""
    if not condition:
        sys.exit("check failed: " + " ".join(repr(d) for d in detail) if detail else "check failed")
