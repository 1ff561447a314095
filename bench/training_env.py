"""Benchmarks that need ultralytics, which lives in the training environment, not in .venv."""

import importlib.util
import sys

EXIT_MISSING = 2  # what such a benchmark exits with when something it needs is not there


def ultralytics_missing(module: str) -> bool:
    """True, after saying how to run `python -m module` instead, when ultralytics is missing."""
    if importlib.util.find_spec("ultralytics") is not None:
        return False
    sys.stderr.write(
        f"ultralytics is not installed in this Python ({sys.executable}): run this benchmark "
        f"with the training environment, .venv-train/bin/python -m {module} "
        "(make install-train makes one)\n"
    )
    return True
