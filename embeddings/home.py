"""Where report-qa keeps its state (prepared models, persisted indexes)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def report_qa_home() -> Path:
    """`$REPORT_QA_HOME` if set, else the user cache dir for report-qa; created if missing."""
    home = Path(os.environ.get("REPORT_QA_HOME") or platformdirs.user_cache_dir("report-qa")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home
