"""Ragas, set up to stay quiet: no analytics, and no file handle it forgets to close."""

from __future__ import annotations

import os
import warnings
from functools import cache


@cache
def prepare() -> None:
    """Call before using ragas metrics; idempotent."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    # ragas' log filter reads its user-id file with an open() it never closes, once per process
    # (ragas/_analytics.py get_userid, cached): read it here, where the warning is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        from ragas._analytics import get_userid

        get_userid()
