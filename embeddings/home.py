"""Where report-qa keeps its state (prepared models, vectors, cached documents, uploads), and
how files there are written: atomically, so a killed writer never leaves a half file in place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import platformdirs

TEMP_SUFFIX = ".tmp"


def report_qa_home() -> Path:
    """`$REPORT_QA_HOME` if set, else the user cache dir for report-qa; created if missing."""
    home = Path(os.environ.get("REPORT_QA_HOME") or platformdirs.user_cache_dir("report-qa")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    """Write to a temp file beside ``path``, fsync, then ``os.replace`` it over ``path``."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX, delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    directory_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def read_json_object(path: Path) -> dict:
    """The JSON object in ``path``, or ``{}`` when it is missing, unreadable or not an object."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}
