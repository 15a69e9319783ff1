"""The environment benchmarks run child processes in: bytecode caching on, as after an install.

This machine sets ``PYTHONDONTWRITEBYTECODE=1``, so without this mlsysim's own modules would be
compiled from source in every child process while pint's, Sphinx's and pydantic's installed
``.pyc`` files are used: an unfair comparison that no user sees. The cache goes to a temporary
prefix (``PYTHONPYCACHEPREFIX``), never into the repository.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["bench_env"]


def bench_env(**extra: str) -> dict[str, str]:
    """``os.environ`` with bytecode caching on (in a temp prefix), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "mlsysim-bench-pycache")
    env.update(extra)
    return env
