"""The reliability suite runs only as its own step (``.ci/run``: ``SYNCER_RELIABILITY=1 pytest
tests/reliability``), never inside README's test command, and only against PostgreSQL and Redis."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if os.environ.get("SYNCER_RELIABILITY") != "1":
    collect_ignore_glob = ["test_*.py"]
